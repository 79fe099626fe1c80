#include "target/linux/elf_symbol_offset.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {
namespace {

// Reads only the parts of the file it needs (headers, symbol and string tables):
// binaries with debug info run to hundreds of megabytes.
class ElfReader {
 public:
  explicit ElfReader(const std::string& path) : path_(path) {
    fd_.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) fail(std::strerror(errno));
    struct stat st {};
    if (fstat(fd_.get(), &st) != 0) fail(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail("not a regular file");
    size_ = uint64_t(st.st_size);
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw TargetError("ELF file '" + path_ + "': " + why);
  }

  uint64_t size() const { return size_; }

  template <typename T>
  T read(uint64_t offset, const char* what) const {
    T value;
    read_bytes(offset, &value, sizeof(T), what);
    return value;
  }

  std::vector<char> read_block(uint64_t offset, uint64_t size, const char* what) const {
    std::vector<char> out(size);
    read_bytes(offset, out.data(), size, what);
    return out;
  }

 private:
  void read_bytes(uint64_t offset, void* out, uint64_t size, const char* what) const {
    if (offset > size_ || size_ - offset < size) {
      fail(std::string(what) + " at byte offset " + std::to_string(offset) + " runs past the end of the " +
           std::to_string(size_) + "-byte file");
    }
    auto* p = static_cast<char*>(out);
    while (size > 0) {
      const ssize_t n = pread(fd_.get(), p, size, off_t(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        fail(std::string("reading ") + what + " failed: " + (n < 0 ? std::strerror(errno) : "short read"));
      p += n;
      offset += uint64_t(n);
      size -= uint64_t(n);
    }
  }

  std::string path_;
  UniqueFd fd_;
  uint64_t size_ = 0;
};

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Searches one symbol table (SHT_SYMTAB or SHT_DYNSYM) for a defined symbol named `name`;
// functions win over other kinds, globals over locals.
std::optional<Elf64_Sym> find_in_table(const ElfReader& elf, const std::vector<Elf64_Shdr>& sections,
                                       const Elf64_Shdr& table, std::string_view name) {
  if (table.sh_link >= sections.size()) elf.fail("a symbol table links to a missing string table");
  const Elf64_Shdr& strs = sections[table.sh_link];
  const std::vector<char> strtab = elf.read_block(strs.sh_offset, strs.sh_size, "string table");
  const std::vector<char> symtab = elf.read_block(table.sh_offset, table.sh_size, "symbol table");
  std::optional<Elf64_Sym> best;
  int best_rank = -1;
  for (size_t off = 0; off + sizeof(Elf64_Sym) <= symtab.size(); off += sizeof(Elf64_Sym)) {
    Elf64_Sym sym;
    std::memcpy(&sym, symtab.data() + off, sizeof(sym));
    if (sym.st_shndx == SHN_UNDEF || sym.st_name >= strtab.size()) continue;
    const char* s = strtab.data() + sym.st_name;
    const size_t len = strnlen(s, strtab.size() - sym.st_name);
    if (std::string_view(s, len) != name) continue;
    const unsigned type = ELF64_ST_TYPE(sym.st_info), bind = ELF64_ST_BIND(sym.st_info);
    const int rank = (type == STT_FUNC || type == STT_GNU_IFUNC ? 2 : 0) + (bind != STB_LOCAL ? 1 : 0);
    if (rank > best_rank) {
      best = sym;
      best_rank = rank;
    }
  }
  return best;
}

}  // namespace

ElfSymbolOffset elf_symbol_offset(const std::string& path, std::string_view symbol) {
  const ElfReader elf(path);
  if (elf.size() < SELFMAG ||
      std::memcmp(elf.read_block(0, SELFMAG, "ELF magic").data(), ELFMAG, SELFMAG) != 0) {
    elf.fail("not an ELF file (bad magic)");
  }
  const auto eh = elf.read<Elf64_Ehdr>(0, "ELF header");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    elf.fail("only 64-bit little-endian ELF files are supported");
  }
  if (eh.e_shnum != 0 && eh.e_shentsize != sizeof(Elf64_Shdr)) elf.fail("unexpected section header size");
  if (eh.e_phnum != 0 && eh.e_phentsize != sizeof(Elf64_Phdr)) elf.fail("unexpected program header size");

  std::vector<Elf64_Shdr> sections;
  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    sections.push_back(elf.read<Elf64_Shdr>(eh.e_shoff + i * sizeof(Elf64_Shdr), "section header"));
  }
  std::optional<Elf64_Sym> sym;
  bool has_symbols = false;
  for (const uint32_t kind : {uint32_t(SHT_SYMTAB), uint32_t(SHT_DYNSYM)}) {
    for (const Elf64_Shdr& s : sections) {
      if (s.sh_type != kind || sym) continue;
      has_symbols = true;
      sym = find_in_table(elf, sections, s, symbol);
    }
  }
  if (!sym) {
    elf.fail(has_symbols ? "no symbol named '" + std::string(symbol) + "' (neither in .symtab nor in .dynsym)"
                         : "has no symbol table (stripped), so '" + std::string(symbol) +
                               "' cannot be found: give an offset instead (PATH:0xOFFSET)");
  }

  ElfSymbolOffset out;
  out.address = sym->st_value;
  out.size = sym->st_size;
  // The loadable segment holding the address says where those bytes are in the file.
  for (uint64_t i = 0; i < eh.e_phnum; ++i) {
    const auto ph = elf.read<Elf64_Phdr>(eh.e_phoff + i * sizeof(Elf64_Phdr), "program header");
    if (ph.p_type != PT_LOAD || sym->st_value < ph.p_vaddr || sym->st_value - ph.p_vaddr >= ph.p_filesz)
      continue;
    out.file_offset = sym->st_value - ph.p_vaddr + ph.p_offset;
    return out;
  }
  // No segments (a relocatable object): the symbol's section places it.
  if (eh.e_phnum == 0 && sym->st_shndx < sections.size()) {
    const Elf64_Shdr& s = sections[sym->st_shndx];
    if (s.sh_type != SHT_NOBITS && sym->st_value >= s.sh_addr && sym->st_value - s.sh_addr < s.sh_size) {
      out.file_offset = sym->st_value - s.sh_addr + s.sh_offset;
      return out;
    }
  }
  elf.fail("symbol '" + std::string(symbol) + "' (address " + hex(sym->st_value) +
           ") is in no loadable segment of the file");
}

std::string resolve_binary_path(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  auto add_list = [&](const char* list) {
    if (!list) return;
    std::string_view rest = list;
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      if (colon != 0) dirs.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  };
  if (name.find(".so") != std::string::npos) {
    add_list(std::getenv("LD_LIBRARY_PATH"));
    for (const char* d : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
                          "/lib", "/usr/lib", "/usr/local/lib"}) {
      dirs.emplace_back(d);
    }
  } else {
    add_list(std::getenv("PATH"));
  }
  std::error_code ec;
  for (const std::string& d : dirs) {
    const fs::path candidate = fs::path(d) / name;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  return name;  // elf_symbol_offset() then says the file is missing
}

}  // namespace bpfkit::target::linux_kernel
