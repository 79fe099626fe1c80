// bpfkit asm: assemble text (kernel or uBPF syntax) into raw bytecode or an ELF object.
#include <iostream>

#include "cli/command.h"
#include "cli/program_input.h"
#include "isa/assembler.h"
#include "isa/codec.h"
#include "object/elf_file.h"

namespace bpfkit::cli {
namespace {

struct AsmOptions {
  std::string input, output, format = "auto", section = ".text", name;
};

int run_asm(const AsmOptions& o) {
  auto bytes = read_file_bytes(o.input);
  std::vector<isa::RawInsn> insns;
  try {
    insns = isa::assemble(std::string(bytes.begin(), bytes.end()));
    isa::decode_program(insns);  // jumps in range, nothing malformed
  } catch (const isa::AsmError& e) {
    throw Error(o.input + ":" + e.what());
  }
  std::string output = o.output;
  std::string format = o.format;
  if (format == "auto") {
    bool dot_o = output.size() > 2 && output.ends_with(".o");
    format = dot_o ? "elf" : "raw";
  }
  if (output.empty()) {
    std::string stem = o.input.substr(0, o.input.find_last_of('.'));
    output = stem + (format == "elf" ? ".o" : ".bin");
  }
  std::vector<uint8_t> out;
  if (format == "elf") {
    std::string name = o.name;
    if (name.empty()) {
      name = o.input.substr(o.input.find_last_of('/') + 1);
      name = name.substr(0, name.find('.'));
    }
    out = object::write_bpf_object({{o.section, name, insns}});
  } else {
    out = isa::bytes_from_raw(insns);
  }
  write_file_bytes(output, out);
  std::cout << output << ": " << insns.size() << " instruction slots (" << format << ")\n";
  return 0;
}

CommandRegistration reg("asm", [](CLI::App& app) {
  app.description(
      "Assemble eBPF assembly into bytecode. Accepts the kernel/llvm-objdump syntax (r0 = 1, if r1 > 5 goto +2)\n"
      "and the uBPF/conformance syntax (mov %r0, 1, jgt %r1, 5, label), with labels and comments.");
  auto o = std::make_shared<AsmOptions>();
  app.add_option("file", o->input, "assembly source file")->required();
  app.add_option("-o,--output", o->output, "output file (default: FILE with .bin, or .o for ELF)");
  app.add_option("-f,--format", o->format, "raw (bytecode), elf (relocatable BPF object) or auto (by -o suffix)")
      ->check(CLI::IsMember({"auto", "raw", "elf"}));
  app.add_option("--section", o->section, "ELF section holding the program (e.g. xdp, socket)");
  app.add_option("--name", o->name, "ELF function symbol (default: the file's stem)");
  return [o] { return run_asm(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
