// Packet contexts built as net/bpf/test_run.c builds them:
//  - XDP (bpf_prog_test_run_xdp): XDP_PACKET_HEADROOM (256) bytes of headroom, then the
//    frame; the frame may grow up to what a 4 KiB page leaves after the headroom and
//    the skb_shared_info tailroom (3520 bytes). Metadata given through ctx_in sits just
//    before the data. The device is the loopback's rx queue 0 unless ctx_in names one.
//  - skb types (bpf_prog_test_run_skb): NET_SKB_PAD (64) bytes of headroom; the device is
//    the loopback; eth_type_trans() sets protocol and pkt_type; tc programs see the
//    Ethernet header, the others (socket filter, cgroup_skb, lwt) see the network
//    header, and their output gets a zeroed Ethernet header back.
// Everything lives in one MAP_32BIT mapping because the UAPI contexts hold 32-bit
// copies of the packet pointers.
#include "core/packet_context.h"

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <emmintrin.h>
#include <net/if.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "base/error.h"

namespace bpfkit::core {
namespace {

constexpr uint32_t kXdpHeadroom = 256;          // XDP_PACKET_HEADROOM
constexpr uint32_t kSkbHeadroom = 64;           // NET_SKB_PAD (NET_IP_ALIGN is 0 on x86-64)
constexpr uint32_t kSharedInfo = 320;           // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
constexpr uint32_t kXdpFrameData = 4096 - kXdpHeadroom - kSharedInfo;  // linear XDP data in a page
// Metadata comes out of the headroom, which must keep room for a struct xdp_frame (40 bytes).
constexpr uint32_t kXdpMaxMeta = kXdpHeadroom - 40;
constexpr uint32_t kGsoLegacyMaxSize = 65536;   // GSO_LEGACY_MAX_SIZE
constexpr uint32_t kGsoMaxSegs = 65535;         // GSO_MAX_SEGS
constexpr uint32_t kLoopbackIfindex = 1;        // in the initial network namespace
constexpr uint32_t kCtxArea = 256;              // room for the context before the packet area

enum class Flavor { Xdp, SkbL2, SkbL3 };

bool flavor_of(uint32_t prog_type, Flavor* out) {
  switch (prog_type) {
    case BPF_PROG_TYPE_XDP: *out = Flavor::Xdp; return true;
    case BPF_PROG_TYPE_SCHED_CLS:
    case BPF_PROG_TYPE_SCHED_ACT: *out = Flavor::SkbL2; return true;
    case BPF_PROG_TYPE_SOCKET_FILTER:
    case BPF_PROG_TYPE_CGROUP_SKB:
    case BPF_PROG_TYPE_LWT_IN:
    case BPF_PROG_TYPE_LWT_OUT:
    case BPF_PROG_TYPE_LWT_XMIT: *out = Flavor::SkbL3; return true;
    default: return false;
  }
}

uint32_t addr32(const void* p) { return uint32_t(reinterpret_cast<uintptr_t>(p)); }

// What the kernel looks up about a device that ctx_in names: whether it exists, its
// addresses (for pkt_type) and its rx queue count. Read once per ifindex from sysfs.
struct NetDevice {
  bool exists = false;
  uint8_t mac[6] = {}, broadcast[6] = {};
  uint32_t rx_queues = 0;
};

bool parse_mac(const std::string& text, uint8_t out[6]) {
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return false;
  for (int i = 0; i < 6; ++i) out[i] = uint8_t(v[i]);
  return true;
}

const NetDevice& net_device(uint32_t ifindex) {
  static std::mutex mutex;
  static std::map<uint32_t, NetDevice> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(ifindex);
  if (it != cache.end()) return it->second;
  NetDevice dev;
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(ifindex, name)) {
    dev.exists = true;
    const std::filesystem::path dir = std::filesystem::path("/sys/class/net") / name;
    std::string text;
    if (std::ifstream(dir / "address") >> text) parse_mac(text, dev.mac);
    if (std::ifstream(dir / "broadcast") >> text) parse_mac(text, dev.broadcast);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir / "queues", ec)) {
      if (entry.path().filename().string().rfind("rx-", 0) == 0) ++dev.rx_queues;
    }
    if (ifindex == kLoopbackIfindex && dev.rx_queues == 0) dev.rx_queues = 1;
  }
  return cache.emplace(ifindex, dev).first->second;
}

