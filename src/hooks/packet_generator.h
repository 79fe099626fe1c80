// Synthetic traffic for examples, tests and benchmarks: Ethernet frames with
// IPv4/IPv6, TCP/UDP/ICMP, ARP, and deliberately malformed frames (runts,
// truncated IP headers), with valid checksums, reproducible from a seed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hooks/pcap_file.h"

namespace bpfkit::hooks {

struct Ipv4Flow {
  uint32_t saddr = 0, daddr = 0;  // host byte order (0x0a000001 is 10.0.0.1)
  uint16_t sport = 0, dport = 0;
  uint8_t protocol = 17;  // IPPROTO_UDP, IPPROTO_TCP or IPPROTO_ICMP
  uint8_t ttl = 64;
  uint16_t payload = 18;  // bytes after the L4 header
};

// One Ethernet + IPv4 frame for the flow, with the IPv4 and L4 checksums set.
std::vector<uint8_t> build_ipv4_frame(const Ipv4Flow& flow);
// An Ethernet + IPv6 + UDP frame (addresses: fd00::<src>, fd00::<dst>).
std::vector<uint8_t> build_ipv6_udp_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                          uint16_t payload);
std::vector<uint8_t> build_arp_frame(uint32_t sender, uint32_t target);

// The RFC 1071 Internet checksum of `bytes` (one's complement of the one's complement sum).
uint16_t internet_checksum(std::span<const uint8_t> bytes, uint32_t initial_sum = 0);

struct TrafficOptions {
  uint64_t seed = 1;
  size_t packets = 1000;
};

// A reproducible mix: mostly IPv4 TCP/UDP from several source networks
// (10.0.0.0/8, 192.168.0.0/16, 198.51.100.0/24, 203.0.113.0/24), some IPv6,
// ARP and ICMP, and about 1% malformed frames. Timestamps 10 us apart.
std::vector<CapturedPacket> generate_traffic(const TrafficOptions& options);

// "10.1.2.0/24" -> address (host order) and prefix length; Error naming the text otherwise.
struct Ipv4Prefix {
  uint32_t addr = 0;
  uint8_t len = 32;
};
Ipv4Prefix parse_ipv4_prefix(const std::string& text);
std::string format_ipv4(uint32_t addr);

}  // namespace bpfkit::hooks
