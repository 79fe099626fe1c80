// Tnum: fixed cases from the kernel's semantics and soundness by sampling (every
// concrete result of an operation on members is a member of the result).
#include <gtest/gtest.h>

#include <random>

#include "verifier/tnum.h"

namespace bpfkit::verifier {
namespace {

TEST(Tnum, ConstructorsAndPrinting) {
  EXPECT_EQ(Tnum::constant(5).to_string(), "5");
  EXPECT_EQ(Tnum::constant(0x10000).to_string(), "0x10000");
  EXPECT_EQ(Tnum::range(0, 255), (Tnum{0, 0xff}));
  EXPECT_EQ(Tnum::range(3, 258), (Tnum{0, 0x1ff}));
  EXPECT_EQ(Tnum::range(0x10, 0x1f), (Tnum{0x10, 0xf}));
  EXPECT_TRUE(Tnum::range(0, ~0ull).is_unknown());
  EXPECT_EQ((Tnum{0, 0xff}).to_string(), "(0x0; 0xff)");
  EXPECT_EQ((Tnum{0x10, 0xffffffef}).to_string(), "(0x10; 0xffffffef)");
}

TEST(Tnum, KernelResults) {
  EXPECT_EQ(tnum_add(Tnum{0, 0xff}, Tnum::constant(3)), (Tnum{0, 0x1ff}));
  EXPECT_EQ(tnum_and(Tnum{0, 0x1ff}, Tnum::constant(~4ull)), (Tnum{0, 0x1fb}));
  EXPECT_EQ(tnum_or(Tnum{0, 0xffffffff}, Tnum::constant(16)), (Tnum{0x10, 0xffffffef}));
  EXPECT_TRUE(tnum_neg(Tnum{0, 0xff}).is_unknown());
  EXPECT_EQ(tnum_bswap16(Tnum{0, 0xff}), (Tnum{0, 0xff00}));
  EXPECT_EQ(tnum_arshift(Tnum{0x80000000, 0}, 4, 32), Tnum::constant(0xf8000000));
  EXPECT_EQ(tnum_cast(Tnum::unknown(), 1), (Tnum{0, 0xff}));
  EXPECT_EQ(tnum_clear_subreg(Tnum{0x100000001, 0xf0}), Tnum::constant(0x100000000));
  EXPECT_EQ(tnum_const_subreg(Tnum::unknown(), 7), (Tnum{7, 0xffffffff00000000}));
  EXPECT_TRUE(tnum_is_aligned(Tnum{0x10, 0xf0}, 16));
  EXPECT_FALSE(tnum_is_aligned(Tnum{0x10, 0xf8}, 16));
  EXPECT_TRUE((Tnum{0, 0xff}).contains(Tnum{0x10, 0x0f}));
  EXPECT_FALSE((Tnum{0, 0x0f}).contains(Tnum{0, 0xff}));
  EXPECT_TRUE(tnum_overlap(Tnum{0x1, 0xe}, Tnum{0x3, 0x0}));
  EXPECT_FALSE(tnum_overlap(Tnum{0x1, 0xe}, Tnum{0x2, 0x0}));
}

// A random tnum and a random member of it.
struct Sample {
  Tnum t;
  uint64_t member;
};

Sample sample(std::mt19937_64& rng) {
  static const uint64_t masks[] = {0, 0xff, 0xffff, 0xffffffff, ~0ull, 0xf0f0, 0x8000000000000000,
                                   0x80000000, 0xffffffff00000000, 1};
  uint64_t mask;
  switch (rng() % 4) {
    case 0: mask = masks[rng() % std::size(masks)]; break;
    case 1: mask = rng() & rng() & rng(); break;
    case 2: mask = (uint64_t(1) << (rng() % 64)) - 1; break;
    default: mask = rng(); break;
  }
  const uint64_t value = rng() & ~mask;
  return {Tnum{value, mask}, value | (rng() & mask)};
}

TEST(Tnum, SoundBySampling) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    const Sample a = sample(rng), b = sample(rng);
    const uint64_t x = a.member, y = b.member;
    ASSERT_TRUE(a.t.contains(x));
    ASSERT_TRUE(tnum_add(a.t, b.t).contains(x + y));
    ASSERT_TRUE(tnum_sub(a.t, b.t).contains(x - y));
    ASSERT_TRUE(tnum_mul(a.t, b.t).contains(x * y));
    ASSERT_TRUE(tnum_and(a.t, b.t).contains(x & y));
    ASSERT_TRUE(tnum_or(a.t, b.t).contains(x | y));
    ASSERT_TRUE(tnum_xor(a.t, b.t).contains(x ^ y));
    ASSERT_TRUE(tnum_neg(a.t).contains(0 - x));
    const uint8_t s = uint8_t(rng() % 64);
    ASSERT_TRUE(tnum_lshift(a.t, s).contains(x << s));
    ASSERT_TRUE(tnum_rshift(a.t, s).contains(x >> s));
    ASSERT_TRUE(tnum_arshift(a.t, s, 64).contains(uint64_t(int64_t(x) >> s)));
    ASSERT_TRUE(tnum_arshift(a.t, s % 32, 32).contains(uint32_t(int32_t(uint32_t(x)) >> (s % 32))));
    ASSERT_TRUE(tnum_bswap16(a.t).contains(__builtin_bswap16(uint16_t(x))));
    ASSERT_TRUE(tnum_bswap32(a.t).contains(__builtin_bswap32(uint32_t(x))));
    ASSERT_TRUE(tnum_bswap64(a.t).contains(__builtin_bswap64(x)));
    ASSERT_TRUE(tnum_union(a.t, b.t).contains(x) && tnum_union(a.t, b.t).contains(y));
    ASSERT_TRUE(tnum_cast(a.t, 2).contains(uint16_t(x)));
    ASSERT_TRUE(tnum_with_subreg(a.t, b.t).contains((x & ~0xffffffffull) | uint32_t(y)));
    const uint64_t lo = std::min(x, y), hi = std::max(x, y);
    ASSERT_TRUE(Tnum::range(lo, hi).contains(lo) && Tnum::range(lo, hi).contains(hi));
    if (tnum_overlap(a.t, b.t)) {
      // Some common member exists: the intersection holds it.
      const uint64_t common = (a.t.value | b.t.value) | (rng() & a.t.mask & b.t.mask);
      ASSERT_TRUE(a.t.contains(common) && b.t.contains(common));
      ASSERT_TRUE(tnum_intersect(a.t, b.t).contains(common));
    } else {
      ASSERT_FALSE(a.t.contains(y) && b.t.contains(y));
    }
  }
}

TEST(Tnum, StepFindsTheNextMember) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t mask = rng() & 0x3ff & rng();
    const Tnum t{rng() & 0x3ff & ~mask, mask};
    const uint64_t z = rng() % 0x400;
    uint64_t expect = t.max();
    if (z < t.min()) {
      expect = t.min();
    } else {
      for (uint64_t m = z + 1; m <= t.max(); ++m) {
        if (t.contains(m)) {
          expect = m;
          break;
        }
      }
    }
    ASSERT_EQ(tnum_step(t, z), expect) << t.to_string() << " z " << z;
  }
}

}  // namespace
}  // namespace bpfkit::verifier
