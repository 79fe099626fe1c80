// `bpfkit verify` end to end: the examples are accepted; a program that uses a
// map value without its NULL check is rejected with the instruction, the C
// source line, the register and the path; --json and --log-level report it too.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/compile_bpf.h"
#include "../support/run_command.h"

namespace {

namespace fs = std::filesystem;
using bpfkit::test_support::run_command;

const std::string kBpfkit = std::string(BPFKIT_BINARY_DIR) + "/bpfkit";
const std::string kExamples = std::string(BPFKIT_BINARY_DIR) + "/examples/";

TEST(VerifyCli, AcceptsEveryExample) {
  int seen = 0;
  for (const auto& e : fs::directory_iterator(kExamples)) {
    if (e.path().extension() != ".o") continue;
    ++seen;
    const auto r = run_command(kBpfkit + " verify " + e.path().string());
    EXPECT_EQ(r.status, 0) << e.path() << "\n" << r.output;
    EXPECT_NE(r.output.find("accepted"), std::string::npos) << r.output;
  }
  if (seen == 0) GTEST_SKIP() << "examples were not built (clang missing?)";
}

const char* kMissingNullCheck = R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");
SEC("xdp")
int count_packets(struct xdp_md *ctx) {
  __u32 key = ctx->ingress_ifindex;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (key == 7)
    return XDP_DROP;
  *value += 1;  /* no NULL check */
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
)";

TEST(VerifyCli, RejectionNamesInstructionSourceLineRegisterAndPath) {
  BPFKIT_REQUIRE_BPF_CLANG();
  const std::string obj = bpfkit::test_support::compile_bpf(kMissingNullCheck);
  const auto r = run_command(kBpfkit + " verify " + obj);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("REJECTED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("may be NULL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("*value += 1"), std::string::npos) << "the C source line\n" << r.output;
  EXPECT_NE(r.output.find("path: insn"), std::string::npos) << r.output;

  const auto j = run_command(kBpfkit + " verify --json " + obj);
  const auto doc = nlohmann::json::parse(j.output);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["verdict"], "reject");
  EXPECT_EQ(doc[0]["reason"], "null_dereference");
  EXPECT_GT(doc[0]["insns_processed"].get<int>(), 0);

  // Level 1: the failing path's states, one line per instruction, ending at the error.
  const auto l1 = run_command(kBpfkit + " verify --log-level 1 " + obj);
  EXPECT_NE(l1.output.find("R1=ctx()"), std::string::npos) << l1.output;
  EXPECT_NE(l1.output.find("map_value_or_null"), std::string::npos) << l1.output;
}

TEST(VerifyCli, UnknownProgramIsBadInput) {
  if (!fs::exists(kExamples + "hello.bpf.o")) GTEST_SKIP() << "examples were not built";
  const auto r = run_command(kBpfkit + " verify --prog nosuch " + kExamples + "hello.bpf.o");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("no program named 'nosuch'"), std::string::npos) << r.output;
}

}  // namespace