// The loopback device without asking sysfs (the common case, on the hot path).
const NetDevice& loopback_device() {
  static const NetDevice lo = [] {
    NetDevice d;
    d.exists = true;
    d.rx_queues = 1;
    return d;
  }();
  return lo;
}

// eth_type_trans(): the frame's protocol (network byte order, as skb->protocol holds it).
uint16_t eth_protocol(const uint8_t* frame, size_t len) {
  uint16_t proto_be;
  std::memcpy(&proto_be, frame + 12, 2);
  uint16_t proto = uint16_t(frame[12] << 8 | frame[13]);
  if (proto >= ETH_P_802_3_MIN) return proto_be;
  // Novell raw 802.3 (an IPX header starts with 0xffff), else 802.2 LLC.
  uint16_t host = (len >= 16 && frame[14] == 0xff && frame[15] == 0xff) ? ETH_P_802_3 : ETH_P_802_2;
  return uint16_t(host << 8 | host >> 8);
}

// eth_type_trans()'s pkt_type from the destination address.
uint32_t eth_pkt_type(const uint8_t* frame, const NetDevice& dev) {
  if (std::memcmp(frame, dev.mac, 6) == 0) return PACKET_HOST;
  if (frame[0] & 1) return std::memcmp(frame, dev.broadcast, 6) == 0 ? PACKET_BROADCAST : PACKET_MULTICAST;
  return PACKET_OTHERHOST;
}

// Zeroes `n` bytes (a multiple of 16) with plain vector stores: GCC turns a memset of a
// few hundred bytes into `rep stos`, whose start-up cost alone is several times the
// budget of a reset.
inline void zero16(void* p, size_t n) {
  auto* q = static_cast<__m128i*>(p);
  const __m128i z = _mm_setzero_si128();
  for (size_t i = 0; i < n / 16; ++i) {
    _mm_storeu_si128(q + i, z);
    asm("" : "+r"(q));  // hides the pattern from GCC's memset recognition
  }
}

// The XDP headroom: 16 stores with constant offsets, unrolled (zero16's loop of
// barriers costs four instructions a store).
inline void zero_xdp_headroom(uint8_t* p) {
  static_assert(kXdpHeadroom == 16 * 16);
  auto* q = reinterpret_cast<__m128i*>(p);
  const __m128i z = _mm_setzero_si128();
  asm("" : "+r"(q));  // keeps GCC from turning the stores into a memset call
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) _mm_storeu_si128(q + i, z);
}

bool is_zero(const uint8_t* p, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    if (p[i]) return false;
  }
  return true;
}

}  // namespace

struct PacketContext::Impl {
  uint32_t prog_type = 0;
  Flavor flavor = Flavor::Xdp;
  size_t max_packet = 0;
  uint8_t* map = nullptr;  // the mapping: context, then the packet buffer
  size_t map_size = 0;
  uint32_t headroom = 0;
  uint8_t* head = nullptr;  // start of the packet buffer (the kernel's data_hard_start / skb->head)
  size_t buffer_size = 0;   // headroom + room for data; bytes the packet may grow into
  PacketState state;
  // ctx_in values ctx_out reports back (XDP) and copies through (skb).
  xdp_md xdp_in{};
  bool xdp_has_ctx_in = false;
  uint32_t gso_size_in = 0;
  uint32_t wire_len_out = 0;
  mutable std::vector<uint8_t> out;  // L3 types: data_out with the zeroed Ethernet header

  xdp_md* xdp() const { return reinterpret_cast<xdp_md*>(map); }
  __sk_buff* skb() const { return reinterpret_cast<__sk_buff*>(map); }

  void reset_xdp(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in);
  void reset_xdp_plain(std::span<const uint8_t> packet);
  void reset_skb(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in);
};

bool PacketContext::supports(uint32_t prog_type) {
  Flavor f;
  return flavor_of(prog_type, &f);
}

