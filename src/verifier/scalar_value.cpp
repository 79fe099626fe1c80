// Scalar bounds tracking, following the Linux 6.18 verifier (kernel/bpf/verifier.c:
// reg_bounds_sync and helpers, adjust_scalar_min_max_vals and the scalar*_min_max_*
// functions, coerce_reg_to_size[_sx], is_scalar_branch_taken, regs_refine_cond_op).
// The order of steps matters for exactness and is kept as the kernel has it.
#include "verifier/scalar_value.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace bpfkit::verifier {
namespace {

using isa::AluOp;
using isa::JmpCond;

constexpr int64_t kS64Min = INT64_MIN, kS64Max = INT64_MAX;
constexpr int32_t kS32Min = INT32_MIN, kS32Max = INT32_MAX;
constexpr uint64_t kU64Max = UINT64_MAX;
constexpr uint32_t kU32Max = UINT32_MAX;

using Reg = ScalarValue;

// ___mark_reg_known
void mark_known(Reg& r, uint64_t v) {
  r.var_off = Tnum::constant(v);
  r.smin = r.smax = int64_t(v);
  r.umin = r.umax = v;
  r.s32_min = r.s32_max = int32_t(uint32_t(v));
  r.u32_min = r.u32_max = uint32_t(v);
}

void mark_known32(Reg& r, uint32_t v) {
  r.var_off = tnum_const_subreg(r.var_off, v);
  r.s32_min = r.s32_max = int32_t(v);
  r.u32_min = r.u32_max = v;
}

void mark_unbounded64(Reg& r) {
  r.smin = kS64Min;
  r.smax = kS64Max;
  r.umin = 0;
  r.umax = kU64Max;
}

void mark_unbounded32(Reg& r) {
  r.s32_min = kS32Min;
  r.s32_max = kS32Max;
  r.u32_min = 0;
  r.u32_max = kU32Max;
}

void mark_unbounded(Reg& r) {
  mark_unbounded64(r);
  mark_unbounded32(r);
}

void update_bounds32(Reg& r) {
  const Tnum t = tnum_subreg(r.var_off);
  // Signed minimum: the sign bit set if it may be, the other bits at their least.
  r.s32_min = std::max(r.s32_min, int32_t(uint32_t(t.value | (t.mask & 0x80000000u))));
  r.s32_max = std::min(r.s32_max, int32_t(uint32_t(t.value | (t.mask & 0x7fffffffu))));
  r.u32_min = std::max(r.u32_min, uint32_t(t.value));
  r.u32_max = std::min(r.u32_max, uint32_t(t.value | t.mask));
}

void update_bounds64(Reg& r) {
  const Tnum t = r.var_off;
  r.smin = std::max(r.smin, int64_t(t.value | (t.mask & (uint64_t(1) << 63))));
  r.smax = std::min(r.smax, int64_t(t.value | (t.mask & ~(uint64_t(1) << 63))));
  r.umin = std::max(r.umin, t.value);
  r.umax = std::min(r.umax, t.value | t.mask);
  // When the u64 range and the tnum share a single value, the value is known.
  const uint64_t next = tnum_step(t, r.umin);
  const bool umin_in_tnum = (r.umin & ~t.mask) == t.value;
  const uint64_t tmax = t.value | t.mask;
  if (umin_in_tnum && next > r.umax) {
    mark_known(r, r.umin);
  } else if (!umin_in_tnum && next == tmax) {
    mark_known(r, tmax);
  } else if (!umin_in_tnum && next <= r.umax && tnum_step(t, next) > r.umax) {
    mark_known(r, next);
  }
}

void update_bounds(Reg& r) {
  update_bounds32(r);
  update_bounds64(r);
}

// __reg32_deduce_bounds: learn the 32-bit bounds from 64-bit ranges whose upper
// halves make the low halves a contiguous range, then signed <-> unsigned.
void deduce_bounds32(Reg& r) {
  if ((r.umin >> 32) == (r.umax >> 32)) {
    r.u32_min = std::max(r.u32_min, uint32_t(r.umin));
    r.u32_max = std::min(r.u32_max, uint32_t(r.umax));
    if (int32_t(r.umin) <= int32_t(r.umax)) {
      r.s32_min = std::max(r.s32_min, int32_t(r.umin));
      r.s32_max = std::min(r.s32_max, int32_t(r.umax));
    }
  }
  if ((r.smin >> 32) == (r.smax >> 32)) {
    if (uint32_t(r.smin) <= uint32_t(r.smax)) {
      r.u32_min = std::max(r.u32_min, uint32_t(r.smin));
      r.u32_max = std::min(r.u32_max, uint32_t(r.smax));
    }
    if (int32_t(r.smin) <= int32_t(r.smax)) {
      r.s32_min = std::max(r.s32_min, int32_t(r.smin));
      r.s32_max = std::min(r.s32_max, int32_t(r.smax));
    }
  }
  // Upper halves two consecutive numbers, low halves going from negative to
  // non-negative: still one s32 range.
  if (uint32_t(r.umin >> 32) + 1 == uint32_t(r.umax >> 32) && int32_t(r.umin) < 0 &&
      int32_t(r.umax) >= 0) {
    r.s32_min = std::max(r.s32_min, int32_t(r.umin));
    r.s32_max = std::min(r.s32_max, int32_t(r.umax));
  }
  if (uint32_t(uint64_t(r.smin) >> 32) + 1 == uint32_t(uint64_t(r.smax) >> 32) &&
      int32_t(r.smin) < 0 && int32_t(r.smax) >= 0) {
    r.s32_min = std::max(r.s32_min, int32_t(r.smin));
    r.s32_max = std::min(r.s32_max, int32_t(r.smax));
  }
  if (int32_t(r.u32_min) <= int32_t(r.u32_max)) {
    r.s32_min = std::max(r.s32_min, int32_t(r.u32_min));
    r.s32_max = std::min(r.s32_max, int32_t(r.u32_max));
  }
  if (uint32_t(r.s32_min) <= uint32_t(r.s32_max)) {
    r.u32_min = std::max(r.u32_min, uint32_t(r.s32_min));
    r.u32_max = std::min(r.u32_max, uint32_t(r.s32_max));
  } else if (r.u32_max < uint32_t(r.s32_min)) {
    // The s32 range wraps through the sign boundary and the u32 range meets
    // only its non-negative part (or only its negative part, below).
    r.s32_min = int32_t(r.u32_min);
    r.u32_max = std::min(r.u32_max, uint32_t(r.s32_max));
  } else if (uint32_t(r.s32_max) < r.u32_min) {
    r.s32_max = int32_t(r.u32_max);
    r.u32_min = std::max(r.u32_min, uint32_t(r.s32_min));
  }
}

// __reg64_deduce_bounds: signed and unsigned ranges agree when neither crosses
// its sign boundary; a signed range crossing it may still cut the unsigned one.
void deduce_bounds64(Reg& r) {
  if (int64_t(r.umin) <= int64_t(r.umax)) {
    r.smin = std::max(r.smin, int64_t(r.umin));
    r.smax = std::min(r.smax, int64_t(r.umax));
  }
  if (uint64_t(r.smin) <= uint64_t(r.smax)) {
    r.umin = std::max(r.umin, uint64_t(r.smin));
    r.umax = std::min(r.umax, uint64_t(r.smax));
  } else {
    if (r.umax < uint64_t(r.smin)) {
      r.smin = int64_t(r.umin);
      r.umax = std::min(r.umax, uint64_t(r.smax));
    } else if (uint64_t(r.smax) < r.umin) {
      r.smax = int64_t(r.umax);
      r.umin = std::max(r.umin, uint64_t(r.smin));
    }
  }
}

// __reg_deduce_mixed_bounds: the 32-bit bounds tighten the low halves of the
// 64-bit ones.
void deduce_mixed_bounds(Reg& r) {
  const uint64_t low = 0xffffffffull;
  const uint64_t new_umin = (r.umin & ~low) | r.u32_min;
  const uint64_t new_umax = (r.umax & ~low) | r.u32_max;
  r.umin = std::max(r.umin, new_umin);
  r.umax = std::min(r.umax, new_umax);
  const int64_t new_smin = int64_t((uint64_t(r.smin) & ~low) | r.u32_min);
  const int64_t new_smax = int64_t((uint64_t(r.smax) & ~low) | r.u32_max);
  r.smin = std::max(r.smin, new_smin);
  r.smax = std::min(r.smax, new_smax);
  // After a sign-extending load the upper half is all zeros or all ones; a
  // non-negative s32 range inside [S32_MIN, S32_MAX] is then the whole story.
  if (r.s32_min >= 0 && r.smin >= kS32Min && r.smax <= kS32Max) {
    r.smin = r.s32_min;
    r.smax = r.s32_max;
    r.umin = uint64_t(int64_t(r.s32_min));
    r.umax = uint64_t(int64_t(r.s32_max));
    r.var_off = tnum_intersect(r.var_off, Tnum::range(uint64_t(r.smin), uint64_t(r.smax)));
  }
}

void deduce_bounds(Reg& r) {
  deduce_bounds32(r);
  deduce_bounds64(r);
  deduce_mixed_bounds(r);
}

// __reg_bound_offset: known bits from the unsigned ranges.
void bound_offset(Reg& r) {
  const Tnum var64 = tnum_intersect(r.var_off, Tnum::range(r.umin, r.umax));
  const Tnum var32 = tnum_intersect(tnum_subreg(var64), Tnum::range(r.u32_min, r.u32_max));
  r.var_off = tnum_or(tnum_clear_subreg(var64), var32);
}

bool s32_fits_s64_nonneg(int32_t a) { return a >= 0; }

// __reg_assign_32_into_64
void assign_32_into_64(Reg& r) {
  r.umin = r.u32_min;
  r.umax = r.u32_max;
  if (s32_fits_s64_nonneg(r.s32_min) && s32_fits_s64_nonneg(r.s32_max)) {
    r.smin = r.s32_min;
    r.smax = r.s32_max;
  } else {
    r.smin = 0;
    r.smax = kU32Max;
  }
}

void zext_32_to_64(Reg& r) {
  r.var_off = tnum_subreg(r.var_off);
  assign_32_into_64(r);
}

// --- Arithmetic on bounds (scalar32_min_max_* / scalar_min_max_*) ---------------

void add32(Reg& d, const Reg& s) {
  int32_t smin, smax;
  if (__builtin_add_overflow(d.s32_min, s.s32_min, &smin) ||
      __builtin_add_overflow(d.s32_max, s.s32_max, &smax)) {
    d.s32_min = kS32Min;
    d.s32_max = kS32Max;
  } else {
    d.s32_min = smin;
    d.s32_max = smax;
  }
  // All or none of the additions wrapping keeps the range contiguous.
  const bool min_overflow = __builtin_add_overflow(d.u32_min, s.u32_min, &d.u32_min);
  const bool max_overflow = __builtin_add_overflow(d.u32_max, s.u32_max, &d.u32_max);
  if (!min_overflow && max_overflow) {
    d.u32_min = 0;
    d.u32_max = kU32Max;
  }
}

void add64(Reg& d, const Reg& s) {
  int64_t smin, smax;
  if (__builtin_add_overflow(d.smin, s.smin, &smin) ||
      __builtin_add_overflow(d.smax, s.smax, &smax)) {
    d.smin = kS64Min;
    d.smax = kS64Max;
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  const bool min_overflow = __builtin_add_overflow(d.umin, s.umin, &d.umin);
  const bool max_overflow = __builtin_add_overflow(d.umax, s.umax, &d.umax);
  if (!min_overflow && max_overflow) {
    d.umin = 0;
    d.umax = kU64Max;
  }
}

void sub32(Reg& d, const Reg& s) {
  int32_t smin, smax;
  if (__builtin_sub_overflow(d.s32_min, s.s32_max, &smin) ||
      __builtin_sub_overflow(d.s32_max, s.s32_min, &smax)) {
    d.s32_min = kS32Min;
    d.s32_max = kS32Max;
  } else {
    d.s32_min = smin;
    d.s32_max = smax;
  }
  const bool min_underflow = __builtin_sub_overflow(d.u32_min, s.u32_max, &d.u32_min);
  const bool max_underflow = __builtin_sub_overflow(d.u32_max, s.u32_min, &d.u32_max);
  if (min_underflow && !max_underflow) {
    d.u32_min = 0;
    d.u32_max = kU32Max;
  }
}

void sub64(Reg& d, const Reg& s) {
  int64_t smin, smax;
  if (__builtin_sub_overflow(d.smin, s.smax, &smin) ||
      __builtin_sub_overflow(d.smax, s.smin, &smax)) {
    d.smin = kS64Min;
    d.smax = kS64Max;
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  const bool min_underflow = __builtin_sub_overflow(d.umin, s.umax, &d.umin);
  const bool max_underflow = __builtin_sub_overflow(d.umax, s.umin, &d.umax);
  if (min_underflow && !max_underflow) {
    d.umin = 0;
    d.umax = kU64Max;
  }
}

void mul32(Reg& d, const Reg& s) {
  uint32_t umax, umin;
  if (__builtin_mul_overflow(d.u32_max, s.u32_max, &umax) ||
      __builtin_mul_overflow(d.u32_min, s.u32_min, &umin)) {
    d.u32_min = 0;
    d.u32_max = kU32Max;
  } else {
    d.u32_min = umin;
    d.u32_max = umax;
  }
  int32_t p[4];
  if (__builtin_mul_overflow(d.s32_min, s.s32_min, &p[0]) ||
      __builtin_mul_overflow(d.s32_min, s.s32_max, &p[1]) ||
      __builtin_mul_overflow(d.s32_max, s.s32_min, &p[2]) ||
      __builtin_mul_overflow(d.s32_max, s.s32_max, &p[3])) {
    d.s32_min = kS32Min;
    d.s32_max = kS32Max;
  } else {
    d.s32_min = *std::min_element(p, p + 4);
    d.s32_max = *std::max_element(p, p + 4);
  }
}

void mul64(Reg& d, const Reg& s) {
  uint64_t umax, umin;
  if (__builtin_mul_overflow(d.umax, s.umax, &umax) ||
      __builtin_mul_overflow(d.umin, s.umin, &umin)) {
    d.umin = 0;
    d.umax = kU64Max;
  } else {
    d.umin = umin;
    d.umax = umax;
  }
  int64_t p[4];
  if (__builtin_mul_overflow(d.smin, s.smin, &p[0]) ||
      __builtin_mul_overflow(d.smin, s.smax, &p[1]) ||
      __builtin_mul_overflow(d.smax, s.smin, &p[2]) ||
      __builtin_mul_overflow(d.smax, s.smax, &p[3])) {
    d.smin = kS64Min;
    d.smax = kS64Max;
  } else {
    d.smin = *std::min_element(p, p + 4);
    d.smax = *std::max_element(p, p + 4);
  }
}

// Signed bounds from unsigned ones when they do not cross the sign boundary.
void signed32_from_unsigned(Reg& d) {
  if (int32_t(d.u32_min) <= int32_t(d.u32_max)) {
    d.s32_min = int32_t(d.u32_min);
    d.s32_max = int32_t(d.u32_max);
  } else {
    d.s32_min = kS32Min;
    d.s32_max = kS32Max;
  }
}

void signed64_from_unsigned(Reg& d) {
  if (int64_t(d.umin) <= int64_t(d.umax)) {
    d.smin = int64_t(d.umin);
    d.smax = int64_t(d.umax);
  } else {
    d.smin = kS64Min;
    d.smax = kS64Max;
  }
}

// The bitwise ops run after var_off holds the result's tnum.
void and32(Reg& d, const Reg& s) {
  const Tnum t = tnum_subreg(d.var_off);
  if (tnum_subreg_is_const(s.var_off) && tnum_subreg_is_const(d.var_off)) {
    mark_known32(d, uint32_t(t.value));
    return;
  }
  d.u32_min = uint32_t(t.value);
  d.u32_max = std::min(d.u32_max, s.u32_max);
  signed32_from_unsigned(d);
}

void and64(Reg& d, const Reg& s) {
  if (s.var_off.is_const() && d.var_off.is_const()) {
    mark_known(d, d.var_off.value);
    return;
  }
  d.umin = d.var_off.value;
  d.umax = std::min(d.umax, s.umax);
  signed64_from_unsigned(d);
  update_bounds(d);
}

void or32(Reg& d, const Reg& s) {
  const Tnum t = tnum_subreg(d.var_off);
  if (tnum_subreg_is_const(s.var_off) && tnum_subreg_is_const(d.var_off)) {
    mark_known32(d, uint32_t(t.value));
    return;
  }
  d.u32_min = std::max(d.u32_min, s.u32_min);
  d.u32_max = uint32_t(t.value | t.mask);
  signed32_from_unsigned(d);
}

void or64(Reg& d, const Reg& s) {
  if (s.var_off.is_const() && d.var_off.is_const()) {
    mark_known(d, d.var_off.value);
    return;
  }
  d.umin = std::max(d.umin, s.umin);
  d.umax = d.var_off.value | d.var_off.mask;
  signed64_from_unsigned(d);
  update_bounds(d);
}

void xor32(Reg& d, const Reg& s) {
  const Tnum t = tnum_subreg(d.var_off);
  if (tnum_subreg_is_const(s.var_off) && tnum_subreg_is_const(d.var_off)) {
    mark_known32(d, uint32_t(t.value));
    return;
  }
  d.u32_min = uint32_t(t.value);
  d.u32_max = uint32_t(t.value | t.mask);
  signed32_from_unsigned(d);
}

void xor64(Reg& d, const Reg& s) {
  if (s.var_off.is_const() && d.var_off.is_const()) {
    mark_known(d, d.var_off.value);
    return;
  }
  d.umin = d.var_off.value;
  d.umax = d.var_off.value | d.var_off.mask;
  signed64_from_unsigned(d);
  update_bounds(d);
}

void lsh32_bounds(Reg& d, uint64_t umin_val, uint64_t umax_val) {
  // Shifting loses the sign; what var_off knows is picked up later.
  d.s32_min = kS32Min;
  d.s32_max = kS32Max;
  if (umax_val > 31 || d.u32_max > (uint64_t(1) << (31 - umax_val))) {
    d.u32_min = 0;
    d.u32_max = kU32Max;
  } else {
    d.u32_min <<= umin_val;
    d.u32_max <<= umax_val;
  }
}

void lsh32(Reg& d, const Reg& s) {
  const Tnum subreg = tnum_subreg(d.var_off);
  lsh32_bounds(d, s.u32_min, s.u32_max);
  d.var_off = tnum_subreg(tnum_lshift(subreg, uint8_t(s.u32_min)));
  mark_unbounded64(d);
  update_bounds32(d);
}

void lsh64_bounds(Reg& d, uint64_t umin_val, uint64_t umax_val) {
  // `<< 32` is how compilers start a sign extension: non-negative 32-bit bounds
  // survive it.
  if (umin_val == 32 && umax_val == 32 && d.s32_max >= 0) {
    d.smax = int64_t(uint64_t(int64_t(d.s32_max)) << 32);
  } else {
    d.smax = kS64Max;
  }
  if (umin_val == 32 && umax_val == 32 && d.s32_min >= 0) {
    d.smin = int64_t(uint64_t(int64_t(d.s32_min)) << 32);
  } else {
    d.smin = kS64Min;
  }
  if (d.umax > (uint64_t(1) << (63 - umax_val))) {
    d.umin = 0;
    d.umax = kU64Max;
  } else {
    d.umin <<= umin_val;
    d.umax <<= umax_val;
  }
}

void lsh64(Reg& d, const Reg& s) {
  lsh64_bounds(d, s.umin, s.umax);  // uses the unshifted 32-bit bounds: first
  lsh32_bounds(d, s.umin, s.umax);
  d.var_off = tnum_lshift(d.var_off, uint8_t(s.umin));
  update_bounds(d);
}

void rsh32(Reg& d, const Reg& s) {
  const Tnum subreg = tnum_subreg(d.var_off);
  d.s32_min = kS32Min;
  d.s32_max = kS32Max;
  d.var_off = tnum_rshift(subreg, uint8_t(s.u32_min));
  d.u32_min >>= s.u32_max;
  d.u32_max >>= s.u32_min;
  mark_unbounded64(d);
  update_bounds32(d);
}

void rsh64(Reg& d, const Reg& s) {
  d.smin = kS64Min;
  d.smax = kS64Max;
  d.var_off = tnum_rshift(d.var_off, uint8_t(s.umin));
  d.umin >>= s.umax;
  d.umax >>= s.umin;
  mark_unbounded32(d);
  update_bounds(d);
}

void arsh32(Reg& d, const Reg& s) {
  const uint32_t shift = s.u32_min;  // the shift is a known constant here
  d.s32_min >>= shift;
  d.s32_max >>= shift;
  d.var_off = tnum_arshift(tnum_subreg(d.var_off), uint8_t(shift), 32);
  d.u32_min = 0;
  d.u32_max = kU32Max;
  mark_unbounded64(d);
  update_bounds32(d);
}

void arsh64(Reg& d, const Reg& s) {
  const uint64_t shift = s.umin;
  d.smin >>= shift;
  d.smax >>= shift;
  d.var_off = tnum_arshift(d.var_off, uint8_t(shift), 64);
  d.umin = 0;
  d.umax = kU64Max;
  mark_unbounded32(d);
  update_bounds(d);
}

// is_safe_to_compute_dst_reg_range
bool safe_to_compute(AluOp op, bool is64, const Reg& src) {
  bool src_const;
  if (is64) {
    src_const = src.var_off.is_const() && src.smin == src.smax && src.umin == src.umax;
  } else {
    src_const = tnum_subreg_is_const(src.var_off) && src.s32_min == src.s32_max &&
                src.u32_min == src.u32_max;
  }
  switch (op) {
    case AluOp::Add:
    case AluOp::Sub:
    case AluOp::And:
    case AluOp::Xor:
    case AluOp::Or:
    case AluOp::Mul:
      return true;
    case AluOp::Lsh:
    case AluOp::Rsh:
    case AluOp::Arsh:
      // The kernel compares the full 64-bit maximum even for 32-bit shifts.
      return src_const && src.umax < (is64 ? 64u : 32u);
    default:
      return false;
  }
}

// set_sext64_default_val / set_sext32_default_val
void sext64_default(Reg& r, uint32_t size) {
  if (size == 1) {
    r.smin = r.s32_min = INT8_MIN;
    r.smax = r.s32_max = INT8_MAX;
  } else if (size == 2) {
    r.smin = r.s32_min = INT16_MIN;
    r.smax = r.s32_max = INT16_MAX;
  } else {
    r.smin = r.s32_min = kS32Min;
    r.smax = r.s32_max = kS32Max;
  }
  r.umin = r.u32_min = 0;
  r.umax = kU64Max;
  r.u32_max = kU32Max;
  r.var_off = Tnum::unknown();
}

void sext32_default(Reg& r, uint32_t size) {
  if (size == 1) {
    r.s32_min = INT8_MIN;
    r.s32_max = INT8_MAX;
  } else {
    r.s32_min = INT16_MIN;
    r.s32_max = INT16_MAX;
  }
  r.u32_min = 0;
  r.u32_max = kU32Max;
  r.var_off = tnum_subreg(Tnum::unknown());
}

int64_t sign_extend_from(uint64_t v, uint32_t size) {
  switch (size) {
    case 1: return int8_t(v);
    case 2: return int16_t(v);
    default: return int32_t(v);
  }
}

// coerce_subreg_to_size_sx: the low `size` bytes sign-extended into 32 bits.
void coerce_subreg_sx(Reg& r, uint32_t size) {
  const uint32_t bits = size * 8;
  if (r.var_off.is_const()) {
    r.var_off = Tnum::constant(uint64_t(sign_extend_from(r.var_off.value, size)));
    const uint32_t v = uint32_t(r.var_off.value);
    r.s32_min = r.s32_max = int32_t(v);
    r.u32_min = r.u32_max = v;
    return;
  }
  const uint32_t top_max = (uint32_t(r.s32_max) >> bits) << bits;
  const uint32_t top_min = (uint32_t(r.s32_min) >> bits) << bits;
  if (top_max == top_min) {
    const int32_t a = int32_t(sign_extend_from(uint32_t(r.s32_max), size));
    const int32_t b = int32_t(sign_extend_from(uint32_t(r.s32_min), size));
    const int32_t hi = std::max(a, b), lo = std::min(a, b);
    if ((lo >= 0) == (hi >= 0)) {
      r.s32_min = lo;
      r.s32_max = hi;
      r.u32_min = uint32_t(lo);
      r.u32_max = uint32_t(hi);
      r.var_off = tnum_subreg(Tnum::range(uint64_t(int64_t(lo)), uint64_t(int64_t(hi))));
      return;
    }
  }
  sext32_default(r, size);
}

std::string snum_text(int64_t v) {
  char buf[32];
  if (v >= INT16_MIN && v <= INT16_MAX) {
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(v));
  }
  return buf;
}

std::string unum_text(uint64_t v) {
  char buf[32];
  if (v <= UINT16_MAX) {
    std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(v));
  }
  return buf;
}

}  // namespace

