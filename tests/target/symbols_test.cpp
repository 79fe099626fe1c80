// Symbolization for the tracing language: /proc/kallsyms and /proc/PID/maps line
// parsing, address lookup in hand-built tables (nesting, aliases, sizes), this test
// process's own functions and a libc function found through /proc/self/maps and the
// ELF symbol tables, and the text layouts of kstack/ustack/ksym/usym checked against
// what bpftrace 0.17 printed for the same addresses on this machine.
#include <dlfcn.h>
#include <elf.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "object/elf_file.h"
#include "target/linux/elf_symbol_offset.h"
#include "target/linux/kernel_symbols.h"
#include "target/linux/stack_format.h"
#include "target/linux/user_symbols.h"

extern "C" __attribute__((noinline, used)) int bpfkit_symbols_test_target(int x) {
  asm volatile("" ::: "memory");
  return x * 3 + 1;
}
extern "C" {
__attribute__((used)) int bpfkit_symbols_test_counter = 7;  // .data
__attribute__((used)) long bpfkit_symbols_test_zeroes[64];  // .bss
}

namespace bpfkit_symbols_test {
__attribute__((noinline, used)) int cxx_target(int x) {
  asm volatile("" ::: "memory");
  return x + 2;
}
}  // namespace bpfkit_symbols_test

