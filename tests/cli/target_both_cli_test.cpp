// `--target both` end to end: the same object and input on the userspace target and
// in the kernel; agreement is reported with status 0, each difference with status 1.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../support/compile_bpf.h"
#include "../support/run_command.h"
#include "target/linux/bpf_syscall.h"

namespace {

namespace fs = std::filesystem;
using bpfkit::test_support::run_command;

const std::string kBpfkit = std::string(BPFKIT_BINARY_DIR) + "/bpfkit";
const std::string kExamples = std::string(BPFKIT_BINARY_DIR) + "/examples/";
const std::string kSourceExamples = std::string(BPFKIT_SOURCE_DIR) + "/examples/";

#define REQUIRE_KERNEL()                                                                  \
  if (!bpfkit::target::linux_kernel::kernel_bpf_available())                              \
  GTEST_SKIP() << "the kernel cannot run BPF here: "                                      \
               << bpfkit::target::linux_kernel::kernel_bpf_unavailable_reason()

std::string temp_file(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("bpfkit-both-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

TEST(TargetBoth, TheBlocklistAgreesOnEveryPacketAndMap) {
  REQUIRE_KERNEL();
  if (!fs::exists(kExamples + "xdp_blocklist.bpf.o")) GTEST_SKIP() << "examples were not built (clang missing?)";
  const std::string pcap = temp_file("t.pcap");
  ASSERT_EQ(run_command(kBpfkit + " gen-pcap -n 500 --seed 7 " + pcap).status, 0);
  const auto r = run_command(kBpfkit + " run " + kExamples + "xdp_blocklist.bpf.o --target both --pcap " + pcap +
                             " --map blocklist=" + kSourceExamples + "blocklist.json");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("on the user target"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("on the linux target"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("targets agree"), std::string::npos) << r.output;
}

// A program whose result depends on where it runs (the kernel's clock) must be reported.
TEST(TargetBoth, ADifferenceIsReportedWithWhereItIs) {
  REQUIRE_KERNEL();
  BPFKIT_REQUIRE_BPF_CLANG();
  const std::string obj = bpfkit::test_support::compile_bpf(R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 2); } seen SEC(".maps");
SEC("xdp") int stamp(struct xdp_md *ctx) {
  __u32 k = 0, one = 1;
  __u64 now = bpf_ktime_get_ns(), *v = bpf_map_lookup_elem(&seen, &k);
  if (v) *v = now;
  v = bpf_map_lookup_elem(&seen, &one);
  if (v) *v = 7;
  return (now & 1) ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
)");
  ASSERT_FALSE(obj.empty());
  const std::string packet = temp_file("packet.bin");
  std::ofstream(packet, std::ios::binary) << std::string(64, '\0');
  const auto r = run_command(kBpfkit + " test-run " + obj + " --target both --data " + packet);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("targets differ"), std::string::npos) << r.output;
  // Key 0 holds each target's clock and differs; key 1 holds the same 7 on both.
  EXPECT_NE(r.output.find("map 'seen' key 0: user "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("map 'seen' key 1"), std::string::npos) << r.output;
}

TEST(TargetBoth, NeedsAnObject) {
  const std::string asm_file = temp_file("p.s");
  std::ofstream(asm_file) << "r0 = 1\nexit\n";
  const auto r = run_command(kBpfkit + " run " + asm_file + " --target both");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("runs clang-compiled objects"), std::string::npos) << r.output;
}

}  // namespace
