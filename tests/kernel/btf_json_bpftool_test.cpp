// btf_to_json against bpftool's "formatted" map dump of the same bytes: a map with
// BTF-typed key and value is created in the kernel (bpftool prog load ... pinmaps),
// filled with bpftool, and dumped with `bpftool -j map dump`.
#include <gtest/gtest.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "../support/btf_json_types.h"
#include "kernel_test_util.h"
#include "object/btf_json.h"

namespace bpfkit::object {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kSource = "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n" +
                            test_support::btf_json_types(false) + R"(
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, struct addr);
  __type(value, struct value);
} vals SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  struct addr k = {};
  return bpf_map_lookup_elem(&vals, &k) ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
)";

std::string hex_args(const std::vector<uint8_t>& bytes) {
  std::string s;
  char buf[4];
  for (uint8_t b : bytes) {
    snprintf(buf, sizeof buf, "%02x", b);
    s += std::string(" ") + buf;
  }
  return s;
}

// bpftool's formatted value in this library's shape: the anonymous union's
// members lifted out of "", and the bitfields (hex strings of raw bits) decoded.
json normalize(json v) {
  if (v.contains("")) {
    for (const auto& [k, x] : v[""].items()) v[k] = x;
    v.erase("");
  }
  auto raw = [&](const char* name) { return std::stoul(v[name].get<std::string>(), nullptr, 16); };
  v["flags"] = raw("flags");
  const long delta = long(raw("delta"));
  v["delta"] = delta >= 16 ? delta - 32 : delta;  // 5-bit signed
  const unsigned long hue = raw("hue");
  const std::map<unsigned long, std::string> colors = {{1, "RED"}, {2, "GREEN"}, {4, "BLUE"}};
  v["hue"] = colors.count(hue) ? json(colors.at(hue)) : json(hue);
  return v;
}

class BtfJsonBpftoolTest : public kernel_test::KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    BPFKIT_REQUIRE_BPF_CLANG();
    if (test_support::run_command("command -v bpftool").status != 0)
      GTEST_SKIP() << "bpftool is not installed";
    struct statfs fs_info;
    if (statfs("/sys/fs/bpf", &fs_info) != 0 || fs_info.f_type != 0xcafe4a11)
      GTEST_SKIP() << "/sys/fs/bpf is not a mounted bpffs";
    btf_ = test_support::compile_btf(kSource, &object_);
    ASSERT_NE(btf_, nullptr);
    pin_ = "/sys/fs/bpf/bpfkit-btfjson-" + std::to_string(getpid());
    fs::remove_all(pin_);
    fs::create_directories(pin_);
    const auto r = test_support::run_command("bpftool prog load " + object_ + " " + pin_ + "/prog pinmaps " +
                                             pin_ + " 2>&1");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  void TearDown() override {
    if (!pin_.empty()) fs::remove_all(pin_);
  }

  std::string object_, pin_;
  std::unique_ptr<Btf> btf_;
};

TEST_F(BtfJsonBpftoolTest, FormattedLikeBpftoolMapDump) {
  const uint32_t key_type = *btf_->find_by_name("addr", BtfKind::Struct);
  const uint32_t value_type = *btf_->find_by_name("value", BtfKind::Struct);
  const size_t key_size = btf_->size_of(key_type), value_size = btf_->size_of(value_type);

  // Random bytes, plus one value made from JSON (so names print as strings).
  std::mt19937 rng(1234);
  std::vector<std::pair<std::vector<uint8_t>, std::vector<uint8_t>>> entries;
  for (int i = 0; i < 6; ++i) {
    std::vector<uint8_t> k(key_size), v(value_size);
    for (auto& b : k) b = uint8_t(rng());
    for (auto& b : v) b = uint8_t(rng());
    k[0] = uint8_t(i);  // distinct keys
    v[72] &= 1;         // _Bool
    // Padding is not in the JSON: keep it zero so the round trip below is exact.
    v[29] &= 0x0f;
    v[30] = v[31] = 0;
    entries.push_back({k, v});
  }
  entries.push_back(
      {json_to_btf(*btf_, key_type, json::parse(R"({"bytes": [10, 0, 0, 1], "port": 8080})")),
       json_to_btf(*btf_, value_type, json::parse(R"({"name": "eth0", "st": "ST_RUN", "hue": "GREEN",
                        "delta": -5, "word": 7, "ok": true, "addrs": [{"port": 1}, {"bytes": "abc"}]})"))});
  for (const auto& [k, v] : entries) {
    const auto r = test_support::run_command("bpftool map update pinned " + pin_ + "/vals key hex" +
                                             hex_args(k) + " value hex" + hex_args(v) + " 2>&1");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  const auto dump = test_support::run_command("bpftool -j map dump pinned " + pin_ + "/vals 2>/dev/null");
  ASSERT_EQ(dump.status, 0) << dump.output;
  const json entries_json = json::parse(dump.output);
  ASSERT_EQ(entries_json.size(), entries.size());

  size_t checked = 0;
  for (const auto& [k, v] : entries) {
    const json raw_key = bytes_to_json(k);
    for (const auto& e : entries_json) {
      if (e["key"] != raw_key) continue;
      ++checked;
      EXPECT_EQ(e["value"], bytes_to_json(v));
      ASSERT_TRUE(e.contains("formatted")) << e.dump();
      EXPECT_EQ(e["formatted"]["key"], btf_to_json(*btf_, key_type, k, "key"));
      const json ours = btf_to_json(*btf_, value_type, v);
      EXPECT_EQ(normalize(e["formatted"]["value"]), ours)
          << "bpftool: " << e["formatted"]["value"].dump() << "\nours:    " << ours.dump();
      EXPECT_EQ(json_to_btf(*btf_, value_type, ours), v);
      // bpftool's own key shape parses back too.
      EXPECT_EQ(json_to_btf(*btf_, key_type, e["formatted"]["key"], "key"), k);
    }
  }
  EXPECT_EQ(checked, entries.size());
}

}  // namespace
}  // namespace bpfkit::object
