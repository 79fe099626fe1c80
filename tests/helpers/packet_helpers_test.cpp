// Packet and checksum helpers on a test-run-shaped buffer (256 bytes of headroom).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <numeric>

#include "helper_test_util.h"
#include "maps/map.h"

namespace bpfkit::helpers::testing {
namespace {

std::vector<uint8_t> iota_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), uint8_t(0));
  return v;
}

int64_t s(uint64_t v) { return int64_t(v); }

TEST(XdpAdjust, HeadMovesDataWithinHeadroomAndKeepsAnEthernetHeader) {
  auto bytes = iota_bytes(64);
  TestPacket pkt(bytes);
  core::ExecEnv env = runtime_env();
  pkt.attach(env);
  const uint64_t ctx = addr(pkt.ctx);
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_head, env, ctx, 14), 0u);
  EXPECT_EQ(pkt.bytes(), std::vector<uint8_t>(bytes.begin() + 14, bytes.end()));
  EXPECT_EQ(pkt.ctx->data, uint32_t(addr(pkt.state.data)));
  EXPECT_EQ(pkt.ctx->data_meta, pkt.ctx->data);
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_head, env, ctx, uint32_t(-14)), 0u);
  EXPECT_EQ(pkt.bytes(), bytes);
  // Up to the xdp_frame the kernel keeps at the start of the headroom: 256 - 40.
  EXPECT_EQ(s(call(BPF_FUNC_xdp_adjust_head, env, ctx, uint32_t(-217))), -EINVAL);
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_head, env, ctx, uint32_t(-216)), 0u);
  EXPECT_EQ(pkt.bytes().size(), 64u + 216u);
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_head, env, ctx, 216), 0u);
  // At least ETH_HLEN bytes must stay.
  EXPECT_EQ(s(call(BPF_FUNC_xdp_adjust_head, env, ctx, 51)), -EINVAL);
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_head, env, ctx, 50), 0u);
  EXPECT_EQ(pkt.bytes().size(), 14u);
}

TEST(XdpAdjust, MetaIsFourByteAlignedAndMovesWithTheHead) {
  TestPacket pkt(iota_bytes(64));
  core::ExecEnv env = runtime_env();
  pkt.attach(env);
  const uint64_t ctx = addr(pkt.ctx);
  EXPECT_EQ(s(call(BPF_FUNC_xdp_adjust_meta, env, ctx, uint32_t(-2))), -EACCES);
  EXPECT_EQ(s(call(BPF_FUNC_xdp_adjust_meta, env, ctx, 4)), -EINVAL);  // beyond data
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_meta, env, ctx, uint32_t(-8)), 0u);
  EXPECT_EQ(pkt.ctx->data - pkt.ctx->data_meta, 8u);
  std::memcpy(pkt.state.meta, "METADATA", 8);
  // The metadata travels with the packet start.
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_head, env, ctx, uint32_t(-20)), 0u);
  EXPECT_EQ(std::memcmp(pkt.state.meta, "METADATA", 8), 0);
  EXPECT_EQ(pkt.state.data - pkt.state.meta, 8);
  // Data may not move into the metadata's room below the xdp_frame: 256 - 40 - 8 - 20.
  EXPECT_EQ(s(call(BPF_FUNC_xdp_adjust_head, env, ctx, uint32_t(-189))), -EINVAL);
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_meta, env, ctx, 8), 0u);
  EXPECT_EQ(pkt.ctx->data_meta, pkt.ctx->data);
  EXPECT_EQ(s(call(BPF_FUNC_xdp_adjust_meta, env, ctx, uint32_t(-217))), -EINVAL);  // into the xdp_frame
}

