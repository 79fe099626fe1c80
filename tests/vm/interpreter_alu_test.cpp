// ALU, byte-swap and jump semantics of the interpreter, corner by corner
// (RFC 9669 and the kernel), in checked and unchecked mode.
#include "interpreter_test_util.h"

namespace bpfkit::interp_test {
namespace {

constexpr uint64_t kI64Min = 0x8000000000000000ull;

struct AluCase {
  const char* name;
  AluOp op;
  bool is64;
  uint64_t dst;
  uint64_t src;  // a register value; also run as an immediate when it fits in 32 bits (see imm_ok)
  uint64_t expect;
  bool imm_ok = true;  // the immediate form (src sign-extended from 32 bits) gives the same result
};

// r0 = dst; r1 = src; r0 OP= r1 (or the immediate); exit.
uint64_t run_alu(const AluCase& c, bool checked, bool imm) {
  std::vector<Instruction> p = {lddw(0, c.dst), lddw(1, c.src)};
  p.push_back(alu(c.op, c.is64, 0, imm ? Operand::Imm(int32_t(uint32_t(c.src))) : Operand::Reg(1)));
  p.push_back(exit_insn());
  return run(p, checked);
}

const AluCase kAluCases[] = {
    {"add64 wraps", AluOp::Add, true, ~0ull, 2, 1},
    {"add32 zero-extends", AluOp::Add, false, 0xffffffffull, 2, 1},
    {"add32 drops high dst bits", AluOp::Add, false, 0x100000005ull, 1, 6},
    {"sub32 borrows into zero extension", AluOp::Sub, false, 0, 1, 0xffffffffull},
    {"sub64 negative imm is sign-extended", AluOp::Sub, true, 0, ~0ull, 1},
    {"mul32 overflow", AluOp::Mul, false, 0x80000000ull, 2, 0},
    {"mul64 by negative", AluOp::Mul, true, 5, uint64_t(-1), uint64_t(-5)},
    {"mul64 INT_MIN by -1", AluOp::Mul, true, kI64Min, uint64_t(-1), kI64Min},
    {"div64", AluOp::Div, true, 100, 7, 14},
    {"div64 by zero", AluOp::Div, true, 100, 0, 0},
    {"div32 by zero", AluOp::Div, false, 0xdead00000007ull, 0, 0},
    {"div64 unsigned with negative imm", AluOp::Div, true, 10, uint64_t(-1), 0},
    {"div32 unsigned", AluOp::Div, false, 0xffffffffull, 0xffffffffull, 1},
    {"div32 ignores high divisor bits", AluOp::Div, false, 12, 0x100000003ull, 4, false},
    {"mod64", AluOp::Mod, true, 100, 7, 2},
    {"mod64 by zero keeps dst", AluOp::Mod, true, 0x123456789ull, 0, 0x123456789ull},
    {"mod32 by zero truncates dst", AluOp::Mod, false, 0x100000007ull, 0, 7},
    {"sdiv64", AluOp::SDiv, true, uint64_t(-7), 2, uint64_t(-3)},
    {"sdiv64 INT_MIN by -1", AluOp::SDiv, true, kI64Min, uint64_t(-1), kI64Min},
    {"sdiv64 by zero", AluOp::SDiv, true, uint64_t(-7), 0, 0},
    {"sdiv32 INT_MIN by -1", AluOp::SDiv, false, 0x80000000ull, 0xffffffffull, 0x80000000ull},
    {"sdiv32 negative", AluOp::SDiv, false, 0xfffffff9ull, 2, 0xfffffffdull},
    {"sdiv32 by zero", AluOp::SDiv, false, 0xfffffff9ull, 0, 0},
    {"smod64", AluOp::SMod, true, uint64_t(-7), 2, uint64_t(-1)},
    {"smod64 by negative", AluOp::SMod, true, 7, uint64_t(-2), 1},
    {"smod64 INT_MIN by -1", AluOp::SMod, true, kI64Min, uint64_t(-1), 0},
    {"smod64 by zero keeps dst", AluOp::SMod, true, uint64_t(-7), 0, uint64_t(-7)},
    {"smod32 INT_MIN by -1", AluOp::SMod, false, 0x80000000ull, 0xffffffffull, 0},
    {"smod32 negative", AluOp::SMod, false, 0xfffffff9ull, 2, 0xffffffffull},
    {"smod32 by zero truncates dst", AluOp::SMod, false, 0xfffffffffffffff9ull, 0, 0xfffffff9ull},
    {"or32 zero-extends", AluOp::Or, false, 0xff00000000ull, 1, 1},
    {"and64 with sign-extended imm", AluOp::And, true, 0x1234567887654321ull, 0xffffffffffff0000ull,
     0x1234567887650000ull},
    {"xor32", AluOp::Xor, false, 0xffffffffffffffffull, 0xf0f0f0f0ull, 0x0f0f0f0full},
    {"lsh64 masks the amount to 63", AluOp::Lsh, true, 1, 65, 2},
    {"lsh32 masks the amount to 31", AluOp::Lsh, false, 1, 33, 2},
    {"lsh32 drops bits past 32", AluOp::Lsh, false, 0x80000001ull, 1, 2},
    {"rsh64 is logical", AluOp::Rsh, true, kI64Min, 63, 1},
    {"rsh32 ignores high dst bits", AluOp::Rsh, false, 0xffffffff80000000ull, 4, 0x08000000ull},
    {"rsh32 masks the amount", AluOp::Rsh, false, 0x80000000ull, 35, 0x10000000ull},
    {"arsh64 is arithmetic", AluOp::Arsh, true, uint64_t(-16), 2, uint64_t(-4)},
    {"arsh64 masks the amount", AluOp::Arsh, true, uint64_t(-16), 66, uint64_t(-4)},
    {"arsh32 sign bit is bit 31", AluOp::Arsh, false, 0x80000000ull, 4, 0xf8000000ull},
    {"arsh32 masks the amount", AluOp::Arsh, false, 0x80000000ull, 36, 0xf8000000ull},
    {"mov64 imm is sign-extended", AluOp::Mov, true, 5, uint64_t(-1), ~0ull},
    {"mov32 zero-extends", AluOp::Mov, false, 5, 0xffffffffull, 0xffffffffull},
    {"mov32 reg truncates", AluOp::Mov, false, 0, 0x1234567887654321ull, 0x87654321ull, false},
    {"movsx8 to 64", AluOp::MovSx8, true, 0, 0x180ull, 0xffffffffffffff80ull, false},
    {"movsx8 positive", AluOp::MovSx8, true, 0, 0x17full, 0x7full, false},
    {"movsx16 to 64", AluOp::MovSx16, true, 0, 0x8000ull, 0xffffffffffff8000ull, false},
    {"movsx32 to 64", AluOp::MovSx32, true, 0, 0x80000000ull, 0xffffffff80000000ull, false},
    {"movsx8 to 32 zero-extends", AluOp::MovSx8, false, 0, 0x1ffull, 0xffffffffull, false},
    {"movsx16 to 32 zero-extends", AluOp::MovSx16, false, 0, 0x8000ull, 0xffff8000ull, false},
};

// The cases that also exist with an immediate operand. movsx exists only with a
// register source (the decoder refuses the immediate form).
std::vector<AluCase> immediate_alu_cases() {
  std::vector<AluCase> out;
  for (const AluCase& c : kAluCases)
    if (c.imm_ok && c.op != AluOp::MovSx8 && c.op != AluOp::MovSx16 && c.op != AluOp::MovSx32)
      out.push_back(c);
  return out;
}

std::string alu_case_name(const ::testing::TestParamInfo<std::tuple<bool, AluCase>>& info) {
  std::string n =
      std::string(std::get<0>(info.param) ? "checked_" : "unchecked_") + std::get<1>(info.param).name;
  for (char& ch : n)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

class AluRegisterTest : public ::testing::TestWithParam<std::tuple<bool, AluCase>> {};
class AluImmediateTest : public ::testing::TestWithParam<std::tuple<bool, AluCase>> {};

TEST_P(AluRegisterTest, Result) {
  const auto& [checked, c] = GetParam();
  EXPECT_EQ(run_alu(c, checked, false), c.expect) << c.name << " dst=" << hex(c.dst) << " src=" << hex(c.src);
}

TEST_P(AluImmediateTest, Result) {
  const auto& [checked, c] = GetParam();
  // The immediate must reproduce src: sign-extended on 64 bits, its low half on 32.
  const uint64_t as_imm = uint64_t(int64_t(int32_t(uint32_t(c.src))));
  ASSERT_EQ(c.is64 ? as_imm : uint32_t(as_imm), c.is64 ? c.src : uint32_t(c.src)) << c.name;
  EXPECT_EQ(run_alu(c, checked, true), c.expect) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Interpreter, AluRegisterTest,
                         ::testing::Combine(::testing::Bool(), ::testing::ValuesIn(kAluCases)),
                         alu_case_name);
INSTANTIATE_TEST_SUITE_P(Interpreter, AluImmediateTest,
                         ::testing::Combine(::testing::Bool(), ::testing::ValuesIn(immediate_alu_cases())),
                         alu_case_name);

class NegEndianTest : public BothModes {};

uint64_t run_one(const Instruction& insn, uint64_t r0, bool checked) {
  return run({lddw(0, r0), insn, exit_insn()}, checked);
}

TEST_P(NegEndianTest, Neg) {
  EXPECT_EQ(run_one(Neg{true, 0}, 1, checked()), ~0ull);
  EXPECT_EQ(run_one(Neg{true, 0}, kI64Min, checked()), kI64Min);
  EXPECT_EQ(run_one(Neg{false, 0}, 1, checked()), 0xffffffffull);
  EXPECT_EQ(run_one(Neg{false, 0}, 0x100000000ull, checked()), 0u);
  EXPECT_EQ(run_one(Neg{false, 0}, 0x80000000ull, checked()), 0x80000000ull);
}

TEST_P(NegEndianTest, ToLittleEndianTruncates) {
  const uint64_t v = 0x1122334455667788ull;
  EXPECT_EQ(run_one(Endian{EndianKind::ToLe, 16, 0}, v, checked()), 0x7788u);
  EXPECT_EQ(run_one(Endian{EndianKind::ToLe, 32, 0}, v, checked()), 0x55667788u);
  EXPECT_EQ(run_one(Endian{EndianKind::ToLe, 64, 0}, v, checked()), v);
}

TEST_P(NegEndianTest, ToBigEndianAndBswapSwap) {
  const uint64_t v = 0x1122334455667788ull;
  for (EndianKind k : {EndianKind::ToBe, EndianKind::Swap}) {
    EXPECT_EQ(run_one(Endian{k, 16, 0}, v, checked()), 0x8877u);
    EXPECT_EQ(run_one(Endian{k, 32, 0}, v, checked()), 0x88776655u);
    EXPECT_EQ(run_one(Endian{k, 64, 0}, v, checked()), 0x8877665544332211ull);
  }
}

INSTANTIATE_TEST_SUITE_P(Interpreter, NegEndianTest, ::testing::Bool());

struct JumpCase {
  JmpCond cond;
  bool is32;
  uint64_t dst;
  uint64_t src;
  bool taken;
  bool imm_ok = true;
};

const JumpCase kJumpCases[] = {
    {JmpCond::Eq, false, 5, 5, true},
    {JmpCond::Eq, false, 0x100000005ull, 5, false},
    {JmpCond::Eq, true, 0x100000005ull, 5, true},  // 32-bit jumps compare the low halves
    {JmpCond::Eq, false, ~0ull, ~0ull, true},      // imm -1 is sign-extended on 64 bits
    {JmpCond::Eq, false, 0xffffffffull, ~0ull, false},
    {JmpCond::Eq, true, 0xffffffffull, ~0ull, true},
    {JmpCond::Ne, false, 5, 6, true},
    {JmpCond::Ne, true, 0x700000005ull, 0x5, false},
    {JmpCond::Gt, false, ~0ull, 1, true},  // unsigned
    {JmpCond::Gt, false, 1, 1, false},
    {JmpCond::Gt, true, 0x100000000ull, 1, false},
    {JmpCond::Ge, false, 1, 1, true},
    {JmpCond::Ge, true, 0x100000000ull, 1, false},
    {JmpCond::Lt, false, 1, ~0ull, true},
    {JmpCond::Lt, true, 0xffffffff00000001ull, 2, true},
    {JmpCond::Le, false, 2, 2, true},
    {JmpCond::Le, false, 3, 2, false},
    {JmpCond::Set, false, 0x100000000ull, 0x100000000ull, true, false},
    {JmpCond::Set, true, 0x100000000ull, 0x100000000ull, false, false},
    {JmpCond::Set, false, 6, 3, true},
    {JmpCond::Set, false, 4, 3, false},
    {JmpCond::Sgt, false, ~0ull, 1, false},  // signed: -1 > 1 is false
    {JmpCond::Sgt, false, 2, 1, true},
    {JmpCond::Sgt, true, 0x80000000ull, 0, false},
    {JmpCond::Sgt, false, 0x80000000ull, 0, true},
    {JmpCond::Sge, false, ~0ull, ~0ull, true},
    {JmpCond::Sge, true, 0x00000000ffffffffull, 0, false},
    {JmpCond::Slt, false, ~0ull, 0, true},
    {JmpCond::Slt, true, 0x80000000ull, 0, true},
    {JmpCond::Slt, false, 0x80000000ull, 0, false},
    {JmpCond::Sle, false, uint64_t(-5), uint64_t(-5), true},
    {JmpCond::Sle, true, 0x1fffffffbull, uint64_t(-6), false},
};

// r1 = dst; r2 = src; r0 = 0; if (r1 COND src) goto +1; exit; r0 = 1; exit.
uint64_t run_jump(const JumpCase& c, bool checked, bool imm) {
  return run({lddw(1, c.dst), lddw(2, c.src), mov(0, 0),
              jmp(c.cond, 1, imm ? Operand::Imm(int32_t(uint32_t(c.src))) : Operand::Reg(2), 1, c.is32),
              exit_insn(), mov(0, 1), exit_insn()},
             checked);
}

std::vector<JumpCase> immediate_jump_cases() {
  std::vector<JumpCase> out;
  for (const JumpCase& c : kJumpCases)
    if (c.imm_ok) out.push_back(c);
  return out;
}

class JumpRegisterTest : public ::testing::TestWithParam<std::tuple<bool, JumpCase>> {};
class JumpImmediateTest : public ::testing::TestWithParam<std::tuple<bool, JumpCase>> {};

TEST_P(JumpRegisterTest, Taken) {
  const auto& [checked, c] = GetParam();
  EXPECT_EQ(run_jump(c, checked, false), c.taken ? 1u : 0u)
      << "cond " << int(c.cond) << (c.is32 ? " 32" : " 64") << " dst=" << hex(c.dst) << " src=" << hex(c.src);
}

TEST_P(JumpImmediateTest, Taken) {
  const auto& [checked, c] = GetParam();
  EXPECT_EQ(run_jump(c, checked, true), c.taken ? 1u : 0u)
      << "cond " << int(c.cond) << (c.is32 ? " 32" : " 64") << " dst=" << hex(c.dst) << " src=" << hex(c.src);
}

INSTANTIATE_TEST_SUITE_P(Interpreter, JumpRegisterTest,
                         ::testing::Combine(::testing::Bool(), ::testing::ValuesIn(kJumpCases)));
INSTANTIATE_TEST_SUITE_P(Interpreter, JumpImmediateTest,
                         ::testing::Combine(::testing::Bool(), ::testing::ValuesIn(immediate_jump_cases())));

class ControlFlowTest : public BothModes {};

TEST_P(ControlFlowTest, BackwardLoopCounts) {
  // r0 = 0; r1 = 10; loop: r0 += r1; r1 -= 1; if r1 != 0 goto loop; exit  => 55
  EXPECT_EQ(
      run({mov(0, 0), mov(1, 10), alu(AluOp::Add, true, 0, Operand::Reg(1)),
           alu(AluOp::Sub, true, 1, Operand::Imm(1)), jmp(JmpCond::Ne, 1, Operand::Imm(0), -3), exit_insn()},
          checked()),
      55u);
}

TEST_P(ControlFlowTest, JaAndWideJa) {
  EXPECT_EQ(run({mov(0, 1), ja(1), mov(0, 2), exit_insn()}, checked()), 1u);
  EXPECT_EQ(run({mov(0, 1), Ja{1, true}, mov(0, 2), exit_insn()}, checked()), 1u);
}

TEST_P(ControlFlowTest, JumpOverLddwCountsSlots) {
  // The offset counts raw slots: the lddw being skipped takes two.
  EXPECT_EQ(run({mov(0, 3), ja(2), lddw(0, 7), exit_insn()}, checked()), 3u);
}

TEST_P(ControlFlowTest, LddwLoadsBothHalves) {
  EXPECT_EQ(run({lddw(0, 0x8000000180000002ull), exit_insn()}, checked()), 0x8000000180000002ull);
}

TEST_P(ControlFlowTest, ArgumentsArriveInR1AndR2) {
  EXPECT_EQ(run({movr(0, 1), alu(AluOp::Sub, true, 0, Operand::Reg(2)), exit_insn()}, checked(), 50, 8), 42u);
}

INSTANTIATE_TEST_SUITE_P(Interpreter, ControlFlowTest, ::testing::Bool());

}  // namespace
}  // namespace bpfkit::interp_test
