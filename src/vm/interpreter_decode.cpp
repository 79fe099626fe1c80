// Pre-decoding: one typed instruction to one Code plus resolved operands.
#include <string>

#include "isa/opcodes.h"
#include "vm/interpreter.h"
#include "vm/run_errors.h"

namespace bpfkit::vm::interp {
namespace {

// The four-handler groups are laid out as 64_K, 64_X, 32_K, 32_X.
Code group_code(Code first, bool is64, bool is_imm) {
  return Code(int(first) + (is64 ? 0 : 2) + (is_imm ? 0 : 1));
}

Code alu_first(isa::AluOp op) {
  using isa::AluOp;
  switch (op) {
#define BPFKIT_ALU_CASE(N, OP) \
  case AluOp::OP: return Code::N##64_K;
    BPFKIT_INTERP_ALU(BPFKIT_ALU_CASE)
#undef BPFKIT_ALU_CASE
  }
  return Code::MOV64_K;
}

Code jmp_first(isa::JmpCond cond) {
  using isa::JmpCond;
  switch (cond) {
#define BPFKIT_JMP_CASE(N, C) \
  case JmpCond::C: return Code::N##64_K;
    BPFKIT_INTERP_JMP(BPFKIT_JMP_CASE)
#undef BPFKIT_JMP_CASE
    case JmpCond::MayGoto: break;  // its own handler, MAY_GOTO
  }
  return Code::JEQ64_K;
}

Code load_code(const isa::Load& l) {
  switch (l.size) {
    case 1: return l.sign_extend ? Code::LDXSB : Code::LDXB;
    case 2: return l.sign_extend ? Code::LDXSH : Code::LDXH;
    case 4: return l.sign_extend ? Code::LDXSW : Code::LDXW;
    default: return Code::LDXDW;
  }
}

Code store_code(const isa::Store& s) {
  const bool imm = s.value.is_imm;
  switch (s.size) {
    case 1: return imm ? Code::STB : Code::STXB;
    case 2: return imm ? Code::STH : Code::STXH;
    case 4: return imm ? Code::STW : Code::STXW;
    default: return imm ? Code::STDW : Code::STXDW;
  }
}

Code atomic_code(const isa::Atomic& a) {
  using isa::AtomicOp;
  const bool is64 = a.size == 8;
  Code first;
  switch (a.op) {
    case AtomicOp::Xchg: return is64 ? Code::XCHG64 : Code::XCHG32;
    case AtomicOp::CmpXchg: return is64 ? Code::CMPXCHG64 : Code::CMPXCHG32;
    case AtomicOp::Add: first = Code::AADD64; break;
    case AtomicOp::Or: first = Code::AOR64; break;
    case AtomicOp::And: first = Code::AAND64; break;
    default: first = Code::AXOR64; break;
  }
  // Layout per operation: A64, A32, AF64, AF32.
  return Code(int(first) + (is64 ? 0 : 1) + (a.fetch ? 2 : 0));
}

Code endian_code(const isa::Endian& e) {
  const bool swap = e.kind != isa::EndianKind::ToLe;
  switch (e.bits) {
    case 16: return swap ? Code::BE16 : Code::LE16;
    case 32: return swap ? Code::BE32 : Code::LE32;
    default: return swap ? Code::BE64 : Code::LE64;
  }
}

// Fills `op` and returns its code; `slot` is for errors.
struct OpBuilder {
  Op& op;
  size_t slot;

  // r10 is the frame pointer: the engines derive frames from it, so no instruction
  // may write it. One that does fails when it runs (the kernel's verifier refuses it
  // where a path reaches it, and leaves dead code alone).
  bool writes_frame_pointer = false;
  void written(uint8_t reg) {
    if (reg == isa::kFramePointer) writes_frame_pointer = true;
  }
  void operand(const isa::Operand& o) {
    if (o.is_imm)
      op.imm = o.imm;
    else
      op.src = o.reg;
  }

  Code operator()(const isa::Alu& a) {
    written(a.dst);
    op.dst = a.dst;
    operand(a.src);
    return group_code(alu_first(a.op), a.is64, a.src.is_imm);
  }
  Code operator()(const isa::Neg& n) {
    written(n.dst);
    op.dst = n.dst;
    return n.is64 ? Code::NEG64 : Code::NEG32;
  }
  Code operator()(const isa::Endian& e) {
    written(e.dst);
    op.dst = e.dst;
    return endian_code(e);
  }
  Code operator()(const isa::Load& l) {
    written(l.dst);
    op.dst = l.dst, op.src = l.base, op.off = l.off;
    return load_code(l);
  }
  Code operator()(const isa::Store& s) {
    op.dst = s.base, op.off = s.off;
    operand(s.value);
    return store_code(s);
  }
  Code operator()(const isa::Atomic& a) {
    if (a.fetch) written(a.src);
    op.dst = a.base, op.src = a.src, op.off = a.off;
    return atomic_code(a);
  }
  Code operator()(const isa::LoadImm64& l) {
    written(l.dst);
    op.dst = l.dst, op.imm = l.imm_lo, op.src = uint8_t(l.pseudo);
    return l.pseudo == isa::Pseudo::Imm64 ? Code::LDDW : Code::LDDW_PSEUDO;
  }
  Code operator()(const isa::PacketLoad& p) {
    op.src = p.src, op.imm = p.imm;
    return Code::PACKET_LOAD;
  }
  Code operator()(const isa::Jump& j) {
    op.dst = j.dst, op.off = j.off;
    if (j.cond == isa::JmpCond::MayGoto) return Code::MAY_GOTO;
    operand(j.src);
    return group_code(jmp_first(j.cond), !j.is32, j.src.is_imm);
  }
  Code operator()(const isa::Ja& j) {
    op.imm = j.off;
    return Code::JA;
  }
  Code operator()(const isa::Call& c) {
    op.imm = c.imm;
    switch (c.kind) {
      case isa::CallKind::Local: return Code::CALL_LOCAL;
      case isa::CallKind::Kfunc: return Code::CALL_KFUNC;
      default: return Code::CALL_HELPER;
    }
  }
  Code operator()(const isa::CallX& c) {
    op.src = c.reg;
    return Code::CALLX;
  }
  Code operator()(const isa::Exit&) { return Code::EXIT; }
};

}  // namespace

Decoded predecode(const Program& program) {
  const size_t slots = program.raw().size();
  Decoded d;
  // Every slot gets a code; lddw second halves are never jumped to (the decoder
  // checks), and one sentinel after the end catches a run falling off it.
  d.codes.assign(slots + 1, Code::LDDW_SECOND);
  d.ops.assign(slots + 1, Op{});
  d.codes[slots] = Code::FELL_OFF;
  for (const isa::DecodedInsn& di : program.insns()) {
    OpBuilder builder{d.ops[di.slot], di.slot};
    d.codes[di.slot] = std::visit(builder, di.insn);
    if (builder.writes_frame_pointer) d.codes[di.slot] = Code::FP_WRITE;
    if (auto* l = std::get_if<isa::LoadImm64>(&di.insn)) d.ops[di.slot + 1].imm = l->imm_hi;
  }
  return d;
}

}  // namespace bpfkit::vm::interp