TEST(XdpAdjust, TailGrowsZeroFilledAndShrinksToAnEthernetHeader) {
  TestPacket pkt(iota_bytes(64), BPF_PROG_TYPE_XDP, 100);
  core::ExecEnv env = runtime_env();
  pkt.attach(env);
  const uint64_t ctx = addr(pkt.ctx);
  pkt.state.data_end[0] = 0xaa;  // stale tailroom
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_tail, env, ctx, 8), 0u);
  auto b = pkt.bytes();
  ASSERT_EQ(b.size(), 72u);
  for (size_t i = 64; i < 72; ++i) EXPECT_EQ(b[i], 0) << i;
  EXPECT_EQ(pkt.ctx->data_end, uint32_t(addr(pkt.state.data_end)));
  EXPECT_EQ(s(call(BPF_FUNC_xdp_adjust_tail, env, ctx, 29)), -EINVAL);  // past the buffer (100 bytes)
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_tail, env, ctx, 28), 0u);
  EXPECT_EQ(s(call(BPF_FUNC_xdp_adjust_tail, env, ctx, uint32_t(-87))), -EINVAL);
  EXPECT_EQ(call(BPF_FUNC_xdp_adjust_tail, env, ctx, uint32_t(-86)), 0u);
  EXPECT_EQ(pkt.bytes().size(), 14u);
}

TEST(XdpAdjust, WithoutAPacketTheRunStops) {
  core::ExecEnv env = runtime_env();
  call(BPF_FUNC_xdp_adjust_head, env, 0, 4);
  EXPECT_TRUE(env.abort);
  EXPECT_EQ(env.abort_reason, "bpf_xdp_adjust_head: this program runs without a packet");
}

TEST(Redirect, XdpAndTcAnswerDifferently) {
  TestPacket xdp(iota_bytes(20));
  core::ExecEnv env = runtime_env();
  xdp.attach(env);
  EXPECT_EQ(call(BPF_FUNC_redirect, env, 7, 0), uint64_t(XDP_REDIRECT));
  EXPECT_TRUE(xdp.state.redirected);
  EXPECT_EQ(xdp.state.redirect_ifindex, 7u);
  EXPECT_EQ(call(BPF_FUNC_redirect, env, 7, BPF_F_INGRESS), uint64_t(XDP_ABORTED));
  TestPacket tc(iota_bytes(20), BPF_PROG_TYPE_SCHED_CLS);
  tc.attach(env);
  EXPECT_EQ(call(BPF_FUNC_redirect, env, 9, BPF_F_INGRESS), uint64_t(TC_ACT_REDIRECT));
  EXPECT_EQ(tc.state.redirect_ifindex, 9u);
  EXPECT_EQ(tc.state.redirect_flags, uint64_t(BPF_F_INGRESS));
  EXPECT_EQ(call(BPF_FUNC_redirect, env, 9, 2), uint64_t(TC_ACT_SHOT));
}

TEST(Redirect, MapFallsBackToTheFlagsAction) {
  maps::MapSpec spec{BPF_MAP_TYPE_ARRAY, 4, 4, 4};
  spec.name = "not_a_devmap";
  auto m = maps::create_map(spec);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(m.get());
  EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 0, XDP_PASS), uint64_t(XDP_PASS));
  EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 0, 0), uint64_t(XDP_ABORTED));
  EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 0, XDP_DROP | 16), uint64_t(XDP_ABORTED));
}

TEST(SkbBytes, LoadAndStoreWithinTheLinearPacket) {
  auto bytes = iota_bytes(32);
  TestPacket pkt(bytes, BPF_PROG_TYPE_SCHED_CLS);
  core::ExecEnv env = runtime_env();
  pkt.attach(env);
  uint8_t buf[8];
  EXPECT_EQ(call(BPF_FUNC_skb_load_bytes, env, addr(pkt.ctx), 10, addr(buf), 8), 0u);
  EXPECT_EQ(buf[0], 10);
  EXPECT_EQ(buf[7], 17);
  std::memset(buf, 0xee, sizeof buf);
  EXPECT_EQ(s(call(BPF_FUNC_skb_load_bytes, env, addr(pkt.ctx), 25, addr(buf), 8)), -EFAULT);
  for (uint8_t b : buf) EXPECT_EQ(b, 0);  // zeroed on failure
  EXPECT_EQ(s(call(BPF_FUNC_skb_load_bytes, env, addr(pkt.ctx), 0x80000000u, addr(buf), 1)), -EFAULT);
  const uint8_t patch[4] = {0xde, 0xad, 0xbe, 0xef};
  EXPECT_EQ(call(BPF_FUNC_skb_store_bytes, env, addr(pkt.ctx), 28, addr(patch), 4, 0), 0u);
  EXPECT_EQ(pkt.bytes()[28], 0xde);
  EXPECT_EQ(pkt.bytes()[31], 0xef);
  EXPECT_EQ(s(call(BPF_FUNC_skb_store_bytes, env, addr(pkt.ctx), 29, addr(patch), 4, 0)), -EFAULT);
  EXPECT_EQ(s(call(BPF_FUNC_skb_store_bytes, env, addr(pkt.ctx), 0, addr(patch), 4, 4)), -EINVAL);
  EXPECT_EQ(call(BPF_FUNC_skb_store_bytes, env, addr(pkt.ctx), 0, addr(patch), 4,
                 BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH),
            0u);
}

