// Internet checksum helpers: bpf_csum_diff, bpf_l3_csum_replace, bpf_l4_csum_replace,
// computed as the kernel computes them on x86-64 (the 32-bit partial sums are the
// same values, not just equal modulo 0xffff). Packets here are CHECKSUM_NONE, so
// BPF_F_PSEUDO_HDR changes nothing in the packet (the kernel would update skb->csum
// only for CHECKSUM_COMPLETE, and the header field only for CHECKSUM_PARTIAL).
#include <linux/bpf.h>

#include <cstring>

#include "helpers/helper_support.h"

namespace bpfkit::helpers::detail {
namespace {

uint64_t neg(int err) { return uint64_t(int64_t(err)); }

// Ones' complement additions with end-around carry.
uint64_t add64(uint64_t a, uint64_t b) {
  const uint64_t r = a + b;
  return r + (r < b);
}
uint32_t csum_add(uint32_t a, uint32_t b) {
  const uint32_t r = a + b;
  return r + (r < b);
}
uint32_t csum_sub(uint32_t a, uint32_t b) { return csum_add(a, ~b); }
uint16_t csum16_add(uint16_t a, uint16_t b) {
  uint16_t r = uint16_t(a + b);
  return uint16_t(r + (r < b));
}
uint16_t csum_fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

// x86-64 csum_partial: a 64-bit ones' complement sum of little-endian words (the
// tail zero-padded), folded to 32 bits.
uint32_t csum_partial(const uint8_t* p, size_t len, uint32_t seed) {
  uint64_t sum = seed;
  for (; len >= 8; p += 8, len -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    sum = add64(sum, w);
  }
  if (len) {
    uint64_t w = 0;
    std::memcpy(&w, p, len);
    sum = add64(sum, w);
  }
  return csum_add(uint32_t(sum >> 32), uint32_t(sum));
}

void csum_replace_by_diff(uint16_t* sum, uint32_t diff) { *sum = csum_fold(csum_add(diff, ~uint32_t(*sum))); }
void csum_replace4(uint16_t* sum, uint32_t from, uint32_t to) {
  *sum = csum_fold(csum_add(csum_sub(~uint32_t(*sum), from), to));
}
void csum_replace2(uint16_t* sum, uint16_t from, uint16_t to) {
  *sum = uint16_t(~csum16_add(csum16_add(uint16_t(~*sum), uint16_t(~from)), to));
}

// csum_diff(from, from_size, to, to_size, seed), as Linux 6.18 computes it: any
// sizes (no multiple-of-4 or 512-byte limit any more), the sum of `to` minus the
// sum of `from` on top of the seed, folded to 16 bits (csum_from32to16), so that
// every architecture returns the same value.
uint64_t csum_diff(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  const auto* from = reinterpret_cast<const uint8_t*>(r1);
  const auto* to = reinterpret_cast<const uint8_t*>(r3);
  const uint32_t from_size = uint32_t(r2), to_size = uint32_t(r4);
  uint32_t ret = uint32_t(r5);
  if (from_size && to_size) {
    ret = csum_sub(csum_partial(to, to_size, ret), csum_partial(from, from_size, 0));
  } else if (to_size) {
    ret = csum_partial(to, to_size, ret);
  } else if (from_size) {
    ret = ~csum_partial(from, from_size, ~ret);
  }
  return uint16_t((ret + ((ret >> 16) | (ret << 16))) >> 16);
}

// The 16-bit checksum field at `offset` in the packet, or nullptr (-EFAULT).
uint16_t* csum_field(core::ExecEnv* env, uint64_t offset, std::string_view helper) {
  core::PacketState* p = env->packet;
  if (!p || !p->data) {
    abort_run(env, helper, "this program runs without a packet");
    return nullptr;
  }
  if (offset > 0xffff || (offset & 1) || offset + 2 > uint64_t(p->data_end - p->data)) return nullptr;
  return reinterpret_cast<uint16_t*>(p->data + offset);
}

// Field sizes in the flags: 0 (to is a csum_diff result; from must be 0), 2 or 4.
int replace(uint16_t* field, uint64_t from, uint64_t to, uint64_t size) {
  uint16_t sum;
  std::memcpy(&sum, field, 2);
  switch (size) {
    case 0:
      if (from != 0) return -EINVAL;
      csum_replace_by_diff(&sum, uint32_t(to));
      break;
    case 2:
      csum_replace2(&sum, uint16_t(from), uint16_t(to));
      break;
    case 4:
      csum_replace4(&sum, uint32_t(from), uint32_t(to));
      break;
    default:
      return -EINVAL;
  }
  std::memcpy(field, &sum, 2);
  return 0;
}

uint64_t l3_csum_replace(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  if (r5 & ~uint64_t(BPF_F_HDR_FIELD_MASK)) return neg(-EINVAL);
  if (r2 > 0xffff || (r2 & 1)) return neg(-EFAULT);
  uint16_t* field = csum_field(env, r2, "l3_csum_replace");
  if (!field) return env->abort ? 0 : neg(-EFAULT);
  return neg(replace(field, r3, r4, r5 & BPF_F_HDR_FIELD_MASK));
}

// As l3, plus BPF_F_MARK_MANGLED_0: a zero UDP checksum means "none" and stays 0
// (unless BPF_F_MARK_ENFORCE), and a result of 0 is written as 0xffff.
uint64_t l4_csum_replace(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  const uint64_t flags = r5;
  const uint64_t known =
      BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6;
  if (flags & ~known) return neg(-EINVAL);
  if (r2 > 0xffff || (r2 & 1)) return neg(-EFAULT);
  uint16_t* field = csum_field(env, r2, "l4_csum_replace");
  if (!field) return env->abort ? 0 : neg(-EFAULT);
  const bool mangled0 = flags & BPF_F_MARK_MANGLED_0, enforce = flags & BPF_F_MARK_ENFORCE;
  uint16_t sum;
  std::memcpy(&sum, field, 2);
  if (mangled0 && !enforce && sum == 0) return 0;
  if (int err = replace(field, r3, r4, flags & BPF_F_HDR_FIELD_MASK); err < 0) return neg(err);
  std::memcpy(&sum, field, 2);
  if (mangled0 && sum == 0) {
    sum = 0xffff;  // CSUM_MANGLED_0
    std::memcpy(field, &sum, 2);
  }
  return 0;
}

}  // namespace

void add_checksum_helpers(core::HelperTable& t) {
  using A = ArgKind;
  t.add({BPF_FUNC_csum_diff, "csum_diff",
         proto(RetKind::Integer,
               {A::PtrToMemOrNull, A::ConstSizeOrZero, A::PtrToMemOrNull, A::ConstSizeOrZero, A::Anything}),
         csum_diff});
  const core::HelperProto replace_proto =
      proto(RetKind::Integer, {A::PtrToCtx, A::Anything, A::Anything, A::Anything, A::Anything});
  t.add({BPF_FUNC_l3_csum_replace, "l3_csum_replace", replace_proto, l3_csum_replace});
  t.add({BPF_FUNC_l4_csum_replace, "l4_csum_replace", replace_proto, l4_csum_replace});
}

}  // namespace bpfkit::helpers::detail
