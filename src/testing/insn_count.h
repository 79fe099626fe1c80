// Counting the instructions a program executes, by instrumentation: every
// instruction is preceded by `r9 += 1` (reached by jumps too) and every exit
// returns r9. Benchmarks use it to turn time per run into time per instruction.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "isa/instruction.h"

namespace bpfkit::testgen {

// The counting variant of `program`, whose r0 is the number of instructions the
// original executes (lddw counts once). Throws Error when the program uses r9
// (the counter) or calls anything (a callee's exit would return the count).
std::vector<isa::RawInsn> instrument_instruction_count(std::span<const isa::RawInsn> program);

// Runs the counting variant in bpfkit's interpreter on a copy of `memory`.
uint64_t count_executed_instructions(std::span<const isa::RawInsn> program, std::span<const uint8_t> memory);

}  // namespace bpfkit::testgen
