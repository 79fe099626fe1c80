// Running a *bare* program inside the Linux kernel, which makes the kernel's
// verifier and JIT the oracle for bpfkit's engines.
//
// A bare program follows the conformance contract: r1 points to LEN bytes of
// memory (r1 = 0 when LEN = 0), r2 = LEN, r10 is the frame pointer, and the
// result is the 64-bit r0 at the outermost exit. The kernel runs it as an XDP
// program under BPF_PROG_TEST_RUN: a prologue turns the xdp_md context into r1/r2
// after proving data + LEN <= data_end, so the verifier accepts accesses to
// [r1, r1 + LEN). XDP returns 32 bits, so the program is loaded twice: as is (the
// low half of r0) and with every exit of its main function turned into a jump to
// an appended `r0 >>= 32; exit` (the high half).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "isa/instruction.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {

// The most memory the harness hands to the kernel: an XDP test packet must fit in
// one page with the kernel's headroom and tail room.
inline constexpr size_t kMaxBareMemory = 3072;
// BPF_PROG_TEST_RUN of XDP needs at least an Ethernet header of data.
inline constexpr size_t kMinXdpPacket = 14;

enum class ResultHalf { Low, High };

// The XDP program that runs `program` under the bare contract with `mem_len` bytes
// of memory and returns the `half` of its r0. Throws Error for memory larger than
// kMaxBareMemory or when the program cannot be rewritten.
std::vector<isa::RawInsn> wrap_bare_program(std::span<const isa::RawInsn> program, size_t mem_len,
                                            ResultHalf half);

// The packet the harness passes for `memory`: a copy, zero-padded to kMinXdpPacket.
std::vector<uint8_t> bare_packet(std::span<const uint8_t> memory);

// A bare program loaded into the kernel for a fixed memory length.
class KernelProgram {
 public:
  // Loads the low half (and the high half unless `with_high` is false). Throws
  // BpfError, with the verifier log, when the kernel refuses either.
  KernelProgram(std::span<const isa::RawInsn> program, size_t mem_len, bool with_high = true);

  struct Result {
    uint64_t r0 = 0;              // only the low 32 bits without the high half
    std::vector<uint8_t> memory;  // the memory after the run (mem_len bytes)
    uint32_t duration_ns = 0;     // kernel-measured average of the low-half runs
  };
  // Runs on `memory` (whose size must be mem_len), `repeat` times per half. The
  // kernel reruns on the same packet, so writes accumulate over the repeats; r0 and
  // memory are those of the last run.
  Result run(std::span<const uint8_t> memory, uint32_t repeat = 1) const;

  size_t mem_len() const { return mem_len_; }
  int low_fd() const { return low_.get(); }

 private:
  size_t mem_len_;
  UniqueFd low_;
  UniqueFd high_;
};

// The kernel's verdict on a bare program run once on `memory`.
struct KernelVerdict {
  bool accepted = false;
  uint64_t r0 = 0;
  std::vector<uint8_t> memory;  // after the run
  std::string reason;           // when rejected: errno sentence and verifier log
};

// Loads and runs `program`. A verifier rejection is a verdict; failures that say
// nothing about the program (no privilege, no bpf(2), out of memory) throw BpfError.
KernelVerdict run_in_kernel(std::span<const isa::RawInsn> program, std::span<const uint8_t> memory);

}  // namespace bpfkit::target::linux_kernel
