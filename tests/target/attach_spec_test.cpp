// Attach specifications that need no kernel: uprobe targets ("PATH:SYM+OFF"), tracepoint
// names, a symbol's file offset in an ELF (checked against where the loader mapped it),
// and which sections can be auto-attached with which options.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "object/bpf_object.h"
#include "object/section_name.h"
#include "target/linux/attach.h"
#include "target/linux/elf_symbol_offset.h"
#include "target/linux/trace_attach.h"
#include "target/linux/tracefs.h"
#include "target/target.h"

extern "C" __attribute__((noinline)) int bpfkit_attach_spec_probe_me(int x) {
  asm volatile("" ::: "memory");
  return x + 1;
}

namespace bpfkit::target::linux_kernel {
namespace {

// The file offset the kernel maps at `address` in this process, from /proc/self/maps
// (an oracle independent of the ELF's headers).
uint64_t mapped_file_offset(const void* address, std::string* file = nullptr) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto a = reinterpret_cast<uintptr_t>(address);
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode >> path;
    const size_t dash = range.find('-');
    const uint64_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    const uint64_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (a >= start && a < end) {
      if (file) *file = path;
      return a - start + std::stoull(offset, nullptr, 16);
    }
  }
  ADD_FAILURE() << "address not mapped";
  return 0;
}

object::ProgramDefinition program_in(const std::string& section) {
  object::ProgramDefinition p;
  p.name = "prog";
  p.section = section;
  auto def = object::parse_section_name(section);
  EXPECT_TRUE(def.has_value()) << section;
  if (def) p.def = *def;
  return p;
}

std::string attach_error(const std::string& section, const AttachOptions& options = {}) {
  try {
    attach_program(-1, program_in(section), options);
  } catch (const TargetError& e) {
    return e.what();
  }
  return "(attached)";
}

TEST(UprobeTarget, ParsesSymbolOffsetAndRawOffset) {
  UprobeTarget t = parse_uprobe_target("/bin/bash:readline");
  EXPECT_EQ(t.path, "/bin/bash");
  EXPECT_EQ(t.symbol, "readline");
  EXPECT_EQ(t.offset, 0u);
  t = parse_uprobe_target("/usr/lib/libc.so.6:malloc+0x1c");
  EXPECT_EQ(t.path, "/usr/lib/libc.so.6");
  EXPECT_EQ(t.symbol, "malloc");
  EXPECT_EQ(t.offset, 0x1cu);
  EXPECT_EQ(t.str(), "/usr/lib/libc.so.6:malloc+0x1c");
  t = parse_uprobe_target("./a.out:_Z3fooi+16");
  EXPECT_EQ(t.symbol, "_Z3fooi");
  EXPECT_EQ(t.offset, 16u);
  t = parse_uprobe_target("/bin/true:0x4a20");
  EXPECT_EQ(t.symbol, "");
  EXPECT_EQ(t.offset, 0x4a20u);
  t = parse_uprobe_target("libc.so.6:1234");
  EXPECT_EQ(t.offset, 1234u);
}

TEST(UprobeTarget, RejectsMalformedTargets) {
  for (const char* bad : {"/bin/bash", ":readline", "/bin/bash:", "/bin/bash:readline+", "/bin/bash:0xZZ",
                          "/bin/bash:+4", "/bin/bash:12ab", "/bin/bash:f+99999999999999999999999"}) {
    EXPECT_THROW(parse_uprobe_target(bad), TargetError) << bad;
  }
  try {
    parse_uprobe_target("/bin/bash");
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("PATH:SYMBOL"), std::string::npos) << e.what();
  }
}

TEST(TracepointName, SplitsCategoryAndName) {
  TracepointName tp = parse_tracepoint_name("syscalls/sys_enter_openat");
  EXPECT_EQ(tp.category, "syscalls");
  EXPECT_EQ(tp.name, "sys_enter_openat");
  EXPECT_EQ(tp.str(), "syscalls:sys_enter_openat");
  tp = parse_tracepoint_name("sched:sched_switch");
  EXPECT_EQ(tp.category, "sched");
  EXPECT_EQ(tp.name, "sched_switch");
  for (const char* bad : {"sys_enter_openat", "/x", "syscalls/", "../../etc/x", "a/b/c", ".."}) {
    EXPECT_THROW(parse_tracepoint_name(bad), TargetError) << bad;
  }
}

TEST(EditDistance, CountsEdits) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("sys_enter_opnat", "sys_enter_openat"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ElfSymbolOffset, MatchesWhereTheLoaderMappedOurOwnFunction) {
  const ElfSymbolOffset s = elf_symbol_offset("/proc/self/exe", "bpfkit_attach_spec_probe_me");
  EXPECT_EQ(s.file_offset, mapped_file_offset(reinterpret_cast<const void*>(&bpfkit_attach_spec_probe_me)));
  EXPECT_GT(s.size, 0u);
  EXPECT_EQ(bpfkit_attach_spec_probe_me(1), 2);
}

TEST(ElfSymbolOffset, FindsSharedLibraryFunctions) {
  void* getpid_address = dlsym(RTLD_DEFAULT, "getpid");
  ASSERT_NE(getpid_address, nullptr);
  std::string libc;
  const uint64_t expected = mapped_file_offset(getpid_address, &libc);
  ASSERT_FALSE(libc.empty());
  EXPECT_EQ(elf_symbol_offset(libc, "getpid").file_offset, expected);
  // By its bare name, as "uprobe/libc.so.6:getpid" is written.
  const std::string resolved = resolve_binary_path(std::filesystem::path(libc).filename());
  EXPECT_EQ(resolved.front(), '/');
  EXPECT_EQ(elf_symbol_offset(resolved, "getpid").file_offset, expected);
  EXPECT_EQ(
      uprobe_file_offset(parse_uprobe_target(std::filesystem::path(libc).filename().string() + ":getpid+2")),
      expected + 2);
}

