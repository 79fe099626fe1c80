// Malformed and unsupported objects: each an ObjectError (or ElfError/BtfError)
// that says where, never a crash. Objects are compiled, then bytes are mutated.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "../support/compile_bpf.h"
#include "object/bpf_object.h"
#include "object/elf_file.h"

namespace bpfkit::object {
namespace {

using test_support::compile_bpf;
using test_support::read_file_bytes;

const char* kSource = R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} hits SEC(".maps");
int total;
static __attribute__((noinline)) int bump(int x) { total += x; return x; }
SEC("xdp") int count(struct xdp_md *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&hits, &k);
  if (v)
    *v += 1;
  return bump(2);
}
char LICENSE[] SEC("license") = "GPL";
)";

const std::vector<uint8_t>& object_bytes() {
  static std::vector<uint8_t> b = [] {
    const auto path = compile_bpf(kSource);
    return path.empty() ? std::vector<uint8_t>{} : read_file_bytes(path);
  }();
  return b;
}

ObjectLoadOptions named() {
  ObjectLoadOptions o;
  o.name = "bad";
  return o;
}

// The file offset of relocation entry `i` (in the section relocating `target`) and the entry.
struct RelocAt {
  uint64_t file_offset = 0;
  ElfRelocation rel;
  std::string symbol;
};

std::vector<RelocAt> relocations_of(const std::vector<uint8_t>& bytes, const std::string& target) {
  const auto elf = ElfFile::parse(bytes);
  const auto syms = elf.symbols();
  const auto* t = elf.find_section(target);
  std::vector<RelocAt> out;
  for (const auto& s : elf.sections()) {
    if (s.type != SHT_REL || s.info != t->index) continue;
    const auto rels = elf.relocations(s);
    for (size_t i = 0; i < rels.size(); ++i)
      out.push_back({s.offset + i * sizeof(Elf64_Rel), rels[i], syms[rels[i].symbol].name});
  }
  return out;
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    BpfObject::parse(bytes, named());
  } catch (const ObjectError& e) {
    return e.what();
  } catch (const Error& e) {
    return std::string("other: ") + e.what();
  }
  return "no error";
}

class BadObject : public ::testing::Test {
 protected:
  void SetUp() override {
    BPFKIT_REQUIRE_BPF_CLANG();
    ASSERT_FALSE(object_bytes().empty());
    bytes_ = object_bytes();
  }
  RelocAt reloc_against(const std::string& sym) {
    for (const auto& r : relocations_of(bytes_, "xdp"))
      if (r.symbol == sym) return r;
    ADD_FAILURE() << "no relocation against " << sym;
    return {};
  }
  std::vector<uint8_t> bytes_;
};

TEST_F(BadObject, TheUnmutatedObjectLoads) {
  auto obj = BpfObject::parse(bytes_, named());
  ASSERT_EQ(obj.programs().size(), 1u);
  EXPECT_EQ(obj.maps().size(), 2u);  // hits, bad.bss
  EXPECT_NE(obj.find_map("bad.bss"), nullptr);
}

// A relocation type clang does not emit for code is named, with the section, the
// instruction index and the C source line.
TEST_F(BadObject, UnsupportedRelocationTypeOnCode) {
  const auto r = reloc_against("hits");
  const uint32_t type = R_BPF_64_64 + 2;  // R_BPF_64_ABS32
  std::memcpy(bytes_.data() + r.file_offset + 8, &type, 4);
  const std::string e = error_of(bytes_);
  EXPECT_NE(e.find("bad: section 'xdp', instruction " + std::to_string(r.rel.offset / 8)), std::string::npos)
      << e;
  EXPECT_NE(e.find("R_BPF_64_ABS32"), std::string::npos) << e;
  EXPECT_NE(e.find("'hits'"), std::string::npos) << e;
  EXPECT_NE(e.find("(prog.bpf.c:13)"), std::string::npos) << e;  // the bpf_map_lookup_elem line
}

TEST_F(BadObject, UnknownRelocationType) {
  const auto r = reloc_against("hits");
  const uint32_t type = 77;
  std::memcpy(bytes_.data() + r.file_offset + 8, &type, 4);
  const std::string e = error_of(bytes_);
  EXPECT_NE(e.find("unknown relocation type 77"), std::string::npos) << e;
  EXPECT_NE(e.find("section 'xdp'"), std::string::npos) << e;
}

