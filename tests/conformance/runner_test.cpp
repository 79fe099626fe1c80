// The conformance runner on small hand-written files: verdicts, locations,
// the suite's helper 5, memory copies and directory handling.
#include "conformance/runner.h"

#include <gtest/gtest.h>

#include <fstream>

#include "isa/codec.h"

namespace bpfkit::conformance {
namespace {

namespace fs = std::filesystem;
using namespace isa;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/bpfkit-conformance-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path write(const std::string& name, const std::string& text) const {
    fs::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TestOutcome run_text(const std::string& text, bool negative = false) {
  TempDir dir;
  return run_test_file(dir.write("x.data", text), "x.data", EngineKind::Interpreter, negative);
}

TEST(ConformanceRunner, PassingTest) {
  const TestOutcome t = run_text("-- asm\nmov %r0, 7\nexit\n-- result\n0x7\n");
  EXPECT_TRUE(t.ok);
  EXPECT_FALSE(t.negative);
  EXPECT_EQ(t.where, "x.data");
  EXPECT_EQ(t.detail, "r0 = 0x7");
}

TEST(ConformanceRunner, WrongResult) {
  const TestOutcome t = run_text("-- asm\nmov %r0, 7\nexit\n-- result\n0x8\n");
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.detail, "r0 = 0x7, expected 0x8");
}

TEST(ConformanceRunner, AssemblyErrorNamesTheFileLine) {
  const TestOutcome t = run_text("# header\n-- asm\nmov %r0, 7\nfrobnicate %r0\nexit\n-- result\n0x8\n");
  EXPECT_FALSE(t.ok);
  EXPECT_TRUE(t.where.starts_with("x.data:4:")) << t.where;
}

TEST(ConformanceRunner, RuntimeErrorFails) {
  const TestOutcome t = run_text("-- asm\nldxdw %r0, [%r1+8]\nexit\n-- mem\n00 01\n-- result\n0x0\n");
  EXPECT_FALSE(t.ok);
  EXPECT_TRUE(t.detail.starts_with("instruction 0: load of 8 bytes at r1+8 (0x")) << t.detail;
}

TEST(ConformanceRunner, MissingResult) {
  const TestOutcome t = run_text("-- asm\nexit\n");
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.detail, "no -- result section to compare r0 with");
}

TEST(ConformanceRunner, MemoryIsR1AndItsLengthR2) {
  EXPECT_TRUE(run_text("-- asm\nmov %r0, %r2\nexit\n-- mem\n01 02 03\n-- result\n0x3\n").ok);
  EXPECT_TRUE(run_text("-- asm\nmov %r0, %r1\nexit\n-- result\n0x0\n").ok);  // no memory: r1 = 0
  EXPECT_TRUE(run_text("-- asm\nldxb %r0, [%r1+2]\nexit\n-- mem\n01 02 03\n-- result\n0x3\n").ok);
}

TEST(ConformanceRunner, RunProgramWorksOnACopy) {
  const std::vector<uint8_t> mem = {1, 2, 3, 4};
  // stb [r1], 9; ldxw r0, [r1]; exit
  const auto program = encode_program(
      std::vector<Instruction>{Store{1, 1, 0, Operand::Imm(9)}, Load{4, false, 0, 1, 0}, Exit{}});
  EXPECT_EQ(run_program(program, mem, EngineKind::Interpreter), 0x04030209u);
  EXPECT_EQ(mem[0], 1);
}

TEST(ConformanceRunner, HelperFiveReturnsItsArgument) {
  EXPECT_TRUE(run_text("-- asm\nmov %r1, 33\ncall 5\nexit\n-- result\n0x21\n").ok);
  // callx through a register holding 5.
  EXPECT_TRUE(run_text("-- asm\nmov %r1, 12\nmov %r3, 5\ncall %r3\nexit\n-- result\n0xc\n").ok);
}

TEST(ConformanceRunner, HelperFiveStopsOnZero) {
  // Returning 0 stops the program: r0 = 0, the mov after the call never runs.
  EXPECT_TRUE(run_text("-- asm\nmov %r1, 0\ncall 5\nmov %r0, 2\nexit\n-- result\n0x0\n").ok);
  const auto program = encode_program(
      std::vector<Instruction>{Alu{AluOp::Mov, true, 1, Operand::Imm(0)}, Call{CallKind::Helper, 5},
                               Alu{AluOp::Mov, true, 0, Operand::Imm(2)}, Exit{}});
  EXPECT_EQ(run_program(program, {}, EngineKind::Interpreter), 0u);
  EXPECT_EQ(conformance_helpers().find(5)->name, "conformance_unwind");
  EXPECT_NE(conformance_helpers().find(BPF_FUNC_get_prandom_u32), nullptr);  // the standard ones stay
}

TEST(ConformanceRunner, NegativeVerdicts) {
  // Rejected by the assembler, by the decoder, by a failing run, by a wrong result.
  EXPECT_TRUE(run_text("-- asm\nfrobnicate\n-- error\n", true).ok);
  EXPECT_TRUE(run_text("-- raw\n07 10 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n", true).ok);
  EXPECT_TRUE(run_text("-- asm\nldxdw %r0, [%r1]\nexit\n-- error\n", true).ok);
  const TestOutcome wrong = run_text("-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n", true);
  EXPECT_TRUE(wrong.ok);
  EXPECT_EQ(wrong.detail, "r0 = 0x1 differs from -- result 0x2");
  // Accepted: it runs and meets its result, or runs although an error was expected.
  const TestOutcome ran = run_text("-- asm\nmov %r0, 1\nexit\n-- error\nInvalid\n", true);
  EXPECT_FALSE(ran.ok);
  EXPECT_EQ(ran.detail,
            "ran and returned r0 = 0x1 but must be rejected (expected error: Invalid); only a verifier can "
            "reject it, and bpfkit has none yet");
  EXPECT_TRUE(ran.needs_verifier);
  const TestOutcome right = run_text("-- asm\nmov %r0, 2\nexit\n-- result\n0x2\n", true);
  EXPECT_FALSE(right.ok);
  EXPECT_FALSE(right.needs_verifier);  // its result says it should have differed: a real failure
}

TEST(ConformanceRunner, ErrorSectionWithoutResultIsNegativeAnywhere) {
  const TestOutcome t = run_text("-- asm\nmov %r0, 1\nexit\n-- error\n");
  EXPECT_TRUE(t.negative);
  EXPECT_FALSE(t.ok);
  EXPECT_TRUE(run_text("-- raw\n95 01 00 00 00 00 00 00\n-- error\n").ok);
}

TEST(ConformanceRunner, MalformedFileLocation) {
  const TestOutcome t = run_text("-- asm\nexit\n-- result\nseven\n");
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.where, "x.data:4");
  EXPECT_EQ(t.detail, "'seven' is not a 64-bit number (0x... for hex)");
}

