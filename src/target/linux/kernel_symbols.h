// Kernel addresses to names and back, from /proc/kallsyms: what kstack, ksym() and
// kaddr() need. The file (~120k lines) is read once, its code symbols sorted by
// address for binary search; names live in one arena so loading allocates little.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "target/linux/symbol_hit.h"

namespace bpfkit::target::linux_kernel {

// One /proc/kallsyms line: "ffffffff816d5b70 T vfs_read" or
// "ffffffffc0025500 t bpf_dispatcher_xdp\t[bpf]". Views point into the line.
struct KallsymsEntry {
  uint64_t address = 0;
  char type = 0;             // nm-style: T/t text, W/w weak, D/d data, ...
  std::string_view name;
  std::string_view module;   // without brackets; empty for vmlinux
  bool operator==(const KallsymsEntry&) const = default;
};

// std::nullopt for a line that is not "HEX TYPE NAME[\t[MODULE]]" (a trailing '\n' is allowed).
std::optional<KallsymsEntry> parse_kallsyms_line(std::string_view line);

class KernelSymbols {
 public:
  // Reads /proc/kallsyms (or `path`); throws TargetError naming the file when it cannot be read.
  static KernelSymbols load(const std::string& path = "/proc/kallsyms");
  // From kallsyms-format text (tests, fuzzing, saved copies); malformed lines are skipped.
  static KernelSymbols parse(std::string_view text);

  // The symbol at or below `addr`, data symbols aside (kallsyms has no sizes, so, as
  // bpftrace does, any address above the first symbol resolves, however far past its
  // end). Among symbols sharing an address, the one bpftrace names (kernel_symbols.cpp).
  // std::nullopt below the first symbol, and always when addresses are hidden.
  std::optional<SymbolHit> resolve(uint64_t addr) const;
  // The first symbol of that name in file order (any type, so kaddr("jiffies") works);
  // "module:name" restricts the search to one module ("vmlinux:name" to the kernel
  // image) when the part before the colon names a loaded module. std::nullopt when
  // absent or hidden.
  std::optional<uint64_t> address_of(std::string_view name) const;

  size_t size() const { return entries_.size(); }
  // Every address read as 0: kptr_restrict hides them from this user (not root, no CAP_SYSLOG).
  bool addresses_hidden() const { return hidden_; }

 private:
  struct Entry {
    uint64_t address;
    uint32_t name_offset;  // into names_
    uint32_t name_size;
    uint32_t module;       // index into modules_; 0 is vmlinux ("")
  };
  void add(const KallsymsEntry& e);
  void finish();
  std::string_view name_of(const Entry& e) const { return {names_.data() + e.name_offset, e.name_size}; }

  std::string names_;
  std::vector<std::string> modules_{""};
  std::vector<Entry> entries_;        // file order
  struct Located {
    uint64_t address;
    uint32_t entry;  // index into entries_
  };
  std::vector<Located> by_address_;  // the symbols addresses resolve to (not data), sorted by address
  bool hidden_ = false;
};

}  // namespace bpfkit::target::linux_kernel
