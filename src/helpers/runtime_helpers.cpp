#include "helpers/runtime_helpers.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "helpers/helper_support.h"

namespace bpfkit::helpers {
namespace detail {

maps::Map* map_arg_checked(core::ExecEnv* env, uint64_t reg, std::string_view helper) {
  const void* p = reinterpret_cast<const void*>(reg);
  if (p && std::find(env->maps.begin(), env->maps.end(), p) != env->maps.end()) {
    return static_cast<maps::Map*>(const_cast<void*>(p));
  }
  abort_run(
      env, helper, "argument 1 is not a map of this program (0x" + [&] {
        char buf[20];
        snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(reg));
        return std::string(buf);
      }() + ")");
  return nullptr;
}

int read_memory(void* dst, uint64_t addr, size_t size) {
  if (size == 0) return 0;
  // process_vm_readv on our own pid reports unmapped or unreadable pages as EFAULT
  // (or a short count) instead of faulting, as copy_from_kernel_nofault does.
  iovec local{dst, size};
  iovec remote{reinterpret_cast<void*>(addr), size};
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return n == ssize_t(size) ? 0 : -EFAULT;
}

long read_string(char* dst, uint64_t addr, size_t size) {
  const size_t page = 4096;
  size_t done = 0;
  const size_t limit = size - 1;  // room for the NUL
  char chunk[256];
  while (done < limit) {
    // Never cross a page in one read (a string may end just before an unmapped
    // page), and copy nothing past the NUL.
    const uint64_t at = addr + done;
    const size_t n = std::min({limit - done, sizeof chunk, size_t(page - at % page)});
    if (read_memory(chunk, at, n) != 0) return -EFAULT;  // as strncpy_from_*_nofault
    const auto* nul = static_cast<const char*>(std::memchr(chunk, 0, n));
    const size_t copy = nul ? size_t(nul - chunk) : n;
    std::memcpy(dst + done, chunk, copy);
    done += copy;
    if (nul) break;
  }
  dst[done] = 0;
  return long(done) + 1;
}

const core::TaskIdentity& current_task(core::ExecEnv* env) {
  if (env && env->task) return *env->task;
  thread_local core::TaskIdentity self;
  self = core::TaskIdentity::current();
  return self;
}

}  // namespace detail

namespace {

core::HelperTable build() {
  core::HelperTable table;
  detail::add_map_helpers(table);
  detail::add_time_helpers(table);
  detail::add_task_helpers(table);
  detail::add_print_helpers(table);
  detail::add_probe_helpers(table);
  detail::add_packet_helpers(table);
  detail::add_checksum_helpers(table);
  detail::add_ringbuf_helpers(table);
  detail::add_callback_helpers(table);
  detail::add_socket_helpers(table);
  return table;
}

}  // namespace

const core::HelperTable& runtime_helpers() {
  static const core::HelperTable table = build();
  return table;
}

}  // namespace bpfkit::helpers
