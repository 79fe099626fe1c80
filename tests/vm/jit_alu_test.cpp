// JIT arithmetic: every ALU operation in both widths, with register and
// immediate operands, on every destination/source register pair (the x86
// mapping makes rax, rdx and rcx special for divisions and shifts), checking
// the result and that no other register changed.
#include <random>

#include "jit_test_util.h"
#include "vm/semantics.h"

namespace bpfkit::jit_test {
namespace {

// clang-format off
const uint64_t kValues[] = {
    0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
    0x80000000, 0xffffffff, 0x100000000, 0x123456789abcdef0, 0x7fffffffffffffff, 0x8000000000000000,
    0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffff80000000, 0x00000000fffffffe
};
// clang-format on

const int32_t kImms[] = {0,         1,  -1, 2,  3,   7,    8,     16,        31,         32,
                         33,        63, 64, 65, 127, 128,  255,   0x10000,   0x40000000, 0x7fffffff,
                         INT32_MIN, -2, -7, -8, -65, 1000, -1000, 0x12345678};

const AluOp kAllOps[] = {AluOp::Add, AluOp::Sub,  AluOp::Mul,    AluOp::Div,     AluOp::SDiv,   AluOp::Or,
                         AluOp::And, AluOp::Lsh,  AluOp::Rsh,    AluOp::Mod,     AluOp::SMod,   AluOp::Xor,
                         AluOp::Mov, AluOp::Arsh, AluOp::MovSx8, AluOp::MovSx16, AluOp::MovSx32};

bool is_shift(AluOp op) { return op == AluOp::Lsh || op == AluOp::Rsh || op == AluOp::Arsh; }
bool is_movsx(AluOp op) { return op == AluOp::MovSx8 || op == AluOp::MovSx16 || op == AluOp::MovSx32; }

// Both shift encodings where the host has BMI2, the cl form otherwise.
std::vector<bool> bmi2_modes() {
  if (vm::jit::host_has_bmi2()) return {true, false};
  return {false};
}

std::array<uint64_t, 10> random_registers(std::mt19937_64& rng) {
  std::array<uint64_t, 10> r;
  for (auto& v : r) v = rng();
  return r;
}

uint64_t pick(std::mt19937_64& rng) { return rng() % 4 == 0 ? rng() : kValues[rng() % std::size(kValues)]; }

TEST(JitAlu, RegisterOperandsOnEveryRegisterPair) {
  std::mt19937_64 rng(1);
  for (AluOp op : kAllOps)
    for (bool is64 : {true, false}) {
      if (op == AluOp::MovSx32 && !is64) continue;  // no such encoding
      for (bool bmi2 : is_shift(op) ? bmi2_modes() : std::vector<bool>{vm::jit::host_has_bmi2()})
        for (uint8_t dst = 0; dst < 10; ++dst)
          for (uint8_t src = 0; src < 10; ++src)
            for (int k = 0; k < 3; ++k) {
              std::array<uint64_t, 10> init = random_registers(rng);
              init[dst] = pick(rng);
              if (src != dst) init[src] = pick(rng);
              std::array<uint64_t, 10> want = init;
              want[dst] = vm::sem::alu(op, is64, init[dst], init[src]);
              Snapshot expected;
              std::copy(want.begin(), want.end(), expected.v.begin());
              RunConfig c;
              c.bmi2 = bmi2;
              c.checked = k != 0;
              ASSERT_EQ(run_snapshot({alu(op, is64, dst, Operand::Reg(src))}, init, c), expected)
                  << "op " << int(op) << (is64 ? " 64" : " 32") << " r" << int(dst) << ", r" << int(src)
                  << (bmi2 ? " bmi2" : "");
            }
    }
}

TEST(JitAlu, ImmediateOperandsOnEveryRegister) {
  std::mt19937_64 rng(2);
  for (AluOp op : kAllOps) {
    if (is_movsx(op)) continue;  // register forms only
    for (bool is64 : {true, false})
      for (uint8_t dst = 0; dst < 10; ++dst)
        for (int32_t imm : kImms)
          for (int k = 0; k < 2; ++k) {
            std::array<uint64_t, 10> init = random_registers(rng);
            init[dst] = pick(rng);
            std::array<uint64_t, 10> want = init;
            want[dst] = is64 ? vm::sem::alu64(op, init[dst], vm::sem::imm64(imm))
                             : vm::sem::alu32(op, init[dst], uint32_t(imm));
            Snapshot expected;
            std::copy(want.begin(), want.end(), expected.v.begin());
            RunConfig c;
            c.checked = k != 0;
            ASSERT_EQ(run_snapshot({alu(op, is64, dst, Operand::Imm(imm))}, init, c), expected)
                << "op " << int(op) << (is64 ? " 64" : " 32") << " r" << int(dst) << ", " << imm << " with r"
                << int(dst) << " = 0x" << std::hex << init[dst];
          }
  }
}

// The corners written out by hand, independent of vm/semantics.h.
struct Corner {
  AluOp op;
  bool is64;
  uint64_t dst, src;
  uint64_t want;
};

const Corner kCorners[] = {
    {AluOp::Div, true, 42, 0, 0},
    {AluOp::Div, false, 0xffffffff00000042, 0, 0},
    {AluOp::Mod, true, 42, 0, 42},
    {AluOp::Mod, true, 0xffffffff00000042, 0, 0xffffffff00000042},
    {AluOp::Mod, false, 0xffffffff00000042, 0, 0x42},
    {AluOp::Mod, false, 0xffffffff00000042, 0xffffffff00000000, 0x42},  // divisor's low half is 0
    {AluOp::Div, false, 0x1234, 0x100000002, 0x91a},                    // only the low half divides
    {AluOp::SDiv, true, 0x8000000000000000, ~0ull, 0x8000000000000000},
    {AluOp::SMod, true, 0x8000000000000000, ~0ull, 0},
    {AluOp::SDiv, false, 0x80000000, 0xffffffff, 0x80000000},
    {AluOp::SMod, false, 0x80000000, 0xffffffff, 0},
    {AluOp::SDiv, true, uint64_t(-7), 2, uint64_t(-3)},
    {AluOp::SMod, true, uint64_t(-7), 2, uint64_t(-1)},
    {AluOp::SMod, true, 7, uint64_t(-2), 1},
    {AluOp::SDiv, false, uint32_t(-7), 2, uint32_t(-3)},
    {AluOp::SMod, false, uint32_t(-7), 2, uint32_t(-1)},
    {AluOp::SDiv, true, uint64_t(-7), 0, 0},
    {AluOp::SMod, true, uint64_t(-7), 0, uint64_t(-7)},
    {AluOp::SMod, false, 0xaaaaaaaafffffff9, 0, 0xfffffff9},
    {AluOp::Div, true, ~0ull, ~0ull, 1},
    {AluOp::Lsh, true, 1, 65, 2},
    {AluOp::Lsh, false, 1, 33, 2},
    {AluOp::Lsh, false, 0xffffffffffffffff, 0, 0xffffffff},
    {AluOp::Rsh, true, 0x8000000000000000, 127, 1},
    {AluOp::Rsh, false, 0xffffffff80000000, 31, 1},
    {AluOp::Arsh, true, 0x8000000000000000, 63, ~0ull},
    {AluOp::Arsh, false, 0x0000000080000000, 4, 0xf8000000},
    {AluOp::Arsh, false, 0xffffffff7fffffff, 36, 0x07ffffff},
    {AluOp::Mul, false, 0x80000000, 2, 0},
    {AluOp::Mul, true, 0x8000000000000000, ~0ull, 0x8000000000000000},
    {AluOp::Add, false, 0xffffffff, 1, 0},
    {AluOp::Sub, false, 0, 1, 0xffffffff},
    {AluOp::Mov, false, 0, 0xdeadbeefcafef00d, 0xcafef00d},
    {AluOp::MovSx8, true, 0, 0x80, 0xffffffffffffff80},
    {AluOp::MovSx8, false, 0, 0x7f80, 0xffffff80},
    {AluOp::MovSx16, true, 0, 0x18000, 0xffffffffffff8000},
    {AluOp::MovSx16, false, 0, 0x8000, 0xffff8000},
    {AluOp::MovSx32, true, 0, 0x80000000, 0xffffffff80000000},
    {AluOp::MovSx32, true, 0, 0x7fffffff, 0x7fffffff},
};

TEST(JitAlu, HandWrittenCorners) {
  for (const Corner& c : kCorners)
    for (bool checked : {true, false}) {
      const std::vector<Instruction> p = {lddw(1, c.dst), lddw(2, c.src),
                                          alu(c.op, c.is64, 1, Operand::Reg(2)), movr(0, 1), exit_insn()};
      RunConfig cfg;
      cfg.checked = checked;
      EXPECT_EQ(run_jit(p, cfg), c.want)
          << "op " << int(c.op) << (c.is64 ? " 64" : " 32") << " 0x" << std::hex << c.dst << ", 0x" << c.src;
    }
}

TEST(JitAlu, ImmediateCornersByHand) {
  struct ImmCorner {
    AluOp op;
    bool is64;
    uint64_t dst;
    int32_t imm;
    uint64_t want;
  };
  const ImmCorner corners[] = {
      {AluOp::Div, true, 100, 0, 0},
      {AluOp::Mod, true, 100, 0, 100},
      {AluOp::Mod, false, 0x1234500000064, 0, 0x64},
      {AluOp::SDiv, true, 0x8000000000000000, -1, 0x8000000000000000},
      {AluOp::SMod, false, 0x80000000, -1, 0},
      {AluOp::Div, true, 0xfffffffffffffff0, -16, 1},  // the immediate is sign-extended
      {AluOp::Div, false, 0xfffffff0, -16, 1},         // ... or taken as 32 bits
      {AluOp::Mod, true, 0xfffffffffffffff7, -8, 0xfffffffffffffff7},
      {AluOp::Mod, false, 0xffffffff, INT32_MIN, 0x7fffffff},  // power of two 2^31
      {AluOp::Div, false, 0xffffffff, INT32_MIN, 1},
      {AluOp::Div, true, 1000, 8, 125},
      {AluOp::Mod, true, 1001, 8, 1},
      {AluOp::Div, true, 1000, 1, 1000},
      {AluOp::Div, false, 0xabcdef0000001000, 1, 0x1000},
      {AluOp::Mod, true, 1001, 1, 0},
      {AluOp::SDiv, true, uint64_t(-1000), 8, uint64_t(-125)},
      {AluOp::SMod, true, uint64_t(-1001), 8, uint64_t(-1)},
      {AluOp::Add, false, 0xffffffff00000001, 0, 1},
      {AluOp::And, true, 0xffffffffffffffff, -1, 0xffffffffffffffff},
      {AluOp::And, false, 0xffffffffffffffff, -1, 0xffffffff},
      {AluOp::Or, true, 0, INT32_MIN, 0xffffffff80000000},
      {AluOp::Or, false, 0, INT32_MIN, 0x80000000},
      {AluOp::Xor, true, 0, -1, ~0ull},
      {AluOp::Mov, true, 0, -1, ~0ull},
      {AluOp::Mov, false, 0, -1, 0xffffffff},
      {AluOp::Mul, false, 0xffffffff00000003, 1, 3},
      {AluOp::Lsh, true, 3, 64, 3},  // masked to 0
      {AluOp::Lsh, false, 0xf00000003, 32, 3},
      {AluOp::Arsh, true, 0x8000000000000000, -1, ~0ull},  // masked to 63
  };
  for (const ImmCorner& c : corners) {
    const std::vector<Instruction> p = {lddw(3, c.dst), alu(c.op, c.is64, 3, Operand::Imm(c.imm)), movr(0, 3),
                                        exit_insn()};
    EXPECT_EQ(run_jit(p), c.want) << "op " << int(c.op) << (c.is64 ? " 64" : " 32") << " 0x" << std::hex
                                  << c.dst << ", " << std::dec << c.imm;
  }
}

TEST(JitAlu, NegOnEveryRegister) {
  std::mt19937_64 rng(3);
  for (bool is64 : {true, false})
    for (uint8_t dst = 0; dst < 10; ++dst)
      for (uint64_t v : kValues) {
        std::array<uint64_t, 10> init = random_registers(rng);
        init[dst] = v;
        Snapshot expected;
        std::copy(init.begin(), init.end(), expected.v.begin());
        expected.v[dst] = is64 ? 0 - v : uint32_t(0 - uint32_t(v));
        ASSERT_EQ(run_snapshot({Neg{is64, dst}}, init), expected);
      }
}

TEST(JitAlu, EndianOnEveryRegister) {
  std::mt19937_64 rng(4);
  for (EndianKind kind : {EndianKind::ToLe, EndianKind::ToBe, EndianKind::Swap})
    for (uint8_t bits : {16, 32, 64})
      for (uint8_t dst = 0; dst < 10; ++dst)
        for (uint64_t v :
             {uint64_t(0x0123456789abcdef), uint64_t(0xfedcba9876543210), uint64_t(0x80), uint64_t(~0ull)}) {
          std::array<uint64_t, 10> init = random_registers(rng);
          init[dst] = v;
          uint64_t want;
          const bool swap = kind != EndianKind::ToLe;
          if (bits == 16)
            want = swap ? uint16_t((v >> 8 & 0xff) | (v & 0xff) << 8) : uint16_t(v);
          else if (bits == 32)
            want = swap ? __builtin_bswap32(uint32_t(v)) : uint32_t(v);
          else
            want = swap ? __builtin_bswap64(v) : v;
          Snapshot expected;
          std::copy(init.begin(), init.end(), expected.v.begin());
          expected.v[dst] = want;
          ASSERT_EQ(run_snapshot({Endian{kind, bits, dst}}, init), expected)
              << int(kind) << " " << int(bits) << " r" << int(dst);
        }
}

TEST(JitAlu, Lddw) {
  for (uint8_t dst = 0; dst < 10; ++dst)
    for (uint64_t v : kValues) {
      std::array<uint64_t, 10> init{};
      for (uint8_t r = 0; r < 10; ++r) init[r] = 0x1111111111111111ull * r;
      Snapshot expected;
      std::copy(init.begin(), init.end(), expected.v.begin());
      expected.v[dst] = v;
      ASSERT_EQ(run_snapshot({lddw(dst, v)}, init), expected);
    }
}

TEST(JitAlu, ConstantsLoadIntoTheirShortestFormCorrectly) {
  // mov64 with negative immediates sign-extends; mov32 zero-extends.
  EXPECT_EQ(run_jit({mov(0, -1), exit_insn()}), ~0ull);
  EXPECT_EQ(run_jit({lddw(0, 0xffffffffffffffff), alu(AluOp::Mov, false, 0, Operand::Imm(-1)), exit_insn()}),
            0xffffffffull);
  EXPECT_EQ(run_jit({lddw(0, 0xffffffff80000000), exit_insn()}), 0xffffffff80000000ull);
  EXPECT_EQ(run_jit({lddw(0, 0x80000000), exit_insn()}), 0x80000000ull);
  EXPECT_EQ(run_jit({lddw(0, 0x100000000), exit_insn()}), 0x100000000ull);
}

}  // namespace
}  // namespace bpfkit::jit_test
