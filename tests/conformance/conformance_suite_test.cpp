// Every conformance .data test through the interpreter and the JIT, and the
// negative files that a conforming implementation must reject.
#include <gtest/gtest.h>

#include "conformance/runner.h"
#include "conformance_paths.h"
#include "isa/codec.h"
#include "vm/engine.h"

namespace bpfkit::conformance_test {
namespace {

using conformance::EngineKind;

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param.substr(0, info.param.size() - 5);  // without ".data"
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

conformance::TestOutcome run_file(const std::string& sub, const std::string& file, EngineKind engine) {
  return conformance::run_test_file(data_dir() / sub / file, sub + "/" + file, engine, sub == "negative");
}

TEST(ConformanceData, IsPresent) {
  ASSERT_FALSE(data_dir().empty()) << "conformance-data not found: set BPFKIT_CONFORMANCE_DIR";
  EXPECT_EQ(data_files("tests").size(), 313u);
  EXPECT_EQ(data_files("negative").size(), 60u);
}

class InterpreterConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(InterpreterConformance, Passes) {
  const auto out = run_file("tests", GetParam(), EngineKind::Interpreter);
  EXPECT_TRUE(out.ok) << out.where << ": " << out.detail;
  EXPECT_FALSE(out.negative);
}

INSTANTIATE_TEST_SUITE_P(Suite, InterpreterConformance, ::testing::ValuesIn(data_files("tests")), test_name);

// The JIT arrives separately: until make_jit does more than say it is not
// implemented, its conformance tests are skipped, not failed.
bool jit_not_implemented(std::string* why) {
  try {
    vm::Program program(isa::encode_program(std::vector<isa::Instruction>{
        isa::Alu{isa::AluOp::Mov, true, 0, isa::Operand::Imm(0)}, isa::Exit{}}));
    vm::make_jit(program);
  } catch (const Error& e) {
    *why = e.what();
    return std::string(e.what()).find("not implemented") != std::string::npos;
  }
  return false;
}

class JitConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(JitConformance, Passes) {
  std::string why;
  if (jit_not_implemented(&why)) GTEST_SKIP() << why;
  const auto out = run_file("tests", GetParam(), EngineKind::Jit);
  EXPECT_TRUE(out.ok) << out.where << ": " << out.detail;
}

INSTANTIATE_TEST_SUITE_P(Suite, JitConformance, ::testing::ValuesIn(data_files("tests")), test_name);

class NegativeConformance : public ::testing::TestWithParam<std::string> {};

// error.data (`or %r0, %r10`, expected error "Invalid") assembles, decodes and runs:
// only a verifier refuses it (the kernel's: bitwise operation on a pointer). Every
// other negative file is refused by the parser, the assembler, the decoder or its result.
TEST_P(NegativeConformance, IsRejected) {
  if (GetParam() == "error.data") GTEST_SKIP() << "needs a verifier to be rejected";
  const auto out = run_file("negative", GetParam(), EngineKind::Interpreter);
  EXPECT_TRUE(out.negative);
  EXPECT_TRUE(out.ok) << out.where << ": " << out.detail;
}

INSTANTIATE_TEST_SUITE_P(Suite, NegativeConformance, ::testing::ValuesIn(data_files("negative")), test_name);

TEST(NegativeConformanceSummary, UnusedFieldsAreRejectedByTheDecoder) {
  int unused = 0;
  for (const std::string& f : data_files("negative")) {
    if (!f.starts_with("unused-")) continue;
    ++unused;
    const auto out = run_file("negative", f, EngineKind::Interpreter);
    EXPECT_TRUE(out.ok) << f << ": " << out.detail;
    // Refused for the right reason: a reserved field, named by the decoder.
    EXPECT_NE(out.detail.find("is reserved and must be 0"), std::string::npos) << f << ": " << out.detail;
  }
  EXPECT_EQ(unused, 45);
}

TEST(NegativeConformanceSummary, ErrorDataRunsWithoutAVerifier) {
  // Documents the one accepted negative file; when a verifier joins the runner this flips.
  if (data_dir().empty()) GTEST_SKIP() << "no conformance data";
  const auto out = run_file("negative", "error.data", EngineKind::Interpreter);
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(out.needs_verifier);
  EXPECT_NE(out.detail.find("but must be rejected (expected error: Invalid)"), std::string::npos)
      << out.detail;
}

TEST(ConformanceSuite, WholeDirectoryReport) {
  ASSERT_FALSE(data_dir().empty());
  const conformance::SuiteReport r = conformance::run_suite(data_dir(), {EngineKind::Interpreter, ""});
  EXPECT_EQ(r.passed, 313);
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(r.rejected + r.accepted, 60);
  EXPECT_EQ(r.unused_total, 45);
  EXPECT_EQ(r.unused_rejected, 45);
  EXPECT_EQ(r.accepted, 1);
  EXPECT_EQ(r.accepted_needing_verifier, 1);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.outcomes.front().name, "tests/add.data");
  EXPECT_EQ(r.outcomes.back().name, "negative/unused-stxw-imm.data");
}

TEST(ConformanceSuite, Filter) {
  ASSERT_FALSE(data_dir().empty());
  const conformance::SuiteReport r =
      conformance::run_suite(data_dir(), {EngineKind::Interpreter, "tests/lock_cmpxchg"});
  ASSERT_EQ(r.outcomes.size(), 2u);
  EXPECT_EQ(r.outcomes[0].name, "tests/lock_cmpxchg.data");
  EXPECT_EQ(r.outcomes[1].name, "tests/lock_cmpxchg32.data");
  EXPECT_EQ(r.passed, 2);
}

TEST(ConformanceSuite, NegativeDirectoryAlone) {
  ASSERT_FALSE(data_dir().empty());
  const conformance::SuiteReport r =
      conformance::run_suite(data_dir() / "negative", {EngineKind::Interpreter, "unused-"});
  EXPECT_EQ(r.passed + r.failed, 0);
  EXPECT_EQ(r.rejected, 45);
  EXPECT_EQ(r.outcomes.front().name, "unused-add64_imm-offset.data");
}

}  // namespace
}  // namespace bpfkit::conformance_test
