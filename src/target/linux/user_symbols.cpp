#include "target/linux/user_symbols.h"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "object/elf_file.h"
#include "target/linux/bpf_syscall.h"
#include "target/target.h"

namespace bpfkit::target::linux_kernel {
namespace {

using object::ElfError;

// Where ELF bytes come from: memory (tests, fuzzing, the vDSO) or a file read with
// pread, so a binary with hundreds of megabytes of debug info is never read whole.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  virtual void copy(uint64_t offset, void* out, uint64_t n) const = 0;  // in bounds

  void read(uint64_t offset, void* out, uint64_t n, const char* what) const {
    if (offset > size() || size() - offset < n) {
      throw ElfError(offset, std::string(what) + " (" + std::to_string(n) + " bytes) runs past the end of the " +
                                 std::to_string(size()) + "-byte file");
    }
    copy(offset, out, n);
  }
  template <typename T>
  T read(uint64_t offset, const char* what) const {
    T v;
    read(offset, &v, sizeof(T), what);
    return v;
  }
  std::vector<char> block(uint64_t offset, uint64_t n, const char* what) const {
    if (offset > size() || size() - offset < n) read(offset, nullptr, n, what);  // throws
    std::vector<char> out(n);
    copy(offset, out.data(), n);
    return out;
  }
};

class SpanSource : public ByteSource {
 public:
  explicit SpanSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  void copy(uint64_t offset, void* out, uint64_t n) const override {
    if (n) std::memcpy(out, bytes_.data() + offset, n);
  }

