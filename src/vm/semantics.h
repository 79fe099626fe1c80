// The meaning of each ALU, byte-swap and jump operation, as RFC 9669 and the
// Linux kernel define it, in one place: the interpreter runs these functions and
// the JIT may use them to fold constants or to check its own code against them.
//
// Corner cases that hardware would trap on are defined here instead:
//  - unsigned and signed division by zero give 0; modulo by zero leaves the
//    dividend (on 32 bits: truncated to 32 bits and zero-extended);
//  - signed INT_MIN / -1 gives INT_MIN and INT_MIN % -1 gives 0;
//  - shift amounts are masked to the operand width (63 or 31);
//  - every 32-bit result is zero-extended into the 64-bit register.
#pragma once

#include <cstdint>

#include "isa/instruction.h"

namespace bpfkit::vm::sem {

// Second operand of a 64-bit operation given as an immediate: sign-extended.
constexpr uint64_t imm64(int32_t imm) { return uint64_t(int64_t(imm)); }

constexpr uint64_t div64(uint64_t a, uint64_t b) { return b ? a / b : 0; }
constexpr uint64_t mod64(uint64_t a, uint64_t b) { return b ? a % b : a; }
constexpr uint32_t div32(uint32_t a, uint32_t b) { return b ? a / b : 0; }
constexpr uint32_t mod32(uint32_t a, uint32_t b) { return b ? a % b : a; }

// Signed division: -1 is handled as negation so that INT_MIN / -1 wraps.
constexpr uint64_t sdiv64(uint64_t a, uint64_t b) {
  if (b == 0) return 0;
  if (int64_t(b) == -1) return 0 - a;
  return uint64_t(int64_t(a) / int64_t(b));
}
constexpr uint64_t smod64(uint64_t a, uint64_t b) {
  if (b == 0) return a;
  if (int64_t(b) == -1) return 0;
  return uint64_t(int64_t(a) % int64_t(b));
}
constexpr uint32_t sdiv32(uint32_t a, uint32_t b) {
  if (b == 0) return 0;
  if (int32_t(b) == -1) return 0 - a;
  return uint32_t(int32_t(a) / int32_t(b));
}
constexpr uint32_t smod32(uint32_t a, uint32_t b) {
  if (b == 0) return a;
  if (int32_t(b) == -1) return 0;
  return uint32_t(int32_t(a) % int32_t(b));
}

constexpr uint64_t lsh64(uint64_t a, uint64_t b) { return a << (b & 63); }
constexpr uint64_t rsh64(uint64_t a, uint64_t b) { return a >> (b & 63); }
constexpr uint64_t arsh64(uint64_t a, uint64_t b) { return uint64_t(int64_t(a) >> (b & 63)); }
constexpr uint32_t lsh32(uint32_t a, uint32_t b) { return a << (b & 31); }
constexpr uint32_t rsh32(uint32_t a, uint32_t b) { return a >> (b & 31); }
constexpr uint32_t arsh32(uint32_t a, uint32_t b) { return uint32_t(int32_t(a) >> (b & 31)); }

// dst OP src on 64 bits. For an immediate operand pass imm64(imm).
constexpr uint64_t alu64(isa::AluOp op, uint64_t a, uint64_t b) {
  using isa::AluOp;
  switch (op) {
    case AluOp::Add: return a + b;
    case AluOp::Sub: return a - b;
    case AluOp::Mul: return a * b;
    case AluOp::Div: return div64(a, b);
    case AluOp::SDiv: return sdiv64(a, b);
    case AluOp::Or: return a | b;
    case AluOp::And: return a & b;
    case AluOp::Lsh: return lsh64(a, b);
    case AluOp::Rsh: return rsh64(a, b);
    case AluOp::Mod: return mod64(a, b);
    case AluOp::SMod: return smod64(a, b);
    case AluOp::Xor: return a ^ b;
    case AluOp::Mov: return b;
    case AluOp::Arsh: return arsh64(a, b);
    case AluOp::MovSx8: return uint64_t(int64_t(int8_t(b)));
    case AluOp::MovSx16: return uint64_t(int64_t(int16_t(b)));
    case AluOp::MovSx32: return uint64_t(int64_t(int32_t(b)));
  }
  return 0;
}

// dst OP src on the low 32 bits; the result is zero-extended.
constexpr uint64_t alu32(isa::AluOp op, uint64_t dst, uint64_t src) {
  using isa::AluOp;
  const uint32_t a = uint32_t(dst), b = uint32_t(src);
  switch (op) {
    case AluOp::Add: return uint32_t(a + b);
    case AluOp::Sub: return uint32_t(a - b);
    case AluOp::Mul: return uint32_t(a * b);
    case AluOp::Div: return div32(a, b);
    case AluOp::SDiv: return sdiv32(a, b);
    case AluOp::Or: return a | b;
    case AluOp::And: return a & b;
    case AluOp::Lsh: return lsh32(a, b);
    case AluOp::Rsh: return rsh32(a, b);
    case AluOp::Mod: return mod32(a, b);
    case AluOp::SMod: return smod32(a, b);
    case AluOp::Xor: return a ^ b;
    case AluOp::Mov: return b;
    case AluOp::Arsh: return arsh32(a, b);
    case AluOp::MovSx8: return uint32_t(int32_t(int8_t(b)));
    case AluOp::MovSx16: return uint32_t(int32_t(int16_t(b)));
    case AluOp::MovSx32: return b;  // does not exist on 32 bits; a plain mov
  }
  return 0;
}

constexpr uint64_t alu(isa::AluOp op, bool is64, uint64_t dst, uint64_t src) {
  return is64 ? alu64(op, dst, src) : alu32(op, dst, src);
}

constexpr uint64_t neg(bool is64, uint64_t v) { return is64 ? 0 - v : uint32_t(0 - uint32_t(v)); }

constexpr uint16_t bswap16(uint16_t v) { return uint16_t((v >> 8) | (v << 8)); }
constexpr uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
constexpr uint64_t bswap64(uint64_t v) { return __builtin_bswap64(v); }

// le/be/bswap of `bits` (16, 32, 64) on a little-endian host: "to little endian"
// only truncates; "to big endian" and bswap swap. Results are zero-extended.
constexpr uint64_t endian(isa::EndianKind kind, int bits, uint64_t v) {
  const bool swap = kind != isa::EndianKind::ToLe;
  switch (bits) {
    case 16: return swap ? bswap16(uint16_t(v)) : uint16_t(v);
    case 32: return swap ? bswap32(uint32_t(v)) : uint32_t(v);
    default: return swap ? bswap64(v) : v;
  }
}

// Whether a conditional jump is taken. 32-bit jumps compare the low halves.
// For an immediate operand pass imm64(imm).
constexpr bool jump_taken(isa::JmpCond cond, bool is32, uint64_t dst, uint64_t src) {
  using isa::JmpCond;
  const uint64_t a = is32 ? uint32_t(dst) : dst, b = is32 ? uint32_t(src) : src;
  const int64_t sa = is32 ? int32_t(dst) : int64_t(dst), sb = is32 ? int32_t(src) : int64_t(src);
  switch (cond) {
    case JmpCond::Eq: return a == b;
    case JmpCond::Gt: return a > b;
    case JmpCond::Ge: return a >= b;
    case JmpCond::Set: return (a & b) != 0;
    case JmpCond::Ne: return a != b;
    case JmpCond::Sgt: return sa > sb;
    case JmpCond::Sge: return sa >= sb;
    case JmpCond::Lt: return a < b;
    case JmpCond::Le: return a <= b;
    case JmpCond::Slt: return sa < sb;
    case JmpCond::Sle: return sa <= sb;
    case JmpCond::MayGoto: return false;  // not a comparison: the engines count it down
  }
  return false;
}

}  // namespace bpfkit::vm::sem
