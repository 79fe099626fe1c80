// BpfObject over clang-compiled objects: programs and their linked subprograms,
// BTF-defined, legacy and global-data maps, .values initialisers, .kconfig,
// license/version and line info. Relocations are checked against the object's
// own relocation records (llvm-objdump -r's view) and func_info.
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "../support/compile_bpf.h"
#include "object/bpf_object.h"
#include "object/elf_file.h"

namespace bpfkit::object {
namespace {

using test_support::compile_bpf;
using test_support::read_file_bytes;

const char* kKitchenSink = R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
  unsigned int type, key_size, value_size, max_entries, map_flags;
};
struct bpf_map_def SEC("maps") legacy_hash = {
  .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8, .max_entries = 64, .map_flags = 0,
};
struct bpf_map_def SEC("maps") legacy_array = {
  .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 16, .max_entries = 2,
};

struct inner_map {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} inner1 SEC(".maps"), inner2 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 3);
  __type(key, __u32);
  __array(values, struct inner_map);
} outer SEC(".maps") = { .values = { [0] = &inner1, [2] = &inner2 } };

int tail_target(struct xdp_md *ctx);
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __uint(key_size, 4);
  __array(values, int (void *));
} jumps SEC(".maps") = { .values = { [3] = (void *)&tail_target } };

struct pair { __u32 a; __u64 b; };
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, struct pair);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

int gdata = 5;
__u64 gdata2 = 0x1122334455667788ULL;
const volatile int ro = 3;
int zero;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;

static __attribute__((noinline)) int helper_static(int x) { return x * ro + 1; }
__attribute__((noinline)) int helper_global(int x) { return x + gdata + zero; }
static long loop_cb(__u32 idx, void *ctx) { gdata += idx; return 0; }

SEC("xdp") int tail_target(struct xdp_md *ctx) { return helper_static(1); }

SEC("xdp") int xdp_main(struct xdp_md *ctx) {
  bpf_loop(4, loop_cb, 0, 0);
  bpf_printk("kernel %u", LINUX_KERNEL_VERSION);
  bpf_trace_printk("literal %d\n", sizeof("literal %d\n"), 7);
  __u32 k = 1;
  struct pair *v = bpf_map_lookup_elem(&counts, &k);
  if (v) return v->a;
  __u64 *l = bpf_map_lookup_elem(&legacy_hash, &k);
  if (l) return *l + gdata2;
  bpf_tail_call(ctx, &jumps, 3);
  return helper_static(2) + helper_global(3);
}

SEC("tc") int tc_main(struct __sk_buff *skb) {
  return helper_global(skb->len) - helper_static(4);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 0x060100;
)";

struct Compiled {
  std::string path;
  std::vector<uint8_t> bytes;
};

const Compiled& kitchen_sink() {
  static Compiled c = [] {
    Compiled r;
    r.path = compile_bpf(kKitchenSink);
    if (!r.path.empty()) r.bytes = read_file_bytes(r.path);
    return r;
  }();
  return c;
}

class KitchenSink : public ::testing::Test {
 protected:
  void SetUp() override {
    BPFKIT_REQUIRE_BPF_CLANG();
    ASSERT_FALSE(kitchen_sink().path.empty());
    obj_ = std::make_unique<BpfObject>(BpfObject::open(kitchen_sink().path));
  }
  // The name of the BTF FUNC that starts at `insn`, from the linked program's func_info.
  std::string func_at(const ProgramDefinition& p, size_t insn) {
    for (const auto& f : p.funcs)
      if (f.insn == insn) return std::string(obj_->btf()->type(f.btf_type_id).name);
    return "";
  }
  std::unique_ptr<BpfObject> obj_;
};

TEST_F(KitchenSink, NameLicenseVersion) {
  EXPECT_EQ(obj_->name(), "prog");  // prog.bpf.o
  EXPECT_EQ(obj_->license(), "Dual BSD/GPL");
  EXPECT_EQ(obj_->kernel_version(), 0x060100u);
  ASSERT_NE(obj_->btf(), nullptr);
  EXPECT_FALSE(obj_->btf_bytes().empty());
}

