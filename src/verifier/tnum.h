// Tracked numbers: the verifier's bit-level knowledge of a 64-bit value.
//
// A Tnum is a pair (value; mask): a bit set in `mask` is unknown, any other bit
// is known and equals the bit of `value` (value & mask is always 0). The
// operations below follow the Linux kernel's kernel/bpf/tnum.c (6.18) exactly,
// so that bpfkit's verifier proves what the kernel proves, no more and no less.
#pragma once

#include <cstdint>
#include <string>

namespace bpfkit::verifier {

struct Tnum {
  uint64_t value = 0;
  uint64_t mask = ~0ull;  // default: nothing known

  static Tnum constant(uint64_t v) { return {v, 0}; }
  static Tnum unknown() { return {0, ~0ull}; }
  // The smallest tnum holding every value of [min, max] (unsigned).
  static Tnum range(uint64_t min, uint64_t max);

  bool is_const() const { return mask == 0; }
  bool is_unknown() const { return mask == ~0ull; }
  // Every value `other` can hold is one this can hold (the kernel's tnum_in).
  bool contains(Tnum other) const;
  bool contains(uint64_t v) const { return (v & ~mask) == value; }
  uint64_t min() const { return value; }
  uint64_t max() const { return value | mask; }

  friend bool operator==(const Tnum&, const Tnum&) = default;
  // As the kernel log prints var_off: "(0x0; 0xff)"; a constant as a number.
  std::string to_string() const;
};

Tnum tnum_add(Tnum a, Tnum b);
Tnum tnum_sub(Tnum a, Tnum b);
Tnum tnum_neg(Tnum a);
Tnum tnum_mul(Tnum a, Tnum b);
Tnum tnum_and(Tnum a, Tnum b);
Tnum tnum_or(Tnum a, Tnum b);
Tnum tnum_xor(Tnum a, Tnum b);
Tnum tnum_lshift(Tnum a, uint8_t shift);
Tnum tnum_rshift(Tnum a, uint8_t shift);
// Arithmetic shift right of the low `insn_bitness` (32 or 64) bits; a 32-bit
// result is zero-extended.
Tnum tnum_arshift(Tnum a, uint8_t min_shift, uint8_t insn_bitness);
Tnum tnum_bswap16(Tnum a);  // the low 16 bits byte-swapped, upper bits cleared
Tnum tnum_bswap32(Tnum a);
Tnum tnum_bswap64(Tnum a);
// Values both a and b can hold (meet). Undefined when they share none.
Tnum tnum_intersect(Tnum a, Tnum b);
// Values a or b can hold (join).
Tnum tnum_union(Tnum a, Tnum b);
// Whether some value is held by both (their known bits agree).
bool tnum_overlap(Tnum a, Tnum b);
// The low `size_bytes` bytes only (upper bits known zero); 8 or more: unchanged.
Tnum tnum_cast(Tnum a, uint32_t size_bytes);
Tnum tnum_subreg(Tnum a);        // the low 32 bits
Tnum tnum_clear_subreg(Tnum a);  // the low 32 bits known zero
Tnum tnum_with_subreg(Tnum reg, Tnum subreg);
Tnum tnum_const_subreg(Tnum a, uint32_t value);
inline bool tnum_subreg_is_const(Tnum a) { return tnum_subreg(a).is_const(); }
// The smallest member of `t` greater than `z`; t.max() when z >= t.max(), t.min()
// when z < t.min() (the kernel's tnum_step).
uint64_t tnum_step(Tnum t, uint64_t z);
// Known to be a multiple of `size` (a power of two; 0 means any).
bool tnum_is_aligned(Tnum a, uint64_t size);

}  // namespace bpfkit::verifier
