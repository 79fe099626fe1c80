// The stack trace map and the redirect maps (devmap, devmap_hash, cpumap, xskmap):
// create-time checks, element semantics and the kernel's iteration orders.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "maps/cpu.h"
#include "maps/map.h"
#include "maps/redirect_maps.h"
#include "maps/stack_trace_map.h"

namespace bpfkit::maps {
namespace {

int create_errno(MapSpec spec) {
  try {
    create_map(spec);
    return 0;
  } catch (const MapSpecError& e) {
    return e.kernel_errno();
  }
}

std::vector<uint32_t> walk(Map& m) {
  std::vector<uint32_t> keys;
  uint32_t key = 0, next = 0;
  const void* prev = nullptr;
  while (m.get_next_key_user(prev, &next) == 0) {
    keys.push_back(next);
    key = next;
    prev = &key;
    if (keys.size() > 100000) break;
  }
  return keys;
}

// ---- stack trace map ----

TEST(StackTraceMap, CreateChecks) {
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 8 * 127, 16}), 0);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 8 * 128, 16}), EINVAL);  // > perf_event_max_stack
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 12, 16}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 0, 16}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 8, 64, 16}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 64, 0}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 64, 16, BPF_F_NO_PREALLOC}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 64, (1u << 31) + 1}), E2BIG);
  // Build ids: whole struct bpf_stack_build_id frames (32 bytes).
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 64, 16, BPF_F_STACK_BUILD_ID}), 0);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 40, 16, BPF_F_STACK_BUILD_ID}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_STACK_TRACE, 4, 32 * 128, 16, BPF_F_STACK_BUILD_ID}), EINVAL);
}

std::unique_ptr<StackTraceMap> stack_map(uint32_t max_entries, uint32_t value_size = 64, uint32_t flags = 0) {
  MapSpec spec{BPF_MAP_TYPE_STACK_TRACE, 4, value_size, max_entries, flags};
  auto m = create_map(spec);
  return std::unique_ptr<StackTraceMap>(static_cast<StackTraceMap*>(m.release()));
}

TEST(StackTraceMap, SameStackSameIdAndTheMapHoldsTheIps) {
  auto m = stack_map(100);
  EXPECT_EQ(m->n_buckets(), 128u);
  const std::vector<uint64_t> a = {0x401000, 0x402000, 0x403000};
  const int64_t id = m->get_stackid(a, 0);
  ASSERT_GE(id, 0);
  EXPECT_EQ(uint32_t(id), stack_trace_hash(a.data(), a.size()) & 127);
  EXPECT_EQ(m->get_stackid(a, 0), id);
  uint64_t value[8];
  std::memset(value, 0xee, sizeof value);
  const uint32_t key = uint32_t(id);
  ASSERT_EQ(m->lookup_user(&key, value), 0);
  EXPECT_EQ(value[0], 0x401000u);
  EXPECT_EQ(value[2], 0x403000u);
  for (int i = 3; i < 8; ++i) EXPECT_EQ(value[i], 0u) << i;  // zero-padded
  EXPECT_EQ(m->lookup(&key), nullptr);                        // not readable by programs
  EXPECT_EQ(m->update_user(&key, value, BPF_ANY), -EINVAL);

  // Skipping frames stores (and hashes) what is left.
  const int64_t skipped = m->get_stackid(a, 1);
  ASSERT_GE(skipped, 0);
  const uint32_t key2 = uint32_t(skipped);
  ASSERT_EQ(m->lookup_user(&key2, value), 0);
  EXPECT_EQ(value[0], 0x402000u);
  EXPECT_EQ(m->get_stackid(a, 3), -EFAULT);

  EXPECT_EQ(walk(*m), (std::vector<uint32_t>{std::min(key, key2), std::max(key, key2)}));
  EXPECT_EQ(m->delete_elem(&key), 0);
  EXPECT_EQ(m->delete_elem(&key), -ENOENT);
  EXPECT_EQ(m->lookup_user(&key, value), -ENOENT);
  const uint32_t past = 128;
  EXPECT_EQ(m->delete_elem(&past), -E2BIG);
  EXPECT_EQ(m->lookup_user(&past, value), -ENOENT);
}

