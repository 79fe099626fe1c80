#include "target/linux/program_rewrite.h"

#include <algorithm>
#include <limits>
#include <string>

#include "base/error.h"
#include "isa/opcodes.h"

namespace bpfkit::target::linux_kernel {
namespace {

using isa::RawInsn;

constexpr uint8_t kLddwOpcode = isa::kClassLd | isa::kModeImm | isa::kSizeDw;

// Which field of an instruction holds its relative reference.
enum class RefField { None, Off, Imm };

RefField ref_field(const RawInsn& insn) {
  uint8_t cls = isa::opcode_class(insn.opcode);
  if (insn.opcode == kLddwOpcode) return insn.src == isa::kPseudoFunc ? RefField::Imm : RefField::None;
  if (cls != isa::kClassJmp && cls != isa::kClassJmp32) return RefField::None;
  uint8_t op = isa::opcode_alu_op(insn.opcode);
  if (op == isa::kJmpExit) return RefField::None;
  if (op == isa::kJmpCall) {
    // Only bpf-to-bpf calls are relative; helper ids and kfunc BTF ids are not.
    return cls == isa::kClassJmp && insn.src == isa::kPseudoCall ? RefField::Imm : RefField::None;
  }
  if (op == isa::kJmpJa && cls == isa::kClassJmp32) return RefField::Imm;  // gotol
  return RefField::Off;
}

std::string at_slot(size_t slot) { return "instruction " + std::to_string(slot) + ": "; }

}  // namespace

bool is_lddw_tail(std::span<const RawInsn> prog, size_t slot) {
  for (size_t i = 0; i < prog.size() && i < slot; ++i) {
    if (prog[i].opcode == kLddwOpcode) {
      if (i + 1 == slot) return true;
      ++i;
    }
  }
  return false;
}

std::optional<int64_t> relative_target(std::span<const RawInsn> prog, size_t slot) {
  const RawInsn& insn = prog[slot];
  switch (ref_field(insn)) {
    case RefField::None: return std::nullopt;
    case RefField::Off: return int64_t(slot) + 1 + insn.off;
    case RefField::Imm: return int64_t(slot) + 1 + insn.imm;
  }
  return std::nullopt;
}

void set_relative_target(std::vector<RawInsn>& prog, size_t slot, int64_t target) {
  RawInsn& insn = prog[slot];
  int64_t off = target - int64_t(slot) - 1;
  switch (ref_field(insn)) {
    case RefField::None:
      throw Error(at_slot(slot) + "has no relative reference to set");
    case RefField::Off:
      if (off < std::numeric_limits<int16_t>::min() || off > std::numeric_limits<int16_t>::max()) {
        throw Error(at_slot(slot) + "jump offset " + std::to_string(off) +
                    " does not fit in 16 bits after rewriting");
      }
      insn.off = int16_t(off);
      return;
    case RefField::Imm:
      if (off < std::numeric_limits<int32_t>::min() || off > std::numeric_limits<int32_t>::max()) {
        throw Error(at_slot(slot) + "offset " + std::to_string(off) + " does not fit in 32 bits");
      }
      insn.imm = int32_t(off);
      return;
  }
}

std::vector<RawInsn> insert_instructions(std::span<const RawInsn> prog, size_t pos,
                                         std::span<const RawInsn> insns, InsertReach reach) {
  if (pos > prog.size()) {
    throw Error(at_slot(pos) + "cannot insert past the end of a program of " + std::to_string(prog.size()) +
                " instructions");
  }
  if (is_lddw_tail(prog, pos)) throw Error(at_slot(pos) + "cannot insert inside an lddw");
  const int64_t shift = int64_t(insns.size());
  auto moved = [&](int64_t slot) { return slot >= int64_t(pos) ? slot + shift : slot; };
  const bool jumps_enter = reach == InsertReach::FallThroughAndJumps;
  auto moved_target = [&](int64_t target) {
    return target == int64_t(pos) && jumps_enter ? target : moved(target);
  };

  std::vector<RawInsn> out;
  out.reserve(prog.size() + insns.size());
  out.insert(out.end(), prog.begin(), prog.begin() + pos);
  out.insert(out.end(), insns.begin(), insns.end());
  out.insert(out.end(), prog.begin() + pos, prog.end());

  for (size_t i = 0; i < prog.size(); ++i) {
    if (std::optional<int64_t> target = relative_target(prog, i)) {
      try {
        set_relative_target(out, size_t(moved(int64_t(i))), moved_target(*target));
      } catch (const Error&) {
        throw Error(at_slot(i) + "its offset no longer fits after inserting " + std::to_string(insns.size()) +
                    " instructions at " + std::to_string(pos));
      }
    }
    if (prog[i].opcode == kLddwOpcode) ++i;  // the second slot is data, not an instruction
  }
  return out;
}

std::vector<size_t> function_starts(std::span<const RawInsn> prog) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < prog.size(); ++i) {
    const RawInsn& insn = prog[i];
    bool is_call = insn.opcode == (isa::kClassJmp | isa::kJmpCall) && insn.src == isa::kPseudoCall;
    bool is_func_addr = insn.opcode == kLddwOpcode && insn.src == isa::kPseudoFunc;
    if (is_call || is_func_addr) {
      int64_t target = int64_t(i) + 1 + insn.imm;
      if (target >= 0 && target < int64_t(prog.size())) starts.push_back(size_t(target));
    }
    if (insn.opcode == kLddwOpcode) ++i;
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  return starts;
}

}  // namespace bpfkit::target::linux_kernel
