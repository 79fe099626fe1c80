// libFuzzer target: arbitrary text through the assembler. It may only throw AsmError;
// what it accepts must decode, and its disassembly must assemble to the same slots.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "isa/assembler.h"
#include "isa/codec.h"
#include "isa/disassembler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfkit::isa;
  std::vector<RawInsn> raw;
  try {
    raw = assemble(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const AsmError&) {
    return 0;
  }
  for (const AsmSyntax syntax : {AsmSyntax::Kernel, AsmSyntax::Ubpf}) {
    std::string text;
    try {
      text = disassemble(raw, syntax);  // every slot the assembler writes is a valid encoding
    } catch (const bpfkit::Error& e) {
      std::fprintf(stderr, "assembled an undecodable slot: %s\n", e.what());
      std::abort();
    }
    try {
      if (assemble(text) != raw) {
        std::fprintf(stderr, "disassembly does not reassemble to the same slots:\n%s", text.c_str());
        std::abort();
      }
    } catch (const AsmError& e) {
      std::fprintf(stderr, "disassembly does not assemble: %s\n%s", e.what(), text.c_str());
      std::abort();
    }
  }
  return 0;
}