PacketContext::PacketContext(uint32_t prog_type, size_t max_packet) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (!flavor_of(prog_type, &m.flavor)) {
    throw Error("program type " + std::to_string(prog_type) + " does not run on packets (no packet context)");
  }
  m.prog_type = prog_type;
  m.state.prog_type = prog_type;  // bpf_redirect answers XDP_REDIRECT or TC_ACT_REDIRECT by it
  m.max_packet = max_packet;
  m.headroom = m.flavor == Flavor::Xdp ? kXdpHeadroom : kSkbHeadroom;
  // XDP frames may grow to fill their page; skbs get the same room past the packet.
  size_t room = std::max<size_t>(max_packet, kXdpFrameData);
  m.buffer_size = m.headroom + room;
  m.map_size = (kCtxArea + m.buffer_size + kSharedInfo + 4095) & ~size_t(4095);
  void* p = mmap(nullptr, m.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (p == MAP_FAILED) {
    throw Error("cannot map " + std::to_string(m.map_size) + " bytes below 4 GiB for a packet context");
  }
  m.map = static_cast<uint8_t*>(p);
  ctx_ = reinterpret_cast<uintptr_t>(m.map);
  state_ = &m.state;
  xdp_ = m.flavor == Flavor::Xdp;
  max_packet_ = max_packet;
  m.head = m.map + kCtxArea;
  m.state.head = m.head;
  m.state.end = m.head + m.buffer_size;
  if (m.flavor == Flavor::Xdp) {
    m.state.ctx_data = &m.xdp()->data;
    m.state.ctx_data_end = &m.xdp()->data_end;
    m.state.ctx_data_meta = &m.xdp()->data_meta;
  } else {
    m.state.ctx_data = &m.skb()->data;
    m.state.ctx_data_end = &m.skb()->data_end;
    m.state.ctx_data_meta = &m.skb()->data_meta;
    m.out.reserve(ETH_HLEN + m.buffer_size);
  }
}

PacketContext::~PacketContext() {
  if (impl_ && impl_->map) munmap(impl_->map, impl_->map_size);
}

void PacketContext::reset_checked(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in) {
  static_assert(kMinPacket == ETH_HLEN);
  if (packet.size() < ETH_HLEN) {
    throw Error("a packet of " + std::to_string(packet.size()) + " bytes is shorter than an Ethernet header (" +
                std::to_string(ETH_HLEN) + " bytes); BPF_PROG_TEST_RUN refuses it too");
  }
  if (packet.size() > impl_->max_packet) {
    throw Error("a packet of " + std::to_string(packet.size()) + " bytes exceeds this context's maximum of " +
                std::to_string(impl_->max_packet) + " bytes");
  }
  if (impl_->flavor == Flavor::Xdp) {
    impl_->reset_xdp(packet, ctx_in);
  } else {
    impl_->reset_skb(packet, ctx_in);
  }
}

// reset_xdp() without ctx_in (the per-packet case of a packet source): the loopback's
// rx queue 0, no metadata. Kept apart so that it stays a handful of stores.
inline void PacketContext::Impl::reset_xdp_plain(std::span<const uint8_t> packet) {
  xdp_has_ctx_in = false;
  uint8_t* data = head + kXdpHeadroom;
  zero_xdp_headroom(head);
  std::memcpy(data, packet.data(), packet.size());
  state.meta = data;
  state.data = data;
  state.data_end = data + packet.size();
  state.end = data + std::max<size_t>(packet.size(), kXdpFrameData);
  state.ifindex = kLoopbackIfindex;
  state.rx_queue_index = 0;
  state.redirected = false;
  state.redirect_ifindex = 0;
  state.redirect_flags = 0;
  xdp_md* ctx = xdp();
  ctx->data = addr32(data);
  ctx->data_end = addr32(state.data_end);
  ctx->data_meta = addr32(data);
  ctx->ingress_ifindex = kLoopbackIfindex;
  ctx->rx_queue_index = 0;
  ctx->egress_ifindex = 0;
}

void PacketContext::reset_xdp_plain(std::span<const uint8_t> packet) { impl_->reset_xdp_plain(packet); }

