// libFuzzer target: arbitrary bytes through the decoder. Whatever decodes must encode
// back to the same slots and survive format -> assemble in both syntaxes unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "isa/assembler.h"
#include "isa/codec.h"
#include "isa/disassembler.h"

namespace {

using namespace bpfkit::isa;

[[noreturn]] void broken(const char* what, const std::string& text) {
  std::fprintf(stderr, "round trip broken (%s): %s\n", what, text.c_str());
  std::abort();
}

void check_slots(std::span<const RawInsn> raw) {
  for (size_t slot = 0; slot < raw.size();) {
    Instruction insn;
    try {
      insn = decode_insn(raw, slot);
    } catch (const bpfkit::Error&) {
      ++slot;  // malformed: look at the next slot on its own
      continue;
    }
    const size_t n = size_t(slot_count(insn));
    const std::vector<RawInsn> want(raw.begin() + slot, raw.begin() + slot + n);
    std::vector<RawInsn> encoded;
    encode_insn(insn, encoded);
    if (encoded != want) broken("encode", format_insn(insn, uint32_t(slot)));
    for (const std::string& text :
         {format_insn(insn, uint32_t(slot)), format_insn_ubpf(insn, uint32_t(slot))}) {
      try {
        if (assemble(text) != want) broken("assemble", text);
      } catch (const AsmError& e) {
        broken(e.what(), text);
      }
    }
    slot += n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    raw_from_bytes({data, size});  // the length check itself
  } catch (const bpfkit::Error&) {
  }
  const std::vector<RawInsn> raw = raw_from_bytes({data, size - size % sizeof(RawInsn)});
  check_slots(raw);
  try {
    decode_program(raw);
    const std::string text = disassemble(raw);
    if (assemble(text) != raw) broken("program", text);
  } catch (const bpfkit::Error&) {
  }
  return 0;
}
