// tracefs: where the kernel lists its tracepoints (events/<category>/<name>/id)
// and streams bpf_printk output (trace_pipe). Found at /sys/kernel/tracing, which
// is mounted when it is empty, or under debugfs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bpfkit::target::linux_kernel {

// The tracefs directory ("/sys/kernel/tracing"). Mounts tracefs there when nothing
// is mounted yet. Throws TargetError with one sentence when there is no tracefs.
std::string tracefs_path();

// A tracepoint's name split as tracefs lays it out: "syscalls/sys_enter_openat" or
// "syscalls:sys_enter_openat" -> {"syscalls", "sys_enter_openat"}. TargetError when
// either part is missing.
struct TracepointName {
  std::string category, name;
  std::string str() const { return category + ":" + name; }
};
TracepointName parse_tracepoint_name(std::string_view text);

// The tracepoint's id, for perf_event_open(PERF_TYPE_TRACEPOINT). Throws TargetError
// "unknown tracepoint 'x:y'" (with the closest existing names when there are some).
uint32_t tracepoint_id(const TracepointName& tracepoint);

// Up to `limit` existing tracepoints closest to `tracepoint` by edit distance, best first.
std::vector<std::string> similar_tracepoints(const TracepointName& tracepoint, size_t limit = 3);

// Edit distance (insertions, deletions, substitutions), for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace bpfkit::target::linux_kernel
