#include "lang/probe_list.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "object/btf.h"
#include "target/linux/attach_btf.h"
#include "target/linux/elf_symbol_offset.h"
#include "target/linux/trace_attach.h"
#include "target/linux/tracefs.h"

namespace bpfkit::lang {
namespace {

namespace lk = target::linux_kernel;

std::string read_text_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot read " + path + ": " + std::strerror(errno));
  struct stat st {};
  std::string out;
  // sysfs and tracefs report sizes that may be 0 or a page: read until EOF either way.
  out.resize(fstat(fd, &st) == 0 && st.st_size > 0 ? size_t(st.st_size) + 1 : 65536);
  size_t used = 0;
  for (;;) {
    if (used == out.size()) out.resize(out.size() * 2);
    const ssize_t n = read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      throw Error("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    used += size_t(n);
  }
  close(fd);
  out.resize(used);
  return out;
}

bool is_elf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[SELFMAG] = {};
  return in.read(magic, SELFMAG) && std::memcmp(magic, ELFMAG, SELFMAG) == 0;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// available_filter_functions as a sorted set of names ("name [module]" -> "name"); nullopt
// when the file cannot be read (locked down, or no ftrace).
std::optional<std::vector<std::string>> filter_functions() {
  std::ifstream in(lk::tracefs_path() + "/available_filter_functions");
  if (!in) return std::nullopt;
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const size_t end = line.find_first_of(" \t");
    if (end != 0) out.push_back(line.substr(0, end));
  }
  if (in.bad()) return std::nullopt;
  sort_unique(out);
  return out;
}

// Reads the parts of an ELF file it needs with pread: binaries with debug info can be large.
class ElfReader {
 public:
  explicit ElfReader(std::string path) : path_(std::move(path)) {
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(std::strerror(errno));
    struct stat st {};
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) fail("not a regular file");
    size_ = uint64_t(st.st_size);
    const auto eh = read<Elf64_Ehdr>(0, "the ELF header");
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) fail("not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
      fail("only 64-bit little-endian ELF files are supported");
    }
    if (eh.e_shnum != 0 && eh.e_shentsize != sizeof(Elf64_Shdr)) fail("unexpected section header size");
    for (uint64_t i = 0; i < eh.e_shnum; ++i) {
      sections_.push_back(read<Elf64_Shdr>(eh.e_shoff + i * sizeof(Elf64_Shdr), "a section header"));
    }
    if (eh.e_shstrndx < sections_.size()) {
      const Elf64_Shdr& s = sections_[eh.e_shstrndx];
      if (s.sh_type != SHT_NOBITS) shstrtab_ = block(s.sh_offset, s.sh_size, "the section name table");
    }
  }
  ElfReader(const ElfReader&) = delete;
  ElfReader& operator=(const ElfReader&) = delete;
  ~ElfReader() {
    if (fd_ >= 0) close(fd_);
  }

  [[noreturn]] void fail(const std::string& why) const { throw Error("ELF file '" + path_ + "': " + why); }

  template <typename T>
  T read(uint64_t offset, const char* what) const {
    T v;
    const std::string b = block(offset, sizeof(T), what);
    std::memcpy(&v, b.data(), sizeof(T));
    return v;
  }

  std::string block(uint64_t offset, uint64_t size, const char* what) const {
    if (offset > size_ || size_ - offset < size) fail(std::string(what) + " runs past the end of the file");
    std::string out(size, '\0');
    uint64_t done = 0;
    while (done < size) {
      const ssize_t n = pread(fd_, out.data() + done, size - done, off_t(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(std::string("reading ") + what + " failed");
      done += uint64_t(n);
    }
    return out;
  }

  const std::vector<Elf64_Shdr>& sections() const { return sections_; }
  std::string_view section_name(const Elf64_Shdr& s) const {
    if (s.sh_name >= shstrtab_.size()) return {};
    return std::string_view(shstrtab_.c_str() + s.sh_name);
  }
  const Elf64_Shdr* find(std::string_view name) const {
    for (const Elf64_Shdr& s : sections_) {
      if (section_name(s) == name && s.sh_type != SHT_NOBITS) return &s;
    }
    return nullptr;
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::vector<Elf64_Shdr> sections_;
  std::string shstrtab_;
};

void add_function_symbols(const ElfReader& elf, std::vector<std::string>& out) {
  const auto& sections = elf.sections();
  for (const Elf64_Shdr& table : sections) {
    if (table.sh_type != SHT_SYMTAB && table.sh_type != SHT_DYNSYM) continue;
    if (table.sh_link >= sections.size() || sections[table.sh_link].sh_type == SHT_NOBITS) continue;
    const Elf64_Shdr& strs = sections[table.sh_link];
    const std::string strtab = elf.block(strs.sh_offset, strs.sh_size, "a string table");
    const std::string symtab = elf.block(table.sh_offset, table.sh_size, "a symbol table");
    for (size_t off = 0; off + sizeof(Elf64_Sym) <= symtab.size(); off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, symtab.data() + off, sizeof(sym));
      const unsigned type = ELF64_ST_TYPE(sym.st_info);
      if (sym.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC)) continue;
      if (sym.st_name == 0 || sym.st_name >= strtab.size()) continue;
      const char* s = strtab.data() + sym.st_name;
      const std::string_view name(s, strnlen(s, strtab.size() - sym.st_name));
      // "f.part.0" is a piece the compiler split off f, not an entry point; bpftrace skips them too.
      if (name.find(".part.") != std::string_view::npos) continue;
      out.emplace_back(name);
    }
  }
}

