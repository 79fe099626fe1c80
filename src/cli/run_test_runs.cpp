// `bpfkit run --target linux|both` over given input: each packet of --pcap (or the
// --data packet, or each --ctx event) through BPF_PROG_TEST_RUN in the kernel and,
// for `both`, through bpfkit beside it; verdict counts per target, then every
// difference (return values, output packets, ring buffer records, maps).
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <fstream>
#include <iostream>
#include <map>

#include "cli/linux_load.h"
#include "cli/program_input.h"
#include "cli/run_object.h"
#include "cli/target_compare.h"
#include "hooks/pcap_file.h"

namespace bpfkit::cli {

namespace {

using nlohmann::json;

struct Side {
  std::string name;
  std::unique_ptr<target::LoadedObject> loaded;
  target::ProgramHandle* prog = nullptr;
  std::map<std::string, uint64_t> verdicts;
};

target::TargetOptions options_for(const ObjectRunOptions& o) {
  target::TargetOptions t;
  t.jit = o.engine != "interp";
  t.verify = !o.unverified;
  t.checked = o.unverified || o.checked;
  t.log_level = o.log_level;
  t.on_printk = [](std::string_view line) { std::cout << "bpf_trace_printk: " << line << '\n'; };
  return t;
}

// One input: a packet (data_in) or a context (ctx_in), with its label for messages.
struct Input {
  std::string label;
  target::TestRunRequest request;
};

std::vector<Input> inputs_of(const ObjectRunOptions& o, const object::BpfObject& obj,
                             const object::ProgramDefinition& prog) {
  std::vector<Input> out;
  if (!o.pcap_in.empty()) {
    const hooks::PcapCapture capture = hooks::read_pcap(o.pcap_in);
    for (size_t i = 0; i < capture.packets.size(); ++i) {
      // BPF_PROG_TEST_RUN refuses packets shorter than an Ethernet header (and no NIC delivers one).
      if (capture.packets[i].data.size() < ETH_HLEN && prog.def.prog_type != BPF_PROG_TYPE_SOCKET_FILTER) continue;
      Input in{"packet " + std::to_string(i + 1), {}};
      in.request.data_in = capture.packets[i].data;
      out.push_back(std::move(in));
    }
  } else if (!o.data_file.empty()) {
    Input in{"packet", {}};
    in.request.data_in = read_file_bytes(o.data_file);
    out.push_back(std::move(in));
  } else {
    json doc = json::array({json::object()});
    if (!o.ctx_json.empty()) {
      std::ifstream f(o.ctx_json);
      if (!f) throw Error(o.ctx_json + ": cannot open");
      try {
        doc = json::parse(f);
      } catch (const json::parse_error& e) {
        throw Error(o.ctx_json + ": byte " + std::to_string(e.byte) + ": not valid JSON");
      }
      if (!doc.is_array()) doc = json::array({doc});
    }
    for (size_t i = 0; i < doc.size(); ++i) {
      Input in{"event " + std::to_string(i), {}};
      try {
        in.request.ctx_in = context_from_json(obj, prog, doc[i].value("ctx", json::object()));
      } catch (const json::exception& e) {
        throw Error((o.ctx_json.empty() ? std::string("context") : o.ctx_json) + ": " + in.label + ": " + e.what());
      }
      out.push_back(std::move(in));
    }
  }
  for (Input& in : out) in.request.repeat = o.repeat;
  return out;
}

}  // namespace

int run_object_test_runs(const ObjectRunOptions& o) {
  auto obj = open_object(o.input);
  std::vector<Side> sides;
  if (o.target == "both") sides.push_back({"user", target::make_user_target(options_for(o))->load(obj)});
  sides.push_back({"linux", load_on_linux(obj, options_for(o))});
  for (Side& s : sides) {
    fill_maps(*s.loaded, o.map_fills);
    s.prog = &choose_program(*s.loaded, o.prog, o.input);
  }
  const object::ProgramDefinition& def = sides.front().prog->definition();
  const std::vector<Input> inputs = inputs_of(o, *obj, def);

  TargetDifferences diffs;
  for (const Input& in : inputs) {
    std::vector<target::TestRunResult> results;
    for (Side& s : sides) {
      try {
        results.push_back(s.prog->test_run(in.request));
      } catch (const Error& e) {
        throw Error(o.input + ": program '" + s.prog->name() + "', " + in.label + ", " + s.name + " target: " +
                    e.what());
      }
      ++s.verdicts[classify_return(def.def.prog_type, results.back().retval).name];
    }
    if (results.size() == 2) {
      for (auto& d : compare_test_runs(results[0], results[1], !in.request.ctx_in.empty(), in.label))
        diffs.push_back(std::move(d));
    }
  }
  for (const Side& s : sides) {
    std::cout << s.prog->name() << " on the " << s.name << " target: " << inputs.size() << " runs\n";
    for (const auto& [name, n] : s.verdicts) std::cout << "  " << name << ": " << n << '\n';
  }
  if (o.dump_maps) std::cout << dump_maps_json(*sides.back().loaded).dump(2) << '\n';
  if (sides.size() == 1) return 0;
  for (auto& d : compare_ring_buffers(*sides[0].loaded, *sides[1].loaded)) diffs.push_back(std::move(d));
  for (auto& d : compare_maps(*sides[0].loaded, *sides[1].loaded)) diffs.push_back(std::move(d));
  return report_differences(diffs);
}

}  // namespace bpfkit::cli
