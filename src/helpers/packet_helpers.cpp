// Packet helpers on env->packet: bpf_xdp_adjust_head/_tail/_meta, bpf_redirect,
// bpf_redirect_map, bpf_skb_load_bytes, bpf_skb_store_bytes, bpf_skb_pull_data. Bounds and return
// codes are the kernel's; moving data also updates the context's 32-bit copies.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <cstring>

#include "helpers/helper_support.h"
#include "maps/redirect_maps.h"

namespace bpfkit::helpers::detail {
namespace {

uint64_t neg(int err) { return uint64_t(int64_t(err)); }

// The kernel keeps a struct xdp_frame (40 bytes on 64-bit) at the start of the
// headroom; neither data nor metadata may move into it.
constexpr size_t kXdpFrameSize = 40;
// Metadata length: a multiple of 4 that fits skb_shared_info's u8 meta_len.
constexpr size_t kMaxMetaLen = 255;

core::PacketState* packet_or_abort(core::ExecEnv* env, std::string_view helper) {
  if (env->packet && env->packet->head) return env->packet;
  abort_run(env, helper, "this program runs without a packet");
  return nullptr;
}

void sync_ctx(core::PacketState& p) {
  if (p.ctx_data) *p.ctx_data = uint32_t(reinterpret_cast<uintptr_t>(p.data));
  if (p.ctx_data_end) *p.ctx_data_end = uint32_t(reinterpret_cast<uintptr_t>(p.data_end));
  if (p.ctx_data_meta) *p.ctx_data_meta = uint32_t(reinterpret_cast<uintptr_t>(p.meta));
}

// offset (an int) moves the packet start; the metadata moves along with it.
uint64_t xdp_adjust_head(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  core::PacketState* p = packet_or_abort(env, "xdp_adjust_head");
  if (!p) return 0;
  const int64_t offset = int32_t(uint32_t(r2));
  const size_t metalen = size_t(p->data - p->meta);
  const intptr_t data_start = intptr_t(p->head + kXdpFrameSize + metalen);
  const intptr_t data = intptr_t(p->data) + offset;
  if (data < data_start || data > intptr_t(p->data_end) - ETH_HLEN) return neg(-EINVAL);
  if (metalen) std::memmove(p->meta + offset, p->meta, metalen);
  p->meta += offset;
  p->data += offset;
  sync_ctx(*p);
  return 0;
}

// Grows (zero-filled) or shrinks the packet's end, keeping at least an Ethernet header.
uint64_t xdp_adjust_tail(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  core::PacketState* p = packet_or_abort(env, "xdp_adjust_tail");
  if (!p) return 0;
  const int64_t offset = int32_t(uint32_t(r2));
  const intptr_t data_end = intptr_t(p->data_end) + offset;
  if (data_end > intptr_t(p->end)) return neg(-EINVAL);
  if (data_end < intptr_t(p->data) + ETH_HLEN) return neg(-EINVAL);
  if (offset > 0) std::memset(p->data_end, 0, size_t(offset));
  p->data_end += offset;
  sync_ctx(*p);
  return 0;
}

uint64_t xdp_adjust_meta(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  core::PacketState* p = packet_or_abort(env, "xdp_adjust_meta");
  if (!p) return 0;
  const int64_t offset = int32_t(uint32_t(r2));
  const intptr_t meta = intptr_t(p->meta) + offset;
  if (meta < intptr_t(p->head + kXdpFrameSize) || meta > intptr_t(p->data)) return neg(-EINVAL);
  const size_t metalen = size_t(intptr_t(p->data) - meta);
  if ((metalen & 3) || metalen > kMaxMetaLen) return neg(-EACCES);
  p->meta = reinterpret_cast<uint8_t*>(meta);
  sync_ctx(*p);
  return 0;
}

bool is_xdp(const core::PacketState* p) { return p && p->prog_type == BPF_PROG_TYPE_XDP; }

// XDP: flags must be 0 (else XDP_ABORTED); tc: only BPF_F_INGRESS (else TC_ACT_SHOT).
uint64_t redirect(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  core::PacketState* p = env->packet;
  const bool xdp = is_xdp(p);
  if (xdp ? r2 != 0 : (r2 & ~uint64_t(BPF_F_INGRESS)) != 0) return xdp ? XDP_ABORTED : TC_ACT_SHOT;
  if (p) {
    p->redirected = true;
    p->redirect_ifindex = uint32_t(r1);
    p->redirect_flags = r2;
    p->redirect_map = nullptr;  // the kernel's bpf_redirect clears the map target
    p->redirect_map_type = BPF_MAP_TYPE_UNSPEC;
  }
  return xdp ? XDP_REDIRECT : TC_ACT_REDIRECT;
}

// __bpf_xdp_redirect_map: flags beyond the fallback action (and, for devmaps,
// BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS) abort; a missing entry returns the
// fallback action in the flags' two low bits and clears the map target (a target
// left by bpf_redirect stays, as in the kernel); an entry found (or a broadcast)
// records the map, key and flags and returns XDP_REDIRECT. The key is looked up as
// a u32, as the kernel's map lookups take it. Maps that are not redirect maps
// (which the verifier refuses) find nothing.
uint64_t redirect_map(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r1, "redirect_map");
  if (!m) return 0;
  auto* rm = dynamic_cast<maps::RedirectMap*>(m);
  const uint64_t action_mask = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;
  const uint64_t flag_mask = rm ? rm->redirect_flags_allowed() : 0;
  if (r3 & ~(action_mask | flag_mask)) return XDP_ABORTED;
  maps::RedirectTarget target;
  const bool found = rm && rm->redirect_lookup(uint32_t(r2), &target);
  const bool broadcast = (r3 & BPF_F_BROADCAST) && rm;
  core::PacketState* p = env->packet;
  if (!found && !broadcast) {
    if (p) {
      p->redirect_map = nullptr;
      p->redirect_map_type = BPF_MAP_TYPE_UNSPEC;
    }
    return r3 & action_mask;
  }
  if (p) {
    p->redirected = true;
    p->redirect_ifindex = broadcast ? 0 : target.ifindex;
    p->redirect_flags = r3;
    p->redirect_map = m;
    p->redirect_map_type = m->type();
    p->redirect_key = r2;
  }
  return XDP_REDIRECT;
}

// skb->len bytes from data: offsets past them fail as skb_header_pointer does.
bool skb_range(const core::PacketState& p, uint64_t offset, uint64_t len) {
  const uint64_t n = uint64_t(p.data_end - p.data);
  return offset <= INT32_MAX && offset <= n && len <= n - offset;
}

uint64_t skb_load_bytes(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  core::PacketState* p = packet_or_abort(env, "skb_load_bytes");
  if (!p) return 0;
  auto* to = reinterpret_cast<uint8_t*>(r3);
  const uint32_t len = uint32_t(r4);
  const uint32_t offset = uint32_t(r2);
  if (!skb_range(*p, offset, len)) {
    std::memset(to, 0, len);
    return neg(-EFAULT);
  }
  std::memcpy(to, p->data + offset, len);
  return 0;
}

// The packet's checksum state is CHECKSUM_NONE here, so BPF_F_RECOMPUTE_CSUM has nothing to update.
uint64_t skb_store_bytes(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  core::PacketState* p = packet_or_abort(env, "skb_store_bytes");
  if (!p) return 0;
  if (r5 & ~uint64_t(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) return neg(-EINVAL);
  const uint32_t offset = uint32_t(r2), len = uint32_t(r4);
  if (!skb_range(*p, offset, len)) return neg(-EFAULT);
  std::memmove(p->data + offset, reinterpret_cast<const void*>(r3), len);
  return 0;
}

// Makes the first len bytes (0: the linear part) readable and writable through the packet
// pointers (bpf_try_make_writable). bpfkit's skb is linear, as BPF_PROG_TEST_RUN builds it,
// so every byte already is: a length up to the packet's succeeds, a longer one fails with
// -ENOMEM as pskb_may_pull does. The verifier has invalidated the program's packet pointers.
uint64_t skb_pull_data(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  core::PacketState* p = packet_or_abort(env, "skb_pull_data");
  if (!p) return 0;
  const uint32_t len = uint32_t(r2);  // the kernel's argument is a u32
  return len > uint64_t(p->data_end - p->data) ? neg(-ENOMEM) : 0;
}

}  // namespace

void add_packet_helpers(core::HelperTable& t) {
  using A = ArgKind;
  const core::HelperProto adjust = proto(RetKind::Integer, {A::PtrToCtx, A::Anything});
  t.add({BPF_FUNC_xdp_adjust_head, "xdp_adjust_head", adjust, xdp_adjust_head});
  t.add({BPF_FUNC_xdp_adjust_tail, "xdp_adjust_tail", adjust, xdp_adjust_tail});
  t.add({BPF_FUNC_xdp_adjust_meta, "xdp_adjust_meta", adjust, xdp_adjust_meta});
  t.add({BPF_FUNC_redirect, "redirect", proto(RetKind::Integer, {A::Anything, A::Anything}), redirect});
  t.add({BPF_FUNC_redirect_map, "redirect_map",
         proto(RetKind::Integer, {A::ConstMapPtr, A::Anything, A::Anything}), redirect_map});
  t.add({BPF_FUNC_skb_load_bytes, "skb_load_bytes",
         proto(RetKind::Integer, {A::PtrToCtx, A::Anything, A::PtrToUninitMem, A::ConstSize}),
         skb_load_bytes});
  t.add({BPF_FUNC_skb_store_bytes, "skb_store_bytes",
         proto(RetKind::Integer, {A::PtrToCtx, A::Anything, A::PtrToMem, A::ConstSize, A::Anything}),
         skb_store_bytes});
  t.add({BPF_FUNC_skb_pull_data, "skb_pull_data", adjust, skb_pull_data});
}

}  // namespace bpfkit::helpers::detail
