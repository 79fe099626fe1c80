#include "lang/emitter.h"

#include <cstdint>
#include <stdexcept>

#include "isa/codec.h"

namespace bpfkit::lang {

void Emitter::emit(const isa::Instruction& insn) {
  if (dead_) return;
  insns_.push_back(insn);
  locs_.push_back(loc_);
}

Emitter::Label Emitter::new_label() {
  labels_.push_back(SIZE_MAX);
  return labels_.size() - 1;
}

void Emitter::bind(Label label) {
  labels_.at(label) = insns_.size();
  dead_ = false;
}

void Emitter::jump(Label target) {
  if (dead_) return;
  jumps_.push_back({insns_.size(), target});
  emit(isa::Ja{0, false});
  dead_ = true;
}

void Emitter::jump_if(isa::JmpCond cond, uint8_t dst, isa::Operand src, Label target) {
  if (dead_) return;
  jumps_.push_back({insns_.size(), target});
  emit(isa::Jump{cond, false, dst, src, 0});
}

void Emitter::mov_imm(uint8_t dst, int64_t value) {
  if (value >= INT32_MIN && value <= INT32_MAX) {
    emit(isa::Alu{isa::AluOp::Mov, true, dst, isa::Operand::Imm(int32_t(value))});
  } else {
    emit(isa::LoadImm64::Imm(dst, uint64_t(value)));
  }
}

std::vector<isa::RawInsn> Emitter::finish(std::vector<Location>& locations) const {
  // Slot of each instruction (lddw takes two).
  std::vector<size_t> slot(insns_.size() + 1, 0);
  for (size_t i = 0; i < insns_.size(); ++i) slot[i + 1] = slot[i] + size_t(isa::slot_count(insns_[i]));
  std::vector<isa::Instruction> patched = insns_;
  for (const PendingJump& j : jumps_) {
    size_t target = labels_.at(j.target);
    if (target == SIZE_MAX) throw std::logic_error("code generator: jump to an unbound label");
    int64_t off = int64_t(slot[target]) - int64_t(slot[j.insn]) - 1;
    if (off < INT16_MIN || off > INT16_MAX) throw std::logic_error("code generator: jump too far");
    if (auto* ja = std::get_if<isa::Ja>(&patched[j.insn])) ja->off = int32_t(off);
    if (auto* jc = std::get_if<isa::Jump>(&patched[j.insn])) jc->off = int16_t(off);
  }
  locations.clear();
  for (size_t i = 0; i < insns_.size(); ++i) {
    for (int s = 0; s < isa::slot_count(insns_[i]); ++s) locations.push_back(locs_[i]);
  }
  return isa::encode_program(patched);
}

}  // namespace bpfkit::lang
