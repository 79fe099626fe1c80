// libFuzzer target for the symbolization parsers: /proc/kallsyms, /proc/PID/maps and
// perf-map lines, whole kallsyms texts, and ELF symbol tables from arbitrary bytes.
// Nothing crashes; a parsed line's fields are views into the line; bad ELF throws ElfError.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "object/elf_file.h"
#include "target/linux/kernel_symbols.h"
#include "target/linux/stack_format.h"
#include "target/linux/user_symbols.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace lk = bpfkit::target::linux_kernel;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const auto e = lk::parse_kallsyms_line(text)) {
    if (!inside(e->name, text) || !inside(e->module, text) || e->name.empty()) std::abort();
  }
  if (const auto m = lk::parse_maps_line(text)) {
    if (m->end < m->start || m->perms.size() != 4 || !inside(m->path, text)) std::abort();
  }
  if (const auto p = lk::parse_perf_map_line(text)) {
    if (p->name.empty() || !inside(p->name, text)) std::abort();
  }

  // A whole kallsyms text: every address it resolves lies at or above the symbol found.
  const lk::KernelSymbols ksyms = lk::KernelSymbols::parse(text);
  for (const uint64_t addr : {uint64_t(0), uint64_t(0xffffffff81000000), ~uint64_t(0)}) {
    if (const auto hit = ksyms.resolve(addr)) {
      const auto back = ksyms.address_of(hit->module.empty() ? hit->name : hit->module + ":" + hit->name);
      if (!back) std::abort();
    }
  }
  (void)lk::format_kstack(std::vector<uint64_t>{0xffffffff81000000, 1, 0}, ksyms, lk::StackMode::perf);

  // ELF symbol tables.
  try {
    const lk::ElfSymbols elf = lk::ElfSymbols::parse(std::span<const uint8_t>(data, size));
    for (const uint64_t addr : {uint64_t(0x1000), uint64_t(0x401000)}) {
      if (const auto hit = elf.find(addr)) {
        if (addr < hit->first->start || addr - hit->first->start != hit->second) std::abort();
      }
    }
  } catch (const bpfkit::object::ElfError&) {
  }
  return 0;
}
