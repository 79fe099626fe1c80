// The running kernel's BPF objects as data, for bpftool-like tooling: program,
// map, link and BTF ids (BPF_*_GET_NEXT_ID), fds by id, what BPF_OBJ_GET_INFO_BY_FD
// says about each, pinning under bpffs (BPF_OBJ_PIN / BPF_OBJ_GET), and the type
// names as bpftool spells them ("xdp", "lpm_trie", "raw_tracepoint", ...).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "object/btf.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {

enum class KernelObjectKind : uint8_t { Program, Map, Link, Btf };
const char* kernel_object_kind_name(KernelObjectKind kind);  // "program", "map", "link", "BTF"

// Every id of that kind, ascending. Throws BpfError when bpf(2) refuses.
std::vector<uint32_t> kernel_object_ids(KernelObjectKind kind);
// An fd for the object with that id; BpfError ("map 12 does not exist") when gone.
UniqueFd kernel_object_fd(KernelObjectKind kind, uint32_t id);

// Names as bpftool (libbpf) prints them; "unknown" plus the number for values this
// table does not know. The lookups return nullopt for unknown names.
std::string prog_type_name(uint32_t type);
std::string map_type_name(uint32_t type);
std::string link_type_name(uint32_t type);
std::string attach_type_name(uint32_t type);
std::optional<uint32_t> prog_type_by_name(std::string_view name);
std::optional<uint32_t> map_type_by_name(std::string_view name);
// How many program / map types the name tables cover (ids 0 .. count-1).
uint32_t prog_type_count();
uint32_t map_type_count();

struct ProgramInfoRequest {
  bool instructions = false;  // xlated and jited bytes, jited function addresses and lengths
  bool btf_records = false;   // func_info and line_info
};

struct KernelProgramInfo {
  uint32_t id = 0;
  uint32_t type = 0;
  std::string name;
  std::string tag;  // 16 hex digits
  bool gpl_compatible = false;
  uint64_t load_time_ns = 0;  // since boot
  int64_t loaded_at = 0;      // wall clock, seconds since the epoch
  uint32_t uid = 0;
  uint32_t xlated_size = 0, jited_size = 0;
  uint64_t memlock = 0;  // from fdinfo
  std::vector<uint32_t> map_ids;
  uint32_t btf_id = 0;
  uint32_t ifindex = 0;
  uint64_t run_time_ns = 0, run_count = 0, recursion_misses = 0;
  uint32_t verified_insns = 0;
  uint32_t attach_btf_obj_id = 0, attach_btf_id = 0;
  // With ProgramInfoRequest::instructions:
  std::vector<uint8_t> xlated;
  std::vector<uint8_t> jited;
  std::vector<uint64_t> jited_ksyms;      // each function's start address
  std::vector<uint32_t> jited_func_lens;  // and its length in bytes
  // With ProgramInfoRequest::btf_records:
  std::vector<bpf_func_info> func_info;
  std::vector<bpf_line_info> line_info;
};

struct KernelMapInfo {
  uint32_t id = 0;
  uint32_t type = 0;
  std::string name;
  uint32_t key_size = 0, value_size = 0, max_entries = 0, flags = 0;
  uint64_t memlock = 0;  // from fdinfo
  bool frozen = false;   // from fdinfo
  uint32_t btf_id = 0, btf_key_type_id = 0, btf_value_type_id = 0, btf_vmlinux_value_type_id = 0;
  uint64_t map_extra = 0;
  uint32_t ifindex = 0;
};

// What a link is attached to; which fields mean something depends on `type`.
struct KernelLinkInfo {
  uint32_t id = 0;
  uint32_t type = 0;
  uint32_t prog_id = 0;
  std::string tp_name;       // raw_tracepoint; perf_event tracepoint
  uint32_t attach_type = 0;  // tracing, cgroup, netns, tcx, netkit, sockmap
  bool has_attach_type = false;
  uint32_t target_obj_id = 0, target_btf_id = 0;  // tracing
  uint64_t cgroup_id = 0;                         // cgroup
  uint32_t netns_ino = 0;                         // netns
  uint32_t ifindex = 0;                           // xdp, tcx, netkit
  uint32_t map_id = 0;                            // struct_ops, sockmap
  std::string iter_target;                        // iter
  // perf_event links (tracepoints, uprobes, kprobes, perf events):
  uint32_t perf_event_type = 0;  // enum bpf_perf_event_type
  std::string perf_name;         // uprobe file, kprobe function or tracepoint name
  uint32_t perf_offset = 0;
  uint64_t perf_addr = 0, perf_cookie = 0, perf_config = 0;
  uint32_t perf_config_type = 0;
};

KernelProgramInfo program_info(int fd, const ProgramInfoRequest& request = {});
KernelMapInfo map_info(int fd);
KernelLinkInfo link_info(int fd);

struct KernelBtfInfo {
  uint32_t id = 0;
  std::string name;  // "vmlinux", a module's name, or empty for an object's BTF
  bool kernel_btf = false;
  std::vector<uint8_t> blob;
};
KernelBtfInfo btf_info(int fd);
// The BTF with that id, parsed: a module's BTF is split on vmlinux's, an object's
// stands alone. Throws BpfError or object::BtfError.
std::shared_ptr<const object::Btf> kernel_btf_by_id(uint32_t id);

// The program's helper-call targets in xlated code are offsets from the kernel's
// __bpf_call_base; this reads /proc/kallsyms once to name them ("" when unknown).
std::string kernel_symbol_at(uint64_t address);
uint64_t kernel_bpf_call_base();  // 0 when kallsyms hides addresses

// Pinning. `path` must be inside a mounted bpffs; when it is under /sys/fs/bpf and
// nothing is mounted there, bpffs is mounted first (as bpftool does), and when that
// fails the error is one sentence: "bpffs is not mounted at /sys/fs/bpf: mount -t
// bpf bpf /sys/fs/bpf".
void pin_object(int fd, const std::string& path);
UniqueFd pinned_object(const std::string& path);
// What a pinned path holds (from its fdinfo), to check "pinned PATH" against the verb.
KernelObjectKind pinned_object_kind(int fd);

}  // namespace bpfkit::target::linux_kernel