 private:
  std::span<const uint8_t> bytes_;
};

class FileSource : public ByteSource {
 public:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  uint64_t size() const override { return size_; }
  void copy(uint64_t offset, void* out, uint64_t n) const override {
    auto* p = static_cast<char*>(out);
    while (n > 0) {
      const ssize_t got = pread(fd_, p, n, off_t(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw ElfError(offset, got < 0 ? std::strerror(errno) : "file shrank while being read");
      p += got;
      offset += uint64_t(got);
      n -= uint64_t(got);
    }
  }

 private:
  int fd_;
  uint64_t size_;
};

std::string hex_bytes(const char* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[(uint8_t(p[i]) >> 4) & 0xf];
    out += digits[uint8_t(p[i]) & 0xf];
  }
  return out;
}

// Walks ELF notes ("namesz descsz type name desc", each padded to 4 bytes) for the GNU build-id.
std::string build_id_in_notes(const std::vector<char>& notes) {
  size_t pos = 0;
  auto align4 = [](uint64_t v) { return (v + 3) & ~uint64_t(3); };
  while (notes.size() - pos >= sizeof(Elf64_Nhdr)) {
    Elf64_Nhdr nh;
    std::memcpy(&nh, notes.data() + pos, sizeof(nh));
    pos += sizeof(nh);
    const uint64_t name_end = align4(nh.n_namesz), desc_end = name_end + align4(nh.n_descsz);
    if (desc_end > notes.size() - pos) break;
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(notes.data() + pos, "GNU", 4) == 0 &&
        nh.n_descsz > 0) {
      return hex_bytes(notes.data() + pos + name_end, nh.n_descsz);
    }
    pos += desc_end;
  }
  return "";
}

struct ParsedElf {
  std::vector<ElfSymbols::Symbol> symbols;
  std::vector<ElfSymbols::Segment> segments;
  std::string build_id, debuglink;
};

ParsedElf parse_elf(const ByteSource& src) {
  ParsedElf out;
  const auto eh = src.read<Elf64_Ehdr>(0, "ELF header");
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) throw ElfError(0, "not an ELF file (bad magic)");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) throw ElfError(EI_CLASS, "only 64-bit ELF is supported");
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) throw ElfError(EI_DATA, "only little-endian ELF is supported");

  if (eh.e_phnum != 0 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
    for (uint64_t i = 0; i < eh.e_phnum; ++i) {
      const auto ph = src.read<Elf64_Phdr>(eh.e_phoff + i * sizeof(Elf64_Phdr), "program header");
      if (ph.p_type == PT_LOAD) {
        out.segments.push_back({ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz});
      } else if (ph.p_type == PT_NOTE && out.build_id.empty() && ph.p_filesz <= (1u << 20)) {
        out.build_id = build_id_in_notes(src.block(ph.p_offset, ph.p_filesz, "note segment"));
      }
    }
  }
  if (eh.e_shnum == 0 || eh.e_shentsize != sizeof(Elf64_Shdr)) return out;

  std::vector<Elf64_Shdr> sections;
  sections.reserve(eh.e_shnum);
  for (uint64_t i = 0; i < eh.e_shnum; ++i)
    sections.push_back(src.read<Elf64_Shdr>(eh.e_shoff + i * sizeof(Elf64_Shdr), "section header"));
  std::vector<char> section_names;
  if (eh.e_shstrndx < sections.size() && sections[eh.e_shstrndx].sh_type != SHT_NOBITS) {
    const Elf64_Shdr& s = sections[eh.e_shstrndx];
    section_names = src.block(s.sh_offset, s.sh_size, "section name table");
  }
  auto section_name = [&](const Elf64_Shdr& s) -> std::string_view {
    if (s.sh_name >= section_names.size()) return {};
    const char* p = section_names.data() + s.sh_name;
    return {p, strnlen(p, section_names.size() - s.sh_name)};
  };

  for (const Elf64_Shdr& s : sections) {
    if (s.sh_type == SHT_NOBITS) continue;
    if (s.sh_type == SHT_NOTE && out.build_id.empty() && s.sh_size <= (1u << 20)) {
      out.build_id = build_id_in_notes(src.block(s.sh_offset, s.sh_size, "note section"));
    } else if (section_name(s) == ".gnu_debuglink" && s.sh_size <= 4096) {
      const std::vector<char> link = src.block(s.sh_offset, s.sh_size, ".gnu_debuglink");
      out.debuglink.assign(link.data(), strnlen(link.data(), link.size()));
      if (out.debuglink.find('/') != std::string::npos) out.debuglink.clear();  // a file name, never a path
    }
    if (s.sh_type != SHT_SYMTAB && s.sh_type != SHT_DYNSYM) continue;
    if (s.sh_link >= sections.size()) throw ElfError(s.sh_offset, "symbol table links to a missing string table");
    const Elf64_Shdr& strs = sections[s.sh_link];
    if (strs.sh_type == SHT_NOBITS) continue;
    const std::vector<char> strtab = src.block(strs.sh_offset, strs.sh_size, "string table");
    const std::vector<char> symtab = src.block(s.sh_offset, s.sh_size, "symbol table");
    for (size_t off = 0; off + sizeof(Elf64_Sym) <= symtab.size(); off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, symtab.data() + off, sizeof(sym));
      const unsigned type = ELF64_ST_TYPE(sym.st_info), bind = ELF64_ST_BIND(sym.st_info);
      const bool function = type == STT_FUNC || type == STT_GNU_IFUNC;
      // What bpftrace asks bcc for: every named symbol of every type with an address
      // other than 0. The order of aliases after sorting depends on exactly this list.
      if (sym.st_value == 0) continue;
      if (sym.st_name == 0 || sym.st_name >= strtab.size()) continue;
      const char* name = strtab.data() + sym.st_name;
      const size_t len = strnlen(name, strtab.size() - sym.st_name);
      if (len == 0 || len == strtab.size() - sym.st_name) continue;  // empty or unterminated
      out.symbols.push_back({sym.st_value, sym.st_size, std::string(name, len), function, bind != STB_LOCAL});
    }
  }
  return out;
}

std::string read_small_file(const std::string& path, bool* ok) {
  *ok = false;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "";
    if (n == 0) break;
    out.append(buf, size_t(n));
  }
  *ok = true;
  return out;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// Parses a hex number ending at a delimiter (or the end); advances `s` past it.