TEST_F(KitchenSink, ProgramsInOneSectionAndTheirTypes) {
  ASSERT_EQ(obj_->programs().size(), 3u);
  EXPECT_EQ(obj_->programs()[0].name, "tail_target");
  EXPECT_EQ(obj_->programs()[1].name, "xdp_main");
  EXPECT_EQ(obj_->programs()[2].name, "tc_main");
  EXPECT_EQ(obj_->programs()[0].section, "xdp");
  EXPECT_EQ(obj_->programs()[1].section, "xdp");
  EXPECT_EQ(obj_->programs()[0].def.prog_type, uint32_t(BPF_PROG_TYPE_XDP));
  EXPECT_EQ(obj_->programs()[0].def.expected_attach_type, uint32_t(BPF_XDP));
  EXPECT_EQ(obj_->programs()[2].def.prog_type, uint32_t(BPF_PROG_TYPE_SCHED_CLS));
  EXPECT_EQ(obj_->find_program("tc"), &obj_->programs()[2]);
  EXPECT_EQ(obj_->find_program("xdp_main"), &obj_->programs()[1]);
  EXPECT_EQ(obj_->find_program("nope"), nullptr);
}

// Every pseudo call and callback reference lands on a function start named by
// func_info; each program gets exactly the subprograms it reaches.
TEST_F(KitchenSink, SubprogramsAreLinkedPerProgram) {
  std::map<std::string, std::set<std::string>> callees, callbacks;
  for (const auto& p : obj_->programs()) {
    ASSERT_FALSE(p.funcs.empty()) << p.name;
    EXPECT_EQ(p.funcs[0].insn, 0u);
    EXPECT_EQ(func_at(p, 0), p.name);
    for (size_t i = 0; i < p.insns.size(); ++i) {
      const auto& in = p.insns[i];
      if (in.opcode == (BPF_JMP | BPF_CALL) && in.src == BPF_PSEUDO_CALL) {
        const int64_t t = int64_t(i) + 1 + in.imm;
        ASSERT_GE(t, 0);
        ASSERT_LT(t, int64_t(p.insns.size()));
        callees[p.name].insert(func_at(p, size_t(t)));
      }
      if (in.opcode == (BPF_LD | BPF_IMM | BPF_DW)) {
        if (in.src == uint8_t(isa::Pseudo::Func)) {
          const int64_t t = int64_t(i) + 1 + in.imm;
          callbacks[p.name].insert(func_at(p, size_t(t)));
        }
        ++i;
      }
    }
    // func_info names one function per placed body, none twice.
    std::set<std::string> names;
    for (const auto& f : p.funcs) EXPECT_TRUE(names.insert(func_at(p, f.insn)).second) << p.name;
  }
  EXPECT_EQ(callees["tail_target"], (std::set<std::string>{"helper_static"}));
  EXPECT_EQ(callees["xdp_main"], (std::set<std::string>{"helper_static", "helper_global"}));
  EXPECT_EQ(callees["tc_main"], (std::set<std::string>{"helper_static", "helper_global"}));
  EXPECT_EQ(callbacks["xdp_main"], (std::set<std::string>{"loop_cb"}));
  EXPECT_EQ(obj_->find_program("tail_target")->funcs.size(), 2u);
  EXPECT_EQ(obj_->find_program("xdp_main")->funcs.size(),
            4u);  // itself, loop_cb, helper_static, helper_global
}

