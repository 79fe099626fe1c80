#include "cli/program_input.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <iterator>

#include "base/error.h"
#include "isa/assembler.h"
#include "isa/codec.h"
#include "object/elf_file.h"

namespace bpfkit::cli {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(path + ": cannot create: " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) throw Error(path + ": write failed");
}

InputKind detect_input_kind(const std::vector<uint8_t>& bytes) {
  if (object::ElfFile::looks_like_elf(bytes)) return InputKind::Elf;
  // Bytecode nearly always holds NUL bytes (zero registers, offsets, imm high bytes); text never does.
  bool text = std::none_of(bytes.begin(), bytes.end(), [](uint8_t c) { return c == 0; });
  return text && !bytes.empty() ? InputKind::Assembly : InputKind::Raw;
}

std::vector<LoadedProgram> load_programs(const std::string& path, const std::string& section) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  const std::string base = path.substr(path.find_last_of('/') + 1);
  try {
    switch (detect_input_kind(bytes)) {
      case InputKind::Assembly:
        return {{base, "", isa::assemble(std::string(bytes.begin(), bytes.end()))}};
      case InputKind::Raw:
        return {{base, "", isa::raw_from_bytes(bytes)}};
      case InputKind::Elf: break;
    }
    auto elf = object::ElfFile::parse(std::move(bytes));
    if (elf.machine() != EM_BPF)
      throw Error("ELF machine " + std::to_string(elf.machine()) + " is not BPF (" + std::to_string(EM_BPF) + ")");
    auto symbols = elf.symbols();
    std::vector<LoadedProgram> out;
    for (const object::ElfSection* s : elf.program_sections()) {
      if (!section.empty() && s->name != section) continue;
      LoadedProgram p{s->name, s->name, isa::raw_from_bytes(elf.section_data(*s))};
      for (const auto& sym : symbols)
        if (sym.section == s->index && sym.type == STT_FUNC && sym.value == 0) p.name = sym.name;
      out.push_back(std::move(p));
    }
    if (out.empty())
      throw Error(section.empty() ? "no program sections (executable sections) in the object"
                                  : "no program section named '" + section + "'");
    return out;
  } catch (const isa::AsmError& e) {
    throw Error(path + ":" + e.what());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::vector<uint8_t> parse_hex_bytes(const std::string& text) {
  std::vector<uint8_t> out;
  std::string digits;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
      ++i;
      continue;
    }
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
    else if (!std::isspace(static_cast<unsigned char>(c)) && c != ',')
      throw Error("memory bytes: '" + std::string(1, c) + "' at column " + std::to_string(i + 1) +
                  " is not a hex digit");
  }
  if (digits.size() % 2) throw Error("memory bytes: odd number of hex digits (" + std::to_string(digits.size()) + ")");
  for (size_t i = 0; i < digits.size(); i += 2) out.push_back(uint8_t(std::stoul(digits.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace bpfkit::cli