bool take_hex(std::string_view& s, uint64_t* out) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else break;
    if (i >= 16) return false;
    v = (v << 4) | uint64_t(d);
  }
  if (i == 0) return false;
  s.remove_prefix(i);
  *out = v;
  return true;
}

bool take_field(std::string_view& s, std::string_view* out) {
  const size_t end = s.find(' ');
  if (end == 0 || end == std::string_view::npos) return false;
  *out = s.substr(0, end);
  s.remove_prefix(end);
  return true;
}

bool skip_spaces(std::string_view& s) {
  const size_t n = s.find_first_not_of(' ');
  if (n == 0) return false;
  s.remove_prefix(n == std::string_view::npos ? s.size() : n);
  return true;
}

struct CacheKey {
  dev_t dev;
  ino_t ino;
  off_t size;
  int64_t mtime_sec, mtime_nsec;
  auto operator<=>(const CacheKey&) const = default;
};

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<CacheKey, std::shared_ptr<const ElfSymbols>>& cache() {
  static std::map<CacheKey, std::shared_ptr<const ElfSymbols>> c;
  return c;
}

// Separate debug files where Debian's -dbg packages and GDB put them.
std::vector<std::string> debug_file_candidates(const std::string& path, const std::string& id,
                                               const std::string& debuglink) {
  std::vector<std::string> out;
  if (id.size() > 2) out.push_back("/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug");
  if (!debuglink.empty()) {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    out.push_back(dir + "/" + debuglink);
    out.push_back(dir + "/.debug/" + debuglink);
    out.push_back("/usr/lib/debug" + dir + "/" + debuglink);
  }
  return out;
}

std::optional<ParsedElf> parse_file(const std::string& path, struct stat* st_out, bool must) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto fail = [&](const std::string& why) -> std::optional<ParsedElf> {
    if (must) throw TargetError("ELF file '" + path + "': " + why);
    return std::nullopt;
  };
  if (!fd) return fail(std::strerror(errno));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  if (st_out) *st_out = st;
  try {
    return parse_elf(FileSource(fd.get(), uint64_t(st.st_size)));
  } catch (const ElfError& e) {
    return fail(e.what());
  }
}

}  // namespace

std::string demangle_symbol(std::string_view name) {
  if (!name.starts_with("_Z") && !name.starts_with("___Z")) return std::string(name);
  const std::string raw(name);
  int status = 0;
  char* out = abi::__cxa_demangle(raw.c_str(), nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) {
    std::free(out);
    return raw;
  }
  std::string result(out);
  std::free(out);
  return result;
}

std::optional<MapsEntry> parse_maps_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  MapsEntry e;
  std::string_view s = line;
  if (!take_hex(s, &e.start) || s.empty() || s[0] != '-') return std::nullopt;
  s.remove_prefix(1);
  if (!take_hex(s, &e.end) || e.end < e.start || !skip_spaces(s)) return std::nullopt;
  if (!take_field(s, &e.perms) || e.perms.size() != 4 || !skip_spaces(s)) return std::nullopt;
  if (!take_hex(s, &e.offset) || !skip_spaces(s)) return std::nullopt;
  if (!take_field(s, &e.device) || e.device.find(':') == std::string_view::npos) return std::nullopt;
  if (!skip_spaces(s)) return std::nullopt;
  // The inode is decimal.
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (e.inode > (~uint64_t(0) - 9) / 10) return std::nullopt;
    e.inode = e.inode * 10 + uint64_t(s[i] - '0');
  }
  if (i == 0) return std::nullopt;
  s.remove_prefix(i);
  if (!s.empty() && s[0] != ' ') return std::nullopt;
  const size_t path = s.find_first_not_of(' ');
  if (path != std::string_view::npos) e.path = s.substr(path);
  return e;
}

std::optional<PerfMapEntry> parse_perf_map_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  PerfMapEntry e;
  std::string_view s = line;
  if (s.substr(0, 2) == "0x") s.remove_prefix(2);
  if (!take_hex(s, &e.start) || !skip_spaces(s)) return std::nullopt;
  if (s.substr(0, 2) == "0x") s.remove_prefix(2);
  if (!take_hex(s, &e.size) || !skip_spaces(s) || s.empty()) return std::nullopt;
  e.name = s;
  return e;
}

