// The verifier's abstract value of a scalar register, as the Linux kernel's
// verifier tracks it (struct bpf_reg_state, scalar part): a tnum of known bits
// and signed/unsigned bounds on the full 64 bits and on the low 32 bits, kept
// consistent with each other by sync().
//
// Every operation follows the kernel's kernel/bpf/verifier.c (Linux 6.18)
// exactly, imprecisions included, so that bpfkit accepts what the kernel
// accepts and prints the same register states (to_string()). The kernel is
// checked against on this machine by tests/kernel/scalar_domain_kernel_test.cpp.
//
// Values are plain data; operations are pure functions returning new values
// (refine() updates its two operands, as a branch narrows both registers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "isa/instruction.h"
#include "verifier/tnum.h"

namespace bpfkit::verifier {

struct ScalarValue {
  Tnum var_off = Tnum::unknown();
  int64_t smin = INT64_MIN, smax = INT64_MAX;
  uint64_t umin = 0, umax = UINT64_MAX;
  int32_t s32_min = INT32_MIN, s32_max = INT32_MAX;
  uint32_t u32_min = 0, u32_max = UINT32_MAX;

  // --- Construction ---------------------------------------------------------
  static ScalarValue unknown() { return {}; }
  static ScalarValue constant(uint64_t v);
  // The low 32 bits are `v`, the upper 32 bits unknown.
  static ScalarValue constant32(uint32_t v);
  // Some value in [lo, hi] (unsigned), bounds synced.
  static ScalarValue unsigned_range(uint64_t lo, uint64_t hi);
  // Some value in [lo, hi] (signed), bounds synced.
  static ScalarValue signed_range(int64_t lo, int64_t hi);
  // Some value with these known bits, bounds synced.
  static ScalarValue from_tnum(Tnum t);
  // An unknown value loaded from memory by a `size_bytes` load (zero- or
  // sign-extending), as check_mem_access leaves the destination register.
  static ScalarValue loaded(uint32_t size_bytes, bool sign_extend);

  // --- Queries --------------------------------------------------------------
  bool is_const() const { return var_off.is_const(); }
  uint64_t const_value() const { return var_off.value; }
  bool is_const32() const { return tnum_subreg_is_const(var_off); }
  uint32_t const_value32() const { return uint32_t(var_off.value); }
  bool is_unknown() const;  // nothing known at all (as unknown())
  // The kernel's reg_bounds_sanity_check: bounds ordered and agreeing with a
  // constant tnum. False means no concrete value fits (a dead path).
  bool is_consistent() const;
  // Every concrete value `o` can hold, this can hold (the kernel's range_within
  // plus tnum_in, as state pruning compares scalars).
  bool contains(const ScalarValue& o) const;
  bool contains(uint64_t v) const;
  friend bool operator==(const ScalarValue&, const ScalarValue&) = default;

  // --- Normalisation ----------------------------------------------------------
  // reg_bounds_sync: bounds from var_off, signed <-> unsigned and 32 <-> 64
  // deductions, then var_off from the bounds.
  void sync();

  // --- Arithmetic -----------------------------------------------------------
  // dst = dst OP src, on 64 bits or on 32 bits zero-extended, as the kernel's
  // check_alu_op / adjust_scalar_min_max_vals. An immediate operand is passed as
  // constant(uint64_t(int64_t(imm))) (sign-extended, for both widths), as the
  // kernel does. Kernel 6.18 facts kept here: div, sdiv, mod and smod give an
  // unknown 64-bit value (even on 32 bits: no zero extension), shifts by a
  // non-constant or by >= the width give unknown; Mov on 64 bits copies without
  // syncing; MovSx8/16/32 sign-extend (32-bit: MovSx8/16 of the subregister).
  // Division by an immediate 0 is rejected by the kernel before this point.
  static ScalarValue alu(isa::AluOp op, bool is64, const ScalarValue& dst, const ScalarValue& src);
  // Kernel 6.18 forks the verifier state before `dst &= src` / `dst |= src` when
  // dst is exactly {-1, 0} (s64 range, or s32 range for 32-bit ops): the current
  // path continues with dst = -1 (constant(~0ull)) and a path with dst = 0 is
  // queued at the same instruction. The interpreter must do the same to match
  // the kernel's states (observed on 6.18.44; the condition on src is untested).
  static bool alu_forks_minus_one_zero(isa::AluOp op, bool is64, const ScalarValue& dst);
  static ScalarValue neg(bool is64, const ScalarValue& v);
  // le/be/bswap of the low `bits` bits, on this little-endian host.
  static ScalarValue endian(isa::EndianKind kind, uint8_t bits, const ScalarValue& v);
  ScalarValue zero_extend_32() const;                // zext_32_to_64
  ScalarValue truncate(uint32_t size_bytes) const;     // coerce_reg_to_size
  ScalarValue sign_extend(uint32_t size_bytes) const;  // coerce_reg_to_size_sx

  // --- Branches -------------------------------------------------------------
  // is_branch_taken for two scalars: true/false when the comparison's outcome is
  // certain, nullopt otherwise. Pass the same object twice for `if rX op rX`.
  static std::optional<bool> branch_taken(isa::JmpCond cond, bool is32, const ScalarValue& a,
                                          const ScalarValue& b);
  // Narrows a and b to the values for which `a cond b` is `taken` (the kernel's
  // reg_set_min_max; a decided branch leaves both unchanged, as the kernel
  // does). Returns false when that outcome is impossible: the caller drops the
  // path. `b` may be a constant (an immediate operand, sign-extended).
  static bool refine(isa::JmpCond cond, bool is32, bool taken, ScalarValue& a, ScalarValue& b);

  // --- Lattice --------------------------------------------------------------
  // The smallest value (in this domain) containing both, synced. The kernel has
  // no join; bpfkit uses it to widen loop states.
  ScalarValue join(const ScalarValue& o) const;

  // As the 6.18 kernel's verifier log prints a scalar register (without id and
  // precision marks): "5", "-3", "0xffffffff", "scalar()",
  // "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))".
  std::string to_string() const;
};

}  // namespace bpfkit::verifier