TEST(StackTraceMap, CollisionsNeedReuse) {
  auto m = stack_map(1);  // one bucket: every stack collides
  const std::vector<uint64_t> a = {1, 2}, b = {3, 4, 5};
  EXPECT_EQ(m->get_stackid(a, 0), 0);
  EXPECT_EQ(m->get_stackid(b, 0), -EEXIST);
  // A full map cannot take even a replacement: the kernel takes a new element first.
  EXPECT_EQ(m->get_stackid(b, BPF_F_REUSE_STACKID), -ENOMEM);
  auto two = stack_map(2, 64);  // two buckets, two elements
  std::vector<uint64_t> s0, s1;
  for (uint64_t i = 1; s0.empty() || s1.empty(); ++i) {
    const std::vector<uint64_t> s = {i, i * 7};
    (stack_trace_hash(s.data(), 2) & 1 ? s1 : s0) = s;
  }
  std::vector<uint64_t> s0b;
  for (uint64_t i = 1000; s0b.empty(); ++i) {
    const std::vector<uint64_t> s = {i, i * 7};
    if (!(stack_trace_hash(s.data(), 2) & 1)) s0b = s;
  }
  EXPECT_EQ(two->get_stackid(s0, 0), 0);
  EXPECT_EQ(two->get_stackid(s0b, 0), -EEXIST);
  EXPECT_EQ(two->get_stackid(s0b, BPF_F_REUSE_STACKID), 0);  // the second element replaces the first
  uint64_t value[8];
  const uint32_t zero = 0;
  ASSERT_EQ(two->lookup_user(&zero, value), 0);
  EXPECT_EQ(value[0], s0b[0]);
  EXPECT_EQ(two->get_stackid(s1, 0), 1);  // the released element is reused
  // Fast compare trusts the hash alone.
  EXPECT_EQ(two->get_stackid(s0b, BPF_F_FAST_STACK_CMP), 0);
}

TEST(StackTraceMap, FullMapRefusesNewStacks) {
  auto m = stack_map(3);  // 4 buckets, 3 elements
  std::vector<std::vector<uint64_t>> by_bucket(4);
  for (uint64_t i = 1; by_bucket[0].empty() || by_bucket[1].empty() || by_bucket[2].empty() || by_bucket[3].empty();
       ++i) {
    const std::vector<uint64_t> s = {i};
    by_bucket[stack_trace_hash(s.data(), 1) & 3] = s;
  }
  for (int b = 0; b < 3; ++b) EXPECT_EQ(m->get_stackid(by_bucket[b], 0), b);
  EXPECT_EQ(m->get_stackid(by_bucket[3], 0), -ENOMEM);
  const uint32_t one = 1;
  EXPECT_EQ(m->delete_elem(&one), 0);
  EXPECT_EQ(m->get_stackid(by_bucket[3], 0), 3);
}

TEST(StackTraceMap, BuildIdFramesFallBackToIps) {
  auto m = stack_map(8, 64, BPF_F_STACK_BUILD_ID);
  const std::vector<uint64_t> a = {0x1000, 0x2000, 0x3000};
  EXPECT_EQ(m->capture_depth(0), 2u);  // two 32-byte frames fit
  const int64_t id = m->get_stackid(a, 0);
  ASSERT_GE(id, 0);
  EXPECT_EQ(m->get_stackid(a, 0), id);
  bpf_stack_build_id frames[2];
  const uint32_t key = uint32_t(id);
  ASSERT_EQ(m->lookup_user(&key, frames), 0);
  EXPECT_EQ(frames[0].status, BPF_STACK_BUILD_ID_IP);
  EXPECT_EQ(frames[0].ip, 0x1000u);
  EXPECT_EQ(frames[1].ip, 0x2000u);
}

TEST(StackTraceMap, HashIsJenkinsLookup3) {
  // Values of the kernel's jhash2 (lookup3 hashword), seed 0; checked against the
  // kernel in tests/kernel by the stack ids it hands out.
  EXPECT_EQ(stack_trace_hash(nullptr, 0), 0xdeadbeefu);
  const uint64_t one = 0;
  EXPECT_NE(stack_trace_hash(&one, 1), stack_trace_hash(nullptr, 0));
  const uint64_t ab[2] = {1, 2}, ba[2] = {2, 1};
  EXPECT_NE(stack_trace_hash(ab, 2), stack_trace_hash(ba, 2));
}