TEST_F(BadObject, RelocationSymbolIndexOutOfRange) {
  const auto r = reloc_against("hits");
  const uint32_t sym = 100000;
  std::memcpy(bytes_.data() + r.file_offset + 12, &sym, 4);
  const std::string e = error_of(bytes_);
  EXPECT_NE(e.find("symbol 100000, which does not exist"), std::string::npos) << e;
}

TEST_F(BadObject, RelocationOutsideItsSection) {
  const auto r = reloc_against("hits");
  const uint64_t off = 1 << 20;
  std::memcpy(bytes_.data() + r.file_offset, &off, 8);
  const std::string e = error_of(bytes_);
  EXPECT_EQ(e.find("bad: section 'xdp': relocation at byte 1048576 is outside"), 0u) << e;
}

TEST_F(BadObject, RelocationOnAnInstructionThatIsNotLddw) {
  const auto r = reloc_against("hits");
  const uint64_t off = r.rel.offset + 16;  // the instruction after the lddw
  std::memcpy(bytes_.data() + r.file_offset, &off, 8);
  const std::string e = error_of(bytes_);
  EXPECT_NE(e.find("instruction " + std::to_string(off / 8)), std::string::npos) << e;
  EXPECT_NE(e.find("neither lddw nor a call"), std::string::npos) << e;
}

TEST_F(BadObject, LddwAgainstSomethingThatIsNotAMap) {
  // Point the map relocation at the LICENSE symbol.
  const auto elf = ElfFile::parse(bytes_);
  const auto syms = elf.symbols();
  uint32_t license = 0;
  for (uint32_t i = 0; i < syms.size(); ++i)
    if (syms[i].name == "LICENSE") license = i;
  ASSERT_NE(license, 0u);
  const auto r = reloc_against("hits");
  std::memcpy(bytes_.data() + r.file_offset + 12, &license, 4);
  const std::string e = error_of(bytes_);
  EXPECT_NE(e.find("'LICENSE' in section 'license', which is neither code, a map nor global data"),
            std::string::npos)
      << e;
}

TEST_F(BadObject, SymbolInAMissingSection) {
  const auto elf = ElfFile::parse(bytes_);
  const auto* symtab = elf.find_section(".symtab");
  ASSERT_NE(symtab, nullptr);
  const auto syms = elf.symbols();
  for (uint32_t i = 0; i < syms.size(); ++i)
    if (syms[i].name == "hits") {
      const uint16_t shndx = 999;
      std::memcpy(bytes_.data() + symtab->offset + i * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_shndx),
                  &shndx, 2);
    }
  const std::string e = error_of(bytes_);
  EXPECT_NE(e.find("'hits' is in section 999, which does not exist"), std::string::npos) << e;
}

TEST_F(BadObject, FunctionSizePastItsSection) {
  const auto elf = ElfFile::parse(bytes_);
  const auto* symtab = elf.find_section(".symtab");
  const auto syms = elf.symbols();
  for (uint32_t i = 0; i < syms.size(); ++i)
    if (syms[i].name == "count") {
      const uint64_t size = 8 * 4096;
      std::memcpy(bytes_.data() + symtab->offset + i * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_size),
                  &size, 8);
    }
  const std::string e = error_of(bytes_);
  EXPECT_NE(e.find("function 'count'"), std::string::npos) << e;
  EXPECT_NE(e.find("does not fit section 'xdp'"), std::string::npos) << e;
}

TEST_F(BadObject, OverlappingSections) {
  const auto elf = ElfFile::parse(bytes_);
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes_.data(), sizeof eh);
  const auto* xdp = elf.find_section("xdp");
  const auto* maps = elf.find_section(".maps");
  // Move .maps' data onto xdp's.
  const uint64_t at = eh.e_shoff + maps->index * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_offset);
  std::memcpy(bytes_.data() + at, &xdp->offset, 8);
  const std::string e = error_of(bytes_);
  EXPECT_NE(e.find("overlap"), std::string::npos) << e;
  EXPECT_NE(e.find("'xdp'"), std::string::npos) << e;
}

