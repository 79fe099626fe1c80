#include "target/linux/kernel_symbols.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "target/linux/bpf_syscall.h"
#include "target/target.h"

namespace bpfkit::target::linux_kernel {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The symbols addresses resolve to: all but data (b, d, r), and not those at 0, as
// bpftrace's symbolizer (bcc) takes them; a variable never names a stack frame.
bool resolves_addresses(const KallsymsEntry& e) {
  const char t = e.type;
  return e.address != 0 && t != 'b' && t != 'B' && t != 'd' && t != 'D' && t != 'r' && t != 'R';
}

// Reads a whole /proc file: its st_size is 0, so read until EOF in large chunks.
std::string read_proc_file(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw TargetError("cannot read '" + path + "': " + std::strerror(errno));
  std::string out;
  size_t used = 0;
  out.resize(size_t(8) << 20);  // /proc/kallsyms is ~5 MiB: one read buffer, no regrowth
  for (;;) {
    if (out.size() - used < (size_t(1) << 16)) out.resize(out.size() * 2);
    const ssize_t n = read(fd.get(), out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw TargetError("reading '" + path + "' failed: " + std::strerror(errno));
    if (n == 0) break;
    used += size_t(n);
  }
  out.resize(used);
  return out;
}

}  // namespace

std::optional<KallsymsEntry> parse_kallsyms_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  KallsymsEntry e;
  size_t i = 0;
  for (; i < line.size() && line[i] != ' '; ++i) {
    const int d = hex_digit(line[i]);
    if (d < 0 || i >= 16) return std::nullopt;  // not hex, or more than 64 bits
    e.address = (e.address << 4) | uint64_t(d);
  }
  if (i == 0 || i + 3 > line.size() || line[i] != ' ' || line[i + 2] != ' ') return std::nullopt;
  e.type = line[i + 1];
  if (e.type == ' ' || e.type == '\t') return std::nullopt;
  // One pass over the name: it ends at a tab (a module follows) or at the end.
  const std::string_view rest = line.substr(i + 3);
  size_t n = 0;
  for (; n < rest.size() && rest[n] != '\t'; ++n) {
    if (rest[n] == ' ' || rest[n] == '\n') return std::nullopt;
  }
  if (n == 0) return std::nullopt;
  e.name = rest.substr(0, n);
  if (n < rest.size()) {
    const std::string_view mod = rest.substr(n + 1);
    if (mod.size() < 3 || mod.front() != '[' || mod.back() != ']') return std::nullopt;
    e.module = mod.substr(1, mod.size() - 2);
    if (e.module.find_first_of("[]\t \n:") != std::string_view::npos) return std::nullopt;  // a module name has no colon
  }
  return e;
}

void KernelSymbols::add(const KallsymsEntry& e) {
  uint32_t module = 0;
  if (!e.module.empty()) {
    // Module lines come grouped at the end of the file: the last one used is almost always it.
    if (modules_.back() == e.module) {
      module = uint32_t(modules_.size() - 1);
    } else {
      auto it = std::find(modules_.begin() + 1, modules_.end(), e.module);
      if (it == modules_.end()) it = modules_.insert(modules_.end(), std::string(e.module));
      module = uint32_t(it - modules_.begin());
    }
  }
  if (names_.size() + e.name.size() > std::numeric_limits<uint32_t>::max()) return;  // >4 GiB of names: drop
  entries_.push_back({e.address, uint32_t(names_.size()), uint32_t(e.name.size()), module});
  names_.append(e.name);
  if (resolves_addresses(e)) by_address_.push_back({e.address, uint32_t(entries_.size() - 1)});
}

void KernelSymbols::finish() {
  hidden_ = !entries_.empty() &&
            std::all_of(entries_.begin(), entries_.end(), [](const Entry& e) { return e.address == 0; });
  // Which of several symbols at one address names it is decided as bcc decides it:
  // std::sort by address alone of the symbols in file order, then the last of the
  // equal run. std::sort is deterministic, so the same sequence sorts the same way
  // (here __ia32_sys_getppid over __x64_sys_getppid, _text over _stext, as bpftrace printed).
  std::sort(by_address_.begin(), by_address_.end(),
            [](const Located& a, const Located& b) { return a.address < b.address; });
}

KernelSymbols KernelSymbols::parse(std::string_view text) {
  KernelSymbols out;
  out.entries_.reserve(text.size() / 40);
  out.by_address_.reserve(text.size() / 40);
  out.names_.reserve(text.size() / 2);
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (auto e = parse_kallsyms_line(line)) out.add(*e);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  out.finish();
  return out;
}

KernelSymbols KernelSymbols::load(const std::string& path) { return parse(read_proc_file(path)); }

std::optional<SymbolHit> KernelSymbols::resolve(uint64_t addr) const {
  if (hidden_) return std::nullopt;
  auto it = std::upper_bound(by_address_.begin(), by_address_.end(), addr,
                             [](uint64_t a, const Located& l) { return a < l.address; });
  if (it == by_address_.begin()) return std::nullopt;
  const Entry& e = entries_[(it - 1)->entry];
  return SymbolHit{std::string(name_of(e)), addr - e.address, modules_[e.module]};
}

std::optional<uint64_t> KernelSymbols::address_of(std::string_view name) const {
  if (hidden_) return std::nullopt;
  std::optional<uint32_t> module;
  if (const size_t colon = name.find(':'); colon != std::string_view::npos) {
    // "module:name" when the part before the colon is a module; otherwise a name with a colon.
    const std::string_view mod = name.substr(0, colon);
    const auto it = mod == "vmlinux" ? modules_.begin() : std::find(modules_.begin() + 1, modules_.end(), mod);
    if (it != modules_.end()) {
      module = uint32_t(it - modules_.begin());
      name.remove_prefix(colon + 1);
    }
  }
  for (const Entry& e : entries_) {
    if (e.name_size == name.size() && (!module || e.module == *module) && name_of(e) == name) return e.address;
  }
  return std::nullopt;
}

}  // namespace bpfkit::target::linux_kernel
