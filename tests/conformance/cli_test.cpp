// `bpfkit conformance`: its report lines and exit status.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../support/run_command.h"
#include "conformance_paths.h"

namespace bpfkit::conformance_test {
namespace {

namespace fs = std::filesystem;

using CliRun = test_support::CommandResult;

CliRun bpfkit(const std::string& args) {
  return test_support::run_command(std::string("'" BPFKIT_BINARY_DIR "/bpfkit' conformance ") + args);
}

class ConformanceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bpfkit-conformance-cli-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name) << text;
  }
  fs::path dir_;
};

TEST_F(ConformanceCli, AllPass) {
  write("tests/a.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n");
  write("tests/b.data", "-- asm\nmov32 %r0, -1\nexit\n-- result\n0xffffffff\n");
  const CliRun r = bpfkit("'" + dir_.string() + "/tests'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "2 passed, 0 failed\n");
}

TEST_F(ConformanceCli, FailuresAndNegatives) {
  write("tests/a.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n");
  write("tests/b.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n");
  write("tests/c.data", "-- asm\nmov %r0, 1\nbogus\nexit\n-- result\n0x2\n");
  write("negative/unused-a.data", "-- raw\n95 01 00 00 00 00 00 00\n-- error\n");
  write("negative/b.data", "-- asm\nmov %r0, 1\nexit\n-- error\nInvalid\n");
  const CliRun r = bpfkit("'" + dir_.string() + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output,
            "FAIL tests/b.data: r0 = 0x1, expected 0x2\n"
            "FAIL tests/c.data:3:1: unknown mnemonic 'bogus'\n"
            "ACCEPTED negative/b.data: ran and returned r0 = 0x1 but must be rejected (expected error: Invalid)"
            "; only a verifier can reject it, and bpfkit has none yet\n"
            "negative: 1 rejected, 1 accepted (1 need a verifier to be rejected)\n"
            "negative unused-*: 1 of 1 rejected\n"
            "1 passed, 2 failed\n");
}

// Until bpfkit has a verifier, a well-formed negative program that runs is listed, not failed.
TEST_F(ConformanceCli, NegativeNeedingAVerifierDoesNotFail) {
  write("tests/a.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n");
  write("negative/b.data", "-- asm\nor %r0, %r10\nexit\n-- error\nInvalid\n");
  write("negative/c.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n");  // right result: accepted, fails
  CliRun r = bpfkit("'" + dir_.string() + "'");
  EXPECT_EQ(r.status, 1) << r.output;
  std::filesystem::remove(dir_ / "negative/c.data");
  r = bpfkit("'" + dir_.string() + "'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("(1 need a verifier to be rejected)"), std::string::npos) << r.output;
}

TEST_F(ConformanceCli, VerboseAndFilter) {
  write("a.data", "-- asm\nmov %r0, 7\nexit\n-- result\n0x7\n");
  write("b.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n");
  const CliRun r = bpfkit("--verbose --filter a. '" + dir_.string() + "'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "ok a.data: r0 = 0x7\n1 passed, 0 failed\n");
}

TEST_F(ConformanceCli, BadDirectory) {
  const CliRun r = bpfkit("'" + dir_.string() + "/nowhere'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "bpfkit: " + dir_.string() + "/nowhere: no such file or directory\n");
}

TEST_F(ConformanceCli, WholeSuiteOnTheInterpreter) {
  if (data_dir().empty()) GTEST_SKIP() << "no conformance data";
  const CliRun r = bpfkit("--engine interp '" + data_dir().string() + "'");
  // The closing line counts the 313 positive tests.
  EXPECT_TRUE(r.output.ends_with("\n313 passed, 0 failed\n")) << r.output;
  EXPECT_NE(r.output.find("negative unused-*: 45 of 45 rejected\n"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bpfkit::conformance_test