// ---- devmap, devmap_hash ----

TEST(RedirectMaps, CreateChecks) {
  for (uint32_t t : {BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH}) {
    SCOPED_TRACE(map_type_name(t));
    EXPECT_EQ(create_errno({t, 4, 4, 8}), 0);
    EXPECT_EQ(create_errno({t, 4, 8, 8}), 0);
    EXPECT_EQ(create_errno({t, 4, 12, 8}), EINVAL);
    EXPECT_EQ(create_errno({t, 8, 4, 8}), EINVAL);
    EXPECT_EQ(create_errno({t, 4, 4, 0}), EINVAL);
    EXPECT_EQ(create_errno({t, 4, 4, 8, BPF_F_RDONLY_PROG}), EINVAL);
    EXPECT_EQ(create_errno({t, 4, 4, 8, BPF_F_RDONLY}), 0);
    EXPECT_EQ(create_errno({t, 4, 4, 8, BPF_F_NO_PREALLOC}), EINVAL);
  }
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, (1u << 31) + 1}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_CPUMAP, 4, 4, 2}), 0);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_CPUMAP, 4, 8, 2}), 0);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_CPUMAP, 4, 8, kernel_nr_cpus() + 1}), E2BIG);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_CPUMAP, 4, 4, 2, BPF_F_RDONLY}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_CPUMAP, 4, 16, 2}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_XSKMAP, 4, 4, 4}), 0);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_XSKMAP, 4, 8, 4}), EINVAL);
  EXPECT_EQ(create_errno({BPF_MAP_TYPE_XSKMAP, 4, 4, 4, BPF_F_WRONLY}), 0);
}

std::unique_ptr<DevMap> devmap(uint32_t type, uint32_t value_size, uint32_t max_entries) {
  auto m = create_map({type, 4, value_size, max_entries});
  auto d = std::unique_ptr<DevMap>(static_cast<DevMap*>(m.release()));
  d->set_ifindex_check([](uint32_t ifindex) { return ifindex >= 1 && ifindex <= 50; });  // devices 1..50
  return d;
}