ElfSymbols ElfSymbols::from(std::vector<Symbol> symbols, std::vector<Segment> segments, std::string build_id,
                            std::string debuglink) {
  ElfSymbols out;
  out.symbols_ = std::move(symbols);
  // std::sort, not stable_sort, and by start alone: bcc's sort, so that aliases end up
  // in the same order as in bpftrace (libc's malloc prints as __GI___libc_malloc there).
  std::sort(out.symbols_.begin(), out.symbols_.end(),
            [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  out.segments_ = std::move(segments);
  out.build_id_ = std::move(build_id);
  out.debuglink_ = std::move(debuglink);
  return out;
}

ElfSymbols ElfSymbols::parse(std::span<const uint8_t> image) {
  ParsedElf p = parse_elf(SpanSource(image));
  return from(std::move(p.symbols), std::move(p.segments), std::move(p.build_id), std::move(p.debuglink));
}

std::optional<std::pair<const ElfSymbols::Symbol*, uint64_t>> ElfSymbols::find(uint64_t vaddr) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), vaddr,
                             [](uint64_t a, const Symbol& s) { return a < s.start; });
  if (it == symbols_.begin()) return std::nullopt;
  size_t i = size_t(it - symbols_.begin()) - 1;
  const uint64_t limit = symbols_[i].start;
  for (;; --i) {
    const Symbol& s = symbols_[i];
    const uint64_t end = s.start + s.size < s.start ? ~uint64_t(0) : s.start + s.size;
    if (vaddr < end) return std::pair{&s, vaddr - s.start};
    if (limit > end || i == 0) break;  // ends before the first one tried: cannot enclose it
  }
  return std::nullopt;
}

std::optional<uint64_t> ElfSymbols::address_of(std::string_view name) const {
  // Functions before other symbols, globals before locals; the demangled spelling
  // only when no raw name matches.
  for (const bool demangled : {false, true}) {
    const Symbol* best = nullptr;
    auto rank = [](const Symbol& s) { return (s.function ? 2 : 0) + (s.global ? 1 : 0); };
    for (const Symbol& s : symbols_) {
      if (best && rank(*best) == 3) break;
      if (best && rank(s) <= rank(*best)) continue;
      if (demangled ? s.name.starts_with("_Z") && demangle_symbol(s.name) == name : s.name == name) best = &s;
    }
    if (best) return best->start;
  }
  return std::nullopt;
}

std::optional<uint64_t> ElfSymbols::vaddr_of_file_offset(uint64_t offset) const {
  for (const Segment& s : segments_) {
    if (offset >= s.file_offset && offset - s.file_offset < s.file_size) return s.vaddr + (offset - s.file_offset);
  }
  return std::nullopt;
}

std::optional<uint64_t> ElfSymbols::file_offset_of_vaddr(uint64_t vaddr) const {
  for (const Segment& s : segments_) {
    if (vaddr >= s.vaddr && vaddr - s.vaddr < s.file_size) return s.file_offset + (vaddr - s.vaddr);
  }
  return std::nullopt;
}