void PacketContext::Impl::reset_xdp(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in) {
  xdp_md md{};
  uint32_t meta_len = 0;
  const NetDevice* dev = &loopback_device();
  xdp_has_ctx_in = !ctx_in.empty();
  if (xdp_has_ctx_in) {
    // bpf_ctx_init(): bytes past the struct must be zero; a shorter ctx_in is zero-filled.
    if (ctx_in.size() > sizeof(xdp_md) && !is_zero(ctx_in.data(), sizeof(xdp_md), ctx_in.size())) {
      throw Error("ctx_in: bytes past struct xdp_md (24 bytes) must be zero (the kernel says E2BIG)");
    }
    std::memcpy(&md, ctx_in.data(), std::min(ctx_in.size(), sizeof(xdp_md)));
    // bpf_prog_test_run_xdp() and xdp_convert_md_to_buff().
    if (md.data_meta != 0) throw Error("ctx_in: xdp_md.data_meta must be 0 (the metadata starts the data)");
    // The kernel (6.18) takes a shorter data_end as the linear part and puts the rest in
    // fragments; bpfkit has no fragments.
    if (md.data_end > packet.size()) {
      throw Error("ctx_in: xdp_md.data_end " + std::to_string(md.data_end) + " is past the data's " +
                  std::to_string(packet.size()) + " bytes");
    }
    if (md.data_end != packet.size()) {
      throw Error("ctx_in: xdp_md.data_end is " + std::to_string(md.data_end) + ", not the data's length " +
                  std::to_string(packet.size()) + " (bpfkit has no XDP fragments for the rest)");
    }
    if (md.data > md.data_end) throw Error("ctx_in: xdp_md.data is past data_end");
    if (md.data % 4 != 0 || md.data > kXdpMaxMeta) {
      throw Error("ctx_in: xdp_md.data (the metadata length) is " + std::to_string(md.data) +
                  "; it must be a multiple of 4 up to " + std::to_string(kXdpMaxMeta));
    }
    if (md.egress_ifindex != 0) throw Error("ctx_in: xdp_md.egress_ifindex must be 0");
    if (md.ingress_ifindex == 0 && md.rx_queue_index != 0) {
      throw Error("ctx_in: xdp_md.rx_queue_index needs an ingress_ifindex");
    }
    if (md.ingress_ifindex != 0) {
      dev = md.ingress_ifindex == kLoopbackIfindex ? &loopback_device() : &net_device(md.ingress_ifindex);
      if (!dev->exists) {
        throw Error("ctx_in: xdp_md.ingress_ifindex " + std::to_string(md.ingress_ifindex) +
                    " names no network device (the kernel says ENODEV)");
      }
      if (md.rx_queue_index >= dev->rx_queues) {
        throw Error("ctx_in: xdp_md.rx_queue_index " + std::to_string(md.rx_queue_index) + " is past the " +
                    std::to_string(dev->rx_queues) + " rx queue(s) of device " +
                    std::to_string(md.ingress_ifindex));
      }
    }
    meta_len = md.data;
    xdp_in = md;
  }
  // The headroom starts zeroed as the kernel's kzalloc'd buffer does; the metadata
  // (from ctx_in) and the frame follow it.
  uint8_t* meta = head + kXdpHeadroom - meta_len;
  zero_xdp_headroom(head);  // the metadata, if any, is copied over its end
  std::memcpy(meta, packet.data(), packet.size());
  state.meta = meta;
  state.data = meta + meta_len;
  state.data_end = meta + packet.size();
  state.end = head + kXdpHeadroom + std::max<size_t>(packet.size() - meta_len, kXdpFrameData);
  state.ifindex = xdp_has_ctx_in && md.ingress_ifindex ? md.ingress_ifindex : kLoopbackIfindex;
  state.rx_queue_index = xdp_has_ctx_in ? md.rx_queue_index : 0;
  state.redirected = false;
  state.redirect_ifindex = 0;
  state.redirect_flags = 0;
  xdp_md* ctx = xdp();
  ctx->data = addr32(state.data);
  ctx->data_end = addr32(state.data_end);
  ctx->data_meta = addr32(state.meta);
  ctx->ingress_ifindex = state.ifindex;
  ctx->rx_queue_index = state.rx_queue_index;
  ctx->egress_ifindex = 0;
}

