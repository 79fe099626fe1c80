// Stack trace maps and redirect maps (devmap, devmap_hash, cpumap, xskmap) against
// the running kernel: BPF_MAP_CREATE's errnos, the user-space element commands
// call for call, bpf_redirect_map's return values from an XDP program run with
// BPF_PROG_TEST_RUN and on the userspace engine, and the stack ids bpf_get_stackid
// hands out (the kernel's jhash2 of the stored ips, masked to the buckets).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "../helpers/helper_test_util.h"
#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "maps/cpu.h"
#include "maps/map.h"
#include "maps/redirect_maps.h"
#include "maps/stack_trace_map.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {
namespace {

using kernel_test::KernelTest;
using maps::MapSpec;

class RedirectStackMapsKernel : public KernelTest {};

std::string describe(const MapSpec& s) {
  std::ostringstream o;
  o << maps::map_type_name(s.type) << " key " << s.key_size << " value " << s.value_size << " max "
    << s.max_entries << " flags 0x" << std::hex << s.flags;
  return o.str();
}

int mine_create_errno(const MapSpec& spec, std::string* message) {
  try {
    maps::create_map(spec);
    return 0;
  } catch (const maps::MapSpecError& e) {
    *message = e.what();
    return e.kernel_errno();
  }
}

TEST_F(RedirectStackMapsKernel, CreateErrnosMatchTheKernel) {
  const uint32_t ncpu = maps::kernel_nr_cpus();
  std::vector<MapSpec> specs;
  for (uint32_t t : {BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH, BPF_MAP_TYPE_CPUMAP, BPF_MAP_TYPE_XSKMAP}) {
    for (uint32_t key : {0u, 4u, 8u}) {
      for (uint32_t value : {0u, 4u, 8u, 12u}) specs.push_back({t, key, value, 4});
    }
    for (uint32_t flags : {uint32_t(BPF_F_NUMA_NODE), uint32_t(BPF_F_RDONLY), uint32_t(BPF_F_WRONLY),
                           uint32_t(BPF_F_RDONLY_PROG), uint32_t(BPF_F_NO_PREALLOC),
                           uint32_t(BPF_F_RDONLY | BPF_F_WRONLY), uint32_t(BPF_F_MMAPABLE)}) {
      specs.push_back({t, 4, 4, 4, flags});
    }
    specs.push_back({t, 4, 4, 0});
    specs.push_back({t, 4, 4, ncpu});
    specs.push_back({t, 4, 4, ncpu + 1});
    specs.push_back({t, 4, 4, 4, 0, 1});  // map_extra
  }
  specs.push_back({BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, (1u << 31) + 1});
  specs.push_back({BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 0xffffffffu});
  specs.push_back({BPF_MAP_TYPE_DEVMAP, 4, 4, 0xffffffffu});
  specs.push_back({BPF_MAP_TYPE_XSKMAP, 4, 4, 0xffffffffu});
  for (uint32_t value : {0u, 4u, 8u, 12u, 16u, 32u, 64u, 96u, 127u * 8, 128u * 8, 127u * 32, 128u * 32}) {
    for (uint32_t flags : {0u, uint32_t(BPF_F_STACK_BUILD_ID)}) {
      specs.push_back({BPF_MAP_TYPE_STACK_TRACE, 4, value, 8, flags});
    }
  }
  for (uint32_t flags : {uint32_t(BPF_F_NUMA_NODE), uint32_t(BPF_F_RDONLY), uint32_t(BPF_F_WRONLY),
                         uint32_t(BPF_F_RDONLY_PROG), uint32_t(BPF_F_NO_PREALLOC), uint32_t(BPF_F_ZERO_SEED)}) {
    specs.push_back({BPF_MAP_TYPE_STACK_TRACE, 4, 64, 8, flags});
  }
  specs.push_back({BPF_MAP_TYPE_STACK_TRACE, 8, 64, 8});
  specs.push_back({BPF_MAP_TYPE_STACK_TRACE, 0, 64, 8});
  specs.push_back({BPF_MAP_TYPE_STACK_TRACE, 4, 64, 0});
  specs.push_back({BPF_MAP_TYPE_STACK_TRACE, 4, 64, (1u << 31) + 1});
  specs.push_back({BPF_MAP_TYPE_STACK_TRACE, 4, 64, 0xffffffffu});
  specs.push_back({BPF_MAP_TYPE_STACK_TRACE, 4, 64, 1000});

  for (const MapSpec& spec : specs) {
    const int fd = try_map_create(spec);
    const int kernel = fd < 0 ? -fd : 0;
    if (fd >= 0) close(fd);
    std::string message;
    const int mine = mine_create_errno(spec, &message);
    EXPECT_EQ(mine, kernel) << describe(spec) << ": kernel " << strerror(kernel) << ", mine: "
                            << (message.empty() ? "created" : message);
  }
}

// Runs the same user-space command on a kernel map and on ours, and compares.
class Pair {
 public:
  explicit Pair(const MapSpec& spec) : spec_(spec), kernel_(map_create(spec)), mine_(maps::create_map(spec)) {}
  void update(uint32_t key, const std::vector<uint8_t>& value, uint64_t flags) {
    const int k = map_update_elem(kernel_.get(), &key, value.data(), flags);
    const int m = mine_->update_user(&key, value.data(), flags);
    EXPECT_EQ(m, k) << describe(spec_) << ": update key " << key << " flags " << flags;
  }
  void lookup(uint32_t key) {
    std::vector<uint8_t> kv(spec_.value_size, 0xaa), mv(spec_.value_size, 0xaa);
    const int k = map_lookup_elem(kernel_.get(), &key, kv.data());
    const int m = mine_->lookup_user(&key, mv.data());
    EXPECT_EQ(m, k) << describe(spec_) << ": lookup key " << key;
    if (k == 0 && m == 0) {
      EXPECT_EQ(mv, kv) << describe(spec_) << ": value of key " << key;
    }
  }
  void remove(uint32_t key) {
    const int k = map_delete_elem(kernel_.get(), &key);
    const int m = mine_->delete_user(&key);
    EXPECT_EQ(m, k) << describe(spec_) << ": delete key " << key;
  }
  // The whole get_next_key walk, from a null key and from `start`.
  void walk(uint32_t start) {
    for (bool from_null : {true, false}) {
      std::vector<uint32_t> kw, mw;
      uint32_t kkey = start, mkey = start, next = 0;
      const void* kp = from_null ? nullptr : &kkey;
      const void* mp = from_null ? nullptr : &mkey;
      while (kw.size() < 64 && map_get_next_key(kernel_.get(), kp, &next) == 0) {
        kw.push_back(next);
        kkey = next;
        kp = &kkey;
      }
      while (mw.size() < 64 && mine_->get_next_key_user(mp, &next) == 0) {
        mw.push_back(next);
        mkey = next;
        mp = &mkey;
      }
      EXPECT_EQ(mw, kw) << describe(spec_) << ": walk from " << (from_null ? "null" : std::to_string(start));
    }
  }
  maps::Map& mine() { return *mine_; }
  int kernel_fd() const { return kernel_.get(); }