// The separate debug file a distribution ships for `elf` (/usr/lib/debug/.build-id/ab/cdef.debug).
std::string debug_file_of(const ElfReader& elf) {
  const Elf64_Shdr* note = elf.find(".note.gnu.build-id");
  if (!note || note->sh_size < sizeof(Elf64_Nhdr) || note->sh_size > 4096) return "";
  const std::string data = elf.block(note->sh_offset, note->sh_size, "the build id note");
  Elf64_Nhdr nh;
  std::memcpy(&nh, data.data(), sizeof(nh));
  const size_t desc = sizeof(nh) + ((nh.n_namesz + 3) & ~3u);
  if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz < 2 || desc + nh.n_descsz > data.size()) return "";
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < nh.n_descsz; ++i) {
    const auto b = static_cast<unsigned char>(data[desc + i]);
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  const std::string path = "/usr/lib/debug/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) ? path : "";
}

// Tracepoint format file of "category:name", raw.
std::string format_text(const std::string& category, const std::string& name) {
  return read_text_file(lk::tracefs_path() + "/events/" + category + "/" + name + "/format");
}

// "TYPE NAME" for a BTF parameter, as bpftrace prints it ("struct file * file").
std::string param_line(const object::Btf& btf, uint32_t type, std::string_view name) {
  std::string t = btf.type_name(type);
  return name.empty() ? t : t + " " + std::string(name);
}

std::optional<uint32_t> raw_tracepoint_proto(const object::Btf& btf, const std::string& name) {
  const auto id = btf.find_by_name("btf_trace_" + name, object::BtfKind::Typedef);
  if (!id) return std::nullopt;
  const object::BtfType& ptr = btf.type(btf.resolve(*id));
  if (ptr.kind != object::BtfKind::Ptr) return std::nullopt;
  const uint32_t proto = btf.resolve(ptr.type);
  if (btf.type(proto).kind != object::BtfKind::FuncProto) return std::nullopt;
  return proto;
}

