#include "verifier/abstract_state.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace bpfkit::verifier {

std::string_view reg_type_name(RegType t) {
  switch (t) {
    case RegType::NotInit: return "not_init";
    case RegType::Scalar: return "scalar";
    case RegType::Ctx: return "ctx";
    case RegType::Stack: return "fp";
    case RegType::MapPtr: return "map_ptr";
    case RegType::MapValue: return "map_value";
    case RegType::MapKey: return "map_key";
    case RegType::Packet: return "pkt";
    case RegType::PacketMeta: return "pkt_meta";
    case RegType::PacketEnd: return "pkt_end";
    case RegType::Mem: return "mem";
    case RegType::Func: return "func";
    case RegType::Socket: return "sock";
    case RegType::SockCommon: return "sock_common";
  }
  return "?";
}

std::string Reg::to_string(const std::vector<std::string>& map_names) const {
  if (type == RegType::NotInit) return "?";
  if (type == RegType::Scalar) return var.to_string();
  std::string s;
  if (type == RegType::Stack) {
    s = "fp" + std::to_string(off);
    if (frame != 0) s += "[frame " + std::to_string(frame) + "]";
    if (!(var.is_const() && var.const_value() == 0)) s += "+" + var.to_string();
    return s;
  }
  s = std::string(reg_type_name(type));
  if (maybe_null) s += "_or_null";
  std::vector<std::string> parts;
  if (type == RegType::MapPtr || type == RegType::MapValue || type == RegType::MapKey) {
    parts.push_back("map=" + (map < map_names.size() ? map_names[map] : std::to_string(map)));
  }
  if (type == RegType::Mem) parts.push_back("size=" + std::to_string(mem_size));
  if (type == RegType::Func) parts.push_back("subprog=" + std::to_string(subprog));
  if (off != 0) parts.push_back("off=" + std::to_string(off));
  if (is_packet()) parts.push_back("r=" + std::to_string(range));
  if (!(var.is_const() && var.const_value() == 0)) parts.push_back("var=" + var.to_string());
  if (id != 0) parts.push_back("id=" + std::to_string(id));
  if (ref_id != 0) parts.push_back("ref=" + std::to_string(ref_id));
  if (read_only) parts.push_back("rdonly");
  s += "(";
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? "," : "") + parts[i];
  return s + ")";
}

StackSlot* Frame::slot_of(int32_t fp_off) {
  const size_t i = size_t(-(fp_off + 1)) / 8;  // fp-1..fp-8 -> 0
  return i < slots.size() ? &slots[i] : nullptr;
}

StackSlot& Frame::grow_to(int32_t fp_off) {
  const size_t i = size_t(-(fp_off + 1)) / 8;
  if (i >= slots.size()) slots.resize(i + 1);
  depth = std::max<uint32_t>(depth, uint32_t((i + 1) * 8));
  return slots[i];
}

namespace {

// Ids of the covering state map one-to-one onto ids of the covered one (the
// kernel's check_ids): two registers sharing a null check in one must share it
// in the other.
class IdMap {
 public:
  bool match(uint32_t old_id, uint32_t cur_id) {
    if (old_id == 0 || cur_id == 0) return old_id == cur_id;
    auto [it, fresh] = fwd_.emplace(old_id, cur_id);
    if (!fresh) return it->second == cur_id;
    auto [jt, fresh2] = back_.emplace(cur_id, old_id);
    return fresh2 || jt->second == old_id;
  }

