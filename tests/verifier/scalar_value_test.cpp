// ScalarValue: kernel-printed examples, and soundness by sampling for every ALU
// operation (64- and 32-bit), negation, byte swaps, extensions and branches.
#include <gtest/gtest.h>

#include <random>

#include "verifier/scalar_value.h"

namespace bpfkit::verifier {
namespace {

using isa::AluOp;
using isa::JmpCond;

TEST(ScalarValue, PrintsAsTheKernelLog) {
  // Strings taken from a 6.18 kernel log for the same operations.
  const ScalarValue byte = ScalarValue::alu(AluOp::And, true, ScalarValue::unknown(),
                                            ScalarValue::constant(255));
  EXPECT_EQ(byte.to_string(), "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))");
  const ScalarValue plus3 = ScalarValue::alu(AluOp::Add, true, byte, ScalarValue::constant(3));
  EXPECT_EQ(plus3.to_string(),
            "scalar(smin=umin=smin32=umin32=3,smax=umax=smax32=umax32=258,var_off=(0x0; 0x1ff))");
  const ScalarValue r2 = ScalarValue::alu(AluOp::And, true, ScalarValue::constant(uint64_t(-5)), plus3);
  EXPECT_EQ(r2.to_string(), "scalar(smin=smin32=0,smax=umax=smax32=umax32=258,var_off=(0x0; 0x1fb))");
  EXPECT_EQ(ScalarValue::alu(AluOp::Arsh, true, ScalarValue::unknown(), ScalarValue::constant(3)).to_string(),
            "scalar(smin=0xf000000000000000,smax=0xfffffffffffffff)");
  const ScalarValue w4 = ScalarValue::alu(AluOp::Mov, false, ScalarValue::unknown(), ScalarValue::unknown());
  EXPECT_EQ(w4.to_string(), "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))");
  EXPECT_EQ(ScalarValue::alu(AluOp::Or, false, w4, ScalarValue::constant(16)).to_string(),
            "scalar(smin=umin=umin32=16,smax=umax=0xffffffff,smin32=0x80000010,var_off=(0x10; 0xffffffef))");
  EXPECT_EQ(ScalarValue::neg(true, byte).to_string(), "scalar(smin=smin32=-255,smax=smax32=0)");
  EXPECT_EQ(ScalarValue::endian(isa::EndianKind::ToBe, 16, byte).to_string(),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))");
  EXPECT_EQ(ScalarValue::constant(uint64_t(-5)).to_string(), "-5");
  EXPECT_EQ(ScalarValue::constant(0xffffffff).to_string(), "0xffffffff");
  EXPECT_EQ(ScalarValue::unknown().to_string(), "scalar()");
  EXPECT_TRUE(ScalarValue::alu(AluOp::Div, false, byte, ScalarValue::constant(3)).is_unknown());
}

// Abstract values built from concrete sets: ranges, masks, constants, edges.
struct Sample {
  ScalarValue v;
  std::vector<uint64_t> members;
};

uint64_t edge(std::mt19937_64& rng) {
  static const uint64_t edges[] = {0, 1, ~0ull, 0x8000000000000000, 0x7fffffffffffffff, 0x80000000,
                                   0x7fffffff, 0xffffffff, 0x100000000, 0xffffffff80000000, 255, 256,
                                   uint64_t(-256), 0xffff, 64, 63, 32, 31};
  return edges[rng() % std::size(edges)];
}

uint64_t random_value(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0: return edge(rng);
    case 1: return rng() % 300;
    case 2: return uint64_t(-int64_t(rng() % 300));
    case 3: return uint32_t(rng());
    default: return rng();
  }
}

