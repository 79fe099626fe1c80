// Symbolization against the running kernel: /proc/kallsyms resolves its own
// functions back to their names, and the stacks the kernel records for a BPF program
// (bpf_get_stackid in a raw tracepoint program run by BPF_PROG_TEST_RUN from this
// process) name the bpf(2) path in the kernel and libc's syscall() in user space.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "maps/map.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/kernel_symbols.h"
#include "target/linux/stack_format.h"
#include "target/linux/user_symbols.h"

namespace bpfkit::target::linux_kernel {
namespace {

using kernel_test::KernelTest;

const KernelSymbols& kallsyms() {
  static const KernelSymbols symbols = [] {
    const auto start = std::chrono::steady_clock::now();
    KernelSymbols s = KernelSymbols::load();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ kallsyms ] %zu symbols loaded in %.1f ms\n", s.size(), ms);
    return s;
  }();
  return symbols;
}

TEST(SymbolKallsymsKernel, ResolvesKernelFunctionsBackToTheirNames) {
  const KernelSymbols& syms = kallsyms();
  if (syms.addresses_hidden()) GTEST_SKIP() << "skipped: /proc/kallsyms hides addresses from this user";
  EXPECT_GT(syms.size(), 10000u);
  for (const char* name : {"vfs_read", "schedule", "do_syscall_64", "kfree"}) {
    const auto addr = syms.address_of(name);
    ASSERT_TRUE(addr) << name;
    EXPECT_EQ(syms.resolve(*addr), (SymbolHit{name, 0, ""})) << name;
    EXPECT_EQ(syms.resolve(*addr + 5), (SymbolHit{name, 5, ""})) << name;
    EXPECT_EQ(format_ksym(*addr + 1, syms), name);
  }
  EXPECT_FALSE(syms.address_of("no_such_kernel_function_bpfkit"));
}

// BPF_PROG_TEST_RUN of a raw tracepoint program: its return value or -errno.
int64_t test_run_raw_tp(int prog_fd) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = uint32_t(prog_fd);
  if (syscall(__NR_bpf, BPF_PROG_TEST_RUN, &attr, sizeof attr) < 0) return -errno;
  return int32_t(attr.test.retval);
}

// The ips a raw tracepoint program stores with bpf_get_stackid(ctx, map, flags).
std::vector<uint64_t> recorded_stack(uint64_t flags) {
  const maps::MapSpec spec{BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, 16};
  UniqueFd map = map_create(spec);
  const std::string text = "r2 = map_fd(" + std::to_string(map.get()) + ") ll\nr3 = " + std::to_string(flags) +
                           "\ncall " + std::to_string(BPF_FUNC_get_stackid) + "\nexit\n";
  UniqueFd prog = load_program(BPF_PROG_TYPE_RAW_TRACEPOINT, isa::assemble(text));
  const int64_t id = test_run_raw_tp(prog.get());
  if (id < 0) return {};
  std::vector<uint64_t> ips(127);
  const uint32_t key = uint32_t(id);
  if (map_lookup_elem(map.get(), &key, ips.data()) != 0) return {};
  return ips;
}

class SymbolStackKernel : public KernelTest {};

TEST_F(SymbolStackKernel, KernelStackNamesTheBpfSyscallPath) {
  const KernelSymbols& syms = kallsyms();
  if (syms.addresses_hidden()) GTEST_SKIP() << "skipped: /proc/kallsyms hides addresses from this user";
  const std::vector<uint64_t> ips = recorded_stack(0);
  ASSERT_FALSE(ips.empty()) << "the kernel recorded no stack";
  const std::string text = format_kstack(ips, syms);
  SCOPED_TRACE(text);
  // The way in: entry -> do_syscall_64 -> ... -> __sys_bpf -> the test run.
  for (const char* frame : {"\n        entry_SYSCALL_64", "\n        do_syscall_64+", "\n        __sys_bpf+"}) {
    EXPECT_NE(text.find(frame), std::string::npos) << frame;
  }
  // Every frame is named (a JIT-ed program's frame too: kallsyms lists it in [bpf]).
  size_t frames = 0;
  for (const uint64_t ip : ips) {
    if (ip == 0) break;
    ++frames;
    const auto hit = syms.resolve(ip);
    ASSERT_TRUE(hit) << std::hex << ip;
    EXPECT_GT(hit->offset, 0u) << hit->name;  // return addresses lie inside their function
  }
  EXPECT_GE(frames, 4u);
  // The perf layout and the limit, on the same frames.
  const std::string perf = format_kstack(ips, syms, StackMode::perf, 2);
  EXPECT_EQ(std::count(perf.begin(), perf.end(), '\n'), 3);
  EXPECT_EQ(perf.substr(0, 2), "\n\t");
}

TEST_F(SymbolStackKernel, UserStackStartsInLibcSyscall) {
  const std::vector<uint64_t> ips = recorded_stack(BPF_F_USER_STACK);
  ASSERT_FALSE(ips.empty()) << "the kernel recorded no user stack";
  ASSERT_NE(ips[0], 0u);
  // The first user frame is where the syscall instruction returns to: libc's syscall().
  const UserSymbols syms = UserSymbols::for_process(getpid());
  const auto hit = syms.resolve(ips[0]);
  ASSERT_TRUE(hit) << std::hex << ips[0];
  EXPECT_EQ(hit->name, "syscall");
  EXPECT_GT(hit->offset, 0u);
  EXPECT_NE(hit->module.find("libc.so"), std::string::npos) << hit->module;
  const std::string text = format_ustack(ips, syms, StackMode::perf, 1);
  EXPECT_NE(text.find(" syscall+" + std::to_string(hit->offset) + " (" + hit->module + ")\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