// The object's relocation records (what `llvm-objdump -r` lists) against the
// linked programs: each relocated lddw became a pseudo map / map-value / func load.
TEST_F(KitchenSink, EveryRelocatedLddwIsRewritten) {
  const auto elf = ElfFile::parse(kitchen_sink().bytes);
  const auto syms = elf.symbols();
  const auto* xdp = elf.find_section("xdp");
  ASSERT_NE(xdp, nullptr);
  const ProgramDefinition* xdp_main = obj_->find_program("xdp_main");
  uint64_t start = 0;
  for (const auto& s : syms)
    if (s.name == "xdp_main") start = s.value / 8;
  std::map<std::string, std::pair<uint8_t, int32_t>> seen;  // symbol -> (pseudo, imm)
  size_t relocs = 0;
  for (const auto& rs : elf.sections()) {
    if (rs.type != SHT_REL || rs.info != xdp->index) continue;
    for (const auto& r : elf.relocations(rs)) {
      if (r.offset / 8 < start) continue;  // tail_target's
      ++relocs;
      const auto& in = xdp_main->insns[r.offset / 8 - start];
      const auto& sym = syms[r.symbol];
      if (r.type == R_BPF_64_64) {
        ASSERT_EQ(in.opcode, BPF_LD | BPF_IMM | BPF_DW) << sym.name;
        const std::string name = sym.type == STT_SECTION ? elf.sections()[sym.section].name : sym.name;
        seen[name] = {in.src, in.imm};
      } else {
        EXPECT_EQ(r.type, uint32_t(R_BPF_64_32));
        EXPECT_EQ(in.src, BPF_PSEUDO_CALL);
      }
    }
  }
  EXPECT_GE(relocs, 9u);
  auto idx = [&](const char* n) { return int32_t(*obj_->map_index(n)); };
  EXPECT_EQ(seen["counts"], std::make_pair(uint8_t(isa::Pseudo::MapIdx), idx("counts")));
  EXPECT_EQ(seen["jumps"], std::make_pair(uint8_t(isa::Pseudo::MapIdx), idx("jumps")));
  EXPECT_EQ(seen["legacy_hash"], std::make_pair(uint8_t(isa::Pseudo::MapIdx), idx("legacy_hash")));
  EXPECT_EQ(seen["LINUX_KERNEL_VERSION"],
            std::make_pair(uint8_t(isa::Pseudo::MapIdxValue), idx("prog.kconfig")));
  EXPECT_EQ(seen[".rodata"], std::make_pair(uint8_t(isa::Pseudo::MapIdxValue), idx("prog.rodata")));
  EXPECT_EQ(seen[".rodata.str1.1"], std::make_pair(uint8_t(isa::Pseudo::MapIdxValue), idx(".rodata.str1.1")));
  EXPECT_EQ(seen[".text"].first, uint8_t(isa::Pseudo::Func));
}

// A global variable's lddw carries its offset in the data map's value.
TEST_F(KitchenSink, GlobalDataOffsets) {
  const auto* data = obj_->find_map("prog.data");
  ASSERT_NE(data, nullptr);
  ASSERT_EQ(data->value_size, 16u);  // int gdata (padded) + u64 gdata2
  const auto didx = *obj_->map_index("prog.data");
  std::set<int32_t> offsets;
  const auto* p = obj_->find_program("xdp_main");
  for (size_t i = 0; i + 1 < p->insns.size(); ++i)
    if (p->insns[i].opcode == (BPF_LD | BPF_IMM | BPF_DW)) {
      if (p->insns[i].src == uint8_t(isa::Pseudo::MapIdxValue) && p->insns[i].imm == int32_t(didx))
        offsets.insert(p->insns[i + 1].imm);
      ++i;
    }
  EXPECT_EQ(offsets, (std::set<int32_t>{0, 8}));
  int32_t g;
  uint64_t g2;
  std::memcpy(&g, data->initial_value.data(), 4);
  std::memcpy(&g2, data->initial_value.data() + 8, 8);
  EXPECT_EQ(g, 5);
  EXPECT_EQ(g2, 0x1122334455667788ULL);
}

