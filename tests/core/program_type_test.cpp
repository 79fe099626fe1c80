// The program-type table on its own: lookups, helper lists, context fields and
// the access rules derived from them (the kernel cross-check is in tests/kernel).
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <algorithm>
#include <set>

#include "core/program_type.h"

namespace bpfkit::core {
namespace {

TEST(ProgramTypeTest, EveryTypeIsFoundByIdAndName) {
  std::set<uint32_t> ids;
  std::set<std::string> names;
  for (const ProgramTypeInfo& info : program_types()) {
    EXPECT_TRUE(ids.insert(info.type).second) << info.name;
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_EQ(find_program_type(info.type), &info);
    EXPECT_EQ(find_program_type(std::string_view(info.name)), &info);
  }
  for (const char* name : {"socket_filter", "xdp", "sched_cls", "sched_act", "tracepoint", "raw_tracepoint",
                           "raw_tracepoint_writable", "kprobe", "perf_event", "tracing", "lsm", "cgroup_skb",
                           "syscall"}) {
    EXPECT_NE(find_program_type(std::string_view(name)), nullptr) << name;
  }
  EXPECT_EQ(find_program_type(std::string_view("tc"))->type, uint32_t(BPF_PROG_TYPE_SCHED_CLS));
  EXPECT_EQ(find_program_type(std::string_view("uprobe"))->type, uint32_t(BPF_PROG_TYPE_KPROBE));
  EXPECT_EQ(find_program_type(std::string_view("raw_tp"))->type, uint32_t(BPF_PROG_TYPE_RAW_TRACEPOINT));
  EXPECT_EQ(find_program_type(std::string_view("no_such_type")), nullptr);
  EXPECT_EQ(find_program_type(uint32_t(9999)), nullptr);
}

TEST(ProgramTypeTest, HelperListsAreSortedAndShareTheBase) {
  for (const ProgramTypeInfo& info : program_types()) {
    EXPECT_TRUE(std::is_sorted(info.helpers.begin(), info.helpers.end())) << info.name;
    EXPECT_EQ(std::adjacent_find(info.helpers.begin(), info.helpers.end()), info.helpers.end()) << info.name;
    for (int32_t id : {BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem, BPF_FUNC_ktime_get_ns,
                       BPF_FUNC_get_prandom_u32, BPF_FUNC_tail_call, BPF_FUNC_trace_printk, BPF_FUNC_ringbuf_output,
                       BPF_FUNC_loop, BPF_FUNC_snprintf, BPF_FUNC_strncmp, BPF_FUNC_get_smp_processor_id}) {
      EXPECT_TRUE(info.allows_helper(id)) << info.name << " helper " << id;
    }
    EXPECT_FALSE(info.allows_helper(0)) << info.name;
    EXPECT_FALSE(info.allows_helper(-1)) << info.name;
    EXPECT_FALSE(info.allows_helper(100000)) << info.name;
  }
}

TEST(ProgramTypeTest, HelpersFollowTheirTypes) {
  const ProgramTypeInfo& xdp = *find_program_type(uint32_t(BPF_PROG_TYPE_XDP));
  const ProgramTypeInfo& tc = *find_program_type(uint32_t(BPF_PROG_TYPE_SCHED_CLS));
  const ProgramTypeInfo& sf = *find_program_type(uint32_t(BPF_PROG_TYPE_SOCKET_FILTER));
  const ProgramTypeInfo& tp = *find_program_type(uint32_t(BPF_PROG_TYPE_TRACEPOINT));
  const ProgramTypeInfo& pe = *find_program_type(uint32_t(BPF_PROG_TYPE_PERF_EVENT));
  for (int32_t id : {BPF_FUNC_xdp_adjust_head, BPF_FUNC_xdp_adjust_tail, BPF_FUNC_xdp_adjust_meta,
                     BPF_FUNC_redirect, BPF_FUNC_redirect_map, BPF_FUNC_csum_diff, BPF_FUNC_fib_lookup}) {
    EXPECT_TRUE(xdp.allows_helper(id)) << id;
  }
  EXPECT_FALSE(xdp.allows_helper(BPF_FUNC_skb_store_bytes));
  EXPECT_FALSE(xdp.allows_helper(BPF_FUNC_get_stackid));
  for (int32_t id : {BPF_FUNC_skb_store_bytes, BPF_FUNC_skb_load_bytes, BPF_FUNC_l3_csum_replace,
                     BPF_FUNC_l4_csum_replace, BPF_FUNC_redirect, BPF_FUNC_clone_redirect}) {
    EXPECT_TRUE(tc.allows_helper(id)) << id;
  }
  EXPECT_FALSE(tc.allows_helper(BPF_FUNC_xdp_adjust_head));
  EXPECT_TRUE(sf.allows_helper(BPF_FUNC_skb_load_bytes));
  EXPECT_FALSE(sf.allows_helper(BPF_FUNC_skb_store_bytes));
  EXPECT_FALSE(sf.allows_helper(BPF_FUNC_redirect));
  for (int32_t id : {BPF_FUNC_probe_read, BPF_FUNC_probe_read_str, BPF_FUNC_get_stackid, BPF_FUNC_get_stack,
                     BPF_FUNC_get_current_pid_tgid, BPF_FUNC_perf_event_output}) {
    EXPECT_TRUE(tp.allows_helper(id)) << id;
  }
  EXPECT_FALSE(tp.allows_helper(BPF_FUNC_perf_prog_read_value));
  EXPECT_TRUE(pe.allows_helper(BPF_FUNC_perf_prog_read_value));
  EXPECT_FALSE(tp.allows_helper(BPF_FUNC_skb_load_bytes));
}

TEST(ProgramTypeTest, FieldsLieInsideTheContextWithoutOverlap) {
  for (const ProgramTypeInfo& info : program_types()) {
    uint32_t end = 0;
    std::vector<CtxField> fields = info.ctx_fields;
    std::sort(fields.begin(), fields.end(), [](const CtxField& a, const CtxField& b) { return a.offset < b.offset; });
    for (const CtxField& f : fields) {
      EXPECT_GE(f.offset, end) << info.name << "." << f.name << " overlaps the field before it";
      EXPECT_LE(f.offset + f.size, info.ctx_size) << info.name << "." << f.name;
      EXPECT_EQ(f.offset % std::min<uint32_t>(f.size, 8), 0u) << info.name << "." << f.name;
      EXPECT_EQ(info.field_at(f.offset), &*std::find_if(info.ctx_fields.begin(), info.ctx_fields.end(),
                                                        [&](const CtxField& g) { return g.name == f.name; }));
      end = f.offset + f.size;
    }
    if (info.packet) {
      EXPECT_TRUE(std::any_of(info.ctx_fields.begin(), info.ctx_fields.end(),
                              [](const CtxField& f) { return f.name == "len" || f.name == "data"; }))
          << info.name;
    }
  }
}

TEST(ProgramTypeTest, XdpContext) {
  const ProgramTypeInfo& xdp = *find_program_type(uint32_t(BPF_PROG_TYPE_XDP));
  EXPECT_EQ(xdp.ctx_struct, "xdp_md");
  EXPECT_EQ(xdp.ctx_size, sizeof(xdp_md));
  EXPECT_EQ(xdp.field_at(0)->kind, CtxFieldKind::PacketData);
  EXPECT_EQ(xdp.field_at(4)->kind, CtxFieldKind::PacketEnd);
  EXPECT_EQ(xdp.field_at(8)->kind, CtxFieldKind::PacketMeta);
  EXPECT_EQ(xdp.field_at(13)->name, "ingress_ifindex");
  EXPECT_EQ(xdp.field_at(20)->name, "egress_ifindex");  // which only devmap programs may read
  EXPECT_TRUE(xdp.ctx_access_ok(16, 4, false));
  EXPECT_FALSE(xdp.ctx_access_ok(16, 2, false));  // no narrow loads of xdp_md
  EXPECT_FALSE(xdp.ctx_access_ok(0, 8, false));
  EXPECT_FALSE(xdp.ctx_access_ok(12, 4, true));   // nothing is writable
  EXPECT_FALSE(xdp.ctx_access_ok(20, 4, false));
  EXPECT_FALSE(xdp.ctx_access_ok(24, 4, false));
  // egress_ifindex (offset 20): devmap programs only, and read-only there.
  EXPECT_TRUE(xdp.ctx_access_ok(20, 4, false, 0, BPF_XDP_DEVMAP));
  EXPECT_FALSE(xdp.ctx_access_ok(20, 4, true, 0, BPF_XDP_DEVMAP));
  EXPECT_FALSE(xdp.ctx_access_ok(24, 4, false, 0, BPF_XDP_DEVMAP));
  EXPECT_TRUE(xdp.packet);
  EXPECT_TRUE(xdp.kernel_test_run);
  EXPECT_FALSE(xdp.return_range(0).has_value());  // the verifier takes any action value
}

TEST(ProgramTypeTest, SkBuffAccessDependsOnTheType) {
  const ProgramTypeInfo& tc = *find_program_type(uint32_t(BPF_PROG_TYPE_SCHED_CLS));
  const ProgramTypeInfo& sf = *find_program_type(uint32_t(BPF_PROG_TYPE_SOCKET_FILTER));
  const ProgramTypeInfo& cg = *find_program_type(uint32_t(BPF_PROG_TYPE_CGROUP_SKB));
  const uint32_t mark = offsetof(__sk_buff, mark), cb = offsetof(__sk_buff, cb);
  // tc writes mark, priority, tc_index, cb, tc_classid, queue_mapping, tstamp; the socket filter cb only.
  for (uint32_t off : {mark, uint32_t(offsetof(__sk_buff, priority)), uint32_t(offsetof(__sk_buff, tc_index)),
                       cb, uint32_t(offsetof(__sk_buff, tc_classid)), uint32_t(offsetof(__sk_buff, queue_mapping))}) {
    EXPECT_TRUE(tc.ctx_access_ok(off, 4, true)) << off;
  }
  EXPECT_TRUE(tc.ctx_access_ok(offsetof(__sk_buff, tstamp), 8, true));
  EXPECT_FALSE(tc.ctx_access_ok(offsetof(__sk_buff, len), 4, true));
  EXPECT_FALSE(tc.ctx_access_ok(mark, 2, true));  // stores are whole fields
  EXPECT_FALSE(sf.ctx_access_ok(mark, 4, true));
  EXPECT_TRUE(sf.ctx_access_ok(cb + 4, 4, true));
  EXPECT_TRUE(sf.ctx_access_ok(cb + 3, 1, true));  // cb[] takes any aligned store...
  EXPECT_TRUE(sf.ctx_access_ok(cb, 8, false));     // ...and load, even 8 bytes over cb[0..1]
  EXPECT_FALSE(sf.ctx_access_ok(cb + 16, 8, false));  // but not past cb[4]
  EXPECT_TRUE(cg.ctx_access_ok(mark, 4, true));
  EXPECT_FALSE(cg.ctx_access_ok(offsetof(__sk_buff, tc_index), 4, true));
  // Narrow loads of u32 fields; the packet pointers only whole.
  EXPECT_TRUE(tc.ctx_access_ok(offsetof(__sk_buff, protocol) + 2, 2, false));
  EXPECT_FALSE(tc.ctx_access_ok(offsetof(__sk_buff, protocol) + 1, 2, false));  // misaligned
  EXPECT_FALSE(tc.ctx_access_ok(offsetof(__sk_buff, data), 2, false));
  EXPECT_TRUE(tc.ctx_access_ok(offsetof(__sk_buff, data_meta), 4, false));
  // Who sees what: data for tc and cgroup_skb, not the socket filter; socket addresses
  // for cgroup_skb only; the 8-byte socket pointer for all three.
  EXPECT_FALSE(sf.ctx_access_ok(offsetof(__sk_buff, data), 4, false));
  EXPECT_TRUE(cg.ctx_access_ok(offsetof(__sk_buff, data), 4, false));
  EXPECT_FALSE(cg.ctx_access_ok(offsetof(__sk_buff, data_meta), 4, false));
  EXPECT_TRUE(cg.ctx_access_ok(offsetof(__sk_buff, remote_ip4), 4, false));
  EXPECT_FALSE(cg.ctx_access_ok(offsetof(__sk_buff, remote_ip4), 2, false));
  EXPECT_FALSE(tc.ctx_access_ok(offsetof(__sk_buff, family), 4, false));
  EXPECT_EQ(tc.field_at(offsetof(__sk_buff, sk))->kind, CtxFieldKind::Socket);
  EXPECT_TRUE(sf.ctx_access_ok(offsetof(__sk_buff, sk), 8, false));
  EXPECT_FALSE(sf.ctx_access_ok(offsetof(__sk_buff, sk), 4, false));
  EXPECT_FALSE(tc.ctx_access_ok(offsetof(__sk_buff, flow_keys), 8, false));
  EXPECT_TRUE(tc.ctx_access_ok(offsetof(__sk_buff, tstamp_type), 1, false));
  EXPECT_FALSE(tc.ctx_access_ok(offsetof(__sk_buff, tstamp_type), 1, true));
  EXPECT_EQ(tc.field_at(offsetof(__sk_buff, protocol))->kernel_size, 2u);
  EXPECT_EQ(tc.field_at(offsetof(__sk_buff, mark))->kernel_size, 0u);
}

TEST(ProgramTypeTest, TracingContexts) {
  const ProgramTypeInfo& tp = *find_program_type(uint32_t(BPF_PROG_TYPE_TRACEPOINT));
  EXPECT_TRUE(tp.ctx_fields.empty());
  EXPECT_EQ(tp.ctx_size, 0u);
  EXPECT_FALSE(tp.ctx_access_ok(0, 4, false));  // the common fields are hidden
  EXPECT_FALSE(tp.ctx_access_ok(4, 4, false));
  EXPECT_TRUE(tp.ctx_access_ok(8, 4, false));
  EXPECT_TRUE(tp.ctx_access_ok(8, 8, false));
  EXPECT_FALSE(tp.ctx_access_ok(8, 8, true));
  EXPECT_FALSE(tp.ctx_access_ok(48, 8, false, 48));  // past the record's format
  EXPECT_TRUE(tp.ctx_access_ok(40, 8, false, 48));
  EXPECT_FALSE(tp.ctx_access_ok(8192, 1, false));
  const ProgramTypeInfo& kp = *find_program_type(uint32_t(BPF_PROG_TYPE_KPROBE));
  EXPECT_EQ(kp.ctx_struct, "pt_regs");
  EXPECT_EQ(kp.ctx_size, 168u);
  EXPECT_EQ(kp.field_at(14 * 8)->name, "di");  // the first argument
  EXPECT_EQ(kp.field_at(16 * 8)->name, "ip");
  EXPECT_TRUE(kp.ctx_access_ok(14 * 8 + 4, 4, false));
  EXPECT_FALSE(kp.ctx_access_ok(14 * 8, 8, true));
  EXPECT_FALSE(kp.ctx_access_ok(168, 8, false));
  const ProgramTypeInfo& pe = *find_program_type(uint32_t(BPF_PROG_TYPE_PERF_EVENT));
  EXPECT_EQ(pe.ctx_size, 184u);
  EXPECT_FALSE(pe.ctx_access_ok(0, 4, false));  // registers: whole words only
  EXPECT_TRUE(pe.ctx_access_ok(168, 4, false));  // sample_period: narrower too
  const ProgramTypeInfo& raw = *find_program_type(uint32_t(BPF_PROG_TYPE_RAW_TRACEPOINT));
  EXPECT_TRUE(raw.ctx_access_ok(88, 8, false));
  EXPECT_TRUE(raw.ctx_access_ok(4, 4, false));
  EXPECT_FALSE(raw.ctx_access_ok(96, 8, false));
  const ProgramTypeInfo& raw_w = *find_program_type(uint32_t(BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE));
  EXPECT_FALSE(raw_w.ctx_access_ok(0, 4, false));
  EXPECT_TRUE(raw_w.ctx_access_ok(0, 8, false));
  const ProgramTypeInfo& tr = *find_program_type(uint32_t(BPF_PROG_TYPE_TRACING));
  EXPECT_FALSE(tr.ctx_access_ok(4, 4, false));
  EXPECT_TRUE(tr.ctx_access_ok(8, 8, false));
}

TEST(ProgramTypeTest, ReturnRanges) {
  const ProgramTypeInfo& cg = *find_program_type(uint32_t(BPF_PROG_TYPE_CGROUP_SKB));
  EXPECT_EQ(cg.return_range(BPF_CGROUP_INET_INGRESS)->max, 1);
  EXPECT_EQ(cg.return_range(BPF_CGROUP_INET_EGRESS)->max, 3);
  EXPECT_EQ(cg.ret->max, 1);
  const ProgramTypeInfo& tr = *find_program_type(uint32_t(BPF_PROG_TYPE_TRACING));
  EXPECT_EQ(tr.return_range(BPF_TRACE_FENTRY)->max, 0);
  EXPECT_EQ(tr.return_range(BPF_TRACE_FEXIT)->min, 0);
  EXPECT_FALSE(tr.return_range(BPF_TRACE_RAW_TP).has_value());
  const ProgramTypeInfo& lsm = *find_program_type(uint32_t(BPF_PROG_TYPE_LSM));
  EXPECT_EQ(lsm.return_range(BPF_LSM_MAC)->min, -4095);
  EXPECT_EQ(lsm.return_range(BPF_LSM_MAC)->max, 0);
  for (uint32_t type : {BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER,
                        BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_PERF_EVENT}) {
    EXPECT_FALSE(find_program_type(type)->return_range(0).has_value()) << type;
  }
  EXPECT_EQ(find_program_type(uint32_t(BPF_PROG_TYPE_SYSCALL))->load_flags, uint32_t(BPF_F_SLEEPABLE));
}

}  // namespace
}  // namespace bpfkit::core
