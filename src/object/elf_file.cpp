#include "object/elf_file.h"

#include <cstring>
#include <elf.h>

namespace bpfkit::object {
namespace {

// Reads a trivially copyable T at `off`, failing with the offset if it does not fit.
template <typename T>
T read_at(std::span<const uint8_t> bytes, uint64_t off, const char* what) {
  if (off > bytes.size() || bytes.size() - off < sizeof(T))
    throw ElfError(off, std::string(what) + " (" + std::to_string(sizeof(T)) + " bytes) runs past the end of the " +
                            std::to_string(bytes.size()) + "-byte file");
  T v;
  std::memcpy(&v, bytes.data() + off, sizeof(T));
  return v;
}

std::string read_name(std::span<const uint8_t> strtab, uint64_t strtab_off, uint32_t name_off) {
  if (name_off >= strtab.size())
    throw ElfError(strtab_off + name_off, "name offset " + std::to_string(name_off) + " is outside the string table");
  const auto* begin = reinterpret_cast<const char*>(strtab.data()) + name_off;
  size_t len = strnlen(begin, strtab.size() - name_off);
  if (len == strtab.size() - name_off) throw ElfError(strtab_off + name_off, "name is not NUL-terminated");
  return std::string(begin, len);
}

}  // namespace

bool ElfFile::looks_like_elf(std::span<const uint8_t> bytes) {
  return bytes.size() >= SELFMAG && std::memcmp(bytes.data(), ELFMAG, SELFMAG) == 0;
}

ElfFile ElfFile::parse(std::vector<uint8_t> bytes) {
  ElfFile f;
  f.bytes_ = std::move(bytes);
  std::span<const uint8_t> b = f.bytes_;
  if (!looks_like_elf(b)) throw ElfError(0, "not an ELF file (bad magic)");
  auto eh = read_at<Elf64_Ehdr>(b, 0, "ELF header");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) throw ElfError(EI_CLASS, "only 64-bit ELF is supported");
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) throw ElfError(EI_DATA, "only little-endian ELF is supported");
  f.machine_ = eh.e_machine;
  if (eh.e_shnum == 0) return f;
  if (eh.e_shentsize != sizeof(Elf64_Shdr))
    throw ElfError(offsetof(Elf64_Ehdr, e_shentsize), "section header size " + std::to_string(eh.e_shentsize) +
                                                          " is not " + std::to_string(sizeof(Elf64_Shdr)));
  std::vector<Elf64_Shdr> headers;
  for (uint16_t i = 0; i < eh.e_shnum; ++i)
    headers.push_back(read_at<Elf64_Shdr>(b, eh.e_shoff + uint64_t(i) * sizeof(Elf64_Shdr), "section header"));
  auto data_of = [&](const Elf64_Shdr& h, size_t index) -> std::span<const uint8_t> {
    if (h.sh_type == SHT_NOBITS) return {};
    if (h.sh_offset > b.size() || b.size() - h.sh_offset < h.sh_size)
      throw ElfError(h.sh_offset, "section " + std::to_string(index) + " (" + std::to_string(h.sh_size) +
                                      " bytes) runs past the end of the file");
    return b.subspan(h.sh_offset, h.sh_size);
  };
  if (eh.e_shstrndx >= headers.size())
    throw ElfError(offsetof(Elf64_Ehdr, e_shstrndx), "section name table index " + std::to_string(eh.e_shstrndx) +
                                                         " is not a section");
  const Elf64_Shdr& strhdr = headers[eh.e_shstrndx];
  auto strtab = data_of(strhdr, eh.e_shstrndx);
  for (size_t i = 0; i < headers.size(); ++i) {
    const Elf64_Shdr& h = headers[i];
    data_of(h, i);  // validates bounds once, up front
    f.sections_.push_back({i, i == 0 ? "" : read_name(strtab, strhdr.sh_offset, h.sh_name), h.sh_type, h.sh_flags,
                           h.sh_offset, h.sh_type == SHT_NOBITS ? 0 : h.sh_size, h.sh_link, h.sh_info,
                           h.sh_entsize, h.sh_type == SHT_NOBITS ? h.sh_size : 0});
  }
  return f;
}

const ElfSection* ElfFile::find_section(const std::string& name) const {
  for (const auto& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

std::span<const uint8_t> ElfFile::section_data(const ElfSection& s) const {
  return std::span<const uint8_t>(bytes_).subspan(s.offset, s.size);
}

std::vector<ElfSymbol> ElfFile::symbols() const {
  std::vector<ElfSymbol> out;
  for (const auto& s : sections_) {
    if (s.type != SHT_SYMTAB) continue;
    if (s.link >= sections_.size()) throw ElfError(s.offset, "symbol table links to missing string table");
    const ElfSection& strs = sections_[s.link];
    auto strtab = section_data(strs);
    auto data = section_data(s);
    for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= data.size(); off += sizeof(Elf64_Sym)) {
      auto sym = read_at<Elf64_Sym>(data, off, "symbol");
      out.push_back({read_name(strtab, strs.offset, sym.st_name), uint8_t(ELF64_ST_TYPE(sym.st_info)),
                     uint8_t(ELF64_ST_BIND(sym.st_info)), sym.st_shndx, sym.st_value, sym.st_size});
    }
  }
  return out;
}

std::vector<ElfRelocation> ElfFile::relocations(const ElfSection& s) const {
  std::vector<ElfRelocation> out;
  if (s.type != SHT_REL && s.type != SHT_RELA) return out;
  const uint64_t entry = s.type == SHT_REL ? sizeof(Elf64_Rel) : sizeof(Elf64_Rela);
  if (s.size % entry != 0)
    throw ElfError(s.offset, "relocation section '" + s.name + "' size " + std::to_string(s.size) +
                                 " is not a multiple of " + std::to_string(entry));
  auto data = section_data(s);
  for (uint64_t off = 0; off < data.size(); off += entry) {
    auto r = read_at<Elf64_Rel>(data, off, "relocation");
    int64_t addend = 0;
    if (s.type == SHT_RELA) addend = read_at<Elf64_Rela>(data, off, "relocation").r_addend;
    out.push_back({r.r_offset, uint32_t(ELF64_R_SYM(r.r_info)), uint32_t(ELF64_R_TYPE(r.r_info)), addend});
  }
  return out;
}

std::vector<const ElfSection*> ElfFile::program_sections() const {
  std::vector<const ElfSection*> out;
  for (const auto& s : sections_)
    if (s.type == SHT_PROGBITS && (s.flags & SHF_EXECINSTR) && s.size > 0) out.push_back(&s);
  return out;
}

}  // namespace bpfkit::object
