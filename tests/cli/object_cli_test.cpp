// `bpfkit run` / `test-run` / `gen-pcap` on the clang-compiled examples, end to end.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "../support/run_command.h"
#include "hooks/packet_generator.h"
#include "hooks/pcap_file.h"
#include "target/linux/bpf_syscall.h"

namespace {

namespace fs = std::filesystem;
using bpfkit::test_support::run_command;

const std::string kBpfkit = std::string(BPFKIT_BINARY_DIR) + "/bpfkit";
const std::string kExamples = std::string(BPFKIT_BINARY_DIR) + "/examples/";
const std::string kSourceExamples = std::string(BPFKIT_SOURCE_DIR) + "/examples/";

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("bpfkit-objcli-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

#define REQUIRE_EXAMPLE(name) \
  if (!fs::exists(kExamples + name + ".bpf.o")) GTEST_SKIP() << "examples were not built (clang missing?)"

uint64_t count_of(const std::string& output, const std::string& verdict) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex(verdict + ": (\\d+)"))) return 0;
  return std::stoull(m[1]);
}

// The blocklist example's decision, written independently of the program.
// Runts never reach XDP (and BPF_PROG_TEST_RUN refuses them): `run` skips them.
constexpr uint32_t kSkipped = 99;
uint32_t expected_verdict(const std::vector<uint8_t>& p) {
  if (p.size() < ETH_HLEN) return kSkipped;
  if (p[12] != 0x08 || p[13] != 0x00) return XDP_PASS;
  if (p.size() < ETH_HLEN + 20) return XDP_DROP;
  const uint32_t src = uint32_t(p[26]) << 24 | uint32_t(p[27]) << 16 | uint32_t(p[28]) << 8 | p[29];
  for (const char* cidr : {"203.0.113.0/24", "192.168.0.0/17", "10.13.0.0/16", "10.200.0.0/13", "198.51.100.7/32"}) {
    const auto pre = bpfkit::hooks::parse_ipv4_prefix(cidr);
    const uint32_t mask = pre.len ? ~0u << (32 - pre.len) : 0;
    if ((src & mask) == (pre.addr & mask)) return XDP_DROP;
  }
  return XDP_PASS;
}