TEST_F(KitchenSink, BtfDefinedMaps) {
  const auto* counts = obj_->find_map("counts");
  ASSERT_NE(counts, nullptr);
  EXPECT_EQ(counts->origin, MapOrigin::BtfDefined);
  EXPECT_EQ(counts->section, ".maps");
  EXPECT_EQ(counts->type, uint32_t(BPF_MAP_TYPE_HASH));
  EXPECT_EQ(counts->key_size, 4u);
  EXPECT_EQ(counts->value_size, 16u);
  EXPECT_EQ(counts->max_entries, 16u);
  EXPECT_EQ(counts->flags, uint32_t(BPF_F_NO_PREALLOC));
  EXPECT_EQ(counts->pinning, 1u);
  EXPECT_EQ(obj_->btf()->type_name(counts->btf_key_type_id), "__u32");
  EXPECT_EQ(obj_->btf()->type_name(counts->btf_value_type_id), "struct pair");

  const auto* events = obj_->find_map("events");
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->type, uint32_t(BPF_MAP_TYPE_RINGBUF));
  EXPECT_EQ(events->max_entries, 4096u);
  EXPECT_EQ(events->key_size, 0u);
  EXPECT_EQ(events->btf_key_type_id, 0u);
}

TEST_F(KitchenSink, MapInMapAndProgArrayInitialisers) {
  const auto* outer = obj_->find_map("outer");
  ASSERT_NE(outer, nullptr);
  EXPECT_EQ(outer->type, uint32_t(BPF_MAP_TYPE_ARRAY_OF_MAPS));
  EXPECT_EQ(outer->value_size, 4u);
  ASSERT_TRUE(outer->inner.has_value());
  const auto& inner = obj_->maps()[*outer->inner];
  EXPECT_TRUE(inner.inner_template);
  EXPECT_EQ(inner.name, "outer.inner");
  EXPECT_EQ(inner.type, uint32_t(BPF_MAP_TYPE_ARRAY));
  EXPECT_EQ(inner.value_size, 8u);
  EXPECT_EQ(inner.max_entries, 4u);
  ASSERT_EQ(outer->initial_slots.size(), 2u);
  EXPECT_EQ(outer->initial_slots[0].index, 0u);
  EXPECT_EQ(outer->initial_slots[0].kind, MapInitialSlot::Kind::Map);
  EXPECT_EQ(obj_->maps()[outer->initial_slots[0].target].name, "inner1");
  EXPECT_EQ(outer->initial_slots[1].index, 2u);
  EXPECT_EQ(obj_->maps()[outer->initial_slots[1].target].name, "inner2");

  const auto* jumps = obj_->find_map("jumps");
  ASSERT_NE(jumps, nullptr);
  EXPECT_EQ(jumps->key_size, 4u);
  EXPECT_EQ(jumps->value_size, 4u);
  ASSERT_EQ(jumps->initial_slots.size(), 1u);
  EXPECT_EQ(jumps->initial_slots[0].index, 3u);
  EXPECT_EQ(jumps->initial_slots[0].kind, MapInitialSlot::Kind::Program);
  EXPECT_EQ(obj_->programs()[jumps->initial_slots[0].target].name, "tail_target");
  // Templates are never referenced by code and come last.
  EXPECT_EQ(*outer->inner, obj_->maps().size() - 1);
}

TEST_F(KitchenSink, LegacyMaps) {
  const auto* h = obj_->find_map("legacy_hash");
  const auto* a = obj_->find_map("legacy_array");
  ASSERT_NE(h, nullptr);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(h->origin, MapOrigin::Legacy);
  EXPECT_EQ(h->section, "maps");
  EXPECT_EQ(h->type, uint32_t(BPF_MAP_TYPE_HASH));
  EXPECT_EQ(h->key_size, 4u);
  EXPECT_EQ(h->value_size, 8u);
  EXPECT_EQ(h->max_entries, 64u);
  EXPECT_EQ(a->type, uint32_t(BPF_MAP_TYPE_ARRAY));
  EXPECT_EQ(a->value_size, 16u);
  EXPECT_EQ(a->max_entries, 2u);
}