TEST_F(BadObject, NotBpf) {
  const uint16_t machine = EM_X86_64;
  std::memcpy(bytes_.data() + offsetof(Elf64_Ehdr, e_machine), &machine, 2);
  EXPECT_NE(error_of(bytes_).find("not a BPF object"), std::string::npos);
}

TEST_F(BadObject, UnknownBtfMapField) {
  BPFKIT_REQUIRE_BPF_CLANG();
  const auto path = compile_bpf(R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 2);
  __uint(colour, 3);
  __type(key, int);
  __type(value, int);
} m SEC(".maps");
SEC("xdp") int f(void *ctx) { return bpf_map_lookup_elem(&m, &(int){0}) != 0; }
)");
  ASSERT_FALSE(path.empty());
  const std::string e = error_of(read_file_bytes(path));
  EXPECT_EQ(e, "bad: map 'm' (section '.maps'): unknown field 'colour'");
}

TEST_F(BadObject, KeySizeDisagreesWithKeyType) {
  const auto path = compile_bpf(R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 2);
  __uint(key_size, 8);
  __type(key, int);
  __type(value, int);
} m SEC(".maps");
SEC("xdp") int f(void *ctx) { return bpf_map_lookup_elem(&m, &(int){0}) != 0; }
)");
  ASSERT_FALSE(path.empty());
  const std::string e = error_of(read_file_bytes(path));
  EXPECT_NE(e.find("map 'm' (section '.maps'): key_size 8 does not match __type(key) of 4 bytes"),
            std::string::npos)
      << e;
}

TEST_F(BadObject, UnsupportedKconfigAndKsymExterns) {
  auto path = compile_bpf(R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int CONFIG_HZ __kconfig;
extern int CONFIG_MAYBE __kconfig __weak;
SEC("xdp") int f(void *ctx) { return CONFIG_HZ + CONFIG_MAYBE; }
)");
  ASSERT_FALSE(path.empty());
  std::string e = error_of(read_file_bytes(path));
  EXPECT_NE(e.find("unsupported .kconfig externs: CONFIG_HZ ("), std::string::npos) << e;

  path = compile_bpf(R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int CONFIG_MAYBE __kconfig __weak;
SEC("xdp") int f(void *ctx) { return CONFIG_MAYBE; }
)");
  ASSERT_FALSE(path.empty());
  auto obj = BpfObject::parse(read_file_bytes(path), named());
  const auto* k = obj.find_map("bad.kconfig");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->initial_value, std::vector<uint8_t>(4, 0));  // weak and unknown: 0, as libbpf does

  path = compile_bpf(R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern const int bpf_prog_active __ksym;
SEC("xdp") int f(void *ctx) { bpf_printk("%p", &bpf_prog_active); return 0; }
)");
  ASSERT_FALSE(path.empty());
  e = error_of(read_file_bytes(path));
  EXPECT_NE(e.find("extern 'bpf_prog_active' is not supported"), std::string::npos) << e;
}

// Every prefix of the object, and the object with random bytes changed, either
// loads or fails with a bpfkit::Error (the ASan build checks that nothing else happens).
TEST_F(BadObject, TruncatedAtEveryEighthByte) {
  size_t errors = 0;
  for (size_t n = 0; n < bytes_.size(); n += 8) {
    std::vector<uint8_t> cut(bytes_.begin(), bytes_.begin() + n);
    try {
      BpfObject::parse(cut, named());
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, bytes_.size() / 8 / 2);
}

TEST_F(BadObject, RandomMutations) {
  std::mt19937 rng(1234);
  size_t errors = 0, loaded = 0;
  for (int round = 0; round < 1500; ++round) {
    auto b = bytes_;
    const int flips = 1 + int(rng() % 4);
    for (int i = 0; i < flips; ++i) b[rng() % b.size()] = uint8_t(rng());
    try {
      BpfObject::parse(b, named());
      ++loaded;
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 0u);
  EXPECT_GT(loaded, 0u);  // most bytes are debug info nobody reads
}

}  // namespace
}  // namespace bpfkit::object
