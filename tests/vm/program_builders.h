// Builders shared by the engine tests: programs written as typed instructions,
// encoded and decoded like any program.
#pragma once

#include <cstdint>
#include <vector>

#include "isa/codec.h"
#include "vm/engine.h"

namespace bpfkit::engine_test {

using namespace isa;

inline Instruction mov(uint8_t dst, int32_t imm) { return Alu{AluOp::Mov, true, dst, Operand::Imm(imm)}; }
inline Instruction movr(uint8_t dst, uint8_t src) { return Alu{AluOp::Mov, true, dst, Operand::Reg(src)}; }
inline Instruction alu(AluOp op, bool is64, uint8_t dst, Operand src) { return Alu{op, is64, dst, src}; }
inline Instruction lddw(uint8_t dst, uint64_t v) { return LoadImm64::Imm(dst, v); }
inline Instruction ldx(uint8_t size, uint8_t dst, uint8_t base, int16_t off, bool sx = false) {
  return Load{size, sx, dst, base, off};
}
inline Instruction stx(uint8_t size, uint8_t base, int16_t off, uint8_t src) {
  return Store{size, base, off, Operand::Reg(src)};
}
inline Instruction st(uint8_t size, uint8_t base, int16_t off, int32_t imm) {
  return Store{size, base, off, Operand::Imm(imm)};
}
inline Instruction jmp(JmpCond c, uint8_t dst, Operand src, int16_t off, bool is32 = false) {
  return Jump{c, is32, dst, src, off};
}
inline Instruction ja(int32_t off) { return Ja{off, false}; }
inline Instruction call_local(int32_t off) { return Call{CallKind::Local, off}; }
inline Instruction call_helper(int32_t id) { return Call{CallKind::Helper, id}; }
inline Instruction exit_insn() { return Exit{}; }

inline vm::Program program_of(const std::vector<Instruction>& insns) {
  return vm::Program(encode_program(insns));
}

}  // namespace bpfkit::engine_test