// RFC 1071, written out plainly: the reference the helpers must agree with.
uint16_t rfc1071(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += uint32_t(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

std::vector<uint8_t> ipv4_header() {
  std::vector<uint8_t> h = {0x45, 0, 0, 28, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  const uint16_t c = rfc1071(h.data(), h.size());
  h[10] = uint8_t(c >> 8);
  h[11] = uint8_t(c);
  return h;
}

TEST(Checksums, CsumDiffIsTheFoldedRfc1071Difference) {
  core::ExecEnv env = runtime_env();
  const uint32_t a[2] = {0x01020304, 0xa0b0c0d0}, b[2] = {0x11223344, 0x55667788};
  // Pushing: the folded sum of `to`, whose complement is its RFC 1071 checksum.
  const uint16_t sum = uint16_t(call(BPF_FUNC_csum_diff, env, 0, 0, addr(b), 8, 0));
  EXPECT_EQ(call(BPF_FUNC_csum_diff, env, 0, 0, addr(b), 8, 0), sum);  // 16 bits
  const uint16_t host_order = uint16_t(~sum);
  EXPECT_EQ(uint16_t(host_order << 8 | host_order >> 8), rfc1071(reinterpret_cast<const uint8_t*>(b), 8));
  // 0xa0b0c0d0 + 0x01020304 = 0xa1b2c3d4, folded: 0xa1b2 + 0xc3d4 with end-around carry.
  EXPECT_EQ(call(BPF_FUNC_csum_diff, env, 0, 0, addr(a), 8, 0), 0x6587u);
  // Diffing a buffer against itself leaves the seed; pulling undoes pushing.
  EXPECT_EQ(call(BPF_FUNC_csum_diff, env, addr(a), 8, addr(a), 8, 0x1234), 0x1234u);
  const uint32_t pushed = uint32_t(call(BPF_FUNC_csum_diff, env, 0, 0, addr(a), 8, 0x77));
  EXPECT_EQ(call(BPF_FUNC_csum_diff, env, addr(a), 8, 0, 0, pushed), 0x77u);
  // Sizes need not be multiples of 4: a 6-byte buffer sums as if zero-padded.
  const uint8_t six[8] = {1, 2, 3, 4, 5, 6, 0, 0};
  EXPECT_EQ(call(BPF_FUNC_csum_diff, env, 0, 0, addr(six), 6, 0),
            call(BPF_FUNC_csum_diff, env, 0, 0, addr(six), 8, 0));
  std::vector<uint32_t> big(128);
  EXPECT_EQ(call(BPF_FUNC_csum_diff, env, addr(big.data()), 512, addr(big.data()), 512, 5), 5u);
}

TEST(Checksums, L3ReplaceKeepsTheIpv4HeaderValid) {
  auto h = ipv4_header();
  TestPacket pkt(h, BPF_PROG_TYPE_SCHED_CLS);
  core::ExecEnv env = runtime_env();
  pkt.attach(env);
  uint8_t* ip = pkt.state.data;
  // New destination 192.168.7.9, via a 4-byte replace of the raw (network order) words.
  uint32_t from, to;
  std::memcpy(&from, ip + 16, 4);
  const uint8_t dst[4] = {192, 168, 7, 9};
  std::memcpy(&to, dst, 4);
  std::memcpy(ip + 16, dst, 4);
  EXPECT_EQ(call(BPF_FUNC_l3_csum_replace, env, addr(pkt.ctx), 10, from, to, 4), 0u);
  EXPECT_EQ(rfc1071(ip, 20), 0);
  // TTL 64 -> 63 with a 2-byte replace of the TTL/protocol word.
  uint16_t f2, t2;
  std::memcpy(&f2, ip + 8, 2);
  ip[8] = 63;
  std::memcpy(&t2, ip + 8, 2);
  EXPECT_EQ(call(BPF_FUNC_l3_csum_replace, env, addr(pkt.ctx), 10, f2, t2, 2), 0u);
  EXPECT_EQ(rfc1071(ip, 20), 0);
  // Size 0: `to` is a csum_diff result.
  const uint8_t src[4] = {172, 16, 0, 1};
  const uint32_t diff = uint32_t(call(BPF_FUNC_csum_diff, env, addr(ip + 12), 4, addr(src), 4, 0));
  std::memcpy(ip + 12, src, 4);
  EXPECT_EQ(call(BPF_FUNC_l3_csum_replace, env, addr(pkt.ctx), 10, 0, diff, 0), 0u);
  EXPECT_EQ(rfc1071(ip, 20), 0);
  EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, env, addr(pkt.ctx), 10, 1, diff, 0)), -EINVAL);
  EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, env, addr(pkt.ctx), 10, 0, 0, 3)), -EINVAL);
  EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, env, addr(pkt.ctx), 11, 0, 0, 2)), -EFAULT);
  EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, env, addr(pkt.ctx), 20, 0, 0, 2)), -EFAULT);
  EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, env, addr(pkt.ctx), 10, 0, 0, BPF_F_PSEUDO_HDR | 2)), -EINVAL);
}

