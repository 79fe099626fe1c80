// The current task: bpf_get_current_pid_tgid, _uid_gid, _comm. The hook names the
// task in env->task; without one the helpers report the calling thread.
#include <linux/bpf.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "helpers/helper_support.h"

namespace bpfkit::helpers::detail {
namespace {

// As the kernel packs it: tgid (process id) in the high half, pid (thread id) low.
uint64_t get_current_pid_tgid(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  if (env && env->task) return (uint64_t(env->task->tgid) << 32) | env->task->pid;
  return (uint64_t(uint32_t(getpid())) << 32) | uint32_t(gettid());
}

uint64_t get_current_uid_gid(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  if (env && env->task) return (uint64_t(env->task->gid) << 32) | env->task->uid;
  return (uint64_t(getgid()) << 32) | getuid();
}

// strscpy_pad: at most size - 1 characters, NUL-terminated, zero-padded to size.
uint64_t get_current_comm(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  auto* buf = reinterpret_cast<char*>(r1);
  const uint32_t size = uint32_t(r2);
  if (size == 0) return uint64_t(-int64_t(EINVAL));
  char comm[17] = {};
  if (env && env->task) {
    std::memcpy(comm, env->task->comm, 16);
  } else {
    prctl(PR_GET_NAME, comm, 0, 0, 0);
  }
  std::memset(buf, 0, size);
  std::memcpy(buf, comm, std::min<size_t>(strnlen(comm, 16), size - 1));
  return 0;
}

}  // namespace

void add_task_helpers(core::HelperTable& t) {
  using A = ArgKind;
  t.add(
      {BPF_FUNC_get_current_pid_tgid, "get_current_pid_tgid", proto(RetKind::Integer), get_current_pid_tgid});
  t.add({BPF_FUNC_get_current_uid_gid, "get_current_uid_gid", proto(RetKind::Integer), get_current_uid_gid});
  t.add({BPF_FUNC_get_current_comm, "get_current_comm",
         proto(RetKind::Integer, {A::PtrToUninitMem, A::ConstSize}), get_current_comm});
}

}  // namespace bpfkit::helpers::detail
