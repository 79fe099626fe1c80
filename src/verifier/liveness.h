// Register liveness: which registers some path from an instruction may read before
// writing them (a backward data-flow pass over the program graph). State pruning
// ignores the others, as the kernel's REG_LIVE_READ marks let it: a register that
// every continuation overwrites first cannot change whether the continuation is safe.
#pragma once

#include <cstdint>
#include <vector>

#include "verifier/program_graph.h"

namespace bpfkit::verifier {

// Bit r set: register r may be read. Indexed by slot (an lddw's second slot is 0).
// Every path is assumed feasible and calls read R1-R5, so the sets only over-approximate.
std::vector<uint16_t> compute_live_registers(const ProgramGraph& graph);

inline constexpr uint16_t kAllRegisters = 0x7ff;

}  // namespace bpfkit::verifier