namespace bpfkit::target::linux_kernel {
namespace {

uint64_t addr_of(const void* p) { return reinterpret_cast<uint64_t>(p); }

// --- kallsyms -----------------------------------------------------------------

TEST(SymbolKallsymsParse, ReadsKernelAndModuleLines) {
  auto e = parse_kallsyms_line("ffffffff816d5b70 T vfs_read\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->address, 0xffffffff816d5b70ull);
  EXPECT_EQ(e->type, 'T');
  EXPECT_EQ(e->name, "vfs_read");
  EXPECT_EQ(e->module, "");
  e = parse_kallsyms_line("ffffffffc0025500 t bpf_dispatcher_xdp\t[bpf]");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "bpf_dispatcher_xdp");
  EXPECT_EQ(e->module, "bpf");
  e = parse_kallsyms_line("0000000000000000 t finish_task_switch.isra.0");  // as non-root sees it
  ASSERT_TRUE(e);
  EXPECT_EQ(e->address, 0u);
  EXPECT_EQ(e->name, "finish_task_switch.isra.0");
}

TEST(SymbolKallsymsParse, RejectsMalformedLines) {
  for (const char* bad : {"", "ffffffff816d5b70", "ffffffff816d5b70 T", "ffffffff816d5b70 T ", "xyz T f",
                          "ffffffff816d5b70  T f", "1ffffffff816d5b700 T f", "ffff T f\t[mod", "ffff T f\t[]",
                          "ffff T f\tmod", "ffff T  f", "ffff TT f", "ffff T f\t[a:b]"}) {
    EXPECT_FALSE(parse_kallsyms_line(bad)) << '"' << bad << '"';
  }
}

// The symbols bpftrace resolved in a kernel stack here (addresses minus the offsets it printed).
constexpr const char* kKallsyms =
    "ffffffff81000000 T srso_alias_untrain_ret\n"
    "ffffffff81000000 T _stext\n"
    "ffffffff810000ba T entry_SYSCALL_64_after_hwframe\n"
    "ffffffff82000000 D some_variable\n"
    "ffffffff8225a650 T do_syscall_64\n"
    "ffffffff8225fc30 t __raw_callee_save_pvm_irq_enable\n"
    "ffffffff8225fd00 T pvm_irq_enable\n"
    "ffffffff8225fd00 t pvm_irq_enable_alias\n"
    "ffffffff82400000 D __start_rodata\n"
    "ffffffff83000000 B jiffies_like\n"
    "ffffffffc0025500 t bpf_dispatcher_xdp\t[bpf]\n"
    "ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n"
    "ffffffffc0202000 t do_syscall_64\t[shadow]\n"
    "not a line\n";

TEST(SymbolKernel, ResolvesAddressesToTheSymbolBelow) {
  const KernelSymbols syms = KernelSymbols::parse(kKallsyms);
  EXPECT_EQ(syms.size(), 13u);
  EXPECT_FALSE(syms.addresses_hidden());
  EXPECT_EQ(syms.resolve(0xffffffff8225a695), (SymbolHit{"do_syscall_64", 69, ""}));
  EXPECT_EQ(syms.resolve(0xffffffff810000ba), (SymbolHit{"entry_SYSCALL_64_after_hwframe", 0, ""}));
  // Data symbols are not stack frames: past them, the text symbol below still names the address.
  EXPECT_EQ(syms.resolve(0xffffffff82000010)->name, "entry_SYSCALL_64_after_hwframe");
  EXPECT_EQ(syms.resolve(0xffffffff82400008)->name, "pvm_irq_enable_alias");
  // Equal addresses: the one listed last.
  EXPECT_EQ(syms.resolve(0xffffffff81000001), (SymbolHit{"_stext", 1, ""}));
  // Modules, and no upper bound (bpftrace names 0xfffffffff0000000 after the last symbol too).
  EXPECT_EQ(syms.resolve(0xffffffffc0025508), (SymbolHit{"bpf_dispatcher_xdp", 8, "bpf"}));
  EXPECT_EQ(syms.resolve(0xfffffffff0000000)->name, "do_syscall_64");
  EXPECT_FALSE(syms.resolve(0x1234));
  EXPECT_FALSE(syms.resolve(0xffffffff80ffffff));
}

TEST(SymbolKernel, FindsAddressesByName) {
  const KernelSymbols syms = KernelSymbols::parse(kKallsyms);
  EXPECT_EQ(syms.address_of("do_syscall_64"), 0xffffffff8225a650ull);  // vmlinux comes first in the file
  EXPECT_EQ(syms.address_of("shadow:do_syscall_64"), 0xffffffffc0202000ull);
  EXPECT_EQ(syms.address_of("vmlinux:do_syscall_64"), 0xffffffff8225a650ull);
  EXPECT_EQ(syms.address_of("jiffies_like"), 0xffffffff83000000ull);  // kaddr() takes variables too
  EXPECT_EQ(syms.address_of("bpf_dispatcher_xdp"), 0xffffffffc0025500ull);
  EXPECT_FALSE(syms.address_of("do_syscall"));
  EXPECT_FALSE(syms.address_of("nomodule:do_syscall_64"));  // not a module: a name with a colon, absent
  EXPECT_EQ(KernelSymbols::parse("ffff0000 t odd:name\n").address_of("odd:name"), 0xffff0000u);
  EXPECT_FALSE(syms.address_of(""));
}

TEST(SymbolKernel, HiddenAddressesResolveNothing) {
  const KernelSymbols syms = KernelSymbols::parse("0000000000000000 T _text\n0000000000000000 T vfs_read\n");
  EXPECT_TRUE(syms.addresses_hidden());
  EXPECT_FALSE(syms.resolve(0xffffffff81000000));
  EXPECT_FALSE(syms.address_of("vfs_read"));
  EXPECT_EQ(format_ksym(0xffffffff81000000, syms), "0xffffffff81000000");
  EXPECT_FALSE(KernelSymbols::parse("").addresses_hidden());
}

TEST(SymbolKernel, LoadNamesAMissingFile) {
  try {
    KernelSymbols::load("/nonexistent/kallsyms");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/kallsyms"), std::string::npos) << e.what();
  }
}

// --- kstack / ksym layouts, as bpftrace 0.17 printed these frames ----------------

const std::vector<uint64_t> kKernelIps = {0xffffffff8225fd19, 0xffffffff8225fc41, 0xffffffff8225a695,
                                          0xffffffff81000130, 0, 0};

TEST(SymbolStackFormat, KstackInAMapKeyAndInPrintf) {
  const KernelSymbols syms = KernelSymbols::parse(
      "ffffffff810000ba T entry_SYSCALL_64_after_hwframe\nffffffff8225a650 T do_syscall_64\n"
      "ffffffff8225fc30 t __raw_callee_save_pvm_irq_enable\nffffffff8225fd00 T pvm_irq_enable\n");
  // @[kstack] = count() printed "@[" this "]: 3".
  EXPECT_EQ(format_kstack(kKernelIps, syms, StackMode::bpftrace, kDefaultStackLimit, kMapKeyStackIndent),
            "\n"
            "    pvm_irq_enable+25\n"
            "    __raw_callee_save_pvm_irq_enable+17\n"
            "    do_syscall_64+69\n"
            "    entry_SYSCALL_64_after_hwframe+118\n");
  // printf("[%s]\n", kstack(4)).
  EXPECT_EQ(format_kstack(kKernelIps, syms, StackMode::bpftrace, 4),
            "\n"
            "        pvm_irq_enable+25\n"
            "        __raw_callee_save_pvm_irq_enable+17\n"
            "        do_syscall_64+69\n"
            "        entry_SYSCALL_64_after_hwframe+118\n");
  // @k3[kstack(3)].
  EXPECT_EQ(format_kstack(kKernelIps, syms, StackMode::bpftrace, 3, kMapKeyStackIndent),
            "\n    pvm_irq_enable+25\n    __raw_callee_save_pvm_irq_enable+17\n    do_syscall_64+69\n");
  // printf("{%s}\n", kstack(perf, 3)).
  EXPECT_EQ(format_kstack(kKernelIps, syms, StackMode::perf, 3),
            "\n"
            "\tffffffff8225fd19 pvm_irq_enable+25\n"
            "\tffffffff8225fc41 __raw_callee_save_pvm_irq_enable+17\n"
            "\tffffffff8225a695 do_syscall_64+69\n");
  // A sample taken in user mode has no kernel stack: "@[]: 55", "[]".
  EXPECT_EQ(format_kstack({}, syms), "");
  EXPECT_EQ(format_kstack(std::vector<uint64_t>{0, 0xffffffff8225fd19}, syms), "");
  EXPECT_EQ(format_kstack(kKernelIps, syms, StackMode::bpftrace, 0), "");
  // Below every symbol: the address in hex, in both modes.
  EXPECT_EQ(format_kstack(std::vector<uint64_t>{0x1234}, syms), "\n        0x1234\n");
  EXPECT_EQ(format_kstack(std::vector<uint64_t>{0x1234}, syms, StackMode::perf), "\n\t1234 0x1234\n");
}

TEST(SymbolStackFormat, KsymIsTheNameAlone) {
  const KernelSymbols syms = KernelSymbols::parse(kKallsyms);
  // BEGIN { printf("<%s> <%s> <%s> <%s>\n", ksym(vfs_read), ksym(vfs_read + 5), ksym(0x1234), ksym(0)) }
  // printed "<vfs_read> <vfs_read> <0x1234> <0>".
  EXPECT_EQ(format_ksym(0xffffffff8225a650, syms), "do_syscall_64");
  EXPECT_EQ(format_ksym(0xffffffff8225a655, syms), "do_syscall_64");
  EXPECT_EQ(format_ksym(0x1234, syms), "0x1234");
  EXPECT_EQ(format_ksym(0, syms), "0");
  EXPECT_EQ(format_ksym(0xffffffffc0201005, syms), "ftrace_trampoline");
}

// --- /proc/PID/maps and perf map lines -------------------------------------------

TEST(SymbolMapsParse, ReadsFileAnonymousAndPseudoMappings) {
  auto e = parse_maps_line(
      "7f8b3f15c000-7f8b3f182000 r--p 00000000 08:01 1315340                    "
      "/usr/lib/x86_64-linux-gnu/libc.so.6\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->start, 0x7f8b3f15c000ull);
  EXPECT_EQ(e->end, 0x7f8b3f182000ull);
  EXPECT_EQ(e->perms, "r--p");
  EXPECT_FALSE(e->executable());
  EXPECT_EQ(e->offset, 0u);
  EXPECT_EQ(e->device, "08:01");
  EXPECT_EQ(e->inode, 1315340u);
  EXPECT_EQ(e->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  e = parse_maps_line("7ffd3a5e1000-7ffd3a5e3000 r-xp 00000000 00:00 0                          [vdso]");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->executable());
  EXPECT_EQ(e->path, "[vdso]");
  e = parse_maps_line("7f0000000000-7f0000001000 rwxp 00000000 00:00 0 ");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "");
  e = parse_maps_line("55d0c3a00000-55d0c3a28000 r-xp 00028000 fd:00 42 /tmp/my prog (deleted)");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset, 0x28000u);
  EXPECT_EQ(e->path, "/tmp/my prog (deleted)");
}

TEST(SymbolMapsParse, RejectsMalformedLines) {
  for (const char* bad : {"", "7f00-7f10", "7f00 7f10 r-xp 0 08:01 1 /x", "7f10-7f00 r-xp 0 08:01 1 /x",
                          "7f00-7f10 r-x 0 08:01 1 /x", "7f00-7f10 r-xp zz 08:01 1 /x", "7f00-7f10 r-xp 0 0801 1 /x",
                          "7f00-7f10 r-xp 0 08:01 x /x", "7f00-7f10 r-xp 0 08:01 1x /x",
                          "11111111111111111-7f10 r-xp 0 08:01 1 /x", "7f00-7f10 r-xp 0 08:01 99999999999999999999 /x"}) {
    EXPECT_FALSE(parse_maps_line(bad)) << '"' << bad << '"';
  }
}

TEST(SymbolMapsParse, ReadsPerfMapLines) {
  auto e = parse_perf_map_line("7f3e2c001000 40 LazyCompile:~main /tmp/x.js:1\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->start, 0x7f3e2c001000ull);
  EXPECT_EQ(e->size, 0x40u);
  EXPECT_EQ(e->name, "LazyCompile:~main /tmp/x.js:1");
  e = parse_perf_map_line("0x10 0x20 f");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->start, 0x10u);
  EXPECT_EQ(e->size, 0x20u);
  for (const char* bad : {"", "10", "10 20", "10 20 ", "x 20 f", "10 y f"}) {
    EXPECT_FALSE(parse_perf_map_line(bad)) << '"' << bad << '"';
  }
}

// --- ELF symbol tables -----------------------------------------------------------

using Sym = ElfSymbols::Symbol;

TEST(SymbolElfTable, NestedSymbolsAndSizes) {
  // goo [0,6) foo [6,0x16) bar [8,0xc) inside foo, baz [0x16,0x26), a sizeless label at 0x30.
  const ElfSymbols t = ElfSymbols::from({{0x16, 0x10, "baz"}, {0x0, 0x6, "goo"}, {0x6, 0x10, "foo"},
                                         {0x8, 0x4, "bar"}, {0x30, 0, "label"}},
                                        {{0, 0, 0x1000, 0x1000}});
  auto name_at = [&](uint64_t a) -> std::string {
    const auto hit = t.find(a);
    return hit ? hit->first->name + "+" + std::to_string(hit->second) : "-";
  };
  EXPECT_EQ(name_at(0x0), "goo+0");
  EXPECT_EQ(name_at(0x5), "goo+5");
  EXPECT_EQ(name_at(0x6), "foo+0");
  EXPECT_EQ(name_at(0x9), "bar+1");
  EXPECT_EQ(name_at(0x12), "foo+12");  // past the nested bar, still in foo
  EXPECT_EQ(name_at(0x16), "baz+0");
  EXPECT_EQ(name_at(0x25), "baz+15");
  EXPECT_EQ(name_at(0x26), "-");  // just past baz: unknown, as bpftrace prints main's return address
  EXPECT_EQ(name_at(0x30), "-");  // a symbol without a size covers nothing
  EXPECT_EQ(name_at(0x1000000), "-");
}

TEST(SymbolElfTable, AliasesResolveAsBpftraceResolvesThem) {
  // libc's getppid: four aliases in libc6-dbg's symbol table, then .dynsym's, in file order.
  // bpftrace printed "getppid+0" (and this order is what its sort keeps for so few symbols).
  const ElfSymbols t = ElfSymbols::from({{0xd54f0, 8, "__GI_getppid", true, false},
                                         {0xd54f0, 8, "__getppid", true, false},
                                         {0xd54f0, 8, "__GI___getppid", true, false},
                                         {0xd54f0, 8, "getppid", true, true},
                                         {0xd54f0, 8, "getppid", true, true}},
                                        {{0, 0, 0x100000, 0x100000}});
  ASSERT_TRUE(t.find(0xd54f7));
  EXPECT_EQ(t.find(0xd54f7)->first->name, "getppid");
  EXPECT_EQ(t.find(0xd54f7)->second, 7u);
  EXPECT_EQ(t.address_of("__GI_getppid"), 0xd54f0u);
  // An alias without a size does not hide a sized one at the same address.
  const ElfSymbols sized = ElfSymbols::from({{0x100, 0x10, "real"}, {0x100, 0, "label"}}, {{0, 0, 0x1000, 0x1000}});
  EXPECT_EQ(sized.find(0x104)->first->name, "real");
}

TEST(SymbolElfTable, ManyAliasesFollowTheSortNotTheFileOrder) {
  // Past 16 symbols std::sort is no longer an insertion sort: which of the aliases is left
  // last depends on the whole sequence. The lookup must agree with a plain std::sort of it.
  std::vector<Sym> symbols;
  for (int i = 0; i < 40; ++i) symbols.push_back({uint64_t(0x1000 + (i % 5) * 0x10), 0x10, "f" + std::to_string(i)});
  std::vector<Sym> sorted = symbols;
  std::sort(sorted.begin(), sorted.end(), [](const Sym& a, const Sym& b) { return a.start < b.start; });
  const ElfSymbols t = ElfSymbols::from(symbols, {{0, 0, 0x10000, 0x10000}});
  for (int k = 0; k < 5; ++k) {
    const uint64_t addr = 0x1000 + k * 0x10 + 3;
    auto last = std::upper_bound(sorted.begin(), sorted.end(), addr,
                                 [](uint64_t a, const Sym& s) { return a < s.start; }) - 1;
    ASSERT_TRUE(t.find(addr));
    EXPECT_EQ(t.find(addr)->first->name, last->name) << k;
  }
}

TEST(SymbolElfTable, AddressOfPrefersFunctionsAndReadsDemangledNames) {
  const ElfSymbols t = ElfSymbols::from({{0x4000, 8, "counter", false, true},
                                         {0x1000, 0x20, "counter", true, false},
                                         {0x1100, 0x10, "_ZN2ns4workEi", true, true}},
                                        {{0, 0, 0x1000, 0x2000}, {0x1000, 0x1000, 0x1000, 0x1000}});
  EXPECT_EQ(t.address_of("counter"), 0x1000u);
  EXPECT_EQ(t.address_of("ns::work(int)"), 0x1100u);
  EXPECT_EQ(t.address_of("_ZN2ns4workEi"), 0x1100u);
  EXPECT_FALSE(t.address_of("ns::work"));
  EXPECT_EQ(t.find(0x4004)->first->name, "counter");  // in the table; processes map only code (usym below)
  EXPECT_EQ(t.vaddr_of_file_offset(0x1108), 0x1108u);
  EXPECT_EQ(t.file_offset_of_vaddr(0x1108), 0x1108u);
  EXPECT_FALSE(t.vaddr_of_file_offset(0x2000));
  EXPECT_EQ(demangle_symbol("_ZN2ns4workEi"), "ns::work(int)");
  EXPECT_EQ(demangle_symbol("_Znot_mangled"), "_Znot_mangled");
  EXPECT_EQ(demangle_symbol("main"), "main");
}

TEST(SymbolElfTable, ParsesAnImageInMemoryAndRejectsTruncatedOnes) {
  // libc from memory: the same address for getppid as the file reader behind uprobes finds.
  const std::string libc = resolve_binary_path("libc.so.6");
  std::ifstream in(libc, std::ios::binary);
  ASSERT_TRUE(in) << libc;
  std::vector<uint8_t> image(std::filesystem::file_size(libc));
  in.read(reinterpret_cast<char*>(image.data()), std::streamsize(image.size()));
  ASSERT_EQ(size_t(in.gcount()), image.size());
  const ElfSymbols t = ElfSymbols::parse(image);
  EXPECT_EQ(t.address_of("getppid"), elf_symbol_offset(libc, "getppid").address);
  EXPECT_FALSE(t.segments().empty());
  EXPECT_EQ(t.build_id().size(), 40u);  // a GNU build-id: 20 bytes in hex
  for (size_t n : {size_t(0), size_t(4), size_t(63), image.size() / 2, image.size() - 1}) {
    EXPECT_THROW(ElfSymbols::parse(std::span(image).first(n)), object::ElfError) << n << " bytes";
  }
  std::vector<uint8_t> bad = image;
  bad[EI_CLASS] = ELFCLASS32;
  EXPECT_THROW(ElfSymbols::parse(bad), object::ElfError);
  bad = image;
  bad[0] = 'X';
  EXPECT_THROW(ElfSymbols::parse(bad), object::ElfError);
}

// --- ustack / usym layouts, from one bpftrace 0.17 session -------------------------

// /tmp/syms_busy (PIE, gcc -O1 -fno-omit-frame-pointer) mapped at 0x559e3c8c7000 and libc at
// 0x7f8b3f15c000, with their real segments and the symbols bpftrace named.
UserSymbols busy_process() {
  auto busy = std::make_shared<const ElfSymbols>(ElfSymbols::from(
      {{0x1149, 0x26, "leaf"}, {0x116f, 0xf, "middle"}, {0x117e, 0x33, "outer"}, {0x11b1, 0x9, "main"}},
      {{0x0, 0x0, 0x678, 0x678}, {0x1000, 0x1000, 0x1c5, 0x1c5}, {0x2000, 0x2000, 0x15c, 0x15c},
       {0x2dc0, 0x3dc0, 0x260, 0x268}}));
  auto libc = std::make_shared<const ElfSymbols>(ElfSymbols::from(
      {{0x271d0, 172, "__libc_start_call_main", true, false}},
      {{0x0, 0x0, 0x25388, 0x25388}, {0x26000, 0x26000, 0x1550fc, 0x1550fc}}));
  auto module = [](uint64_t start, uint64_t end, uint64_t offset, const char* path,
                   std::shared_ptr<const ElfSymbols> t) {
    UserSymbols::Module m;
    m.start = start;
    m.end = end;
    m.file_offset = offset;
    m.path = path;
    m.table = std::move(t);
    m.load_tried = true;
    return m;
  };
  const char* libc_path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  return UserSymbols::from_modules({
      module(0x7f8b3f182000, 0x7f8b3f2d7000, 0x26000, libc_path, libc),
      module(0x559e3c8c8000, 0x559e3c8c9000, 0x1000, "/tmp/syms_busy", busy),
      module(0x559e3c8c7000, 0x559e3c8c8000, 0x0, "/tmp/syms_busy", busy),
      module(0x7f8b3f15c000, 0x7f8b3f182000, 0x0, libc_path, libc),
  });
}

const std::vector<uint64_t> kUserIps = {0x559e3c8c816f, 0x559e3c8c8198, 0x559e3c8c81ba, 0x7f8b3f18324a, 0};

TEST(SymbolStackFormat, UstackLayouts) {
  const UserSymbols syms = busy_process();
  // uprobe:/tmp/syms_busy:middle { printf("[%s]\n", ustack); }
  EXPECT_EQ(format_ustack(kUserIps, syms),
            "\n"
            "        middle+0\n"
            "        outer+26\n"
            "        0x559e3c8c81ba\n"  // main's return address lies past main's 9 bytes
            "        __libc_start_call_main+122\n");
  // printf("[%s]\n", ustack(perf, 2)).
  EXPECT_EQ(format_ustack(kUserIps, syms, StackMode::perf, 2),
            "\n"
            "\t559e3c8c816f middle+0 (/tmp/syms_busy)\n"
            "\t559e3c8c8198 outer+26 (/tmp/syms_busy)\n");
  // @up2[ustack(perf)] = count().
  EXPECT_EQ(format_ustack(kUserIps, syms, StackMode::perf, kDefaultStackLimit, kMapKeyStackIndent),
            "\n"
            "\t559e3c8c816f middle+0 (/tmp/syms_busy)\n"
            "\t559e3c8c8198 outer+26 (/tmp/syms_busy)\n"
            "\t559e3c8c81ba 0x559e3c8c81ba ([unknown])\n"
            "\t7f8b3f18324a __libc_start_call_main+122 (/usr/lib/x86_64-linux-gnu/libc.so.6)\n");
  // @u2[ustack(2)] = count().
  EXPECT_EQ(format_ustack(kUserIps, syms, StackMode::bpftrace, 2, kMapKeyStackIndent),
            "\n    middle+0\n    outer+26\n");
  // printf("%s|%s\n", ustack(1), kstack) in a uprobe: the kernel stack is empty.
  EXPECT_EQ(format_ustack(kUserIps, syms, StackMode::bpftrace, 1) + "|", "\n        middle+0\n|");
  // An exited process: every frame in hex ("@p[\n\t557d76990149 0x557d76990149 ([unknown])\n...").
  const UserSymbols gone = UserSymbols::for_process(-5);
  EXPECT_EQ(format_ustack(kUserIps, gone, StackMode::bpftrace, 2, kMapKeyStackIndent),
            "\n    0x559e3c8c816f\n    0x559e3c8c8198\n");
  EXPECT_EQ(format_ustack(kUserIps, gone, StackMode::perf, 1), "\n\t559e3c8c816f 0x559e3c8c816f ([unknown])\n");
}

TEST(SymbolStackFormat, UsymIsTheNameAlone) {
  const UserSymbols syms = busy_process();
  // printf("<%s> <%s> <%s>\n", usym(reg("ip")), usym(reg("ip") + 3), usym(0x1234)) at middle.
  EXPECT_EQ(format_usym(0x559e3c8c816f, syms), "middle");
  EXPECT_EQ(format_usym(0x559e3c8c8172, syms), "middle");
  EXPECT_EQ(format_usym(0x1234, syms), "0x1234");
  EXPECT_EQ(format_usym(0, syms), "0");
  EXPECT_EQ(syms.resolve(0x7f8b3f18324a), (SymbolHit{"__libc_start_call_main", 122,
                                                      "/usr/lib/x86_64-linux-gnu/libc.so.6"}));
  // Run-time addresses by name: through the load bias of each file.
  EXPECT_EQ(syms.address_of("middle"), 0x559e3c8c816full);
  EXPECT_EQ(syms.address_of("__libc_start_call_main"), 0x7f8b3f1831d0ull);
  EXPECT_FALSE(syms.address_of("nope"));
}

TEST(SymbolFold, FoldedLinesRootFirst) {
  const UserSymbols user = busy_process();
  const KernelSymbols kernel = KernelSymbols::parse(
      "ffffffff810000ba T entry_SYSCALL_64_after_hwframe\nffffffff8225a650 T do_syscall_64\n"
      "ffffffff8225fc30 t __raw_callee_save_pvm_irq_enable\nffffffff8225fd00 T pvm_irq_enable\n");
  EXPECT_EQ(fold_stack("syms_busy", kUserIps, &user, kKernelIps, &kernel),
            "syms_busy;__libc_start_call_main;[unknown];outer;middle;entry_SYSCALL_64_after_hwframe;"
            "do_syscall_64;__raw_callee_save_pvm_irq_enable;pvm_irq_enable");
  FoldOptions options;
  options.annotate_kernel = true;
  options.delimiter = true;
  options.limit = 2;
  EXPECT_EQ(fold_stack("", kUserIps, &user, kKernelIps, &kernel, options),
            "outer;middle;-;__raw_callee_save_pvm_irq_enable_[k];pvm_irq_enable_[k]");
  EXPECT_EQ(fold_stack("a;b", kUserIps, nullptr, {}, &kernel, options), "a:b");  // no delimiter without kernel frames
  EXPECT_EQ(fold_stack("", {}, &user, kKernelIps, nullptr), "");
  EXPECT_EQ(folded_line("bash;readline", 42), "bash;readline 42\n");
}

// --- this process: /proc/self/maps + ELF -----------------------------------------

TEST(SymbolUser, ResolvesThisBinarysOwnFunction) {
  const UserSymbols syms = UserSymbols::for_process(getpid());
  ASSERT_FALSE(syms.modules().empty());
  const uint64_t fn = addr_of(reinterpret_cast<const void*>(&bpfkit_symbols_test_target));
  const auto hit = syms.resolve(fn);
  ASSERT_TRUE(hit) << std::hex << fn;
  EXPECT_EQ(hit->name, "bpfkit_symbols_test_target");
  EXPECT_EQ(hit->offset, 0u);
  EXPECT_EQ(std::filesystem::canonical(hit->module), std::filesystem::canonical("/proc/self/exe"));
  EXPECT_EQ(syms.resolve(fn + 2)->offset, 2u);
  EXPECT_EQ(format_usym(fn + 1, syms), "bpfkit_symbols_test_target");
  // C++ names print demangled, as bpftrace prints them ("ns::work(int)+0").
  const uint64_t cxx = addr_of(reinterpret_cast<const void*>(&bpfkit_symbols_test::cxx_target));
  EXPECT_EQ(format_usym(cxx, syms), "bpfkit_symbols_test::cxx_target(int)");
  // And back: names to run-time addresses, functions and variables in .data and .bss.
  EXPECT_EQ(syms.address_of("bpfkit_symbols_test_target"), fn);
  EXPECT_EQ(syms.address_of("bpfkit_symbols_test::cxx_target(int)"), cxx);
  EXPECT_EQ(syms.address_of("bpfkit_symbols_test_counter"), addr_of(&bpfkit_symbols_test_counter));
  EXPECT_EQ(syms.address_of("bpfkit_symbols_test_zeroes"), addr_of(&bpfkit_symbols_test_zeroes));
  // usym() of a data address is hex in bpftrace ("<0x55e122744080>" for a global): only code is named.
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(addr_of(&bpfkit_symbols_test_counter)));
  EXPECT_EQ(format_usym(addr_of(&bpfkit_symbols_test_counter), syms), hex);
}

