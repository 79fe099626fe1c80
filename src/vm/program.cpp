// Program: decoding plus the list of subprogram starts both engines share.
#include <algorithm>

#include "vm/engine.h"

namespace bpfkit::vm {

Program::Program(std::vector<isa::RawInsn> raw, std::vector<uint32_t> callbacks)
    : raw_(std::move(raw)), insns_(isa::decode_program(raw_)) {
  // decode_program checked that call and lddw func targets are instructions.
  for (const isa::DecodedInsn& d : insns_) {
    if (auto* c = std::get_if<isa::Call>(&d.insn); c && c->kind == isa::CallKind::Local)
      subprograms_.push_back(uint32_t(int64_t(d.slot) + 1 + c->imm));
    else if (auto* l = std::get_if<isa::LoadImm64>(&d.insn); l && l->pseudo == isa::Pseudo::Func)
      subprograms_.push_back(uint32_t(int64_t(d.slot) + 1 + l->imm_lo));
  }
  std::vector<bool> is_insn(raw_.size(), false);
  for (const isa::DecodedInsn& d : insns_) is_insn[d.slot] = true;
  for (uint32_t slot : callbacks) {
    if (slot >= raw_.size() || !is_insn[slot])
      throw isa::DecodeError(slot, "callback start " + std::to_string(slot) +
                                       " is not an instruction of the program (0-" +
                                       std::to_string(raw_.size() - 1) + ")");
    subprograms_.push_back(slot);
  }
  std::sort(subprograms_.begin(), subprograms_.end());
  subprograms_.erase(std::unique(subprograms_.begin(), subprograms_.end()), subprograms_.end());
}

}  // namespace bpfkit::vm
