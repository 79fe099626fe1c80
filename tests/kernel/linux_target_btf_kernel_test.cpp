// The Linux target loads an object's BTF with it, as libbpf does: programs carry
// their func_info and line_info (the kernel's log and `prog dump` show C lines),
// maps their key/value types (formatted dumps), and an object without BTF still loads.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "../support/compile_bpf.h"
#include "kernel_test_util.h"
#include "object/bpf_object.h"
#include "target/linux/kernel_btf.h"
#include "target/linux/linux_target.h"
#include "target/target.h"

namespace bpfkit::target {
namespace {

std::string example(const std::string& name) { return std::string(BPFKIT_BINARY_DIR) + "/examples/" + name + ".bpf.o"; }

class LinuxTargetBtf : public kernel_test::KernelTest {
 protected:
  std::shared_ptr<const object::BpfObject> open_example(const std::string& name) {
    if (!std::filesystem::exists(example(name))) return nullptr;
    return std::make_shared<const object::BpfObject>(object::BpfObject::open(example(name)));
  }
};

// BPF_OBJ_GET_INFO_BY_FD into a bpf_prog_info or bpf_map_info.
template <class Info>
Info object_info(int fd) {
  Info info{};
  bpf_attr attr{};
  attr.info.bpf_fd = uint32_t(fd);
  attr.info.info_len = sizeof(info);
  attr.info.info = reinterpret_cast<uintptr_t>(&info);
  EXPECT_EQ(syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)), 0) << std::strerror(errno);
  return info;
}
bpf_prog_info prog_info(int fd) { return object_info<bpf_prog_info>(fd); }
bpf_map_info map_info(int fd) { return object_info<bpf_map_info>(fd); }

TEST_F(LinuxTargetBtf, ProgramsCarryFunctionsAndSourceLines) {
  auto obj = open_example("xdp_blocklist");
  if (!obj) GTEST_SKIP() << "examples were not built (clang missing?)";
  auto loaded = make_linux_target()->load(obj);
  EXPECT_EQ(linux_kernel::btf_load_error(*loaded), "");
  ASSERT_GE(linux_kernel::btf_fd(*loaded), 0);
  for (ProgramHandle* p : loaded->programs()) {
    const bpf_prog_info info = prog_info(linux_kernel::program_fd(*p));
    EXPECT_NE(info.btf_id, 0u) << p->name();
    EXPECT_EQ(info.nr_func_info, p->definition().funcs.size()) << p->name();
    EXPECT_GT(info.nr_line_info, 0u) << p->name();
    EXPECT_EQ(info.nr_line_info, p->definition().lines.size()) << p->name();
  }
  for (MapHandle* m : loaded->maps()) {
    const bpf_map_info info = map_info(linux_kernel::map_fd(*m));
    if (m->definition().btf_value_type_id) {
      EXPECT_NE(info.btf_id, 0u) << m->name();
      EXPECT_EQ(info.btf_value_type_id, m->definition().btf_value_type_id) << m->name();
    }
  }
}

TEST_F(LinuxTargetBtf, TheKernelLogShowsSourceLines) {
  auto obj = open_example("open_counter");
  if (!obj) GTEST_SKIP() << "examples were not built (clang missing?)";
  TargetOptions options;
  options.log_level = 2;
  // The log is only returned on failure through the target; load the program again with a log here.
  auto loaded = make_linux_target(options)->load(obj);
  const object::ProgramDefinition& def = loaded->programs().front()->definition();
  ASSERT_FALSE(def.lines.empty());
  linux_kernel::BtfStrings strings(obj->btf_bytes());
  const linux_kernel::ProgramBtfInfo info = linux_kernel::program_btf_info(def, strings);
  ASSERT_EQ(info.lines.size(), def.lines.size());
  // Each line record names the same text as the object's line info.
  for (size_t i = 0; i < info.lines.size(); ++i) {
    EXPECT_EQ(info.lines[i].insn_off, def.lines[i].insn);
    EXPECT_EQ(info.lines[i].line_col >> 10, def.lines[i].line);
  }
}

TEST_F(LinuxTargetBtf, ObjectsWithoutBtfStillLoad) {
  BPFKIT_REQUIRE_BPF_CLANG();
  // -g0 after -g: no .BTF, so legacy `maps` definitions and no func/line info.
  const std::string path = test_support::compile_bpf(R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_map_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct bpf_map_def SEC("maps") hits = {.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1};
SEC("xdp") int count(struct xdp_md *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&hits, &k);
  if (v) __sync_fetch_and_add(v, 1);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
)", "-g0");
  ASSERT_FALSE(path.empty());
  auto obj = std::make_shared<const object::BpfObject>(object::BpfObject::open(path));
  ASSERT_TRUE(obj->btf_bytes().empty());
  auto loaded = make_linux_target()->load(obj);
  EXPECT_EQ(linux_kernel::btf_fd(*loaded), -1);
  EXPECT_EQ(linux_kernel::btf_load_error(*loaded), "");
  EXPECT_EQ(prog_info(linux_kernel::program_fd(*loaded->programs().front())).btf_id, 0u);
  TestRunRequest req;
  req.data_in.assign(64, 0);
  EXPECT_EQ(loaded->programs().front()->test_run(req).retval, uint32_t(XDP_PASS));
}

TEST_F(LinuxTargetBtf, RefusedBtfComesWithTheKernelsLog) {
  std::vector<uint8_t> blob(64, 0);
  blob[0] = 0x12, blob[1] = 0x34;  // not BTF's magic
  try {
    linux_kernel::load_btf(blob);
    FAIL() << "the kernel accepted a blob without BTF's magic";
  } catch (const linux_kernel::BpfError& e) {
    EXPECT_EQ(e.error_number(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("loading BTF (64 bytes) failed"), std::string::npos) << e.what();
    EXPECT_FALSE(e.verifier_log().empty());
  }
}

TEST(BtfStrings, FindsEveryStringOfTheBlob) {
  // Header (24 bytes), no types, strings "\0abc\0de\0".
  std::vector<uint8_t> blob(24, 0);
  const uint32_t hdr_len = 24, str_len = 8;
  blob[0] = 0x9f, blob[1] = 0xeb, blob[2] = 1;
  std::memcpy(&blob[4], &hdr_len, 4);
  std::memcpy(&blob[20], &str_len, 4);
  for (char c : std::string("\0abc\0de\0", 8)) blob.push_back(uint8_t(c));
  linux_kernel::BtfStrings strings(blob);
  EXPECT_EQ(strings.offset_of(""), 0u);
  EXPECT_EQ(strings.offset_of("abc"), 1u);
  EXPECT_EQ(strings.offset_of("de"), 5u);
  EXPECT_EQ(strings.offset_of("x"), std::nullopt);
  // A string section running past the blob yields nothing rather than reading out of bounds.
  const uint32_t too_long = 100;
  std::memcpy(&blob[20], &too_long, 4);
  EXPECT_EQ(linux_kernel::BtfStrings(blob).offset_of("abc"), std::nullopt);
}

}  // namespace
}  // namespace bpfkit::target
