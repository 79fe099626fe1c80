// What probes this system has, for wildcard expansion and `bpftrace -l` / `-lv`:
// tracepoints from tracefs (available_events; format files for -lv), raw tracepoints and
// kernel functions from vmlinux BTF, function symbols and USDT notes of user binaries,
// bpftrace's fixed software/hardware event tables. kprobes only where the kernel has them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lang/probe_spec.h"

namespace bpfkit::lang {

// Tracepoints as "category:name", sorted (byte order, as bpftrace prints them).
// bpfkit::Error when tracefs cannot be read.
std::vector<std::string> list_tracepoints();
// Raw tracepoint names ("sched_switch"): the btf_trace_* typedefs of vmlinux BTF, or the
// tracepoint event names when the kernel has no BTF. Sorted, unique.
std::vector<std::string> list_raw_tracepoints();
// Kernel functions fentry/fexit can attach to: vmlinux BTF FUNCs (restricted to
// available_filter_functions where that file is readable). Sorted, unique.
std::vector<std::string> list_kernel_functions();
// kprobe-able functions (available_filter_functions); empty on kernels without kprobes.
std::vector<std::string> list_kprobe_functions();
// Defined FUNC/IFUNC symbols of an ELF file (.symtab, .dynsym, and the separate debug file
// found by build id under /usr/lib/debug), sorted, unique. bpfkit::Error naming the file when
// it cannot be read or is not a 64-bit little-endian ELF file.
std::vector<std::string> list_elf_functions(const std::string& path);
// USDT probes of an ELF file (.note.stapsdt) as {provider, name}, sorted, unique.
std::vector<std::pair<std::string, std::string>> list_usdt_probes(const std::string& path);

// The file a uprobe/usdt binary name means: names with '/' unchanged; others along $PATH,
// then as a library ("libc" -> /lib/x86_64-linux-gnu/libc.so.6), as bpftrace resolves them.
// Returns `name` unchanged when nothing is found.
std::string resolve_probe_binary(const std::string& name);

// The probe's arguments as `bpftrace -lv` prints them under it (without the indentation):
// a tracepoint's non-common fields as its format file declares them ("const char * filename"),
// a kfunc's parameters and "TYPE retval" from BTF, a raw tracepoint's BTF parameters.
// Empty for probes without typed arguments. `spec` must be concrete (from expansion).
std::vector<std::string> probe_arguments(const ProbeSpec& spec);

// `bpftrace -l PATTERN` (verbose: -lv): one line per matching probe, sorted, each followed
// by its arguments indented four spaces when verbose. An empty pattern lists every
// provider that can be enumerated without a binary. ProbeSpecError for an unknown probe type
// or a uprobe/usdt pattern without a binary.
std::string list_probes(std::string_view pattern, bool verbose);

}  // namespace bpfkit::lang
