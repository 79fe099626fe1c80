// Socket lookups: bpf_sk_lookup_tcp, bpf_sk_lookup_udp, bpf_skc_lookup_tcp and
// bpf_sk_release, with the kernel's prototypes (the verifier tracks what a lookup
// returns as an acquired reference that every path must release).
//
// The userspace target has no socket table: the kernel answers these lookups from
// its own TCP/UDP hash tables (in the network namespace of the packet's device or
// of netns_id), and a program run by bpfkit's VM sees packets that belong to no
// kernel socket. So a lookup finds nothing and returns NULL, which every program
// must already handle (the verifier refuses one that does not check for NULL), and
// bpf_sk_release, only ever reached with a socket a lookup returned, has nothing to
// drop and returns 0 as the kernel's does.
#include <linux/bpf.h>

#include "helpers/helper_support.h"

namespace bpfkit::helpers::detail {
namespace {

// sk_lookup_*(ctx, tuple, tuple_size, netns_id, flags): NULL (no socket exists here).
uint64_t sk_lookup(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  return 0;
}

// sk_release(sock): 0, as the kernel's always returns.
uint64_t sk_release(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  return 0;
}

}  // namespace

void add_socket_helpers(core::HelperTable& t) {
  using A = ArgKind;
  // The tuple is read-only memory of tuple_size bytes (bpf_sock_tuple's ipv4 or ipv6 part).
  // The kernel (6.18) takes a size of 0 too: the lookup then finds nothing.
  const std::initializer_list<ArgKind> lookup_args = {A::PtrToCtx, A::PtrToMem, A::ConstSizeOrZero,
                                                      A::Anything, A::Anything};
  t.add({BPF_FUNC_sk_lookup_tcp, "sk_lookup_tcp", proto(RetKind::PtrToSocketOrNull, lookup_args), sk_lookup});
  t.add({BPF_FUNC_sk_lookup_udp, "sk_lookup_udp", proto(RetKind::PtrToSocketOrNull, lookup_args), sk_lookup});
  t.add({BPF_FUNC_skc_lookup_tcp, "skc_lookup_tcp", proto(RetKind::PtrToSockCommonOrNull, lookup_args),
         sk_lookup});
  t.add(
      {BPF_FUNC_sk_release, "sk_release", proto(RetKind::Integer, {A::PtrToSockCommonRelease}), sk_release});
}

}  // namespace bpfkit::helpers::detail
