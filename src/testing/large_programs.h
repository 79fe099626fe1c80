// Large generated programs that stress a verifier the way real programs do:
// bounded loops it must iterate, many independent branches (state explosion when
// pruning is weak), many map lookups with null checks, long straight-line code,
// bpf_loop callbacks and bpf-to-bpf calls. Every one is meant to be accepted by
// both bpfkit's verifier and the kernel's; the benchmark bench_verifier_vs_kernel
// compares the two on them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/instruction.h"
#include "verifier/verifier.h"

namespace bpfkit::testgen {

struct LargeProgram {
  std::string name;  // "loop_1000", ...
  uint32_t prog_type = 0;
  std::vector<verifier::MapInfo> maps;  // referenced as map_idx(N)
  std::string text;                     // the assembler source
  std::vector<isa::RawInsn> insns;      // text, assembled
};

// The whole set, in a fixed order (deterministic: the same instructions every call).
std::vector<LargeProgram> large_programs();

// The verifier's input for `p`, checked against the user target's helpers. It refers
// to p.insns: keep `p` alive while it is used.
verifier::VerifyInput large_program_input(const LargeProgram& p);

}  // namespace bpfkit::testgen
