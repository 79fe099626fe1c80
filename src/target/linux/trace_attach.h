// Attaching tracing programs: tracepoints (perf_event_open + BPF link), raw and
// BTF tracepoints, fentry/fexit/fmod_ret/LSM hooks, uprobes and uretprobes, and
// CPU-clock sampling for profiling. Each returns Links that detach when destroyed.
// kprobes are attached the same way where the kernel has them; where it does not
// (CONFIG_KPROBES off), the error says so and what to use instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "object/section_name.h"
#include "target/linux/link.h"
#include "target/linux/tracefs.h"

namespace bpfkit::target::linux_kernel {

// A tracepoint program (BPF_PROG_TYPE_TRACEPOINT) on tracefs event `tp`: a perf event
// of PERF_TYPE_TRACEPOINT and a BPF_PERF_EVENT link (PERF_EVENT_IOC_SET_BPF on kernels
// without perf links). Fires on every CPU.
LinkPtr attach_tracepoint(int prog_fd, const TracepointName& tp);

// A raw tracepoint program on the tracepoint `name` ("sys_enter", "sched_switch").
LinkPtr attach_raw_tracepoint(int prog_fd, const std::string& name);

// tp_btf, fentry, fexit, fmod_ret and lsm programs: they attach to the hook whose BTF id
// they were loaded with; `def` says which kind of hook (for the link type and messages).
LinkPtr attach_btf_hook(int prog_fd, const object::SectionDefinition& def);

// Where a uprobe goes: "PATH:SYMBOL", "PATH:SYMBOL+OFFSET" or "PATH:OFFSET" (a file
// offset, decimal or 0x-hex). A PATH without '/' is looked up like a command or library.
struct UprobeTarget {
  std::string path;
  std::string symbol;       // empty: `offset` is a file offset
  uint64_t offset = 0;      // added to the symbol's offset
  std::string str() const;  // as written: "/bin/bash:readline+0x4"
};
// TargetError for text that is not of that form.
UprobeTarget parse_uprobe_target(std::string_view text);
// The file offset the probe goes to (the symbol's, plus `offset`); TargetError for a
// missing file or symbol.
uint64_t uprobe_file_offset(const UprobeTarget& target);

// A uprobe (or uretprobe) program on `target`, for process `pid` only (-1: every process).
LinkPtr attach_uprobe(int prog_fd, const UprobeTarget& target, bool retprobe, int pid = -1);

// Whether the kernel has kprobes (its kprobe PMU), and when not, the sentence saying so
// and what to attach to instead (for a syscall, or a function named like a syscall's
// wrapper, its exact sys_enter_/sys_exit_ tracepoints).
bool kernel_has_kprobes();
std::string no_kprobes_message(std::string_view function, bool syscall);
// A kprobe (or kretprobe) program on kernel function `function` + `offset`. TargetError with
// no_kprobes_message() when the kernel has no kprobes.
LinkPtr attach_kprobe(int prog_fd, const std::string& function, uint64_t offset, bool retprobe);

// A perf_event program sampling on the CPU clock `sample_freq` times a second: one event
// (and link) per online CPU (online_cpus() of perf_buffer.h), or one following process
// `pid` on every CPU when pid >= 0.
std::vector<LinkPtr> attach_perf_event(int prog_fd, uint64_t sample_freq, int pid = -1);

// Any perf event (software or hardware counter) sampled every `sample` events, or
// `sample` times a second with `frequency`; per CPU, or following `pid`.
struct PerfEventSpec {
  uint32_t type = 1;    // PERF_TYPE_SOFTWARE
  uint64_t config = 0;  // PERF_COUNT_SW_CPU_CLOCK
  uint64_t sample = 0;
  bool frequency = false;
  std::string name;     // for messages: "page-faults"
};
std::vector<LinkPtr> attach_perf_events(int prog_fd, const PerfEventSpec& spec, int pid = -1);

}  // namespace bpfkit::target::linux_kernel
