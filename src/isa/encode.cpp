#include "isa/codec.h"
#include "isa/opcodes.h"

namespace bpfkit::isa {
namespace {

uint8_t size_field(uint8_t bytes) {
  switch (bytes) {
    case 1: return kSizeB;
    case 2: return kSizeH;
    case 4: return kSizeW;
    default: return kSizeDw;
  }
}

uint8_t alu_op_field(AluOp op) {
  switch (op) {
    case AluOp::Add: return kAluAdd;
    case AluOp::Sub: return kAluSub;
    case AluOp::Mul: return kAluMul;
    case AluOp::Div:
    case AluOp::SDiv: return kAluDiv;
    case AluOp::Or: return kAluOr;
    case AluOp::And: return kAluAnd;
    case AluOp::Lsh: return kAluLsh;
    case AluOp::Rsh: return kAluRsh;
    case AluOp::Mod:
    case AluOp::SMod: return kAluMod;
    case AluOp::Xor: return kAluXor;
    case AluOp::Arsh: return kAluArsh;
    default: return kAluMov;
  }
}

int16_t alu_off_field(AluOp op) {
  switch (op) {
    case AluOp::SDiv:
    case AluOp::SMod: return 1;
    case AluOp::MovSx8: return 8;
    case AluOp::MovSx16: return 16;
    case AluOp::MovSx32: return 32;
    default: return 0;
  }
}

uint8_t jmp_op_field(JmpCond c) {
  static constexpr uint8_t kOps[] = {kJmpJeq,  kJmpJgt, kJmpJge, kJmpJset, kJmpJne,  kJmpJsgt,
                                     kJmpJsge, kJmpJlt, kJmpJle, kJmpJslt, kJmpJsle, kJmpJcond};
  return kOps[int(c)];
}

// Fills the source bit and src/imm fields of an instruction from an operand.
void put_operand(RawInsn& r, const Operand& o) {
  if (o.is_imm) {
    r.imm = o.imm;
  } else {
    r.opcode |= kSrcX;
    r.src = o.reg;
  }
}

struct Encoder {
  std::vector<RawInsn>& out;

  void operator()(const Alu& a) {
    RawInsn r{uint8_t((a.is64 ? kClassAlu64 : kClassAlu) | alu_op_field(a.op)), a.dst, 0, alu_off_field(a.op), 0};
    put_operand(r, a.src);
    out.push_back(r);
  }
  void operator()(const Neg& n) {
    out.push_back({uint8_t((n.is64 ? kClassAlu64 : kClassAlu) | kAluNeg), n.dst, 0, 0, 0});
  }
  void operator()(const Endian& e) {
    uint8_t op = kAluEnd;
    if (e.kind == EndianKind::Swap) op |= kClassAlu64;
    else op |= kClassAlu | (e.kind == EndianKind::ToBe ? kSrcX : kSrcK);
    out.push_back({op, e.dst, 0, 0, e.bits});
  }
  void operator()(const Load& l) {
    if (l.acquire) {
      out.push_back({uint8_t(kClassStx | size_field(l.size) | kModeAtomic), l.dst, l.base, l.off, kAtomicLoadAcquire});
      return;
    }
    out.push_back({uint8_t(kClassLdx | size_field(l.size) | (l.sign_extend ? kModeMemSx : kModeMem)), l.dst,
                   l.base, l.off, 0});
  }
  void operator()(const Store& s) {
    if (s.release)
      out.push_back({uint8_t(kClassStx | size_field(s.size) | kModeAtomic), s.base, s.value.reg, s.off,
                     kAtomicStoreRelease});
    else if (s.value.is_imm)
      out.push_back({uint8_t(kClassSt | size_field(s.size) | kModeMem), s.base, 0, s.off, s.value.imm});
    else
      out.push_back({uint8_t(kClassStx | size_field(s.size) | kModeMem), s.base, s.value.reg, s.off, 0});
  }
  void operator()(const Atomic& a) {
    int32_t imm = 0;
    switch (a.op) {
      case AtomicOp::Add: imm = kAluAdd; break;
      case AtomicOp::Or: imm = kAluOr; break;
      case AtomicOp::And: imm = kAluAnd; break;
      case AtomicOp::Xor: imm = kAluXor; break;
      case AtomicOp::Xchg: imm = kAtomicXchg; break;
      case AtomicOp::CmpXchg: imm = kAtomicCmpXchg; break;
    }
    if (a.fetch) imm |= kAtomicFetch;
    out.push_back({uint8_t(kClassStx | size_field(a.size) | kModeAtomic), a.base, a.src, a.off, imm});
  }
  void operator()(const LoadImm64& l) {
    out.push_back({uint8_t(kClassLd | kSizeDw | kModeImm), l.dst, uint8_t(l.pseudo), 0, l.imm_lo});
    out.push_back({0, 0, 0, 0, l.imm_hi});
  }
  void operator()(const PacketLoad& p) {
    out.push_back({uint8_t(kClassLd | size_field(p.size) | (p.indirect ? kModeInd : kModeAbs)), 0,
                   p.indirect ? p.src : uint8_t(0), 0, p.imm});
  }
  void operator()(const Jump& j) {
    RawInsn r{uint8_t((j.is32 ? kClassJmp32 : kClassJmp) | jmp_op_field(j.cond)), j.dst, 0, j.off, 0};
    put_operand(r, j.src);
    out.push_back(r);
  }
  void operator()(const Ja& j) {
    if (j.wide) out.push_back({uint8_t(kClassJmp32 | kJmpJa), 0, 0, 0, j.off});
    else out.push_back({uint8_t(kClassJmp | kJmpJa), 0, 0, int16_t(j.off), 0});
  }
  void operator()(const Call& c) {
    uint8_t src = c.kind == CallKind::Local ? kPseudoCall : c.kind == CallKind::Kfunc ? kPseudoKfuncCall : 0;
    const int16_t off = c.kind == CallKind::Kfunc ? c.btf_fd_idx : int16_t(0);
    out.push_back({uint8_t(kClassJmp | kJmpCall), 0, src, off, c.imm});
  }
  void operator()(const CallX& c) { out.push_back({uint8_t(kClassJmp | kJmpCall | kSrcX), c.reg, 0, 0, 0}); }
  void operator()(const Exit&) { out.push_back({uint8_t(kClassJmp | kJmpExit), 0, 0, 0, 0}); }
};

}  // namespace

void encode_insn(const Instruction& insn, std::vector<RawInsn>& out) { std::visit(Encoder{out}, insn); }

std::vector<RawInsn> encode_program(std::span<const Instruction> insns) {
  std::vector<RawInsn> out;
  out.reserve(insns.size());
  for (const Instruction& i : insns) encode_insn(i, out);
  return out;
}

}  // namespace bpfkit::isa