TEST(SymbolUser, ResolvesALibcFunctionInASharedObject) {
  void* fn = dlsym(RTLD_DEFAULT, "getppid");
  ASSERT_NE(fn, nullptr);
  const UserSymbols syms = UserSymbols::for_process(getpid());
  const auto hit = syms.resolve(addr_of(fn));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->name, "getppid");
  EXPECT_EQ(hit->offset, 0u);
  EXPECT_NE(hit->module.find("libc.so"), std::string::npos) << hit->module;
  EXPECT_EQ(syms.address_of("getppid"), addr_of(fn));
  // Inside the function, past its first instruction.
  void* other = dlsym(RTLD_DEFAULT, "fclose");
  ASSERT_NE(other, nullptr);
  const auto inside = syms.resolve(addr_of(other) + 3);
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->offset, 3u);
}

TEST(SymbolUser, LinkTimeAddressesOfABinaryWithoutAProcess) {
  // The same function found by elf_symbol_offset (uprobe attach) names itself here.
  const std::string exe = std::filesystem::canonical("/proc/self/exe").string();
  const ElfSymbolOffset where = elf_symbol_offset(exe, "bpfkit_symbols_test_target");
  const UserSymbols syms = UserSymbols::for_binary(exe);
  EXPECT_EQ(syms.resolve(where.address), (SymbolHit{"bpfkit_symbols_test_target", 0, exe}));
  EXPECT_EQ(syms.address_of("bpfkit_symbols_test_target"), where.address);
  // The load bias is the same for every symbol of the file.
  const UserSymbols live = UserSymbols::for_process(getpid());
  const uint64_t bias = addr_of(reinterpret_cast<const void*>(&bpfkit_symbols_test_target)) - where.address;
  EXPECT_EQ(*live.address_of("bpfkit_symbols_test::cxx_target(int)") - bias,
            *syms.address_of("bpfkit_symbols_test::cxx_target(int)"));
  EXPECT_THROW(UserSymbols::for_binary("/nonexistent/binary"), Error);
}