 private:
  MapSpec spec_;
  UniqueFd kernel_;
  std::unique_ptr<maps::Map> mine_;
};

std::vector<uint8_t> u32s(std::initializer_list<uint32_t> words) {
  std::vector<uint8_t> out;
  for (uint32_t w : words) out.insert(out.end(), reinterpret_cast<uint8_t*>(&w), reinterpret_cast<uint8_t*>(&w) + 4);
  return out;
}

TEST_F(RedirectStackMapsKernel, DevmapElementsMatchTheKernel) {
  // ifindex 1 (loopback) always exists; 0x7ffffff0 does not.
  const uint32_t bogus = 0x7ffffff0;
  for (uint32_t type : {BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH}) {
    for (uint32_t value_size : {4u, 8u}) {
      Pair p({type, 4, value_size, 3});
      auto v = [&](uint32_t ifindex, uint32_t fd = 0) {
        auto b = u32s({ifindex, fd});
        b.resize(value_size);
        return b;
      };
      p.lookup(0);
      p.update(0, v(1), BPF_NOEXIST);
      p.update(0, v(1), BPF_EXIST);
      p.update(0, v(1), 3);
      p.update(7, v(1), BPF_ANY);
      p.update(1, v(bogus), BPF_ANY);
      p.update(1, v(0), BPF_ANY);
      p.update(2, v(1), BPF_ANY);
      p.update(2, v(1), BPF_NOEXIST);
      p.update(5, v(1), BPF_ANY);
      p.update(9, v(1), BPF_ANY);
      if (value_size == 8) {
        p.update(4, v(1, 0), BPF_ANY);
        p.update(2, v(1, uint32_t(STDOUT_FILENO)), BPF_ANY);  // not a devmap program
        p.update(2, v(0, uint32_t(STDOUT_FILENO)), BPF_ANY);
      }
      for (uint32_t k : {0u, 1u, 2u, 5u, 7u, 9u}) p.lookup(k);
      p.walk(2);
      p.walk(1234);
      p.remove(2);
      p.remove(2);
      p.remove(77);
      p.lookup(2);
      p.walk(0);
      p.update(0, v(0), BPF_ANY);
      p.lookup(0);
      p.walk(5);
    }
  }
}

TEST_F(RedirectStackMapsKernel, CpumapElementsMatchTheKernel) {
  for (uint32_t value_size : {4u, 8u}) {
    Pair p({BPF_MAP_TYPE_CPUMAP, 4, value_size, 4});
    auto v = [&](uint32_t qsize, uint32_t fd = 0) {
      auto b = u32s({qsize, fd});
      b.resize(value_size);
      return b;
    };
    p.lookup(0);
    p.update(0, v(64), BPF_NOEXIST);
    p.update(0, v(64), 3);
    p.update(4, v(64), BPF_ANY);
    p.update(0, v(16385), BPF_ANY);
    p.update(0, v(16384), BPF_ANY);
    p.update(0, v(128), BPF_EXIST);
    p.update(1, v(0), BPF_ANY);
    if (maps::possible_cpus() < 4) p.update(3, v(64), BPF_ANY);  // not a possible CPU
    if (value_size == 8) p.update(1, v(64, uint32_t(STDOUT_FILENO)), BPF_ANY);
    for (uint32_t k : {0u, 1u, 3u, 4u}) p.lookup(k);
    p.walk(1);
    p.remove(0);
    p.remove(0);
    p.remove(4);
    p.lookup(0);
  }
}

TEST_F(RedirectStackMapsKernel, XskmapElementsMatchTheKernel) {
  Pair p({BPF_MAP_TYPE_XSKMAP, 4, 4, 4});
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const int udp = socket(AF_INET, SOCK_DGRAM, 0);
  const int xsk = socket(AF_XDP, SOCK_RAW, 0);
  const int xsk2 = socket(AF_XDP, SOCK_RAW, 0);
  ASSERT_GE(udp, 0);
  p.update(0, u32s({uint32_t(pipefd[0])}), BPF_ANY);
  p.update(0, u32s({uint32_t(udp)}), BPF_ANY);
  p.update(0, u32s({1000000}), BPF_ANY);
  p.update(0, u32s({uint32_t(udp)}), 4);
  p.update(9, u32s({uint32_t(udp)}), BPF_ANY);
  if (xsk >= 0 && xsk2 >= 0) {
    p.update(1, u32s({uint32_t(xsk)}), BPF_EXIST);
    p.update(1, u32s({uint32_t(xsk)}), BPF_NOEXIST);
    p.update(1, u32s({uint32_t(xsk)}), BPF_NOEXIST);
    p.update(1, u32s({uint32_t(xsk2)}), BPF_NOEXIST);
    p.update(1, u32s({uint32_t(xsk2)}), BPF_EXIST);
  }
  p.lookup(1);
  p.lookup(0);
  p.walk(2);
  p.remove(1);
  p.remove(1);
  p.remove(4);
  close(pipefd[0]);
  close(pipefd[1]);
  close(udp);
  if (xsk >= 0) close(xsk);
  if (xsk2 >= 0) close(xsk2);
}

// bpf_redirect_map(map, key, flags) returned as the program's verdict: the kernel
// under BPF_PROG_TEST_RUN and the userspace interpreter must agree for present and
// missing keys, keys above 32 bits, every kind of flags, on every redirect map type.
TEST_F(RedirectStackMapsKernel, RedirectMapVerdictsMatchTheKernel) {
  struct Case {
    uint64_t key, flags;
  };
  const std::vector<Case> cases = {
      {0, XDP_PASS}, {0, 0}, {1, XDP_PASS}, {1, XDP_DROP}, {1, XDP_TX}, {1, 0}, {(1ull << 32) | 0, XDP_PASS},
      {(1ull << 32) | 1, XDP_PASS}, {0, XDP_REDIRECT}, {1, 1 << 5}, {0, uint64_t(BPF_F_BROADCAST)},
      {1, uint64_t(BPF_F_BROADCAST) | XDP_PASS}, {1, uint64_t(BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS)}, {0, uint64_t(BPF_F_EXCLUDE_INGRESS)},
      {9, XDP_PASS},
  };
  std::vector<uint8_t> packet(64, 0);
  packet[12] = 0x08;  // IPv4 ethertype
  for (uint32_t type : {BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH, BPF_MAP_TYPE_CPUMAP, BPF_MAP_TYPE_XSKMAP}) {
    SCOPED_TRACE(maps::map_type_name(type));
    Pair p({type, 4, 4, 4});
    // Entry 0 present (devmaps: loopback; cpumap: CPU 0), 1 absent. An xskmap entry
    // needs an AF_XDP socket bound to a device: it stays empty.
    if (type != BPF_MAP_TYPE_XSKMAP) p.update(0, u32s({type == BPF_MAP_TYPE_CPUMAP ? 64u : 1u}), BPF_ANY);
    for (const Case& c : cases) {
      std::ostringstream k, m;
      k << "r1 = map_fd(" << p.kernel_fd() << ") ll\n";
      m << "r1 = " << helpers::testing::hex(reinterpret_cast<uint64_t>(&p.mine())) << " ll\n";
      const std::string rest = "r2 = " + std::to_string(c.key) + " ll\nr3 = " + std::to_string(c.flags) +
                               " ll\ncall " + std::to_string(BPF_FUNC_redirect_map) + "\nexit\n";
      const auto insns = isa::assemble(k.str() + rest);
      UniqueFd prog = load_program(BPF_PROG_TYPE_XDP, insns);
      const uint32_t kernel = test_run_program(prog.get(), packet).retval;

      helpers::testing::TestPacket pkt(packet);
      core::ExecEnv env = helpers::testing::runtime_env();
      pkt.attach(env);
      env.maps.push_back(&p.mine());
      const uint64_t mine = helpers::testing::run_asm(helpers::testing::EngineKind::Interpreter, m.str() + rest, env,
                                                      reinterpret_cast<uint64_t>(pkt.ctx));
      EXPECT_EQ(mine, kernel) << "key " << c.key << " flags 0x" << std::hex << c.flags << ": " << env.abort_reason;
    }
  }
}

// BPF_PROG_TEST_RUN of a raw tracepoint program without a context: its return value or -errno.
int64_t test_run_raw_tp(int prog_fd) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = uint32_t(prog_fd);
  if (syscall(__NR_bpf, BPF_PROG_TEST_RUN, &attr, sizeof attr) < 0) return -errno;
  return int32_t(attr.test.retval);
}

