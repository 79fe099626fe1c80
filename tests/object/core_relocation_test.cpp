// CO-RE relocation of clang-compiled programs: against a "kernel" BTF compiled
// from C with the structs reordered, resized and missing fields, and against the
// running kernel's vmlinux BTF (cross-checked with bpftool's dump of it).
#include "object/core_relocation.h"

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "../support/compile_bpf.h"
#include "object/elf_file.h"

namespace bpfkit::object {
namespace {

// Compiles each distinct source once per test binary (clang is the slow part).
std::string compile_bpf(const std::string& source) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(source);
  if (it != cache.end()) return it->second;
  const std::string path = test_support::compile_bpf(source);
  if (!path.empty()) cache[source] = path;
  return path;
}

// One compiled object: its BTF, its CO-RE records and the code of one section.
struct Object {
  std::unique_ptr<Btf> btf;
  std::vector<BtfCoreRelo> relos;
  std::vector<isa::RawInsn> insns;
  std::string section;
};

Object load(const std::string& path, const std::string& section) {
  Object o;
  o.section = section;
  const ElfFile elf = ElfFile::parse(test_support::read_file_bytes(path));
  const ElfSection* btf = elf.find_section(".BTF");
  if (!btf) throw std::runtime_error("no .BTF in " + path);
  o.btf = std::make_unique<Btf>(Btf::parse(elf.section_data(*btf)));
  if (const ElfSection* ext = elf.find_section(".BTF.ext")) {
    const BtfExt e = BtfExt::parse(elf.section_data(*ext), *o.btf);
    for (const auto& s : e.core_relos())
      if (s.name == section) o.relos = s.records;
  }
  if (const ElfSection* code = elf.find_section(section)) {
    const auto bytes = elf.section_data(*code);
    o.insns.resize(bytes.size() / 8);
    memcpy(o.insns.data(), bytes.data(), o.insns.size() * 8);
  }
  return o;
}

Btf load_btf(const std::string& path) {
  const ElfFile elf = ElfFile::parse(test_support::read_file_bytes(path));
  return Btf::parse(elf.section_data(*elf.find_section(".BTF")));
}

// The result whose description starts with `prefix` (kind and spec), exactly one.
const CoreRelocationResult& find(const std::vector<CoreRelocationResult>& results,
                                 const std::string& prefix) {
  const CoreRelocationResult* found = nullptr;
  for (const auto& r : results)
    if (r.description.rfind(prefix, 0) == 0) {
      if (found && found->local_value != r.local_value) ADD_FAILURE() << "several results for " << prefix;
      found = &r;
    }
  if (!found) {
    std::string all;
    for (const auto& r : results) all += "  " + r.description + "\n";
    ADD_FAILURE() << "no result for " << prefix << "; results:\n" << all;
    static CoreRelocationResult none;
    return none;
  }
  return *found;
}

uint64_t imm64(const std::vector<isa::RawInsn>& insns, size_t i) {
  return uint64_t(uint32_t(insns[i].imm)) | uint64_t(uint32_t(insns[i + 1].imm)) << 32;
}

bool is_poison(const isa::RawInsn& insn) {
  return insn.opcode == (BPF_JMP | BPF_CALL) && insn.imm == 0xbad2310 && insn.src == 0 && insn.dst == 0;
}

const char* kPrelude = R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
)";

// Local ("compiled against") view of the types. Layout: id 0, port 4, in 8..24
// (a 8, b 16), flags/kind bits at 24, gone 28, name 32, arr 40, grow 56; size 64.
const char* kLocalTypes = R"(
struct inner___local { int a; long long b; } __attribute__((preserve_access_index));
struct pkt___local {
  int id;
  unsigned short port;
  struct inner___local in;
  unsigned int flags : 4;
  unsigned int kind : 3;
  int gone;
  char name[8];
  int arr[4];
  int grow;
} __attribute__((preserve_access_index));
enum color___local { RED = 1, GREEN = 2, BLUE = 4, PURPLE = 8 };
struct absent___local { int x; };
__u64 out[32];
)";