// --- Construction ------------------------------------------------------------

ScalarValue ScalarValue::constant(uint64_t v) {
  ScalarValue r;
  mark_known(r, v);
  return r;
}

ScalarValue ScalarValue::constant32(uint32_t v) {
  ScalarValue r;
  r.var_off = tnum_const_subreg(Tnum::unknown(), v);
  r.sync();
  return r;
}

ScalarValue ScalarValue::unsigned_range(uint64_t lo, uint64_t hi) {
  ScalarValue r;
  r.umin = lo;
  r.umax = hi;
  r.sync();
  return r;
}

ScalarValue ScalarValue::signed_range(int64_t lo, int64_t hi) {
  ScalarValue r;
  r.smin = lo;
  r.smax = hi;
  r.sync();
  return r;
}

ScalarValue ScalarValue::from_tnum(Tnum t) {
  ScalarValue r;
  r.var_off = t;
  r.sync();
  return r;
}

ScalarValue ScalarValue::loaded(uint32_t size_bytes, bool sign_extend) {
  ScalarValue r;
  if (size_bytes >= 8) return r;
  return sign_extend ? r.sign_extend(size_bytes) : r.truncate(size_bytes);
}

// --- Queries -------------------------------------------------------------------

bool ScalarValue::is_unknown() const { return *this == ScalarValue{}; }

