// Conditional jumps: a decided comparison has one successor; otherwise both
// are explored, each with what its outcome proves — scalar bounds (the scalar
// domain's refine), a pointer that is not NULL, or packet bytes proven to lie
// before data_end (the kernel's find_good_pkt_pointers).
#include "verifier/analyzer.h"

namespace bpfkit::verifier {
namespace {

constexpr uint64_t kMaxPacketOff = 0xffff;  // MAX_PACKET_OFF

// Applies `fn` to every register of every frame, spilled ones included.
template <typename Fn>
void for_each_reg(State& s, Fn fn) {
  for (Frame& f : s.frames) {
    for (Reg& r : f.regs) fn(r);
    for (StackSlot& slot : f.slots) {
      if (slot.bytes[0] == StackByte::Spill) fn(slot.spill);
    }
  }
}

// Packet pointers that share `p`'s base (same type and id) may read `range`
// bytes from it when p's offset is proven to lie at or before the end.
void find_good_packet_pointers(State& s, const Reg& p, bool right_open) {
  if (p.off < 0 || (p.off == 0 && right_open)) return;  // no range from this
  if (p.var.umax > kMaxPacketOff || p.var.umax + uint64_t(p.off) > kMaxPacketOff) return;
  const uint32_t range = uint32_t(p.off) + (right_open ? 1 : 0);
  for_each_reg(s, [&](Reg& r) {
    if (r.type == p.type && r.id == p.id && r.range < range) r.range = range;
  });
}

bool is_init_packet_pointer(const Reg& r, RegType t) {
  return r.type == t && r.off == 0 && r.var.is_const() && r.var.const_value() == 0;
}

}  // namespace

void Analyzer::mark_null_check(State& s, uint32_t id, bool is_null) {
  uint32_t released = 0;
  for_each_reg(s, [&](Reg& r) {
    if (!r.maybe_null || r.id != id) return;
    if (is_null) {
      if (r.ref_id) released = r.ref_id;
      r = Reg::scalar(ScalarValue::constant(0));
    } else {
      r.maybe_null = false;
    }
  });
  if (released) {
    // A NULL reservation holds nothing to release.
    std::erase_if(s.refs, [&](const Reference& ref) { return ref.id == released; });
  }
}

bool Analyzer::refine_packet_compare(State& taken, State& fall, const isa::Jump& j) {
  if (j.is32 || j.src.is_imm) return false;
  const Reg& d = taken.reg(j.dst);
  const Reg& s = taken.reg(j.src.reg);
  // "left is a packet pointer being compared with its end" (or meta with data).
  const bool left = (d.type == RegType::Packet && s.type == RegType::PacketEnd) ||
                    (d.type == RegType::PacketMeta && is_init_packet_pointer(s, RegType::Packet));
  const bool right = (d.type == RegType::PacketEnd && s.type == RegType::Packet) ||
                     (is_init_packet_pointer(d, RegType::Packet) && s.type == RegType::PacketMeta);
  if (!left && !right) return false;
  const Reg p = left ? d : s;
  switch (j.cond) {
    case isa::JmpCond::Gt:  // p > end: the fall-through has p <= end; end > p: the jump has p < end
      if (left) find_good_packet_pointers(fall, p, false); else find_good_packet_pointers(taken, p, true);
      return true;
    case isa::JmpCond::Lt:
      if (left) find_good_packet_pointers(taken, p, true); else find_good_packet_pointers(fall, p, false);
      return true;
    case isa::JmpCond::Ge:
      if (left) find_good_packet_pointers(fall, p, true); else find_good_packet_pointers(taken, p, false);
      return true;
    case isa::JmpCond::Le:
      if (left) find_good_packet_pointers(taken, p, false); else find_good_packet_pointers(fall, p, true);
      return true;
    default:
      return true;  // other comparisons of these pointers prove nothing, but are allowed
  }
}

// Every copy of the register's scalar (same id, any frame, spilled or not) holds the
// same value, so learns the same bounds.
void Analyzer::sync_linked_scalars(State& s, int regno) {
  const Reg r = s.reg(regno);
  if (!r.is_scalar() || r.id == 0) return;
  for (Frame& f : s.frames) {
    for (Reg& other : f.regs)
      if (other.is_scalar() && other.id == r.id) other.var = r.var;
    for (StackSlot& slot : f.slots)
      if (slot.bytes[0] == StackByte::Spill && slot.spill.is_scalar() && slot.spill.id == r.id)
        slot.spill.var = r.var;
  }
}

void Analyzer::exec_jump(Path& path, const isa::Jump& j) {
  State& s = path.state;
  const size_t target = size_t(int64_t(path.pc) + 1 + j.off);
  const size_t fall = path.pc + 1;
  if (j.cond == isa::JmpCond::MayGoto) {
    // Either way may happen at run time; the fall-through spends one of the run's budget.
    const uint32_t insn = uint32_t(path.pc);
    fork(path, State(s), target, insn, true);
    ++s.may_goto_depth;
    s.path = std::make_shared<const PathStep>(PathStep{insn, false, s.path});
    path.pc = fall;
    return;
  }
  const Reg dst = read_reg(s, j.dst);
  const Reg src = j.src.is_imm ? Reg::scalar(ScalarValue::constant(uint64_t(int64_t(j.src.imm))))
                               : read_reg(s, j.src.reg);
  const uint32_t insn = uint32_t(path.pc);
  auto take_both = [&](State taken, State not_taken) {
    fork(path, std::move(taken), target, insn, true);
    not_taken.path = std::make_shared<const PathStep>(PathStep{insn, false, not_taken.path});
    path.state = std::move(not_taken);
    path.pc = fall;
  };

  // A comparison that decides the path relies on its operands' exact ranges.
  auto need_operands = [&] {
    need_precise(j.dst);
    if (!j.src.is_imm) need_precise(j.src.reg);
  };
  if (dst.is_scalar() && src.is_scalar()) {
    if (auto decided = ScalarValue::branch_taken(j.cond, j.is32, dst.var, src.var)) {
      need_operands();
      path.pc = *decided ? target : fall;
      return;
    }
    record_linked(s, dst.id, j.src.is_imm ? 0 : src.id);
    State t = s, f = s;
    ScalarValue ta = dst.var, tb = src.var, fa = dst.var, fb = src.var;
    const bool t_ok = ScalarValue::refine(j.cond, j.is32, true, ta, tb);
    const bool f_ok = ScalarValue::refine(j.cond, j.is32, false, fa, fb);
    t.reg(j.dst).var = ta;
    f.reg(j.dst).var = fa;
    if (!j.src.is_imm) {
      // `if rX op rX` refines one register: the dst's result wins, as in the kernel.
      if (j.src.reg != j.dst) {
        t.reg(j.src.reg).var = tb;
        f.reg(j.src.reg).var = fb;
        sync_linked_scalars(t, j.src.reg);
        sync_linked_scalars(f, j.src.reg);
      }
    }
    sync_linked_scalars(t, j.dst);
    sync_linked_scalars(f, j.dst);
    if (t_ok && f_ok) {
      take_both(std::move(t), std::move(f));
    } else if (t_ok) {
      need_operands();
      path.state = std::move(t);
      path.pc = target;
    } else {
      need_operands();
      path.state = std::move(f);  // f_ok, or neither (a contradiction the domain could not see coming)
      path.pc = fall;
    }
    return;
  }

  // A pointer compared with NULL.
  const bool eq_ne = j.cond == isa::JmpCond::Eq || j.cond == isa::JmpCond::Ne;
  const Reg* ptr = dst.is_pointer() ? &dst : (src.is_pointer() ? &src : nullptr);
  const Reg* other = ptr == &dst ? &src : &dst;
  // Whether a pointer is compared with NULL depends on the scalar register being 0.
  if (ptr != nullptr && other->is_scalar()) {
    if (other == &dst) {
      need_precise(j.dst);
    } else if (!j.src.is_imm) {
      need_precise(j.src.reg);
    }
  }
  if (eq_ne && !j.is32 && ptr != nullptr && other->is_null()) {
    const bool jump_if_null = j.cond == isa::JmpCond::Eq;
    if (!ptr->maybe_null && !in_.privileged) {
      reject(RejectKind::PointerComparison, "R" + std::to_string(j.dst) + " (" + ptr->to_string(map_names_) +
                                                ") compared with 0: pointer comparisons need CAP_PERFMON");
    }
    if (!ptr->maybe_null) {
      path.pc = jump_if_null ? fall : target;  // a valid pointer is never NULL
      return;
    }
    State t = s, f = s;
    mark_null_check(t, ptr->id, jump_if_null);
    mark_null_check(f, ptr->id, !jump_if_null);
    take_both(std::move(t), std::move(f));
    return;
  }
  State t = s, f = s;
  if (refine_packet_compare(t, f, j)) {
    take_both(std::move(t), std::move(f));
    return;
  }
  if (!in_.privileged) {
    reject(RejectKind::PointerComparison,
           "R" + std::to_string(j.dst) + " (" + dst.to_string(map_names_) + ") compared with " +
               src.to_string(map_names_) + ": pointer comparisons need CAP_PERFMON");
  }
  take_both(std::move(t), std::move(f));
}

}  // namespace bpfkit::verifier
