#include "target/user/ctx_narrow_loads.h"

#include <variant>

#include "core/program_type.h"
#include "isa/codec.h"
#include "isa/opcodes.h"

namespace bpfkit::target::user {
namespace {

// Where the unmodified context is at one instruction, on every path that reaches it.
struct CtxHolders {
  bool reached = false;
  uint16_t regs = 0;   // bit r: register r
  uint64_t slots = 0;  // bit k: the 8 bytes at r10 - 8 * (k + 1)

  // Meets `in` into this state; true when this changed.
  bool meet(const CtxHolders& in) {
    if (!reached) {
      *this = in;
      reached = true;
      return true;
    }
    const CtxHolders before = *this;
    regs &= in.regs;
    slots &= in.slots;
    return regs != before.regs || slots != before.slots;
  }
};

constexpr uint16_t kArgRegs = 0b111110;      // r1-r5
constexpr uint16_t kCallerSaved = 0b111111;  // r0-r5

// The stack slots [off, off + size) of r10 overlaps.
uint64_t slots_of(int32_t off, uint32_t size) {
  uint64_t mask = 0;
  for (int32_t at = off; at < off + int32_t(size); ++at) {
    if (at >= 0 || at < -512) continue;
    mask |= uint64_t(1) << ((-at - 1) / 8);
  }
  return mask;
}

// The 8-byte slot an aligned spill or fill at r10 + off uses, or -1.
int slot_at(int32_t off, uint32_t size) {
  if (size != 8 || off >= 0 || off < -512 || off % 8 != 0) return -1;
  return -off / 8 - 1;
}

void clear(CtxHolders& s, uint8_t reg) { s.regs &= uint16_t(~(1u << reg)); }
bool holds(const CtxHolders& s, uint8_t reg) { return s.regs & (1u << reg); }

// A store of `size` bytes through `base`: spills the context into a stack slot, or may
// overwrite any spilled one when it goes through a pointer that might point into the stack.
void store(CtxHolders& s, uint8_t base, int16_t off, uint32_t size, int value_reg) {
  if (base == isa::kFramePointer) {
    s.slots &= ~slots_of(off, size);
    const int slot = slot_at(off, size);
    if (slot >= 0 && value_reg >= 0 && holds(s, uint8_t(value_reg))) s.slots |= uint64_t(1) << slot;
  } else if (!holds(s, base)) {
    s.slots = 0;
  }
}

}  // namespace

std::vector<uint32_t> rewrite_narrow_ctx_loads(std::vector<isa::RawInsn>& insns, uint32_t prog_type,
                                               const std::vector<uint32_t>& callbacks) {
  const core::ProgramTypeInfo* info = core::find_program_type(prog_type);
  if (!info) return {};
  bool any = false;
  for (const core::CtxField& f : info->ctx_fields) any |= f.kernel_size != 0;
  if (!any) return {};
  std::vector<isa::DecodedInsn> prog;
  try {
    prog = isa::decode_program(insns);
  } catch (const Error&) {
    return {};
  }
  std::vector<int32_t> index(insns.size() + 1, -1);  // slot -> instruction
  for (size_t i = 0; i < prog.size(); ++i) index[prog[i].slot] = int32_t(i);

  std::vector<CtxHolders> in(prog.size());
  std::vector<size_t> work;
  auto flow = [&](uint64_t slot, const CtxHolders& s) {
    if (slot >= index.size() || index[slot] < 0) return;
    if (in[size_t(index[slot])].meet(s)) work.push_back(size_t(index[slot]));
  };
  flow(0, CtxHolders{true, uint16_t(1u << 1), 0});
  for (uint32_t cb : callbacks) flow(cb, CtxHolders{true, 0, 0});

  while (!work.empty()) {
    const size_t i = work.back();
    work.pop_back();
    const uint32_t slot = prog[i].slot;
    const isa::Instruction& insn = prog[i].insn;
    CtxHolders s = in[i];
    const uint64_t next = slot + uint64_t(isa::slot_count(insn));
    bool falls_through = true;
    if (auto* a = std::get_if<isa::Alu>(&insn)) {
      const bool copy = a->op == isa::AluOp::Mov && a->is64 && !a->src.is_imm && holds(s, a->src.reg);
      clear(s, a->dst);
      if (copy) s.regs |= uint16_t(1u << a->dst);
    } else if (auto* n = std::get_if<isa::Neg>(&insn)) {
      clear(s, n->dst);
    } else if (auto* e = std::get_if<isa::Endian>(&insn)) {
      clear(s, e->dst);
    } else if (auto* l = std::get_if<isa::Load>(&insn)) {
      const int fill = l->base == isa::kFramePointer && !l->sign_extend ? slot_at(l->off, l->size) : -1;
      const bool ctx = fill >= 0 && (s.slots >> fill & 1);
      clear(s, l->dst);
      if (ctx) s.regs |= uint16_t(1u << l->dst);
    } else if (auto* st = std::get_if<isa::Store>(&insn)) {
      store(s, st->base, st->off, st->size, st->value.is_imm ? -1 : st->value.reg);
    } else if (auto* at = std::get_if<isa::Atomic>(&insn)) {
      store(s, at->base, at->off, at->size, -1);
      if (at->op == isa::AtomicOp::CmpXchg) clear(s, 0);
      else if (at->fetch) clear(s, at->src);
    } else if (auto* li = std::get_if<isa::LoadImm64>(&insn)) {
      clear(s, li->dst);
    } else if (std::holds_alternative<isa::PacketLoad>(insn)) {
      s.regs &= uint16_t(~kCallerSaved);
    } else if (auto* j = std::get_if<isa::Jump>(&insn)) {
      flow(slot + 1 + int64_t(j->off), s);
    } else if (auto* ja = std::get_if<isa::Ja>(&insn)) {
      flow(slot + 1 + int64_t(ja->off), s);
      falls_through = false;
    } else if (auto* c = std::get_if<isa::Call>(&insn)) {
      if (c->kind == isa::CallKind::Local) {
        // The callee starts with the arguments; its frame is a new one.
        flow(slot + 1 + int64_t(c->imm), CtxHolders{true, uint16_t(s.regs & kArgRegs), 0});
      }
      // Helpers and callees may write the caller's stack through pointers they were given.
      s.regs &= uint16_t(~kCallerSaved);
      s.slots = 0;
    } else if (std::holds_alternative<isa::CallX>(insn)) {
      s.regs &= uint16_t(~kCallerSaved);
      s.slots = 0;
    } else if (std::holds_alternative<isa::Exit>(insn)) {
      falls_through = false;
    }
    if (falls_through) flow(next, s);
  }

  std::vector<uint32_t> rewritten;
  for (size_t i = 0; i < prog.size(); ++i) {
    const auto* l = std::get_if<isa::Load>(&prog[i].insn);
    if (!l || l->sign_extend || !in[i].reached || !holds(in[i], l->base) || l->off < 0) continue;
    const core::CtxField* f = info->field_at(uint32_t(l->off));
    if (!f || f->kernel_size == 0 || l->size >= f->size || l->size < f->kernel_size) continue;
    const uint32_t inside = uint32_t(l->off) - f->offset;
    if (inside == 0 || inside % l->size != 0) continue;  // already there, or misaligned (refused)
    insns[prog[i].slot].off = int16_t(f->offset);
    rewritten.push_back(prog[i].slot);
  }
  return rewritten;
}

}  // namespace bpfkit::target::user
