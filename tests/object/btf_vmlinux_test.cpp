// The running kernel's BTF against bpftool as the oracle: every type's raw dump,
// and the C definitions of a few small structs.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "btf_raw.h"
#include "object/btf.h"

namespace bpfkit::object {
namespace {

using testing::have_bpftool;
using testing::raw;
using testing::run;
using testing::squash;

const char* kVmlinux = "/sys/kernel/btf/vmlinux";

class BtfVmlinux : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kVmlinux)) GTEST_SKIP() << kVmlinux << " is missing";
  }
};

TEST_F(BtfVmlinux, ParsesQuicklyAndFindsTaskStruct) {
  using clock = std::chrono::steady_clock;
  double best = 1e9;  // best of three: the machine may be busy
  for (int i = 0; i < 3; ++i) {
    auto t0 = clock::now();
    auto b = Btf::load_vmlinux();
    best = std::min(best, std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  auto btf = Btf::load_vmlinux();
  std::printf("vmlinux BTF: %u types read and parsed in %.1f ms (best of 3)\n", btf.type_count(), best);
  EXPECT_LT(best, 1000.0);  // ~17 ms in Release; generous for sanitizer builds and busy machines
  EXPECT_GT(btf.type_count(), 10000u);
  auto task = btf.find_by_name("task_struct", BtfKind::Struct);
  ASSERT_TRUE(task);
  EXPECT_GT(btf.size_of(*task), 1000u);
  const auto* c = btf.type(*task).as<BtfComposite>();
  ASSERT_NE(c, nullptr);
  bool saw_pid = false;
  for (const auto& m : c->members)
    if (m.name == "pid") {
      saw_pid = true;
      EXPECT_EQ(btf.type_name(m.type), "pid_t");
      EXPECT_EQ(btf.size_of(m.type), 4u);
    }
  EXPECT_TRUE(saw_pid);
  // Every accessor works on every type.
  for (uint32_t id = 0; id < btf.type_count(); ++id) {
    EXPECT_FALSE(btf.type_name(id).empty());
    btf.format_c(id);
  }
}

TEST_F(BtfVmlinux, EveryTypeMatchesBpftoolRaw) {
  if (!have_bpftool()) GTEST_SKIP() << "bpftool is not installed";
  auto btf = Btf::load_vmlinux();
  const size_t lines =
      testing::expect_raw_matches(btf, run(std::string("bpftool btf dump file ") + kVmlinux + " format raw"));
  EXPECT_GT(lines, 100000u);
}

TEST_F(BtfVmlinux, SmallStructsMatchBpftoolFormatC) {
  if (!have_bpftool()) GTEST_SKIP() << "bpftool is not installed";
  auto btf = Btf::load_vmlinux();
  const std::string header = run(std::string("bpftool btf dump file ") + kVmlinux + " format c");
  struct Want {
    const char* start;
    BtfKind kind;
    const char* name;
  };
  for (const Want& w :
       {Want{"struct list_head {", BtfKind::Struct, "list_head"},
        Want{"struct xdp_md {", BtfKind::Struct, "xdp_md"}, Want{"struct iphdr {", BtfKind::Struct, "iphdr"},
        Want{"struct hlist_node {", BtfKind::Struct, "hlist_node"},
        Want{"struct tcphdr {", BtfKind::Struct, "tcphdr"},
        Want{"struct callback_head {", BtfKind::Struct, "callback_head"},
        Want{"enum hrtimer_restart {", BtfKind::Enum, "hrtimer_restart"},
        Want{"enum perf_callchain_context {", BtfKind::Enum64, "perf_callchain_context"}}) {
    const size_t at = header.find(std::string("\n") + w.start);
    ASSERT_NE(at, std::string::npos) << w.start;
    const size_t end = header.find("\n};\n", at);
    ASSERT_NE(end, std::string::npos);
    const std::string want = header.substr(at + 1, end + 4 - at - 1);
    auto id = btf.find_by_name(w.name, w.kind);
    ASSERT_TRUE(id) << w.name;
    EXPECT_EQ(squash(btf.format_c(*id)), squash(want)) << w.name;
  }
}

}  // namespace
}  // namespace bpfkit::object