// The kernel's stack ids are jhash2 of the stored ips, masked to n_buckets: the same
// function StackTraceMap uses. A raw tracepoint program records its kernel stack.
TEST_F(RedirectStackMapsKernel, StackIdsAreTheKernelsHash) {
  for (uint32_t max_entries : {16u, 100u, 1024u}) {
    const MapSpec spec{BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, max_entries};
    UniqueFd map = map_create(spec);
    for (uint64_t flags : {0ull, 1ull, 2ull}) {
      // REUSE_STACKID: the three skip counts store three stacks in one map, and two of them
      // may share a bucket (without it the kernel then says EEXIST, as a flaky run showed).
      const std::string text = "r2 = map_fd(" + std::to_string(map.get()) + ") ll\nr3 = " +
                               std::to_string(flags | BPF_F_REUSE_STACKID) + "\ncall " +
                               std::to_string(BPF_FUNC_get_stackid) + "\nexit\n";
      const auto insns = isa::assemble(text);
      UniqueFd prog = load_program(BPF_PROG_TYPE_RAW_TRACEPOINT, insns);
      const int64_t id = test_run_raw_tp(prog.get());
      ASSERT_GE(id, 0) << "the kernel's get_stackid failed: " << strerror(int(-id));
      std::vector<uint64_t> ips(127);
      const uint32_t key = uint32_t(id);
      ASSERT_EQ(map_lookup_elem(map.get(), &key, ips.data()), 0);
      size_t nr = 0;
      while (nr < ips.size() && ips[nr] != 0) ++nr;
      ASSERT_GT(nr, 0u);
      uint32_t n_buckets = 1;
      while (n_buckets < max_entries) n_buckets <<= 1;
      EXPECT_EQ(maps::stack_trace_hash(ips.data(), nr) & (n_buckets - 1), key)
          << nr << " frames, " << n_buckets << " buckets";
      // The same stack stored in our map gets the same id and reads back the same.
      auto mine = maps::create_map(spec);
      auto* stacks = static_cast<maps::StackTraceMap*>(mine.get());
      EXPECT_EQ(stacks->get_stackid(std::span(ips.data(), nr), 0), int64_t(key));
      std::vector<uint64_t> back(127, 1);
      ASSERT_EQ(mine->lookup_user(&key, back.data()), 0);
      EXPECT_EQ(back, ips);
    }
  }
}

