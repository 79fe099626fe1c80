// SPDX-License-Identifier: GPL-2.0
// Counts openat(2) calls per process from the syscalls:sys_enter_openat tracepoint.
//
//   bpfkit run open_counter.bpf.o --ctx openat.json     (userspace target)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// The tracepoint's record, as /sys/kernel/tracing/events/syscalls/sys_enter_openat/format lays it out.
struct sys_enter_openat_args {
  __u64 common;  // common_type, common_flags, common_preempt_count, common_pid
  __s32 syscall_nr;
  __u32 pad;
  __u64 dfd;
  const char *filename;
  __u64 flags;
  __u64 mode;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);    // process id (tgid)
  __type(value, __u64);  // openat calls
} opens SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int count_openat(struct sys_enter_openat_args *ctx) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  __u64 one = 1;
  __u64 *n = bpf_map_lookup_elem(&opens, &tgid);
  if (n)
    __sync_fetch_and_add(n, 1);
  else
    bpf_map_update_elem(&opens, &tgid, &one, BPF_NOEXIST);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
