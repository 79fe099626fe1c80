// pcap files through libpcap: it knows both byte orders, microsecond and nanosecond
// timestamps and pcapng; bpfkit adds the location (packet number, byte offset) to
// its complaints and refuses files that end mid-packet instead of stopping quietly.
#include "hooks/pcap_file.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bpfkit::hooks {
namespace {

constexpr uint32_t kClassicMagics[] = {0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1};
constexpr size_t kFileHeader = 24, kRecordHeader = 16;

struct PcapCloser {
  pcap_t* p;
  ~PcapCloser() {
    if (p) pcap_close(p);
  }
};

// Reads every packet of an open capture. `where` names the source in messages;
// `classic` says whether byte offsets can be computed (pcapng blocks vary).
PcapCapture read_all(pcap_t* p, const std::string& where, bool classic) {
  PcapCapture capture;
  capture.link_type = uint32_t(pcap_datalink(p));
  capture.snaplen = uint32_t(pcap_snapshot(p));
  uint64_t offset = kFileHeader;
  for (size_t number = 1;; ++number) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    int rc = pcap_next_ex(p, &header, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // the end of the file, between packets
    std::string at = where + ": packet " + std::to_string(number);
    if (classic) at += " at byte offset " + std::to_string(offset);
    if (rc != 1) throw PcapError(at + ": " + pcap_geterr(p));
    CapturedPacket packet;
    packet.timestamp_ns = uint64_t(header->ts.tv_sec) * 1'000'000'000u + uint64_t(header->ts.tv_usec);
    packet.original_length = header->len;
    packet.data.assign(data, data + header->caplen);
    capture.packets.push_back(std::move(packet));
    offset += kRecordHeader + header->caplen;
  }
  return capture;
}

bool is_classic(const uint8_t* bytes, size_t size) {
  if (size < 4) return false;
  uint32_t magic;
  std::memcpy(&magic, bytes, 4);
  for (uint32_t m : kClassicMagics) {
    if (magic == m) return true;
  }
  return false;
}

}  // namespace

PcapCapture read_pcap(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw PcapError(path + ": cannot open: " + std::strerror(errno));
  uint8_t magic[4] = {};
  size_t got = std::fread(magic, 1, sizeof(magic), f);
  std::rewind(f);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!p) {
    std::fclose(f);
    throw PcapError(path + ": not a readable capture: " + errbuf);
  }
  PcapCloser closer{p};  // closes `f` too
  return read_all(p, path, is_classic(magic, got));
}

PcapCapture parse_pcap(const std::vector<uint8_t>& bytes) {
  const std::string where = "pcap data";
  if (bytes.size() < kFileHeader) {
    throw PcapError(where + ": " + std::to_string(bytes.size()) + " bytes is shorter than a pcap file header (" +
                    std::to_string(kFileHeader) + " bytes)");
  }
  // fmemopen reads the caller's bytes in place ("r" never writes).
  FILE* f = fmemopen(const_cast<uint8_t*>(bytes.data()), bytes.size(), "rb");
  if (!f) throw PcapError(where + ": fmemopen failed: " + std::strerror(errno));
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!p) {
    std::fclose(f);
    throw PcapError(where + ": not a readable capture: " + errbuf);
  }
  PcapCloser closer{p};
  return read_all(p, where, is_classic(bytes.data(), bytes.size()));
}

struct PcapWriter::Impl {
  std::string path;
  pcap_t* dead = nullptr;
  pcap_dumper_t* dumper = nullptr;
  uint32_t snaplen = 0;
  uint64_t written = 0;
};

PcapWriter::PcapWriter(const std::string& path, uint32_t link_type, uint32_t snaplen, bool nanoseconds)
    : impl_(new Impl) {
  impl_->path = path;
  impl_->snaplen = snaplen;
  impl_->dead = pcap_open_dead_with_tstamp_precision(
      int(link_type), int(snaplen), nanoseconds ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
  if (!impl_->dead) {
    delete impl_;
    throw PcapError(path + ": libpcap cannot make a writer for link type " + std::to_string(link_type));
  }
  impl_->dumper = pcap_dump_open(impl_->dead, path.c_str());
  if (!impl_->dumper) {
    std::string why = pcap_geterr(impl_->dead);
    pcap_close(impl_->dead);
    delete impl_;
    throw PcapError(path + ": cannot create: " + why);
  }
}

PcapWriter::~PcapWriter() {
  try {
    close();
  } catch (const Error&) {
    // A destructor cannot report; close() explicitly to see write errors.
  }
  delete impl_;
}

void PcapWriter::write(const CapturedPacket& packet) {
  if (!impl_->dumper) throw PcapError(impl_->path + ": write after close");
  if (packet.timestamp_ns / 1'000'000'000u > UINT32_MAX) {
    throw PcapError(impl_->path + ": packet " + std::to_string(impl_->written + 1) + ": timestamp " +
                    std::to_string(packet.timestamp_ns) + " ns is past what a pcap file holds (year 2106)");
  }
  pcap_pkthdr header{};
  const bool nano = pcap_get_tstamp_precision(impl_->dead) == PCAP_TSTAMP_PRECISION_NANO;
  header.ts.tv_sec = time_t(packet.timestamp_ns / 1'000'000'000u);
  uint64_t fraction = packet.timestamp_ns % 1'000'000'000u;
  header.ts.tv_usec = suseconds_t(nano ? fraction : fraction / 1000);
  header.caplen = uint32_t(std::min<size_t>(packet.data.size(), impl_->snaplen));
  header.len = std::max<uint32_t>(packet.original_length, uint32_t(packet.data.size()));
  pcap_dump(reinterpret_cast<u_char*>(impl_->dumper), &header, packet.data.data());
  ++impl_->written;
}

void PcapWriter::close() {
  if (!impl_->dumper) return;
  FILE* f = pcap_dump_file(impl_->dumper);
  bool failed = pcap_dump_flush(impl_->dumper) != 0 || std::ferror(f);
  pcap_dump_close(impl_->dumper);
  pcap_close(impl_->dead);
  impl_->dumper = nullptr;
  impl_->dead = nullptr;
  if (failed) {
    throw PcapError(impl_->path + ": writing failed after " + std::to_string(impl_->written) + " packets");
  }
}

}  // namespace bpfkit::hooks
