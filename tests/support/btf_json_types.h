// Shared by the BTF-JSON tests (tests/object/btf_json_test.cpp, against host-compiled
// structs, and tests/kernel/btf_json_bpftool_test.cpp, against bpftool): the C types
// whose BTF they format, and compiling a source and reading its .BTF.
#pragma once

#include <memory>
#include <string>

#include "compile_bpf.h"
#include "object/btf.h"
#include "object/elf_file.h"

namespace bpfkit::test_support {

// `struct addr` (a map key) and `struct value`, with a member of every BTF kind the
// formatter handles. `extended` adds float, double and unsigned __int128 members, which
// bpftool's formatted dump does not cover.
inline std::string btf_json_types(bool extended) {
  std::string s = R"(
typedef unsigned int u32_t;
enum state { ST_IDLE = 0, ST_RUN = 1, ST_DEAD = -1 };
enum color { RED = 1, GREEN = 2, BLUE = 4 };
struct addr { unsigned char bytes[4]; unsigned short port; };
struct value {
  char name[16];
  struct addr addrs[2];
  unsigned int flags : 3;
  int delta : 5;
  enum color hue : 4;
  enum state st;
  union { u32_t word; unsigned char raw[4]; };
  union { long l; char c[8]; } named;
  long long neg;
  unsigned long long big;
  void *ptr;
)";
  if (extended) s += "  float f;\n  double d;\n";
  s += "  _Bool ok;\n  unsigned char bytes[3];\n  const volatile int cv;\n";
  if (extended) s += "  unsigned __int128 wide;\n";
  return s + "};\n";
}

// Compiles `source` (compile_bpf) and parses its .BTF. nullptr, after a test failure,
// when clang fails; `object_path` receives the object's path.
inline std::unique_ptr<object::Btf> compile_btf(const std::string& source, std::string* object_path = nullptr) {
  const std::string path = compile_bpf(source);
  if (object_path) *object_path = path;
  if (path.empty()) return nullptr;
  const object::ElfFile elf = object::ElfFile::parse(read_file_bytes(path));
  return std::make_unique<object::Btf>(object::Btf::parse(elf.section_data(*elf.find_section(".BTF"))));
}

}  // namespace bpfkit::test_support
