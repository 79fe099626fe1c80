// PacketContext on its own: layout, defaults, ctx_in checks, output, and the cost
// of reset() (the kernel cross-check is tests/kernel/packet_context_kernel_test.cpp).
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "core/packet_context.h"

// Counts allocations so that a test can show reset() makes none. (GCC cannot see that
// this operator new and delete are a matched malloc/free pair.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<uint64_t> g_allocations{0};
}
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace bpfkit::core {
namespace {

std::vector<uint8_t> frame(std::initializer_list<uint8_t> dst, uint16_t ethertype, size_t size) {
  std::vector<uint8_t> f(size);
  std::copy(dst.begin(), dst.end(), f.begin());
  for (size_t i = 6; i < size; ++i) f[i] = uint8_t(i);
  f[12] = uint8_t(ethertype >> 8);
  f[13] = uint8_t(ethertype);
  return f;
}

template <typename T>
T ctx_as(const PacketContext& pc) {
  T v;
  std::memcpy(&v, reinterpret_cast<const void*>(pc.ctx()), sizeof(T));
  return v;
}

std::vector<uint8_t> bytes_of(const auto& s) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&s);
  return {p, p + sizeof(s)};
}

TEST(PacketContextTest, SupportsPacketTypesOnly) {
  for (uint32_t t : {BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SCHED_ACT,
                     BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_LWT_IN}) {
    EXPECT_TRUE(PacketContext::supports(t)) << t;
  }
  EXPECT_FALSE(PacketContext::supports(BPF_PROG_TYPE_TRACEPOINT));
  EXPECT_FALSE(PacketContext::supports(BPF_PROG_TYPE_KPROBE));
  EXPECT_THROW(PacketContext{BPF_PROG_TYPE_TRACEPOINT}, Error);
}

TEST(PacketContextTest, XdpLayoutAsTheKernelBuildsIt) {
  PacketContext pc(BPF_PROG_TYPE_XDP);
  const auto packet = frame({0, 0, 0, 0, 0, 0}, 0x0800, 64);
  pc.reset(packet);
  const PacketState& s = pc.state();
  EXPECT_LT(reinterpret_cast<uintptr_t>(s.end), uintptr_t(1) << 32);  // 32-bit pointers in xdp_md
  EXPECT_EQ(s.data - s.head, 256);                                    // XDP_PACKET_HEADROOM
  EXPECT_EQ(s.data_end - s.data, 64);
  EXPECT_EQ(s.meta, s.data);
  EXPECT_EQ(s.end - s.head, 256 + 3520);  // the page minus headroom and skb_shared_info
  EXPECT_EQ(std::vector<uint8_t>(s.data, s.data_end), packet);
  xdp_md md = ctx_as<xdp_md>(pc);
  EXPECT_EQ(md.data, uint32_t(reinterpret_cast<uintptr_t>(s.data)));
  EXPECT_EQ(md.data_end, uint32_t(reinterpret_cast<uintptr_t>(s.data_end)));
  EXPECT_EQ(md.data_meta, md.data);
  EXPECT_EQ(md.ingress_ifindex, 1u);  // the loopback device's queue 0
  EXPECT_EQ(md.rx_queue_index, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s.ctx_data), pc.ctx() + offsetof(xdp_md, data));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s.ctx_data_end), pc.ctx() + offsetof(xdp_md, data_end));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s.ctx_data_meta), pc.ctx() + offsetof(xdp_md, data_meta));
  std::span<const uint8_t> out = pc.packet_out();
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.end()), packet);
  xdp_md o;
  std::vector<uint8_t> ctx_out = pc.ctx_out();
  ASSERT_EQ(ctx_out.size(), sizeof(o));
  std::memcpy(&o, ctx_out.data(), sizeof(o));
  EXPECT_EQ(o.data, 0u);
  EXPECT_EQ(o.data_end, 64u);
}

TEST(PacketContextTest, XdpMetadataFromCtxIn) {
  PacketContext pc(BPF_PROG_TYPE_XDP);
  auto packet = frame({0, 0, 0, 0, 0, 0}, 0x0800, 72);
  xdp_md in{};
  in.data = 8;
  in.data_end = 72;
  pc.reset(packet, bytes_of(in));
  const PacketState& s = pc.state();
  EXPECT_EQ(s.data - s.meta, 8);
  EXPECT_EQ(s.data - s.head, 256);
  EXPECT_EQ(s.data_end - s.data, 64);
  EXPECT_EQ(std::vector<uint8_t>(s.meta, s.data), std::vector<uint8_t>(packet.begin(), packet.begin() + 8));
  EXPECT_EQ(pc.packet_out().size(), 72u);  // the kernel returns the metadata with the frame
  xdp_md o;
  std::memcpy(&o, pc.ctx_out().data(), sizeof(o));
  EXPECT_EQ(o.data, 8u);
  EXPECT_EQ(o.data_end, 72u);
  EXPECT_EQ(o.data_meta, 0u);
  EXPECT_EQ(o.ingress_ifindex, 0u);
}

