#include <cstring>
#include <elf.h>

#include "object/elf_file.h"

namespace bpfkit::object {
namespace {

class StringTable {
 public:
  StringTable() { data_.push_back('\0'); }
  uint32_t add(const std::string& s) {
    uint32_t off = uint32_t(data_.size());
    data_.insert(data_.end(), s.begin(), s.end());
    data_.push_back('\0');
    return off;
  }
  const std::vector<char>& data() const { return data_; }

 private:
  std::vector<char> data_;
};

template <typename T>
void append(std::vector<uint8_t>& out, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(T));
}

}  // namespace

std::vector<uint8_t> write_bpf_object(const std::vector<ElfProgram>& programs, const std::string& license) {
  // Layout: header, section contents (8-aligned), section header table.
  StringTable shstr, str;
  std::vector<Elf64_Shdr> headers(1);  // index 0 is the null section
  std::vector<std::vector<uint8_t>> contents(1);
  std::vector<Elf64_Sym> syms(1);

  for (const auto& p : programs) {
    Elf64_Shdr h{};
    h.sh_name = shstr.add(p.section);
    h.sh_type = SHT_PROGBITS;
    h.sh_flags = SHF_ALLOC | SHF_EXECINSTR;
    h.sh_addralign = 8;
    std::vector<uint8_t> code(p.insns.size() * sizeof(isa::RawInsn));
    if (!code.empty()) std::memcpy(code.data(), p.insns.data(), code.size());
    Elf64_Sym sym{};
    sym.st_name = str.add(p.name);
    sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    sym.st_shndx = uint16_t(headers.size());
    sym.st_size = code.size();
    syms.push_back(sym);
    headers.push_back(h);
    contents.push_back(std::move(code));
  }
  Elf64_Shdr lic{};
  lic.sh_name = shstr.add("license");
  lic.sh_type = SHT_PROGBITS;
  lic.sh_flags = SHF_ALLOC | SHF_WRITE;
  lic.sh_addralign = 1;
  headers.push_back(lic);
  contents.emplace_back(license.begin(), license.end());
  contents.back().push_back(0);

  Elf64_Shdr strh{};
  strh.sh_name = shstr.add(".strtab");
  strh.sh_type = SHT_STRTAB;
  strh.sh_addralign = 1;
  const size_t strtab_index = headers.size();
  headers.push_back(strh);
  contents.emplace_back(str.data().begin(), str.data().end());

  Elf64_Shdr symh{};
  symh.sh_name = shstr.add(".symtab");
  symh.sh_type = SHT_SYMTAB;
  symh.sh_link = uint32_t(strtab_index);
  symh.sh_info = 1;  // index of the first global symbol
  symh.sh_entsize = sizeof(Elf64_Sym);
  symh.sh_addralign = 8;
  headers.push_back(symh);
  std::vector<uint8_t> symbytes;
  for (const auto& s : syms) append(symbytes, s);
  contents.push_back(std::move(symbytes));

  Elf64_Shdr shstrh{};
  shstrh.sh_name = shstr.add(".shstrtab");
  shstrh.sh_type = SHT_STRTAB;
  shstrh.sh_addralign = 1;
  const size_t shstr_index = headers.size();
  headers.push_back(shstrh);
  contents.emplace_back(shstr.data().begin(), shstr.data().end());

  std::vector<uint8_t> out(sizeof(Elf64_Ehdr));
  for (size_t i = 1; i < headers.size(); ++i) {
    while (out.size() % 8) out.push_back(0);
    headers[i].sh_offset = out.size();
    headers[i].sh_size = contents[i].size();
    out.insert(out.end(), contents[i].begin(), contents[i].end());
  }
  while (out.size() % 8) out.push_back(0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_REL;
  eh.e_machine = EM_BPF;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = uint16_t(headers.size());
  eh.e_shstrndx = uint16_t(shstr_index);
  eh.e_shoff = out.size();
  for (const auto& h : headers) append(out, h);
  std::memcpy(out.data(), &eh, sizeof(eh));
  return out;
}

}  // namespace bpfkit::object