bool ScalarValue::is_consistent() const {
  if (umin > umax || smin > smax || u32_min > u32_max || s32_min > s32_max) return false;
  if (var_off.is_const()) {
    const uint64_t v = var_off.value;
    if (umin != v || umax != v || smin != int64_t(v) || smax != int64_t(v)) return false;
  }
  if (tnum_subreg_is_const(var_off)) {
    const uint32_t v = uint32_t(var_off.value);
    if (u32_min != v || u32_max != v || s32_min != int32_t(v) || s32_max != int32_t(v)) return false;
  }
  return true;
}

bool ScalarValue::contains(const ScalarValue& o) const {
  return smin <= o.smin && o.smax <= smax && umin <= o.umin && o.umax <= umax &&
         s32_min <= o.s32_min && o.s32_max <= s32_max && u32_min <= o.u32_min &&
         o.u32_max <= u32_max && var_off.contains(o.var_off);
}

bool ScalarValue::contains(uint64_t v) const {
  const int64_t s = int64_t(v);
  const uint32_t v32 = uint32_t(v);
  const int32_t s32 = int32_t(v32);
  return var_off.contains(v) && umin <= v && v <= umax && smin <= s && s <= smax &&
         u32_min <= v32 && v32 <= u32_max && s32_min <= s32 && s32 <= s32_max;
}

