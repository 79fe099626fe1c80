// Differential execution: one program, one input, several engines (bpfkit's
// interpreter, bpfkit's JIT, the Linux kernel as the oracle), and a readable
// account of where they disagree.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "isa/instruction.h"

namespace bpfkit::testgen {

enum class EngineKind { Interpreter, Jit, Kernel };
const char* engine_name(EngineKind kind);

// What one engine made of the program.
struct EngineOutcome {
  EngineKind engine = EngineKind::Interpreter;
  bool ran = false;             // false: a runtime error, a load failure or a kernel rejection
  uint64_t r0 = 0;
  std::vector<uint8_t> memory;  // the memory after the run
  std::string error;            // why it did not run
};

struct DifferentialOptions {
  bool interpreter = true;
  bool jit = true;
  bool kernel = false;
  bool checked = true;  // the engines' checked mode (bounds checks, instruction budget)
};

struct DifferentialResult {
  std::vector<EngineOutcome> outcomes;
  // True when every engine ran and all agree on r0 and the memory.
  bool all_agree() const;
  // One line per engine: r0 (or the error), and the first differing memory byte.
  std::string describe() const;
};

// Runs `program` once per engine, each on its own copy of `memory` (r1 = its
// address, or 0 when empty; r2 = its length).
DifferentialResult run_differential(std::span<const isa::RawInsn> program, std::span<const uint8_t> memory,
                                    const DifferentialOptions& options = {});

// Runs one engine of bpfkit; never throws for a bad program (the outcome says why).
EngineOutcome run_engine(EngineKind kind, std::span<const isa::RawInsn> program,
                         std::span<const uint8_t> memory, bool checked = true);

// The program as numbered kernel-syntax lines, falling back to hex slots for
// anything the disassembler refuses.
std::string program_listing(std::span<const isa::RawInsn> program);

// Memory as hex bytes, 16 per line.
std::string hex_dump(std::span<const uint8_t> bytes);

}  // namespace bpfkit::testgen