TEST(ConformanceRunner, SuiteLayouts) {
  TempDir d;
  d.write("tests/a.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n");
  d.write("tests/b.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n");
  d.write("tests/notes.txt", "not a test");
  d.write("negative/unused-x.data", "-- raw\n95 01 00 00 00 00 00 00\n-- error\n");
  d.write("negative/y.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n");

  SuiteReport all = run_suite(d.path(), {});
  ASSERT_EQ(all.outcomes.size(), 4u);
  EXPECT_EQ(all.outcomes[0].name, "tests/a.data");
  EXPECT_EQ(all.outcomes[3].name, "negative/y.data");
  EXPECT_EQ(all.passed, 1);
  EXPECT_EQ(all.failed, 1);
  EXPECT_EQ(all.rejected, 1);
  EXPECT_EQ(all.accepted, 1);
  EXPECT_EQ(all.unused_total, 1);
  EXPECT_EQ(all.unused_rejected, 1);
  EXPECT_FALSE(all.ok());

  SuiteReport tests_only = run_suite(d.path() / "tests", {EngineKind::Interpreter, "a."});
  ASSERT_EQ(tests_only.outcomes.size(), 1u);
  EXPECT_EQ(tests_only.outcomes[0].name, "a.data");
  EXPECT_TRUE(tests_only.ok());

  SuiteReport negative_dir = run_suite(d.path() / "negative", {});
  EXPECT_EQ(negative_dir.rejected + negative_dir.accepted, 2);

  SuiteReport one = run_suite(d.path() / "negative" / "unused-x.data", {});
  ASSERT_EQ(one.outcomes.size(), 1u);
  EXPECT_TRUE(one.outcomes[0].negative);

  EXPECT_THROW(run_suite(d.path() / "missing", {}), Error);
  fs::create_directories(d.path() / "empty");
  EXPECT_THROW(run_suite(d.path() / "empty", {}), Error);
}

TEST(ConformanceRunner, EngineNames) {
  EXPECT_EQ(parse_engine_kind("interp"), EngineKind::Interpreter);
  EXPECT_EQ(parse_engine_kind("jit"), EngineKind::Jit);
  EXPECT_THROW(parse_engine_kind("llvm"), Error);
  EXPECT_STREQ(engine_kind_name(EngineKind::Jit), "jit");
}

}  // namespace
}  // namespace bpfkit::conformance