const char* kLocalProgram = R"(
SEC("tp/test") int prog(void *ctx) {
  struct pkt___local *pk = ctx;
  out[0] = pk->id;
  out[1] = pk->port;
  out[2] = pk->in.b;
  out[3] = pk->arr[2];
  out[4] = BPF_CORE_READ_BITFIELD(pk, kind);
  out[5] = bpf_core_field_exists(pk->gone);
  out[6] = bpf_core_field_exists(pk->name);
  out[7] = bpf_core_field_size(pk->name);
  out[8] = bpf_core_type_exists(struct absent___local);
  out[9] = bpf_core_type_size(struct pkt___local);
  out[10] = bpf_core_enum_value(enum color___local, BLUE);
  out[11] = bpf_core_enum_value_exists(enum color___local, PURPLE);
  out[12] = bpf_core_type_id_kernel(struct pkt___local);
  out[13] = bpf_core_type_id_local(struct pkt___local);
  if (bpf_core_field_exists(pk->gone)) out[15] = pk->gone;
  out[16] = bpf_core_enum_value(enum color___local, PURPLE);
  out[17] = BPF_CORE_READ(pk, in.a);
  out[18] = pk->grow;
  out[19] = __builtin_preserve_field_info(pk->in.a, 3 /* signed */);
  out[20] = bpf_core_field_offset(pk->arr[3]);
  return 0;
}
)";

// The "kernel": reordered, resized, a field missing, an anonymous union.
// Layout: pad 0, in 8..24 (b 8, a 16), port 24 (u32), id 28, union 32..56
// (arr[6] 32), name 56 (char[16]), bits at 72 (pad2:5 flags:4 kind:3), grow 80; size 88.
const char* kTargetTypes = R"(
struct inner { long long b; int a; };
struct pkt {
  long long pad;
  struct inner in;
  unsigned int port;
  int id;
  union { int arr[6]; long long wide; };
  char name[16];
  unsigned int pad2 : 5, flags : 4, kind : 3;
  long long grow;
};
enum color { BLUE = 40, RED = 10, GREEN = 20 };
struct pkt k_pkt;
enum color k_color;
)";

class CoreRelocationTest : public ::testing::Test {
 protected:
  void SetUp() override { BPFKIT_REQUIRE_BPF_CLANG(); }
};