Sample sample(std::mt19937_64& rng) {
  Sample s;
  std::vector<uint64_t> candidates;
  switch (rng() % 6) {
    case 0: {  // a constant
      const uint64_t c = random_value(rng);
      s.v = ScalarValue::constant(c);
      candidates = {c};
      break;
    }
    case 1: case 2: {  // an unsigned range
      uint64_t a = random_value(rng), b = random_value(rng);
      if (rng() % 2) b = a + rng() % 1000;
      if (a > b) std::swap(a, b);
      s.v = ScalarValue::unsigned_range(a, b);
      candidates = {a, b, a + (b - a) / 2, a + (b - a) / 3};
      for (int i = 0; i < 8; ++i) candidates.push_back(a + (b - a == ~0ull ? rng() : rng() % (b - a + 1)));
      break;
    }
    case 3: {  // a signed range
      int64_t a = int64_t(random_value(rng)), b = int64_t(random_value(rng));
      if (a > b) std::swap(a, b);
      s.v = ScalarValue::signed_range(a, b);
      candidates = {uint64_t(a), uint64_t(b)};
      const uint64_t width = uint64_t(b) - uint64_t(a);
      for (int i = 0; i < 8; ++i) candidates.push_back(uint64_t(a) + (width == ~0ull ? rng() : rng() % (width + 1)));
      break;
    }
    case 4: {  // known bits
      const uint64_t mask = rng() % 2 ? (uint64_t(1) << (rng() % 64)) - 1 : rng() & rng();
      const uint64_t value = random_value(rng) & ~mask;
      s.v = ScalarValue::from_tnum(Tnum{value, mask});
      for (int i = 0; i < 10; ++i) candidates.push_back(value | (rng() & mask));
      candidates.push_back(value);
      candidates.push_back(value | mask);
      break;
    }
    default: {  // an operation's result, e.g. a loaded or masked value
      s.v = ScalarValue::loaded(uint32_t(1) << (rng() % 4), rng() % 2);
      for (int i = 0; i < 10; ++i) {
        const uint64_t x = rng();
        candidates.push_back(x);
      }
      break;
    }
  }
  for (uint64_t c : candidates) {
    if (s.v.contains(c)) s.members.push_back(c);
  }
  return s;
}

// The concrete semantics of BPF ALU (RFC 9669), for one width.
std::optional<uint64_t> concrete(AluOp op, bool is64, uint64_t a, uint64_t b) {
  if (!is64) {
    const uint32_t x = uint32_t(a), y = uint32_t(b);
    switch (op) {
      case AluOp::Add: return uint32_t(x + y);
      case AluOp::Sub: return uint32_t(x - y);
      case AluOp::Mul: return uint32_t(x * y);
      case AluOp::Div: return y ? x / y : 0;
      case AluOp::Mod: return y ? x % y : x;
      case AluOp::Or: return x | y;
      case AluOp::And: return x & y;
      case AluOp::Xor: return x ^ y;
      case AluOp::Lsh: return uint32_t(x << (y & 31));
      case AluOp::Rsh: return x >> (y & 31);
      case AluOp::Arsh: return uint32_t(int32_t(x) >> (y & 31));
      case AluOp::Mov: return y;
      case AluOp::MovSx8: return uint32_t(int32_t(int8_t(y)));
      case AluOp::MovSx16: return uint32_t(int32_t(int16_t(y)));
      default: return std::nullopt;
    }
  }
  switch (op) {
    case AluOp::Add: return a + b;
    case AluOp::Sub: return a - b;
    case AluOp::Mul: return a * b;
    case AluOp::Div: return b ? a / b : 0;
    case AluOp::Mod: return b ? a % b : a;
    case AluOp::Or: return a | b;
    case AluOp::And: return a & b;
    case AluOp::Xor: return a ^ b;
    case AluOp::Lsh: return a << (b & 63);
    case AluOp::Rsh: return a >> (b & 63);
    case AluOp::Arsh: return uint64_t(int64_t(a) >> (b & 63));
    case AluOp::Mov: return b;
    case AluOp::MovSx8: return uint64_t(int64_t(int8_t(b)));
    case AluOp::MovSx16: return uint64_t(int64_t(int16_t(b)));
    case AluOp::MovSx32: return uint64_t(int64_t(int32_t(b)));
    default: return std::nullopt;
  }
}