TEST(ObjectCli, GenPcapIsReproducible) {
  auto dir = temp_dir();
  for (const char* name : {"a", "b"}) {
    auto r = run_command(kBpfkit + " gen-pcap " + (dir / name).string() + ".pcap --packets 50 --seed 3");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  auto r = run_command(kBpfkit + " gen-pcap " + (dir / "c.pcap").string() + " --packets 50 --seed 4");
  ASSERT_EQ(r.status, 0) << r.output;
  auto a = bpfkit::hooks::read_pcap((dir / "a.pcap").string());
  auto b = bpfkit::hooks::read_pcap((dir / "b.pcap").string());
  auto c = bpfkit::hooks::read_pcap((dir / "c.pcap").string());
  ASSERT_EQ(a.packets.size(), 50u);
  for (size_t i = 0; i < a.packets.size(); ++i) EXPECT_EQ(a.packets[i].data, b.packets[i].data);
  bool differs = false;
  for (size_t i = 0; i < a.packets.size(); ++i) differs |= a.packets[i].data != c.packets[i].data;
  EXPECT_TRUE(differs);
}

TEST(ObjectCli, BlocklistOverAPcapCountsVerdictsWritesPassedPacketsAndDumpsMaps) {
  REQUIRE_EXAMPLE("xdp_blocklist");
  auto dir = temp_dir();
  const std::string in = (dir / "in.pcap").string(), out = (dir / "out.pcap").string();
  ASSERT_EQ(run_command(kBpfkit + " gen-pcap " + in + " --packets 2000 --seed 11").status, 0);
  for (const char* engine : {"jit", "interp"}) {
    auto r = run_command(kBpfkit + " run " + kExamples + "xdp_blocklist.bpf.o --engine " + engine + " --pcap " + in +
                         " --out " + out + " --map blocklist=" + kSourceExamples + "blocklist.json --dump-maps");
    ASSERT_EQ(r.status, 0) << r.output;

    uint64_t want_drop = 0, want_pass = 0, want_blocked = 0;
    const auto capture = bpfkit::hooks::read_pcap(in);
    std::vector<std::vector<uint8_t>> want_out;
    uint64_t want_skipped = 0;
    for (const auto& p : capture.packets) {
      if (expected_verdict(p.data) == kSkipped) {
        ++want_skipped;
      } else if (expected_verdict(p.data) == XDP_DROP) {
        ++want_drop;
        want_blocked += p.data.size() >= ETH_HLEN + 20;  // dropped by a prefix, not as malformed
      } else {
        ++want_pass;
        want_out.push_back(p.data);
      }
    }
    EXPECT_EQ(count_of(r.output, "XDP_DROP"), want_drop) << r.output;
    EXPECT_EQ(count_of(r.output, "XDP_PASS"), want_pass) << r.output;
    EXPECT_EQ(count_of(r.output, "skipped \\(shorter than an Ethernet header\\)"), want_skipped) << r.output;
    EXPECT_GT(want_skipped, 0u);
    const auto written = bpfkit::hooks::read_pcap(out);
    ASSERT_EQ(written.packets.size(), want_out.size());
    for (size_t i = 0; i < want_out.size(); ++i) EXPECT_EQ(written.packets[i].data, want_out[i]);

    // The JSON dump after the run: verdict counters by BTF type, prefix hit counts.
    const auto json = nlohmann::json::parse(r.output.substr(r.output.find("{\n")));
    std::map<uint64_t, uint64_t> verdicts;
    for (const auto& e : json["verdicts"]) verdicts[e["key"].get<uint64_t>()] = e["value"].get<uint64_t>();
    EXPECT_EQ(verdicts[XDP_DROP], want_drop);
    EXPECT_EQ(verdicts[XDP_PASS], want_pass);
    uint64_t hits = 0;
    for (const auto& e : json["blocklist"]) {
      EXPECT_TRUE(e["key"].contains("prefixlen")) << e.dump();
      hits += e["value"].get<uint64_t>();
    }
    EXPECT_GT(want_blocked, 100u);
    EXPECT_EQ(hits, want_blocked);
  }
}

TEST(ObjectCli, TraceProgramOverJsonContexts) {
  REQUIRE_EXAMPLE("open_counter");
  auto r = run_command(kBpfkit + " run " + kExamples + "open_counter.bpf.o --ctx " + kSourceExamples +
                       "openat_events.json --dump-maps");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto json = nlohmann::json::parse(r.output.substr(r.output.find("{\n")));
  std::map<uint64_t, uint64_t> opens;
  for (const auto& e : json["opens"]) opens[e["key"].get<uint64_t>()] = e["value"].get<uint64_t>();
  EXPECT_EQ(opens, (std::map<uint64_t, uint64_t>{{4242, 2}, {777, 3}}));
}

TEST(ObjectCli, HelloPrintsItsLines) {
  REQUIRE_EXAMPLE("hello");
  auto r = run_command(kBpfkit + " run " + kExamples + "hello.bpf.o --ctx " + kSourceExamples + "write_events.json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("bpf_trace_printk: Hello, eBPF! pid 1234 wrote 6 bytes to fd 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bpf_trace_printk: Hello, eBPF! pid 1234 wrote 42 bytes to fd 2"), std::string::npos) << r.output;
}

TEST(ObjectCli, RingbufEventsArePrintedWithTheirFields) {
  REQUIRE_EXAMPLE("ringbuf_events");
  auto dir = temp_dir();
  const std::string in = (dir / "small.pcap").string();
  ASSERT_EQ(run_command(kBpfkit + " gen-pcap " + in + " --packets 20 --seed 5").status, 0);
  auto r = run_command(kBpfkit + " run " + kExamples + "ringbuf_events.bpf.o --pcap " + in + " --event-type packet_event");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("event events: {\"daddr\":"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"protocol\":"), std::string::npos) << r.output;
}

TEST(ObjectCli, BadInputIsALocatedError) {
  REQUIRE_EXAMPLE("xdp_blocklist");
  auto dir = temp_dir();
  const std::string obj = kExamples + "xdp_blocklist.bpf.o", pcap = (dir / "ok.pcap").string();
  ASSERT_EQ(run_command(kBpfkit + " gen-pcap " + pcap + " --packets 3").status, 0);
  std::ofstream(dir / "broken.json") << "[{\"key\": \"10.0.0.0/8\", \"value\": 0},\n {\"key\": ";
  auto r = run_command(kBpfkit + " run " + obj + " --pcap " + pcap + " --map blocklist=" + (dir / "broken.json").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("broken.json: byte"), std::string::npos) << r.output;

  std::ofstream(dir / "badcidr.json") << "[{\"key\": \"10.0.0.0/40\", \"value\": 0}]";
  r = run_command(kBpfkit + " run " + obj + " --pcap " + pcap + " --map blocklist=" + (dir / "badcidr.json").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("entry 0: key"), std::string::npos) << r.output;

  r = run_command(kBpfkit + " run " + obj + " --pcap " + pcap + " --map nosuch=" + (dir / "badcidr.json").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("has no map 'nosuch'"), std::string::npos) << r.output;

  // A capture cut in the middle of its last packet.
  std::ifstream in(pcap, std::ios::binary);
  std::string whole((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(dir / "cut.pcap", std::ios::binary) << whole.substr(0, whole.size() - 5);
  r = run_command(kBpfkit + " run " + obj + " --pcap " + (dir / "cut.pcap").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("packet 3"), std::string::npos) << r.output;

  r = run_command(kBpfkit + " run " + kExamples + "open_counter.bpf.o --pcap " + pcap);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("does not run on packets"), std::string::npos) << r.output;
}

TEST(ObjectCli, TestRunOnBothTargets) {
  REQUIRE_EXAMPLE("xdp_blocklist");
  auto dir = temp_dir();
  const auto frame = bpfkit::hooks::build_ipv4_frame({0xcb007105, 0xc0000201, 1000, 53, 17, 64, 10});
  std::ofstream((dir / "pkt.bin"), std::ios::binary).write(reinterpret_cast<const char*>(frame.data()), std::streamsize(frame.size()));
  const std::string base = kBpfkit + " test-run " + kExamples + "xdp_blocklist.bpf.o --data " + (dir / "pkt.bin").string() +
                           " --repeat 100 --map blocklist=" + kSourceExamples + "blocklist.json";
  auto r = run_command(base);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("on the user target: retval 1 "), std::string::npos) << r.output;  // 203.0.113.5: dropped
  if (!bpfkit::target::linux_kernel::kernel_bpf_available()) GTEST_SKIP() << "no kernel BPF for --target linux";
  r = run_command(base + " --target linux");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("on the linux target: retval 1 "), std::string::npos) << r.output;
}

}  // namespace
