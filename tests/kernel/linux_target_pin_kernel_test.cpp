// The Linux target's object lifetime: maps declared LIBBPF_PIN_BY_NAME are pinned
// under the pin root and shared by later loads (as libbpf does); a load that fails
// halfway leaves no file descriptor behind.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "../support/compile_bpf.h"
#include "kernel_test_util.h"
#include "object/bpf_object.h"
#include "target/linux/linux_target.h"
#include "target/target.h"

namespace bpfkit::target {
namespace {

namespace fs = std::filesystem;

size_t open_fd_count() {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

class LinuxTargetPin : public kernel_test::KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    if (!test_support::have_bpf_clang()) GTEST_SKIP() << "clang or libbpf-dev is not installed";
    if (system("mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf") != 0) GTEST_SKIP() << "no bpffs";
    root_ = "/sys/fs/bpf/bpfkit-pin-test-" + std::to_string(getpid());
    fs::create_directories(root_);
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }
  std::shared_ptr<const object::BpfObject> compile(uint32_t max_entries) {
    const std::string path = test_support::compile_bpf(R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64);
         __uint(max_entries, MAX); __uint(pinning, LIBBPF_PIN_BY_NAME); } shared SEC(".maps");
SEC("xdp") int count(struct xdp_md *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&shared, &k);
  if (v) __sync_fetch_and_add(v, 1);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
)", "-DMAX=" + std::to_string(max_entries));
    return std::make_shared<const object::BpfObject>(object::BpfObject::open(path));
  }
  TargetOptions options() const {
    TargetOptions o;
    o.pin_root = root_;
    return o;
  }
  std::string root_;
};

TEST_F(LinuxTargetPin, PinnedByNameMapsAreSharedBetweenLoads) {
  auto obj = compile(4);
  auto first = make_linux_target(options())->load(obj);
  ASSERT_TRUE(fs::exists(root_ + "/shared"));
  auto second = make_linux_target(options())->load(obj);
  TestRunRequest req;
  req.data_in.assign(64, 0);
  first->programs().front()->test_run(req);
  second->programs().front()->test_run(req);
  second->programs().front()->test_run(req);
  const uint32_t zero = 0;
  uint64_t a = 0, b = 0;
  ASSERT_EQ(first->find_map("shared")->lookup(&zero, &a), 0);
  ASSERT_EQ(second->find_map("shared")->lookup(&zero, &b), 0);
  EXPECT_EQ(a, 3u);
  EXPECT_EQ(b, 3u);
  // The pin outlives both objects: a third load still sees the count.
  first.reset();
  second.reset();
  auto third = make_linux_target(options())->load(obj);
  ASSERT_EQ(third->find_map("shared")->lookup(&zero, &a), 0);
  EXPECT_EQ(a, 3u);
}

TEST_F(LinuxTargetPin, APinnedMapWithAnotherDefinitionIsRefused) {
  make_linux_target(options())->load(compile(4));
  try {
    make_linux_target(options())->load(compile(8));
    FAIL() << "a map with 8 entries reused a pinned map with 4";
  } catch (const TargetError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("map 'shared': the map pinned at " + root_ + "/shared has a different definition"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("max_entries 4"), std::string::npos) << what;
  }
}

TEST_F(LinuxTargetPin, AFailedLoadLeavesNoFileDescriptors) {
  // The second program is refused by the kernel after the maps and the first program are loaded.
  const std::string path = test_support::compile_bpf(R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64); __uint(max_entries, 8); } m SEC(".maps");
SEC("xdp") int good(struct xdp_md *ctx) { return XDP_PASS; }
SEC("xdp") int bad(struct xdp_md *ctx) {
  __u32 k = 1;
  __u64 *v = bpf_map_lookup_elem(&m, &k);
  return *v ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
)");
  auto obj = std::make_shared<const object::BpfObject>(object::BpfObject::open(path));
  const size_t before = open_fd_count();
  EXPECT_THROW(make_linux_target()->load(obj), linux_kernel::ProgramLoadError);
  EXPECT_EQ(open_fd_count(), before);
}

}  // namespace
}  // namespace bpfkit::target