// --- Normalisation ---------------------------------------------------------------

void ScalarValue::sync() {
  update_bounds(*this);  // bounds from var_off
  deduce_bounds(*this);  // sign and width deductions; twice, as the kernel
  deduce_bounds(*this);
  bound_offset(*this);   // known bits from the bounds
  update_bounds(*this);  // which may tighten the bounds once more
}

// --- Arithmetic ----------------------------------------------------------------

ScalarValue ScalarValue::alu(isa::AluOp op, bool is64, const ScalarValue& dst_in,
                             const ScalarValue& src_in) {
  const ScalarValue src = src_in;  // dst and src may be the same register
  ScalarValue dst = dst_in;
  switch (op) {
    case AluOp::Mov:
      dst = src;
      if (!is64) {
        zext_32_to_64(dst);
        dst.sync();
      }
      return dst;
    case AluOp::MovSx8:
    case AluOp::MovSx16:
    case AluOp::MovSx32: {
      const uint32_t size = op == AluOp::MovSx8 ? 1 : op == AluOp::MovSx16 ? 2 : 4;
      dst = src;
      if (is64) return dst.sign_extend(size);
      if (size < 4) coerce_subreg_sx(dst, size);
      zext_32_to_64(dst);
      dst.sync();
      return dst;
    }
    default:
      break;
  }
  if (!safe_to_compute(op, is64, src)) return unknown();
  switch (op) {
    case AluOp::Add:
      add32(dst, src);
      add64(dst, src);
      dst.var_off = tnum_add(dst.var_off, src.var_off);
      break;
    case AluOp::Sub:
      sub32(dst, src);
      sub64(dst, src);
      dst.var_off = tnum_sub(dst.var_off, src.var_off);
      break;
    case AluOp::Mul:
      dst.var_off = tnum_mul(dst.var_off, src.var_off);
      mul32(dst, src);
      mul64(dst, src);
      break;
    case AluOp::And:
      dst.var_off = tnum_and(dst.var_off, src.var_off);
      and32(dst, src);
      and64(dst, src);
      break;
    case AluOp::Or:
      dst.var_off = tnum_or(dst.var_off, src.var_off);
      or32(dst, src);
      or64(dst, src);
      break;
    case AluOp::Xor:
      dst.var_off = tnum_xor(dst.var_off, src.var_off);
      xor32(dst, src);
      xor64(dst, src);
      break;
    case AluOp::Lsh:
      if (is64) lsh64(dst, src); else lsh32(dst, src);
      break;
    case AluOp::Rsh:
      if (is64) rsh64(dst, src); else rsh32(dst, src);
      break;
    case AluOp::Arsh:
      if (is64) arsh64(dst, src); else arsh32(dst, src);
      break;
    default:
      return unknown();
  }
  if (!is64) zext_32_to_64(dst);
  dst.sync();
  return dst;
}