TEST(PacketContextTest, XdpCtxInErrorsNameTheField) {
  PacketContext pc(BPF_PROG_TYPE_XDP);
  const auto packet = frame({0, 0, 0, 0, 0, 0}, 0x0800, 64);
  auto error_of = [&](xdp_md md) -> std::string {
    try {
      pc.reset(packet, bytes_of(md));
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  xdp_md ok{};
  ok.data_end = 64;
  EXPECT_EQ(error_of(ok), "");
  xdp_md m = ok;
  m.data_meta = 4;
  EXPECT_NE(error_of(m).find("data_meta"), std::string::npos);
  m = ok;
  m.data_end = 65;
  EXPECT_NE(error_of(m).find("data_end"), std::string::npos);
  m = ok;
  m.data = 6;
  EXPECT_NE(error_of(m).find("multiple of 4"), std::string::npos);
  m = ok;
  m.egress_ifindex = 1;
  EXPECT_NE(error_of(m).find("egress_ifindex"), std::string::npos);
  m = ok;
  m.rx_queue_index = 1;
  EXPECT_NE(error_of(m).find("rx_queue_index"), std::string::npos);
  std::vector<uint8_t> longer = bytes_of(ok);
  longer.resize(40, 0);
  EXPECT_NO_THROW(pc.reset(packet, longer));
  longer[30] = 1;
  EXPECT_THROW(pc.reset(packet, longer), Error);
}

TEST(PacketContextTest, SkbDefaultsFollowEthTypeTrans) {
  struct Case {
    std::vector<uint8_t> packet;
    uint32_t pkt_type;
    uint16_t protocol;  // host order
  };
  const Case cases[] = {
      {frame({0, 0, 0, 0, 0, 0}, 0x0800, 64), 0, 0x0800},                // to the loopback's address: HOST
      {frame({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0x0806, 60), 2, 0x0806},  // lo's broadcast is 00..: MULTICAST
      {frame({0x01, 0x00, 0x5e, 0, 0, 1}, 0x86dd, 80), 2, 0x86dd},
      {frame({0x02, 1, 2, 3, 4, 5}, 0x0800, 64), 3, 0x0800},           // OTHERHOST
      {frame({0x02, 1, 2, 3, 4, 5}, 0x0040, 64), 3, 0x0004},           // a length: 802.2 LLC
  };
  PacketContext tc(BPF_PROG_TYPE_SCHED_CLS);
  PacketContext sf(BPF_PROG_TYPE_SOCKET_FILTER);
  for (const Case& c : cases) {
    tc.reset(c.packet);
    __sk_buff skb = ctx_as<__sk_buff>(tc);
    EXPECT_EQ(skb.len, c.packet.size());
    EXPECT_EQ(skb.pkt_type, c.pkt_type);
    EXPECT_EQ(skb.protocol, uint32_t(__builtin_bswap16(c.protocol)));
    EXPECT_EQ(skb.ifindex, 1u);
    EXPECT_EQ(skb.wire_len, 0u);  // the kernel sets it only when given a ctx
    EXPECT_EQ(skb.data_end - skb.data, c.packet.size());
    EXPECT_EQ(skb.data_meta, skb.data);
    EXPECT_EQ(tc.state().data - tc.state().head, 64);  // NET_SKB_PAD
    sf.reset(c.packet);
    __sk_buff l3 = ctx_as<__sk_buff>(sf);
    EXPECT_EQ(l3.len, c.packet.size() - 14);  // the socket filter starts at the network header
    EXPECT_EQ(sf.state().data_end - sf.state().data, ptrdiff_t(c.packet.size() - 14));
    std::span<const uint8_t> out = sf.packet_out();
    ASSERT_EQ(out.size(), c.packet.size());
    EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 14), std::vector<uint8_t>(14, 0));
    EXPECT_TRUE(std::equal(out.begin() + 14, out.end(), c.packet.begin() + 14));
  }
}

TEST(PacketContextTest, SkbCtxIn) {
  PacketContext tc(BPF_PROG_TYPE_SCHED_CLS);
  const auto packet = frame({0, 0, 0, 0, 0, 0}, 0x0800, 64);
  __sk_buff in{};
  in.mark = 5;
  in.priority = 6;
  in.cb[2] = 7;
  in.tstamp = 8;
  in.gso_size = 1400;
  tc.reset(packet, bytes_of(in));
  __sk_buff skb = ctx_as<__sk_buff>(tc);
  EXPECT_EQ(skb.mark, 5u);
  EXPECT_EQ(skb.priority, 6u);
  EXPECT_EQ(skb.cb[2], 7u);
  EXPECT_EQ(skb.tstamp, 8u);
  EXPECT_EQ(skb.wire_len, 64u);
  EXPECT_EQ(skb.len, 64u);
  // The program changes mark; ctx_out reports it, with the fields the kernel copies back.
  reinterpret_cast<__sk_buff*>(tc.ctx())->mark = 99;
  reinterpret_cast<__sk_buff*>(tc.ctx())->tc_index = 3;  // not copied back
  __sk_buff out;
  std::memcpy(&out, tc.ctx_out().data(), sizeof(out));
  EXPECT_EQ(out.mark, 99u);
  EXPECT_EQ(out.priority, 6u);
  EXPECT_EQ(out.cb[2], 7u);
  EXPECT_EQ(out.gso_size, 1400u);
  EXPECT_EQ(out.ifindex, 1u);
  EXPECT_EQ(out.tc_index, 0u);
  EXPECT_EQ(out.len, 0u);
  // Fields BPF_PROG_TEST_RUN does not take.
  for (auto edit : {+[](__sk_buff& s) { s.len = 1; }, +[](__sk_buff& s) { s.protocol = 1; },
                    +[](__sk_buff& s) { s.tc_index = 1; }, +[](__sk_buff& s) { s.data = 1; },
                    +[](__sk_buff& s) { s.tstamp_type = 1; }, +[](__sk_buff& s) { s.wire_len = 10; },
                    +[](__sk_buff& s) { s.gso_segs = 70000; }}) {
    __sk_buff bad{};
    edit(bad);
    EXPECT_THROW(tc.reset(packet, bytes_of(bad)), Error);
  }
  __sk_buff bad{};
  bad.protocol = 1;
  try {
    tc.reset(packet, bytes_of(bad));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("offset 16"), std::string::npos) << e.what();
  }
}

