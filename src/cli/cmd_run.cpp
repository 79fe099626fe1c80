// bpfkit run: run a program on the userspace target and print r0.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/program_input.h"
#include "cli/run_object.h"
#include "object/elf_file.h"
#include "isa/disassembler.h"
#include "vm/engine.h"

namespace bpfkit::cli {
namespace {

struct RunOptions {
  std::string input, section, engine = "jit", mem_hex, mem_file;
  uint64_t budget = 100'000'000;
  bool print_mem = false;
  ObjectRunOptions object;  // for clang-compiled objects
};

// A libbpf-style object (programs in SEC() sections) runs as its program type;
// anything else (assembly, bytecode, a bare section) runs with --mem.
bool runs_as_object(const RunOptions& o) {
  if (!o.mem_hex.empty() || !o.mem_file.empty() || !o.section.empty()) return false;
  const auto bytes = read_file_bytes(o.input);
  if (!object::ElfFile::looks_like_elf(bytes)) return false;
  const auto elf = object::ElfFile::parse(bytes);
  for (const object::ElfSection* s : elf.program_sections()) {
    if (s->name != ".text") return true;
  }
  return false;
}

int run_program(const RunOptions& o) {
  if (runs_as_object(o)) {
    ObjectRunOptions object = o.object;
    object.input = o.input;
    object.engine = o.engine;
    return run_object(object);
  }
  if (o.object.target != "user") {
    throw Error(o.input + ": --target " + o.object.target + " runs clang-compiled objects (SEC() sections) only");
  }
  auto programs = load_programs(o.input, o.section);
  if (programs.size() > 1) {
    std::string names;
    for (auto& p : programs) names += " " + p.section;
    throw Error(o.input + ": holds several programs; choose one with --section:" + names);
  }
  const LoadedProgram& loaded = programs.front();
  std::vector<uint8_t> mem;
  if (!o.mem_hex.empty()) mem = parse_hex_bytes(o.mem_hex);
  if (!o.mem_file.empty()) mem = read_file_bytes(o.mem_file);

  vm::Program program(loaded.insns);
  vm::EngineOptions options{.checked = true, .budget = o.budget};
  auto engine = o.engine == "interp" ? vm::make_interpreter(program, options) : vm::make_jit(program, options);
  core::ExecEnv env;
  if (!mem.empty()) env.allow(reinterpret_cast<uint64_t>(mem.data()), mem.size(), true);
  uint64_t r1 = mem.empty() ? 0 : reinterpret_cast<uint64_t>(mem.data());
  uint64_t r0;
  try {
    r0 = engine->run(r1, mem.size(), env);
  } catch (const vm::RuntimeError& e) {
    // Name the program and show the failing instruction as the disassembler prints it.
    std::string where = o.input + (loaded.section.empty() ? "" : " section " + loaded.section);
    for (const auto& d : program.insns())
      if (d.slot == e.slot()) where += ": `" + isa::format_insn(d.insn, d.slot) + "`";
    throw Error(where + ": " + e.what());
  }
  char line[96];
  std::snprintf(line, sizeof line, "r0 = 0x%llx (%lld)", static_cast<unsigned long long>(r0),
                static_cast<long long>(r0));
  std::cout << loaded.name << ": " << line << "  [" << o.engine << ", checked: not verified]\n";
  if (o.print_mem && !mem.empty()) {
    std::cout << "mem:";
    for (uint8_t b : mem) {
      char hex[4];
      std::snprintf(hex, sizeof hex, " %02x", b);
      std::cout << hex;
    }
    std::cout << '\n';
  }
  return 0;
}

CommandRegistration reg("run", [](CLI::App& app) {
  app.description(
      "Run a program on the userspace target, or in the kernel (--target linux), or on both.\n"
      "A clang-compiled object (SEC() sections, maps, global data) is loaded with its maps and run as its\n"
      "program type: packet programs (xdp, tc, socket) over --pcap FILE (verdict counts; --out writes the\n"
      "packets that pass) or one --data FILE packet; trace programs (tracepoint, kprobe, ...) over --ctx\n"
      "FILE.json, a list of events {\"pid\": 42, \"comm\": \"cat\", \"ctx\": {\"field\": 1}} whose ctx fields\n"
      "are laid out by the BTF type of the program's argument or by the tracepoint's format file.\n"
      "--map NAME=FILE.json fills a map first ([{\"key\": K, \"value\": V}], LPM keys may be \"10.0.0.0/8\");\n"
      "--dump-maps prints every map as JSON afterwards. bpf_printk lines and ring buffer records are printed\n"
      "as they happen.\n"
      "--target linux with no input loads the object into the kernel and attaches every program by its SEC\n"
      "name, as libbpf does (tracepoint/CAT/NAME, raw_tp/NAME, tp_btf/NAME, uprobe/PATH:SYMBOL, perf_event,\n"
      "xdp and tc with --iface); it prints bpf_printk lines and ring/perf buffer records as they come until\n"
      "Ctrl-C, SIGTERM or --duration, then detaches and prints the maps. With --pcap, --data or --ctx it\n"
      "runs each input through BPF_PROG_TEST_RUN instead; --target both runs them on both targets and\n"
      "reports every difference (exit status 1).\n"
      "Other input (assembly text, raw bytecode, a bare ELF section) runs with r1 pointing to a private copy\n"
      "of --mem (r2 = its length) and prints r0.\n"
      "An object's programs are verified first, as BPF_PROG_LOAD does, and refused with the verifier's reason\n"
      "(--unverified skips that). Verified programs then run without run-time checks, as the kernel runs\n"
      "them; unverified ones (and every run with --checked) run in checked mode: memory accesses are\n"
      "checked against the stack, the context, the packet and map values, and backward jumps count\n"
      "against --budget. Input that is not an object is not verified and always runs checked.");
  auto o = std::make_shared<RunOptions>();
  app.add_option("file", o->input, "program: assembly, raw bytecode or ELF object")->required();
  app.add_option("-s,--section", o->section, "ELF section of the program to run");
  app.add_option("-e,--engine", o->engine, "jit (x86-64) or interp")->check(CLI::IsMember({"jit", "interp"}));
  app.add_option("--mem", o->mem_hex, "input memory as hex bytes, e.g. \"01 02 ff\"");
  app.add_option("--mem-file", o->mem_file, "input memory from a file");
  app.add_option("--budget", o->budget, "stop after this many backward jumps and calls");
  app.add_flag("--print-mem", o->print_mem, "print the memory after the run");
  app.add_flag("--unverified", o->object.unverified, "object: do not run the verifier first (runs checked)");
  app.add_flag("--checked", o->object.checked, "object: check every memory access at run time, verified or not");
  app.add_option("-p,--prog", o->object.prog, "object: the program to run (function or section name)");
  app.add_option("--pcap", o->object.pcap_in, "object: run a packet program over every packet of this pcap file");
  app.add_option("--out", o->object.pcap_out, "object: write the packets the program passes to this pcap file");
  app.add_option("--data", o->object.data_file, "object: run a packet program once on this file's bytes");
  app.add_option("--ctx", o->object.ctx_json, "object: contexts for a trace program, as JSON");
  app.add_option("--map", o->object.map_fills, "object: fill map NAME from FILE.json before the run (NAME=FILE)");
  app.add_flag("--dump-maps", o->object.dump_maps, "object: print every map as JSON after the run");
  app.add_option("--event-type", o->object.event_type, "object: BTF struct that formats ring buffer records");
  app.add_option("-t,--target", o->object.target, "object: user (default), linux (the kernel) or both")
      ->check(CLI::IsMember({"user", "linux", "both"}));
  app.add_option("--iface", o->object.iface, "linux: the interface xdp and tc programs attach to");
  app.add_option("--xdp-mode", o->object.xdp_mode, "linux: auto (default), native or generic")
      ->check(CLI::IsMember({"auto", "native", "generic"}));
  app.add_option("--pid", o->object.pid, "linux: uprobes and perf events of this process only");
  app.add_option("--freq", o->object.sample_freq, "linux: perf_event programs: samples per second per CPU");
  app.add_option("--duration", o->object.duration, "linux: stop after this many seconds (default: Ctrl-C)");
  app.add_flag("--no-printk", o->object.no_printk, "linux: do not read bpf_printk output from trace_pipe");
  app.add_option("--log-level", o->object.log_level, "linux: the kernel verifier's log level for loads (1, 2)");
  app.add_option("--repeat", o->object.repeat, "object: run each packet or event this many times")
      ->check(CLI::Range(1u, 100'000'000u));
  return [o] { return run_program(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