bool ScalarValue::alu_forks_minus_one_zero(isa::AluOp op, bool is64, const ScalarValue& dst) {
  if (op != AluOp::And && op != AluOp::Or) return false;
  return is64 ? (dst.smin == -1 && dst.smax == 0) : (dst.s32_min == -1 && dst.s32_max == 0);
}

ScalarValue ScalarValue::neg(bool is64, const ScalarValue& v) {
  // The kernel computes 0 - v on the bounds and tnum_neg on var_off.
  ScalarValue dst = constant(0);
  sub32(dst, v);
  sub64(dst, v);
  dst.var_off = tnum_neg(v.var_off);
  if (!is64) zext_32_to_64(dst);
  dst.sync();
  return dst;
}

ScalarValue ScalarValue::endian(isa::EndianKind kind, uint8_t bits, const ScalarValue& v) {
  // Little-endian host: to_le only truncates, to_be and bswap swap.
  ScalarValue r = v;
  const bool swap = kind != isa::EndianKind::ToLe;
  if (swap) {
    if (bits == 16) {
      r.var_off = tnum_bswap16(r.var_off);
    } else if (bits == 32) {
      r.var_off = tnum_bswap32(r.var_off);
    } else {
      r.var_off = tnum_bswap64(r.var_off);
    }
    mark_unbounded(r);
  }
  if (bits == 16 || bits == 32) return r.truncate(bits / 8);
  if (swap) r.sync();
  return r;
}

