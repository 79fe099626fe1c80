// Tnum arithmetic, following kernel/bpf/tnum.c so results are bit-for-bit the
// kernel's. Every function is sound: each concrete result of the operation on
// members of the inputs is a member of the output.
#include "verifier/tnum.h"

#include <bit>
#include <cstdio>

namespace bpfkit::verifier {

Tnum Tnum::range(uint64_t min, uint64_t max) {
  const uint64_t differing = min ^ max;
  const int bits = differing == 0 ? 0 : 64 - std::countl_zero(differing);
  // The kernel gives up when the highest differing bit is bit 63.
  if (bits > 63) return unknown();
  const uint64_t low = (uint64_t(1) << bits) - 1;
  return {min & ~low, low};
}

bool Tnum::contains(Tnum other) const {
  if (other.mask & ~mask) return false;
  return (other.value & ~mask) == value;
}

namespace {
// Numbers as the kernel's log prints them: decimal up to 0xffff, else hex.
std::string unsigned_text(uint64_t v) {
  char buf[32];
  if (v <= 0xffff) {
    std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(v));
  }
  return buf;
}
// The kernel's "%#llx" prints 0 as "0x0" (C's printf would print "0").
std::string hex_text(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

std::string Tnum::to_string() const {
  if (mask == 0) return unsigned_text(value);
  return "(" + hex_text(value) + "; " + hex_text(mask) + ")";
}

Tnum tnum_add(Tnum a, Tnum b) {
  const uint64_t sum_mask = a.mask + b.mask;
  const uint64_t sum_value = a.value + b.value;
  const uint64_t sigma = sum_mask + sum_value;
  const uint64_t carries = sigma ^ sum_value;  // bits a carry may have reached
  const uint64_t unknown = carries | a.mask | b.mask;
  return {sum_value & ~unknown, unknown};
}

Tnum tnum_sub(Tnum a, Tnum b) {
  const uint64_t diff = a.value - b.value;
  const uint64_t alpha = diff + a.mask;
  const uint64_t beta = diff - b.mask;
  const uint64_t borrows = alpha ^ beta;
  const uint64_t unknown = borrows | a.mask | b.mask;
  return {diff & ~unknown, unknown};
}

Tnum tnum_neg(Tnum a) { return tnum_sub(Tnum::constant(0), a); }

Tnum tnum_and(Tnum a, Tnum b) {
  const uint64_t alpha = a.value | a.mask;
  const uint64_t beta = b.value | b.mask;
  const uint64_t v = a.value & b.value;
  return {v, alpha & beta & ~v};
}

Tnum tnum_or(Tnum a, Tnum b) {
  const uint64_t v = a.value | b.value;
  const uint64_t unknown = a.mask | b.mask;
  return {v, unknown & ~v};
}

Tnum tnum_xor(Tnum a, Tnum b) {
  const uint64_t v = a.value ^ b.value;
  const uint64_t unknown = a.mask | b.mask;
  return {v & ~unknown, unknown};
}

// Long multiplication: the known product of the known parts, plus, for each bit
// of `a`, the partial product's uncertainty accumulated with tnum_add.
Tnum tnum_mul(Tnum a, Tnum b) {
  const uint64_t known_product = a.value * b.value;
  Tnum uncertain = Tnum::constant(0);
  while (a.value || a.mask) {
    if (a.value & 1) {
      uncertain = tnum_add(uncertain, Tnum{0, b.mask});
    } else if (a.mask & 1) {
      uncertain = tnum_add(uncertain, Tnum{0, b.value | b.mask});
    }
    a = tnum_rshift(a, 1);
    b = tnum_lshift(b, 1);
  }
  return tnum_add(Tnum::constant(known_product), uncertain);
}

Tnum tnum_lshift(Tnum a, uint8_t shift) {
  if (shift >= 64) return Tnum::constant(0);
  return {a.value << shift, a.mask << shift};
}

Tnum tnum_rshift(Tnum a, uint8_t shift) {
  if (shift >= 64) return Tnum::constant(0);
  return {a.value >> shift, a.mask >> shift};
}

Tnum tnum_arshift(Tnum a, uint8_t min_shift, uint8_t insn_bitness) {
  // The sign bit of value and of mask both spread: an unknown sign stays unknown.
  if (insn_bitness == 32) {
    const uint8_t s = min_shift > 31 ? 31 : min_shift;
    return {uint32_t(int32_t(uint32_t(a.value)) >> s), uint32_t(int32_t(uint32_t(a.mask)) >> s)};
  }
  const uint8_t s = min_shift > 63 ? 63 : min_shift;
  return {uint64_t(int64_t(a.value) >> s), uint64_t(int64_t(a.mask) >> s)};
}

Tnum tnum_bswap16(Tnum a) {
  return {__builtin_bswap16(uint16_t(a.value)), __builtin_bswap16(uint16_t(a.mask))};
}

Tnum tnum_bswap32(Tnum a) {
  return {__builtin_bswap32(uint32_t(a.value)), __builtin_bswap32(uint32_t(a.mask))};
}

Tnum tnum_bswap64(Tnum a) { return {__builtin_bswap64(a.value), __builtin_bswap64(a.mask)}; }

Tnum tnum_intersect(Tnum a, Tnum b) {
  const uint64_t v = a.value | b.value;
  const uint64_t unknown = a.mask & b.mask;
  return {v & ~unknown, unknown};
}

Tnum tnum_union(Tnum a, Tnum b) {
  const uint64_t v = a.value & b.value;
  const uint64_t unknown = (a.value ^ b.value) | a.mask | b.mask;
  return {v & ~unknown, unknown};
}

bool tnum_overlap(Tnum a, Tnum b) {
  const uint64_t both_known = ~a.mask & ~b.mask;
  return (a.value & both_known) == (b.value & both_known);
}

Tnum tnum_cast(Tnum a, uint32_t size_bytes) {
  if (size_bytes >= 8) return a;
  const uint64_t keep = (uint64_t(1) << (size_bytes * 8)) - 1;
  return {a.value & keep, a.mask & keep};
}

Tnum tnum_subreg(Tnum a) { return tnum_cast(a, 4); }

Tnum tnum_clear_subreg(Tnum a) { return tnum_lshift(tnum_rshift(a, 32), 32); }

Tnum tnum_with_subreg(Tnum reg, Tnum subreg) {
  return tnum_or(tnum_clear_subreg(reg), tnum_subreg(subreg));
}

Tnum tnum_const_subreg(Tnum a, uint32_t value) {
  return tnum_with_subreg(a, Tnum::constant(value));
}

uint64_t tnum_step(Tnum t, uint64_t z) {
  const uint64_t tmax = t.value | t.mask;
  if (z >= tmax) return tmax;
  if (z < t.value) return t.value;
  const uint64_t target = z + 1;  // the smallest member >= target
  const uint64_t differ = (target ^ t.value) & ~t.mask;
  if (differ == 0) return target;
  const int h = 63 - std::countl_zero(differ);
  const uint64_t below_h = h == 63 ? ~0ull : (uint64_t(2) << h) - 1;
  if (t.value & (uint64_t(1) << h)) {
    // A known 1 where target has 0: keep the higher bits, the rest at their least.
    return (target & ~below_h) | (t.value & below_h);
  }
  // A known 0 where target has 1: carry into the lowest free unknown bit above h.
  const uint64_t free_above = t.mask & ~target & ~below_h;
  if (free_above == 0) return tmax;
  const int p = std::countr_zero(free_above);
  const uint64_t below_p = (uint64_t(1) << p) - 1;
  return (target & ~below_p & ~(uint64_t(1) << p)) | (uint64_t(1) << p) | (t.value & below_p);
}

bool tnum_is_aligned(Tnum a, uint64_t size) {
  if (size == 0) return true;
  return ((a.value | a.mask) & (size - 1)) == 0;
}

}  // namespace bpfkit::verifier