TEST(Checksums, L4ReplaceMarksMangledZero) {
  // A UDP header's checksum field at offset 6.
  std::vector<uint8_t> udp = {0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};
  TestPacket pkt(udp, BPF_PROG_TYPE_SCHED_CLS);
  core::ExecEnv env = runtime_env();
  pkt.attach(env);
  uint16_t* field = reinterpret_cast<uint16_t*>(pkt.state.data + 6);
  // A zero UDP checksum means "none": with BPF_F_MARK_MANGLED_0 it stays 0.
  EXPECT_EQ(call(BPF_FUNC_l4_csum_replace, env, addr(pkt.ctx), 6, 0x1111, 0x2222,
                 BPF_F_MARK_MANGLED_0 | BPF_F_PSEUDO_HDR | 2),
            0u);
  EXPECT_EQ(*field, 0);
  // ... unless BPF_F_MARK_ENFORCE: ~0 - 0x1111 + 0x2222.
  EXPECT_EQ(call(BPF_FUNC_l4_csum_replace, env, addr(pkt.ctx), 6, 0x1111, 0x2222,
                 BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | 2),
            0u);
  EXPECT_EQ(*field, 0xeeee);  // ~(~0 - 0x1111 + 0x2222) in ones' complement
  // A result of 0 is written as 0xffff (CSUM_MANGLED_0): ~csum == from, to == ~0.
  *field = uint16_t(~0x5555);
  EXPECT_EQ(call(BPF_FUNC_l4_csum_replace, env, addr(pkt.ctx), 6, 0x5555, 0xffff, BPF_F_MARK_MANGLED_0 | 2),
            0u);
  EXPECT_EQ(*field, 0xffff);
  // Without the flag the zero stays.
  *field = uint16_t(~0x5555);
  EXPECT_EQ(call(BPF_FUNC_l4_csum_replace, env, addr(pkt.ctx), 6, 0x5555, 0xffff, 2), 0u);
  EXPECT_EQ(*field, 0);
  EXPECT_EQ(s(call(BPF_FUNC_l4_csum_replace, env, addr(pkt.ctx), 6, 0, 0, 1ull << 9)), -EINVAL);
}

}  // namespace
}  // namespace bpfkit::helpers::testing
