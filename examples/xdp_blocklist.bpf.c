// SPDX-License-Identifier: GPL-2.0
// XDP IP blocklist: drops IPv4 packets whose source address falls in a blocked
// CIDR (an LPM trie), counts every verdict and the hits of each blocked prefix.
//
//   bpfkit run xdp_blocklist.bpf.o --pcap in.pcap --map blocklist=cidrs.json
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct cidr_v4 {
  __u32 prefixlen;  // LPM trie keys start with the prefix length in bits
  __u8 addr[4];
};

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct cidr_v4);
  __type(value, __u64);  // packets dropped by this prefix
} blocklist SEC(".maps");

// Packets per XDP action (XDP_ABORTED .. XDP_REDIRECT).
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 5);
  __type(key, __u32);
  __type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int count(__u32 action) {
  __u64 *n = bpf_map_lookup_elem(&verdicts, &action);
  if (n) __sync_fetch_and_add(n, 1);
  return action;
}

SEC("xdp")
int xdp_blocklist(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return count(XDP_DROP);  // runt frame
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return count(XDP_PASS);
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return count(XDP_DROP);  // truncated IPv4 header

  struct cidr_v4 key = {.prefixlen = 32};
  __builtin_memcpy(key.addr, &ip->saddr, sizeof(key.addr));
  __u64 *hits = bpf_map_lookup_elem(&blocklist, &key);
  if (hits) {
    __sync_fetch_and_add(hits, 1);
    return count(XDP_DROP);
  }
  return count(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
