// Builds one BPF program instruction by instruction: typed instructions from
// src/isa, forward and backward jumps to labels resolved at the end, and for every
// instruction the script location that produced it (so a verifier rejection can be
// reported against the script line).
#pragma once

#include <cstdint>
#include <vector>

#include "isa/instruction.h"
#include "lang/source.h"

namespace bpfkit::lang {

class Emitter {
 public:
  using Label = size_t;

  // Every instruction emitted from now on is attributed to `loc`.
  void at(Location loc) { loc_ = loc; }
  Location location() const { return loc_; }

  void emit(const isa::Instruction& insn);
  Label new_label();
  void bind(Label label);
  void jump(Label target);                                                   // goto
  void jump_if(isa::JmpCond cond, uint8_t dst, isa::Operand src, Label target);  // if (dst cond src) goto

  // Helpers for the common shapes.
  void mov(uint8_t dst, uint8_t src) { emit(isa::Alu{isa::AluOp::Mov, true, dst, isa::Operand::Reg(src)}); }
  void mov_imm(uint8_t dst, int64_t value);
  void alu(isa::AluOp op, uint8_t dst, isa::Operand src, bool is64 = true) { emit(isa::Alu{op, is64, dst, src}); }
  void load(uint8_t size, uint8_t dst, uint8_t base, int16_t off) { emit(isa::Load{size, false, dst, base, off, false}); }
  void store(uint8_t size, uint8_t base, int16_t off, uint8_t src) {
    emit(isa::Store{size, base, off, isa::Operand::Reg(src), false});
  }
  void store_imm(uint8_t size, uint8_t base, int16_t off, int32_t imm) {
    emit(isa::Store{size, base, off, isa::Operand::Imm(imm), false});
  }
  void call(int32_t helper) { emit(isa::Call{isa::CallKind::Helper, helper, 0}); }
  void load_map(uint8_t dst, size_t map_index) {
    emit(isa::LoadImm64{dst, isa::Pseudo::MapIdx, int32_t(map_index), 0});
  }
  void exit() {
    emit(isa::Exit{});
    dead_ = true;
  }

  size_t size() const { return insns_.size(); }
  // Raw instructions with jump offsets filled in; `locations` gets one entry per slot.
  std::vector<isa::RawInsn> finish(std::vector<Location>& locations) const;

 private:
  struct PendingJump {
    size_t insn;
    Label target;
  };
  std::vector<isa::Instruction> insns_;
  std::vector<Location> locs_;
  std::vector<size_t> labels_;  // instruction index bound to each label (SIZE_MAX: unbound)
  std::vector<PendingJump> jumps_;
  Location loc_;
  // After a goto or exit, code is dead until a label is bound: it is not emitted (the
  // verifier refuses unreachable instructions).
  bool dead_ = false;
};

}  // namespace bpfkit::lang
