// What symbolizing one address gives: the function it falls in, how far into it,
// and where that function lives (a kernel module, or the file mapped in user space).
#pragma once

#include <cstdint>
#include <string>

namespace bpfkit::target::linux_kernel {

struct SymbolHit {
  std::string name;    // as printed: C++ names demangled
  uint64_t offset = 0;  // addr - symbol start
  std::string module;  // kernel: module name ("" for vmlinux); user: the mapped file's path
  bool operator==(const SymbolHit&) const = default;
};

}  // namespace bpfkit::target::linux_kernel
