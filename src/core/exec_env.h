// What one run of a program may touch and call, and the per-run state helpers read
// and write (the packet, the task the program runs "in", output sinks, tail calls).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/helpers.h"

namespace bpfkit::core {

// A block of memory a program may access in checked mode (the stack is implicit).
struct MemoryRegion {
  uint64_t begin = 0;
  uint64_t size = 0;
  bool writable = true;
};

// The task a program runs on behalf of: what get_current_pid_tgid, _uid_gid and
// _comm report. The hook fills it (a uprobe: the traced thread; a packet: none).
struct TaskIdentity {
  uint32_t pid = 0;   // thread id (the kernel's pid)
  uint32_t tgid = 0;  // process id
  uint32_t uid = 0, gid = 0;
  char comm[16] = {};
  std::vector<uint64_t> user_stack;  // return addresses, innermost first (get_stack/get_stackid)
  // The calling thread, as the kernel would see it for a syscall it makes.
  static TaskIdentity current();
};

// A packet program's buffer. [head, end) is the whole buffer (headroom, packet,
// tailroom); meta <= data <= data_end lie inside it. The context (xdp_md,
// __sk_buff) keeps 32-bit copies of the pointers, as the kernel's UAPI does, so
// packet buffers live below 4 GiB; helpers that move data update both.
struct PacketState {
  uint8_t* head = nullptr;
  uint8_t* end = nullptr;
  uint8_t* meta = nullptr;
  uint8_t* data = nullptr;
  uint8_t* data_end = nullptr;
  uint32_t* ctx_data = nullptr;  // the context's fields, or nullptr where the type has none
  uint32_t* ctx_data_end = nullptr;
  uint32_t* ctx_data_meta = nullptr;
  uint32_t ifindex = 0, rx_queue_index = 0;
  // The bpf_prog_type running on it (BPF_PROG_TYPE_XDP, _SCHED_CLS, ...): bpf_redirect
  // returns XDP_REDIRECT for XDP and TC_ACT_REDIRECT otherwise.
  uint32_t prog_type = 0;
  // Set by bpf_redirect / bpf_redirect_map: where the packet goes on XDP_REDIRECT/TC_ACT_REDIRECT.
  bool redirected = false;
  uint32_t redirect_ifindex = 0;
  uint64_t redirect_flags = 0;
  // bpf_redirect_map: the map (a maps::Map*), its bpf_map_type and the key, valid while
  // `redirected`; type BPF_MAP_TYPE_UNSPEC (0) when the target is redirect_ifindex from
  // bpf_redirect. With BPF_F_BROADCAST in redirect_flags the frame goes to every device
  // of the devmap (redirect_ifindex 0).
  const void* redirect_map = nullptr;
  uint32_t redirect_map_type = 0;
  uint64_t redirect_key = 0;
};

struct ExecEnv {
  const HelperTable* helpers = &HelperTable::standard();
  std::vector<MemoryRegion> regions;  // ctx/packet/helper memory; checked mode only

  // A helper sets `abort` to stop the program; the run then returns r0 = 0, or
  // fails with `abort_reason` when that is not empty.
  bool abort = false;
  std::string abort_reason;

  // Lets a helper (e.g. one returning a pointer) grant access in checked mode.
  void allow(uint64_t begin, uint64_t size, bool writable) {
    if (track_regions) regions.push_back({begin, size, writable});
  }
  // False for verified programs run unchecked: nobody reads the regions, so
  // helpers need not record them (a map lookup would otherwise cost a push).
  bool track_regions = true;

  // ---- Per-run state, set by whoever runs the program (target, hook, test). ----
  uint64_t ctx = 0;               // r1 at entry
  PacketState* packet = nullptr;  // packet programs only
  TaskIdentity* task = nullptr;   // nullptr: helpers report the calling thread
  uint32_t cpu = 0;               // what get_smp_processor_id returns; per-CPU maps use the real CPU

  // Map handles a program may pass to map helpers (the values its lddw loads).
  // Helpers refuse any other pointer, so an unverified program cannot forge one.
  std::vector<const void*> maps;
  // A verified program run unchecked: its helper arguments are proven, so a map
  // argument is one of `maps` without a search.
  bool trusted_args = false;

  // Output: bpf_trace_printk lines (without the trailing newline). Unset: stderr.
  std::function<void(std::string_view)> on_printk;

  // bpf_tail_call: the helper stores the target program and aborts the run; the
  // runner then runs `tail_call` with the same ctx (up to 33 in a chain).
  const void* tail_call = nullptr;
  uint32_t tail_call_count = 0;

  // Callbacks (bpf_loop, bpf_for_each_map_elem): the engine running the program
  // sets this so that a helper can call the subprogram at instruction `slot` with
  // r1..r5 and get its r0. nullptr outside a run.
  uint64_t (*call_subprogram)(ExecEnv* env, size_t slot, uint64_t r1, uint64_t r2, uint64_t r3,
                              uint64_t r4, uint64_t r5) = nullptr;
  void* engine = nullptr;  // for call_subprogram
};

}  // namespace bpfkit::core
