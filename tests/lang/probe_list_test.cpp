// Probe expansion and `-l` / `-lv` listing: against what this system has (tracefs, vmlinux
// BTF, this test binary's own symbols) and, where bpftrace is installed, line for line
// against `bpftrace -l` for the same patterns.
#include "lang/probe_list.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include "isa/instruction.h"
#include "object/elf_file.h"
#include "target/linux/attach_btf.h"
#include "target/linux/trace_attach.h"
#include "target/linux/tracefs.h"

// Functions with names no library has, for the uprobe listing of this binary.
extern "C" __attribute__((noinline, used)) int bpfkit_probe_list_marker_alpha(int x) { return x * 3 + 1; }
extern "C" __attribute__((noinline, used)) int bpfkit_probe_list_marker_beta(int x) { return x * 5 + 2; }

namespace bpfkit::lang {
namespace {

bool have_tracefs() {
  try {
    target::linux_kernel::tracefs_path();
    return !list_tracepoints().empty();
  } catch (const Error&) {
    return false;
  }
}

bool have_btf() {
  try {
    target::linux_kernel::vmlinux_btf();
    return true;
  } catch (const Error&) {
    return false;
  }
}

#define REQUIRE_TRACEFS() \
  if (!have_tracefs()) GTEST_SKIP() << "no readable tracefs (needs root and a kernel with tracepoints)"
#define REQUIRE_BTF() \
  if (!have_btf()) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux on this kernel"

std::string self_path() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

std::vector<std::string> canonicals(const std::vector<ProbeSpec>& specs) {
  std::vector<std::string> out;
  for (const ProbeSpec& s : specs) out.push_back(s.canonical());
  return out;
}

TEST(ProbeExpand, TracepointWildcardFindsSchedSwitch) {
  REQUIRE_TRACEFS();
  const std::vector<ProbeSpec> sched = expand_probe_spec(parse_probe_spec("tracepoint:sched:sched*"));
  const std::vector<std::string> names = canonicals(sched);
  EXPECT_NE(std::find(names.begin(), names.end(), "tracepoint:sched:sched_switch"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "tracepoint:sched:sched_process_exec"), names.end());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const ProbeSpec& s : sched) {
    EXPECT_EQ(s.target, "sched");
    EXPECT_TRUE(s.function.starts_with("sched"));
    EXPECT_FALSE(s.has_wildcard());
  }
  // '*' in the event does not cross into the category.
  for (const std::string& n : canonicals(expand_probe_spec(parse_probe_spec("t:syscalls:sys_enter_*")))) {
    EXPECT_TRUE(n.starts_with("tracepoint:syscalls:sys_enter_")) << n;
  }
  const auto one = expand_probe_spec(parse_probe_spec("t:syscalls:sys_enter_openat"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].canonical(), "tracepoint:syscalls:sys_enter_openat");
  EXPECT_TRUE(expand_probe_spec(parse_probe_spec("tracepoint:sched:no_such_event")).empty());
  EXPECT_TRUE(expand_probe_spec(parse_probe_spec("tracepoint:no_such_category:*")).empty());
  const auto across = canonicals(expand_probe_spec(parse_probe_spec("tracepoint:*:sys_enter_openat*")));
  EXPECT_NE(std::find(across.begin(), across.end(), "tracepoint:syscalls:sys_enter_openat"), across.end());
}

TEST(ProbeExpand, SpecsWithNothingToLookUpComeBackAsGiven) {
  for (const char* text : {"BEGIN", "END", "profile:hz:99", "interval:ms:100", "watchpoint:0x1000:8:w"}) {
    const ProbeSpec s = parse_probe_spec(text);
    const auto out = expand_probe_spec(s);
    ASSERT_EQ(out.size(), 1u) << text;
    EXPECT_EQ(out[0], s);
  }
}

TEST(ProbeExpand, SoftwareEventsFromTheTable) {
  const auto faults = expand_probe_spec(parse_probe_spec("software:*faults"));
  EXPECT_EQ(canonicals(faults),
            (std::vector<std::string>{"software:alignment-faults:1", "software:emulation-faults:1",
                                      "software:major-faults:1", "software:minor-faults:100",
                                      "software:page-faults:100"}));
  ASSERT_EQ(expand_probe_spec(parse_probe_spec("software:faults:1")).size(), 1u);
  EXPECT_EQ(expand_probe_spec(parse_probe_spec("hardware:cpu-*")).size(), 1u);
}

TEST(ProbeExpand, KprobesSayWhenTheKernelHasNone) {
  if (target::linux_kernel::kernel_has_kprobes()) GTEST_SKIP() << "this kernel has kprobes";
  try {
    expand_probe_spec(parse_probe_spec("kprobe:__x64_sys_openat"));
    FAIL() << "no error";
  } catch (const ProbeSpecError& e) {
    EXPECT_EQ(e.message(), target::linux_kernel::no_kprobes_message("__x64_sys_openat", false));
    EXPECT_NE(e.message().find("sys_enter_openat"), std::string::npos);
  }
  EXPECT_THROW(expand_probe_spec(parse_probe_spec("kretprobe:vfs_*")), ProbeSpecError);
  EXPECT_EQ(list_probes("kprobe:*", false), "");
}

TEST(ProbeExpand, KernelFunctionsFromBtf) {
  REQUIRE_BTF();
  const auto vfs = expand_probe_spec(parse_probe_spec("kfunc:vfs_*"));
  const auto names = canonicals(vfs);
  EXPECT_NE(std::find(names.begin(), names.end(), "kfunc:vmlinux:vfs_read"), names.end());
  for (const ProbeSpec& s : vfs) {
    EXPECT_EQ(s.target, "vmlinux");
    EXPECT_TRUE(s.function.starts_with("vfs_"));
  }
  const auto exit = expand_probe_spec(parse_probe_spec("fexit:vmlinux:vfs_read"));
  ASSERT_EQ(exit.size(), 1u);
  EXPECT_EQ(exit[0].canonical(), "kretfunc:vmlinux:vfs_read");
  EXPECT_TRUE(expand_probe_spec(parse_probe_spec("fentry:no_such_function_xyz")).empty());
  EXPECT_TRUE(expand_probe_spec(parse_probe_spec("fentry:other_module:vfs_read")).empty());
}

TEST(ProbeExpand, RawTracepointsFromBtf) {
  REQUIRE_BTF();
  const auto names = canonicals(expand_probe_spec(parse_probe_spec("rawtracepoint:sched_sw*")));
  EXPECT_NE(std::find(names.begin(), names.end(), "rawtracepoint:sched_switch"), names.end());
  const auto args = probe_arguments(parse_probe_spec("rawtracepoint:sched_switch"));
  ASSERT_FALSE(args.empty());
  EXPECT_EQ(args[0], "bool preempt");  // the private data pointer is not listed
  EXPECT_NE(std::find(args.begin(), args.end(), "struct task_struct * prev"), args.end());
}

TEST(ProbeExpand, UprobeSymbolsOfThisBinary) {
  ASSERT_EQ(bpfkit_probe_list_marker_alpha(1) + bpfkit_probe_list_marker_beta(1), 11);
  const std::string self = self_path();
  const auto found = expand_probe_spec(parse_probe_spec("uprobe:" + self + ":bpfkit_probe_list_marker_*"));
  EXPECT_EQ(canonicals(found),
            (std::vector<std::string>{"uprobe:" + self + ":bpfkit_probe_list_marker_alpha",
                                      "uprobe:" + self + ":bpfkit_probe_list_marker_beta"}));
  EXPECT_EQ(list_probes("uretprobe:" + self + ":bpfkit_probe_list_marker_*", false),
            "uretprobe:" + self + ":bpfkit_probe_list_marker_alpha\nuretprobe:" + self +
                ":bpfkit_probe_list_marker_beta\n");
  EXPECT_EQ(expand_probe_spec(parse_probe_spec("uprobe:" + self + ":bpfkit_probe_list_marker_alpha")).size(),
            1u);
  EXPECT_TRUE(expand_probe_spec(parse_probe_spec("uprobe:" + self + ":no_such_symbol_here")).empty());
  // A name without '/' is found along $PATH, as bpftrace does.
  const auto sh = expand_probe_spec(parse_probe_spec("uprobe:sh:0x10"));
  ASSERT_EQ(sh.size(), 1u);
  EXPECT_TRUE(sh[0].target.starts_with("/")) << sh[0].target;
  EXPECT_THROW(list_elf_functions("/no/such/binary"), Error);
  EXPECT_THROW(list_elf_functions("/proc/self/status"), Error);
  EXPECT_THROW(list_probes("uprobe:*", false), ProbeSpecError);
}

// A small ELF file (a BPF object bpfkit writes): its function symbols, then truncated and
// corrupted copies of it, each an Error naming the file or a listing, never a crash.
TEST(ProbeExpand, ElfFunctionsOfAWrittenObjectAndBrokenCopies) {
  const std::vector<isa::RawInsn> ret = {isa::RawInsn{0xb7, 0, 0, 0, 0}, isa::RawInsn{0x95, 0, 0, 0, 0}};
  const std::vector<uint8_t> object =
      object::write_bpf_object({{"xdp", "first_prog", ret}, {"tc", "second_prog", ret}});
  const std::string bytes(object.begin(), object.end());
  // In memory-backed /dev/shm when there is one: the loop below writes the file 500 times.
  const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm/" : testing::TempDir();
  const std::string path = dir + "bpfkit_probe_list_elf_" + std::to_string(getpid()) + ".o";
  auto write = [&](const std::string& content) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  };
  write(bytes);
  EXPECT_EQ(list_elf_functions(path), (std::vector<std::string>{"first_prog", "second_prog"}));
  EXPECT_EQ(list_probes("uprobe:" + path + ":*_prog", false),
            "uprobe:" + path + ":first_prog\nuprobe:" + path + ":second_prog\n");
  EXPECT_TRUE(list_usdt_probes(path).empty());
  write(bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(list_elf_functions(path), Error);
  write(bytes.substr(0, 20));
  EXPECT_THROW(list_elf_functions(path), Error);
  std::mt19937 rng(5);
  for (int i = 0; i < 500; ++i) {
    std::string copy = bytes;
    for (int j = 0; j < 4; ++j) copy[rng() % copy.size()] = char(rng());
    write(copy);
    try {
      list_elf_functions(path);
      list_usdt_probes(path);
    } catch (const Error&) {
    }
  }
  std::remove(path.c_str());
}

TEST(ProbeList, ErrorsAndProviders) {
  try {
    list_probes("tracepiont:sched:*", false);
    FAIL() << "no error";
  } catch (const ProbeSpecError& e) {
    EXPECT_NE(e.message().find("did you mean 'tracepoint'"), std::string::npos);
  }
  EXPECT_EQ(list_probes("BEGIN", false), "");
  EXPECT_EQ(list_probes("software:cpu*", false), "software:cpu-clock:\nsoftware:cpu-migrations:\n");
  EXPECT_EQ(list_probes("h:branch*", false), "hardware:branch-instructions:\nhardware:branch-misses:\n");
}

TEST(ProbeList, TracepointsAreSortedAndFast) {
  REQUIRE_TRACEFS();
  // CPU time, not wall time: other work on a shared machine must not fail the test.
  const std::clock_t start = std::clock();
  const std::string all = list_probes("tracepoint:*", false);
  const double seconds = double(std::clock() - start) / CLOCKS_PER_SEC;
  EXPECT_LT(seconds, 1.0);
  std::vector<std::string> lines;
  std::istringstream in(all);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  EXPECT_EQ(lines.size(), list_tracepoints().size());
  EXPECT_TRUE(std::is_sorted(lines.begin(), lines.end()));
  EXPECT_NE(all.find("tracepoint:sched:sched_switch\n"), std::string::npos);
  // The alias lists the same.
  EXPECT_EQ(list_probes("t:sched:*", false), list_probes("tracepoint:sched:*", false));
}

TEST(ProbeList, KernelFunctionsAreFast) {
  REQUIRE_BTF();
  const std::clock_t start = std::clock();
  const std::string all = list_probes("kfunc:*", false);
  const double seconds = double(std::clock() - start) / CLOCKS_PER_SEC;
  EXPECT_LT(seconds, 1.0);
  EXPECT_NE(all.find("kfunc:vmlinux:vfs_read\n"), std::string::npos);
  EXPECT_EQ(list_probes("kfunc:vfs_read", false), "kfunc:vmlinux:vfs_read\n");
  EXPECT_EQ(list_probes("fentry:vmlinux:vfs_read", false), "kfunc:vmlinux:vfs_read\n");
}

TEST(ProbeList, VerboseKfuncShowsBtfParameters) {
  REQUIRE_BTF();
  EXPECT_EQ(
      list_probes("kfunc:vmlinux:vfs_read", true),
      "kfunc:vmlinux:vfs_read\n    struct file * file\n    char * buf\n    size_t count\n    loff_t * pos\n"
      "    ssize_t retval\n");
}

TEST(ProbeList, VerboseTracepointShowsFormatFields) {
  REQUIRE_TRACEFS();
  const std::string out = list_probes("tracepoint:sched:sched_process_exec", true);
  EXPECT_EQ(out,
            "tracepoint:sched:sched_process_exec\n    __data_loc char[] filename\n    pid_t pid\n"
            "    pid_t old_pid\n");
}

TEST(ProbeList, MatchesBpftrace) {
  if (!std::filesystem::exists("/usr/bin/bpftrace") || geteuid() != 0) {
    GTEST_SKIP() << "bpftrace is not installed (or this is not root): nothing to compare with";
  }
  // Each bpftrace start costs about a second (and they do not overlap): four listings that
  // between them cover every tracepoint with its -lv fields, a binary found along $PATH, a
  // library by short name with symbols from its separate debug file, and USDT notes.
  std::vector<std::pair<std::string, bool>> patterns;
  if (have_tracefs()) patterns.emplace_back("tracepoint:*", true);
  if (resolve_probe_binary("bash").starts_with("/")) patterns.emplace_back("uretprobe:bash:read*", false);
  if (resolve_probe_binary("libc") != "libc") patterns.emplace_back("uprobe:libc:mall*", false);
  if (std::filesystem::exists("/usr/bin/python3") && !list_usdt_probes("/usr/bin/python3").empty()) {
    patterns.emplace_back("usdt:/usr/bin/python3:*", false);
  }
  std::vector<std::unique_ptr<FILE, int (*)(FILE*)>> peers;
  for (const auto& [pattern, verbose] : patterns) {
    const std::string cmd =
        std::string("/usr/bin/bpftrace ") + (verbose ? "-lv" : "-l") + " '" + pattern + "' 2>/dev/null";
    peers.emplace_back(popen(cmd.c_str(), "r"), pclose);
    ASSERT_TRUE(peers.back()) << cmd;
  }
  for (size_t i = 0; i < patterns.size(); ++i) {
    std::string peer;
    std::array<char, 65536> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), peers[i].get())) > 0) peer.append(buf.data(), n);
    const auto& [pattern, verbose] = patterns[i];
    EXPECT_FALSE(peer.empty()) << pattern;
    EXPECT_EQ(list_probes(pattern, verbose), peer) << (verbose ? "-lv " : "-l ") << pattern;
  }
}

}  // namespace
}  // namespace bpfkit::lang
