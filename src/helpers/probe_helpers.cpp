// Reading memory the program names by address, without faulting, and the user stack:
// bpf_probe_read(_user/_kernel)(_str), bpf_get_stack, bpf_get_stackid.
//
// The userspace target has one address space: "kernel" and "user" reads both read
// this process's memory (through process_vm_readv, so a bad address is -EFAULT,
// never a crash), and the user stack is the one the hook recorded in env->task
// (get_stack copies it, get_stackid stores it in a stack trace map).
#include <linux/bpf.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "helpers/helper_support.h"
#include "maps/stack_trace_map.h"

namespace bpfkit::helpers::detail {
namespace {

uint64_t neg(int err) { return uint64_t(int64_t(err)); }

// 0 or -EFAULT; the destination is zeroed when the read fails, as the kernel does.
uint64_t probe_read_common(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  auto* dst = reinterpret_cast<void*>(r1);
  const uint32_t size = uint32_t(r2);
  int err = read_memory(dst, r3, size);
  if (err < 0) std::memset(dst, 0, size);
  return neg(err);
}

// The string's length with its NUL (size when cut short), 0 for size 0, or -EFAULT
// with the destination zeroed.
uint64_t probe_read_str_common(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  auto* dst = reinterpret_cast<char*>(r1);
  const uint32_t size = uint32_t(r2);
  if (size == 0) return 0;
  long n = read_string(dst, r3, size);
  if (n < 0) {
    std::memset(dst, 0, size);
    return neg(int(n));
  }
  return uint64_t(n);
}

constexpr uint32_t kMaxStackDepth = 127;  // sysctl kernel.perf_event_max_stack

// __bpf_get_stack for the task's user stack (the kernel stack is empty here: no
// kernel runs under the program). Build ids fall back to BPF_STACK_BUILD_ID_IP,
// as the kernel's do when it cannot read one.
uint64_t get_stack(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  auto* buf = reinterpret_cast<uint8_t*>(r2);
  const uint32_t size = uint32_t(r3);
  const uint64_t flags = r4;
  const bool user = flags & BPF_F_USER_STACK;
  const bool build_id = flags & BPF_F_USER_BUILD_ID;
  const uint32_t skip = uint32_t(flags & BPF_F_SKIP_FIELD_MASK);
  const size_t elem = (user && build_id) ? sizeof(bpf_stack_build_id) : sizeof(uint64_t);
  auto fail = [&](int err) {
    std::memset(buf, 0, size);
    return neg(err);
  };
  if (flags & ~uint64_t(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID)) return fail(-EINVAL);
  if (!user && build_id) return fail(-EINVAL);
  if (size % elem) return fail(-EINVAL);
  const uint32_t num_elem = uint32_t(size / elem);
  const std::vector<uint64_t> empty;
  const std::vector<uint64_t>& stack = user ? current_task(env).user_stack : empty;
  const size_t depth =
      std::min<size_t>(stack.size(), std::min<size_t>(kMaxStackDepth, size_t(num_elem) + skip));
  if (depth < skip) return fail(-EFAULT);
  const size_t n = std::min<size_t>(depth - skip, num_elem);
  for (size_t i = 0; i < n; ++i) {
    if (elem == sizeof(uint64_t)) {
      std::memcpy(buf + i * elem, &stack[skip + i], sizeof(uint64_t));
    } else {
      bpf_stack_build_id id{};
      id.status = BPF_STACK_BUILD_ID_IP;
      id.ip = stack[skip + i];
      std::memcpy(buf + i * elem, &id, sizeof id);
    }
  }
  std::memset(buf + n * elem, 0, size - n * elem);
  return n * elem;
}

// bpf_get_stackid: the task's user stack (BPF_F_USER_STACK; the kernel stack is
// empty here, so without the flag the answer is -EFAULT, as for a kernel asked for
// a kernel stack it does not have) stored in a BPF_MAP_TYPE_STACK_TRACE map.
uint64_t get_stackid(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r2, "get_stackid");
  if (!m) return 0;
  const uint64_t flags = r3;
  if (flags & ~uint64_t(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID)) {
    return neg(-EINVAL);
  }
  auto* stacks = dynamic_cast<maps::StackTraceMap*>(m);
  if (!stacks) return neg(-EINVAL);  // the verifier allows only stack trace maps here
  std::span<const uint64_t> trace;
  if (flags & BPF_F_USER_STACK) trace = current_task(env).user_stack;
  return uint64_t(stacks->get_stackid(trace, flags));
}

}  // namespace

void add_probe_helpers(core::HelperTable& t) {
  using A = ArgKind;
  const core::HelperProto read =
      proto(RetKind::Integer, {A::PtrToUninitMem, A::ConstSizeOrZero, A::Anything});
  t.add({BPF_FUNC_probe_read, "probe_read", read, probe_read_common});
  t.add({BPF_FUNC_probe_read_user, "probe_read_user", read, probe_read_common});
  t.add({BPF_FUNC_probe_read_kernel, "probe_read_kernel", read, probe_read_common});
  t.add({BPF_FUNC_probe_read_str, "probe_read_str", read, probe_read_str_common});
  t.add({BPF_FUNC_probe_read_user_str, "probe_read_user_str", read, probe_read_str_common});
  t.add({BPF_FUNC_probe_read_kernel_str, "probe_read_kernel_str", read, probe_read_str_common});
  t.add({BPF_FUNC_get_stack, "get_stack",
         proto(RetKind::Integer, {A::PtrToCtx, A::PtrToUninitMem, A::ConstSizeOrZero, A::Anything}),
         get_stack});
  t.add({BPF_FUNC_get_stackid, "get_stackid",
         proto(RetKind::Integer, {A::PtrToCtx, A::ConstMapPtr, A::Anything}), get_stackid});
}

}  // namespace bpfkit::helpers::detail
