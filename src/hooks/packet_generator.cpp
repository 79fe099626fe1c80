#include "hooks/packet_generator.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>

#include <cstring>
#include <random>

namespace bpfkit::hooks {

namespace {

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = uint8_t(v >> 8);
  b[at + 1] = uint8_t(v);
}
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  put16(b, at, uint16_t(v >> 16));
  put16(b, at + 2, uint16_t(v));
}

// Destination and source MACs (locally administered), then the EtherType.
std::vector<uint8_t> ethernet(uint16_t ethertype, size_t payload) {
  std::vector<uint8_t> b(ETH_HLEN + payload, 0);
  const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02}, src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  std::memcpy(b.data(), dst, 6);
  std::memcpy(b.data() + 6, src, 6);
  put16(b, 12, ethertype);
  return b;
}

uint32_t sum16(std::span<const uint8_t> bytes, uint32_t sum) {
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) sum += uint32_t(bytes[i]) << 8 | bytes[i + 1];
  if (bytes.size() % 2) sum += uint32_t(bytes.back()) << 8;
  return sum;
}

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

}  // namespace

uint16_t internet_checksum(std::span<const uint8_t> bytes, uint32_t initial_sum) {
  return fold(sum16(bytes, initial_sum));
}

std::vector<uint8_t> build_ipv4_frame(const Ipv4Flow& f) {
  const size_t l4 = f.protocol == IPPROTO_TCP ? 20 : 8;
  const size_t ip_len = 20 + l4 + f.payload;
  std::vector<uint8_t> b = ethernet(ETH_P_IP, ip_len);
  const size_t ip = ETH_HLEN, th = ip + 20;
  b[ip] = 0x45;
  put16(b, ip + 2, uint16_t(ip_len));
  put16(b, ip + 4, uint16_t(f.sport ^ f.dport));  // identification
  put16(b, ip + 6, 0x4000);                       // don't fragment
  b[ip + 8] = f.ttl;
  b[ip + 9] = f.protocol;
  put32(b, ip + 12, f.saddr);
  put32(b, ip + 16, f.daddr);
  put16(b, ip + 10, internet_checksum({b.data() + ip, 20}));
  for (size_t i = th + l4; i < b.size(); ++i) b[i] = uint8_t('a' + (i - th - l4) % 26);
  if (f.protocol == IPPROTO_ICMP) {
    b[th] = 8;  // echo request
    put16(b, th + 4, f.sport);
    put16(b, th + 6, f.dport);
    put16(b, th + 2, internet_checksum({b.data() + th, b.size() - th}));
    return b;
  }
  put16(b, th, f.sport);
  put16(b, th + 2, f.dport);
  size_t csum_at;
  if (f.protocol == IPPROTO_TCP) {
    put32(b, th + 4, 1000);   // seq
    b[th + 12] = 5 << 4;      // data offset
    b[th + 13] = 0x18;        // PSH|ACK
    put16(b, th + 14, 65535); // window
    csum_at = th + 16;
  } else {
    put16(b, th + 4, uint16_t(l4 + f.payload));
    csum_at = th + 6;
  }
  // The pseudo header: addresses, protocol, L4 length.
  uint32_t pseudo = sum16({b.data() + ip + 12, 8}, 0) + f.protocol + uint32_t(l4 + f.payload);
  uint16_t csum = internet_checksum({b.data() + th, b.size() - th}, pseudo);
  if (f.protocol == IPPROTO_UDP && csum == 0) csum = 0xffff;
  put16(b, csum_at, csum);
  return b;
}

std::vector<uint8_t> build_ipv6_udp_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                          uint16_t payload) {
  const size_t l4_len = 8 + payload;
  std::vector<uint8_t> b = ethernet(ETH_P_IPV6, 40 + l4_len);
  const size_t ip = ETH_HLEN, th = ip + 40;
  b[ip] = 0x60;
  put16(b, ip + 4, uint16_t(l4_len));
  b[ip + 6] = IPPROTO_UDP;
  b[ip + 7] = 64;
  b[ip + 8] = 0xfd;
  put32(b, ip + 20, src);
  b[ip + 24] = 0xfd;
  put32(b, ip + 36, dst);
  put16(b, th, sport);
  put16(b, th + 2, dport);
  put16(b, th + 4, uint16_t(l4_len));
  for (size_t i = th + 8; i < b.size(); ++i) b[i] = uint8_t(i);
  uint32_t pseudo = sum16({b.data() + ip + 8, 32}, 0) + IPPROTO_UDP + uint32_t(l4_len);
  uint16_t csum = internet_checksum({b.data() + th, l4_len}, pseudo);
  put16(b, th + 6, csum == 0 ? 0xffff : csum);
  return b;
}

