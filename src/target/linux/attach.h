// Auto-attach, as libbpf does from a program's SEC() name: "tracepoint/syscalls/
// sys_enter_openat" opens that tracepoint, "uprobe//bin/bash:readline" probes bash,
// "xdp" goes on the interface the options name, and so on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "object/bpf_object.h"
#include "target/linux/link.h"
#include "target/linux/net_attach.h"

namespace bpfkit::target::linux_kernel {

struct AttachOptions {
  std::string iface;  // xdp / tc sections: the interface
  XdpMode xdp_mode = XdpMode::Auto;
  int pid = -1;               // uprobes / perf events: one process (-1: every process)
  uint64_t sample_freq = 99;  // perf_event sections: samples per second per CPU
};

// Attaches a loaded program as libbpf would from its section. One sentence on failure
// (TargetError), naming the program and section. Usually one link; perf_event sections
// give one per CPU.
std::vector<LinkPtr> attach_program(int prog_fd, const object::ProgramDefinition& program,
                                    const AttachOptions& options);

// Whether the section can be auto-attached at all with these options: std::nullopt when
// it can, else the sentence saying what is missing ("socket" needs a socket, "xdp" an
// interface, "tracepoint" a CATEGORY/NAME, "kprobe" a kernel with kprobes, ...). Does not
// look the hook itself up (attach_program says when it does not exist).
std::optional<std::string> attach_unavailable_reason(const object::ProgramDefinition& program,
                                                     const AttachOptions& options);

}  // namespace bpfkit::target::linux_kernel
