// The kernel's verifier as a measured oracle: one BPF_PROG_LOAD of raw
// instructions (maps referenced by index through fd_array, BTF func_info added
// when the program has subprograms, as clang emits it) and the statistics the
// kernel prints at the end of its log (log_level BPF_LOG_STATS):
//   processed N insns (limit 1000000) max_states_per_insn M total_states T peak_states P mark_read R
//   verification time N usec
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "isa/instruction.h"

namespace bpfkit::target::linux_kernel {

struct KernelVerifierStats {
  uint64_t insns_processed = 0;
  uint64_t max_states_per_insn = 0;
  uint64_t total_states = 0;
  uint64_t peak_states = 0;
  uint64_t time_usec = 0;
};

// The statistics of a verifier log, or nullopt when the log holds no "processed" line.
// "verification time" is optional in the log (0 when missing).
std::optional<KernelVerifierStats> parse_kernel_verifier_stats(std::string_view log);

struct KernelVerifyRequest {
  uint32_t prog_type = 0;
  uint32_t expected_attach_type = 0;
  std::span<const isa::RawInsn> insns;
  std::span<const int> map_fds;  // lddw map_idx(N) / map_idx_value(N, off) -> map_fds[N]
  uint32_t log_level = 4;        // BPF_LOG_STATS; 1 or 2 for the per-instruction trace
  size_t log_size = 1u << 20;
  std::string_view license = "GPL";
};

struct KernelVerifyResult {
  bool accepted = false;
  int err = 0;  // errno of a refused load
  std::string log;
  std::optional<KernelVerifierStats> stats;  // parsed from the log
};

// Raw BTF holding one `static int fK(void)` per function (K = 0..count-1), for the
// func_info the kernel wants with subprograms (bpf_loop callbacks need it); static
// linkage, so the kernel checks no function's arguments.
std::vector<uint8_t> func_info_btf(size_t count);

// One load; the program is closed again at once. Never throws: a failure of any kind is
// a refused result with its errno (and the log when the kernel wrote one).
KernelVerifyResult kernel_verify(const KernelVerifyRequest& request);

}  // namespace bpfkit::target::linux_kernel
