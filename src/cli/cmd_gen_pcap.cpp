// bpfkit gen-pcap: write synthetic, reproducible traffic to a pcap file (the
// sample input of the examples, tests and benchmarks).
#include <iostream>

#include "cli/command.h"
#include "hooks/packet_generator.h"
#include "hooks/pcap_file.h"

namespace bpfkit::cli {
namespace {

struct GenOptions {
  std::string output;
  size_t packets = 1000;
  uint64_t seed = 1;
};

CommandRegistration reg("gen-pcap", [](CLI::App& app) {
  app.description(
      "Write synthetic Ethernet traffic to a pcap file: IPv4 TCP/UDP/ICMP from 10.0.0.0/8, 192.168.0.0/16,\n"
      "198.51.100.0/24 and 203.0.113.0/24 to 192.0.2.0/24, some IPv6 and ARP, and ~1% malformed frames.\n"
      "The same --seed gives the same packets on every machine.");
  auto o = std::make_shared<GenOptions>();
  app.add_option("output", o->output, "pcap file to write")->required();
  app.add_option("-n,--packets", o->packets, "number of packets")->check(CLI::Range(size_t(1), size_t(100'000'000)));
  app.add_option("--seed", o->seed, "random seed");
  return [o] {
    hooks::PcapWriter writer(o->output);
    for (const hooks::CapturedPacket& p : hooks::generate_traffic({o->seed, o->packets})) writer.write(p);
    writer.close();
    std::cout << o->output << ": " << o->packets << " packets (seed " << o->seed << ")\n";
    return 0;
  };
});

}  // namespace
}  // namespace bpfkit::cli
