// `bpfkit run --pcap` with an XDP program that redirects through a devmap: redirected
// packets are counted (per target too) and written with --out; XDP_REDIRECT without a
// target is a drop, as in the kernel. (Only passed and redirected packets are written.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "../support/compile_bpf.h"
#include "../support/run_command.h"
#include "hooks/pcap_file.h"

namespace {

namespace fs = std::filesystem;
using bpfkit::test_support::run_command;

const std::string kBpfkit = std::string(BPFKIT_BINARY_DIR) + "/bpfkit";

uint64_t count_of(const std::string& output, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex("\\n  " + label + ": (\\d+)"))) return 0;
  return std::stoull(m[1]);
}

constexpr const char* kSource = R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} tx SEC(".maps");

SEC("xdp")
int fwd(struct xdp_md *ctx) {
  unsigned char *p = (void *)(long)ctx->data;
  if (p + 30 > (unsigned char *)(long)ctx->data_end) return XDP_PASS;
  __u32 k = p[29] & 3;  /* the low bits of an IPv4 source address */
  if (k == 3) return XDP_REDIRECT;  /* no target set */
  return bpf_redirect_map(&tx, k, XDP_DROP);
}

char LICENSE[] SEC("license") = "GPL";
)";

TEST(RedirectCli, RedirectedPacketsAreCountedAndWritten) {
  BPFKIT_REQUIRE_BPF_CLANG();
  const std::string obj = bpfkit::test_support::compile_bpf(kSource);
  ASSERT_FALSE(obj.empty());
  const fs::path dir = fs::path(obj).parent_path();
  const std::string in = (dir / "in.pcap").string(), out = (dir / "out.pcap").string();
  const std::string fill = (dir / "tx.json").string();
  // Keys 0 and 1 go to the loopback device (ifindex 1 exists everywhere); 2 is empty.
  std::ofstream(fill) << R"([{"key": 0, "value": 1}, {"key": 1, "value": 1}])";
  ASSERT_EQ(run_command(kBpfkit + " gen-pcap " + in + " --packets 300 --seed 21").status, 0);
  auto r = run_command(kBpfkit + " run " + obj + " --pcap " + in + " --out " + out + " --map tx=" + fill);
  ASSERT_EQ(r.status, 0) << r.output;

  uint64_t want[4] = {}, skipped = 0, short_pass = 0;
  std::vector<std::vector<uint8_t>> want_out;
  for (const auto& p : bpfkit::hooks::read_pcap(in).packets) {
    if (p.data.size() < 14) {
      ++skipped;
      continue;
    }
    if (p.data.size() < 30) {
      ++short_pass;  // too short to hold the byte: passed, and written too
      want_out.push_back(p.data);
      continue;
    }
    const uint32_t k = p.data[29] & 3;
    ++want[k];
    if (k < 2) want_out.push_back(p.data);
  }
  for (uint32_t k = 0; k < 4; ++k) ASSERT_GT(want[k], 0u) << "the generated capture lacks key " << k;
  EXPECT_EQ(count_of(r.output, "XDP_REDIRECT"), want[0] + want[1]) << r.output;
  EXPECT_EQ(count_of(r.output, "XDP_DROP"), want[2]) << r.output;
  EXPECT_EQ(count_of(r.output, "XDP_PASS"), short_pass) << r.output;
  EXPECT_EQ(count_of(r.output, "XDP_REDIRECT without a target \\(dropped\\)"), want[3]) << r.output;
  EXPECT_EQ(count_of(r.output, "redirected to devmap key 0 \\(ifindex 1\\)"), want[0]) << r.output;
  EXPECT_EQ(count_of(r.output, "redirected to devmap key 1 \\(ifindex 1\\)"), want[1]) << r.output;
  const auto written = bpfkit::hooks::read_pcap(out);
  ASSERT_EQ(written.packets.size(), want_out.size()) << r.output;
  for (size_t i = 0; i < want_out.size(); ++i) EXPECT_EQ(written.packets[i].data, want_out[i]) << i;
}

}  // namespace