TEST(DevMap, ArraySemantics) {
  auto m = devmap(BPF_MAP_TYPE_DEVMAP, 4, 4);
  EXPECT_TRUE(m->flags() & BPF_F_RDONLY_PROG);  // the kernel adds it
  const uint32_t k1 = 1, k9 = 9, dev = 7, nodev = 99, none = 0;
  uint32_t out = 0;
  EXPECT_EQ(m->lookup_user(&k1, &out), -ENOENT);
  EXPECT_EQ(m->update_user(&k1, &dev, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update_user(&k1, &dev, 4), -EINVAL);
  EXPECT_EQ(m->update_user(&k9, &dev, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->update_user(&k1, &nodev, BPF_ANY), -EINVAL);  // no such device
  EXPECT_EQ(m->update_user(&k1, &dev, BPF_EXIST), 0);
  ASSERT_EQ(m->lookup_user(&k1, &out), 0);
  EXPECT_EQ(out, 7u);
  ASSERT_NE(m->lookup(&k1), nullptr);
  RedirectTarget t;
  ASSERT_TRUE(m->redirect_lookup(1, &t));
  EXPECT_EQ(t.ifindex, 7u);
  EXPECT_FALSE(m->redirect_lookup(2, &t));
  EXPECT_EQ(walk(*m), (std::vector<uint32_t>{0, 1, 2, 3}));  // every index, present or not
  EXPECT_EQ(m->update_user(&k1, &none, BPF_ANY), 0);            // ifindex 0 empties the slot
  EXPECT_EQ(m->lookup_user(&k1, &out), -ENOENT);
  EXPECT_EQ(m->delete_user(&k1), 0);  // deleting an empty slot is fine
  EXPECT_EQ(m->delete_user(&k9), -EINVAL);
}

TEST(DevMap, ProgramFdsNeedAResolver) {
  auto m = devmap(BPF_MAP_TYPE_DEVMAP, 8, 4);
  const uint32_t k = 0;
  bpf_devmap_val v{};
  v.ifindex = 3;
  v.bpf_prog.fd = 5;
  EXPECT_EQ(m->update_user(&k, &v, BPF_ANY), -EINVAL);
  m->set_prog_resolver([](int32_t fd) { return fd == 5 ? 42u : 0u; });
  ASSERT_EQ(m->update_user(&k, &v, BPF_ANY), 0);
  bpf_devmap_val out{};
  ASSERT_EQ(m->lookup_user(&k, &out), 0);
  EXPECT_EQ(out.ifindex, 3u);
  EXPECT_EQ(out.bpf_prog.id, 42u);  // the fd reads back as the program's id
  v.bpf_prog.fd = 6;
  EXPECT_EQ(m->update_user(&k, &v, BPF_ANY), -EINVAL);
  v.ifindex = 0;
  v.bpf_prog.fd = 5;
  EXPECT_EQ(m->update_user(&k, &v, BPF_ANY), -EINVAL);  // a program needs a device
}

TEST(DevMap, HashSemanticsAndOrder) {
  auto m = devmap(BPF_MAP_TYPE_DEVMAP_HASH, 4, 3);  // 4 buckets
  const uint32_t dev = 2, zero = 0;
  const uint32_t k1 = 1, k5 = 5, k9 = 9, k2 = 2;
  EXPECT_EQ(m->update_user(&k1, &zero, BPF_ANY), -EINVAL);  // ifindex 0 is refused
  EXPECT_EQ(m->update_user(&k1, &dev, BPF_EXIST), 0);       // EXIST on a missing key inserts
  EXPECT_EQ(m->update_user(&k1, &dev, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update_user(&k5, &dev, BPF_ANY), 0);  // same bucket as 1, ahead of it
  EXPECT_EQ(m->update_user(&k2, &dev, BPF_ANY), 0);
  EXPECT_EQ(m->update_user(&k9, &dev, BPF_ANY), -E2BIG);  // three entries at most
  EXPECT_EQ(walk(*m), (std::vector<uint32_t>{5, 1, 2}));
  const uint32_t dev3 = 3;
  EXPECT_EQ(m->update_user(&k1, &dev3, BPF_ANY), 0);  // a replaced entry moves to its bucket's head
  EXPECT_EQ(walk(*m), (std::vector<uint32_t>{1, 5, 2}));
  EXPECT_EQ(m->broadcast_ifindexes(), (std::vector<uint32_t>{3, 2, 2}));
  EXPECT_EQ(m->broadcast_ifindexes(2), (std::vector<uint32_t>{3}));
  uint32_t next = 0;
  const uint32_t missing = 77;
  EXPECT_EQ(m->get_next_key_user(&missing, &next), 0);  // a missing key restarts
  EXPECT_EQ(next, 1u);
  EXPECT_EQ(m->delete_user(&k5), 0);
  EXPECT_EQ(m->delete_user(&k5), -ENOENT);
  EXPECT_EQ(m->update_user(&k9, &dev, BPF_ANY), 0);  // room again
  RedirectTarget t;
  ASSERT_TRUE(m->redirect_lookup(9, &t));
  EXPECT_EQ(t.ifindex, 2u);
  EXPECT_FALSE(m->redirect_lookup(5, &t));
}

TEST(DevMap, DefaultCheckAsksTheHost) {
  auto m = create_map({BPF_MAP_TYPE_DEVMAP, 4, 4, 2});
  const uint32_t k = 0, lo = 1, bogus = 0x7ffffff0;  // loopback is always ifindex 1
  EXPECT_EQ(m->update_user(&k, &lo, BPF_ANY), 0);
  EXPECT_EQ(m->update_user(&k, &bogus, BPF_ANY), -EINVAL);
}

// ---- cpumap ----

TEST(CpuMap, Semantics) {
  auto m = create_map({BPF_MAP_TYPE_CPUMAP, 4, 8, 4});
  const uint32_t k0 = 0, k4 = 4, k3 = 3;
  bpf_cpumap_val v{};
  v.qsize = 192;
  EXPECT_EQ(m->update_user(&k0, &v, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update_user(&k4, &v, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->update_user(&k0, &v, 7), -EINVAL);
  ASSERT_EQ(m->update_user(&k0, &v, BPF_ANY), 0);
  bpf_cpumap_val out{};
  ASSERT_EQ(m->lookup_user(&k0, &out), 0);
  EXPECT_EQ(out.qsize, 192u);
  EXPECT_EQ(m->lookup(&k0), nullptr);  // programs cannot read a cpumap
  if (possible_cpus() <= 3) {
    EXPECT_EQ(m->update_user(&k3, &v, BPF_ANY), -ENODEV);
  }
  v.qsize = 16385;
  EXPECT_EQ(m->update_user(&k0, &v, BPF_ANY), -EOVERFLOW);
  v.qsize = 64;
  v.bpf_prog.fd = 3;
  EXPECT_EQ(m->update_user(&k0, &v, BPF_ANY), -ENOMEM);  // not a cpumap program: the kernel says ENOMEM
  auto* rm = dynamic_cast<RedirectMap*>(m.get());
  RedirectTarget t;
  ASSERT_TRUE(rm->redirect_lookup(0, &t));
  EXPECT_EQ(t.cpu, 0u);
  EXPECT_EQ(rm->redirect_flags_allowed(), 0u);
  EXPECT_EQ(m->delete_user(&k0), 0);
  EXPECT_FALSE(rm->redirect_lookup(0, &t));
  EXPECT_EQ(m->lookup_user(&k0, &out), -ENOENT);
  EXPECT_EQ(m->delete_user(&k4), -EINVAL);
}

// ---- xskmap ----

TEST(XskMap, SocketChecks) {
  auto m = create_map({BPF_MAP_TYPE_XSKMAP, 4, 4, 4});
  const uint32_t k = 0, k4 = 4;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const int udp = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(udp, 0);
  const uint32_t pipe_fd = uint32_t(pipefd[0]), udp_fd = uint32_t(udp), closed = 1000000;
  EXPECT_EQ(m->update_user(&k, &closed, BPF_ANY), -EBADF);
  EXPECT_EQ(m->update_user(&k, &pipe_fd, BPF_ANY), -ENOTSOCK);
  EXPECT_EQ(m->update_user(&k, &udp_fd, BPF_ANY), -EOPNOTSUPP);
  EXPECT_EQ(m->update_user(&k4, &udp_fd, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->update_user(&k, &udp_fd, 3), -EINVAL);
  uint32_t out;
  EXPECT_EQ(m->lookup_user(&k, &out), -EOPNOTSUPP);
  EXPECT_EQ(m->lookup(&k), nullptr);
  EXPECT_EQ(m->delete_user(&k), 0);
  EXPECT_EQ(m->delete_user(&k4), -EINVAL);
  EXPECT_EQ(walk(*m), (std::vector<uint32_t>{0, 1, 2, 3}));
  close(pipefd[0]);
  close(pipefd[1]);
  close(udp);

  // With an AF_XDP socket (needs CAP_NET_RAW): the fd is recorded.
  const int xsk = socket(AF_XDP, SOCK_RAW, 0);
  if (xsk < 0) GTEST_SKIP() << "skipped: no AF_XDP socket here (" << strerror(errno) << ")";
  const uint32_t xsk_fd = uint32_t(xsk);
  EXPECT_EQ(m->update_user(&k, &xsk_fd, BPF_EXIST), -ENOENT);
  ASSERT_EQ(m->update_user(&k, &xsk_fd, BPF_NOEXIST), 0);
  EXPECT_EQ(m->update_user(&k, &xsk_fd, BPF_NOEXIST), 0);  // the same socket again
  const int other = socket(AF_XDP, SOCK_RAW, 0);
  const uint32_t other_fd = uint32_t(other);
  EXPECT_EQ(m->update_user(&k, &other_fd, BPF_NOEXIST), -EEXIST);
  auto* rm = dynamic_cast<XskMap*>(m.get());
  RedirectTarget t;
  ASSERT_TRUE(rm->redirect_lookup(0, &t));
  EXPECT_EQ(t.xsk_fd, xsk);
  ASSERT_NE(m->lookup(&k), nullptr);
  EXPECT_EQ(rm->set_queue_id(0, 3), 0);
  EXPECT_EQ(static_cast<bpf_xdp_sock*>(m->lookup(&k))->queue_id, 3u);
  close(xsk);
  close(other);
}

}  // namespace
}  // namespace bpfkit::maps
