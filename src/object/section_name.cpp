// libbpf's SEC() table: names are matched in table order, as libbpf does, with
// three forms: "name" (exact), "name+" (exact or "name/<target>") and "name/"
// (a target is required).
#include "object/section_name.h"

#include <linux/bpf.h>

namespace bpfkit::object {
namespace {

// Newer than the system's <linux/bpf.h> (Debian 12 ships 6.1 headers); values from the kernel's UAPI.
constexpr uint32_t kProgTypeNetfilter = 32;
constexpr uint32_t kAttachStructOps = 44, kAttachNetfilter = 45, kAttachTcxIngress = 46,
                   kAttachTcxEgress = 47, kAttachUprobeMulti = 48, kAttachUnixConnect = 49,
                   kAttachUnixSendmsg = 50, kAttachUnixRecvmsg = 51, kAttachUnixGetpeername = 52,
                   kAttachUnixGetsockname = 53, kAttachNetkitPrimary = 54, kAttachNetkitPeer = 55,
                   kAttachKprobeSession = 56, kAttachUprobeSession = 57;

struct SecDef {
  std::string_view name;  // with a trailing '+' or '/' for the prefix forms
  uint32_t prog_type;
  uint32_t attach_type;
  bool sleepable = false;
  bool retprobe = false;
};

constexpr bool S = true;  // sleepable, for readability of the table
constexpr bool R = true;  // retprobe

// clang-format off
constexpr SecDef kSecDefs[] = {
    {"socket", BPF_PROG_TYPE_SOCKET_FILTER, 0},
    {"sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE},
    {"sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT},
    {"kprobe+", BPF_PROG_TYPE_KPROBE, 0},
    {"uprobe+", BPF_PROG_TYPE_KPROBE, 0},
    {"uprobe.s+", BPF_PROG_TYPE_KPROBE, 0, S},
    {"kretprobe+", BPF_PROG_TYPE_KPROBE, 0, false, R},
    {"uretprobe+", BPF_PROG_TYPE_KPROBE, 0, false, R},
    {"uretprobe.s+", BPF_PROG_TYPE_KPROBE, 0, S, R},
    {"kprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI},
    {"kretprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, false, R},
    {"kprobe.session+", BPF_PROG_TYPE_KPROBE, kAttachKprobeSession},
    {"uprobe.multi+", BPF_PROG_TYPE_KPROBE, kAttachUprobeMulti},
    {"uretprobe.multi+", BPF_PROG_TYPE_KPROBE, kAttachUprobeMulti, false, R},
    {"uprobe.multi.s+", BPF_PROG_TYPE_KPROBE, kAttachUprobeMulti, S},
    {"uretprobe.multi.s+", BPF_PROG_TYPE_KPROBE, kAttachUprobeMulti, S, R},
    {"uprobe.session+", BPF_PROG_TYPE_KPROBE, kAttachUprobeSession},
    {"uprobe.session.s+", BPF_PROG_TYPE_KPROBE, kAttachUprobeSession, S},
    {"ksyscall+", BPF_PROG_TYPE_KPROBE, 0},
    {"kretsyscall+", BPF_PROG_TYPE_KPROBE, 0, false, R},
    {"usdt+", BPF_PROG_TYPE_KPROBE, 0},
    {"usdt.s+", BPF_PROG_TYPE_KPROBE, 0, S},
    {"tc/ingress", BPF_PROG_TYPE_SCHED_CLS, kAttachTcxIngress},
    {"tc/egress", BPF_PROG_TYPE_SCHED_CLS, kAttachTcxEgress},
    {"tcx/ingress", BPF_PROG_TYPE_SCHED_CLS, kAttachTcxIngress},
    {"tcx/egress", BPF_PROG_TYPE_SCHED_CLS, kAttachTcxEgress},
    {"tc", BPF_PROG_TYPE_SCHED_CLS, 0},
    {"classifier", BPF_PROG_TYPE_SCHED_CLS, 0},
    {"action", BPF_PROG_TYPE_SCHED_ACT, 0},
    {"netkit/primary", BPF_PROG_TYPE_SCHED_CLS, kAttachNetkitPrimary},
    {"netkit/peer", BPF_PROG_TYPE_SCHED_CLS, kAttachNetkitPeer},
    {"tracepoint+", BPF_PROG_TYPE_TRACEPOINT, 0},
    {"tp+", BPF_PROG_TYPE_TRACEPOINT, 0},
    {"raw_tracepoint+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0},
    {"raw_tp+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0},
    {"raw_tracepoint.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0},
    {"raw_tp.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0},
    {"tp_btf+", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP},
    {"fentry+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY},
    {"fmod_ret+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN},
    {"fexit+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT},
    {"fentry.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, S},
    {"fmod_ret.s+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, S},
    {"fexit.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, S},
    {"freplace+", BPF_PROG_TYPE_EXT, 0},
    {"lsm+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC},
    {"lsm.s+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, S},
    {"lsm_cgroup+", BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP},
    {"iter+", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER},
    {"iter.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, S},
    {"syscall", BPF_PROG_TYPE_SYSCALL, 0, S},
    {"xdp.frags/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP},
    {"xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP},
    {"xdp.frags/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP},
    {"xdp/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP},
    {"xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP},
    {"xdp", BPF_PROG_TYPE_XDP, BPF_XDP},
    {"perf_event", BPF_PROG_TYPE_PERF_EVENT, 0},
    {"lwt_in", BPF_PROG_TYPE_LWT_IN, 0},
    {"lwt_out", BPF_PROG_TYPE_LWT_OUT, 0},
    {"lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0},
    {"lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, 0},
    {"sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS},
    {"sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER},
    {"sk_skb/stream_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT},
    {"sk_skb/verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_VERDICT},
    {"sk_skb", BPF_PROG_TYPE_SK_SKB, 0},
    {"sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT},
    {"lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, BPF_LIRC_MODE2},
    {"flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR},
    {"cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS},
    {"cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS},
    {"cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, 0},
    {"cgroup/sock_create", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE},
    {"cgroup/sock_release", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE},
    {"cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE},
    {"cgroup/post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND},
    {"cgroup/post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND},
    {"cgroup/bind4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND},
    {"cgroup/bind6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND},
    {"cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT},
    {"cgroup/connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT},
    {"cgroup/connect_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, kAttachUnixConnect},
    {"cgroup/sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG},
    {"cgroup/sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG},
    {"cgroup/sendmsg_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, kAttachUnixSendmsg},
    {"cgroup/recvmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG},
    {"cgroup/recvmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG},
    {"cgroup/recvmsg_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, kAttachUnixRecvmsg},
    {"cgroup/getpeername4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME},
    {"cgroup/getpeername6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME},
    {"cgroup/getpeername_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, kAttachUnixGetpeername},
    {"cgroup/getsockname4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME},
    {"cgroup/getsockname6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME},
    {"cgroup/getsockname_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, kAttachUnixGetsockname},
    {"cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL},
    {"cgroup/getsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT},
    {"cgroup/setsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT},
    {"cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE},
    {"struct_ops+", BPF_PROG_TYPE_STRUCT_OPS, 0},
    {"struct_ops.s+", BPF_PROG_TYPE_STRUCT_OPS, 0, S},
    {"sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP},
    {"netfilter", kProgTypeNetfilter, kAttachNetfilter},
};
// clang-format on

}  // namespace

std::optional<SectionDefinition> parse_section_name(std::string_view section) {
  for (const SecDef& d : kSecDefs) {
    std::string_view name = d.name;
    std::string_view target;
    if (name.back() == '+' || name.back() == '/') {
      const bool target_optional = name.back() == '+';
      name.remove_suffix(1);
      if (!section.starts_with(name)) continue;
      std::string_view rest = section.substr(name.size());
      if (rest.empty()) {
        if (!target_optional) continue;
      } else if (rest.front() == '/') {
        target = rest.substr(1);
      } else {
        continue;
      }
    } else if (section != name) {
      continue;
    }
    SectionDefinition def;
    def.prog_type = d.prog_type;
    def.expected_attach_type = d.attach_type;
    def.attach_target = std::string(target);
    def.sleepable = d.sleepable;
    def.retprobe = d.retprobe;
    return def;
  }
  return std::nullopt;
}

}  // namespace bpfkit::object
