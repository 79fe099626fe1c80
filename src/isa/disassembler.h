// The eBPF disassembler: typed instructions to text, in the kernel/llvm-objdump syntax
// (the default) or the uBPF/conformance syntax. Jump and call targets print as relative
// offsets (`goto +2`, `call pc-4`), so that assemble(disassemble(x)) == x byte for byte.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "isa/instruction.h"

namespace bpfkit::isa {

enum class AsmSyntax : uint8_t { Kernel, Ubpf };

// One instruction, one line, no newline: `r0 = *(u32 *)(r1 + 4)`. `slot` is the
// instruction's index in its program (targets are printed relative to it).
std::string format_insn(const Instruction& insn, uint32_t slot);

// uBPF syntax: `ldxw %r0, [%r1+4]`. The few instructions that syntax cannot express
// (pseudo lddw such as map_fd, kfunc calls) print in the kernel syntax, which the
// assembler accepts on any line.
std::string format_insn_ubpf(const Instruction& insn, uint32_t slot);

std::string format_insn(const Instruction& insn, uint32_t slot, AsmSyntax syntax);

// "   0: r0 = 1\n" for every instruction. Throws DecodeError for a malformed slot.
// Only the encoding of each instruction is checked, not where its jumps land.
std::string disassemble(std::span<const RawInsn> raw, AsmSyntax syntax = AsmSyntax::Kernel);

}  // namespace bpfkit::isa