std::shared_ptr<const ElfSymbols> ElfSymbols::load(const std::string& path) {
  struct stat st {};
  {
    // Fast path: a file seen before (same inode, size and mtime) is not parsed again.
    if (stat(path.c_str(), &st) == 0) {
      const CacheKey key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
      std::lock_guard<std::mutex> lock(cache_mutex());
      if (auto it = cache().find(key); it != cache().end()) return it->second;
    }
  }
  std::optional<ParsedElf> main = parse_file(path, &st, /*must=*/true);
  std::vector<ElfSymbols::Symbol> symbols;
  for (const std::string& candidate : debug_file_candidates(path, main->build_id, main->debuglink)) {
    struct stat dst {};
    std::optional<ParsedElf> debug = parse_file(candidate, &dst, /*must=*/false);
    if (!debug || (dst.st_dev == st.st_dev && dst.st_ino == st.st_ino)) continue;
    // A debug file of another build (a stale -dbg package) would name the wrong code.
    if (!main->build_id.empty() && !debug->build_id.empty() && debug->build_id != main->build_id) continue;
    symbols = std::move(debug->symbols);  // the debug file's symbols come first, as bcc lists them
    break;
  }
  symbols.insert(symbols.end(), std::make_move_iterator(main->symbols.begin()),
                 std::make_move_iterator(main->symbols.end()));
  ElfSymbols table = ElfSymbols::from(std::move(symbols), std::move(main->segments), std::move(main->build_id),
                                      std::move(main->debuglink));
  auto shared = std::make_shared<const ElfSymbols>(std::move(table));
  const CacheKey key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  std::lock_guard<std::mutex> lock(cache_mutex());
  return cache().emplace(key, shared).first->second;
}

namespace {

// The vDSO is the same image in every 64-bit process: this process's copy names theirs.
std::shared_ptr<const ElfSymbols> own_vdso() {
  static std::once_flag once;
  static std::shared_ptr<const ElfSymbols> vdso;
  std::call_once(once, [] {
    bool ok = false;
    const std::string maps = read_small_file("/proc/self/maps", &ok);
    for_each_line(maps, [&](std::string_view line) {
      const auto e = parse_maps_line(line);
      if (!e || e->path != "[vdso]" || vdso) return;
      try {
        vdso = std::make_shared<const ElfSymbols>(ElfSymbols::parse(
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(uintptr_t(e->start)), e->end - e->start)));
      } catch (const ElfError&) {
      }
    });
  });
  return vdso;
}

std::shared_ptr<const ElfSymbols> load_perf_map(const std::string& path) {
  bool ok = false;
  const std::string text = read_small_file(path, &ok);
  if (!ok) return nullptr;
  std::vector<ElfSymbols::Symbol> symbols;
  for_each_line(text, [&](std::string_view line) {
    if (const auto e = parse_perf_map_line(line)) symbols.push_back({e->start, e->size, std::string(e->name)});
  });
  // Perf map addresses are absolute: the identity segment maps them to themselves.
  return std::make_shared<const ElfSymbols>(
      ElfSymbols::from(std::move(symbols), {{0, 0, ~uint64_t(0), ~uint64_t(0)}}));
}

}  // namespace

UserSymbols UserSymbols::from_modules(std::vector<Module> modules) {
  UserSymbols out;
  out.modules_ = std::move(modules);
  std::stable_sort(out.modules_.begin(), out.modules_.end(),
                   [](const Module& a, const Module& b) { return a.start < b.start; });
  return out;
}

UserSymbols UserSymbols::for_process(int pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  bool ok = false;
  const std::string maps = read_small_file(proc + "/maps", &ok);
  UserSymbols out;
  out.pid_ = pid;
  if (!ok) return out;  // exited (or not ours to read): addresses stay unresolved
  const bool self = pid == getpid();
  const std::string perf_map = "/tmp/perf-" + std::to_string(pid) + ".map";
  struct stat st {};
  const bool has_perf_map = stat(perf_map.c_str(), &st) == 0;
  std::vector<Module> modules;
  for_each_line(maps, [&](std::string_view line) {
    const auto e = parse_maps_line(line);
    // Only code is symbolized, as bpftrace does: usym() of a data address prints hex.
    if (!e || !e->executable()) return;
    Module m;
    m.start = e->start;
    m.end = e->end;
    m.file_offset = e->offset;
    if (!e->path.empty() && e->path.front() == '/') {
      m.path = std::string(e->path);
      constexpr std::string_view deleted = " (deleted)";
      char range[64];
      std::snprintf(range, sizeof(range), "/map_files/%llx-%llx", static_cast<unsigned long long>(e->start),
                    static_cast<unsigned long long>(e->end));
      if (e->path.ends_with(deleted)) {
        m.path.resize(m.path.size() - deleted.size());
        m.open_path = proc + range;  // the unlinked file, still reachable while mapped
      } else if (!self) {
        m.open_path = proc + "/root" + m.path;  // the process's mount namespace
      }
    } else if (e->path == "[vdso]") {
      m.kind = Module::Kind::vdso;
      m.path = "[vdso]";
    } else if (has_perf_map && (e->path.empty() || e->path.starts_with("[anon"))) {
      m.kind = Module::Kind::perf_map;
      m.path = perf_map;
      m.file_offset = e->start;  // identity: the file offset is the address
    } else {
      return;
    }
    modules.push_back(std::move(m));
  });
  out.modules_ = std::move(from_modules(std::move(modules)).modules_);
  return out;
}

