// bpfkit feature: what the running kernel supports (program types, map types,
// helpers per program type, attach facilities), probed as `bpftool feature probe` does.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/kernel_tool.h"
#include "target/linux/feature_probe.h"
#include "target/linux/kernel_objects.h"

namespace bpfkit::cli {
namespace {

namespace lk = target::linux_kernel;
// ordered: keys print in bpftool's order (id, type, name, ...).
using json = nlohmann::ordered_json;

struct FeatureOptions {
  std::vector<std::string> words;
  ToolOptions tool;
  bool all_helpers = false;
  std::vector<std::string> helpers_for;
};

std::string available(bool yes) { return yes ? "is available" : "is NOT available"; }

int run_feature(FeatureOptions& o) {
  Words words(o.words);
  // bpftool's `feature probe [kernel]` words are accepted and change nothing.
  if (words.peek_is("probe")) words.next("probe");
  if (words.peek_is("kernel")) words.next("kernel");
  words.expect_end("feature");
  require_kernel_bpf();

  std::vector<uint32_t> helper_types;
  if (o.all_helpers) {
    for (const auto& e : lk::probe_program_types()) {
      if (e.supported) helper_types.push_back(e.type);
    }
  }
  for (const auto& name : o.helpers_for) {
    auto t = lk::prog_type_by_name(name);
    if (!t || *t == 0)
      throw Error("--helpers-for: unknown program type '" + name + "' (e.g. xdp, kprobe, sched_cls)");
    helper_types.push_back(*t);
  }

  const lk::KernelFacts& f = lk::probe_kernel_facts();
  if (o.tool.json) {
    json j;
    j["system_config"] = {{"unprivileged_bpf_disabled", f.unprivileged_bpf_disabled},
                          {"bpf_jit_enable", f.jit_enable},
                          {"bpf_jit_harden", f.jit_harden},
                          {"bpf_jit_kallsyms", f.jit_kallsyms}};
    j["syscall_config"] = {{"have_bpf_syscall", f.bpf_syscall}};
    json progs = json::object(), maps = json::object(), helpers = json::object();
    for (const auto& e : lk::probe_program_types()) progs["have_" + e.name + "_prog_type"] = e.supported;
    for (const auto& e : lk::probe_map_types()) maps["have_" + e.name + "_map_type"] = e.supported;
    j["program_types"] = progs;
    j["map_types"] = maps;
    for (uint32_t t : helper_types) {
      const auto& h = lk::probe_helpers(t);
      helpers[h.prog_type_name + "_available_helpers"] = h.helpers;
    }
    if (!helper_types.empty()) j["helpers"] = helpers;
    j["misc"] = {{"have_large_insn_limit", f.large_insn_limit},
                 {"have_bounded_loops", f.bounded_loops},
                 {"have_v2_isa_extension", f.v2_isa},
                 {"have_v3_isa_extension", f.v3_isa},
                 {"have_v4_isa_extension", f.v4_isa}};
    j["attach"] = {{"have_vmlinux_btf", f.vmlinux_btf},
                   {"have_tracefs", f.tracefs},
                   {"have_bpffs", f.bpffs},
                   {"have_kprobes", f.kprobe_events},
                   {"have_uprobes", f.uprobe_events}};
    print_json(j, o.tool);
    return 0;
  }
  std::cout << "Scanning system configuration...\n";
  std::cout << "bpf() syscall " << available(f.bpf_syscall) << "\n";
  std::cout << "JIT compiler is "
            << (f.jit_enable > 0    ? "enabled"
                : f.jit_enable == 0 ? "disabled"
                                    : "unknown")
            << "\n";
  std::cout << "JIT compiler hardening is " << (f.jit_harden > 0 ? "enabled" : "disabled") << "\n";
  std::cout << "JIT compiler kallsyms exports are " << (f.jit_kallsyms > 0 ? "enabled" : "disabled") << "\n";
  std::cout << "unprivileged_bpf_disabled is " << f.unprivileged_bpf_disabled << "\n";
  std::cout << "vmlinux BTF " << available(f.vmlinux_btf) << "\n\n";
  std::cout << "Scanning attach facilities...\n";
  std::cout << "tracefs " << available(f.tracefs) << "\n";
  std::cout << "bpffs at /sys/fs/bpf " << (f.bpffs ? "is mounted" : "is NOT mounted") << "\n";
  std::cout << "kprobes " << available(f.kprobe_events)
            << (f.kprobe_events ? "" : " (no kprobe_events: use tracepoints, raw tracepoints or fentry)")
            << "\n";
  std::cout << "uprobes " << available(f.uprobe_events) << "\n\n";
  std::cout << "Scanning eBPF program types...\n";
  for (const auto& e : lk::probe_program_types()) {
    std::cout << "eBPF program_type " << e.name << " " << available(e.supported)
              << (e.reason.empty() ? "" : " (" + e.reason + ")") << "\n";
  }
  std::cout << "\nScanning eBPF map types...\n";
  for (const auto& e : lk::probe_map_types()) {
    std::cout << "eBPF map_type " << e.name << " " << available(e.supported)
              << (e.reason.empty() ? "" : " (" + e.reason + ")") << "\n";
  }
  if (!helper_types.empty()) std::cout << "\nScanning eBPF helper functions...\n";
  for (uint32_t t : helper_types) {
    const auto& h = lk::probe_helpers(t);
    std::cout << "eBPF helpers supported for program type " << h.prog_type_name << ":";
    if (h.helpers.empty()) std::cout << " none";
    std::cout << "\n";
    for (const auto& name : h.helpers) std::cout << "\t- " << name << "\n";
  }
  std::cout << "\nScanning miscellaneous eBPF features...\n";
  std::cout << "Large program size limit " << available(f.large_insn_limit) << "\n";
  std::cout << "Bounded loop support " << available(f.bounded_loops) << "\n";
  std::cout << "ISA extension v2 " << available(f.v2_isa) << "\n";
  std::cout << "ISA extension v3 " << available(f.v3_isa) << "\n";
  std::cout << "ISA extension v4 " << available(f.v4_isa) << "\n";
  return 0;
}

CommandRegistration reg("feature", [](CLI::App& app) {
  app.description(
      "What the running kernel supports, probed as `bpftool feature probe` does (needs root):\n"
      "program types (a minimal program of each is loaded), map types (a small map of each is created),\n"
      "helpers per program type (with --helpers or --helpers-for TYPE: a program calling each helper is\n"
      "loaded; the verifier naming the helper unknown or forbidden means unsupported), ISA extensions and\n"
      "attach facilities (tracefs, bpffs, kprobes, uprobes).\n"
      "  bpfkit feature [probe [kernel]] [--helpers | --helpers-for xdp ...] [-j]");
  auto o = std::make_shared<FeatureOptions>();
  app.add_option("words", o->words, "probe [kernel] (bpftool's words; optional)");
  app.add_flag("--helpers", o->all_helpers, "also list the helpers of every supported program type");
  app.add_option("--helpers-for", o->helpers_for,
                 "list the helpers of these program types (xdp, kprobe, ...)");
  app.add_flag("-j,--json", o->tool.json, "JSON output (bpftool's keys)");
  app.add_flag("-p,--pretty", o->tool.pretty, "indented JSON (implies --json)");
  return [o] {
    if (o->tool.pretty) o->tool.json = true;
    return run_feature(*o);
  };
});

}  // namespace
}  // namespace bpfkit::cli
