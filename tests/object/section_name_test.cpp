// parse_section_name against libbpf's SEC() table (Documentation/bpf/libbpf/program_types.rst).
#include "object/section_name.h"

#include <gtest/gtest.h>
#include <linux/bpf.h>

namespace bpfkit::object {
namespace {

struct Case {
  const char* section;
  uint32_t prog_type;
  uint32_t attach_type;
  const char* target;
  bool sleepable = false;
  bool retprobe = false;
};

// Attach types newer than the system's <linux/bpf.h>, from the kernel's UAPI enum.
constexpr uint32_t kTcxIngress = 46, kTcxEgress = 47, kUprobeMulti = 48, kNetfilterType = 32, kNetfilter = 45;

const Case kCases[] = {
    {"socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, ""},
    {"xdp", BPF_PROG_TYPE_XDP, BPF_XDP, ""},
    {"xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, ""},
    {"xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, ""},
    {"xdp.frags/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, ""},
    {"xdp/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, ""},
    {"xdp.frags/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, ""},
    {"tc", BPF_PROG_TYPE_SCHED_CLS, 0, ""},
    {"classifier", BPF_PROG_TYPE_SCHED_CLS, 0, ""},
    {"action", BPF_PROG_TYPE_SCHED_ACT, 0, ""},
    {"tcx/ingress", BPF_PROG_TYPE_SCHED_CLS, kTcxIngress, ""},
    {"tcx/egress", BPF_PROG_TYPE_SCHED_CLS, kTcxEgress, ""},
    {"tc/ingress", BPF_PROG_TYPE_SCHED_CLS, kTcxIngress, ""},
    {"tracepoint/syscalls/sys_enter_openat", BPF_PROG_TYPE_TRACEPOINT, 0, "syscalls/sys_enter_openat"},
    {"tp/sched/sched_switch", BPF_PROG_TYPE_TRACEPOINT, 0, "sched/sched_switch"},
    {"tracepoint", BPF_PROG_TYPE_TRACEPOINT, 0, ""},
    {"raw_tracepoint/sched_switch", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, "sched_switch"},
    {"raw_tp/sys_enter", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, "sys_enter"},
    {"raw_tp.w/bpf_test_finish", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, "bpf_test_finish"},
    {"tp_btf/sched_wakeup", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "sched_wakeup"},
    {"kprobe/do_unlinkat", BPF_PROG_TYPE_KPROBE, 0, "do_unlinkat"},
    {"kprobe/tcp_v4_connect+16", BPF_PROG_TYPE_KPROBE, 0, "tcp_v4_connect+16"},
    {"kretprobe/do_unlinkat", BPF_PROG_TYPE_KPROBE, 0, "do_unlinkat", false, true},
    {"kprobe.multi/tcp_*", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, "tcp_*"},
    {"kretprobe.multi/tcp_*", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, "tcp_*", false, true},
    {"ksyscall/openat", BPF_PROG_TYPE_KPROBE, 0, "openat"},
    {"kretsyscall/openat", BPF_PROG_TYPE_KPROBE, 0, "openat", false, true},
    {"uprobe//bin/bash:readline", BPF_PROG_TYPE_KPROBE, 0, "/bin/bash:readline"},
    {"uprobe", BPF_PROG_TYPE_KPROBE, 0, ""},
    {"uretprobe//bin/bash:readline", BPF_PROG_TYPE_KPROBE, 0, "/bin/bash:readline", false, true},
    {"uprobe.s//bin/bash:readline", BPF_PROG_TYPE_KPROBE, 0, "/bin/bash:readline", true},
    {"uretprobe.s//bin/bash:readline", BPF_PROG_TYPE_KPROBE, 0, "/bin/bash:readline", true, true},
    {"uprobe.multi//usr/lib/libc.so.6:malloc*", BPF_PROG_TYPE_KPROBE, kUprobeMulti,
     "/usr/lib/libc.so.6:malloc*"},
    {"uretprobe.multi/x:y", BPF_PROG_TYPE_KPROBE, kUprobeMulti, "x:y", false, true},
    {"uprobe.multi.s/x:y", BPF_PROG_TYPE_KPROBE, kUprobeMulti, "x:y", true},
    {"usdt//usr/bin/python3:python:function__entry", BPF_PROG_TYPE_KPROBE, 0,
     "/usr/bin/python3:python:function__entry"},
    {"perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, ""},
    {"fentry/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "do_unlinkat"},
    {"fexit/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "do_unlinkat"},
    {"fmod_ret/bpf_modify_return_test", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, "bpf_modify_return_test"},
    {"fentry.s/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "do_unlinkat", true},
    {"fexit.s/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "do_unlinkat", true},
    {"fmod_ret.s/x", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, "x", true},
    {"freplace/handler", BPF_PROG_TYPE_EXT, 0, "handler"},
    {"lsm/file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "file_open"},
    {"lsm.s/bprm_committed_creds", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "bprm_committed_creds", true},
    {"lsm_cgroup/socket_bind", BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP, "socket_bind"},
    {"iter/task", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, "task"},
    {"iter.s/task_vma", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, "task_vma", true},
    {"cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, ""},
    {"cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, ""},
    {"cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, 0, ""},
    {"cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, ""},
    {"cgroup/sock_create", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, ""},
    {"cgroup/sock_release", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE, ""},
    {"cgroup/post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, ""},
    {"cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, ""},
    {"cgroup/sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, ""},
    {"cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL, ""},
    {"cgroup/getsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT, ""},
    {"cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, ""},
    {"sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, ""},
    {"sk_skb", BPF_PROG_TYPE_SK_SKB, 0, ""},
    {"sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER, ""},
    {"sk_skb/stream_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT, ""},
    {"sk_skb/verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_VERDICT, ""},
    {"sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT, ""},
    {"sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, ""},
    {"sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, ""},
    {"lwt_in", BPF_PROG_TYPE_LWT_IN, 0, ""},
    {"lwt_out", BPF_PROG_TYPE_LWT_OUT, 0, ""},
    {"lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0, ""},
    {"lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, 0, ""},
    {"flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR, ""},
    {"syscall", BPF_PROG_TYPE_SYSCALL, 0, "", true},
    {"struct_ops/tcp_init", BPF_PROG_TYPE_STRUCT_OPS, 0, "tcp_init"},
    {"struct_ops.s/x", BPF_PROG_TYPE_STRUCT_OPS, 0, "x", true},
    {"sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, ""},
    {"lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, BPF_LIRC_MODE2, ""},
    {"netfilter", kNetfilterType, kNetfilter, ""},
};

TEST(SectionName, LibbpfTable) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.section);
    auto d = parse_section_name(c.section);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->prog_type, c.prog_type);
    EXPECT_EQ(d->expected_attach_type, c.attach_type);
    EXPECT_EQ(d->attach_target, c.target);
    EXPECT_EQ(d->sleepable, c.sleepable);
    EXPECT_EQ(d->retprobe, c.retprobe);
  }
}

// Exact names take no target, "name+" forms need '/' after the name, and data
// sections are not programs (libbpf 1.0 dropped the sloppy prefix matching).
TEST(SectionName, NotPrograms) {
  for (const char* s :
       {"",         ".text",   ".data",      ".rodata",    ".maps",        "maps",      "license",
        "version",  "xdp/foo", "xdpfoo",     "socket/x",   "kprobex",      "kprobe.",   "tracepointx/a",
        "tc/other", "cgroup/", "cgroup_skb", "fentry_x/y", "sk_skb/other", "syscall/x", "perf_event/x"}) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(parse_section_name(s).has_value());
  }
}

TEST(SectionName, EmptyTargetAfterSlash) {
  auto d = parse_section_name("kprobe/");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->attach_target, "");
  d = parse_section_name("tracepoint/a/b/c");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->attach_target, "a/b/c");
}

}  // namespace
}  // namespace bpfkit::object