void PacketContext::Impl::reset_skb(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in) {
  __sk_buff* ctx = skb();
  static_assert(sizeof(__sk_buff) % 16 == 0 && kSkbHeadroom % 16 == 0 && kXdpHeadroom % 16 == 0);
  zero16(ctx, sizeof(__sk_buff));
  const uint8_t* in = ctx_in.data();
  gso_size_in = 0;
  const NetDevice* dev = &loopback_device();
  uint32_t ifindex = kLoopbackIfindex;
  const uint32_t l2_len = uint32_t(packet.size());
  const uint32_t len = flavor == Flavor::SkbL2 ? l2_len : l2_len - ETH_HLEN;  // skb->len the program sees
  if (!ctx_in.empty()) {
    if (ctx_in.size() > sizeof(__sk_buff) && !is_zero(in, sizeof(__sk_buff), ctx_in.size())) {
      throw Error("ctx_in: bytes past struct __sk_buff (192 bytes) must be zero (the kernel says E2BIG)");
    }
    __sk_buff s{};
    std::memcpy(&s, in, std::min(ctx_in.size(), sizeof(__sk_buff)));
    // convert___skb_to_skb(): only these fields may be set; any other byte must be zero.
    struct Allowed {
      size_t begin, end;
    };
    static constexpr Allowed kAllowed[] = {
        {offsetof(__sk_buff, mark), offsetof(__sk_buff, mark) + 4},
        {offsetof(__sk_buff, priority), offsetof(__sk_buff, ifindex) + 4},  // priority, ingress_ifindex, ifindex
        {offsetof(__sk_buff, cb), offsetof(__sk_buff, cb) + sizeof(s.cb)},
        {offsetof(__sk_buff, tstamp), offsetof(__sk_buff, gso_segs) + 4},  // tstamp, wire_len, gso_segs
        {offsetof(__sk_buff, gso_size), offsetof(__sk_buff, gso_size) + 4},
        {offsetof(__sk_buff, hwtstamp), sizeof(__sk_buff)},
    };
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&s);
    size_t pos = 0;
    for (const Allowed& a : kAllowed) {
      if (!is_zero(bytes, pos, a.begin)) {
        size_t bad = pos;
        while (!bytes[bad]) ++bad;
        throw Error("ctx_in: __sk_buff byte " + std::to_string(bad) + " (field at offset " +
                    std::to_string(bad & ~size_t(3)) +
                    ") may not be set; BPF_PROG_TEST_RUN accepts only mark, priority, ingress_ifindex, ifindex, "
                    "cb, tstamp, wire_len, gso_segs, gso_size and hwtstamp");
      }
      pos = a.end;
    }
    if (s.ifindex > kLoopbackIfindex) {
      dev = &net_device(s.ifindex);
      if (!dev->exists) {
        throw Error("ctx_in: __sk_buff.ifindex " + std::to_string(s.ifindex) +
                    " names no network device (the kernel says ENODEV)");
      }
      ifindex = s.ifindex;
    }
    if (s.wire_len != 0 && (s.wire_len < len || s.wire_len > kGsoLegacyMaxSize)) {
      throw Error("ctx_in: __sk_buff.wire_len " + std::to_string(s.wire_len) + " must be 0 or between the length " +
                  std::to_string(len) + " and " + std::to_string(kGsoLegacyMaxSize));
    }
    if (s.gso_segs > kGsoMaxSegs) {
      throw Error("ctx_in: __sk_buff.gso_segs " + std::to_string(s.gso_segs) + " is more than " +
                  std::to_string(kGsoMaxSegs));
    }
    ctx->mark = s.mark;
    ctx->priority = s.priority;
    ctx->ingress_ifindex = s.ingress_ifindex;
    ctx->tstamp = s.tstamp;
    std::memcpy(ctx->cb, s.cb, sizeof(s.cb));
    ctx->wire_len = s.wire_len;
    ctx->gso_segs = s.gso_segs;
    ctx->gso_size = s.gso_size;
    ctx->hwtstamp = s.hwtstamp;
    gso_size_in = s.gso_size;
  }
  // The kernel sets the qdisc cb's pkt_len only when it has a ctx: without ctx_in the
  // program reads wire_len 0 (ctx_out() still reports the length, as the kernel does).
  if (!ctx_in.empty() && ctx->wire_len == 0) ctx->wire_len = len;
  wire_len_out = ctx->wire_len ? ctx->wire_len : len;

  zero16(head, kSkbHeadroom);
  uint8_t* frame = head + kSkbHeadroom;
  std::memcpy(frame, packet.data(), packet.size());
  uint8_t* data = flavor == Flavor::SkbL2 ? frame : frame + ETH_HLEN;
  state.meta = data;
  state.data = data;
  state.data_end = frame + packet.size();
  state.end = head + buffer_size;
  state.ifindex = ifindex;
  state.rx_queue_index = 0;
  state.redirected = false;
  state.redirect_ifindex = 0;
  state.redirect_flags = 0;

  ctx->len = len;
  ctx->pkt_type = eth_pkt_type(frame, *dev);
  ctx->protocol = eth_protocol(frame, packet.size());
  ctx->ifindex = ifindex;
  ctx->data = addr32(state.data);
  ctx->data_end = addr32(state.data_end);
  ctx->data_meta = addr32(state.meta);
  // The test run's socket takes the packet's addresses (sk_rcv_saddr = saddr, sk_daddr = daddr).
  const uint8_t* l3 = frame + ETH_HLEN;
  const size_t l3_len = packet.size() - ETH_HLEN;
  if (ctx->protocol == __builtin_bswap16(ETH_P_IP)) {
    ctx->family = 2;  // AF_INET
    if (l3_len >= 20) {
      std::memcpy(&ctx->local_ip4, l3 + 12, 4);
      std::memcpy(&ctx->remote_ip4, l3 + 16, 4);
    }
  } else if (ctx->protocol == __builtin_bswap16(ETH_P_IPV6)) {
    ctx->family = 10;  // AF_INET6
    if (l3_len >= 40) {
      std::memcpy(ctx->local_ip6, l3 + 8, 16);
      std::memcpy(ctx->remote_ip6, l3 + 24, 16);
    }
  }
}