std::vector<uint8_t> build_arp_frame(uint32_t sender, uint32_t target) {
  std::vector<uint8_t> b = ethernet(ETH_P_ARP, 28);
  const size_t a = ETH_HLEN;
  put16(b, a, 1);           // Ethernet
  put16(b, a + 2, ETH_P_IP);
  b[a + 4] = 6;
  b[a + 5] = 4;
  put16(b, a + 6, 1);       // request
  std::memcpy(b.data() + a + 8, b.data() + 6, 6);
  put32(b, a + 14, sender);
  put32(b, a + 24, target);
  return b;
}

std::vector<CapturedPacket> generate_traffic(const TrafficOptions& options) {
  // mt19937_64's output sequence is fixed by the standard (distributions are not),
  // so the traffic is the same everywhere for a seed.
  std::mt19937_64 rng(options.seed);
  auto below = [&](uint64_t n) { return rng() % n; };
  struct Net {
    uint32_t base, mask;
  };
  const Net nets[] = {{0x0a000000, 0xff000000}, {0xc0a80000, 0xffff0000}, {0xc6336400, 0xffffff00},
                      {0xcb007100, 0xffffff00}};
  std::vector<CapturedPacket> out;
  out.reserve(options.packets);
  for (size_t i = 0; i < options.packets; ++i) {
    const Net& n = nets[below(4)];
    const uint32_t src = n.base | (uint32_t(rng()) & ~n.mask);
    const uint32_t dst = 0xc0000200 | uint32_t(below(256));  // 192.0.2.0/24
    const uint64_t kind = below(100);
    std::vector<uint8_t> frame;
    if (kind < 88) {
      Ipv4Flow f{src, dst, uint16_t(1024 + below(60000)), uint16_t(kind % 2 ? 443 : 53),
                 uint8_t(kind % 3 ? IPPROTO_TCP : IPPROTO_UDP), uint8_t(32 + below(33)), uint16_t(below(200))};
      frame = build_ipv4_frame(f);
    } else if (kind < 93) {
      frame = build_ipv6_udp_frame(src, dst, uint16_t(1024 + below(60000)), 53, uint16_t(below(100)));
    } else if (kind < 96) {
      frame = build_arp_frame(src, dst);
    } else if (kind < 99) {
      frame = build_ipv4_frame({src, dst, uint16_t(i), uint16_t(i), IPPROTO_ICMP, 64, 32});
    } else {
      // Malformed: an IPv4 EtherType with the IP header cut short, or a runt.
      frame = build_ipv4_frame({src, dst, 1, 2, IPPROTO_UDP, 64, 0});
      frame.resize(i % 2 ? ETH_HLEN + 10 : 10);
    }
    CapturedPacket p;
    p.timestamp_ns = 1'700'000'000'000'000'000ull + i * 10'000;
    p.original_length = uint32_t(frame.size());
    p.data = std::move(frame);
    out.push_back(std::move(p));
  }
  return out;
}

Ipv4Prefix parse_ipv4_prefix(const std::string& text) {
  const size_t slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  in_addr a{};
  if (inet_pton(AF_INET, addr.c_str(), &a) != 1) throw Error("'" + text + "': not an IPv4 address or CIDR");
  Ipv4Prefix p{ntohl(a.s_addr), 32};
  if (slash != std::string::npos) {
    const std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(len) > 32) {
      throw Error("'" + text + "': the prefix length must be 0..32");
    }
    p.len = uint8_t(std::stoi(len));
  }
  return p;
}

std::string format_ipv4(uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 255) + "." +
         std::to_string((addr >> 8) & 255) + "." + std::to_string(addr & 255);
}

}  // namespace bpfkit::hooks
