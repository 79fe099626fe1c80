// Stack traces and symbols as bpftrace 0.17 prints them, and the folded
// "outer;...;inner count" lines flame graphs read.
//
// bpftrace layouts (checked against bpftrace 0.17 on this kernel):
//   kstack / ustack     "\n" then one "<indent>name+offset\n" per frame; indent is 8
//                       in printf("%s") and print(), 4 inside a map key ("@[\n    f+1\n]: 3").
//   kstack(perf)        "\n" then "\t<hex address> name+offset\n" per frame (no indent).
//   ustack(perf)        "\n" then "\t<hex address> name+offset (/path/of/file)\n".
//   unknown frame       "0x<hex>" in place of name+offset; ustack(perf) adds " ([unknown])".
//   limit               at most `limit` frames (kstack(5), ustack(perf, 3)); a 0 ends the trace.
//   empty trace         "" (a kernel stack taken in user mode, a failed stack id lookup).
//   ksym() / usym()     the name alone, no offset; "0x<hex>" when unknown ("0" for 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "target/linux/kernel_symbols.h"
#include "target/linux/user_symbols.h"

namespace bpfkit::target::linux_kernel {

enum class StackMode { bpftrace, perf };

inline constexpr size_t kDefaultStackLimit = 127;  // bpftrace's kstack/ustack without a limit
inline constexpr int kPrintfStackIndent = 8;       // printf("%s", kstack), print()
inline constexpr int kMapKeyStackIndent = 4;       // a stack as a map key

std::string format_kstack(std::span<const uint64_t> ips, const KernelSymbols& symbols,
                          StackMode mode = StackMode::bpftrace, size_t limit = kDefaultStackLimit,
                          int indent = kPrintfStackIndent);
std::string format_ustack(std::span<const uint64_t> ips, const UserSymbols& symbols,
                          StackMode mode = StackMode::bpftrace, size_t limit = kDefaultStackLimit,
                          int indent = kPrintfStackIndent);

std::string format_ksym(uint64_t addr, const KernelSymbols& symbols);
std::string format_usym(uint64_t addr, const UserSymbols& symbols);

// bpftrace's spelling of an address it cannot name: "0x7f00d1e0", and "0" for 0.
std::string format_unknown_address(uint64_t addr);

// Flame-graph frames: one name per frame, no offsets, root first.
struct FoldOptions {
  bool annotate_kernel = false;  // "vfs_read_[k]", as profile.bt -a / bcc's profile -a mark kernel frames
  bool delimiter = false;        // a "-" frame between the user and the kernel part
  size_t limit = kDefaultStackLimit;  // frames taken from each trace, innermost first
};

// "comm;main;work;[unknown];entry_SYSCALL_64;do_syscall_64": the process name (when
// not empty), the user frames outermost first, then the kernel frames outermost first.
// Unknown frames are "[unknown]"; a ';' inside a name (which would split it) becomes ':'.
// Either symbol table may be null when that trace is not wanted.
std::string fold_stack(std::string_view comm, std::span<const uint64_t> user_ips, const UserSymbols* user,
                       std::span<const uint64_t> kernel_ips, const KernelSymbols* kernel,
                       const FoldOptions& options = {});
// "folded count": one line of a folded profile, newline included.
std::string folded_line(std::string_view folded, uint64_t count);

}  // namespace bpfkit::target::linux_kernel