// Names of vmlinux BTF types of one kind, straight from the blob: a full parse of
// vmlinux BTF takes most of a second, a walk over the type records a few milliseconds.
// Layout per <linux/btf.h>. nullopt when the blob is missing or does not walk cleanly.
std::optional<std::vector<std::string>> walk_vmlinux_btf_names(uint32_t wanted_kind, std::string_view prefix) {
  std::string blob;
  try {
    blob = read_text_file("/sys/kernel/btf/vmlinux");
  } catch (const Error&) {
    return std::nullopt;
  }
  struct btf_header hdr;
  if (blob.size() < sizeof(hdr)) return std::nullopt;
  std::memcpy(&hdr, blob.data(), sizeof(hdr));
  const uint64_t types = uint64_t(hdr.hdr_len) + hdr.type_off, strs = uint64_t(hdr.hdr_len) + hdr.str_off;
  if (hdr.magic != BTF_MAGIC || types + hdr.type_len > blob.size() || strs + hdr.str_len > blob.size()) {
    return std::nullopt;
  }
  const std::string_view strings(blob.data() + strs, hdr.str_len);
  std::vector<std::string> out;
  uint64_t off = types;
  const uint64_t end = types + hdr.type_len;
  while (off < end) {
    struct btf_type t;
    if (end - off < sizeof(t)) return std::nullopt;
    std::memcpy(&t, blob.data() + off, sizeof(t));
    off += sizeof(t);
    const uint32_t kind = BTF_INFO_KIND(t.info), vlen = BTF_INFO_VLEN(t.info);
    uint64_t extra = 0;
    switch (kind) {
      case BTF_KIND_INT:
      case BTF_KIND_VAR:
      case BTF_KIND_DECL_TAG:
        extra = 4;
        break;
      case BTF_KIND_ARRAY:
        extra = sizeof(struct btf_array);
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        extra = uint64_t(vlen) * sizeof(struct btf_member);
        break;
      case BTF_KIND_ENUM:
        extra = uint64_t(vlen) * sizeof(struct btf_enum);
        break;
      case BTF_KIND_FUNC_PROTO:
        extra = uint64_t(vlen) * sizeof(struct btf_param);
        break;
      case BTF_KIND_DATASEC:
        extra = uint64_t(vlen) * sizeof(struct btf_var_secinfo);
        break;
      case BTF_KIND_ENUM64:
        extra = uint64_t(vlen) * sizeof(struct btf_enum64);
        break;
      case BTF_KIND_PTR:
      case BTF_KIND_FWD:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_FUNC:
      case BTF_KIND_FLOAT:
      case BTF_KIND_TYPE_TAG:
        break;
      default:
        return std::nullopt;  // a kind this walk does not know the size of
    }
    if (end - off < extra) return std::nullopt;
    off += extra;
    if (kind != wanted_kind || t.name_off == 0) continue;
    if (t.name_off >= strings.size()) return std::nullopt;
    const std::string_view name(strings.data() + t.name_off,
                                strnlen(strings.data() + t.name_off, strings.size() - t.name_off));
    if (name.starts_with(prefix)) out.emplace_back(name.substr(prefix.size()));
  }
  sort_unique(out);
  return out;
}

// vmlinux BTF does not change while the kernel runs: each list is walked once per process.
std::optional<std::vector<std::string>> vmlinux_btf_names(uint32_t wanted_kind, std::string_view prefix) {
  static std::mutex mutex;
  static std::map<std::pair<uint32_t, std::string>, std::optional<std::vector<std::string>>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_pair(wanted_kind, std::string(prefix));
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, walk_vmlinux_btf_names(wanted_kind, prefix)).first;
  return it->second;
}

// Kinds a wildcard provider ('*:...', or a pattern without ':') enumerates: those that need
// no binary, and one of each entry/return pair, as bpftrace does.
constexpr ProbeKind kEnumerable[] = {ProbeKind::Hardware,      ProbeKind::Fentry,   ProbeKind::Kprobe,
                                     ProbeKind::RawTracepoint, ProbeKind::Software, ProbeKind::Tracepoint};

bool has_star(std::string_view s) { return s.find('*') != std::string_view::npos; }

}  // namespace

std::vector<std::string> list_tracepoints() {
  const std::string root = lk::tracefs_path();
  std::vector<std::string> out;
  std::ifstream in(root + "/available_events");
  if (in) {
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(':') != std::string::npos) out.push_back(line);
    }
  } else {
    // Without available_events, every events/<category>/<name> directory with an id file.
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const auto& cat : fs::directory_iterator(root + "/events", ec)) {
      if (!cat.is_directory(ec)) continue;
      for (const auto& ev : fs::directory_iterator(cat.path(), ec)) {
        if (fs::exists(ev.path() / "id", ec)) {
          out.push_back(cat.path().filename().string() + ":" + ev.path().filename().string());
        }
      }
    }
    if (ec && out.empty()) throw Error("cannot list tracepoints under " + root + "/events: " + ec.message());
  }
  sort_unique(out);
  return out;
}

