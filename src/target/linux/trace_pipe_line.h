// One line of tracefs' trace_pipe, as the kernel prints it for bpf_printk:
//
//   "           curl-4242    [001] d..31  1234.567890: bpf_trace_printk: the message"
//   "           curl-4242    (   4240) [001] .... 1234.567890: bpf_trace_printk: ..."  (record-tgid)
//
// split into fields. Pure functions: no I/O, any input, never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bpfkit::target::linux_kernel {

struct TraceLine {
  std::string comm;             // the task's name; "<...>" when the kernel no longer knows it
  int32_t pid = 0;              // the task (thread) id
  std::optional<int32_t> tgid;  // the process id, when the tgid column is shown and known
  uint32_t cpu = 0;
  std::string flags;          // irqs-off, need-resched, hard/softirq, preempt depth...; may be empty
  uint64_t timestamp_ns = 0;  // the trace clock, seconds.fraction in nanoseconds
  std::string event;          // "bpf_trace_printk"; empty when the line names no event
  std::string message;        // what the program printed, without the line's newline

  bool operator==(const TraceLine&) const = default;
};

// Splits a line (a trailing newline is ignored). std::nullopt when it is not in
// the format above (e.g. a "CPU:1 [LOST 12 EVENTS]" line or random text).
std::optional<TraceLine> parse_trace_line(std::string_view line);

// A "CPU:N [LOST M EVENTS]" line (the kernel dropped M events on CPU N because the
// trace buffer was full): {N, M}.
struct TraceLostLine {
  uint32_t cpu = 0;
  uint64_t count = 0;
};
std::optional<TraceLostLine> parse_trace_lost_line(std::string_view line);

// The line in canonical form, "comm-pid (tgid) [cpu] flags sec.frac: event: message"
// (no padding, no newline), which parse_trace_line reads back into the same fields.
std::string format_trace_line(const TraceLine& line);

}  // namespace bpfkit::target::linux_kernel
