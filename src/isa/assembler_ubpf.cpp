// The uBPF / conformance syntax: `mnemonic operand, operand, ...` with %rN registers
// and [%rN+off] memory operands, as the bpf_conformance data files use it.
#include <cctype>

#include "isa/assembler_parse.h"

namespace bpfkit::isa::asm_detail {
namespace {

size_t count_operands(const Cursor& c) {
  if (c.at_end()) return 0;
  size_t n = 1;
  for (size_t k = 0; c.peek(k).kind != Tok::End; ++k)
    if (c.is_punct(",", k)) ++n;
  return n;
}

void check_operands(const Cursor& c, const Token& mnemonic, std::string_view name, size_t want,
                    std::string_view form) {
  const size_t n = count_operands(c);
  if (n == want) return;
  c.fail(mnemonic.col, "invalid number of operands for " + std::string(name) + ": " + std::to_string(n) +
                           " given, " + std::to_string(want) + " expected (" + std::string(form) + ")");
}

void comma(Cursor& c) { c.expect_punct(",", "between operands"); }

struct Mem {
  uint8_t base = 0;
  int16_t off = 0;
};

// [%r1+8], [%r10-8], [%r1]
Mem parse_mem(Cursor& c) {
  if (!c.is_punct("["))
    c.fail_here("expected a memory operand like [%r1+8], found " + Cursor::describe(c.peek()));
  c.next();
  Mem m{c.reg("a base register").num, 0};
  if (c.is_punct("+") || c.is_punct("-")) m.off = off16_of(c, c.literal("an offset"), "offset");
  c.expect_punct("]", "to close the memory operand");
  return m;
}

Operand parse_reg_or_imm(Cursor& c) {
  if (c.at_reg()) return Operand::Reg(c.reg("a source register").num);
  if (c.at_literal()) return Operand::Imm(imm32_of(c, c.literal("an immediate"), "immediate"));
  c.fail_here("expected a register or an immediate, found " + Cursor::describe(c.peek()));
}

// Splits "add32" into "add" and 32, "lsh64" into "lsh" and 64, "mov" into "mov" and 0.
std::pair<std::string_view, int> split_width(std::string_view name) {
  if (name.size() > 2 && name.ends_with("32")) return {name.substr(0, name.size() - 2), 32};
  if (name.size() > 2 && name.ends_with("64")) return {name.substr(0, name.size() - 2), 64};
  return {name, 0};
}

std::optional<AluOp> alu_op(std::string_view base) {
  static constexpr struct {
    std::string_view name;
    AluOp op;
  } kOps[] = {{"add", AluOp::Add},   {"sub", AluOp::Sub},  {"mul", AluOp::Mul}, {"div", AluOp::Div},
              {"or", AluOp::Or},     {"and", AluOp::And},  {"lsh", AluOp::Lsh}, {"rsh", AluOp::Rsh},
              {"mod", AluOp::Mod},   {"xor", AluOp::Xor},  {"mov", AluOp::Mov}, {"arsh", AluOp::Arsh},
              {"sdiv", AluOp::SDiv}, {"smod", AluOp::SMod}};
  for (const auto& k : kOps)
    if (k.name == base) return k.op;
  return std::nullopt;
}

std::optional<JmpCond> jmp_cond(std::string_view base) {
  static constexpr struct {
    std::string_view name;
    JmpCond cond;
  } kConds[] = {{"jeq", JmpCond::Eq}, {"jgt", JmpCond::Gt},   {"jge", JmpCond::Ge},   {"jset", JmpCond::Set},
                {"jne", JmpCond::Ne}, {"jsgt", JmpCond::Sgt}, {"jsge", JmpCond::Sge}, {"jlt", JmpCond::Lt},
                {"jle", JmpCond::Le}, {"jslt", JmpCond::Slt}, {"jsle", JmpCond::Sle}};
  for (const auto& k : kConds)
    if (k.name == base) return k.cond;
  return std::nullopt;
}

// Width suffix of loads and stores: b, h, w, dw.
uint8_t size_suffix(std::string_view s) {
  if (s == "b") return 1;
  if (s == "h") return 2;
  if (s == "w") return 4;
  if (s == "dw") return 8;
  return 0;
}

// lock [fetch] add|and|or|xor[32] [mem], reg; lock xchg[32] ...; lock cmpxchg[32] ...
Parsed parse_lock(Cursor& c) {
  const Token lock = c.next();
  constexpr std::string_view kForm =
      "lock [fetch] add|and|or|xor[32] [%r10-8], %r1, lock xchg[32] [%r10-8], %r1 or lock cmpxchg[32] "
      "[%r10-8], %r1";
  const bool fetch = c.accept_ident("fetch");
  if (c.peek().kind != Tok::Ident)
    c.fail(lock.col,
           "invalid number of operands for lock: the operation is missing (" + std::string(kForm) + ")");
  const Token op_tok = c.next();
  auto [base, width] = split_width(op_tok.text);
  static constexpr struct {
    std::string_view name;
    AtomicOp op;
  } kOps[] = {{"add", AtomicOp::Add}, {"and", AtomicOp::And},   {"or", AtomicOp::Or},
              {"xor", AtomicOp::Xor}, {"xchg", AtomicOp::Xchg}, {"cmpxchg", AtomicOp::CmpXchg}};
  std::optional<AtomicOp> op;
  for (const auto& k : kOps)
    if (k.name == base) op = k.op;
  if (!op)
    c.fail(op_tok.col,
           "unknown atomic operation '" + std::string(op_tok.text) + "' (" + std::string(kForm) + ")");
  const std::string name = "lock " + std::string(fetch ? "fetch " : "") + std::string(op_tok.text);
  check_operands(c, lock, name, 2, name + " [%r10-8], %r1");
  Mem m = parse_mem(c);
  comma(c);
  Reg s = c.reg("a source register");
  c.expect_end(name + " [%r10-8], %r1");
  const bool always_fetch = *op == AtomicOp::Xchg || *op == AtomicOp::CmpXchg;
  return {Atomic{*op, fetch || always_fetch, uint8_t(width == 32 ? 4 : 8), m.base, m.off, s.num},
          std::nullopt};
}

}  // namespace

Parsed parse_ubpf(Cursor& c) {
  const Token m = c.peek();
  if (m.kind != Tok::Ident) {
    c.fail_here(
        "expected an instruction (a mnemonic such as mov, or a kernel-syntax statement such as r0 = 1), "
        "found " +
        Cursor::describe(m));
  }
  std::string lower(m.text);
  for (char& ch : lower) ch = char(std::tolower(uint8_t(ch)));
  const std::string_view name = lower;
  if (name == "call") return parse_call(c);
  if (name == "lock") return parse_lock(c);
  if (name.starts_with(".")) {
    c.fail(m.col, "unknown directive '" + std::string(m.text) +
                      "' (only instructions, labels and comments are accepted)");
  }
  c.next();
  if (name == "exit") {
    check_operands(c, m, name, 0, "exit");
    return {Exit{}, std::nullopt};
  }
  if (name == "ja" || name == "ja32") {
    const bool wide = name == "ja32";
    check_operands(c, m, name, 1, wide ? "ja32 LABEL" : "ja LABEL or ja +N");
    Target t = c.target("jump target");
    c.expect_end("ja LABEL");
    Ja ja{wide ? target32_of(c, t, "jump offset") : target16_of(c, t, "jump offset"), wide};
    return {ja, t.is_label ? std::optional(t) : std::nullopt};
  }
  if (name == "may_goto") {
    check_operands(c, m, name, 1, "may_goto LABEL or may_goto +N");
    Target t = c.target("jump target");
    c.expect_end("may_goto LABEL");
    Jump j{JmpCond::MayGoto, false, 0, Operand::Imm(0), target16_of(c, t, "jump offset")};
    return {j, t.is_label ? std::optional(t) : std::nullopt};
  }
  // Load-acquire and store-release (BPF_ATOMIC with imm 0x100 / 0x110).
  if (name.starts_with("ldacq") && size_suffix(name.substr(5)) != 0) {
    check_operands(c, m, name, 2, std::string(name) + " %r0, [%r1+8]");
    Reg d = c.reg("a destination register");
    comma(c);
    Mem mem = parse_mem(c);
    return {Load{size_suffix(name.substr(5)), false, d.num, mem.base, mem.off, true}, std::nullopt};
  }
  if (name.starts_with("strel") && size_suffix(name.substr(5)) != 0) {
    check_operands(c, m, name, 2, std::string(name) + " [%r1+8], %r2");
    Mem mem = parse_mem(c);
    comma(c);
    Reg s = c.reg("a source register");
    return {Store{size_suffix(name.substr(5)), mem.base, mem.off, Operand::Reg(s.num), true}, std::nullopt};
  }
  if (name == "lddw") {
    check_operands(c, m, name, 2, "lddw %r0, 0x123456789");
    Reg d = c.reg("a destination register");
    comma(c);
    Literal l = c.literal("a 64-bit immediate");
    c.expect_end("lddw %r0, 0x123456789");
    return {LoadImm64::Imm(d.num, imm64_of(c, l)), std::nullopt};
  }
  if (name == "neg" || name == "neg32" || name == "neg64") {
    check_operands(c, m, name, 1, std::string(name) + " %r1");
    Reg d = c.reg("a register");
    return {Neg{name != "neg32", d.num}, std::nullopt};
  }
  {
    static constexpr struct {
      std::string_view name;
      AluOp op;
      bool is64;
    } kMovsx[] = {{"movsx864", AluOp::MovSx8, true},
                  {"movsx1664", AluOp::MovSx16, true},
                  {"movsx3264", AluOp::MovSx32, true},
                  {"movsx832", AluOp::MovSx8, false},
                  {"movsx1632", AluOp::MovSx16, false}};
    for (const auto& k : kMovsx) {
      if (name != k.name) continue;
      check_operands(c, m, name, 2, std::string(name) + " %r1, %r2");
      Reg d = c.reg("a destination register");
      comma(c);
      Reg s = c.reg("a source register");
      return {Alu{k.op, k.is64, d.num, Operand::Reg(s.num)}, std::nullopt};
    }
  }
  {
    static constexpr struct {
      std::string_view prefix;
      EndianKind kind;
    } kSwaps[] = {{"le", EndianKind::ToLe},
                  {"be", EndianKind::ToBe},
                  {"bswap", EndianKind::Swap},
                  {"swap", EndianKind::Swap}};
    for (const auto& k : kSwaps) {
      if (!name.starts_with(k.prefix)) continue;
      const std::string_view bits = name.substr(k.prefix.size());
      if (bits != "16" && bits != "32" && bits != "64") continue;
      check_operands(c, m, name, 1, std::string(name) + " %r1");
      Reg d = c.reg("a register");
      return {Endian{k.kind, uint8_t(bits == "16" ? 16 : bits == "32" ? 32 : 64), d.num}, std::nullopt};
    }
  }
  if (name.starts_with("ldabs") || name.starts_with("ldind")) {
    const uint8_t size = size_suffix(name.substr(5));
    if (size != 0 && size != 8) {
      const bool ind = name.starts_with("ldind");
      const std::string form = std::string(name) + (ind ? " %r1, 4" : " 23");
      check_operands(c, m, name, ind ? 2 : 1, form);
      PacketLoad p{size, ind, 0, 0};
      if (ind) {
        p.src = c.reg("an index register").num;
        comma(c);
      }
      p.imm = imm32_of(c, c.literal("a packet offset"), "packet offset");
      c.expect_end(form);
      return {p, std::nullopt};
    }
  }
  if (name.starts_with("ldx")) {
    const bool sx = name.starts_with("ldxs") && name != "ldxs";
    const uint8_t size = size_suffix(name.substr(sx ? 4 : 3));
    if (size != 0) {
      if (sx && size == 8) c.fail(m.col, "there is no sign-extending 64-bit load: write ldxdw");
      check_operands(c, m, name, 2, std::string(name) + " %r0, [%r1+8]");
      Reg d = c.reg("a destination register");
      comma(c);
      Mem mem = parse_mem(c);
      return {Load{size, sx, d.num, mem.base, mem.off}, std::nullopt};
    }
  }
  if (name.starts_with("stx") && size_suffix(name.substr(3)) != 0) {
    check_operands(c, m, name, 2, std::string(name) + " [%r10-8], %r1");
    Mem mem = parse_mem(c);
    comma(c);
    Reg s = c.reg("a source register");
    return {Store{size_suffix(name.substr(3)), mem.base, mem.off, Operand::Reg(s.num)}, std::nullopt};
  }
  if (name.starts_with("st") && size_suffix(name.substr(2)) != 0) {
    check_operands(c, m, name, 2, std::string(name) + " [%r10-8], 5");
    Mem mem = parse_mem(c);
    comma(c);
    Literal v = c.literal("an immediate to store");
    return {
        Store{size_suffix(name.substr(2)), mem.base, mem.off, Operand::Imm(imm32_of(c, v, "stored value"))},
        std::nullopt};
  }
  auto [base, width] = split_width(name);
  if (auto op = alu_op(base)) {
    check_operands(c, m, name, 2, std::string(name) + " %r1, %r2 or " + std::string(name) + " %r1, 5");
    Reg d = c.reg("a destination register");
    comma(c);
    Operand s = parse_reg_or_imm(c);
    return {Alu{*op, width != 32, d.num, s}, std::nullopt};
  }
  if (auto cond = jmp_cond(base); cond && width != 64) {
    check_operands(c, m, name, 3,
                   std::string(name) + " %r1, %r2, LABEL or " + std::string(name) + " %r1, 5, +2");
    Reg d = c.reg("a register to compare");
    comma(c);
    Operand s = parse_reg_or_imm(c);
    comma(c);
    Target t = c.target("jump target");
    c.expect_end(std::string(name) + " %r1, 5, LABEL");
    Jump j{*cond, width == 32, d.num, s, target16_of(c, t, "jump offset")};
    return {j, t.is_label ? std::optional(t) : std::nullopt};
  }
  c.fail(m.col, "unknown mnemonic '" + std::string(m.text) + "'");
}

}  // namespace bpfkit::isa::asm_detail
