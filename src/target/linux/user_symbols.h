// User-space addresses to names and back, for ustack, usym() and uaddr(): a
// process's mappings (/proc/PID/maps) place each address in a mapped file, the
// file offset goes through the ELF loadable segments to a link-time address (the
// load bias of PIE executables and shared libraries cancels out), and the file's
// function symbols (.symtab, .dynsym, and a separate debug file found by build-id or
// .gnu_debuglink, as libc6-dbg installs them) name it. Each file's table is parsed
// once per process lifetime and shared.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "target/linux/symbol_hit.h"

namespace bpfkit::target::linux_kernel {

// One /proc/PID/maps line: "55d0c3a00000-55d0c3a28000 r-xp 00028000 08:01 1234  /usr/bin/x".
// Views point into the line; `path` is empty for anonymous memory and keeps
// pseudo-paths ("[vdso]") and a " (deleted)" suffix as the kernel prints them.
struct MapsEntry {
  uint64_t start = 0, end = 0;
  std::string_view perms;  // "r-xp"
  uint64_t offset = 0;     // file offset of `start`
  std::string_view device;
  uint64_t inode = 0;
  std::string_view path;
  bool executable() const { return perms.size() >= 3 && perms[2] == 'x'; }
  bool operator==(const MapsEntry&) const = default;
};
std::optional<MapsEntry> parse_maps_line(std::string_view line);

// One /tmp/perf-PID.map line, how JIT compilers name their code: "START SIZE name" (hex).
struct PerfMapEntry {
  uint64_t start = 0, size = 0;
  std::string_view name;
  bool operator==(const PerfMapEntry&) const = default;
};
std::optional<PerfMapEntry> parse_perf_map_line(std::string_view line);

// The symbols of one ELF file, by link-time address, and its loadable segments.
class ElfSymbols {
 public:
  struct Symbol {
    uint64_t start = 0, size = 0;
    std::string name;  // raw (mangled) name
    bool function = true;  // STT_FUNC / STT_GNU_IFUNC: preferred by address_of
    bool global = true;    // STB_GLOBAL / STB_WEAK: preferred by address_of
  };
  struct Segment {
    uint64_t file_offset = 0, vaddr = 0, file_size = 0, mem_size = 0;
  };

  // Parses an ELF64 little-endian image in memory; throws object::ElfError (with the
  // byte offset) when a header or table runs out of bounds.
  static ElfSymbols parse(std::span<const uint8_t> image);
  // The file at `path` (read piecewise, never whole) plus its separate debug file
  // when one is installed; shared through a cache keyed by device, inode, size and
  // mtime. Throws TargetError naming the file.
  static std::shared_ptr<const ElfSymbols> load(const std::string& path);
  // A table from symbols in the order the files list them (a separate debug file's
  // first, then the binary's own): that order decides which of several aliases names
  // an address, as in bpftrace (see find()).
  static ElfSymbols from(std::vector<Symbol> symbols, std::vector<Segment> segments, std::string build_id = "",
                         std::string debuglink = "");

  // The symbol whose [start, start + size) holds `vaddr`, found as bpftrace's
  // symbolizer (bcc) finds it, so that both print the same name: every named symbol
  // with a non-zero address (functions, and variables too: usym() of a data address
  // names it), sorted by start with std::sort (which leaves aliases in an order only
  // the input decides), then a walk back from the last one starting at or below
  // `vaddr`, past nested ones, until one holds it or ends below the first one tried.
  // Returns the symbol and the offset into it.
  std::optional<std::pair<const Symbol*, uint64_t>> find(uint64_t vaddr) const;
  // Link-time address of the symbol named `name` (raw, or its demangled C++ form);
  // functions before variables, globals before locals.
  std::optional<uint64_t> address_of(std::string_view name) const;
  std::optional<uint64_t> vaddr_of_file_offset(uint64_t offset) const;
  std::optional<uint64_t> file_offset_of_vaddr(uint64_t vaddr) const;

  const std::vector<Segment>& segments() const { return segments_; }
  size_t size() const { return symbols_.size(); }
  const std::string& build_id() const { return build_id_; }    // hex, "" when none
  const std::string& debuglink() const { return debuglink_; }  // .gnu_debuglink file name

 private:
  std::vector<Symbol> symbols_;  // std::sort-ed by start alone
  std::vector<Segment> segments_;
  std::string build_id_, debuglink_;
};

// The symbols a process (or one binary) sees. Files are opened when first needed,
// so building one is cheap; resolve() is not safe to call from two threads at once.
class UserSymbols {
 public:
  struct Module {
    // elf: a mapped ELF file; vdso: the kernel's vDSO, read from this process's copy;
    // perf_map: anonymous JIT code named by /tmp/perf-PID.map (addresses are absolute).
    enum class Kind { elf, vdso, perf_map };
    Kind kind = Kind::elf;
    uint64_t start = 0, end = 0, file_offset = 0;
    std::string path;                                 // printed as the module
    std::string open_path;                            // where to read it ("" = `path`)
    mutable std::shared_ptr<const ElfSymbols> table;  // loaded on first use
    mutable bool load_tried = false;
  };

  UserSymbols() = default;
  // The executable mappings of process `pid` now (data addresses stay unnamed, as
  // in bpftrace). A process that has exited gives an empty set: every address then
  // prints as hex, as bpftrace prints it.
  static UserSymbols for_process(int pid);
  // One binary without a process: addresses are its link-time addresses.
  static UserSymbols for_binary(const std::string& path);
  static UserSymbols from_modules(std::vector<Module> modules);

  std::optional<SymbolHit> resolve(uint64_t addr) const;
  // The run-time address of `name` (for_process), or its link-time address (for_binary);
  // searched in mapping order, so the main executable comes before libraries.
  std::optional<uint64_t> address_of(std::string_view name) const;

  const std::vector<Module>& modules() const { return modules_; }
  int pid() const { return pid_; }

 private:
  const ElfSymbols* table_of(const Module& m) const;

  std::vector<Module> modules_;  // sorted by start
  int pid_ = -1;
};

// "_ZN2ns4workEi" -> "ns::work(int)" (names starting "_Z" or "___Z"); others unchanged.
std::string demangle_symbol(std::string_view name);

}  // namespace bpfkit::target::linux_kernel