TEST(ElfSymbolOffset, ErrorsNameTheFileAndSymbol) {
  try {
    elf_symbol_offset("/proc/self/exe", "no_such_function_anywhere");
    ADD_FAILURE() << "no error";
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("no symbol named 'no_such_function_anywhere'"), std::string::npos)
        << e.what();
  }
  try {
    elf_symbol_offset("/no/such/binary", "main");
    ADD_FAILURE() << "no error";
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("'/no/such/binary': No such file"), std::string::npos) << e.what();
  }
  const auto text = std::filesystem::temp_directory_path() / ("bpfkit-not-elf-" + std::to_string(getpid()));
  std::ofstream(text) << "#!/bin/sh\necho hello\n";
  EXPECT_THROW(elf_symbol_offset(text.string(), "main"), TargetError);
  try {
    elf_symbol_offset(text.string(), "main");
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("not an ELF file"), std::string::npos) << e.what();
  }
  std::filesystem::remove(text);
  EXPECT_THROW(elf_symbol_offset("/tmp", "main"), TargetError);  // a directory
}

TEST(AttachProgram, UprobeErrorsComeBeforeAnyKernelCall) {
  const std::string missing_symbol = attach_error("uprobe//proc/self/exe:no_such_function_anywhere");
  EXPECT_NE(missing_symbol.find("program 'prog' (section 'uprobe//proc/self/exe:no_such_function_anywhere')"),
            std::string::npos)
      << missing_symbol;
  EXPECT_NE(missing_symbol.find("no symbol named 'no_such_function_anywhere'"), std::string::npos)
      << missing_symbol;
  const std::string missing_file = attach_error("uretprobe//no/such/file:main");
  EXPECT_NE(missing_file.find("No such file"), std::string::npos) << missing_file;
  const std::string missing_file_offset = attach_error("uprobe//no/such/file:0x1000");
  EXPECT_NE(missing_file_offset.find("no such file '/no/such/file'"), std::string::npos)
      << missing_file_offset;
}

TEST(AttachProgram, SaysWhatASectionNeeds) {
  struct Case {
    const char* section;
    const char* expected;  // part of the reason
  };
  for (const Case& c : std::initializer_list<Case>{
           {"socket", "socket filters attach to a socket"},
           {"xdp", "needs a network interface"},
           {"tc/ingress", "needs a network interface"},
           {"tc", "name it tc/ingress or tc/egress"},
           {"xdp/devmap", "devmap or cpumap entry"},
           {"tracepoint", "names no tracepoint: write tracepoint/CATEGORY/NAME"},
           {"tp/sys_enter_openat", "not of the form CATEGORY/NAME"},
           {"raw_tp", "names no tracepoint: write raw_tp/NAME"},
           {"uprobe", "names no probe point"},
           {"uprobe//bin/bash", "PATH:SYMBOL"},
           {"usdt/x:y:z", "USDT"},
           {"iter/task", "iterator"},
           {"cgroup/connect4", "cgroup"},
           {"sk_msg", "not auto-attached"},
       }) {
    const std::optional<std::string> reason = attach_unavailable_reason(program_in(c.section), {});
    ASSERT_TRUE(reason.has_value()) << c.section;
    EXPECT_NE(reason->find(c.expected), std::string::npos) << c.section << ": " << *reason;
    const std::string error = attach_error(c.section);
    EXPECT_NE(error.find("program 'prog' (section '" + std::string(c.section) + "') cannot be attached: "),
              std::string::npos)
        << error;
  }
  AttachOptions with_iface;
  with_iface.iface = "lo";
  for (const char* ok : {"xdp", "tc/egress", "tcx/ingress", "tracepoint/syscalls/sys_enter_openat",
                         "raw_tp/sys_enter", "tp_btf/sched_switch", "fentry/do_unlinkat", "lsm/file_open",
                         "uprobe//bin/bash:readline", "uretprobe/libc.so.6:malloc", "perf_event"}) {
    EXPECT_EQ(attach_unavailable_reason(program_in(ok), with_iface), std::nullopt) << ok;
  }
}

TEST(AttachProgram, KprobeSectionsPointToTracepointsWhenTheKernelHasNoKprobes) {
  const std::string message = no_kprobes_message("__x64_sys_openat", false);
  EXPECT_NE(message.find("this kernel has no kprobes"), std::string::npos) << message;
  EXPECT_NE(message.find("tracepoint/syscalls/sys_enter_openat"), std::string::npos) << message;
  EXPECT_NE(no_kprobes_message("close", true).find("sys_enter_close"), std::string::npos);
  EXPECT_EQ(no_kprobes_message("do_unlinkat", false).find("sys_enter_do_unlinkat"), std::string::npos);
  const auto reason = attach_unavailable_reason(program_in("ksyscall/openat"), {});
  EXPECT_EQ(reason.has_value(), !kernel_has_kprobes());
  if (reason) {
    EXPECT_NE(reason->find("sys_enter_openat"), std::string::npos) << *reason;
  }
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