UserSymbols UserSymbols::for_binary(const std::string& path) {
  std::shared_ptr<const ElfSymbols> table = ElfSymbols::load(path);
  std::vector<Module> modules;
  for (const ElfSymbols::Segment& s : table->segments()) {
    Module m;
    m.start = s.vaddr;
    m.end = s.vaddr + std::max(s.mem_size, s.file_size);
    m.file_offset = s.file_offset;
    m.path = path;
    m.table = table;
    m.load_tried = true;
    modules.push_back(std::move(m));
  }
  return from_modules(std::move(modules));
}

const ElfSymbols* UserSymbols::table_of(const Module& m) const {
  if (!m.load_tried) {
    m.load_tried = true;
    // Modules of one file share its table: look for a sibling that loaded it.
    for (const Module& other : modules_) {
      if (&other != &m && other.table && other.kind == m.kind && other.path == m.path) {
        m.table = other.table;
        return m.table.get();
      }
    }
    switch (m.kind) {
      case Module::Kind::elf:
        try {
          m.table = ElfSymbols::load(m.open_path.empty() ? m.path : m.open_path);
        } catch (const std::exception&) {
          m.table = nullptr;  // unreadable or not ELF: its addresses print as hex
        }
        break;
      case Module::Kind::vdso:
        m.table = own_vdso();
        break;
      case Module::Kind::perf_map:
        m.table = load_perf_map(m.open_path.empty() ? m.path : m.open_path);
        break;
    }
  }
  return m.table.get();
}

std::optional<SymbolHit> UserSymbols::resolve(uint64_t addr) const {
  auto it = std::upper_bound(modules_.begin(), modules_.end(), addr,
                             [](uint64_t a, const Module& m) { return a < m.start; });
  if (it == modules_.begin()) return std::nullopt;
  const Module& m = *(it - 1);
  if (addr >= m.end) return std::nullopt;
  const ElfSymbols* table = table_of(m);
  if (!table) return std::nullopt;
  const auto vaddr = table->vaddr_of_file_offset(addr - m.start + m.file_offset);
  if (!vaddr) return std::nullopt;
  const auto hit = table->find(*vaddr);
  if (!hit) return std::nullopt;
  return SymbolHit{demangle_symbol(hit->first->name), hit->second, m.path};
}

std::optional<uint64_t> UserSymbols::address_of(std::string_view name) const {
  // Mapping order is address order, which puts the main executable before the
  // libraries it loads: its own symbol shadows a library's, as in the dynamic linker.
  std::vector<std::string_view> seen;
  for (const Module& m : modules_) {
    if (std::find(seen.begin(), seen.end(), m.path) != seen.end()) continue;
    seen.push_back(m.path);
    const ElfSymbols* table = table_of(m);
    if (!table) continue;
    const auto vaddr = table->address_of(name);
    if (!vaddr) continue;
    // The load bias, from any mapping of the file: it also places .bss variables,
    // which live past the file's bytes in anonymous memory.
    for (const Module& other : modules_) {
      if (other.path != m.path) continue;
      if (const auto mapped = table->vaddr_of_file_offset(other.file_offset)) return *vaddr + (other.start - *mapped);
    }
  }
  return std::nullopt;
}

}  // namespace bpfkit::target::linux_kernel