TEST_F(KitchenSink, GlobalDataMaps) {
  const auto* ro = obj_->find_map("prog.rodata");
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->origin, MapOrigin::GlobalData);
  EXPECT_EQ(ro->type, uint32_t(BPF_MAP_TYPE_ARRAY));
  EXPECT_EQ(ro->key_size, 4u);
  EXPECT_EQ(ro->max_entries, 1u);
  EXPECT_EQ(ro->flags, uint32_t(BPF_F_RDONLY_PROG));
  int32_t v;
  std::memcpy(&v, ro->initial_value.data(), 4);
  EXPECT_EQ(v, 3);
  ASSERT_NE(ro->btf_value_type_id, 0u);
  const auto& ds = obj_->btf()->type(ro->btf_value_type_id);
  EXPECT_EQ(ds.kind, BtfKind::Datasec);
  EXPECT_EQ(ds.size, ro->value_size);  // fixed up from the ELF section, as libbpf does

  const auto* bss = obj_->find_map("prog.bss");
  ASSERT_NE(bss, nullptr);
  EXPECT_EQ(bss->flags, 0u);
  EXPECT_EQ(bss->value_size, 4u);
  EXPECT_EQ(bss->initial_value, std::vector<uint8_t>(4, 0));

  const auto* str = obj_->find_map(".rodata.str1.1");
  ASSERT_NE(str, nullptr);
  EXPECT_EQ(str->flags, uint32_t(BPF_F_RDONLY_PROG));
  const std::string text(str->initial_value.begin(), str->initial_value.end());
  EXPECT_NE(text.find("literal %d\n"), std::string::npos);

  const auto* data = obj_->find_map("prog.data");
  ASSERT_NE(data, nullptr);
  const auto& dds = obj_->btf()->type(data->btf_value_type_id);
  ASSERT_EQ(dds.as<BtfDatasec>()->vars.size(), 2u);
  EXPECT_EQ(dds.as<BtfDatasec>()->vars[1].offset, 8u);  // gdata2, at its symbol's offset
}

TEST_F(KitchenSink, KconfigKernelVersion) {
  const auto* k = obj_->find_map("prog.kconfig");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->origin, MapOrigin::Kconfig);
  EXPECT_EQ(k->flags, uint32_t(BPF_F_RDONLY_PROG));
  ASSERT_EQ(k->value_size, 4u);
  struct utsname u;
  ASSERT_EQ(uname(&u), 0);
  unsigned a = 0, b = 0, c = 0;
  sscanf(u.release, "%u.%u.%u", &a, &b, &c);
  uint32_t v;
  std::memcpy(&v, k->initial_value.data(), 4);
  EXPECT_EQ(v, (a << 16) | (b << 8) | std::min(c, 255u));
}

TEST_F(KitchenSink, LineInfoAfterLinking) {
  const auto* p = obj_->find_program("xdp_main");
  ASSERT_FALSE(p->lines.empty());
  EXPECT_TRUE(std::is_sorted(p->lines.begin(), p->lines.end(),
                             [](const SourceLine& a, const SourceLine& b) { return a.insn < b.insn; }));
  const auto counts = int32_t(*obj_->map_index("counts"));
  bool found = false;
  for (size_t i = 0; i < p->insns.size(); ++i)
    if (p->insns[i].opcode == (BPF_LD | BPF_IMM | BPF_DW) &&
        p->insns[i].src == uint8_t(isa::Pseudo::MapIdx) && p->insns[i].imm == counts) {
      const SourceLine* l = p->line_of(i);
      ASSERT_NE(l, nullptr);
      EXPECT_NE(l->text.find("bpf_map_lookup_elem(&counts"), std::string::npos) << l->text;
      EXPECT_NE(l->file.find("prog.bpf.c"), std::string::npos);
      EXPECT_GT(l->line, 60u);
      found = true;
    }
  EXPECT_TRUE(found);
  // The callee's lines were carried to where helper_global landed in this program.
  bool helper_line = false;
  for (const auto& l : p->lines) helper_line |= l.text.find("return x + gdata + zero") != std::string::npos;
  EXPECT_TRUE(helper_line);
  EXPECT_EQ(p->line_of(0), &p->lines[0]);
}

