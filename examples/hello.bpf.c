// SPDX-License-Identifier: GPL-2.0
// Hello, world: prints a line with bpf_printk for every write(2) of one process.
//
//   bpfkit run hello.bpf.o --ctx write.json
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// The process to greet (set before loading; 0 greets everyone).
volatile const __u32 target_tgid = 0;
__u64 greetings = 0;

struct sys_enter_write_args {
  __u64 common;
  __s32 syscall_nr;
  __u32 pad;
  __u64 fd;
  const char *buf;
  __u64 count;
};

SEC("tp/syscalls/sys_enter_write")
int hello(struct sys_enter_write_args *ctx) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (target_tgid && tgid != target_tgid) return 0;
  greetings++;
  bpf_printk("Hello, eBPF! pid %d wrote %d bytes to fd %d", tgid, (int)ctx->count, (int)ctx->fd);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
