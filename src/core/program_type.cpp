// The program-type table, following the kernel (6.18): each type's context
// fields come from its *_is_valid_access() (filter.c, bpf_trace.c), its helpers
// from its *_func_proto() (the base set every type shares, the socket helpers,
// the tracing helpers, then the type's own), its return range from the
// verifier's check_return_code(). tests/kernel/program_type_kernel_test.cpp
// checks all three against the running kernel.
#include "core/program_type.h"

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <linux/bpf.h>

namespace bpfkit::core {
namespace {

// Newer than the installed UAPI header (linux-libc-dev 6.1).
constexpr int32_t kFuncCgrpStorageGet = 210;
constexpr int32_t kFuncCgrpStorageDelete = 211;
constexpr uint32_t kTraceKprobeSession = 56;  // BPF_TRACE_KPROBE_SESSION (6.10)
constexpr uint32_t kTraceUprobeSession = 58;  // BPF_TRACE_UPROBE_SESSION (6.13)

#define F(name) int32_t(BPF_FUNC_##name)

using Ids = std::initializer_list<int32_t>;

// bpf_base_func_proto(): what every program type may call (root loads; some of
// these need CAP_BPF or CAP_PERFMON, which bpfkit's userspace target grants).
const Ids kBaseHelpers = {
    F(map_lookup_elem), F(map_update_elem), F(map_delete_elem), F(ktime_get_ns), F(trace_printk),
    F(get_prandom_u32), F(get_smp_processor_id), F(tail_call), F(get_current_pid_tgid),
    F(get_current_uid_gid), F(get_current_comm), F(get_cgroup_classid), F(perf_event_read),
    F(perf_event_output), F(get_current_task), F(current_task_under_cgroup), F(get_numa_node_id),
    F(perf_event_read_value), F(get_current_cgroup_id), F(map_push_elem), F(map_pop_elem),
    F(map_peek_elem), F(spin_lock), F(spin_unlock), F(strtol), F(strtoul), F(send_signal),
    F(probe_read_user), F(probe_read_kernel), F(probe_read_user_str), F(probe_read_kernel_str),
    F(send_signal_thread), F(jiffies64), F(get_ns_current_pid_tgid), F(get_current_ancestor_cgroup_id),
    F(ktime_get_boot_ns), F(ringbuf_output), F(ringbuf_reserve), F(ringbuf_submit), F(ringbuf_discard),
    F(ringbuf_query), F(get_task_stack), F(copy_from_user), F(snprintf_btf), F(per_cpu_ptr),
    F(this_cpu_ptr), F(task_storage_get), F(task_storage_delete), F(get_current_task_btf),
    F(for_each_map_elem), F(snprintf), F(timer_init), F(timer_set_callback), F(timer_start),
    F(timer_cancel), F(task_pt_regs), F(get_branch_snapshot), F(trace_vprintk), F(find_vma), F(loop),
    F(strncmp), F(copy_from_user_task), F(kptr_xchg), F(map_lookup_percpu_elem), F(dynptr_from_mem),
    F(ringbuf_reserve_dynptr), F(ringbuf_submit_dynptr), F(ringbuf_discard_dynptr), F(dynptr_read),
    F(dynptr_write), F(dynptr_data), F(ktime_get_tai_ns), F(user_ringbuf_drain), kFuncCgrpStorageGet,
    kFuncCgrpStorageDelete,
};

// bpf_sk_base_func_proto(): the socket casts and the coarse clock, for networking types.
const Ids kSocketBaseHelpers = {
    F(skc_to_tcp6_sock), F(skc_to_tcp_sock), F(skc_to_tcp_timewait_sock), F(skc_to_tcp_request_sock),
    F(skc_to_udp6_sock), F(skc_to_unix_sock), F(skc_to_mptcp_sock), F(ktime_get_coarse_ns),
};

// sk_filter_func_proto(): reading the skb and its socket.
const Ids kSocketFilterHelpers = {
    F(skb_load_bytes), F(skb_load_bytes_relative), F(get_socket_cookie), F(get_socket_uid),
    F(get_netns_cookie),
};

// cg_skb_func_proto() on top of the socket filter's.
const Ids kCgroupSkbHelpers = {
    F(get_local_storage), F(sk_fullsock), F(sk_storage_get), F(sk_storage_delete), F(skb_cgroup_id),
    F(skb_ancestor_cgroup_id), F(sk_cgroup_id), F(sk_ancestor_cgroup_id), F(sk_lookup_tcp),
    F(sk_lookup_udp), F(sk_release), F(skc_lookup_tcp), F(tcp_sock), F(get_listener_sock),
    F(skb_ecn_set_ce),
};

// tc_cls_act_func_proto(): the skb editing, checksum, tunnel, redirect and socket lookups.
const Ids kTcHelpers = {
    F(skb_store_bytes), F(skb_load_bytes), F(skb_load_bytes_relative), F(skb_pull_data), F(csum_diff),
    F(csum_update), F(csum_level), F(l3_csum_replace), F(l4_csum_replace), F(clone_redirect),
    F(skb_vlan_push), F(skb_vlan_pop), F(skb_change_proto), F(skb_change_type), F(skb_adjust_room),
    F(skb_change_tail), F(skb_change_head), F(skb_get_tunnel_key), F(skb_set_tunnel_key),
    F(skb_get_tunnel_opt), F(skb_set_tunnel_opt), F(redirect), F(redirect_neigh), F(redirect_peer),
    F(get_route_realm), F(get_hash_recalc), F(set_hash_invalid), F(set_hash), F(skb_under_cgroup),
    F(get_socket_cookie), F(get_socket_uid), F(get_netns_cookie), F(fib_lookup), F(check_mtu),
    F(sk_fullsock), F(sk_storage_get), F(sk_storage_delete), F(skb_get_xfrm_state), F(skb_cgroup_classid),
    F(skb_cgroup_id), F(skb_ancestor_cgroup_id), F(sk_lookup_tcp), F(sk_lookup_udp), F(sk_release),
    F(tcp_sock), F(get_listener_sock), F(skc_lookup_tcp), F(tcp_check_syncookie), F(skb_ecn_set_ce),
    F(tcp_gen_syncookie), F(sk_assign), F(skb_set_tstamp), F(tcp_raw_gen_syncookie_ipv4),
    F(tcp_raw_gen_syncookie_ipv6), F(tcp_raw_check_syncookie_ipv4), F(tcp_raw_check_syncookie_ipv6),
};

// xdp_func_proto(): moving the frame's edges, redirects, FIB and socket lookups.
const Ids kXdpHelpers = {
    F(csum_diff), F(xdp_adjust_head), F(xdp_adjust_meta), F(xdp_adjust_tail), F(xdp_get_buff_len),
    F(xdp_load_bytes), F(xdp_store_bytes), F(redirect), F(redirect_map), F(fib_lookup), F(check_mtu),
    F(sk_lookup_udp), F(sk_lookup_tcp), F(sk_release), F(skc_lookup_tcp), F(tcp_check_syncookie),
    F(tcp_gen_syncookie), F(tcp_raw_gen_syncookie_ipv4), F(tcp_raw_gen_syncookie_ipv6),
    F(tcp_raw_check_syncookie_ipv4), F(tcp_raw_check_syncookie_ipv6),
};

// bpf_tracing_func_proto() beyond the base set, and what kprobe/tracepoint/raw_tp
// programs add (stack ids, the attach cookie, the probed function's address).
const Ids kTraceHelpers = {
    F(probe_read), F(probe_read_str), F(get_stackid), F(get_stack), F(get_func_ip), F(get_attach_cookie),
};

// perf_event programs read their own counter and the branch records.
const Ids kPerfEventHelpers = {F(perf_prog_read_value), F(read_branch_records)};

// tracing_prog_func_proto() (fentry/fexit/tp_btf, and under LSM and syscall programs).
const Ids kBtfTracingHelpers = {
    F(probe_read), F(probe_read_str), F(get_stackid), F(get_stack), F(get_func_ip), F(get_socket_cookie),
    F(sk_storage_get), F(sk_storage_delete), F(skb_output), F(xdp_output), F(d_path), F(sock_from_file),
    F(xdp_get_buff_len), F(skc_to_tcp6_sock), F(skc_to_tcp_sock), F(skc_to_tcp_timewait_sock),
    F(skc_to_tcp_request_sock), F(skc_to_udp6_sock), F(skc_to_unix_sock), F(skc_to_mptcp_sock),
};
// Attached through a trampoline: the traced function's arguments and the cookie.
const Ids kTrampolineHelpers = {F(get_func_arg), F(get_func_ret), F(get_func_arg_cnt), F(get_attach_cookie)};
// lsm_func_proto(): local storage of inodes, bprm options, IMA hashes.
const Ids kLsmHelpers = {F(inode_storage_get), F(inode_storage_delete), F(bprm_opts_set), F(ima_inode_hash),
                         F(ima_file_hash)};
// syscall_prog_func_proto(): bpf(2) itself, for loader programs.
const Ids kSyscallHelpers = {F(sys_bpf), F(btf_find_by_name_kind), F(sys_close), F(kallsyms_lookup_name)};

#undef F

std::vector<int32_t> helper_set(std::initializer_list<Ids> parts) {
  std::vector<int32_t> ids;
  for (const Ids& part : parts) ids.insert(ids.end(), part.begin(), part.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// A u32 field: readable with 1/2/4-byte loads, writable (if at all) with 4-byte stores.
CtxField u32_field(std::string name, uint32_t offset, bool writable = false, bool narrow = true,
                   uint32_t kernel_size = 0) {
  return CtxField{std::move(name), offset, 4, CtxFieldKind::Scalar, writable, narrow, false, kernel_size};
}

std::vector<CtxField> xdp_md_fields() {
  // __is_valid_xdp_access(): 4-byte loads only, no stores. egress_ifindex is only for
  // devmap programs (expected_attach_type BPF_XDP_DEVMAP): a plain XDP program cannot
  // read it.
  CtxField egress{"egress_ifindex", offsetof(xdp_md, egress_ifindex), 4};
  egress.attach_type = BPF_XDP_DEVMAP;
  return {
      {"data", offsetof(xdp_md, data), 4, CtxFieldKind::PacketData},
      {"data_end", offsetof(xdp_md, data_end), 4, CtxFieldKind::PacketEnd},
      {"data_meta", offsetof(xdp_md, data_meta), 4, CtxFieldKind::PacketMeta},
      {"ingress_ifindex", offsetof(xdp_md, ingress_ifindex), 4},
      {"rx_queue_index", offsetof(xdp_md, rx_queue_index), 4},
      egress,
  };
}

// The __sk_buff fields one program type sees. bpf_skb_is_valid_access() is the common
// rule (u32 fields: narrow loads, 4-byte stores; cb[]: any aligned access inside it;
// packet pointers and addresses: exactly 4 bytes; tstamp/hwtstamp/sk: exactly 8); each
// type then hides some fields and allows stores to a few.
enum class SkbFlavor { SocketFilter, Tc, CgroupSkb };

std::vector<CtxField> sk_buff_fields(SkbFlavor flavor) {
  const bool tc = flavor == SkbFlavor::Tc;
  const bool cg = flavor == SkbFlavor::CgroupSkb;
  const bool sf = flavor == SkbFlavor::SocketFilter;
  std::vector<CtxField> f;
  f.push_back(u32_field("len", offsetof(__sk_buff, len)));
  f.push_back(u32_field("pkt_type", offsetof(__sk_buff, pkt_type), false, true, 1));
  f.push_back(u32_field("mark", offsetof(__sk_buff, mark), tc || cg));
  f.push_back(u32_field("queue_mapping", offsetof(__sk_buff, queue_mapping), tc, true, 2));
  f.push_back(u32_field("protocol", offsetof(__sk_buff, protocol), false, true, 2));
  f.push_back(u32_field("vlan_present", offsetof(__sk_buff, vlan_present)));
  f.push_back(u32_field("vlan_tci", offsetof(__sk_buff, vlan_tci), false, true, 2));
  f.push_back(u32_field("vlan_proto", offsetof(__sk_buff, vlan_proto), false, true, 2));
  f.push_back(u32_field("priority", offsetof(__sk_buff, priority), tc || cg));
  f.push_back(u32_field("ingress_ifindex", offsetof(__sk_buff, ingress_ifindex)));
  f.push_back(u32_field("ifindex", offsetof(__sk_buff, ifindex)));
  f.push_back(u32_field("tc_index", offsetof(__sk_buff, tc_index), tc, true, 2));
  f.push_back({"cb", offsetof(__sk_buff, cb), sizeof(__sk_buff::cb), CtxFieldKind::Scalar, true, true, true});
  f.push_back(u32_field("hash", offsetof(__sk_buff, hash)));
  if (!sf && !cg) f.push_back(u32_field("tc_classid", offsetof(__sk_buff, tc_classid), tc, true, 2));
  if (!sf) {
    f.push_back({"data", offsetof(__sk_buff, data), 4, CtxFieldKind::PacketData});
    f.push_back({"data_end", offsetof(__sk_buff, data_end), 4, CtxFieldKind::PacketEnd});
  }
  f.push_back(u32_field("napi_id", offsetof(__sk_buff, napi_id)));
  if (cg) {
    // The socket's addresses: exactly 4-byte loads (ports are plain u32 fields).
    f.push_back(u32_field("family", offsetof(__sk_buff, family), false, true, 2));
    f.push_back(u32_field("remote_ip4", offsetof(__sk_buff, remote_ip4), false, false));
    f.push_back(u32_field("local_ip4", offsetof(__sk_buff, local_ip4), false, false));
    for (int i = 0; i < 4; ++i) {
      f.push_back(u32_field("remote_ip6[" + std::to_string(i) + "]",
                            uint32_t(offsetof(__sk_buff, remote_ip6) + 4 * i), false, false));
    }
    for (int i = 0; i < 4; ++i) {
      f.push_back(u32_field("local_ip6[" + std::to_string(i) + "]",
                            uint32_t(offsetof(__sk_buff, local_ip6) + 4 * i), false, false));
    }
    f.push_back(u32_field("remote_port", offsetof(__sk_buff, remote_port)));
    f.push_back(u32_field("local_port", offsetof(__sk_buff, local_port), false, true, 2));
  }
  if (tc) f.push_back({"data_meta", offsetof(__sk_buff, data_meta), 4, CtxFieldKind::PacketMeta});
  if (!sf) f.push_back({"tstamp", offsetof(__sk_buff, tstamp), 8, CtxFieldKind::Scalar, tc || cg});
  if (tc) f.push_back(u32_field("wire_len", offsetof(__sk_buff, wire_len)));
  f.push_back(u32_field("gso_segs", offsetof(__sk_buff, gso_segs), false, true, 2));
  f.push_back({"sk", offsetof(__sk_buff, sk), 8, CtxFieldKind::Socket});
  f.push_back(u32_field("gso_size", offsetof(__sk_buff, gso_size), false, true, 2));
  if (tc) f.push_back({"tstamp_type", offsetof(__sk_buff, tstamp_type), 1});
  if (!sf) f.push_back({"hwtstamp", offsetof(__sk_buff, hwtstamp), 8});
  return f;
}

// struct pt_regs on x86-64, in its order. kprobe programs read any aligned part of it.
std::vector<CtxField> pt_regs_fields(bool narrow) {
  static const char* const kRegs[] = {"r15", "r14", "r13", "r12", "bp", "bx", "r11",
                                      "r10", "r9",  "r8",  "ax",  "cx", "dx", "si",
                                      "di",  "orig_ax", "ip", "cs", "flags", "sp", "ss"};
  std::vector<CtxField> f;
  uint32_t off = 0;
  for (const char* reg : kRegs) {
    f.push_back({reg, off, 8, CtxFieldKind::Scalar, false, narrow});
    off += 8;
  }
  return f;
}
constexpr uint32_t kPtRegsSize = 21 * 8;

std::vector<CtxField> perf_event_fields() {
  // pe_prog_is_valid_access(): the registers only as whole 8-byte words; the
  // sample period and address also narrower.
  std::vector<CtxField> f = pt_regs_fields(false);
  f.push_back({"sample_period", kPtRegsSize, 8, CtxFieldKind::Scalar, false, true});
  f.push_back({"addr", kPtRegsSize + 8, 8, CtxFieldKind::Scalar, false, true});
  return f;
}

constexpr uint32_t kMaxFuncArgs = 12;          // MAX_BPF_FUNC_ARGS: u64 args of raw/BTF tracepoints
constexpr uint32_t kPerfMaxTraceSize = 8192;   // PERF_MAX_TRACE_SIZE: a tracepoint record's bound

std::vector<ProgramTypeInfo> build_table() {
  std::vector<ProgramTypeInfo> t;
  auto add = [&](uint32_t type, std::string name, std::string ctx, uint32_t ctx_size) -> ProgramTypeInfo& {
    ProgramTypeInfo info;
    info.type = type;
    info.name = std::move(name);
    info.ctx_struct = std::move(ctx);
    info.ctx_size = ctx_size;
    t.push_back(std::move(info));
    return t.back();
  };

  ProgramTypeInfo& sf = add(BPF_PROG_TYPE_SOCKET_FILTER, "socket_filter", "__sk_buff", sizeof(__sk_buff));
  sf.ctx_fields = sk_buff_fields(SkbFlavor::SocketFilter);
  sf.packet = true;
  sf.kernel_test_run = true;
  sf.helpers = helper_set({kBaseHelpers, kSocketBaseHelpers, kSocketFilterHelpers});

  ProgramTypeInfo& kp = add(BPF_PROG_TYPE_KPROBE, "kprobe", "pt_regs", kPtRegsSize);
  kp.ctx_fields = pt_regs_fields(true);
  kp.helpers = helper_set({kBaseHelpers, kTraceHelpers});

  for (auto [type, name] : {std::pair{BPF_PROG_TYPE_SCHED_CLS, "sched_cls"},
                            std::pair{BPF_PROG_TYPE_SCHED_ACT, "sched_act"}}) {
    ProgramTypeInfo& tc = add(type, name, "__sk_buff", sizeof(__sk_buff));
    tc.ctx_fields = sk_buff_fields(SkbFlavor::Tc);
    tc.packet = true;
    tc.kernel_test_run = true;
    tc.helpers = helper_set({kBaseHelpers, kSocketBaseHelpers, kTcHelpers});
  }

  ProgramTypeInfo& tp = add(BPF_PROG_TYPE_TRACEPOINT, "tracepoint", "", 0);
  tp.ctx_read_begin = 8;  // tp_prog_is_valid_access(): the common fields are not the program's
  tp.helpers = helper_set({kBaseHelpers, kTraceHelpers});

  ProgramTypeInfo& xdp = add(BPF_PROG_TYPE_XDP, "xdp", "xdp_md", sizeof(xdp_md));
  xdp.ctx_fields = xdp_md_fields();
  xdp.packet = true;
  xdp.kernel_test_run = true;
  xdp.helpers = helper_set({kBaseHelpers, kSocketBaseHelpers, kXdpHelpers});

  ProgramTypeInfo& pe = add(BPF_PROG_TYPE_PERF_EVENT, "perf_event", "bpf_perf_event_data", kPtRegsSize + 16);
  pe.ctx_fields = perf_event_fields();
  pe.helpers = helper_set({kBaseHelpers, kTraceHelpers, kPerfEventHelpers});

  ProgramTypeInfo& cg = add(BPF_PROG_TYPE_CGROUP_SKB, "cgroup_skb", "__sk_buff", sizeof(__sk_buff));
  cg.ctx_fields = sk_buff_fields(SkbFlavor::CgroupSkb);
  cg.ret = ReturnRange{0, 1};
  cg.packet = true;
  cg.kernel_test_run = true;
  cg.helpers = helper_set({kBaseHelpers, kSocketBaseHelpers, kSocketFilterHelpers, kCgroupSkbHelpers});

  // Raw tracepoints: the tracepoint's arguments as u64s (bpf_tracing_ctx_access()).
  for (auto [type, name] : {std::pair{BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tracepoint"},
                            std::pair{BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, "raw_tracepoint_writable"}}) {
    ProgramTypeInfo& raw = add(type, name, "bpf_raw_tracepoint_args", kMaxFuncArgs * 8);
    raw.kernel_test_run = type == BPF_PROG_TYPE_RAW_TRACEPOINT;
    raw.helpers = helper_set({kBaseHelpers, kTraceHelpers});
  }

  ProgramTypeInfo& tr = add(BPF_PROG_TYPE_TRACING, "tracing", "", kMaxFuncArgs * 8);
  tr.ctx_align = 8;  // btf_ctx_access(): whole u64 arguments
  tr.kernel_test_run = true;  // fentry/fexit (bpf_prog_test_run_tracing)
  tr.helpers = helper_set({kBaseHelpers, kBtfTracingHelpers, kTrampolineHelpers});

  ProgramTypeInfo& lsm = add(BPF_PROG_TYPE_LSM, "lsm", "", kMaxFuncArgs * 8);
  lsm.ctx_align = 8;
  lsm.ret = ReturnRange{-4095, 0};  // -MAX_ERRNO..0 for int hooks
  lsm.helpers = helper_set({kBaseHelpers, kBtfTracingHelpers, kTrampolineHelpers, kLsmHelpers});

  ProgramTypeInfo& sys = add(BPF_PROG_TYPE_SYSCALL, "syscall", "", 0);
  sys.ctx_writable_any = true;  // the ctx is the caller's buffer (ctx_in of BPF_PROG_TEST_RUN)
  sys.kernel_test_run = true;
  sys.load_flags = BPF_F_SLEEPABLE;
  sys.helpers = helper_set({kBaseHelpers, kBtfTracingHelpers, kSyscallHelpers});
  return t;
}

bool aligned(uint32_t offset, uint32_t size) {
  return size != 0 && (size & (size - 1)) == 0 && size <= 8 && offset % size == 0;
}

}  // namespace

bool ProgramTypeInfo::allows_helper(int32_t id) const {
  return std::binary_search(helpers.begin(), helpers.end(), id);
}

const CtxField* ProgramTypeInfo::field_at(uint32_t offset) const {
  for (const CtxField& f : ctx_fields) {
    if (offset >= f.offset && offset - f.offset < f.size) return &f;
  }
  return nullptr;
}

bool ProgramTypeInfo::ctx_access_ok(uint32_t offset, uint32_t size, bool write, uint32_t ctx_size_hint,
                                    uint32_t expected_attach_type) const {
  if (!aligned(offset, size)) return false;
  if (ctx_fields.empty()) {
    uint32_t bound = ctx_size_hint ? ctx_size_hint : ctx_size;
    if (bound == 0) bound = type == BPF_PROG_TYPE_TRACEPOINT ? kPerfMaxTraceSize : 0;
    if (bound == 0) return true;  // syscall: the caller's buffer, bounded at run time
    if (write && !ctx_writable_any) return false;
    if (offset < ctx_read_begin || uint64_t(offset) + size > bound) return false;
    if (ctx_align && offset % ctx_align) return false;
    // raw_tp_writable_prog_is_valid_access(): word 0 is the writable buffer's pointer.
    if (type == BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE && offset == 0 && size != 8) return false;
    return true;
  }
  const CtxField* f = field_at(offset);
  if (!f || offset + size > f->offset + f->size) return false;
  if (f->attach_type && *f->attach_type != expected_attach_type) return false;
  if (write) {
    if (!f->writable) return false;
    return f->narrow_writes || (size == f->size && offset == f->offset);
  }
  if (size == f->size && offset == f->offset) return true;
  // A narrow load stays inside the field; pt_regs and cb[] also allow an 8-byte
  // load where the field is wider than one word.
  return f->narrow_reads && (size < f->size || f->narrow_writes);
}

std::optional<ReturnRange> ProgramTypeInfo::return_range(uint32_t expected_attach_type) const {
  switch (type) {
    case BPF_PROG_TYPE_CGROUP_SKB:
      if (expected_attach_type == BPF_CGROUP_INET_EGRESS) return ReturnRange{0, 3};
      return ReturnRange{0, 1};
    case BPF_PROG_TYPE_TRACING:
      if (expected_attach_type == BPF_TRACE_FENTRY || expected_attach_type == BPF_TRACE_FEXIT) {
        return ReturnRange{0, 0};
      }
      return std::nullopt;
    case BPF_PROG_TYPE_KPROBE:
      if (expected_attach_type == kTraceKprobeSession || expected_attach_type == kTraceUprobeSession) {
        return ReturnRange{0, 1};
      }
      return std::nullopt;
    default:
      return ret;
  }
}

const std::vector<ProgramTypeInfo>& program_types() {
  static const std::vector<ProgramTypeInfo> table = build_table();
  return table;
}

const ProgramTypeInfo* find_program_type(uint32_t type) {
  for (const ProgramTypeInfo& info : program_types()) {
    if (info.type == type) return &info;
  }
  return nullptr;
}

const ProgramTypeInfo* find_program_type(std::string_view name) {
  // Names users also write: "tc" (tc(8)), "uprobe" (a kprobe program), "raw_tp".
  if (name == "tc") name = "sched_cls";
  else if (name == "uprobe") name = "kprobe";
  else if (name == "raw_tp") name = "raw_tracepoint";
  else if (name == "raw_tp_w") name = "raw_tracepoint_writable";
  for (const ProgramTypeInfo& info : program_types()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace bpfkit::core