TEST(BpfObjectLoad, InternalMapNamesFollowLibbpf) {
  BPFKIT_REQUIRE_BPF_CLANG();
  ASSERT_FALSE(kitchen_sink().path.empty());
  ObjectLoadOptions o;
  o.name = "blocklist";
  auto obj = BpfObject::parse(kitchen_sink().bytes, o);
  EXPECT_NE(obj.find_map("blocklis.rodata"), nullptr);
  EXPECT_NE(obj.find_map("blocklis.data"), nullptr);
  EXPECT_NE(obj.find_map("blocklis.bss"), nullptr);
  EXPECT_NE(obj.find_map("blockli.kconfig"), nullptr);
  EXPECT_NE(obj.find_map(".rodata.str1.1"), nullptr);
  o.name = "my-obj";  // characters the kernel refuses become '_'
  obj = BpfObject::parse(kitchen_sink().bytes, o);
  EXPECT_NE(obj.find_map("my_obj.rodata"), nullptr);
}

TEST(BpfObjectLoad, StaticSubprogramsInTheSameSectionAndNoBtf) {
  BPFKIT_REQUIRE_BPF_CLANG();
  // Compiled without -g: no BTF, so no func/line info, still linked.
  const auto path = compile_bpf(R"(#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static __attribute__((noinline)) int twice(int x) { return x * 2; }
static __attribute__((noinline)) int add3(int x) { return twice(x) + 3; }
SEC("socket") int sock(void *ctx) { return add3(1) + twice(5); }
char LICENSE[] SEC("license") = "GPL";
)",
                                "-g0");
  ASSERT_FALSE(path.empty());
  auto obj = BpfObject::open(path);
  EXPECT_EQ(obj.btf(), nullptr);
  ASSERT_EQ(obj.programs().size(), 1u);
  const auto& p = obj.programs()[0];
  EXPECT_EQ(p.def.prog_type, uint32_t(BPF_PROG_TYPE_SOCKET_FILTER));
  EXPECT_TRUE(p.funcs.empty());
  EXPECT_TRUE(p.lines.empty());
  // Calls reach two distinct function starts, each ending in exit before the next starts.
  std::set<size_t> targets;
  for (size_t i = 0; i < p.insns.size(); ++i)
    if (p.insns[i].opcode == (BPF_JMP | BPF_CALL) && p.insns[i].src == BPF_PSEUDO_CALL)
      targets.insert(i + 1 + size_t(int64_t(p.insns[i].imm)));
  EXPECT_EQ(targets.size(), 2u);
  for (size_t t : targets) {
    ASSERT_LT(t, p.insns.size());
    EXPECT_EQ(p.insns[t - 1].opcode, BPF_JMP | BPF_EXIT);  // placed after another function's exit
  }
}

TEST(BpfObjectLoad, HandWrittenObject) {
  // write_bpf_object's objects: no BTF, one program per section.
  std::vector<ElfProgram> progs = {
      {"kprobe/do_sys_open",
       "probe",
       {isa::RawInsn{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0}, isa::RawInsn{BPF_JMP | BPF_EXIT, 0, 0, 0, 0}}},
      {"uretprobe.s//bin/bash:readline", "rl", {isa::RawInsn{BPF_JMP | BPF_EXIT, 0, 0, 0, 0}}},
  };
  ObjectLoadOptions o;
  o.name = "hand";
  auto obj = BpfObject::parse(write_bpf_object(progs, "MIT"), o);
  EXPECT_EQ(obj.license(), "MIT");
  ASSERT_EQ(obj.programs().size(), 2u);
  EXPECT_EQ(obj.programs()[0].def.prog_type, uint32_t(BPF_PROG_TYPE_KPROBE));
  EXPECT_EQ(obj.programs()[0].def.attach_target, "do_sys_open");
  EXPECT_EQ(obj.programs()[0].insns.size(), 2u);
  EXPECT_TRUE(obj.programs()[1].def.sleepable);
  EXPECT_TRUE(obj.programs()[1].def.retprobe);
  EXPECT_EQ(obj.programs()[1].def.attach_target, "/bin/bash:readline");
  EXPECT_TRUE(obj.maps().empty());
}

}  // namespace
}  // namespace bpfkit::object
