// `bpfkit run` on a clang-compiled object: load it on the userspace target, fill
// maps, run a program over a pcap file (packet programs) or over contexts given
// as JSON (trace programs), print what it printed and emitted, and the maps.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "object/bpf_object.h"
#include "target/target.h"

namespace bpfkit::cli {

struct ObjectRunOptions {
  std::string input;
  std::string prog;              // program (function or section name); default: the only one
  std::string engine = "jit";
  bool unverified = false;  // skip the verifier (checked mode then guards memory)
  bool checked = false;     // run verified programs in checked mode too (bounds checks at run time)
  std::string pcap_in, pcap_out;
  std::string data_file;         // one packet from a file (packet programs)
  std::string ctx_json;          // contexts as JSON (trace programs)
  std::vector<std::string> map_fills;  // NAME=FILE.json
  std::string event_type;        // BTF struct that formats ring buffer records
  bool dump_maps = false;
  uint32_t repeat = 1;
  // "user" (bpfkit's VM), "linux" (the kernel: attach by section, or BPF_PROG_TEST_RUN over the
  // given input) or "both" (the input on both targets, differences reported).
  std::string target = "user";
  uint32_t log_level = 0;  // linux: the kernel verifier's log level for loads
  // linux without input: attach by section and stream events.
  std::string iface;              // xdp / tc sections
  std::string xdp_mode = "auto";  // auto, native or generic
  int pid = -1;                   // uprobes / perf events: one process
  uint64_t sample_freq = 99;      // perf_event sections: samples per second per CPU
  double duration = -1;           // seconds; < 0: until Ctrl-C / SIGTERM
  bool no_printk = false;         // do not read trace_pipe
};

// What a packet program's return value means, and whether the packet goes on.
struct Verdict {
  std::string name;
  bool forwarded = false;
};
Verdict classify_return(uint32_t prog_type, uint32_t retval);

// --target linux / both with --pcap, --data or --ctx: every input through BPF_PROG_TEST_RUN
// (and, for both, bpfkit's test run beside it, differences reported).
int run_object_test_runs(const ObjectRunOptions& options);
// --target linux without input: attach every program, stream events, print maps at the end.
int run_object_attached(const ObjectRunOptions& options);

int run_object(const ObjectRunOptions& options);

// Helpers shared with test-run and map commands.
std::shared_ptr<const object::BpfObject> open_object(const std::string& path);
void fill_maps(target::LoadedObject& loaded, const std::vector<std::string>& fills);
nlohmann::json dump_maps_json(target::LoadedObject& loaded);
target::ProgramHandle& choose_program(target::LoadedObject& loaded, const std::string& name, const std::string& input);
// The context bytes of `ctx` (JSON object of field values) for `program`: laid out by the
// BTF type of the program's context argument, else by its tracepoint's format file.
std::vector<uint8_t> context_from_json(const object::BpfObject& object, const object::ProgramDefinition& program,
                                       const nlohmann::json& ctx);

}  // namespace bpfkit::cli
