// What the running kernel supports, asked the way bpftool asks: load a minimal
// program of each type, create a small map of each type, and for each (program
// type, helper) load a program calling the helper — "unknown func", "invalid func"
// or "cannot use helper" in the verifier log means unsupported. Answers are cached
// for the process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bpfkit::target::linux_kernel {

struct FeatureEntry {
  uint32_t type = 0;
  std::string name;  // as bpftool spells it: "xdp", "ringbuf", ...
  bool supported = false;
  std::string reason;  // why not, in a few words ("EINVAL: unknown type", "kernel lockdown (EPERM)")
};

struct HelperSupport {
  uint32_t prog_type = 0;
  std::string prog_type_name;
  std::vector<std::string> helpers;  // "bpf_map_lookup_elem", ...; only for supported program types
};

// One entry per program type / map type bpfkit's name tables know.
const std::vector<FeatureEntry>& probe_program_types();
const std::vector<FeatureEntry>& probe_map_types();

// Helpers the kernel accepts from programs of `prog_type` (empty when the type is
// not supported). A few hundred loads per type: milliseconds, cached per type.
const HelperSupport& probe_helpers(uint32_t prog_type);

// Every helper id the kernel knows with its name (from vmlinux BTF's enum bpf_func_id;
// bpfkit's own helper table when vmlinux BTF is missing).
const std::vector<std::pair<int32_t, std::string>>& kernel_helper_names();

// Facts that are not program, map or helper support.
struct KernelFacts {
  bool bpf_syscall = false;
  int jit_enable = -1, jit_harden = -1, jit_kallsyms = -1, unprivileged_bpf_disabled = -1;
  bool vmlinux_btf = false;
  bool kprobe_events = false;  // tracefs kprobe_events: kprobes can be attached
  bool uprobe_events = false;
  bool tracefs = false;
  bool bpffs = false;  // /sys/fs/bpf mounted
  bool bounded_loops = false, large_insn_limit = false;
  bool v2_isa = false, v3_isa = false, v4_isa = false;
};
const KernelFacts& probe_kernel_facts();

}  // namespace bpfkit::target::linux_kernel
