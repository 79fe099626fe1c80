// A probe's attach point parsed from the text the parser kept (AttachPoint::text):
// "tracepoint:syscalls:sys_enter_openat", "kr:vfs_read", "uprobe:/bin/bash:readline+4",
// "profile:hz:99". Spellings follow bpftrace: both 0.17's (kfunc:, kretfunc:) and today's
// (fentry:, fexit:), and every short alias. Wildcards ('*') are kept in the spec;
// expand_probe_spec() turns them into the concrete probes this system has.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace bpfkit::lang {

enum class ProbeKind {
  Begin,
  End,
  Tracepoint,
  RawTracepoint,
  Kprobe,
  Kretprobe,
  Uprobe,
  Uretprobe,
  Usdt,
  Fentry,  // kfunc: / fentry:
  Fexit,   // kretfunc: / fexit:
  Profile,
  Interval,
  Software,
  Hardware,
  Watchpoint,
};

// The provider as bpftrace 0.17 spells it in `-l` output and probe names: "tracepoint",
// "kfunc" (for Fentry), "kretfunc" (Fexit), "BEGIN", ...
const char* probe_kind_name(ProbeKind kind);
// The kind a provider spelling names ("t", "tracepoint", "fentry", "kfunc", ...), or nullopt.
std::optional<ProbeKind> probe_kind_from_name(std::string_view provider);

struct ProbeSpec {
  ProbeKind kind = ProbeKind::Begin;
  // Tracepoint: category. Uprobe/uretprobe/usdt: the binary (a name without '/' resolved along
  // $PATH or the library directories, as bpftrace does). Kfunc/kretfunc, kprobe and
  // rawtracepoint: the module when one was written ("vmlinux" after expansion for kfuncs).
  // Watchpoint: empty.
  std::string target;
  // Tracepoint/rawtracepoint event, kernel or user function, usdt probe name, or the
  // software/hardware event name as written ("faults", "cpu-clock"). Empty for a uprobe
  // at an address.
  std::string function;
  // `func+OFF` for kprobe and uprobe; for a uprobe without a function, the address
  // (uprobe:BIN:0x1234, a virtual address in the ELF file as bpftrace takes it);
  // the address for a watchpoint.
  uint64_t offset = 0;
  std::string unit;           // profile/interval: "hz", "s", "ms" or "us"
  uint64_t period = 0;        // profile/interval count; software/hardware: events per sample
                              // (the event's default when not written)
  std::string usdt_provider;  // usdt:BIN:PROVIDER:NAME ("" when not written)
  uint64_t length = 0;        // watchpoint: bytes watched (1, 2, 4 or 8)
  std::string mode;           // watchpoint: "r", "w", "x", "rw", ...
  bool literal = false;       // the function was quoted ("ns::f*"): a '*' in it is no wildcard

  // '*' in the parts that can be expanded (category, event, function, module).
  bool has_wildcard() const;
  // bpftrace's spelling of the probe (what `-l` prints and the `probe` builtin holds):
  // "tracepoint:syscalls:sys_enter_openat", "kfunc:vmlinux:vfs_read", "uprobe:/bin/bash:readline",
  // "profile:hz:99", "software:faults:100", "kprobe:vfs_read+16".
  std::string canonical() const;

  bool operator==(const ProbeSpec&) const = default;
};

// A probe spec that does not parse or names nothing that exists. column_offset() is the
// byte offset into the attach point text where the problem is (add it to the attach
// point's location for a file:line:column); message() is one sentence saying what is wrong
// and what would be right.
class ProbeSpecError : public Error {
 public:
  ProbeSpecError(size_t column_offset, const std::string& message)
      : Error(message), column_offset_(column_offset), message_(message) {}
  size_t column_offset() const { return column_offset_; }
  const std::string& message() const { return message_; }

 private:
  size_t column_offset_;
  std::string message_;
};

// Parses one attach point. Checks the form only (parts, numbers, units, names in fixed
// tables such as software events); whether a tracepoint or function exists is
// expand_probe_spec()'s business. Throws ProbeSpecError.
ProbeSpec parse_probe_spec(std::string_view text);

// Every concrete probe a (possibly wildcarded) spec names on this system, sorted by
// canonical(); empty when none (the caller reports). Specs without anything to look up
// (BEGIN, END, profile, interval, watchpoint, usdt without wildcards) come back as given,
// uprobe/usdt with the binary path resolved, kfuncs with their module ("vmlinux").
// Throws ProbeSpecError for kprobes on a kernel without them (no_kprobes_message()) and for
// what cannot be expanded (wildcards in a usdt probe), and bpfkit::Error when a source
// (tracefs, BTF, the binary) cannot be read.
std::vector<ProbeSpec> expand_probe_spec(const ProbeSpec& spec);

// bpftrace's wildcard match: '*' matches any run of characters (':' included).
bool wildcard_match(std::string_view pattern, std::string_view text);

// The software and hardware events bpftrace knows (perf_event_open's PERF_TYPE_SOFTWARE and
// PERF_TYPE_HARDWARE configs), with the alias and default sample period bpftrace gives each.
struct PerfEventInfo {
  const char* name;   // "cpu-clock"
  const char* alias;  // "cpu", or "" when none
  uint64_t config;    // PERF_COUNT_SW_* / PERF_COUNT_HW_*
  uint64_t default_period;
};
const std::vector<PerfEventInfo>& software_events();
const std::vector<PerfEventInfo>& hardware_events();
// The entry for `name` (or its alias) in software_events()/hardware_events(), or nullptr.
const PerfEventInfo* find_perf_event(ProbeKind kind, std::string_view name);

}  // namespace bpfkit::lang