TEST_F(CoreRelocationTest, RelocatesAgainstCompiledTargetBtf) {
  const std::string local_path = compile_bpf(std::string(kPrelude) + kLocalTypes + kLocalProgram);
  const std::string target_path = compile_bpf(kTargetTypes);
  ASSERT_FALSE(local_path.empty());
  ASSERT_FALSE(target_path.empty());
  Object local = load(local_path, "tp/test");
  const Btf target = load_btf(target_path);
  ASSERT_FALSE(local.relos.empty());
  const std::vector<isa::RawInsn> before = local.insns;

  const auto results = apply_core_relocations(local.insns, local.section, *local.btf, local.relos, target);
  ASSERT_EQ(results.size(), local.relos.size());
  auto& insns = local.insns;

  // Plain loads: offsets move, and an unsigned u16 -> u32 field changes load size.
  const auto& id = find(results, "field_byte_offset struct pkt___local.id ");
  EXPECT_EQ(insns[id.insn].off, 28);
  EXPECT_EQ(insns[id.insn].opcode, BPF_LDX | BPF_MEM | BPF_W);
  const auto& port = find(results, "field_byte_offset struct pkt___local.port ");
  EXPECT_EQ(before[port.insn].opcode, BPF_LDX | BPF_MEM | BPF_H);
  EXPECT_EQ(insns[port.insn].off, 24);
  EXPECT_EQ(insns[port.insn].opcode, BPF_LDX | BPF_MEM | BPF_W);
  const auto& b = find(results, "field_byte_offset struct pkt___local.in.b ");
  EXPECT_EQ(b.local_value, 16u);
  EXPECT_EQ(insns[b.insn].off, 8);
  // Array element inside an anonymous union of the target.
  const auto& arr2 = find(results, "field_byte_offset struct pkt___local.arr[2] ");
  EXPECT_EQ(before[arr2.insn].off, 48);
  EXPECT_EQ(insns[arr2.insn].off, 40);
  const auto& arr3 = find(results, "field_byte_offset struct pkt___local.arr[3] ");
  EXPECT_EQ(insns[arr3.insn].imm, 44);
  // BPF_CORE_READ: an ALU immediate offset for in.a.
  const auto& a = find(results, "field_byte_offset struct pkt___local.in.a ");
  EXPECT_EQ(a.local_value, 8u);
  EXPECT_EQ(insns[a.insn].imm, 16);
  EXPECT_EQ(find(results, "field_signed struct pkt___local.in.a ").target_value, 1u);

  // Bitfield kind: at bit 72*8+9, 3 bits, read with a 4-byte load at 72.
  EXPECT_EQ(insns[find(results, "field_byte_offset struct pkt___local.kind ").insn].imm, 72);
  EXPECT_EQ(insns[find(results, "field_byte_size struct pkt___local.kind ").insn].imm, 4);
  EXPECT_EQ(insns[find(results, "field_lshift_u64 struct pkt___local.kind ").insn].imm, 52);
  EXPECT_EQ(find(results, "field_rshift_u64 struct pkt___local.kind ").target_value, 61u);
  EXPECT_EQ(find(results, "field_signed struct pkt___local.kind ").target_value, 0u);

  // Existence and size.
  const auto& gone = find(results, "field_exists struct pkt___local.gone ");
  EXPECT_EQ(gone.local_value, 1u);
  EXPECT_EQ(insns[gone.insn].imm, 0);
  EXPECT_FALSE(gone.poisoned);
  EXPECT_EQ(insns[find(results, "field_exists struct pkt___local.name ").insn].imm, 1);
  const auto& name_size = find(results, "field_byte_size struct pkt___local.name ");
  EXPECT_EQ(name_size.local_value, 8u);
  EXPECT_EQ(insns[name_size.insn].imm, 16);

  // A missing field's load is poisoned: a call to helper 0xbad2310.
  const auto& gone_load = find(results, "field_byte_offset struct pkt___local.gone ");
  EXPECT_TRUE(gone_load.poisoned);
  EXPECT_TRUE(is_poison(insns[gone_load.insn]));
  // A signed int -> long long field cannot be read by resizing the load: poisoned.
  const auto& grow = find(results, "field_byte_offset struct pkt___local.grow ");
  EXPECT_TRUE(grow.poisoned);
  EXPECT_TRUE(is_poison(insns[grow.insn]));

  // Types.
  const auto& absent = find(results, "type_exists struct absent___local ");
  EXPECT_EQ(imm64(insns, absent.insn), 0u);
  const auto& size = find(results, "type_size struct pkt___local ");
  EXPECT_EQ(size.local_value, 64u);
  EXPECT_EQ(imm64(insns, size.insn), 88u);
  const auto target_pkt = target.find_by_name("pkt", BtfKind::Struct);
  ASSERT_TRUE(target_pkt);
  const auto local_pkt = local.btf->find_by_name("pkt___local", BtfKind::Struct);
  ASSERT_TRUE(local_pkt);
  EXPECT_EQ(imm64(insns, find(results, "type_id_target struct pkt___local ").insn), *target_pkt);
  EXPECT_EQ(imm64(insns, find(results, "type_id_local struct pkt___local ").insn), *local_pkt);

  // Enums: by enumerator name; a missing enumerator's value is poisoned (both lddw halves).
  const auto& blue = find(results, "enumval_value enum color___local::BLUE ");
  EXPECT_EQ(blue.local_value, 4u);
  EXPECT_EQ(imm64(insns, blue.insn), 40u);
  EXPECT_EQ(imm64(insns, find(results, "enumval_exists enum color___local::PURPLE ").insn), 0u);
  const auto& purple = find(results, "enumval_value enum color___local::PURPLE ");
  EXPECT_TRUE(purple.poisoned);
  EXPECT_TRUE(is_poison(insns[purple.insn]));
  EXPECT_TRUE(is_poison(insns[purple.insn + 1]));

  // Nothing but relocated instructions changed.
  std::set<size_t> touched;
  for (const auto& r : results) {
    touched.insert(r.insn);
    if (before[r.insn].opcode == (BPF_LD | BPF_IMM | BPF_DW)) touched.insert(r.insn + 1);
  }
  for (size_t i = 0; i < insns.size(); ++i)
    if (!touched.count(i)) {
      EXPECT_EQ(insns[i], before[i]) << "insn " << i;
    }
}

