// Precision tracking (the kernel's mark_chain_precision / backtrack_insn): a stored
// state compares a scalar by range only when that range mattered to what was proven
// after it — it fed a pointer offset, a helper's size, a decided branch, the return
// value, ... Such a use walks the path back instruction by instruction to where the
// value was produced, marking it precise in every stored state on the way
// (Analyzer::mark_precise). Any other scalar of a stored state covers any scalar, so
// paths that differ only in values nothing checked are pruned (no state explosion).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "isa/instruction.h"
#include "verifier/abstract_state.h"

namespace bpfkit::verifier {

// One instruction a path ran, with what the backtracking cannot see in the instruction
// itself (kernel: the jump history's INSN_F_STACK_ACCESS entries). A stored state keeps
// the entries that led to it from its parent.
struct HistEntry {
  uint32_t pc = 0;
  uint32_t linked = 0;    // conditional jump: 1 + index of its operands' linked copies, 0: none
  int8_t slot = -1;       // the stack slot a spill wrote or a fill read its value from, -1: none
  uint8_t slot_frame = 0;  // whose stack that slot is
  uint8_t frame = 0;       // the frame that ran the instruction
};

// A path's instructions since its last stored state: a frozen part shared with the paths
// it forked (so a fork copies nothing), then its own newest entries.
struct HistSeg {
  std::vector<HistEntry> entries;
  std::shared_ptr<const HistSeg> prev;
};
struct History {
  std::shared_ptr<const HistSeg> frozen;
  std::vector<HistEntry> tail;
  size_t size = 0;  // entries in all
  void push(const HistEntry& e) {
    if (tail.capacity() == 0) tail.reserve(32);  // one allocation for most stretches
    tail.push_back(e);
    ++size;
  }
  // Before a fork: the entries so far become shared.
  void freeze() {
    if (tail.empty()) return;
    frozen = std::make_shared<const HistSeg>(HistSeg{std::move(tail), std::move(frozen)});
    tail.clear();
  }
  void clear() {
    frozen.reset();
    std::vector<HistEntry>().swap(tail);
    size = 0;
  }
};

// A register or a spilled slot holding a copy linked (same scalar id) to a jump's operand.
struct LinkedLoc {
  uint8_t frame = 0;
  bool is_slot = false;
  uint8_t index = 0;
};

// The scalars of `need` that matter after the instruction, stepped back to the ones that
// matter before it. False when the instruction cannot be stepped over exactly (then the
// caller marks every scalar precise, which is always sound).
bool backtrack_insn(const isa::Instruction& insn, const HistEntry& e, const std::vector<LinkedLoc>* linked,
                    PreciseMarks& need);

inline void set_precise_reg(PreciseMarks& m, size_t f, int r) { m.regs[f] |= uint16_t(1u << r); }
inline void set_precise_slot(PreciseMarks& m, size_t f, size_t i) { m.slots[f] |= uint64_t(1) << i; }

}  // namespace bpfkit::verifier
