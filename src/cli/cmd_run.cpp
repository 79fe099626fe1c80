// bpfkit run: run a program on the userspace target and print r0.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/program_input.h"
#include "isa/disassembler.h"
#include "vm/engine.h"

namespace bpfkit::cli {
namespace {

struct RunOptions {
  std::string input, section, engine = "jit", mem_hex, mem_file;
  uint64_t budget = 100'000'000;
  bool print_mem = false;
};

int run_program(const RunOptions& o) {
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
      "Run a program on the userspace target and print r0. The program is assembly text, raw bytecode or an\n"
      "ELF object section. r1 points to a private copy of --mem (r2 = its length), r10 to a 512-byte stack.\n"
      "Until the verifier lands, every run is in checked mode: memory accesses are checked against the stack\n"
      "and --mem, and backward jumps are counted against --budget.");
  auto o = std::make_shared<RunOptions>();
  app.add_option("file", o->input, "program: assembly, raw bytecode or ELF object")->required();
  app.add_option("-s,--section", o->section, "ELF section of the program to run");
  app.add_option("-e,--engine", o->engine, "jit (x86-64) or interp")->check(CLI::IsMember({"jit", "interp"}));
  app.add_option("--mem", o->mem_hex, "input memory as hex bytes, e.g. \"01 02 ff\"");
  app.add_option("--mem-file", o->mem_file, "input memory from a file");
  app.add_option("--budget", o->budget, "stop after this many backward jumps and calls");
  app.add_flag("--print-mem", o->print_mem, "print the memory after the run");
  return [o] { return run_program(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