ScalarValue ScalarValue::zero_extend_32() const {
  ScalarValue r = *this;
  zext_32_to_64(r);
  return r;
}

ScalarValue ScalarValue::truncate(uint32_t size_bytes) const {
  ScalarValue r = *this;
  if (size_bytes >= 8) return r;
  r.var_off = tnum_cast(r.var_off, size_bytes);
  const uint64_t mask = (uint64_t(1) << (size_bytes * 8)) - 1;
  if ((r.umin & ~mask) == (r.umax & ~mask)) {
    r.umin &= mask;
    r.umax &= mask;
  } else {
    r.umin = 0;
    r.umax = mask;
  }
  r.smin = int64_t(r.umin);
  r.smax = int64_t(r.umax);
  // Below 32 bits the 32-bit bounds no longer describe the value.
  if (size_bytes < 4) mark_unbounded32(r);
  r.sync();
  return r;
}

ScalarValue ScalarValue::sign_extend(uint32_t size_bytes) const {
  ScalarValue r = *this;
  if (size_bytes >= 8) return r;
  const uint32_t bits = size_bytes * 8;
  if (r.var_off.is_const()) {
    const uint64_t v = uint64_t(sign_extend_from(r.var_off.value, size_bytes));
    mark_known(r, v);
    return r;
  }
  const uint64_t top_max = (uint64_t(r.smax) >> bits) << bits;
  const uint64_t top_min = (uint64_t(r.smin) >> bits) << bits;
  if (top_max == top_min) {
    const int64_t a = sign_extend_from(uint64_t(r.smax), size_bytes);
    const int64_t b = sign_extend_from(uint64_t(r.smin), size_bytes);
    const int64_t hi = std::max(a, b), lo = std::min(a, b);
    if ((lo >= 0) == (hi >= 0)) {
      r.smin = lo;
      r.s32_min = int32_t(lo);
      r.smax = hi;
      r.s32_max = int32_t(hi);
      r.umin = uint64_t(lo);
      r.u32_min = uint32_t(lo);
      r.umax = uint64_t(hi);
      r.u32_max = uint32_t(hi);
      r.var_off = Tnum::range(uint64_t(lo), uint64_t(hi));
      return r;
    }
  }
  sext64_default(r, size_bytes);
  return r;
}

// --- Branches ----------------------------------------------------------------------