TEST_F(CoreRelocationTest, RelocatingAgainstItselfChangesNothing) {
  const std::string path = compile_bpf(std::string(kPrelude) + kLocalTypes + kLocalProgram);
  ASSERT_FALSE(path.empty());
  Object o = load(path, "tp/test");
  const auto before = o.insns;
  // The local types' essential names differ from themselves only by flavor: every
  // relocation finds its own type and keeps its value.
  const auto results = apply_core_relocations(o.insns, o.section, *o.btf, o.relos, *o.btf);
  // Bitfield placement is the compiler's choice (clang 14 says an 8-byte unit
  // where libbpf's rule gives 4): those instructions may change, nothing else.
  std::set<size_t> bitfield_insns;
  for (const auto& r : results) {
    EXPECT_FALSE(r.poisoned) << r.description;
    EXPECT_EQ(r.local_value, r.target_value) << r.description;
    if (r.description.find(".kind ") != std::string::npos) bitfield_insns.insert(r.insn);
  }
  EXPECT_FALSE(bitfield_insns.empty());
  for (size_t i = 0; i < o.insns.size(); ++i) {
    if (!bitfield_insns.count(i)) {
      EXPECT_EQ(o.insns[i], before[i]) << "insn " << i;
    }
  }
}

// Member offsets of struct task_struct as `bpftool btf dump` prints them.
std::map<std::string, uint32_t> bpftool_task_struct_offsets() {
  const auto r = test_support::run_command(
      "bpftool btf dump file /sys/kernel/btf/vmlinux | awk \"/^\\[[0-9]+\\] STRUCT 'task_struct' /{f=1;next} "
      "f&&/^\\[/{exit} f{print}\"");
  std::map<std::string, uint32_t> offsets;
  const std::regex line(R"('(\w+)' type_id=\d+ bits_offset=(\d+))");
  std::smatch m;
  std::string text = r.output;
  for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it)
    offsets[(*it)[1]] = uint32_t(std::stoul((*it)[2]));
  return offsets;
}

TEST_F(CoreRelocationTest, RelocatesTaskStructAgainstVmlinux) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
  const std::string path = compile_bpf(std::string(kPrelude) + R"(
struct task_struct___local {
  int pid;
  int tgid;
  struct task_struct___local *real_parent;
  char comm[16];
  unsigned int no_such_field_here;
} __attribute__((preserve_access_index));
__u64 out[8];
SEC("tp/test") int prog(void *ctx) {
  struct task_struct___local *t = ctx;
  out[0] = t->pid;
  out[1] = t->tgid;
  out[2] = (__u64)t->real_parent;
  out[3] = bpf_core_field_size(t->comm);
  out[4] = BPF_CORE_READ(t, real_parent, tgid);
  out[5] = bpf_core_field_exists(t->no_such_field_here);
  out[6] = bpf_core_type_id_kernel(struct task_struct___local);
  return 0;
}
)");
  ASSERT_FALSE(path.empty());
  Object o = load(path, "tp/test");
  const Btf vmlinux = Btf::load_vmlinux();
  const auto results = apply_core_relocations(o.insns, o.section, *o.btf, o.relos, vmlinux);

  const auto offsets = bpftool_task_struct_offsets();
  if (offsets.empty()) GTEST_SKIP() << "bpftool could not dump vmlinux BTF";
  ASSERT_TRUE(offsets.count("pid") && offsets.count("tgid") && offsets.count("real_parent"));
  const auto& pid = find(results, "field_byte_offset struct task_struct___local.pid ");
  EXPECT_EQ(pid.target_value, offsets.at("pid") / 8);
  EXPECT_EQ(o.insns[pid.insn].off, int(offsets.at("pid") / 8));
  const auto& parent = find(results, "field_byte_offset struct task_struct___local.real_parent ");
  EXPECT_EQ(o.insns[parent.insn].off, int(offsets.at("real_parent") / 8));
  EXPECT_EQ(o.insns[parent.insn].opcode, BPF_LDX | BPF_MEM | BPF_DW);
  for (const auto& r : results)
    if (r.description.rfind("field_byte_offset struct task_struct___local.tgid ", 0) == 0) {
      EXPECT_EQ(r.target_value, offsets.at("tgid") / 8);
    }
  EXPECT_EQ(find(results, "field_byte_size struct task_struct___local.comm ").target_value, 16u);
  EXPECT_EQ(find(results, "field_exists struct task_struct___local.no_such_field_here ").target_value, 0u);

  // The type id is the vmlinux id of struct task_struct, cross-checked with the Btf API.
  const auto task = vmlinux.find_by_name("task_struct", BtfKind::Struct);
  ASSERT_TRUE(task);
  EXPECT_EQ(find(results, "type_id_target struct task_struct___local ").target_value, *task);
}

