// bpfkit disasm: print bytecode (raw or an ELF section) as assembly.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/program_input.h"
#include "isa/codec.h"
#include "isa/disassembler.h"

namespace bpfkit::cli {
namespace {

struct DisasmOptions {
  std::string input, section, syntax = "kernel";
  bool bytes = false;
};

int run_disasm(const DisasmOptions& o) {
  auto programs = load_programs(o.input, o.section);
  for (size_t p = 0; p < programs.size(); ++p) {
    const auto& prog = programs[p];
    if (!prog.section.empty()) {
      std::cout << (p ? "\n" : "") << "Disassembly of section " << prog.section << ":\n\n" << prog.name << ":\n";
    }
    std::vector<isa::DecodedInsn> insns;
    try {
      insns = isa::decode_program(prog.insns);
    } catch (const Error& e) {
      throw Error(o.input + (prog.section.empty() ? "" : " section " + prog.section) + ": " + e.what());
    }
    for (const auto& d : insns) {
      char head[16];
      std::snprintf(head, sizeof head, "%6u:", d.slot);
      std::cout << head;
      if (o.bytes) {
        for (int s = 0; s < isa::slot_count(d.insn); ++s) {
          const auto* b = reinterpret_cast<const uint8_t*>(&prog.insns[d.slot + s]);
          if (s) std::cout << "\n       ";
          for (int i = 0; i < 8; ++i) {
            char hex[4];
            std::snprintf(hex, sizeof hex, " %02x", b[i]);
            std::cout << hex;
          }
        }
      }
      std::cout << '\t'
                << (o.syntax == "ubpf" ? isa::format_insn_ubpf(d.insn, d.slot) : isa::format_insn(d.insn, d.slot))
                << '\n';
    }
  }
  return 0;
}

CommandRegistration reg("disasm", [](CLI::App& app) {
  app.description(
      "Disassemble eBPF bytecode: a raw file of 8-byte instructions, an assembly file, or the program sections\n"
      "of an ELF object (.o from clang -target bpf). Prints the kernel syntax, as llvm-objdump -d does.");
  auto o = std::make_shared<DisasmOptions>();
  app.add_option("file", o->input, "raw bytecode, assembly or ELF object")->required();
  app.add_option("-s,--section", o->section, "only this ELF section");
  app.add_option("--syntax", o->syntax, "kernel (r0 = 1) or ubpf (mov %r0, 1)")
      ->check(CLI::IsMember({"kernel", "ubpf"}));
  app.add_flag("--bytes", o->bytes, "also print each instruction's bytes");
  return [o] { return run_disasm(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