// Stack map user-space commands: what a program stored can be read, deleted and walked.
TEST_F(RedirectStackMapsKernel, StackMapUserCommandsMatchTheKernel) {
  const MapSpec spec{BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, 64};
  UniqueFd map = map_create(spec);
  const std::string text = "r2 = map_fd(" + std::to_string(map.get()) + ") ll\nr3 = 0\ncall " +
                           std::to_string(BPF_FUNC_get_stackid) + "\nexit\n";
  UniqueFd prog = load_program(BPF_PROG_TYPE_RAW_TRACEPOINT, isa::assemble(text));
  const int64_t id = test_run_raw_tp(prog.get());
  ASSERT_GE(id, 0);
  std::vector<uint64_t> ips(127);
  uint32_t key = uint32_t(id);
  ASSERT_EQ(map_lookup_elem(map.get(), &key, ips.data()), 0);
  size_t nr = 0;
  while (nr < ips.size() && ips[nr] != 0) ++nr;
  auto mine = maps::create_map(spec);
  ASSERT_EQ(static_cast<maps::StackTraceMap*>(mine.get())->get_stackid(std::span(ips.data(), nr), 0), id);
  auto both = [&](const char* what, int k, int m) { EXPECT_EQ(m, k) << what; };
  uint32_t kn = 0, mn = 0;
  both("next of null", map_get_next_key(map.get(), nullptr, &kn), mine->get_next_key_user(nullptr, &mn));
  EXPECT_EQ(mn, kn);
  both("next of last", map_get_next_key(map.get(), &key, &kn), mine->get_next_key_user(&key, &mn));
  const uint32_t absent = (key + 1) % 64, past = 64, far = 1000;
  std::vector<uint64_t> kv(127), mv(127);
  both("lookup absent", map_lookup_elem(map.get(), &absent, kv.data()), mine->lookup_user(&absent, mv.data()));
  both("lookup past the buckets", map_lookup_elem(map.get(), &far, kv.data()), mine->lookup_user(&far, mv.data()));
  both("update", map_update_elem(map.get(), &key, ips.data(), BPF_ANY), mine->update_user(&key, ips.data(), BPF_ANY));
  both("delete past the buckets", map_delete_elem(map.get(), &past), mine->delete_user(&past));
  both("delete absent", map_delete_elem(map.get(), &absent), mine->delete_user(&absent));
  both("delete", map_delete_elem(map.get(), &key), mine->delete_user(&key));
  both("delete again", map_delete_elem(map.get(), &key), mine->delete_user(&key));
  both("walk empty", map_get_next_key(map.get(), nullptr, &kn), mine->get_next_key_user(nullptr, &mn));
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
