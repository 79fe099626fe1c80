#include <cstring>
#include <sstream>

#include "isa/codec.h"
#include "isa/opcodes.h"

namespace bpfkit::isa {
namespace {

std::string hex(uint32_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// Field checks shared by every class; each failure names the field.
class SlotChecker {
 public:
  SlotChecker(const RawInsn& r, size_t slot) : r_(r), slot_(slot) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw DecodeError(slot_, "opcode " + hex(r_.opcode) + ": " + what);
  }
  void zero_src() const {
    if (r_.src != 0) fail("src register field is reserved and must be 0, is " + std::to_string(r_.src));
  }
  void zero_dst() const {
    if (r_.dst != 0) fail("dst register field is reserved and must be 0, is " + std::to_string(r_.dst));
  }
  void zero_off() const {
    if (r_.off != 0) fail("offset field is reserved and must be 0, is " + std::to_string(r_.off));
  }
  void zero_imm() const {
    if (r_.imm != 0) fail("immediate field is reserved and must be 0, is " + std::to_string(r_.imm));
  }
  uint8_t reg(uint8_t r, const char* which) const {
    if (r >= kRegCount) fail(std::string(which) + " register r" + std::to_string(r) + " does not exist (r0-r10)");
    return r;
  }
  uint8_t dst() const { return reg(r_.dst, "dst"); }
  uint8_t src() const { return reg(r_.src, "src"); }

  // Second operand of ALU and jumps: K uses imm (src must be 0), X uses src (imm must be 0).
  Operand operand() const {
    if (opcode_src(r_.opcode) == kSrcK) {
      zero_src();
      return Operand::Imm(r_.imm);
    }
    zero_imm();
    return Operand::Reg(src());
  }

 private:
  const RawInsn& r_;
  size_t slot_;
};

uint8_t size_bytes(uint8_t size_field) {
  switch (size_field) {
    case kSizeB: return 1;
    case kSizeH: return 2;
    case kSizeW: return 4;
    default: return 8;
  }
}

Instruction decode_alu(const RawInsn& r, const SlotChecker& c) {
  const bool is64 = opcode_class(r.opcode) == kClassAlu64;
  const uint8_t op = opcode_alu_op(r.opcode);
  if (op == kAluNeg) {
    if (opcode_src(r.opcode) != kSrcK) c.fail("neg takes no source operand (source bit must be 0)");
    c.zero_src(), c.zero_off(), c.zero_imm();
    return Neg{is64, c.dst()};
  }
  if (op == kAluEnd) {
    c.zero_src(), c.zero_off();
    if (r.imm != 16 && r.imm != 32 && r.imm != 64)
      c.fail("byte swap width must be 16, 32 or 64, is " + std::to_string(r.imm));
    EndianKind kind;
    if (is64) {
      if (opcode_src(r.opcode) != 0) c.fail("bswap (ALU64 | END) must have the source bit clear");
      kind = EndianKind::Swap;
    } else {
      kind = opcode_src(r.opcode) == kSrcX ? EndianKind::ToBe : EndianKind::ToLe;
    }
    return Endian{kind, uint8_t(r.imm), c.dst()};
  }
  AluOp aop;
  switch (op) {
    case kAluAdd: aop = AluOp::Add; break;
    case kAluSub: aop = AluOp::Sub; break;
    case kAluMul: aop = AluOp::Mul; break;
    case kAluDiv: aop = AluOp::Div; break;
    case kAluOr: aop = AluOp::Or; break;
    case kAluAnd: aop = AluOp::And; break;
    case kAluLsh: aop = AluOp::Lsh; break;
    case kAluRsh: aop = AluOp::Rsh; break;
    case kAluMod: aop = AluOp::Mod; break;
    case kAluXor: aop = AluOp::Xor; break;
    case kAluMov: aop = AluOp::Mov; break;
    case kAluArsh: aop = AluOp::Arsh; break;
    default: c.fail("unknown ALU operation " + hex(op));
  }
  // The offset field selects the signed variants (sdiv/smod: 1, movsx: 8/16/32).
  if (r.off != 0) {
    if (aop == AluOp::Div && r.off == 1) aop = AluOp::SDiv;
    else if (aop == AluOp::Mod && r.off == 1) aop = AluOp::SMod;
    else if (aop == AluOp::Mov && opcode_src(r.opcode) == kSrcX && r.off == 8) aop = AluOp::MovSx8;
    else if (aop == AluOp::Mov && opcode_src(r.opcode) == kSrcX && r.off == 16) aop = AluOp::MovSx16;
    else if (aop == AluOp::Mov && opcode_src(r.opcode) == kSrcX && r.off == 32 && is64) aop = AluOp::MovSx32;
    else c.zero_off();
  }
  return Alu{aop, is64, c.dst(), c.operand()};
}

Instruction decode_jmp(const RawInsn& r, const SlotChecker& c) {
  const bool is32 = opcode_class(r.opcode) == kClassJmp32;
  const uint8_t op = opcode_alu_op(r.opcode);
  switch (op) {
    case kJmpJa:
      if (opcode_src(r.opcode) != kSrcK) c.fail("ja takes no source operand (source bit must be 0)");
      c.zero_src(), c.zero_dst();
      if (is32) {  // gotol: 32-bit offset in imm
        c.zero_off();
        return Ja{r.imm, true};
      }
      c.zero_imm();
      return Ja{r.off, false};
    case kJmpCall:
      if (is32) c.fail("call is not a JMP32 instruction");
      if (opcode_src(r.opcode) == kSrcX) {  // callx
        c.zero_off(), c.zero_src(), c.zero_imm();
        return CallX{c.dst()};
      }
      c.zero_dst();
      // Only kfunc calls use the offset: the fd_array index of a module's BTF.
      if (r.src != kPseudoKfuncCall) c.zero_off();
      switch (r.src) {
        case 0: return Call{CallKind::Helper, r.imm};
        case kPseudoCall: return Call{CallKind::Local, r.imm};
        case kPseudoKfuncCall: return Call{CallKind::Kfunc, r.imm, r.off};
        default: c.fail("call src field must be 0 (helper), 1 (local) or 2 (kfunc), is " + std::to_string(r.src));
      }
    case kJmpJcond:
      // may_goto: the kernel accepts exactly JMP|JCOND|K with every field but off zero.
      if (is32) c.fail("may_goto is not a JMP32 instruction");
      if (opcode_src(r.opcode) != kSrcK) c.fail("may_goto takes no source operand (source bit must be 0)");
      if (r.src != kJcondMayGoto) c.fail("JCOND src field " + std::to_string(r.src) + " is not may_goto (0)");
      c.zero_dst(), c.zero_imm();
      return Jump{JmpCond::MayGoto, false, 0, Operand::Imm(0), r.off};
    case kJmpExit:
      if (is32) c.fail("exit is not a JMP32 instruction");
      if (opcode_src(r.opcode) != kSrcK) c.fail("exit takes no source operand (source bit must be 0)");
      c.zero_src(), c.zero_dst(), c.zero_off(), c.zero_imm();
      return Exit{};
    default: break;
  }
  JmpCond cond;
  switch (op) {
    case kJmpJeq: cond = JmpCond::Eq; break;
    case kJmpJgt: cond = JmpCond::Gt; break;
    case kJmpJge: cond = JmpCond::Ge; break;
    case kJmpJset: cond = JmpCond::Set; break;
    case kJmpJne: cond = JmpCond::Ne; break;
    case kJmpJsgt: cond = JmpCond::Sgt; break;
    case kJmpJsge: cond = JmpCond::Sge; break;
    case kJmpJlt: cond = JmpCond::Lt; break;
    case kJmpJle: cond = JmpCond::Le; break;
    case kJmpJslt: cond = JmpCond::Slt; break;
    case kJmpJsle: cond = JmpCond::Sle; break;
    default: c.fail("unknown jump operation " + hex(op));
  }
  return Jump{cond, is32, c.dst(), c.operand(), r.off};
}

Instruction decode_lddw(std::span<const RawInsn> raw, size_t slot, const SlotChecker& c) {
  const RawInsn& r = raw[slot];
  c.zero_off();
  if (r.src > kPseudoMapIdxValue) c.fail("lddw src field " + std::to_string(r.src) + " is not a known pseudo source (0-6)");
  if (slot + 1 >= raw.size()) c.fail("lddw is truncated: its second slot is missing at the end of the program");
  const RawInsn& next = raw[slot + 1];
  if (next.opcode != 0 || next.dst != 0 || next.src != 0 || next.off != 0)
    throw DecodeError(slot + 1, "second slot of the lddw at instruction " + std::to_string(slot) +
                                    " must have opcode, registers and offset 0");
  return LoadImm64{c.dst(), Pseudo(r.src), r.imm, next.imm};
}

Instruction decode_ld(std::span<const RawInsn> raw, size_t slot, const SlotChecker& c) {
  const RawInsn& r = raw[slot];
  const uint8_t mode = opcode_mode(r.opcode), size = opcode_size(r.opcode);
  if (mode == kModeImm && size == kSizeDw) return decode_lddw(raw, slot, c);
  if ((mode == kModeAbs || mode == kModeInd) && size != kSizeDw) {
    c.zero_dst(), c.zero_off();
    if (mode == kModeAbs) {
      c.zero_src();
      return PacketLoad{size_bytes(size), false, 0, r.imm};
    }
    return PacketLoad{size_bytes(size), true, c.src(), r.imm};
  }
  c.fail("unknown load: mode " + hex(mode) + " with size " + hex(size));
}

Instruction decode_mem(const RawInsn& r, const SlotChecker& c) {
  const uint8_t cls = opcode_class(r.opcode), mode = opcode_mode(r.opcode);
  const uint8_t size = size_bytes(opcode_size(r.opcode));
  switch (cls) {
    case kClassLdx:
      if (mode != kModeMem && mode != kModeMemSx) c.fail("unknown LDX mode " + hex(mode));
      if (mode == kModeMemSx && size == 8) c.fail("sign-extending load of 8 bytes does not exist");
      c.zero_imm();
      return Load{size, mode == kModeMemSx, c.dst(), c.src(), r.off};
    case kClassSt:
      if (mode != kModeMem) c.fail("unknown ST mode " + hex(mode));
      c.zero_src();
      return Store{size, c.dst(), r.off, Operand::Imm(r.imm)};
    default:  // STX
      if (mode == kModeMem) {
        c.zero_imm();
        return Store{size, c.dst(), r.off, Operand::Reg(c.src())};
      }
      if (mode != kModeAtomic) c.fail("unknown STX mode " + hex(mode));
      // Load-acquire and store-release take any size; the read-modify-write operations 4 or 8 bytes.
      if (r.imm == kAtomicLoadAcquire) return Load{size, false, c.dst(), c.src(), r.off, true};
      if (r.imm == kAtomicStoreRelease) return Store{size, c.dst(), r.off, Operand::Reg(c.src()), true};
      if (size != 4 && size != 8) c.fail("atomic operations take 4 or 8 bytes, not " + std::to_string(size));
      Atomic a{AtomicOp::Add, false, size, c.dst(), r.off, c.src()};
      switch (r.imm) {
        case kAtomicXchg: a.op = AtomicOp::Xchg, a.fetch = true; return a;
        case kAtomicCmpXchg: a.op = AtomicOp::CmpXchg, a.fetch = true; return a;
        default: break;
      }
      a.fetch = (r.imm & kAtomicFetch) != 0;
      switch (r.imm & ~kAtomicFetch) {
        case kAluAdd: a.op = AtomicOp::Add; return a;
        case kAluOr: a.op = AtomicOp::Or; return a;
        case kAluAnd: a.op = AtomicOp::And; return a;
        case kAluXor: a.op = AtomicOp::Xor; return a;
        default: c.fail("unknown atomic operation " + hex(uint32_t(r.imm)) + " in the immediate field");
      }
  }
}

}  // namespace

std::vector<RawInsn> raw_from_bytes(std::span<const uint8_t> bytes) {
  if (bytes.size() % sizeof(RawInsn) != 0)
    throw Error("truncated bytecode: " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
                "8-byte instructions; instruction " + std::to_string(bytes.size() / 8) + " at byte " +
                std::to_string(bytes.size() / 8 * 8) + " is cut short");
  std::vector<RawInsn> raw(bytes.size() / sizeof(RawInsn));
  if (!raw.empty()) std::memcpy(raw.data(), bytes.data(), bytes.size());
  return raw;
}

std::vector<uint8_t> bytes_from_raw(std::span<const RawInsn> raw) {
  std::vector<uint8_t> bytes(raw.size() * sizeof(RawInsn));
  if (!raw.empty()) std::memcpy(bytes.data(), raw.data(), bytes.size());
  return bytes;
}

Instruction decode_insn(std::span<const RawInsn> raw, size_t slot) {
  const RawInsn& r = raw[slot];
  SlotChecker c(r, slot);
  switch (opcode_class(r.opcode)) {
    case kClassAlu:
    case kClassAlu64: return decode_alu(r, c);
    case kClassJmp:
    case kClassJmp32: return decode_jmp(r, c);
    case kClassLd: return decode_ld(raw, slot, c);
    default: return decode_mem(r, c);
  }
}

std::vector<DecodedInsn> decode_program(std::span<const RawInsn> raw) {
  if (raw.empty()) throw Error("the program has no instructions");
  std::vector<DecodedInsn> out;
  std::vector<bool> starts(raw.size(), false);
  for (size_t slot = 0; slot < raw.size();) {
    Instruction insn = decode_insn(raw, slot);
    starts[slot] = true;
    out.push_back({uint32_t(slot), insn});
    slot += slot_count(insn);
  }
  auto check_target = [&](const DecodedInsn& d, int64_t target, const char* what) {
    if (target < 0 || target >= int64_t(raw.size()))
      throw DecodeError(d.slot, std::string(what) + " target " + std::to_string(target) +
                                    " is outside the program (0-" + std::to_string(raw.size() - 1) + ")");
    if (!starts[size_t(target)])
      throw DecodeError(d.slot, std::string(what) + " target " + std::to_string(target) +
                                    " is the second slot of an lddw");
  };
  for (const DecodedInsn& d : out) {
    const int64_t next = int64_t(d.slot) + 1;
    if (auto* j = std::get_if<Jump>(&d.insn)) check_target(d, next + j->off, "jump");
    else if (auto* ja = std::get_if<Ja>(&d.insn)) check_target(d, next + ja->off, "jump");
    else if (auto* c = std::get_if<Call>(&d.insn); c && c->kind == CallKind::Local)
      check_target(d, next + c->imm, "call");
    else if (auto* l = std::get_if<LoadImm64>(&d.insn); l && l->pseudo == Pseudo::Func)
      check_target(d, next + l->imm_lo, "function pointer");
  }
  return out;
}

}  // namespace bpfkit::isa
