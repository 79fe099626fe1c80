// The kernel as the oracle of the loader's output: the object's BTF (after the
// DATASEC fix-up) loads, every map is created with its BTF key/value ids, and
// every linked program (calls, callbacks, map and global data references,
// func_info) passes the verifier. Skips when this process cannot use bpf(2).
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../support/compile_bpf.h"
#include "object/bpf_object.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::object {
namespace {

using target::linux_kernel::UniqueFd;

long sys_bpf(int cmd, bpf_attr& attr) { return syscall(__NR_bpf, cmd, &attr, sizeof attr); }

const char* kSource = R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct inner_map {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} inner1 SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner_map);
} outer SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u32);
} jumps SEC(".maps");
struct val { __u64 packets; __u32 last_len; };
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, struct val);
} stats SEC(".maps");
__u64 seen = 0;
const volatile __u32 limit = 100;
char scratch[64];
extern unsigned int LINUX_KERNEL_VERSION __kconfig;

static __attribute__((noinline)) int clamp(int v) { return v > (int)limit ? (int)limit : v; }
__attribute__((noinline)) int account(__u32 key, __u32 len) {
  struct val *v = bpf_map_lookup_elem(&stats, &key);
  if (!v) return 0;
  __sync_fetch_and_add(&v->packets, 1);
  v->last_len = len;
  return clamp(len);
}
static long each(__u32 i, void *ctx) { seen += i; scratch[i & 63] = 1; return 0; }

SEC("xdp") int xdp_count(struct xdp_md *ctx) {
  __u32 k = 1;
  void *in = bpf_map_lookup_elem(&outer, &k);
  if (in) bpf_map_lookup_elem(in, &k);
  bpf_loop(8, each, 0, 0);
  bpf_printk("v %u len %u", LINUX_KERNEL_VERSION, ctx->data_end - ctx->data);
  bpf_tail_call(ctx, &jumps, 0);
  return account(2, ctx->data_end - ctx->data) > 0 ? XDP_PASS : XDP_DROP;
}
SEC("tc") int tc_count(struct __sk_buff *skb) { return account(3, skb->len) + clamp(7); }
char LICENSE[] SEC("license") = "GPL";
)";

TEST(BpfObjectKernel, LinkedProgramsPassTheVerifier) {
  BPFKIT_REQUIRE_BPF_CLANG();
  if (!target::linux_kernel::kernel_bpf_available())
    GTEST_SKIP() << target::linux_kernel::kernel_bpf_unavailable_reason();
  const auto path = test_support::compile_bpf(kSource);
  ASSERT_FALSE(path.empty());
  const auto obj = BpfObject::open(path);
  std::vector<char> log(1 << 20);

  bpf_attr ba{};
  ba.btf = reinterpret_cast<uint64_t>(obj.btf_bytes().data());
  ba.btf_size = uint32_t(obj.btf_bytes().size());
  ba.btf_log_buf = reinterpret_cast<uint64_t>(log.data());
  ba.btf_log_size = uint32_t(log.size());
  ba.btf_log_level = 1;
  UniqueFd btf(int(sys_bpf(BPF_BTF_LOAD, ba)));
  ASSERT_TRUE(btf.valid()) << "BTF load: " << strerror(errno) << "\n" << log.data();

  std::vector<UniqueFd> maps(obj.maps().size());
  auto create = [&](size_t i) {
    const auto& m = obj.maps()[i];
    bpf_attr a{};
    a.map_type = m.type;
    a.key_size = m.key_size;
    a.value_size = m.value_size;
    a.max_entries = m.max_entries;
    a.map_flags = m.flags;
    if (m.inner) a.inner_map_fd = uint32_t(maps[*m.inner].get());
    if (m.btf_value_type_id) {
      a.btf_fd = uint32_t(btf.get());
      a.btf_key_type_id = m.btf_key_type_id;
      a.btf_value_type_id = m.btf_value_type_id;
    }
    maps[i].reset(int(sys_bpf(BPF_MAP_CREATE, a)));
    ASSERT_TRUE(maps[i].valid()) << "map " << m.name << ": " << strerror(errno);
    if (!m.initial_value.empty()) {
      uint32_t key = 0;
      bpf_attr u{};
      u.map_fd = uint32_t(maps[i].get());
      u.key = reinterpret_cast<uint64_t>(&key);
      u.value = reinterpret_cast<uint64_t>(m.initial_value.data());
      ASSERT_EQ(sys_bpf(BPF_MAP_UPDATE_ELEM, u), 0) << m.name << ": " << strerror(errno);
    }
  };
  for (size_t i = 0; i < obj.maps().size(); ++i)
    if (obj.maps()[i].inner_template) create(i);
  for (size_t i = 0; i < obj.maps().size(); ++i)
    if (!obj.maps()[i].inner_template) create(i);
  if (HasFatalFailure()) return;

  ASSERT_EQ(obj.programs().size(), 2u);
  for (const auto& p : obj.programs()) {
    auto insns = p.insns;
    for (size_t i = 0; i < insns.size(); ++i) {
      if (insns[i].opcode != (BPF_LD | BPF_IMM | BPF_DW)) continue;
      if (insns[i].src == uint8_t(isa::Pseudo::MapIdx) || insns[i].src == uint8_t(isa::Pseudo::MapIdxValue)) {
        insns[i].src =
            insns[i].src == uint8_t(isa::Pseudo::MapIdx) ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
        insns[i].imm = maps.at(size_t(insns[i].imm)).get();
      }
      ++i;
    }
    std::vector<bpf_func_info> funcs;
    for (const auto& f : p.funcs) funcs.push_back({uint32_t(f.insn), f.btf_type_id});
    bpf_attr a{};
    a.prog_type = p.def.prog_type;
    a.expected_attach_type = p.def.expected_attach_type;
    a.insns = reinterpret_cast<uint64_t>(insns.data());
    a.insn_cnt = uint32_t(insns.size());
    a.license = reinterpret_cast<uint64_t>("GPL");
    a.log_buf = reinterpret_cast<uint64_t>(log.data());
    a.log_size = uint32_t(log.size());
    a.log_level = 1;
    a.prog_btf_fd = uint32_t(btf.get());
    a.func_info = reinterpret_cast<uint64_t>(funcs.data());
    a.func_info_cnt = uint32_t(funcs.size());
    a.func_info_rec_size = sizeof(bpf_func_info);
    log[0] = 0;
    UniqueFd prog(int(sys_bpf(BPF_PROG_LOAD, a)));
    const std::string l(log.data());
    EXPECT_TRUE(prog.valid()) << p.name << ": " << strerror(errno) << "\n"
                              << l.substr(l.size() > 4000 ? l.size() - 4000 : 0);
    EXPECT_EQ(p.funcs.size(), p.name == "xdp_count" ? 4u : 3u);  // the program, account, clamp (+ each)
  }
}

}  // namespace
}  // namespace bpfkit::object
