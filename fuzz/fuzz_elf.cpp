// libFuzzer target: the ELF reader must accept or reject any bytes with an ElfError.
#include <cstddef>
#include <cstdint>

#include "isa/codec.h"
#include "object/elf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto elf = bpfkit::object::ElfFile::parse(std::vector<uint8_t>(data, data + size));
    for (const auto* s : elf.program_sections()) {
      auto bytes = elf.section_data(*s);
      try {
        bpfkit::isa::decode_program(bpfkit::isa::raw_from_bytes(bytes));
      } catch (const bpfkit::Error&) {
      }
    }
    elf.symbols();
  } catch (const bpfkit::Error&) {
  }
  return 0;
}