// Hand-made records on hand-made code, for the error paths.
class CoreRelocationErrors : public CoreRelocationTest {
 protected:
  void SetUp() override {
    CoreRelocationTest::SetUp();
    if (IsSkipped()) return;
    const std::string local_path = compile_bpf(std::string(kPrelude) + kLocalTypes + kLocalProgram);
    const std::string target_path = compile_bpf(kTargetTypes);
    ASSERT_FALSE(local_path.empty());
    ASSERT_FALSE(target_path.empty());
    local_ = std::make_unique<Object>(load(local_path, "tp/test"));
    target_ = std::make_unique<Btf>(load_btf(target_path));
    pkt_ = *local_->btf->find_by_name("pkt___local", BtfKind::Struct);
  }
  std::string apply_error(std::vector<isa::RawInsn> insns, const BtfCoreRelo& relo,
                          const Btf* target = nullptr) {
    try {
      apply_core_relocations(insns, "tp/test", *local_->btf, {relo}, target ? *target : *target_);
    } catch (const CoreRelocationError& e) {
      return e.what();
    }
    return "";
  }
  std::unique_ptr<Object> local_;
  std::unique_ptr<Btf> target_;
  uint32_t pkt_ = 0;
};

isa::RawInsn ldx(uint8_t size, int16_t off) {
  isa::RawInsn i;
  i.opcode = BPF_LDX | BPF_MEM | size;
  i.dst = 1;
  i.src = 6;
  i.off = off;
  return i;
}

isa::RawInsn mov_imm(int32_t imm) {
  isa::RawInsn i;
  i.opcode = BPF_ALU64 | BPF_MOV | BPF_K;
  i.dst = 1;
  i.imm = imm;
  return i;
}

TEST_F(CoreRelocationErrors, InstructionNotHoldingTheLocalValue) {
  // pkt___local.id (0:0) is at offset 0, but the load reads offset 4.
  const std::string e =
      apply_error({mov_imm(0), ldx(BPF_W, 4)}, {8, pkt_, "0:0", BPF_CORE_FIELD_BYTE_OFFSET});
  EXPECT_NE(e.find("section 'tp/test' insn 1"), std::string::npos) << e;
  EXPECT_NE(e.find("struct pkt___local.id (0:0)"), std::string::npos) << e;
  EXPECT_NE(e.find("offset is 4, expected 0"), std::string::npos) << e;
  // And an ALU immediate.
  const std::string e2 = apply_error({mov_imm(7)}, {0, pkt_, "0:1", BPF_CORE_FIELD_BYTE_OFFSET});
  EXPECT_NE(e2.find("immediate is 7, expected 4"), std::string::npos) << e2;
}

TEST_F(CoreRelocationErrors, OffsetOverflow) {
  // A target whose field lies beyond the 16-bit offset range.
  const std::string big = compile_bpf("struct pkt { char pad[40000]; int id; }; struct pkt k;");
  ASSERT_FALSE(big.empty());
  const Btf target = load_btf(big);
  const std::string e = apply_error({ldx(BPF_W, 0)}, {0, pkt_, "0:0", BPF_CORE_FIELD_BYTE_OFFSET}, &target);
  EXPECT_NE(e.find("new offset 40000 does not fit"), std::string::npos) << e;
  // The same value fits an ALU immediate.
  std::vector<isa::RawInsn> insns = {mov_imm(0)};
  const auto r = apply_core_relocations(insns, "tp/test", *local_->btf, {{0, pkt_, "0:0", 0}}, target);
  EXPECT_EQ(insns[0].imm, 40000);
}

TEST_F(CoreRelocationErrors, LoadSizeMustMatchTheField) {
  // port is a u16: a 4-byte load of it cannot be resized to the target's u32.
  const std::string e = apply_error({ldx(BPF_W, 4)}, {0, pkt_, "0:1", BPF_CORE_FIELD_BYTE_OFFSET});
  EXPECT_NE(e.find("load/store size is 4 bytes, expected the field's 2"), std::string::npos) << e;
}