 private:
  std::unordered_map<uint32_t, uint32_t> fwd_, back_;
};

bool reg_covers(const Reg& old, const Reg& cur, IdMap& ids, bool imprecise = false) {
  if (old.type == RegType::NotInit) return true;  // the continuation never read it
  if (old.type != cur.type) return false;
  if (old.type == RegType::Scalar) {
    // No range of it mattered after the old state (kernel's regsafe on a non-precise scalar);
    // a copy linked to one that did matter is precise itself (precision.cpp), so ids too.
    if (imprecise) return true;
    // Copies linked in the old state must be linked alike in the new one: the old
    // continuation may have relied on a bound learned through a copy.
    if (old.id != 0 && (cur.id == 0 || !ids.match(old.id, cur.id))) return false;
    return old.var.contains(cur.var);
  }
  if (old.off != cur.off || old.map != cur.map || old.frame != cur.frame || old.subprog != cur.subprog ||
      old.read_only != cur.read_only || old.mem_size != cur.mem_size || old.maybe_null != cur.maybe_null) {
    return false;
  }
  if (!old.var.contains(cur.var)) return false;
  if (old.is_packet() && old.range > cur.range) return false;
  return ids.match(old.id, cur.id) && ids.match(old.ref_id, cur.ref_id);
}

bool byte_covers(StackByte old, StackByte cur, const StackSlot& cur_slot) {
  switch (old) {
    case StackByte::Invalid: return true;
    case StackByte::Misc:
      return cur == StackByte::Misc || cur == StackByte::Zero ||
             (cur == StackByte::Spill && cur_slot.spill.type == RegType::Scalar);
    case StackByte::Zero: return cur == StackByte::Zero;
    case StackByte::Spill: return cur == StackByte::Spill;
  }
  return false;
}

bool slot_covers(const StackSlot& old, const StackSlot& cur, IdMap& ids, bool imprecise) {
  bool old_spill = false;
  for (int b = 0; b < 8; ++b) {
    if (!byte_covers(old.bytes[b], cur.bytes[b], cur)) return false;
    old_spill |= old.bytes[b] == StackByte::Spill;
  }
  if (!old_spill) return true;
  return old.spill_size == cur.spill_size && reg_covers(old.spill, cur.spill, ids, imprecise);
}

const StackSlot kInvalidSlot{};

}  // namespace

bool State::covers(const State& o, const uint16_t* live_regs, const PreciseMarks* precise) const {
  if (frames.size() != o.frames.size() || refs.size() != o.refs.size()) return false;
  IdMap ids;
  for (size_t f = 0; f < frames.size(); ++f) {
    const Frame& a = frames[f];
    const Frame& b = o.frames[f];
    if (a.subprog != b.subprog || a.callsite != b.callsite || a.in_callback != b.in_callback) return false;
    const uint16_t live = live_regs != nullptr ? live_regs[f] : uint16_t(0xffff);
    for (int r = 0; r < kRegCount; ++r) {
      const bool imprecise = precise != nullptr && !precise->reg(f, r);
      if ((live >> r & 1) && !reg_covers(a.regs[r], b.regs[r], ids, imprecise)) return false;
    }
    for (size_t s = 0; s < a.slots.size(); ++s) {
      const bool imprecise = precise != nullptr && !precise->slot(f, s);
      if (!slot_covers(a.slots[s], s < b.slots.size() ? b.slots[s] : kInvalidSlot, ids, imprecise)) return false;
    }
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!ids.match(refs[i].id, o.refs[i].id)) return false;
  }
  return true;
}

void State::clear_singular_scalar_ids() {
  auto each_scalar = [&](auto&& fn) {
    for (Frame& f : frames) {
      for (Reg& r : f.regs)
        if (r.is_scalar() && r.id != 0) fn(r);
      for (StackSlot& slot : f.slots)
        if (slot.bytes[0] == StackByte::Spill && slot.spill.is_scalar() && slot.spill.id != 0) fn(slot.spill);
    }
  };
  std::vector<uint32_t> ids;
  each_scalar([&](Reg& r) { ids.push_back(r.id); });
  if (ids.empty()) return;
  std::sort(ids.begin(), ids.end());
  each_scalar([&](Reg& r) {
    const auto [lo, hi] = std::equal_range(ids.begin(), ids.end(), r.id);
    if (hi - lo == 1) r.id = 0;
  });
}

State widen_stack(const State& before, const State& after) {
  State w = after;
  for (size_t f = 0; f < w.frames.size() && f < before.frames.size(); ++f) {
    Frame& wf = w.frames[f];
    const Frame& bf = before.frames[f];
    for (size_t i = 0; i < wf.slots.size(); ++i) {
      StackSlot& ws = wf.slots[i];
      const StackSlot empty{};
      const StackSlot& bs = i < bf.slots.size() ? bf.slots[i] : empty;
      if (ws == bs) continue;
      const bool scalar_spill = ws.bytes[0] == StackByte::Spill && ws.spill.is_scalar() &&
                                bs.bytes[0] == StackByte::Spill && bs.spill.is_scalar() &&
                                ws.spill_size == bs.spill_size;
      if (scalar_spill) {
        ws.spill.var = bs.spill.var.contains(ws.spill.var) ? bs.spill.var : ScalarValue::unknown();
        continue;
      }
      for (int b = 0; b < 8; ++b) {
        // Bytes either run wrote are data now; spilled pointers it replaced are gone.
        if (ws.bytes[b] != StackByte::Invalid || bs.bytes[b] != StackByte::Invalid) ws.bytes[b] = StackByte::Misc;
      }
      ws.spill = Reg{};
      ws.spill_size = 0;
    }
  }
  return w;
}