void PacketContext::add_regions(ExecEnv& env) const {
  const Impl& m = *impl_;
  bool skb = m.flavor != Flavor::Xdp;
  env.allow(ctx(), skb ? sizeof(__sk_buff) : sizeof(xdp_md), skb);
  env.allow(reinterpret_cast<uintptr_t>(m.head), m.buffer_size, true);
}

std::span<const uint8_t> PacketContext::packet_out() const {
  const Impl& m = *impl_;
  const PacketState& s = m.state;
  if (m.flavor == Flavor::Xdp) return {s.meta, size_t(s.data_end - s.meta)};  // the kernel returns the metadata too
  if (m.flavor == Flavor::SkbL2) return {s.data, size_t(s.data_end - s.data)};
  // The kernel pushes a zeroed Ethernet header back in front of what the program saw.
  m.out.assign(ETH_HLEN, 0);
  m.out.insert(m.out.end(), s.data, s.data_end);
  return m.out;
}

std::vector<uint8_t> PacketContext::ctx_out() const {
  const Impl& m = *impl_;
  const PacketState& s = m.state;
  const uint32_t wire_len_out = m.wire_len_out;
  if (m.flavor == Flavor::Xdp) {
    // xdp_convert_buff_to_md(): offsets from the metadata start; the device fields as given.
    xdp_md md{};
    md.data = uint32_t(s.data - s.meta);
    md.data_end = uint32_t(s.data_end - s.meta);
    if (m.xdp_has_ctx_in) {
      md.ingress_ifindex = m.xdp_in.ingress_ifindex;
      md.rx_queue_index = m.xdp_in.rx_queue_index;
    }
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&md);
    return {p, p + sizeof(md)};
  }
  // convert_skb_to___skb(): the fields the kernel copies back; gso_size stays as given.
  const __sk_buff* live = m.skb();
  __sk_buff o{};
  o.mark = live->mark;
  o.priority = live->priority;
  o.ingress_ifindex = live->ingress_ifindex;
  o.ifindex = live->ifindex;
  o.tstamp = live->tstamp;
  std::memcpy(o.cb, live->cb, sizeof(o.cb));
  o.wire_len = wire_len_out;
  o.gso_segs = live->gso_segs;
  o.gso_size = m.gso_size_in;
  o.hwtstamp = live->hwtstamp;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&o);
  return {p, p + sizeof(o)};
}

}  // namespace bpfkit::core