TEST(PacketContextTest, ResetClearsWhatTheLastRunLeft) {
  PacketContext pc(BPF_PROG_TYPE_XDP);
  pc.reset(frame({0, 0, 0, 0, 0, 0}, 0x0800, 100));
  PacketState& s = pc.state();
  std::memset(s.head, 0xee, 256);  // a program that grew the head and wrote there
  s.data -= 50;
  *s.ctx_data -= 50;
  s.redirected = true;
  pc.reset(frame({0, 0, 0, 0, 0, 0}, 0x0800, 60));
  EXPECT_EQ(s.data - s.head, 256);
  EXPECT_EQ(s.data_end - s.data, 60);
  EXPECT_FALSE(s.redirected);
  EXPECT_EQ(std::vector<uint8_t>(s.head, s.data), std::vector<uint8_t>(256, 0));
}

// reset() without ctx_in takes a short path of its own: it must build exactly what
// the full path builds from a ctx_in of defaults, and undo what a ctx_in run left
// (metadata in the headroom, a device and queue).
TEST(PacketContextTest, PlainXdpResetMatchesDefaultCtxInAndUndoesIt) {
  const auto packet = frame({0, 0, 0, 0, 0, 0}, 0x0800, 80);
  PacketContext plain(BPF_PROG_TYPE_XDP), full(BPF_PROG_TYPE_XDP);
  xdp_md defaults{};
  defaults.data_end = 80;
  plain.reset(packet);
  full.reset(packet, bytes_of(defaults));
  const PacketState& p = plain.state();
  const PacketState& f = full.state();
  EXPECT_EQ(p.data - p.head, f.data - f.head);
  EXPECT_EQ(p.meta - p.head, f.meta - f.head);
  EXPECT_EQ(p.data_end - p.head, f.data_end - f.head);
  EXPECT_EQ(p.end - p.head, f.end - f.head);
  EXPECT_EQ(p.ifindex, f.ifindex);
  EXPECT_EQ(p.rx_queue_index, f.rx_queue_index);
  const xdp_md pm = ctx_as<xdp_md>(plain), fm = ctx_as<xdp_md>(full);
  EXPECT_EQ(pm.data - uint32_t(reinterpret_cast<uintptr_t>(p.head)),
            fm.data - uint32_t(reinterpret_cast<uintptr_t>(f.head)));
  EXPECT_EQ(pm.data_end - pm.data, fm.data_end - fm.data);
  EXPECT_EQ(pm.data_meta, pm.data);
  EXPECT_EQ(pm.ingress_ifindex, fm.ingress_ifindex);
  EXPECT_EQ(pm.rx_queue_index, fm.rx_queue_index);
  EXPECT_EQ(pm.egress_ifindex, 0u);

  // A run with 8 bytes of metadata and the loopback named explicitly, then a plain one.
  xdp_md meta{};
  meta.data = 8;
  meta.data_end = 80;
  meta.ingress_ifindex = 1;
  auto with_meta = packet;
  std::fill(with_meta.begin(), with_meta.begin() + 8, 0xab);
  plain.reset(with_meta, bytes_of(meta));
  ASSERT_EQ(p.data - p.meta, 8);
  plain.state().redirected = true;
  plain.reset(packet);
  EXPECT_EQ(p.meta, p.data);
  EXPECT_EQ(p.data - p.head, 256);
  EXPECT_EQ(std::vector<uint8_t>(p.head, p.data), std::vector<uint8_t>(256, 0)) << "metadata left in the headroom";
  EXPECT_EQ(std::vector<uint8_t>(p.data, p.data_end), packet);
  EXPECT_FALSE(p.redirected);
  xdp_md out;
  std::memcpy(&out, plain.ctx_out().data(), sizeof(out));
  EXPECT_EQ(out.data, 0u);
  EXPECT_EQ(out.ingress_ifindex, 0u) << "ctx_out still reports the last ctx_in";
}

