// bpfkit verify: run the verifier on the programs of an object and print, per
// program, the verdict, what the verifier did (instructions processed, states,
// peak memory, time) and, on rejection, the instruction, the source line and why.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/run_object.h"
#include "helpers/runtime_helpers.h"
#include "target/verify_object.h"

namespace bpfkit::cli {
namespace {

struct VerifyOptionsCli {
  std::string input, prog;
  uint32_t log_level = 0;
  bool json = false;
};

int verify(const VerifyOptionsCli& o) {
  auto obj = open_object(o.input);
  verifier::VerifyOptions vo;
  vo.log_level = o.log_level;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  int rejected = 0, checked = 0;
  for (const object::ProgramDefinition& p : obj->programs()) {
    if (!o.prog.empty() && p.name != o.prog && p.section != o.prog) continue;
    ++checked;
    const verifier::VerifyResult r = target::verify_object_program(*obj, p, vo, &helpers::runtime_helpers());
    if (!r.ok) ++rejected;
    const verifier::VerifyStats& st = r.stats;
    if (o.json) {
      nlohmann::ordered_json j;
      j["program"] = p.name;
      j["section"] = p.section;
      j["verdict"] = r.ok ? "accept" : "reject";
      if (!r.ok) {
        j["reason"] = std::string(verifier::reject_kind_name(r.kind));
        j["insn"] = r.insn;
        j["message"] = r.message;
      }
      j["insns_processed"] = st.insns_processed;
      j["states"] = st.states_total;
      j["peak_states"] = st.states_peak;
      j["peak_memory_bytes"] = st.peak_memory_bytes;
      j["stack_depth"] = st.max_stack_depth;
      j["time_us"] = double(st.time_ns) / 1e3;
      if (o.log_level > 0) j["log"] = r.log;
      out.push_back(j);
      continue;
    }
    if (o.log_level > 0) std::cout << r.log;
    std::cout << p.name << " (" << p.section << "): " << (r.ok ? "accepted" : "REJECTED") << " — "
              << st.insns_processed << " insns processed, " << st.states_total << " states (peak "
              << st.states_peak << "), " << st.peak_memory_bytes / 1024 << " KiB, stack " << st.max_stack_depth
              << " bytes, " << double(st.time_ns) / 1e3 << " us\n";
    if (!r.ok && o.log_level == 0) std::cout << "  " << r.message << "\n";
  }
  if (o.json) std::cout << out.dump(2) << '\n';
  if (checked == 0) {
    std::cerr << "bpfkit verify: " << o.input << " has no program named '" << o.prog << "'\n";
    return 2;
  }
  return rejected ? 1 : 0;
}

CommandRegistration reg("verify", [](CLI::App& app) {
  app.description(
      "Verify the programs of a clang-compiled BPF object as the kernel's verifier would before loading them:\n"
      "print the verdict, the instructions processed, the states kept, peak memory and time. A rejection names\n"
      "the instruction, its C source line (with -g) and the register and reason, and the branch decisions that\n"
      "led there. Exit status: 0 all accepted, 1 some rejected, 2 bad input.");
  auto o = std::make_shared<VerifyOptionsCli>();
  app.add_option("object", o->input, "clang-compiled BPF object")->required();
  app.add_option("-p,--prog", o->prog, "only this program (function or section name)");
  app.add_option("-l,--log-level", o->log_level,
                 "0: the verdict and the error; 1: also the failing path's states, instruction by instruction; "
                 "2: every instruction of every path")
      ->check(CLI::Range(0, 2));
  app.add_flag("--json", o->json, "print one JSON object per program");
  return [o] { return verify(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
