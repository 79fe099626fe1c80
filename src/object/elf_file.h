// A minimal, bounds-checked view of an ELF64 little-endian file: its sections by
// name and index. The full BPF object loader (maps, relocations, BTF) builds on it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "isa/instruction.h"

namespace bpfkit::object {

// Malformed ELF: names the byte offset where reading failed.
class ElfError : public Error {
 public:
  ElfError(uint64_t offset, const std::string& what)
      : Error("ELF byte offset " + std::to_string(offset) + ": " + what), offset_(offset) {}
  uint64_t offset() const { return offset_; }

 private:
  uint64_t offset_;
};

struct ElfSection {
  size_t index = 0;
  std::string name;
  uint32_t type = 0;
  uint64_t flags = 0;
  uint64_t offset = 0;  // in the file
  uint64_t size = 0;
  uint32_t link = 0, info = 0;
  uint64_t entsize = 0;
  uint64_t nobits_size = 0;  // SHT_NOBITS (.bss): its size in memory (`size` is 0: no bytes in the file)
};

// One entry of a SHT_REL (addend 0) or SHT_RELA section.
struct ElfRelocation {
  uint64_t offset = 0;  // byte offset in the section the relocations apply to
  uint32_t symbol = 0;  // index into symbols()
  uint32_t type = 0;    // R_BPF_*
  int64_t addend = 0;
};

struct ElfSymbol {
  std::string name;
  uint8_t type = 0, bind = 0;
  uint16_t section = 0;
  uint64_t value = 0, size = 0;
};

class ElfFile {
 public:
  // Parses headers and section names; throws ElfError on anything out of bounds.
  static ElfFile parse(std::vector<uint8_t> bytes);
  static bool looks_like_elf(std::span<const uint8_t> bytes);

  uint16_t machine() const { return machine_; }
  const std::vector<ElfSection>& sections() const { return sections_; }
  const ElfSection* find_section(const std::string& name) const;
  std::span<const uint8_t> section_data(const ElfSection& s) const;
  std::vector<ElfSymbol> symbols() const;  // from .symtab; empty when there is none
  // The entries of a SHT_REL or SHT_RELA section; ElfError when its size is not a
  // whole number of entries.
  std::vector<ElfRelocation> relocations(const ElfSection& s) const;
  // Executable sections (SHF_EXECINSTR with data): where BPF programs live.
  std::vector<const ElfSection*> program_sections() const;

 private:
  std::vector<uint8_t> bytes_;
  uint16_t machine_ = 0;
  std::vector<ElfSection> sections_;
};

// One program to write into an object file.
struct ElfProgram {
  std::string section;  // e.g. "xdp" or ".text"
  std::string name;     // function symbol
  std::vector<isa::RawInsn> insns;
};

// Writes a relocatable EM_BPF object with one executable section per program, a
// global function symbol for each, and a "license" section.
std::vector<uint8_t> write_bpf_object(const std::vector<ElfProgram>& programs, const std::string& license = "GPL");

}  // namespace bpfkit::object
