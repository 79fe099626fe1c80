// SPDX-License-Identifier: GPL-2.0
// A ring-buffer event producer: one event per IPv4 packet (addresses, protocol,
// length) for a user-space consumer, and a count of events the ring had no room for.
//
//   bpfkit run ringbuf_events.bpf.o --pcap in.pcap     (events are printed as they arrive)
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct packet_event {
  __u32 saddr;
  __u32 daddr;
  __u16 len;
  __u8 protocol;
  __u8 ttl;
};

// Keeps the record's type in the object's BTF, so tools can format records by name.
const struct packet_event *unused_event __attribute__((unused));

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 dropped_events = 0;

SEC("xdp")
int xdp_events(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_PASS;

  struct packet_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&dropped_events, 1);
    return XDP_PASS;
  }
  e->saddr = ip->saddr;
  e->daddr = ip->daddr;
  e->len = (__u16)(data_end - data);
  e->protocol = ip->protocol;
  e->ttl = ip->ttl;
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
