// BPF_PROG_TEST_RUN with a context: ctx_in (an xdp_md or __sk_buff the kernel
// checks and uses) and ctx_out (the context after the run), besides the packet.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {

struct CtxTestRunResult {
  uint32_t retval = 0;
  uint32_t duration_ns = 0;  // the kernel's average over `repeat` runs
  std::vector<uint8_t> data_out;
  std::vector<uint8_t> ctx_out;  // empty when ctx_out_size was 0
};

// Runs `prog_fd` once per `repeat` on `data_in` (may be empty for types that take
// no packet), passing `ctx_in` when it is not empty and asking for up to
// `ctx_out_size` bytes of context back. Throws BpfError (with errno) on failure.
CtxTestRunResult test_run_with_ctx(int prog_fd, std::span<const uint8_t> data_in,
                                   std::span<const uint8_t> ctx_in, size_t ctx_out_size,
                                   uint32_t repeat = 1);

}  // namespace bpfkit::target::linux_kernel
