// Packet capture files (libpcap's format, read and written with libpcap): the
// packet source and sink of `bpfkit run --pcap`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace bpfkit::hooks {

// A pcap file that cannot be read: names the file, the packet number and byte offset.
class PcapError : public Error {
 public:
  using Error::Error;
};

struct CapturedPacket {
  uint64_t timestamp_ns = 0;
  uint32_t original_length = 0;  // on the wire (may exceed data.size() when truncated by snaplen)
  std::vector<uint8_t> data;
};

struct PcapCapture {
  uint32_t link_type = 1;  // libpcap's DLT_ value (DLT_EN10MB); files hold LINKTYPE_ values, libpcap maps them
  uint32_t snaplen = 65535;
  std::vector<CapturedPacket> packets;
};

// Reads a whole file. A file that ends mid-packet is an error naming the packet, not a silent stop.
PcapCapture read_pcap(const std::string& path);
// Parses a capture from memory (the same rules; for fuzzing and tests).
PcapCapture parse_pcap(const std::vector<uint8_t>& bytes);

// Writes packets as they come (Ethernet link type unless told otherwise), with
// nanosecond timestamps (magic 0xa1b23c4d) unless `nanoseconds` is false. Packets
// longer than snaplen are cut to it (original_length keeps the wire length).
class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path, uint32_t link_type = 1, uint32_t snaplen = 65535,
                      bool nanoseconds = true);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  void write(const CapturedPacket& packet);
  void close();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace bpfkit::hooks
