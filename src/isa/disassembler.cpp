// Typed instructions to text. Every form printed here is one the assembler reads back
// to the same bytes; numbers are decimal except 64-bit immediates beyond int32, which
// read better in hex.
#include "isa/disassembler.h"

#include <cstdio>

#include "isa/codec.h"

namespace bpfkit::isa {
namespace {

std::string num(int64_t v) { return std::to_string(v); }

// "+2", "-1", "+0": relative targets and offsets always carry a sign.
std::string rel(int64_t v) { return (v < 0 ? "" : "+") + std::to_string(v); }

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string imm64_text(uint64_t v) {
  const int64_t s = int64_t(v);
  return s >= INT32_MIN && s <= INT32_MAX ? num(s) : hex64(v);
}

// ---- kernel / llvm syntax ----

std::string kreg(uint8_t r, bool w = false) { return (w ? "w" : "r") + std::to_string(r); }

const char* unsigned_type(uint8_t size) {
  switch (size) {
    case 1: return "u8";
    case 2: return "u16";
    case 4: return "u32";
    default: return "u64";
  }
}
const char* signed_type(uint8_t size) {
  switch (size) {
    case 1: return "s8";
    case 2: return "s16";
    default: return "s32";
  }
}

// "r10 - 8", "r1 + 0"
std::string kaddr(uint8_t base, int16_t off) {
  return kreg(base) + (off < 0 ? " - " : " + ") + std::to_string(off < 0 ? -int32_t(off) : int32_t(off));
}

std::string kmem(uint8_t size, uint8_t base, int16_t off) {
  return std::string("*(") + unsigned_type(size) + " *)(" + kaddr(base, off) + ")";
}

const char* alu_assign(AluOp op) {
  switch (op) {
    case AluOp::Add: return "+=";
    case AluOp::Sub: return "-=";
    case AluOp::Mul: return "*=";
    case AluOp::Div: return "/=";
    case AluOp::SDiv: return "s/=";
    case AluOp::Or: return "|=";
    case AluOp::And: return "&=";
    case AluOp::Lsh: return "<<=";
    case AluOp::Rsh: return ">>=";
    case AluOp::Mod: return "%=";
    case AluOp::SMod: return "s%=";
    case AluOp::Xor: return "^=";
    case AluOp::Arsh: return "s>>=";
    default: return "=";
  }
}

const char* jmp_op(JmpCond c) {
  static constexpr const char* kOps[] = {"==", ">", ">=", "&", "!=", "s>", "s>=", "<", "<=", "s<", "s<="};
  return kOps[int(c)];
}

const char* atomic_name(AtomicOp op) {
  switch (op) {
    case AtomicOp::Add: return "add";
    case AtomicOp::Or: return "or";
    case AtomicOp::And: return "and";
    case AtomicOp::Xor: return "xor";
    case AtomicOp::Xchg: return "xchg";
    default: return "cmpxchg";
  }
}

const char* endian_prefix(EndianKind k) {
  switch (k) {
    case EndianKind::ToLe: return "le";
    case EndianKind::ToBe: return "be";
    default: return "bswap";
  }
}

std::string koperand(const Operand& o, bool w) { return o.is_imm ? num(o.imm) : kreg(o.reg, w); }

struct KernelPrinter {
  std::string operator()(const Alu& a) const {
    const bool w = !a.is64;
    const std::string dst = kreg(a.dst, w);
    switch (a.op) {
      case AluOp::MovSx8: return dst + " = (s8)" + koperand(a.src, w);
      case AluOp::MovSx16: return dst + " = (s16)" + koperand(a.src, w);
      case AluOp::MovSx32: return dst + " = (s32)" + koperand(a.src, w);
      default: return dst + " " + alu_assign(a.op) + " " + koperand(a.src, w);
    }
  }
  std::string operator()(const Neg& n) const {
    const std::string r = kreg(n.dst, !n.is64);
    return r + " = -" + r;
  }
  std::string operator()(const Endian& e) const {
    return kreg(e.dst) + " = " + endian_prefix(e.kind) + std::to_string(e.bits) + " " + kreg(e.dst);
  }
  std::string operator()(const Load& l) const {
    if (l.acquire) return kreg(l.dst, l.size < 8) + " = load_acquire(" + kmem(l.size, l.base, l.off).substr(1) + ")";
    if (!l.sign_extend) return kreg(l.dst) + " = " + kmem(l.size, l.base, l.off);
    return kreg(l.dst) + " = *(" + signed_type(l.size) + " *)(" + kaddr(l.base, l.off) + ")";
  }
  std::string operator()(const Store& s) const {
    if (s.release)
      return "store_release(" + kmem(s.size, s.base, s.off).substr(1) + ", " + koperand(s.value, s.size < 8) + ")";
    return kmem(s.size, s.base, s.off) + " = " + koperand(s.value, false);
  }
  std::string operator()(const Atomic& a) const {
    const bool w = a.size == 4;
    const std::string src = kreg(a.src, w);
    switch (a.op) {
      case AtomicOp::Xchg:
        return src + " = " + (w ? "xchg32_32(" : "xchg_64(") + kaddr(a.base, a.off) + ", " + src + ")";
      case AtomicOp::CmpXchg:
        return kreg(0, w) + " = " + (w ? "cmpxchg32_32(" : "cmpxchg_64(") + kaddr(a.base, a.off) + ", " +
               kreg(0, w) + ", " + src + ")";
      default: break;
    }
    if (a.fetch) {
      return src + " = atomic_fetch_" + atomic_name(a.op) + "((" + unsigned_type(a.size) + " *)(" +
             kaddr(a.base, a.off) + "), " + src + ")";
    }
    static constexpr const char* kOps[] = {"+=", "|=", "&=", "^="};
    return "lock " + kmem(a.size, a.base, a.off) + " " + kOps[int(a.op)] + " " + src;
  }
  std::string operator()(const LoadImm64& l) const {
    const std::string dst = kreg(l.dst) + " = ";
    // Optional second argument: the second slot's imm, when it is not 0.
    const std::string hi = l.imm_hi != 0 ? ", " + num(l.imm_hi) : "";
    switch (l.pseudo) {
      case Pseudo::Imm64: return dst + imm64_text(l.value()) + " ll";
      case Pseudo::MapFd: return dst + "map_fd(" + num(l.imm_lo) + hi + ") ll";
      case Pseudo::MapValue: return dst + "map_value(" + num(l.imm_lo) + ", " + num(l.imm_hi) + ") ll";
      case Pseudo::BtfId: return dst + "btf_id(" + num(l.imm_lo) + hi + ") ll";
      case Pseudo::Func: return dst + "func(" + rel(l.imm_lo) + hi + ") ll";
      case Pseudo::MapIdx: return dst + "map_idx(" + num(l.imm_lo) + hi + ") ll";
      case Pseudo::MapIdxValue: return dst + "map_idx_value(" + num(l.imm_lo) + ", " + num(l.imm_hi) + ") ll";
    }
    return dst + "pseudo(" + std::to_string(int(l.pseudo)) + ")";  // unreachable for decoded input
  }
  std::string operator()(const PacketLoad& p) const {
    std::string index;
    if (!p.indirect)
      index = num(p.imm);
    else if (p.imm == 0)
      index = kreg(p.src);
    else
      index = kreg(p.src) + (p.imm < 0 ? " - " : " + ") + num(p.imm < 0 ? -int64_t(p.imm) : p.imm);
    return std::string("r0 = *(") + unsigned_type(p.size) + " *)skb[" + index + "]";
  }
  std::string operator()(const Jump& j) const {
    if (j.cond == JmpCond::MayGoto) return "may_goto " + rel(j.off);
    return "if " + kreg(j.dst, j.is32) + " " + jmp_op(j.cond) + " " + koperand(j.src, j.is32) + " goto " +
           rel(j.off);
  }
  std::string operator()(const Ja& j) const { return (j.wide ? "gotol " : "goto ") + rel(j.off); }
  std::string operator()(const Call& c) const {
    switch (c.kind) {
      case CallKind::Local: return "call pc" + rel(c.imm);
      case CallKind::Kfunc:
        return "call kfunc(" + num(c.imm) + (c.btf_fd_idx ? ", " + num(c.btf_fd_idx) : "") + ")";
      default: return "call " + num(c.imm);
    }
  }
  std::string operator()(const CallX& c) const { return "callx " + kreg(c.reg); }
  std::string operator()(const Exit&) const { return "exit"; }
};

// ---- uBPF syntax ----

std::string ureg(uint8_t r) { return "%r" + std::to_string(r); }

std::string umem(uint8_t base, int16_t off) {
  if (off == 0) return "[" + ureg(base) + "]";
  return "[" + ureg(base) + (off < 0 ? "-" : "+") + std::to_string(off < 0 ? -int32_t(off) : int32_t(off)) +
         "]";
}

std::string uoperand(const Operand& o) { return o.is_imm ? num(o.imm) : ureg(o.reg); }

const char* size_suffix(uint8_t size) {
  switch (size) {
    case 1: return "b";
    case 2: return "h";
    case 4: return "w";
    default: return "dw";
  }
}

struct UbpfPrinter {
  uint32_t slot;

