// What the verifier knows about helpers beyond their prototypes: which move
// packet data (invalidating packet pointers: bpf_helper_changes_pkt_data),
// which maps each accepts (check_map_func_compatibility), which take callbacks.
#include <linux/bpf.h>

#include <initializer_list>

#include "verifier/analyzer.h"

namespace bpfkit::verifier {
namespace {

bool one_of(int32_t id, std::initializer_list<int32_t> ids) {
  for (int32_t i : ids) {
    if (i == id) return true;
  }
  return false;
}

}  // namespace

bool helper_changes_packet_data(int32_t id) {
  return one_of(id, {BPF_FUNC_skb_store_bytes, BPF_FUNC_skb_change_head, BPF_FUNC_skb_change_tail,
                     BPF_FUNC_skb_pull_data, BPF_FUNC_skb_change_proto, BPF_FUNC_skb_vlan_push,
                     BPF_FUNC_skb_vlan_pop, BPF_FUNC_skb_adjust_room, BPF_FUNC_xdp_adjust_head,
                     BPF_FUNC_xdp_adjust_meta, BPF_FUNC_xdp_adjust_tail, BPF_FUNC_msg_pull_data,
                     BPF_FUNC_msg_push_data, BPF_FUNC_msg_pop_data, BPF_FUNC_l3_csum_replace,
                     BPF_FUNC_l4_csum_replace, BPF_FUNC_clone_redirect, BPF_FUNC_lwt_push_encap,
                     BPF_FUNC_lwt_seg6_store_bytes, BPF_FUNC_lwt_seg6_adjust_srh, BPF_FUNC_lwt_seg6_action,
                     BPF_FUNC_store_hdr_opt});
}

bool helper_accepts_map(int32_t id, uint32_t map_type) {
  // The map's side: special maps work with their own helpers only.
  switch (map_type) {
    case BPF_MAP_TYPE_PROG_ARRAY:
      return id == BPF_FUNC_tail_call;
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
      return one_of(id, {BPF_FUNC_perf_event_read, BPF_FUNC_perf_event_output, BPF_FUNC_perf_event_read_value,
                         BPF_FUNC_skb_output, BPF_FUNC_xdp_output});
    case BPF_MAP_TYPE_RINGBUF:
      return one_of(id, {BPF_FUNC_ringbuf_output, BPF_FUNC_ringbuf_reserve, BPF_FUNC_ringbuf_query,
                         BPF_FUNC_ringbuf_reserve_dynptr});
    case BPF_MAP_TYPE_STACK_TRACE:
      return id == BPF_FUNC_get_stackid;
    case BPF_MAP_TYPE_DEVMAP: case BPF_MAP_TYPE_DEVMAP_HASH: case BPF_MAP_TYPE_XSKMAP:
      return id == BPF_FUNC_redirect_map || id == BPF_FUNC_map_lookup_elem;
    case BPF_MAP_TYPE_CPUMAP:
      return id == BPF_FUNC_redirect_map;
    case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_HASH_OF_MAPS:
      return id == BPF_FUNC_map_lookup_elem;
    case BPF_MAP_TYPE_QUEUE: case BPF_MAP_TYPE_STACK:
      return one_of(id, {BPF_FUNC_map_peek_elem, BPF_FUNC_map_pop_elem, BPF_FUNC_map_push_elem});
    case BPF_MAP_TYPE_BLOOM_FILTER:
      return id == BPF_FUNC_map_peek_elem || id == BPF_FUNC_map_push_elem;
    default:
      break;
  }
  // The helper's side: helpers made for special maps take nothing else.
  switch (id) {
    case BPF_FUNC_tail_call: case BPF_FUNC_perf_event_read: case BPF_FUNC_perf_event_output:
    case BPF_FUNC_perf_event_read_value: case BPF_FUNC_skb_output: case BPF_FUNC_xdp_output:
    case BPF_FUNC_ringbuf_output: case BPF_FUNC_ringbuf_reserve: case BPF_FUNC_ringbuf_query:
    case BPF_FUNC_get_stackid: case BPF_FUNC_redirect_map: case BPF_FUNC_map_peek_elem: case BPF_FUNC_map_pop_elem:
    case BPF_FUNC_map_push_elem:
      return false;
    default:
      return true;
  }
}

bool helper_needs_perfmon(int32_t id) {
  return one_of(id, {BPF_FUNC_trace_printk, BPF_FUNC_get_current_task, BPF_FUNC_get_current_task_btf,
                     BPF_FUNC_probe_read_user, BPF_FUNC_probe_read_kernel, BPF_FUNC_probe_read_user_str,
                     BPF_FUNC_probe_read_kernel_str, BPF_FUNC_snprintf_btf, BPF_FUNC_snprintf,
                     BPF_FUNC_task_pt_regs, BPF_FUNC_trace_vprintk});
}

CallbackInfo helper_callback(int32_t id) {
  switch (id) {
    case BPF_FUNC_loop: return {1, 2, 0, 1};
    case BPF_FUNC_for_each_map_elem: return {1, 2, 0, 1};
    default: return {};
  }
}

}  // namespace bpfkit::verifier
