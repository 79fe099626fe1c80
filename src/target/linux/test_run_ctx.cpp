#include "target/linux/test_run_ctx.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

namespace bpfkit::target::linux_kernel {

CtxTestRunResult test_run_with_ctx(int prog_fd, std::span<const uint8_t> data_in,
                                   std::span<const uint8_t> ctx_in, size_t ctx_out_size, uint32_t repeat) {
  CtxTestRunResult result;
  // Room for programs that grow the packet (XDP adjust_tail); the kernel says how much it used.
  result.data_out.resize(data_in.empty() ? 0 : data_in.size() + 4096);
  result.ctx_out.resize(ctx_out_size);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.test.prog_fd = uint32_t(prog_fd);
  attr.test.data_in = reinterpret_cast<uintptr_t>(data_in.data());
  attr.test.data_size_in = uint32_t(data_in.size());
  attr.test.data_out = reinterpret_cast<uintptr_t>(result.data_out.data());
  attr.test.data_size_out = uint32_t(result.data_out.size());
  attr.test.ctx_in = reinterpret_cast<uintptr_t>(ctx_in.data());
  attr.test.ctx_size_in = uint32_t(ctx_in.size());
  attr.test.ctx_out = reinterpret_cast<uintptr_t>(result.ctx_out.data());
  attr.test.ctx_size_out = uint32_t(result.ctx_out.size());
  attr.test.repeat = repeat;
  if (syscall(__NR_bpf, BPF_PROG_TEST_RUN, &attr, sizeof(attr)) < 0) {
    int err = errno;
    throw BpfError("BPF_PROG_TEST_RUN of program fd " + std::to_string(prog_fd) + " on " +
                       std::to_string(data_in.size()) + " bytes with " + std::to_string(ctx_in.size()) +
                       " bytes of ctx_in failed",
                   err);
  }
  result.retval = attr.test.retval;
  result.duration_ns = attr.test.duration;
  result.data_out.resize(std::min<size_t>(attr.test.data_size_out, result.data_out.size()));
  result.ctx_out.resize(std::min<size_t>(attr.test.ctx_size_out, result.ctx_out.size()));
  return result;
}

}  // namespace bpfkit::target::linux_kernel
