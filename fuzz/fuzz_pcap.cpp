// libFuzzer target: arbitrary bytes as a pcap (or pcapng) file. Reading may only throw
// PcapError; what it reads must survive a write and a second read unchanged.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "hooks/pcap_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfkit::hooks;
  PcapCapture capture;
  try {
    capture = parse_pcap(std::vector<uint8_t>(data, data + size));
  } catch (const PcapError&) {
    return 0;
  }
  for (const CapturedPacket& p : capture.packets) {
    if (p.data.size() > 0x7fffffffu) {
      std::fprintf(stderr, "a packet of %zu bytes\n", p.data.size());
      std::abort();
    }
  }
  // Round trip through the writer, for captures it can hold (its snaplen bounds the data).
  if (capture.packets.size() > 64) return 0;
  static const std::string path = "/tmp/bpfkit-fuzz-pcap-" + std::to_string(getpid()) + ".pcap";
  uint32_t snaplen = capture.snaplen ? capture.snaplen : 65535;
  for (const CapturedPacket& p : capture.packets) {
    if (p.data.size() > snaplen) snaplen = uint32_t(p.data.size());
  }
  try {
    PcapWriter writer(path, capture.link_type, snaplen);
    for (const CapturedPacket& p : capture.packets) writer.write(p);
    writer.close();
  } catch (const PcapError&) {
    return 0;  // e.g. a timestamp past 2106, which the format cannot hold
  }
  PcapCapture again = read_pcap(path);
  if (again.packets.size() != capture.packets.size()) {
    std::fprintf(stderr, "%zu packets written, %zu read back\n", capture.packets.size(), again.packets.size());
    std::abort();
  }
  for (size_t i = 0; i < again.packets.size(); ++i) {
    const CapturedPacket& a = capture.packets[i];
    const CapturedPacket& b = again.packets[i];
    if (a.data != b.data || a.timestamp_ns != b.timestamp_ns ||
        b.original_length != std::max<uint32_t>(a.original_length, uint32_t(a.data.size()))) {
      std::fprintf(stderr, "packet %zu differs after a round trip\n", i + 1);
      std::abort();
    }
  }
  return 0;
}
