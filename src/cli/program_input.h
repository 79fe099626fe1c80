// Reading programs from the files users pass on the command line: assembly text
// (either syntax), raw bytecode, or a section of an ELF object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/instruction.h"

namespace bpfkit::cli {

std::vector<uint8_t> read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

struct LoadedProgram {
  std::string name;     // symbol or section name, or the file name
  std::string section;  // ELF section, empty otherwise
  std::vector<isa::RawInsn> insns;
};

enum class InputKind { Assembly, Raw, Elf };
InputKind detect_input_kind(const std::vector<uint8_t>& bytes);

// All programs in the file: one for assembly or raw input, one per executable
// section (or just `section` when given) for an ELF object.
std::vector<LoadedProgram> load_programs(const std::string& path, const std::string& section = "");

// Parses hex bytes ("01 02 ff", "0102ff" or "0x01,0x02") for --mem.
std::vector<uint8_t> parse_hex_bytes(const std::string& text);

}  // namespace bpfkit::cli