TEST_F(CoreRelocationErrors, MalformedRecords) {
  EXPECT_NE(apply_error({mov_imm(0)}, {0, pkt_, "0:99", 0}).find("member index 99 is out of range"),
            std::string::npos);
  EXPECT_NE(apply_error({mov_imm(0)}, {0, pkt_, "0:x", 0}).find("malformed access string"),
            std::string::npos);
  EXPECT_NE(apply_error({mov_imm(0)}, {16, pkt_, "0:0", 0}).find("not an instruction of the section"),
            std::string::npos);
  EXPECT_NE(apply_error({mov_imm(0)}, {0, pkt_, "0:1", BPF_CORE_TYPE_SIZE}).find("must be \"0\""),
            std::string::npos);
  EXPECT_NE(apply_error({mov_imm(0)}, {0, pkt_, "0:1", 99}).find("unknown relocation kind"),
            std::string::npos);
  // An instruction class that carries no relocatable value.
  isa::RawInsn exit;
  exit.opcode = BPF_JMP | BPF_EXIT;
  EXPECT_NE(apply_error({exit}, {0, pkt_, "0:1", BPF_CORE_FIELD_BYTE_OFFSET}).find("cannot be relocated"),
            std::string::npos);
}

TEST_F(CoreRelocationErrors, AmbiguousCandidates) {
  // Two flavors of struct pkt in the target that put id at different offsets.
  const std::string two = compile_bpf(
      "struct pkt___a { int id; }; struct pkt___b { long pad; int id; };\n"
      "struct pkt___a ka; struct pkt___b kb;");
  ASSERT_FALSE(two.empty());
  const Btf target = load_btf(two);
  const std::string e = apply_error({ldx(BPF_W, 0)}, {0, pkt_, "0:0", BPF_CORE_FIELD_BYTE_OFFSET}, &target);
  EXPECT_NE(e.find("ambiguous"), std::string::npos) << e;
  // Same offset in both flavors: no ambiguity.
  const std::string same = compile_bpf(
      "struct pkt___a { int id; }; struct pkt___b { int id; long x; };\n"
      "struct pkt___a ka; struct pkt___b kb;");
  const Btf target2 = load_btf(same);
  std::vector<isa::RawInsn> insns = {ldx(BPF_W, 0)};
  EXPECT_NO_THROW(apply_core_relocations(insns, "tp/test", *local_->btf, {{0, pkt_, "0:0", 0}}, target2));
}

TEST_F(CoreRelocationErrors, IncompatibleFieldTypeIsNotACandidate) {
  // A target whose id is a struct, not an int: the field does not match, so the
  // load is poisoned and existence reads 0.
  const std::string odd = compile_bpf("struct s { int x; }; struct pkt { struct s id; }; struct pkt k;");
  ASSERT_FALSE(odd.empty());
  const Btf target = load_btf(odd);
  std::vector<isa::RawInsn> insns = {ldx(BPF_W, 0), mov_imm(1)};
  const auto r = apply_core_relocations(
      insns, "tp/test", *local_->btf,
      {{0, pkt_, "0:0", BPF_CORE_FIELD_BYTE_OFFSET}, {8, pkt_, "0:0", BPF_CORE_FIELD_EXISTS}}, target);
  EXPECT_TRUE(r[0].poisoned);
  EXPECT_TRUE(is_poison(insns[0]));
  EXPECT_EQ(insns[1].imm, 0);
}

TEST_F(CoreRelocationErrors, TypeMatches) {
  // clang 14 cannot emit TYPE_MATCHES: hand-made records on `r1 = 1`.
  const uint32_t inner = *local_->btf->find_by_name("inner___local", BtfKind::Struct);
  auto matches = [&](const std::string& target_src) {
    const std::string path = compile_bpf(target_src);
    const Btf t = load_btf(path);
    std::vector<isa::RawInsn> insns = {mov_imm(1)};
    apply_core_relocations(insns, "tp/test", *local_->btf, {{0, inner, "0", BPF_CORE_TYPE_MATCHES}}, t);
    return insns[0].imm;
  };
  // Same members (any order, extra members allowed) with same-sized ints: matches.
  EXPECT_EQ(matches("struct inner { long long b; int extra; int a; }; struct inner k;"), 1);
  // A member of another size or signedness: no match (though it still "exists").
  EXPECT_EQ(matches("struct inner { long long b; unsigned int a; }; struct inner k;"), 0);
  EXPECT_EQ(matches("struct inner { long long b; short a; }; struct inner k;"), 0);
  // A missing member: no match.
  EXPECT_EQ(matches("struct inner { long long b; }; struct inner k;"), 0);
}

}  // namespace
}  // namespace bpfkit::object