bool holds(JmpCond c, bool is32, uint64_t a, uint64_t b) {
  if (is32) {
    const uint32_t x = uint32_t(a), y = uint32_t(b);
    switch (c) {
      case JmpCond::Eq: return x == y;
      case JmpCond::Ne: return x != y;
      case JmpCond::Set: return (x & y) != 0;
      case JmpCond::Gt: return x > y;
      case JmpCond::Ge: return x >= y;
      case JmpCond::Lt: return x < y;
      case JmpCond::Le: return x <= y;
      case JmpCond::Sgt: return int32_t(x) > int32_t(y);
      case JmpCond::Sge: return int32_t(x) >= int32_t(y);
      case JmpCond::Slt: return int32_t(x) < int32_t(y);
      case JmpCond::Sle: return int32_t(x) <= int32_t(y);
    }
  }
  switch (c) {
    case JmpCond::Eq: return a == b;
    case JmpCond::Ne: return a != b;
    case JmpCond::Set: return (a & b) != 0;
    case JmpCond::Gt: return a > b;
    case JmpCond::Ge: return a >= b;
    case JmpCond::Lt: return a < b;
    case JmpCond::Le: return a <= b;
    case JmpCond::Sgt: return int64_t(a) > int64_t(b);
    case JmpCond::Sge: return int64_t(a) >= int64_t(b);
    case JmpCond::Slt: return int64_t(a) < int64_t(b);
    case JmpCond::Sle: return int64_t(a) <= int64_t(b);
  }
  return false;
}

std::string describe(const ScalarValue& v) {
  return v.to_string() + " [u " + std::to_string(v.umin) + ".." + std::to_string(v.umax) + "]";
}

TEST(ScalarValue, SamplesAreMembers) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const Sample s = sample(rng);
    ASSERT_TRUE(s.v.is_consistent()) << describe(s.v);
    for (uint64_t m : s.members) ASSERT_TRUE(s.v.contains(m));
  }
}