  std::string operator()(const Alu& a) const {
    static constexpr const char* kNames[] = {"add", "sub",  "mul", "div", "sdiv", "or", "and", "lsh", "rsh",
                                             "mod", "smod", "xor", "mov", "arsh", "",   "",    ""};
    std::string name;
    switch (a.op) {
      case AluOp::MovSx8: name = a.is64 ? "movsx864" : "movsx832"; break;
      case AluOp::MovSx16: name = a.is64 ? "movsx1664" : "movsx1632"; break;
      case AluOp::MovSx32: name = "movsx3264"; break;
      default: name = std::string(kNames[int(a.op)]) + (a.is64 ? "" : "32");
    }
    return name + " " + ureg(a.dst) + ", " + uoperand(a.src);
  }
  std::string operator()(const Neg& n) const { return std::string(n.is64 ? "neg " : "neg32 ") + ureg(n.dst); }
  std::string operator()(const Endian& e) const {
    return endian_prefix(e.kind) + std::to_string(e.bits) + " " + ureg(e.dst);
  }
  std::string operator()(const Load& l) const {
    if (l.acquire) return std::string("ldacq") + size_suffix(l.size) + " " + ureg(l.dst) + ", " + umem(l.base, l.off);
    return std::string(l.sign_extend ? "ldxs" : "ldx") + size_suffix(l.size) + " " + ureg(l.dst) + ", " +
           umem(l.base, l.off);
  }
  std::string operator()(const Store& s) const {
    if (s.release)
      return std::string("strel") + size_suffix(s.size) + " " + umem(s.base, s.off) + ", " + uoperand(s.value);
    return std::string(s.value.is_imm ? "st" : "stx") + size_suffix(s.size) + " " + umem(s.base, s.off) +
           ", " + uoperand(s.value);
  }
  std::string operator()(const Atomic& a) const {
    const bool implicit_fetch = a.op == AtomicOp::Xchg || a.op == AtomicOp::CmpXchg;
    return std::string("lock ") + (a.fetch && !implicit_fetch ? "fetch " : "") + atomic_name(a.op) +
           (a.size == 4 ? "32 " : " ") + umem(a.base, a.off) + ", " + ureg(a.src);
  }
  std::string operator()(const LoadImm64& l) const {
    if (l.pseudo != Pseudo::Imm64) return KernelPrinter{}(l);
    return "lddw " + ureg(l.dst) + ", " + imm64_text(l.value());
  }
  std::string operator()(const PacketLoad& p) const {
    if (p.indirect) return std::string("ldind") + size_suffix(p.size) + " " + ureg(p.src) + ", " + num(p.imm);
    return std::string("ldabs") + size_suffix(p.size) + " " + num(p.imm);
  }
  std::string operator()(const Jump& j) const {
    if (j.cond == JmpCond::MayGoto) return "may_goto " + rel(j.off);
    static constexpr const char* kNames[] = {"jeq",  "jgt", "jge", "jset", "jne", "jsgt",
                                             "jsge", "jlt", "jle", "jslt", "jsle"};
    return std::string(kNames[int(j.cond)]) + (j.is32 ? "32 " : " ") + ureg(j.dst) + ", " + uoperand(j.src) +
           ", " + rel(j.off);
  }
  std::string operator()(const Ja& j) const { return (j.wide ? "ja32 " : "ja ") + rel(j.off); }
  std::string operator()(const Call& c) const {
    switch (c.kind) {
      case CallKind::Local: return "call local " + rel(c.imm);
      case CallKind::Kfunc: return KernelPrinter{}(c);
      default: return "call " + num(c.imm);
    }
  }
  std::string operator()(const CallX& c) const { return "call " + ureg(c.reg); }
  std::string operator()(const Exit&) const { return "exit"; }
};

}  // namespace

std::string format_insn(const Instruction& insn, uint32_t /*slot*/) {
  return std::visit(KernelPrinter{}, insn);
}

std::string format_insn_ubpf(const Instruction& insn, uint32_t slot) {
  return std::visit(UbpfPrinter{slot}, insn);
}

std::string format_insn(const Instruction& insn, uint32_t slot, AsmSyntax syntax) {
  return syntax == AsmSyntax::Ubpf ? format_insn_ubpf(insn, slot) : format_insn(insn, slot);
}

std::string disassemble(std::span<const RawInsn> raw, AsmSyntax syntax) {
  std::string out;
  for (size_t slot = 0; slot < raw.size();) {
    const Instruction insn = decode_insn(raw, slot);
    char head[32];
    std::snprintf(head, sizeof head, "%4zu: ", slot);
    out += head;
    out += format_insn(insn, uint32_t(slot), syntax);
    out += '\n';
    slot += size_t(slot_count(insn));
  }
  return out;
}

}  // namespace bpfkit::isa