TEST(PacketContextTest, PacketSizeLimits) {
  PacketContext pc(BPF_PROG_TYPE_XDP, 1500);
  EXPECT_THROW(pc.reset(std::vector<uint8_t>(13)), Error);
  EXPECT_NO_THROW(pc.reset(std::vector<uint8_t>(14)));
  EXPECT_NO_THROW(pc.reset(std::vector<uint8_t>(1500)));
  EXPECT_THROW(pc.reset(std::vector<uint8_t>(1501)), Error);
  PacketContext jumbo(BPF_PROG_TYPE_SCHED_CLS, 9000);
  EXPECT_NO_THROW(jumbo.reset(std::vector<uint8_t>(9000)));
  EXPECT_EQ(jumbo.state().data_end - jumbo.state().data, 9000);
}

TEST(PacketContextTest, GrantsContextAndBuffer) {
  PacketContext pc(BPF_PROG_TYPE_SCHED_CLS);
  pc.reset(frame({0, 0, 0, 0, 0, 0}, 0x0800, 64));
  ExecEnv env;
  pc.add_regions(env);
  ASSERT_EQ(env.regions.size(), 2u);
  EXPECT_EQ(env.regions[0].begin, pc.ctx());
  EXPECT_EQ(env.regions[0].size, sizeof(__sk_buff));
  EXPECT_EQ(env.regions[1].begin, reinterpret_cast<uintptr_t>(pc.state().head));
  EXPECT_EQ(env.regions[1].begin + env.regions[1].size, reinterpret_cast<uintptr_t>(pc.state().end));
}

// The hot path: once per packet, no allocation, a few nanoseconds.
TEST(PacketContextTest, ResetIsCheapAndDoesNotAllocate) {
  const auto packet = frame({0, 0, 0, 0, 0, 0}, 0x0800, 64);
  for (uint32_t type : {BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS}) {
    PacketContext pc(type);
    pc.reset(packet);
    const uint64_t before = g_allocations.load();
    // The best of several batches: the machine is shared, and the cost is what an
    // undisturbed batch shows.
    constexpr int kBatches = 20, kRounds = 10000;
    double ns = 1e9;
    for (int b = 0; b < kBatches; ++b) {
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < kRounds; ++i) pc.reset(packet);
      ns = std::min(ns, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
                            kRounds);
    }
    EXPECT_EQ(g_allocations.load(), before) << "reset() allocated";
    RecordProperty(type == BPF_PROG_TYPE_XDP ? "xdp_reset_ns" : "tc_reset_ns", std::to_string(ns));
    std::printf("reset of a 64-byte packet (type %u): %.1f ns\n", type, ns);
    EXPECT_LT(ns, 1000.0);  // generous for sanitizer builds; about 10 ns in a release build
  }
}

}  // namespace
}  // namespace bpfkit::core
