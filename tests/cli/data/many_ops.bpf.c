// Exercises many instruction forms so that bpfkit's disassembler can be compared
// with llvm-objdump on real clang output. Not meant to pass a verifier.
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

long long counter64;
int counter32;

static __attribute__((noinline)) long long mix(long long a, long long b) {
  return (a * 31) ^ (b >> 3) ^ (a << 7);
}

SEC("xdp") int many_ops(struct xdp_md *ctx) {
  unsigned char *p = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (p + 64 > end) return XDP_PASS;
  long long a = *(long long *)p, b = *(long long *)(p + 8);
  int c = *(int *)(p + 16), d = *(int *)(p + 20);
  short e = *(short *)(p + 24);
  signed char f = (signed char)p[26];
  unsigned long long u = (unsigned long long)a;
  long long r = a + b - c * d;
  r ^= u / (unsigned long long)(b | 1);
  r += (unsigned)c % (unsigned)(d | 1);
  r -= (a >> (b & 63)) + (long long)(u >> (c & 31)) + (a << (d & 15));
  r |= e & f;
  r += mix(a, b);
  r += __builtin_bswap64(u) + __builtin_bswap32((unsigned)c) + __builtin_bswap16((unsigned short)e);
  __sync_fetch_and_add(&counter64, r);
  __sync_fetch_and_or(&counter64, 4);
  __sync_fetch_and_and(&counter32, 12);
  __sync_fetch_and_xor(&counter32, 3);
  r += __sync_fetch_and_add(&counter64, 1);
  r += __sync_lock_test_and_set(&counter64, a);
  r += __sync_val_compare_and_swap(&counter64, a, b);
  r += __sync_val_compare_and_swap(&counter32, c, d);
  for (int i = 0; i < 8; i++)
    if (p[32 + i] > 100) r += i; else if ((signed char)p[40 + i] < -3) r -= i;
  *(long long *)(p + 48) = r;
  *(int *)(p + 56) = (int)r;
  *(short *)(p + 60) = (short)r;
  p[62] = 7;
  return r > 0 ? XDP_DROP : (r == -5 ? XDP_TX : XDP_PASS);
}

SEC("socket") int filter(struct __sk_buff *skb) {
  return (skb->len > 100 && skb->protocol == 8) ? -1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