TEST(ScalarValue, AluIsSound) {
  static const AluOp ops[] = {AluOp::Add, AluOp::Sub, AluOp::Mul, AluOp::Div, AluOp::Mod, AluOp::Or,
                              AluOp::And, AluOp::Xor, AluOp::Lsh, AluOp::Rsh, AluOp::Arsh, AluOp::Mov,
                              AluOp::MovSx8, AluOp::MovSx16, AluOp::MovSx32};
  std::mt19937_64 rng(1);
  size_t checked = 0;
  for (int i = 0; i < 60000; ++i) {
    const AluOp op = ops[rng() % std::size(ops)];
    const bool is64 = rng() % 2;
    if (op == AluOp::MovSx32 && !is64) continue;
    const Sample a = sample(rng), b = sample(rng);
    const ScalarValue r = ScalarValue::alu(op, is64, a.v, b.v);
    for (uint64_t x : a.members) {
      for (uint64_t y : b.members) {
        const auto expect = concrete(op, is64, x, y);
        ASSERT_TRUE(expect.has_value());
        ASSERT_TRUE(r.contains(*expect))
            << "op " << int(op) << (is64 ? " 64" : " 32") << " " << x << ", " << y << " -> " << *expect
            << " not in " << describe(r) << " from " << describe(a.v) << " and " << describe(b.v);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

TEST(ScalarValue, NegEndianAndExtensionsAreSound) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 30000; ++i) {
    const Sample a = sample(rng);
    const ScalarValue n64 = ScalarValue::neg(true, a.v), n32 = ScalarValue::neg(false, a.v);
    const uint8_t bits = uint8_t(16 << (rng() % 3));
    const auto kind = static_cast<isa::EndianKind>(rng() % 3);
    const ScalarValue e = ScalarValue::endian(kind, bits, a.v);
    const uint32_t size = uint32_t(1) << (rng() % 3);
    const ScalarValue t = a.v.truncate(size), sx = a.v.sign_extend(size), z = a.v.zero_extend_32();
    for (uint64_t x : a.members) {
      ASSERT_TRUE(n64.contains(0 - x)) << describe(a.v);
      ASSERT_TRUE(n32.contains(uint32_t(0 - uint32_t(x)))) << describe(a.v);
      uint64_t swapped = x;
      if (kind == isa::EndianKind::ToLe) {
        swapped = bits == 64 ? x : bits == 32 ? uint32_t(x) : uint16_t(x);
      } else {
        swapped = bits == 64 ? __builtin_bswap64(x) : bits == 32 ? __builtin_bswap32(uint32_t(x))
                                                                 : __builtin_bswap16(uint16_t(x));
      }
      ASSERT_TRUE(e.contains(swapped)) << describe(a.v) << " kind " << int(kind) << " bits " << int(bits);
      const uint64_t keep = (uint64_t(1) << (size * 8)) - 1;
      ASSERT_TRUE(t.contains(x & keep)) << describe(a.v);
      const int64_t ext = size == 1 ? int8_t(x) : size == 2 ? int16_t(x) : int32_t(x);
      ASSERT_TRUE(sx.contains(uint64_t(ext))) << describe(a.v) << " size " << size;
      ASSERT_TRUE(z.contains(uint32_t(x))) << describe(a.v);
    }
  }
}

TEST(ScalarValue, BranchesAreSound) {
  static const JmpCond conds[] = {JmpCond::Eq, JmpCond::Gt, JmpCond::Ge, JmpCond::Set,
                                  JmpCond::Ne, JmpCond::Sgt, JmpCond::Sge, JmpCond::Lt,
                                  JmpCond::Le, JmpCond::Slt, JmpCond::Sle};
  std::mt19937_64 rng(5);
  size_t pairs = 0;
  for (int i = 0; i < 60000; ++i) {
    const JmpCond c = conds[rng() % std::size(conds)];
    const bool is32 = rng() % 2;
    const Sample a = sample(rng), b = sample(rng);
    const auto decided = ScalarValue::branch_taken(c, is32, a.v, b.v);
    ScalarValue ta = a.v, tb = b.v, fa = a.v, fb = b.v;
    const bool t_ok = ScalarValue::refine(c, is32, true, ta, tb);
    const bool f_ok = ScalarValue::refine(c, is32, false, fa, fb);
    for (uint64_t x : a.members) {
      for (uint64_t y : b.members) {
        const bool h = holds(c, is32, x, y);
        ++pairs;
        if (decided) {
          ASSERT_EQ(*decided, h) << describe(a.v) << " vs " << describe(b.v);
        }
        if (h) {
          ASSERT_TRUE(t_ok && ta.contains(x) && tb.contains(y))
              << "cond " << int(c) << (is32 ? " 32 " : " 64 ") << x << ", " << y << ": "
              << describe(ta) << " / " << describe(tb);
        } else {
          ASSERT_TRUE(f_ok && fa.contains(x) && fb.contains(y))
              << "cond " << int(c) << (is32 ? " 32 " : " 64 ") << x << ", " << y << ": "
              << describe(fa) << " / " << describe(fb);
        }
      }
    }
    // The same register on both sides.
    ScalarValue same = a.v;
    const auto self = ScalarValue::branch_taken(c, is32, same, same);
    for (uint64_t x : a.members) {
      if (self) {
        ASSERT_EQ(*self, holds(c, is32, x, x));
      }
    }
  }
  EXPECT_GT(pairs, 100000u);
}

TEST(ScalarValue, JoinAndContains) {
  std::mt19937_64 rng(9);
  for (int i = 0; i < 20000; ++i) {
    const Sample a = sample(rng), b = sample(rng);
    const ScalarValue j = a.v.join(b.v);
    ASSERT_TRUE(j.contains(a.v) || !a.v.is_consistent()) << describe(a.v) << " join " << describe(j);
    for (uint64_t x : a.members) ASSERT_TRUE(j.contains(x));
    for (uint64_t y : b.members) ASSERT_TRUE(j.contains(y));
  }
  EXPECT_TRUE(ScalarValue::unknown().contains(ScalarValue::constant(3)));
  EXPECT_FALSE(ScalarValue::constant(3).contains(ScalarValue::unsigned_range(3, 4)));
}

}  // namespace
}  // namespace bpfkit::verifier