namespace {

// The kernel's opcodes for regs_refine_cond_op, with the negation of JSET.
enum class Cond : uint8_t { Eq, Ne, Set, NotSet, Gt, Ge, Lt, Le, Sgt, Sge, Slt, Sle };

Cond cond_of(JmpCond c) {
  switch (c) {
    case JmpCond::Eq: return Cond::Eq;
    case JmpCond::Ne: return Cond::Ne;
    case JmpCond::Set: return Cond::Set;
    case JmpCond::Gt: return Cond::Gt;
    case JmpCond::Ge: return Cond::Ge;
    case JmpCond::Lt: return Cond::Lt;
    case JmpCond::Le: return Cond::Le;
    case JmpCond::Sgt: return Cond::Sgt;
    case JmpCond::Sge: return Cond::Sge;
    case JmpCond::Slt: return Cond::Slt;
    case JmpCond::Sle: return Cond::Sle;
    case JmpCond::MayGoto: break;  // not a comparison: the analyzer forks it without refining
  }
  return Cond::Eq;
}

// rev_opcode: the condition of the fall-through branch.
Cond negate(Cond c) {
  switch (c) {
    case Cond::Eq: return Cond::Ne;
    case Cond::Ne: return Cond::Eq;
    case Cond::Set: return Cond::NotSet;
    case Cond::NotSet: return Cond::Set;
    case Cond::Gt: return Cond::Le;
    case Cond::Ge: return Cond::Lt;
    case Cond::Lt: return Cond::Ge;
    case Cond::Le: return Cond::Gt;
    case Cond::Sgt: return Cond::Sle;
    case Cond::Sge: return Cond::Slt;
    case Cond::Slt: return Cond::Sge;
    case Cond::Sle: return Cond::Sgt;
  }
  return c;
}

// flip_opcode: the same condition with the operands swapped.
Cond flip(Cond c) {
  switch (c) {
    case Cond::Gt: return Cond::Lt;
    case Cond::Ge: return Cond::Le;
    case Cond::Lt: return Cond::Gt;
    case Cond::Le: return Cond::Ge;
    case Cond::Sgt: return Cond::Slt;
    case Cond::Sge: return Cond::Sle;
    case Cond::Slt: return Cond::Sgt;
    case Cond::Sle: return Cond::Sge;
    default: return c;
  }
}

bool is_reg_const(const Reg& r, bool is32) {
  return is32 ? tnum_subreg_is_const(r.var_off) : r.var_off.is_const();
}

uint64_t reg_const_value(const Reg& r, bool is32) {
  return is32 ? uint32_t(r.var_off.value) : r.var_off.value;
}

// is_scalar_branch_taken: 1 taken, 0 not taken, -1 unknown.
int scalar_branch_taken(const Reg* r1, const Reg* r2, Cond op, bool is32) {
  Tnum t1 = is32 ? tnum_subreg(r1->var_off) : r1->var_off;
  Tnum t2 = is32 ? tnum_subreg(r2->var_off) : r2->var_off;
  const uint64_t umin1 = is32 ? r1->u32_min : r1->umin, umax1 = is32 ? r1->u32_max : r1->umax;
  const uint64_t umin2 = is32 ? r2->u32_min : r2->umin, umax2 = is32 ? r2->u32_max : r2->umax;
  const int64_t smin1 = is32 ? r1->s32_min : r1->smin, smax1 = is32 ? r1->s32_max : r1->smax;
  const int64_t smin2 = is32 ? r2->s32_min : r2->smin, smax2 = is32 ? r2->s32_max : r2->smax;

  if (r1 == r2) {  // a register compared with itself
    switch (op) {
      case Cond::Ge: case Cond::Le: case Cond::Sge: case Cond::Sle: case Cond::Eq:
        return 1;
      case Cond::Gt: case Cond::Lt: case Cond::Sgt: case Cond::Slt: case Cond::Ne:
        return 0;
      case Cond::Set:
        if (t1.is_const()) return t1.value != 0;
        return (smin1 <= 0 && smax1 >= 0) ? -1 : 1;
      default:
        return -1;
    }
  }

  switch (op) {
    case Cond::Eq:
      if (t1.is_const() && t2.is_const()) return t1.value == t2.value;
      if (!tnum_overlap(t1, t2)) return 0;
      if (umin1 > umax2 || umax1 < umin2) return 0;
      if (smin1 > smax2 || smax1 < smin2) return 0;
      if (!is32) {
        if (r1->u32_min > r2->u32_max || r1->u32_max < r2->u32_min) return 0;
        if (r1->s32_min > r2->s32_max || r1->s32_max < r2->s32_min) return 0;
      }
      break;
    case Cond::Ne:
      if (t1.is_const() && t2.is_const()) return t1.value != t2.value;
      if (!tnum_overlap(t1, t2)) return 1;
      if (umin1 > umax2 || umax1 < umin2) return 1;
      if (smin1 > smax2 || smax1 < smin2) return 1;
      if (!is32) {
        if (r1->u32_min > r2->u32_max || r1->u32_max < r2->u32_min) return 1;
        if (r1->s32_min > r2->s32_max || r1->s32_max < r2->s32_min) return 1;
      }
      break;
    case Cond::Set:
      if (!is_reg_const(*r2, is32)) {
        std::swap(r1, r2);
        std::swap(t1, t2);
      }
      if (!is_reg_const(*r2, is32)) return -1;
      if ((~t1.mask & t1.value) & t2.value) return 1;
      if (!((t1.mask | t1.value) & t2.value)) return 0;
      break;
    case Cond::Gt:
      if (umin1 > umax2) return 1;
      if (umax1 <= umin2) return 0;
      break;
    case Cond::Sgt:
      if (smin1 > smax2) return 1;
      if (smax1 <= smin2) return 0;
      break;
    case Cond::Lt:
      if (umax1 < umin2) return 1;
      if (umin1 >= umax2) return 0;
      break;
    case Cond::Slt:
      if (smax1 < smin2) return 1;
      if (smin1 >= smax2) return 0;
      break;
    case Cond::Ge:
      if (umin1 >= umax2) return 1;
      if (umax1 < umin2) return 0;
      break;
    case Cond::Sge:
      if (smin1 >= smax2) return 1;
      if (smax1 < smin2) return 0;
      break;
    case Cond::Le:
      if (umax1 <= umin2) return 1;
      if (umin1 > umax2) return 0;
      break;
    case Cond::Sle:
      if (smax1 <= smin2) return 1;
      if (smin1 > smax2) return 0;
      break;
    case Cond::NotSet:
      break;
  }
  return -1;
}

// regs_refine_cond_op: narrow r1 and r2 to the values where `r1 op r2` holds.
void refine_cond(Reg* r1, Reg* r2, Cond op, bool is32) {
  switch (op) {
    case Cond::Ge: case Cond::Gt: case Cond::Sge: case Cond::Sgt:
      op = flip(op);
      std::swap(r1, r2);
      break;
    default:
      break;
  }
  switch (op) {
    case Cond::Eq:
      if (is32) {
        r1->u32_min = std::max(r1->u32_min, r2->u32_min);
        r1->u32_max = std::min(r1->u32_max, r2->u32_max);
        r1->s32_min = std::max(r1->s32_min, r2->s32_min);
        r1->s32_max = std::min(r1->s32_max, r2->s32_max);
        r2->u32_min = r1->u32_min;
        r2->u32_max = r1->u32_max;
        r2->s32_min = r1->s32_min;
        r2->s32_max = r1->s32_max;
        const Tnum t = tnum_intersect(tnum_subreg(r1->var_off), tnum_subreg(r2->var_off));
        r1->var_off = tnum_with_subreg(r1->var_off, t);
        r2->var_off = tnum_with_subreg(r2->var_off, t);
      } else {
        r1->umin = std::max(r1->umin, r2->umin);
        r1->umax = std::min(r1->umax, r2->umax);
        r1->smin = std::max(r1->smin, r2->smin);
        r1->smax = std::min(r1->smax, r2->smax);
        r2->umin = r1->umin;
        r2->umax = r1->umax;
        r2->smin = r1->smin;
        r2->smax = r1->smax;
        r1->var_off = tnum_intersect(r1->var_off, r2->var_off);
        r2->var_off = r1->var_off;
      }
      break;
    case Cond::Ne: {
      if (!is_reg_const(*r2, is32)) std::swap(r1, r2);
      if (!is_reg_const(*r2, is32)) break;
      // A constant at an edge of the other's range shrinks it by one.
      const uint64_t val = reg_const_value(*r2, is32);
      if (is32) {
        if (r1->u32_min == uint32_t(val)) r1->u32_min++;
        if (r1->u32_max == uint32_t(val)) r1->u32_max--;
        if (r1->s32_min == int32_t(uint32_t(val))) r1->s32_min = int32_t(uint32_t(r1->s32_min) + 1);
        if (r1->s32_max == int32_t(uint32_t(val))) r1->s32_max = int32_t(uint32_t(r1->s32_max) - 1);
      } else {
        if (r1->umin == val) r1->umin++;
        if (r1->umax == val) r1->umax--;
        if (r1->smin == int64_t(val)) r1->smin = int64_t(uint64_t(r1->smin) + 1);
        if (r1->smax == int64_t(val)) r1->smax = int64_t(uint64_t(r1->smax) - 1);
      }
      break;
    }
    case Cond::Set: {
      if (!is_reg_const(*r2, is32)) std::swap(r1, r2);
      if (!is_reg_const(*r2, is32)) break;
      const uint64_t val = reg_const_value(*r2, is32);
      // Only a single tested bit is known to be set afterwards.
      if (val == 0 || (val & (val - 1)) != 0) break;
      if (is32) {
        const Tnum t = tnum_or(tnum_subreg(r1->var_off), Tnum::constant(val));
        r1->var_off = tnum_with_subreg(r1->var_off, t);
      } else {
        r1->var_off = tnum_or(r1->var_off, Tnum::constant(val));
      }
      break;
    }
    case Cond::NotSet: {
      if (!is_reg_const(*r2, is32)) std::swap(r1, r2);
      if (!is_reg_const(*r2, is32)) break;
      const uint64_t val = reg_const_value(*r2, is32);
      // Forget the ranges first: on a dead branch they could contradict the tnum.
      mark_unbounded(*r1);
      if (is32) {
        const Tnum t = tnum_and(tnum_subreg(r1->var_off), Tnum::constant(~val));
        r1->var_off = tnum_with_subreg(r1->var_off, t);
      } else {
        r1->var_off = tnum_and(r1->var_off, Tnum::constant(~val));
      }
      break;
    }
    case Cond::Le:
      if (is32) {
        r1->u32_max = std::min(r1->u32_max, r2->u32_max);
        r2->u32_min = std::max(r1->u32_min, r2->u32_min);
      } else {
        r1->umax = std::min(r1->umax, r2->umax);
        r2->umin = std::max(r1->umin, r2->umin);
      }
      break;
    case Cond::Lt:
      if (is32) {
        r1->u32_max = std::min(r1->u32_max, r2->u32_max - 1);
        r2->u32_min = std::max(r1->u32_min + 1, r2->u32_min);
      } else {
        r1->umax = std::min(r1->umax, r2->umax - 1);
        r2->umin = std::max(r1->umin + 1, r2->umin);
      }
      break;
    case Cond::Sle:
      if (is32) {
        r1->s32_max = std::min(r1->s32_max, r2->s32_max);
        r2->s32_min = std::max(r1->s32_min, r2->s32_min);
      } else {
        r1->smax = std::min(r1->smax, r2->smax);
        r2->smin = std::max(r1->smin, r2->smin);
      }
      break;
    case Cond::Slt:
      if (is32) {
        r1->s32_max = std::min(r1->s32_max, int32_t(uint32_t(r2->s32_max) - 1));
        r2->s32_min = std::max(int32_t(uint32_t(r1->s32_min) + 1), r2->s32_min);
      } else {
        r1->smax = std::min(r1->smax, int64_t(uint64_t(r2->smax) - 1));
        r2->smin = std::max(int64_t(uint64_t(r1->smin) + 1), r2->smin);
      }
      break;
    default:
      break;
  }
}

}  // namespace

