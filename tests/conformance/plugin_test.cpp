// The bpfkit-conformance-plugin executable, driven the way the bpf_conformance
// runner drives it: program hex on stdin, memory hex as the first argument.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include "conformance/data_file.h"
#include "conformance/runner.h"
#include "../support/run_command.h"
#include "conformance_paths.h"
#include "isa/codec.h"

namespace bpfkit::conformance_test {
namespace {

// "b7  00  ..." as the runner writes it: two hex digits and two spaces per byte.
std::string hex_text(const std::vector<uint8_t>& bytes) {
  std::string s;
  char b[8];
  for (uint8_t v : bytes) {
    std::snprintf(b, sizeof b, "%02x  ", v);
    s += b;
  }
  return s;
}

using PluginRun = test_support::CommandResult;

// Runs the plugin with a shell pipeline; every argument is hex text and spaces only.
PluginRun run_plugin(const std::string& program_hex, const std::string& memory_hex,
                     const std::string& options) {
  return test_support::run_command("printf '%s\\n' '" + program_hex + "' | '" + plugin_path() + "' '" +
                                   memory_hex + "' " + (options.empty() ? "" : "'" + options + "'"));
}

PluginRun run_data_file(const std::string& file, const std::string& options = "") {
  const conformance::DataFile f = conformance::read_data_file(data_dir() / "tests" / file);
  const std::vector<uint8_t> program = isa::bytes_from_raw(conformance::program_of(f));
  return run_plugin(hex_text(program), f.mem ? hex_text(*f.mem) : "", options);
}

class Plugin : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(plugin_path())) FAIL() << plugin_path() << " is not built";
    if (data_dir().empty()) FAIL() << "conformance-data not found: set BPFKIT_CONFORMANCE_DIR";
  }
};

TEST_F(Plugin, PrintsR0InHex) {
  // add.data: r0 = 0x3, no memory.
  const PluginRun r = run_data_file("add.data");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "3\n");
}

TEST_F(Plugin, PassesMemory) {
  // ldxh-all.data reads its 20 bytes of memory: r0 = 0x9876543210.
  const PluginRun r = run_data_file("ldxh-all.data");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "9876543210\n");
}

TEST_F(Plugin, SixtyFourBitResultAndEngineOption) {
  // lddw.data: r0 = 0x1122334455667788; the runner passes options as one argument.
  const PluginRun r = run_data_file("lddw.data", "--engine interp");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "1122334455667788\n");
}

TEST_F(Plugin, ReportsRejection) {
  // The first slot of negative/unused-exit-dst.data: exit with dst = 1.
  const PluginRun r = run_plugin("95  01  00  00  00  00  00  00", "", "");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "instruction 0: opcode 0x95: dst register field is reserved and must be 0, is 1\n");
}

TEST_F(Plugin, ReportsRuntimeErrorAndBadInput) {
  // ldxdw r0, [r1+0] with 2 bytes of memory.
  PluginRun r = run_plugin("79  10  00  00  00  00  00  00  95  00  00  00  00  00  00  00", "aa  bb", "");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.output.starts_with("instruction 0: load of 8 bytes at r1 (0x")) << r.output;
  r = run_plugin("95  00  00", "", "");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.output.starts_with("truncated bytecode: 3 bytes")) << r.output;
  r = run_plugin("95  00  00  00  00  00  00  00", "zz", "");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "memory: token 0 'zz' is not a hex byte\n");
  r = run_plugin("95  00  00  00  00  00  00  00", "", "--engine llvm");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "unknown engine 'llvm': use interp or jit\n");
}

}  // namespace
}  // namespace bpfkit::conformance_test