std::vector<std::string> list_raw_tracepoints() {
  if (auto fast = vmlinux_btf_names(BTF_KIND_TYPEDEF, "btf_trace_")) return std::move(*fast);
  std::vector<std::string> out;
  std::shared_ptr<const object::Btf> btf;
  try {
    btf = lk::vmlinux_btf();
  } catch (const Error&) {
    for (const std::string& tp : list_tracepoints()) out.push_back(tp.substr(tp.find(':') + 1));
    sort_unique(out);
    return out;
  }
  constexpr std::string_view prefix = "btf_trace_";
  for (uint32_t id = 1; id < btf->type_count(); ++id) {
    const object::BtfType& t = btf->type(id);
    if (t.kind == object::BtfKind::Typedef && t.name.starts_with(prefix)) {
      out.emplace_back(t.name.substr(prefix.size()));
    }
  }
  sort_unique(out);
  return out;
}

std::vector<std::string> list_kernel_functions() {
  std::vector<std::string> out;
  if (auto fast = vmlinux_btf_names(BTF_KIND_FUNC, "")) {
    out = std::move(*fast);
  } else {
    const auto btf = lk::vmlinux_btf();  // says why there is no BTF
    for (uint32_t id = 1; id < btf->type_count(); ++id) {
      const object::BtfType& t = btf->type(id);
      if (t.kind == object::BtfKind::Func && !t.name.empty()) out.emplace_back(t.name);
    }
    sort_unique(out);
  }
  if (const auto traceable = filter_functions()) {
    std::vector<std::string> both;
    std::set_intersection(out.begin(), out.end(), traceable->begin(), traceable->end(),
                          std::back_inserter(both));
    return both;
  }
  return out;
}

std::vector<std::string> list_kprobe_functions() {
  if (!lk::kernel_has_kprobes()) return {};
  return filter_functions().value_or(std::vector<std::string>{});
}

std::vector<std::string> list_elf_functions(const std::string& path) {
  std::vector<std::string> out;
  const ElfReader elf(path);
  add_function_symbols(elf, out);
  const std::string debug = debug_file_of(elf);
  if (!debug.empty()) {
    try {
      add_function_symbols(ElfReader(debug), out);
    } catch (const Error&) {
      // A broken debug file only loses the extra symbols.
    }
  }
  sort_unique(out);
  return out;
}

