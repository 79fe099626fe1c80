// The kernel / llvm-objdump syntax: C-like statements over r (64-bit) and w (32-bit)
// registers, as LLVM's BPF backend prints and accepts them.
#include "isa/assembler_parse.h"

namespace bpfkit::isa::asm_detail {
namespace {

struct SizeCast {
  uint8_t size = 8;
  bool is_signed = false;
  int col = 0;
};

// "(u32 *)": the pointer cast in front of a memory operand.
SizeCast parse_cast(Cursor& c, std::string_view context) {
  c.expect_punct("(", context);
  const Token& t = c.peek();
  static constexpr struct {
    std::string_view name;
    uint8_t size;
    bool is_signed;
  } kCasts[] = {{"u8", 1, false}, {"u16", 2, false}, {"u32", 4, false}, {"u64", 8, false},
                {"s8", 1, true},  {"s16", 2, true},  {"s32", 4, true},  {"s64", 8, true}};
  for (const auto& k : kCasts) {
    if (t.kind == Tok::Ident && t.text == k.name) {
      c.next();
      c.expect_punct("*", "after the size of a pointer cast like (u32 *)");
      c.expect_punct(")", "to close the pointer cast");
      return {k.size, k.is_signed, t.col};
    }
  }
  c.fail_here("expected a size (u8, u16, u32, u64, or s8, s16, s32 for sign-extending loads), found " +
              Cursor::describe(t));
}

struct Address {
  uint8_t base = 0;
  int16_t off = 0;
};

// "r1 + 4", "r10 - 8" or "r1", without the parentheses.
Address parse_address_inner(Cursor& c) {
  Reg b = c.reg("a base register");
  if (b.w) c.fail(b.col, "an address base must be a 64-bit register: write r" + std::to_string(b.num));
  Address a{b.num, 0};
  if (c.is_punct("+") || c.is_punct("-")) a.off = off16_of(c, c.literal("an offset"), "offset");
  return a;
}

Address parse_address(Cursor& c) {
  c.expect_punct("(", "before the address (base + offset)");
  Address a = parse_address_inner(c);
  c.expect_punct(")", "after the address");
  return a;
}

// The second operand of ALU and jumps: a register of the same width, or an immediate.
Operand parse_src(Cursor& c, const Reg& dst) {
  if (c.at_reg()) {
    Reg s = c.reg("a source register");
    if (s.w != dst.w) {
      c.fail(s.col, std::string("register widths differ: the destination is ") + (dst.w ? "w" : "r") +
                        std::to_string(dst.num) + ", so write " + (dst.w ? "w" : "r") +
                        std::to_string(s.num) + " (w registers for 32-bit operations, r for 64-bit)");
    }
    return Operand::Reg(s.num);
  }
  if (c.at_literal()) return Operand::Imm(imm32_of(c, c.literal("an immediate"), "immediate"));
  c.fail_here("expected a register or an immediate, found " + Cursor::describe(c.peek()));
}

std::string reg_name(const Reg& r) { return (r.w ? "w" : "r") + std::to_string(r.num); }

void require_64(const Cursor& c, const Reg& r, std::string_view what) {
  if (r.w) c.fail(r.col, std::string(what) + " needs a 64-bit register: write r" + std::to_string(r.num));
}

std::optional<AluOp> compound_op(std::string_view p, bool is_signed) {
  if (is_signed) {
    if (p == "/=") return AluOp::SDiv;
    if (p == "%=") return AluOp::SMod;
    if (p == ">>=") return AluOp::Arsh;
    return std::nullopt;
  }
  static constexpr struct {
    std::string_view p;
    AluOp op;
  } kOps[] = {{"+=", AluOp::Add},  {"-=", AluOp::Sub}, {"*=", AluOp::Mul}, {"/=", AluOp::Div},
              {"%=", AluOp::Mod},  {"|=", AluOp::Or},  {"&=", AluOp::And}, {"^=", AluOp::Xor},
              {"<<=", AluOp::Lsh}, {">>=", AluOp::Rsh}};
  for (const auto& k : kOps)
    if (k.p == p) return k.op;
  return std::nullopt;
}

// dst = cmpxchg_64(r1 + 0, r0, r2), dst = xchg_64(r1 + 0, r2) and their 32-bit forms.
Parsed parse_xchg(Cursor& c, const Reg& dst, std::string_view fn, bool cmp, uint8_t size) {
  c.next();
  c.expect_punct("(", "after " + std::string(fn));
  Address a = parse_address_inner(c);
  c.expect_punct(",", "after the address");
  const std::string d = size == 8 ? "r" : "w", f(fn);
  const std::string form =
      cmp ? d + "0 = " + f + "(r1 + 0, " + d + "0, " + d + "2)" : d + "2 = " + f + "(r1 + 0, " + d + "2)";
  if (cmp) {
    Reg r0 = c.reg("r0");
    if (r0.num != 0) c.fail(r0.col, "cmpxchg always compares with r0: write " + form);
    c.expect_punct(",", "after r0");
  }
  Reg s = c.reg("the source register");
  c.expect_punct(")", "to close " + std::string(fn) + "(...)");
  c.expect_end(form);
  if (cmp ? dst.num != 0 : dst.num != s.num) {
    const char* why =
        cmp ? "cmpxchg returns the old value in r0" : "xchg returns the old value in its source register";
    c.fail(dst.col, std::string(why) + ": write " + form);
  }
  return {Atomic{cmp ? AtomicOp::CmpXchg : AtomicOp::Xchg, true, size, a.base, a.off, s.num}, std::nullopt};
}

// w0 = load_acquire((u8 *)(r1 + 0)), r0 = load_acquire((u64 *)(r1 + 0))
Parsed parse_load_acquire(Cursor& c, const Reg& dst) {
  c.next();
  c.expect_punct("(", "after load_acquire");
  SizeCast cast = parse_cast(c, "before the address, as in (u64 *)");
  if (cast.is_signed) c.fail(cast.col, "load_acquire zero-extends: use (u8 *), (u16 *), (u32 *) or (u64 *)");
  Address a = parse_address(c);
  c.expect_punct(")", "to close load_acquire(...)");
  c.expect_end("r0 = load_acquire((u64 *)(r1 + 0))");
  return {Load{cast.size, false, dst.num, a.base, a.off, true}, std::nullopt};
}

// store_release((u64 *)(r1 + 0), r2)
Parsed parse_store_release(Cursor& c) {
  c.next();
  c.expect_punct("(", "after store_release");
  SizeCast cast = parse_cast(c, "before the address, as in (u64 *)");
  if (cast.is_signed) c.fail(cast.col, "stores take unsigned sizes: (u8 *), (u16 *), (u32 *) or (u64 *)");
  Address a = parse_address(c);
  c.expect_punct(",", "after the address");
  Reg s = c.reg("the register to store");
  c.expect_punct(")", "to close store_release(...)");
  c.expect_end("store_release((u64 *)(r1 + 0), r2)");
  return {Store{cast.size, a.base, a.off, Operand::Reg(s.num), true}, std::nullopt};
}

// dst = atomic_fetch_add((u64 *)(r1 + 0), dst)
Parsed parse_fetch(Cursor& c, const Reg& dst, AtomicOp op, std::string_view fn) {
  c.next();
  c.expect_punct("(", "after " + std::string(fn));
  SizeCast cast = parse_cast(c, "before the address, as in (u64 *)");
  if (cast.is_signed || cast.size < 4) c.fail(cast.col, "atomic operations take (u32 *) or (u64 *)");
  Address a = parse_address(c);
  c.expect_punct(",", "after the address");
  Reg s = c.reg("the source register");
  c.expect_punct(")", "to close " + std::string(fn) + "(...)");
  const std::string form = "r2 = " + std::string(fn) + "((u64 *)(r1 + 0), r2)";
  c.expect_end(form);
  if (s.num != dst.num)
    c.fail(dst.col, std::string(fn) + " returns the old value in its source register: write " + form);
  return {Atomic{op, true, cast.size, a.base, a.off, s.num}, std::nullopt};
}

// r1 = map_fd(3) ll, map_value(3, 16), map_idx(0), map_idx_value(0, 8), btf_id(7), func(+5) / func(label).
// Forms with one argument take an optional second one: the second slot's imm.
Parsed parse_pseudo(Cursor& c, const Reg& dst, Pseudo kind, std::string_view fn) {
  const bool two_args = kind == Pseudo::MapValue || kind == Pseudo::MapIdxValue;
  const std::string form = "r1 = " + std::string(fn) + (two_args ? "(N, OFFSET) ll" : "(N) ll");
  require_64(c, dst, "a 64-bit load (lddw)");
  c.next();
  c.expect_punct("(", "after " + std::string(fn));
  LoadImm64 l{dst.num, kind, 0, 0};
  std::optional<Target> target;
  if (kind == Pseudo::Func) {
    Target t = c.target("function offset");
    l.imm_lo = target32_of(c, t, "function offset");
    if (t.is_label) target = t;
  } else {
    l.imm_lo = imm32_of(c, c.literal("a number"), "value");
  }
  if (c.accept_punct(","))
    l.imm_hi = imm32_of(c, c.literal("a second number"), "value");
  else if (two_args)
    c.fail_here("expected ',' and an offset: " + form);
  c.expect_punct(")", "to close " + std::string(fn) + "(...)");
  c.accept_ident("ll");
  c.expect_end(form);
  return {l, target};
}

// Everything of the form `rN = ...`.
Parsed parse_assign_rhs(Cursor& c, const Reg& dst) {
  const bool is64 = !dst.w;
  // Negation: r1 = -r1.
  if (c.is_punct("-") && c.at_reg(1)) {
    c.next();
    Reg s = c.reg("a register");
    if (s.num != dst.num || s.w != dst.w)
      c.fail(s.col, "neg works in place: write " + reg_name(dst) + " = -" + reg_name(dst));
    c.expect_end("r1 = -r1");
    return {Neg{is64, dst.num}, std::nullopt};
  }
  // Immediates: r1 = 5, r1 = 0x123456789 ll.
  if (c.at_literal()) {
    Literal l = c.literal("an immediate");
    if (c.accept_ident("ll")) {
      require_64(c, dst, "a 64-bit load (lddw)");
      c.expect_end("r1 = 0x123456789 ll");
      return {LoadImm64::Imm(dst.num, imm64_of(c, l)), std::nullopt};
    }
    if (!fits_imm32(l) && !dst.w)
      c.fail(l.col, "immediate " + l.text + " does not fit in 32 bits; write '" + reg_name(dst) + " = " +
                        l.text + " ll' for a 64-bit load");
    Operand imm = Operand::Imm(imm32_of(c, l, "immediate"));
    c.expect_end("r1 = 5");
    return {Alu{AluOp::Mov, is64, dst.num, imm}, std::nullopt};
  }
  // Register moves, plain or sign-extending: r1 = r2, r1 = (s8)r2.
  if (c.at_reg()) {
    Operand s = parse_src(c, dst);
    c.expect_end("r1 = r2");
    return {Alu{AluOp::Mov, is64, dst.num, s}, std::nullopt};
  }
  if (c.is_punct("(") && c.peek(1).kind == Tok::Ident && c.is_punct(")", 2)) {
    const Token& cast = c.peek(1);
    AluOp op;
    if (cast.text == "s8")
      op = AluOp::MovSx8;
    else if (cast.text == "s16")
      op = AluOp::MovSx16;
    else if (cast.text == "s32")
      op = AluOp::MovSx32;
    else
      c.fail(cast.col, "only sign-extending casts (s8), (s16) and (s32) exist for register moves, not (" +
                           std::string(cast.text) + ")");
    if (op == AluOp::MovSx32 && dst.w)
      c.fail(cast.col, "(s32) sign-extends into 64 bits: write r" + std::to_string(dst.num) + " = (s32)rN");
    c.next(), c.next(), c.next();
    if (!c.at_reg()) c.fail_here("expected a register after the cast, found " + Cursor::describe(c.peek()));
    Operand s = parse_src(c, dst);
    c.expect_end("r1 = (s8)r2");
    return {Alu{op, is64, dst.num, s}, std::nullopt};
  }
  // Loads: r0 = *(u32 *)(r1 + 4), r0 = *(s16 *)(r1 - 2), r0 = *(u8 *)skb[23].
  if (c.accept_punct("*")) {
    SizeCast cast = parse_cast(c, "after '*', as in *(u32 *)");
    if (c.accept_ident("skb")) {
      if (dst.num != 0 || dst.w) c.fail(dst.col, "legacy packet loads always write r0: r0 = *(u8 *)skb[...]");
      if (cast.is_signed || cast.size == 8) c.fail(cast.col, "packet loads take (u8 *), (u16 *) or (u32 *)");
      c.expect_punct("[", "after skb");
      PacketLoad p{cast.size, false, 0, 0};
      if (c.at_reg()) {
        Reg s = c.reg("an index register");
        p.indirect = true;
        p.src = s.num;
        if (c.is_punct("+") || c.is_punct("-")) p.imm = imm32_of(c, c.literal("an offset"), "offset");
      } else {
        p.imm = imm32_of(c, c.literal("a packet offset"), "packet offset");
      }
      c.expect_punct("]", "to close skb[...]");
      c.expect_end("r0 = *(u8 *)skb[23] or r0 = *(u8 *)skb[r1 + 4]");
      return {p, std::nullopt};
    }
    Address a = parse_address(c);
    if (cast.is_signed && cast.size == 8)
      c.fail(cast.col, "there is no sign-extending 64-bit load: write (u64 *)");
    if (dst.w && cast.size == 8) c.fail(dst.col, "a 64-bit load needs an r register");
    c.expect_end("r0 = *(u32 *)(r1 + 4)");
    return {Load{cast.size, cast.is_signed, dst.num, a.base, a.off}, std::nullopt};
  }
  if (c.peek().kind == Tok::Ident) {
    const std::string_view fn = c.peek().text;
    const int col = c.peek().col;
    // Byte swaps: r1 = be16 r1, r1 = le32 r1, r1 = bswap64 r1.
    static constexpr struct {
      std::string_view name;
      EndianKind kind;
      uint8_t bits;
    } kSwaps[] = {{"le16", EndianKind::ToLe, 16},    {"le32", EndianKind::ToLe, 32},
                  {"le64", EndianKind::ToLe, 64},    {"be16", EndianKind::ToBe, 16},
                  {"be32", EndianKind::ToBe, 32},    {"be64", EndianKind::ToBe, 64},
                  {"bswap16", EndianKind::Swap, 16}, {"bswap32", EndianKind::Swap, 32},
                  {"bswap64", EndianKind::Swap, 64}};
    for (const auto& k : kSwaps) {
      if (fn != k.name) continue;
      c.next();
      Reg s = c.reg("a register");
      if (s.num != dst.num)
        c.fail(s.col, "byte swaps work in place: write r" + std::to_string(dst.num) + " = " +
                          std::string(fn) + " r" + std::to_string(dst.num));
      c.expect_end("r1 = be16 r1");
      return {Endian{k.kind, k.bits, dst.num}, std::nullopt};
    }
    if (c.is_punct("(", 1)) {
      static constexpr struct {
        std::string_view name;
        Pseudo kind;
      } kPseudos[] = {{"map_fd", Pseudo::MapFd},   {"map_value", Pseudo::MapValue},
                      {"btf_id", Pseudo::BtfId},   {"func", Pseudo::Func},
                      {"map_idx", Pseudo::MapIdx}, {"map_idx_value", Pseudo::MapIdxValue}};
      for (const auto& k : kPseudos)
        if (fn == k.name) return parse_pseudo(c, dst, k.kind, fn);
      static constexpr struct {
        std::string_view name;
        AtomicOp op;
      } kFetches[] = {{"atomic_fetch_add", AtomicOp::Add},
                      {"atomic_fetch_or", AtomicOp::Or},
                      {"atomic_fetch_and", AtomicOp::And},
                      {"atomic_fetch_xor", AtomicOp::Xor}};
      for (const auto& k : kFetches)
        if (fn == k.name) return parse_fetch(c, dst, k.op, fn);
      if (fn == "load_acquire") return parse_load_acquire(c, dst);
      if (fn == "xchg_64") return parse_xchg(c, dst, fn, false, 8);
      if (fn == "xchg32_32") return parse_xchg(c, dst, fn, false, 4);
      if (fn == "cmpxchg_64") return parse_xchg(c, dst, fn, true, 8);
      if (fn == "cmpxchg32_32") return parse_xchg(c, dst, fn, true, 4);
      c.fail(col,
             "unknown function '" + std::string(fn) +
                 "' (known: map_fd, map_value, map_idx, map_idx_value, btf_id, func, atomic_fetch_add/and/or/"
                 "xor, xchg_64, xchg32_32, cmpxchg_64, cmpxchg32_32, load_acquire)");
    }
  }
  c.fail_here(
      "unexpected " + Cursor::describe(c.peek()) +
      " after '=' (expected a register, an immediate, -reg, (s8)reg, *(u32 *)(...), be16/le16/bswap16 reg, "
      "map_fd(N) ll or an atomic)");
}

Parsed parse_assign(Cursor& c) {
  Reg dst = c.reg("a destination register");
  // s/=, s%=, s>>=: the 's' lexes as an identifier of its own.
  const bool is_signed = c.is_ident("s") && c.peek(1).kind == Tok::Punct;
  const Token& op_tok = c.peek(is_signed ? 1 : 0);
  if (op_tok.kind == Tok::Punct) {
    if (auto op = compound_op(op_tok.text, is_signed)) {
      c.next();
      if (is_signed) c.next();
      Operand s = parse_src(c, dst);
      c.expect_end("r1 += r2 or r1 += 5");
      return {Alu{*op, !dst.w, dst.num, s}, std::nullopt};
    }
  }
  if (!c.accept_punct("=")) {
    c.fail_here("expected an assignment after " + reg_name(dst) +
                " (=, +=, -=, *=, /=, s/=, %=, s%=, |=, &=, ^=, <<=, >>=, s>>=), found " +
                Cursor::describe(c.peek()));
  }
  return parse_assign_rhs(c, dst);
}

// *(u64 *)(r10 - 8) = r1, *(u32 *)(r10 - 4) = 5
Parsed parse_store(Cursor& c) {
  c.next();  // '*'
  SizeCast cast = parse_cast(c, "after '*', as in *(u64 *)");
  if (cast.is_signed) c.fail(cast.col, "stores take unsigned sizes: (u8 *), (u16 *), (u32 *) or (u64 *)");
  Address a = parse_address(c);
  if (c.peek().kind == Tok::Punct && c.peek().text != "=" && c.peek().text.ends_with("=")) {
    c.fail_here("read-modify-write on memory is atomic and needs the lock prefix: lock *(u64 *)(r1 + 0) " +
                std::string(c.peek().text) + " r2");
  }
  c.expect_punct("=", "after the memory operand");
  Store s{cast.size, a.base, a.off, {}};
  if (c.at_reg())
    s.value = Operand::Reg(c.reg("a source register").num);
  else if (c.at_literal())
    s.value = Operand::Imm(imm32_of(c, c.literal("a value"), "stored value"));
  else
    c.fail_here("expected a register or an immediate to store, found " + Cursor::describe(c.peek()));
  c.expect_end("*(u64 *)(r10 - 8) = r1");
  return {s, std::nullopt};
}

// lock *(u64 *)(r1 + 0) += r2 (also |=, &=, ^=)
Parsed parse_lock(Cursor& c) {
  c.next();  // lock
  c.expect_punct("*", "after lock, as in lock *(u64 *)(r1 + 0) += r2");
  SizeCast cast = parse_cast(c, "after '*', as in *(u64 *)");
  if (cast.is_signed || cast.size < 4) c.fail(cast.col, "atomic operations take (u32 *) or (u64 *)");
  Address a = parse_address(c);
  AtomicOp op;
  if (c.accept_punct("+="))
    op = AtomicOp::Add;
  else if (c.accept_punct("|="))
    op = AtomicOp::Or;
  else if (c.accept_punct("&="))
    op = AtomicOp::And;
  else if (c.accept_punct("^="))
    op = AtomicOp::Xor;
  else
    c.fail_here(
        "lock takes +=, |=, &= or ^= (atomic_fetch_*, xchg_64 and cmpxchg_64 cover the rest), found " +
        Cursor::describe(c.peek()));
  Reg s = c.reg("a source register");
  c.expect_end("lock *(u64 *)(r1 + 0) += r2");
  return {Atomic{op, false, cast.size, a.base, a.off, s.num}, std::nullopt};
}

// if r1 > 5 goto +2, if w1 s<= w2 goto label
Parsed parse_if(Cursor& c) {
  c.next();  // if
  Reg a = c.reg("a register to compare");
  const bool is_signed = c.is_ident("s") && c.peek(1).kind == Tok::Punct;
  if (is_signed) c.next();
  const Token& op = c.peek();
  static constexpr struct {
    std::string_view p;
    JmpCond plain;
    std::optional<JmpCond> sign;
  } kConds[] = {{"==", JmpCond::Eq, std::nullopt}, {"!=", JmpCond::Ne, std::nullopt},
                {">", JmpCond::Gt, JmpCond::Sgt},  {">=", JmpCond::Ge, JmpCond::Sge},
                {"<", JmpCond::Lt, JmpCond::Slt},  {"<=", JmpCond::Le, JmpCond::Sle},
                {"&", JmpCond::Set, std::nullopt}};
  std::optional<JmpCond> cond;
  if (op.kind == Tok::Punct)
    for (const auto& k : kConds)
      if (op.text == k.p) cond = is_signed ? k.sign : std::optional(k.plain);
  if (!cond) {
    c.fail_here("expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &), found " +
                Cursor::describe(op));
  }
  c.next();
  Operand src = parse_src(c, a);
  c.expect_ident("goto", "after the condition");
  Target t = c.target("jump offset");
  c.expect_end("if r1 > 5 goto +2");
  Jump j{*cond, a.w, a.num, src, target16_of(c, t, "jump offset")};
  return {j, t.is_label ? std::optional(t) : std::nullopt};
}

}  // namespace

bool is_kernel_syntax(const Cursor& c) {
  const Token& t = c.peek();
  if (t.kind == Tok::Punct) return t.text == "*";
  if (t.kind != Tok::Ident) return false;
  if (t.text == "if" || t.text == "goto" || t.text == "gotol" || t.text == "callx" || t.text == "may_goto")
    return true;
  if (t.text == "store_release") return c.is_punct("(", 1);
  if (t.text == "lock") return c.is_punct("*", 1);
  if (c.at_reg()) return true;
  // "foo = 1", "foo += 1": an assignment to something that is not a register.
  const Token& t1 = c.peek(1);
  return t1.kind == Tok::Punct && t1.text.ends_with("=") && t1.text != "==" && t1.text != "!=" &&
         t1.text != "<=" && t1.text != ">=";
}

Parsed parse_kernel(Cursor& c) {
  const Token& t = c.peek();
  if (c.is_punct("*")) return parse_store(c);
  if (t.kind == Tok::Ident) {
    if (t.text == "lock") return parse_lock(c);
    if (t.text == "if") return parse_if(c);
    if (t.text == "goto" || t.text == "gotol") {
      const bool wide = t.text == "gotol";
      c.next();
      Target target = c.target("jump offset");
      c.expect_end(wide ? "gotol +N" : "goto +N");
      Ja ja{wide ? target32_of(c, target, "jump offset") : target16_of(c, target, "jump offset"), wide};
      return {ja, target.is_label ? std::optional(target) : std::nullopt};
    }
    if (t.text == "may_goto") {
      c.next();
      Target target = c.target("jump offset");
      c.expect_end("may_goto +N");
      Jump j{JmpCond::MayGoto, false, 0, Operand::Imm(0), target16_of(c, target, "jump offset")};
      return {j, target.is_label ? std::optional(target) : std::nullopt};
    }
    if (t.text == "store_release") return parse_store_release(c);
    if (t.text == "call" || t.text == "callx") return parse_call(c);
    if (t.text == "exit") {
      c.next();
      c.expect_end("exit");
      return {Exit{}, std::nullopt};
    }
    if (c.at_reg()) return parse_assign(c);
  }
  c.fail_here("expected a register before the assignment, found " + Cursor::describe(t) +
              " (registers are r0-r10 and w0-w10)");
}

}  // namespace bpfkit::isa::asm_detail
