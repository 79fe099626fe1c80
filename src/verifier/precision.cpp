// Backtracking which scalars mattered (precision.h): the per-instruction rules, and the
// walk over a path's stored states that marks them.
#include "verifier/precision.h"

#include "verifier/analyzer.h"

namespace bpfkit::verifier {
namespace {

bool has_reg(const PreciseMarks& m, size_t f, int r) { return m.regs[f] >> r & 1; }
void clear_reg(PreciseMarks& m, size_t f, int r) { m.regs[f] &= uint16_t(~(1u << r)); }
bool has_slot(const PreciseMarks& m, size_t f, size_t i) { return m.slots[f] >> i & 1; }
void clear_slot(PreciseMarks& m, size_t f, size_t i) { m.slots[f] &= ~(uint64_t(1) << i); }

bool is_mov(isa::AluOp op) {
  return op == isa::AluOp::Mov || op == isa::AluOp::MovSx8 || op == isa::AluOp::MovSx16 ||
         op == isa::AluOp::MovSx32;
}

}  // namespace

bool backtrack_insn(const isa::Instruction& insn, const HistEntry& e, const std::vector<LinkedLoc>* linked,
                    PreciseMarks& need) {
  const size_t f = e.frame;
  if (f >= kMaxFrames || (e.slot >= 0 && e.slot_frame >= kMaxFrames)) return false;
  if (const auto* a = std::get_if<isa::Alu>(&insn)) {
    if (!has_reg(need, f, a->dst)) return true;
    // dst = src: the source now matters instead; dst op= src: both do.
    if (is_mov(a->op)) clear_reg(need, f, a->dst);
    if (!a->src.is_imm) set_precise_reg(need, f, a->src.reg);
    return true;
  }
  if (std::holds_alternative<isa::Neg>(insn) || std::holds_alternative<isa::Endian>(insn) ||
      std::holds_alternative<isa::Ja>(insn)) {
    return true;  // the result depends on the register alone, which stays in the set
  }
  if (const auto* l = std::get_if<isa::LoadImm64>(&insn)) {
    clear_reg(need, f, l->dst);
    return true;
  }
  if (const auto* l = std::get_if<isa::Load>(&insn)) {
    if (!has_reg(need, f, l->dst)) return true;
    clear_reg(need, f, l->dst);
    // A fill brings back what was spilled; any other load is a value nobody chose.
    if (e.slot >= 0) set_precise_slot(need, e.slot_frame, size_t(e.slot));
    return true;
  }
  if (const auto* st = std::get_if<isa::Store>(&insn)) {
    if (e.slot < 0 || !has_slot(need, e.slot_frame, size_t(e.slot))) return true;
    clear_slot(need, e.slot_frame, size_t(e.slot));
    if (!st->value.is_imm) set_precise_reg(need, f, st->value.reg);
    return true;
  }
  if (const auto* at = std::get_if<isa::Atomic>(&insn)) {
    // What an atomic leaves in a slot, and what it fetches, is unknown to the verifier.
    if (e.slot >= 0) clear_slot(need, e.slot_frame, size_t(e.slot));
    if (at->op == isa::AtomicOp::CmpXchg) {
      clear_reg(need, f, 0);
    } else if (at->fetch) {
      clear_reg(need, f, at->src);
    }
    return true;
  }
  if (std::holds_alternative<isa::PacketLoad>(insn)) {
    for (int r = 0; r <= 5; ++r) clear_reg(need, f, r);
    return true;
  }
  if (const auto* j = std::get_if<isa::Jump>(&insn)) {
    if (j->cond == isa::JmpCond::MayGoto) return false;
    // The bounds a comparison taught both operands and their linked copies came from
    // all of them: if one matters after the jump, all matter before it (the kernel's
    // rule for BPF_X jumps and linked registers).
    bool any = has_reg(need, f, j->dst) || (!j->src.is_imm && has_reg(need, f, j->src.reg));
    if (linked != nullptr) {
      for (const LinkedLoc& l : *linked) {
        if (l.frame >= kMaxFrames) return false;
        any |= l.is_slot ? has_slot(need, l.frame, l.index) : has_reg(need, l.frame, l.index);
      }
    }
    if (!any) return true;
    set_precise_reg(need, f, j->dst);
    if (!j->src.is_imm) set_precise_reg(need, f, j->src.reg);
    if (linked != nullptr) {
      for (const LinkedLoc& l : *linked) {
        if (l.is_slot) {
          set_precise_slot(need, l.frame, l.index);
        } else {
          set_precise_reg(need, l.frame, l.index);
        }
      }
    }
    return true;
  }
  if (const auto* c = std::get_if<isa::Call>(&insn)) {
    if (c->kind != isa::CallKind::Local) {
      // R0 is the helper's result, R1-R5 are unreadable after it: none came from before.
      for (int r = 0; r <= 5; ++r) clear_reg(need, f, r);
      return true;
    }
    // Stepping back out of the callee: its arguments were the caller's R1-R5. Nothing
    // else of the callee existed yet.
    const size_t callee = f + 1;
    if (callee >= kMaxFrames) return false;
    for (int r = 1; r <= 5; ++r) {
      if (has_reg(need, callee, r)) set_precise_reg(need, f, r);
    }
    const uint16_t args = 0x3e;
    if ((need.regs[callee] & ~args) != 0 || need.slots[callee] != 0) return false;
    for (size_t g = callee; g < kMaxFrames; ++g) {
      if (g > callee && (need.regs[g] != 0 || need.slots[g] != 0)) return false;
      need.regs[g] = 0;
      need.slots[g] = 0;
    }
    return true;
  }
  if (std::holds_alternative<isa::Exit>(insn)) {
    // Stepping back into a callee from its return: the caller's R0 was the callee's R0,
    // its R1-R5 were cleared.
    if (f == 0) return false;
    const size_t caller = f - 1;
    need.regs[f] = 0;
    need.slots[f] = 0;
    if (has_reg(need, caller, 0)) set_precise_reg(need, f, 0);
    for (int r = 0; r <= 5; ++r) clear_reg(need, caller, r);
    return true;
  }
  return false;  // callx: never verified
}

// --- the walk (Analyzer members) ---

bool Analyzer::backtrack_history(const History& hist, PreciseMarks& need) const {
  if (!backtrack_entries(hist.tail, need)) return false;
  for (const HistSeg* seg = hist.frozen.get(); seg != nullptr && !need.empty(); seg = seg->prev.get()) {
    if (!backtrack_entries(seg->entries, need)) return false;
  }
  return true;
}

bool Analyzer::backtrack_entries(const std::vector<HistEntry>& entries, PreciseMarks& need) const {
  for (size_t i = entries.size(); i-- > 0;) {
    if (need.empty()) return true;
    const HistEntry& e = entries[i];
    if (e.pc >= g_.insns.size() || !g_.insns[e.pc]) return false;
    const std::vector<LinkedLoc>* linked = e.linked != 0 ? &linked_sets_[e.linked - 1] : nullptr;
    if (!backtrack_insn(*g_.insns[e.pc], e, linked, need)) return false;
  }
  return true;
}

bool Analyzer::take_marks(Checkpoint& cp, PreciseMarks& need) {
  const std::vector<Frame>& frames = cp.state.frames;
  for (size_t f = 0; f < kMaxFrames; ++f) {
    if (need.regs[f] == 0 && need.slots[f] == 0) continue;
    if (f >= frames.size()) return false;  // a frame the state does not have: give up, soundly
    for (uint32_t bits = need.regs[f]; bits != 0; bits &= bits - 1) {
      const int r = __builtin_ctz(bits);
      if (r >= kRegCount) return false;
      // Only scalars are compared by range; one already precise here was walked back
      // from here before (its producers are marked), so the walk need not repeat it.
      if (!frames[f].regs[r].is_scalar() || cp.precise.reg(f, r)) {
        need.regs[f] &= uint16_t(~(1u << r));
      } else {
        set_precise_reg(cp.precise, f, r);
      }
    }
    for (uint64_t bits = need.slots[f]; bits != 0; bits &= bits - 1) {
      const size_t i = size_t(__builtin_ctzll(bits));
      const bool spilled_scalar = i < frames[f].slots.size() && frames[f].slots[i].bytes[0] == StackByte::Spill &&
                                  frames[f].slots[i].spill.is_scalar();
      if (!spilled_scalar || cp.precise.slot(f, i)) {
        need.slots[f] &= ~(uint64_t(1) << i);
      } else {
        set_precise_slot(cp.precise, f, i);
      }
    }
  }
  return true;
}

void Analyzer::mark_all_precise(Checkpoint* cp) {
  // Every state back to the start: an all-precise state's ancestors are all precise too.
  for (; cp != nullptr && !cp->all_precise; cp = cp->parent) cp->all_precise = true;
  ++stats_precise_fallbacks_;
}

void Analyzer::mark_precise(const Path& path, PreciseMarks need) {
  if (!precision_ || need.empty()) return;
  if (!backtrack_history(path.hist, need)) {
    mark_all_precise(path.cp);
    return;
  }
  for (Checkpoint* cp = path.cp; cp != nullptr && !need.empty() && !cp->all_precise; cp = cp->parent) {
    if (!take_marks(*cp, need)) {
      mark_all_precise(cp);
      return;
    }
    if (!backtrack_history(cp->hist, need)) {
      mark_all_precise(cp->parent);
      return;
    }
  }
}

void Analyzer::need_precise(int regno) {
  if (!precision_ || cur_path_ == nullptr) return;
  const State& s = cur_path_->state;
  if (s.frames.empty() || s.frames.size() > kMaxFrames || !s.reg(regno).is_scalar()) return;
  PreciseMarks need;
  set_precise_reg(need, s.frames.size() - 1, regno);
  mark_precise(*cur_path_, need);
}

void Analyzer::propagate_precision(const Checkpoint& by, const Path& path, const uint16_t* live) {
  if (!precision_) return;
  PreciseMarks need;
  const std::vector<Frame>& frames = by.state.frames;
  for (size_t f = 0; f < frames.size() && f < kMaxFrames; ++f) {
    const uint16_t live_f = live != nullptr ? live[f] : uint16_t(0xffff);
    for (int r = 0; r < kRegCount; ++r) {
      if ((live_f >> r & 1) && frames[f].regs[r].is_scalar() && (by.all_precise || by.precise.reg(f, r))) {
        set_precise_reg(need, f, r);
      }
    }
    for (size_t i = 0; i < frames[f].slots.size() && i < 64; ++i) {
      const StackSlot& slot = frames[f].slots[i];
      if (slot.bytes[0] == StackByte::Spill && slot.spill.is_scalar() && (by.all_precise || by.precise.slot(f, i))) {
        set_precise_slot(need, f, i);
      }
    }
  }
  mark_precise(path, need);
}

void Analyzer::record_linked(const State& s, uint32_t id_a, uint32_t id_b) {
  if (!precision_ || (id_a == 0 && id_b == 0)) return;
  std::vector<LinkedLoc> locs;
  auto linked = [&](const Reg& r) { return r.is_scalar() && r.id != 0 && (r.id == id_a || r.id == id_b); };
  for (size_t f = 0; f < s.frames.size() && f < kMaxFrames; ++f) {
    const Frame& fr = s.frames[f];
    for (int r = 0; r < kRegCount; ++r) {
      if (linked(fr.regs[r])) locs.push_back(LinkedLoc{uint8_t(f), false, uint8_t(r)});
    }
    for (size_t i = 0; i < fr.slots.size() && i < 64; ++i) {
      if (fr.slots[i].bytes[0] == StackByte::Spill && linked(fr.slots[i].spill)) {
        locs.push_back(LinkedLoc{uint8_t(f), true, uint8_t(i)});
      }
    }
  }
  if (locs.empty()) return;
  linked_sets_.push_back(std::move(locs));
  cur_entry_.linked = uint32_t(linked_sets_.size());
}

}  // namespace bpfkit::verifier