State widen_state(const State& before, const State& after) {
  State w = widen_stack(before, after);
  for (size_t f = 0; f < w.frames.size() && f < before.frames.size(); ++f) {
    for (int r = 0; r < kRegCount; ++r) {
      Reg& wr = w.frames[f].regs[r];
      const Reg& br = before.frames[f].regs[r];
      if (wr == br) continue;
      // Widening keeps the known bits the two share (alignment, for one) and drops the
      // bounds: each step loses a known bit, so a loop converges in at most 64 rounds.
      auto widen = [](const ScalarValue& b, const ScalarValue& a) {
        return b.contains(a) ? b : ScalarValue::from_tnum(tnum_union(b.var_off, a.var_off));
      };
      if (wr.is_scalar() && br.is_scalar()) {
        wr.var = widen(br.var, wr.var);
        wr.id = 0;
      } else if (wr.is_pointer() && wr.type == br.type && wr.map == br.map && wr.frame == br.frame &&
                 wr.ref_id == br.ref_id && wr.mem_size == br.mem_size && wr.subprog == br.subprog &&
                 wr.maybe_null == br.maybe_null && wr.read_only == br.read_only) {
        // The same object at a moving offset: relative to the earlier fixed offset.
        const ScalarValue moved =
            ScalarValue::alu(isa::AluOp::Add, true, wr.var, ScalarValue::constant(uint64_t(int64_t(wr.off) - br.off)));
        wr.off = br.off;
        wr.var = widen(br.var, moved);
        wr.range = 0;
        wr.id = wr.id == br.id ? wr.id : 0;
      } else if (wr.type != RegType::NotInit) {
        wr = Reg{};  // a pointer that changed object (or became a scalar): reading it again is refused
      }
    }
  }
  return w;
}

bool State::same_as(const State& o) const {
  return frames == o.frames && refs == o.refs && may_goto_depth == o.may_goto_depth;
}

namespace {
void mix(uint64_t& h, uint64_t v) { h = (h ^ v) * 0x100000001b3ull + (h >> 29); }
void mix_reg(uint64_t& h, const Reg& r) {
  mix(h, uint64_t(r.type) | uint64_t(r.maybe_null) << 8 | uint64_t(uint32_t(r.off)) << 16);
  mix(h, r.var.var_off.value);
  mix(h, r.var.var_off.mask);
  mix(h, r.var.umin);
  mix(h, r.var.umax ^ uint64_t(r.var.smin));
  mix(h, uint64_t(r.map) << 32 | r.range);
}
}  // namespace

uint64_t State::fingerprint() const {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const Frame& f : frames) {
    mix(h, f.subprog << 16 | f.callsite);
    for (const Reg& r : f.regs) mix_reg(h, r);
    for (const StackSlot& slot : f.slots) {
      uint64_t bytes = 0;
      for (StackByte b : slot.bytes) bytes = bytes << 8 | uint64_t(b);
      mix(h, bytes);
      if (slot.bytes[0] == StackByte::Spill) mix_reg(h, slot.spill);
    }
  }
  mix(h, refs.size());
  return h;
}

size_t State::memory_bytes() const {
  size_t n = sizeof(State) + refs.capacity() * sizeof(Reference);
  for (const Frame& f : frames) n += sizeof(Frame) + f.slots.capacity() * sizeof(StackSlot);
  return n;
}

std::string describe_path(const std::shared_ptr<const PathStep>& path, size_t max_steps) {
  std::vector<const PathStep*> steps;
  for (const PathStep* p = path.get(); p != nullptr; p = p->prev.get()) steps.push_back(p);
  if (steps.empty()) return "no branch decisions";
  std::string s;
  const size_t shown = std::min(steps.size(), max_steps);
  if (steps.size() > shown) s = "... " + std::to_string(steps.size() - shown) + " earlier decisions, ";
  for (size_t i = shown; i-- > 0;) {
    const PathStep* p = steps[i];
    s += "insn " + std::to_string(p->insn) + (p->taken ? " taken" : " not taken");
    if (i) s += ", ";
  }
  return s;
}

}  // namespace bpfkit::verifier