std::vector<std::pair<std::string, std::string>> list_usdt_probes(const std::string& path) {
  const ElfReader elf(path);
  std::vector<std::pair<std::string, std::string>> out;
  const Elf64_Shdr* notes = elf.find(".note.stapsdt");
  if (!notes) return out;
  const std::string data = elf.block(notes->sh_offset, notes->sh_size, "the .note.stapsdt section");
  size_t off = 0;
  while (off + sizeof(Elf64_Nhdr) <= data.size()) {
    Elf64_Nhdr nh;
    std::memcpy(&nh, data.data() + off, sizeof(nh));
    const size_t name_at = off + sizeof(nh);
    const size_t desc_at = name_at + ((uint64_t(nh.n_namesz) + 3) & ~uint64_t(3));
    const size_t next = desc_at + ((uint64_t(nh.n_descsz) + 3) & ~uint64_t(3));
    if (desc_at > data.size() || next > data.size() || next <= off) break;
    // desc: pc, base, semaphore (8 bytes each), then provider, name and args as C strings.
    if (nh.n_type == 3 && nh.n_namesz == 8 && data.compare(name_at, 7, "stapsdt") == 0 && nh.n_descsz > 24) {
      const std::string_view desc(data.data() + desc_at + 24, nh.n_descsz - 24);
      const size_t p_end = desc.find('\0');
      if (p_end != std::string_view::npos) {
        const size_t n_end = desc.find('\0', p_end + 1);
        if (n_end != std::string_view::npos) {
          out.emplace_back(std::string(desc.substr(0, p_end)),
                           std::string(desc.substr(p_end + 1, n_end - p_end - 1)));
        }
      }
    }
    off = next;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string resolve_probe_binary(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  std::string found = lk::resolve_binary_path(name);
  if (found != name) return found;
  // A library named without its file name's decoration: "c" or "libc" -> libc.so.N (the
  // soname, as the loader cache lists it), else libc.so when that is an ELF file and not a
  // linker script.
  namespace fs = std::filesystem;
  const std::string base = name.starts_with("lib") ? name : "lib" + name;
  std::error_code ec;
  for (const char* dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
                          "/lib", "/usr/lib", "/usr/local/lib"}) {
    std::vector<std::string> candidates;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string file = e.path().filename().string();
      if (file.starts_with(base + ".so.") && e.is_regular_file(ec)) candidates.push_back(e.path().string());
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.push_back((fs::path(dir) / (base + ".so")).string());
    for (const std::string& c : candidates) {
      if (fs::is_regular_file(c, ec) && is_elf_file(c)) return c;
    }
  }
  return name;
}

std::vector<std::string> probe_arguments(const ProbeSpec& spec) {
  std::vector<std::string> out;
  switch (spec.kind) {
    case ProbeKind::Tracepoint: {
      // The declarations as the format file writes them, after the common_* block.
      const std::string text = format_text(spec.target, spec.function);
      bool in_format = false, past_common = false;
      for (std::string_view line : lines_of(text)) {
        if (line.starts_with("format:")) {
          in_format = true;
          continue;
        }
        if (!in_format) continue;
        if (line.empty() || line.find_first_not_of(" \t") == std::string_view::npos) {
          past_common = true;
          continue;
        }
        if (line.starts_with("print fmt:")) break;
        const size_t field = line.find("field:");
        if (field == std::string_view::npos || !past_common) continue;
        const size_t begin = field + 6;
        const size_t semi = line.find(';', begin);
        out.emplace_back(line.substr(begin, semi == std::string_view::npos ? semi : semi - begin));
      }
      break;
    }
    case ProbeKind::Fentry:
    case ProbeKind::Fexit: {
      const auto btf = lk::vmlinux_btf();
      const auto id = btf->find_by_name(spec.function, object::BtfKind::Func);
      if (!id) break;
      const object::BtfType& proto = btf->type(btf->type(*id).type);
      const auto* fp = proto.as<object::BtfFuncProto>();
      if (!fp) break;
      for (const object::BtfParam& p : fp->params) {
        if (p.type == 0 && p.name.empty()) continue;  // "..."
        out.push_back(param_line(*btf, p.type, p.name));
      }
      if (proto.type != 0) out.push_back(param_line(*btf, proto.type, "retval"));
      break;
    }
    case ProbeKind::RawTracepoint: {
      std::shared_ptr<const object::Btf> btf;
      try {
        btf = lk::vmlinux_btf();
      } catch (const Error&) {
        break;
      }
      const auto proto = raw_tracepoint_proto(*btf, spec.function);
      if (!proto) break;
      const auto* fp = btf->type(*proto).as<object::BtfFuncProto>();
      // The typedef's prototype has no parameter names; the kernel's __bpf_trace_NAME wrapper
      // (same parameters) has them when the event is not one of a class's DEFINE_EVENTs.
      const object::BtfFuncProto* named = nullptr;
      if (const auto wrapper = btf->find_by_name("__bpf_trace_" + spec.function, object::BtfKind::Func)) {
        named = btf->type(btf->type(*wrapper).type).as<object::BtfFuncProto>();
        if (named && named->params.size() != fp->params.size()) named = nullptr;
      }
      // The first parameter is the tracepoint's private data pointer, not an argument.
      for (size_t i = 1; fp && i < fp->params.size(); ++i) {
        const std::string_view pname = named ? named->params[i].name : std::string_view();
        out.push_back(param_line(*btf, fp->params[i].type,
                                 pname.empty() ? "arg" + std::to_string(i - 1) : std::string(pname)));
      }
      break;
    }
    default:
      break;
  }
  return out;
}

std::vector<ProbeSpec> expand_probe_spec(const ProbeSpec& spec) {
  std::vector<ProbeSpec> out;
  auto matches = [](const std::string& pattern, std::string_view name) {
    return has_star(pattern) ? wildcard_match(pattern, name) : pattern == name;
  };
  switch (spec.kind) {
    case ProbeKind::Tracepoint:
      for (const std::string& tp : list_tracepoints()) {
        const size_t colon = tp.find(':');
        std::string_view category = std::string_view(tp).substr(0, colon),
                         name = std::string_view(tp).substr(colon + 1);
        if (!matches(spec.target, category) || !matches(spec.function, name)) continue;
        ProbeSpec p = spec;
        p.target = std::string(category);
        p.function = std::string(name);
        out.push_back(std::move(p));
      }
      break;
    case ProbeKind::RawTracepoint:
      if (!spec.target.empty() && spec.target != "vmlinux" && !has_star(spec.target)) break;
      for (const std::string& name : list_raw_tracepoints()) {
        if (!matches(spec.function, name)) continue;
        ProbeSpec p = spec;
        p.target.clear();
        p.function = name;
        out.push_back(std::move(p));
      }
      break;
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe: {
      if (!lk::kernel_has_kprobes()) throw ProbeSpecError(0, lk::no_kprobes_message(spec.function, false));
      for (const std::string& name : list_kprobe_functions()) {
        if (!matches(spec.function, name)) continue;
        ProbeSpec p = spec;
        p.function = name;
        out.push_back(std::move(p));
      }
      // Without a readable function list a named function is taken on trust; attaching says more.
      if (out.empty() && !spec.has_wildcard() && !filter_functions()) out.push_back(spec);
      break;
    }
    case ProbeKind::Fentry:
    case ProbeKind::Fexit:
      if (!spec.target.empty() && !matches(spec.target, "vmlinux")) break;  // only vmlinux BTF is read
      for (const std::string& name : list_kernel_functions()) {
        if (!matches(spec.function, name)) continue;
        ProbeSpec p = spec;
        p.target = "vmlinux";
        p.function = name;
        out.push_back(std::move(p));
      }
      break;
    case ProbeKind::Uprobe:
    case ProbeKind::Uretprobe: {
      ProbeSpec base = spec;
      base.target = resolve_probe_binary(spec.target);
      if (spec.function.empty()) {
        out.push_back(base);  // an address: nothing to look up
        break;
      }
      for (const std::string& name : list_elf_functions(base.target)) {
        if (spec.literal ? spec.function != name : !matches(spec.function, name)) continue;
        ProbeSpec p = base;
        p.function = name;
        out.push_back(std::move(p));
      }
      break;
    }
    case ProbeKind::Usdt: {
      ProbeSpec base = spec;
      base.target = resolve_probe_binary(spec.target);
      for (const auto& [provider, name] : list_usdt_probes(base.target)) {
        if (!spec.usdt_provider.empty() && !matches(spec.usdt_provider, provider)) continue;
        if (!matches(spec.function, name)) continue;
        ProbeSpec p = base;
        p.usdt_provider = provider;
        p.function = name;
        out.push_back(std::move(p));
      }
      break;
    }
    case ProbeKind::Software:
    case ProbeKind::Hardware: {
      if (!spec.has_wildcard()) {
        if (find_perf_event(spec.kind, spec.function)) out.push_back(spec);
        break;
      }
      for (const PerfEventInfo& e :
           spec.kind == ProbeKind::Software ? software_events() : hardware_events()) {
        if (!wildcard_match(spec.function, e.name)) continue;
        ProbeSpec p = spec;
        p.function = e.name;
        if (p.period == 0) p.period = e.default_period;
        out.push_back(std::move(p));
      }
      break;
    }
    default:
      out.push_back(spec);
      break;
  }
  std::sort(out.begin(), out.end(),
            [](const ProbeSpec& a, const ProbeSpec& b) { return a.canonical() < b.canonical(); });
  return out;
}

std::string list_probes(std::string_view pattern, bool verbose) {
  while (!pattern.empty() && std::isspace(static_cast<unsigned char>(pattern.front())))
    pattern.remove_prefix(1);
  while (!pattern.empty() && std::isspace(static_cast<unsigned char>(pattern.back())))
    pattern.remove_suffix(1);
  if (pattern.empty()) pattern = "*";

  const size_t colon = pattern.find(':');
  const std::string_view provider = pattern.substr(0, colon);
  std::vector<ProbeKind> kinds;
  // Without ':' a known provider lists all of its probes; anything else matches whole lines.
  std::string rest = colon == std::string_view::npos ? "*" : std::string(pattern.substr(colon + 1));
  bool whole_line = false;
  if (const auto kind = probe_kind_from_name(provider)) {
    kinds.push_back(*kind);
  } else if (colon == std::string_view::npos) {
    kinds.assign(std::begin(kEnumerable), std::end(kEnumerable));
    whole_line = pattern != "*";
  } else if (has_star(provider)) {
    kinds.assign(std::begin(kEnumerable), std::end(kEnumerable));
  } else {
    parse_probe_spec(pattern);  // throws the unknown-provider error with its suggestion
  }

  // Specs are made only for matching lines: kfunc:* has tens of thousands of candidates.
  std::vector<std::pair<std::string, ProbeSpec>> found;
  for (const ProbeKind kind : kinds) {
    const std::string name = probe_kind_name(kind);
    std::string line_pattern;
    if (whole_line) {
      line_pattern = std::string(pattern);
    } else {
      std::string r = rest;
      const bool one_part = r.find(':') == std::string::npos;
      if ((kind == ProbeKind::Fentry || kind == ProbeKind::Fexit) && one_part) r = "*:" + r;
      if ((kind == ProbeKind::Software || kind == ProbeKind::Hardware) && one_part) r += ":*";
      line_pattern = (has_star(provider) ? std::string(provider) : name) + ":" + r;
    }
    auto add = [&](std::string line, const std::string& target, const std::string& function, auto&& fill) {
      if (!wildcard_match(line_pattern, line)) return;
      ProbeSpec s;
      s.kind = kind;
      s.target = target;
      s.function = function;
      fill(s);
      found.emplace_back(std::move(line), std::move(s));
    };
    auto nothing = [](ProbeSpec&) {};
    switch (kind) {
      case ProbeKind::Tracepoint:
        for (const std::string& tp : list_tracepoints()) {
          const size_t colon_at = tp.find(':');
          add(name + ":" + tp, tp.substr(0, colon_at), tp.substr(colon_at + 1), nothing);
        }
        break;
      case ProbeKind::RawTracepoint:
        for (const std::string& rt : list_raw_tracepoints()) add(name + ":" + rt, "", rt, nothing);
        break;
      case ProbeKind::Kprobe:
      case ProbeKind::Kretprobe:
        for (const std::string& f : list_kprobe_functions()) add(name + ":" + f, "", f, nothing);
        break;
      case ProbeKind::Fentry:
      case ProbeKind::Fexit: {
        std::vector<std::string> funcs;
        try {
          funcs = list_kernel_functions();
        } catch (const Error&) {
          break;  // no BTF: nothing to list
        }
        const std::string prefix = name + ":vmlinux:";
        for (const std::string& f : funcs) add(prefix + f, "vmlinux", f, nothing);
        break;
      }
      case ProbeKind::Software:
      case ProbeKind::Hardware:
        for (const PerfEventInfo& e : kind == ProbeKind::Software ? software_events() : hardware_events()) {
          add(name + ":" + e.name + ":", "", e.name, [&](ProbeSpec& s) { s.period = e.default_period; });
        }
        break;
      case ProbeKind::Uprobe:
      case ProbeKind::Uretprobe:
      case ProbeKind::Usdt: {
        const size_t sep = rest.find(':');
        if (sep == std::string::npos || sep == 0) {
          throw ProbeSpecError(pattern.size(), name + " listing needs a binary; write " + name +
                                                   ":BINARY:PATTERN, e.g. " + name + ":/bin/bash:read*");
        }
        // bpftrace prints the binary as written when it has a '/', else as found.
        const std::string binary = resolve_probe_binary(rest.substr(0, sep));
        line_pattern = name + ":" + binary + ":" + rest.substr(sep + 1);
        if (kind == ProbeKind::Usdt) {
          for (const auto& entry : list_usdt_probes(binary)) {
            const std::string& prov = entry.first;  // named, not a structured binding: clang 14 cannot capture those
            add(name + ":" + binary + ":" + prov + ":" + entry.second, binary, entry.second,
                [&](ProbeSpec& s) { s.usdt_provider = prov; });
          }
        } else {
          for (const std::string& f : list_elf_functions(binary))
            add(name + ":" + binary + ":" + f, binary, f, nothing);
        }
        break;
      }
      default:
        break;  // BEGIN, END, profile, interval, watchpoint: nothing to enumerate
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              found.end());

  std::string out;
  for (const auto& [line, spec] : found) {
    out += line;
    out += '\n';
    if (!verbose) continue;
    std::vector<std::string> args;
    try {
      args = probe_arguments(spec);
    } catch (const Error&) {
      // A probe whose format vanished since listing shows without arguments.
    }
    for (const std::string& a : args) out += "    " + a + "\n";
  }
  return out;
}

}  // namespace bpfkit::lang
