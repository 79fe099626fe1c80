// Where a function lives in an ELF file on disk, which is what the kernel's uprobes
// take: the symbol's virtual address mapped back to a file offset through the
// loadable segment that contains it (st_value - p_vaddr + p_offset), for executables
// (ET_EXEC, PIE) and shared libraries alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "target/target.h"

namespace bpfkit::target::linux_kernel {

struct ElfSymbolOffset {
  uint64_t file_offset = 0;  // what uprobe_path/offset wants
  uint64_t address = 0;      // st_value
  uint64_t size = 0;         // st_size (0 when the symbol table does not say)
};

// Looks `symbol` up in .symtab, then .dynsym (stripped libraries keep only that).
// Throws TargetError naming the file: missing or unreadable file, not an ELF64
// little-endian file, no such (defined) symbol, or an address outside every segment.
ElfSymbolOffset elf_symbol_offset(const std::string& path, std::string_view symbol);

// A binary named without a '/' ("bash", "libc.so.6") found as the dynamic linker and
// the shell would find it: shared libraries in the usual library directories, other
// names along $PATH. Names with a '/' are returned unchanged.
std::string resolve_binary_path(const std::string& name);

}  // namespace bpfkit::target::linux_kernel