TEST(SymbolUser, AnotherProcessAndAnExitedOne) {
  const uint64_t fn = addr_of(reinterpret_cast<const void*>(&bpfkit_symbols_test_target));
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c = 1;
    (void)!write(ready[1], &c, 1);
    pause();
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  close(ready[1]);
  {
    // A forked child has the same mappings, read through /proc/PID/root.
    const UserSymbols syms = UserSymbols::for_process(child);
    EXPECT_EQ(syms.pid(), child);
    EXPECT_EQ(format_usym(fn, syms), "bpfkit_symbols_test_target");
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  const UserSymbols gone = UserSymbols::for_process(child);
  EXPECT_TRUE(gone.modules().empty());
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(fn));
  EXPECT_EQ(format_usym(fn, gone), hex);
}

TEST(SymbolUser, NamesTheVdsoAndJitCodeFromAPerfMap) {
  const UserSymbols syms = UserSymbols::for_process(getpid());
  const uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
  if (vdso != 0) {
    // The vDSO's own symbol table says where clock_gettime is; resolve() must name it.
    bool found = false;
    for (const auto& m : syms.modules()) {
      if (m.path != "[vdso]") continue;
      const ElfSymbols table = ElfSymbols::parse(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(m.start), m.end - m.start));
      const auto at = table.address_of("__vdso_clock_gettime");
      ASSERT_TRUE(at);
      const auto hit = syms.resolve(m.start + *at + 1);
      ASSERT_TRUE(hit);
      EXPECT_TRUE(hit->name == "clock_gettime" || hit->name == "__vdso_clock_gettime") << hit->name;
      EXPECT_EQ(hit->offset, 1u);
      EXPECT_EQ(hit->module, "[vdso]");
      found = true;
    }
    EXPECT_TRUE(found);
  }
  // Anonymous executable memory named by /tmp/perf-PID.map, as JIT compilers write it.
  void* code = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) GTEST_SKIP() << "no executable anonymous memory here";
  const std::string map_path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
  {
    std::ofstream out(map_path);
    char line[128];
    std::snprintf(line, sizeof line, "%llx 40 jitted_function\n%llx 10 other one\n",
                  static_cast<unsigned long long>(addr_of(code)), static_cast<unsigned long long>(addr_of(code) + 0x100));
    out << line;
  }
  const UserSymbols with_map = UserSymbols::for_process(getpid());
  EXPECT_EQ(with_map.resolve(addr_of(code) + 4), (SymbolHit{"jitted_function", 4, map_path}));
  EXPECT_EQ(with_map.resolve(addr_of(code) + 0x105), (SymbolHit{"other one", 5, map_path}));
  EXPECT_FALSE(with_map.resolve(addr_of(code) + 0x50));
  EXPECT_EQ(with_map.address_of("jitted_function"), addr_of(code));
  std::filesystem::remove(map_path);
  munmap(code, 4096);
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