std::optional<bool> ScalarValue::branch_taken(isa::JmpCond cond, bool is32, const ScalarValue& a,
                                              const ScalarValue& b) {
  const int r = scalar_branch_taken(&a, &b, cond_of(cond), is32);
  if (r < 0) return std::nullopt;
  return r == 1;
}

bool ScalarValue::refine(isa::JmpCond cond, bool is32, bool taken, ScalarValue& a, ScalarValue& b) {
  if (const auto decided = branch_taken(cond, is32, a, b)) return *decided == taken;
  if (&a == &b) return true;  // the kernel learns nothing from `rX op rX`
  const Cond op = taken ? cond_of(cond) : negate(cond_of(cond));
  refine_cond(&a, &b, op, is32);
  a.sync();
  b.sync();
  return a.is_consistent() && b.is_consistent();
}

// --- Lattice ---------------------------------------------------------------------

ScalarValue ScalarValue::join(const ScalarValue& o) const {
  ScalarValue r;
  r.var_off = tnum_union(var_off, o.var_off);
  r.smin = std::min(smin, o.smin);
  r.smax = std::max(smax, o.smax);
  r.umin = std::min(umin, o.umin);
  r.umax = std::max(umax, o.umax);
  r.s32_min = std::min(s32_min, o.s32_min);
  r.s32_max = std::max(s32_max, o.s32_max);
  r.u32_min = std::min(u32_min, o.u32_min);
  r.u32_max = std::max(u32_max, o.u32_max);
  r.sync();
  return r;
}

// --- Printing ----------------------------------------------------------------------

std::string ScalarValue::to_string() const {
  if (var_off.is_const()) return snum_text(int64_t(var_off.value));
  // print_scalar_ranges: equal values share one "a=b=value"; hex-printed 32-bit
  // signed bounds are not sign-extended, so they only pair with equal hex values.
  struct Entry {
    const char* name;
    uint64_t val;
    bool omit;
  };
  auto s32_entry = [](int32_t v) {
    return (v >= INT16_MIN && v <= INT16_MAX) ? uint64_t(int64_t(v)) : uint64_t(uint32_t(v));
  };
  Entry e[] = {
      {"smin", uint64_t(smin), smin == kS64Min},
      {"smax", uint64_t(smax), smax == kS64Max},
      {"umin", umin, umin == 0},
      {"umax", umax, umax == kU64Max},
      {"smin32", s32_entry(s32_min), s32_min == kS32Min},
      {"smax32", s32_entry(s32_max), s32_max == kS32Max},
      {"umin32", u32_min, u32_min == 0},
      {"umax32", u32_max, u32_max == kU32Max},
  };
  std::string out = "scalar(";
  const char* sep = "";
  constexpr int n = sizeof(e) / sizeof(e[0]);
  for (int i = 0; i < n; ++i) {
    if (e[i].omit) continue;
    const bool neg1 = e[i].name[0] == 's' && int64_t(e[i].val) < 0;
    out += sep;
    out += e[i].name;
    out += "=";
    sep = ",";
    for (int j = i + 2; j < n; j += 2) {
      if (e[j].omit || e[j].val != e[i].val) continue;
      const bool neg2 = e[j].name[0] == 's' && int64_t(e[j].val) < 0;
      if (neg1 != neg2) continue;
      e[j].omit = true;
      out += e[j].name;
      out += "=";
    }
    out += e[i].name[0] == 's' ? snum_text(int64_t(e[i].val)) : unum_text(e[i].val);
  }
  if (!var_off.is_unknown()) {
    out += sep;
    out += "var_off=" + var_off.to_string();
  }
  out += ")";
  return out;
}

}  // namespace bpfkit::verifier
