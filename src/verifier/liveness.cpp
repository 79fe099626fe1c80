#include "verifier/liveness.h"

#include <array>
#include <variant>

namespace bpfkit::verifier {
namespace {

constexpr uint16_t bit(int r) { return uint16_t(1u << r); }
constexpr uint16_t kArgs = 0x3e;       // R1-R5
constexpr uint16_t kCallerSaved = 0x3f;  // R0-R5: written (or cleared) by a call

struct UseDef {
  uint16_t use = 0, def = 0;
};

// What one instruction reads and always writes. Where unsure, it reads more and
// writes less: that only keeps more registers live.
UseDef use_def(const isa::Instruction& insn) {
  UseDef u;
  const auto operand = [&u](const isa::Operand& o) {
    if (!o.is_imm) u.use |= bit(o.reg);
  };
  if (const auto* a = std::get_if<isa::Alu>(&insn)) {
    const bool mov = a->op == isa::AluOp::Mov || a->op == isa::AluOp::MovSx8 ||
                     a->op == isa::AluOp::MovSx16 || a->op == isa::AluOp::MovSx32;
    if (!mov) u.use |= bit(a->dst);
    operand(a->src);
    u.def = bit(a->dst);
  } else if (const auto* n = std::get_if<isa::Neg>(&insn)) {
    u.use = u.def = bit(n->dst);
  } else if (const auto* e = std::get_if<isa::Endian>(&insn)) {
    u.use = u.def = bit(e->dst);
  } else if (const auto* l = std::get_if<isa::Load>(&insn)) {
    u.use = bit(l->base);
    if (l->dst != l->base) u.def = bit(l->dst);
  } else if (const auto* st = std::get_if<isa::Store>(&insn)) {
    u.use = bit(st->base);
    operand(st->value);
  } else if (const auto* at = std::get_if<isa::Atomic>(&insn)) {
    u.use = bit(at->base) | bit(at->src) | bit(0);
  } else if (const auto* ld = std::get_if<isa::LoadImm64>(&insn)) {
    u.def = bit(ld->dst);
  } else if (const auto* pl = std::get_if<isa::PacketLoad>(&insn)) {
    u.use = bit(6) | (pl->indirect ? bit(pl->src) : 0);
    u.def = bit(0);
  } else if (const auto* j = std::get_if<isa::Jump>(&insn)) {
    if (j->cond != isa::JmpCond::MayGoto) {
      u.use = bit(j->dst);
      operand(j->src);
    }
  } else if (std::holds_alternative<isa::Call>(insn)) {
    u.use = kArgs;
    u.def = kCallerSaved;
  } else if (std::holds_alternative<isa::CallX>(insn)) {
    u.use = kAllRegisters;
  } else if (std::holds_alternative<isa::Exit>(insn)) {
    u.use = bit(0);
  }
  return u;
}

}  // namespace

std::vector<uint16_t> compute_live_registers(const ProgramGraph& graph) {
  const size_t n = graph.size();
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<UseDef> ud(n);
  // At most two successors per slot (fall-through, jump target), as ProgramGraph::successors.
  std::vector<std::array<uint32_t, 2>> succ(n, {kNone, kNone});
  for (size_t s = 0; s < n; ++s) {
    if (!graph.insns[s]) continue;
    const isa::Instruction& insn = *graph.insns[s];
    ud[s] = use_def(insn);
    const int64_t next = int64_t(s) + 1;
    int64_t a = -1, b = -1;
    if (const auto* ja = std::get_if<isa::Ja>(&insn)) {
      a = next + ja->off;
    } else if (const auto* j = std::get_if<isa::Jump>(&insn)) {
      a = next;
      if (j->off != 0) b = next + j->off;
    } else if (!std::holds_alternative<isa::Exit>(insn)) {
      a = int64_t(s) + isa::slot_count(insn);
    }
    if (a >= 0 && size_t(a) < n) succ[s][0] = uint32_t(a);
    if (b >= 0 && size_t(b) < n) succ[s][1] = uint32_t(b);
  }
  std::vector<uint16_t> live(n, 0);
  // Backward sweeps until nothing changes: straight code settles in one, each loop
  // nesting level costs about one more.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t s = n; s-- > 0;) {
      if (!graph.insns[s]) continue;
      uint16_t out = 0;
      for (uint32_t t : succ[s]) {
        if (t != kNone) out |= live[t];
      }
      const uint16_t in = uint16_t(ud[s].use | (out & ~ud[s].def)) | bit(10);
      if (in != live[s]) {
        live[s] = in;
        changed = true;
      }
    }
  }
  return live;
}

}  // namespace bpfkit::verifier
