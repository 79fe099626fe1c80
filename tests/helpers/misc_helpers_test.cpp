// Time, task, probe-read, stack and print helpers.
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ctime>

#include "helper_test_util.h"

namespace bpfkit::helpers::testing {
namespace {

uint64_t now(clockid_t c) {
  timespec ts{};
  clock_gettime(c, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

TEST(RuntimeHelpers, TableHoldsEveryHelperWithItsKernelName) {
  const std::pair<int32_t, const char*> expected[] = {
      {BPF_FUNC_map_lookup_elem, "map_lookup_elem"},
      {BPF_FUNC_map_update_elem, "map_update_elem"},
      {BPF_FUNC_map_delete_elem, "map_delete_elem"},
      {BPF_FUNC_map_push_elem, "map_push_elem"},
      {BPF_FUNC_map_pop_elem, "map_pop_elem"},
      {BPF_FUNC_map_peek_elem, "map_peek_elem"},
      {BPF_FUNC_ktime_get_ns, "ktime_get_ns"},
      {BPF_FUNC_ktime_get_boot_ns, "ktime_get_boot_ns"},
      {BPF_FUNC_ktime_get_coarse_ns, "ktime_get_coarse_ns"},
      {BPF_FUNC_jiffies64, "jiffies64"},
      {BPF_FUNC_get_prandom_u32, "get_prandom_u32"},
      {BPF_FUNC_get_smp_processor_id, "get_smp_processor_id"},
      {BPF_FUNC_trace_printk, "trace_printk"},
      {BPF_FUNC_trace_vprintk, "trace_vprintk"},
      {BPF_FUNC_snprintf, "snprintf"},
      {BPF_FUNC_strncmp, "strncmp"},
      {BPF_FUNC_get_current_pid_tgid, "get_current_pid_tgid"},
      {BPF_FUNC_get_current_uid_gid, "get_current_uid_gid"},
      {BPF_FUNC_get_current_comm, "get_current_comm"},
      {BPF_FUNC_probe_read, "probe_read"},
      {BPF_FUNC_probe_read_user, "probe_read_user"},
      {BPF_FUNC_probe_read_kernel, "probe_read_kernel"},
      {BPF_FUNC_probe_read_str, "probe_read_str"},
      {BPF_FUNC_probe_read_user_str, "probe_read_user_str"},
      {BPF_FUNC_probe_read_kernel_str, "probe_read_kernel_str"},
      {BPF_FUNC_tail_call, "tail_call"},
      {BPF_FUNC_ringbuf_output, "ringbuf_output"},
      {BPF_FUNC_ringbuf_reserve, "ringbuf_reserve"},
      {BPF_FUNC_ringbuf_submit, "ringbuf_submit"},
      {BPF_FUNC_ringbuf_discard, "ringbuf_discard"},
      {BPF_FUNC_ringbuf_query, "ringbuf_query"},
      {BPF_FUNC_perf_event_output, "perf_event_output"},
      {BPF_FUNC_xdp_adjust_head, "xdp_adjust_head"},
      {BPF_FUNC_xdp_adjust_tail, "xdp_adjust_tail"},
      {BPF_FUNC_xdp_adjust_meta, "xdp_adjust_meta"},
      {BPF_FUNC_redirect, "redirect"},
      {BPF_FUNC_redirect_map, "redirect_map"},
      {BPF_FUNC_csum_diff, "csum_diff"},
      {BPF_FUNC_l3_csum_replace, "l3_csum_replace"},
      {BPF_FUNC_l4_csum_replace, "l4_csum_replace"},
      {BPF_FUNC_skb_load_bytes, "skb_load_bytes"},
      {BPF_FUNC_skb_store_bytes, "skb_store_bytes"},
      {BPF_FUNC_loop, "loop"},
      {BPF_FUNC_for_each_map_elem, "for_each_map_elem"},
      {BPF_FUNC_get_stack, "get_stack"},
      {BPF_FUNC_get_stackid, "get_stackid"}};
  for (const auto& [id, name] : expected) {
    const core::HelperSpec* spec = runtime_helpers().find(id);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->name, name);
    EXPECT_NE(spec->fn, nullptr) << name;
  }
  // Every helper of the standard table is here too.
  for (const auto& [id, spec] : core::HelperTable::standard().all())
    EXPECT_NE(runtime_helpers().find(id), nullptr);
}

TEST(RuntimeHelpers, PrototypesFollowTheKernel) {
  using core::ArgKind;
  using core::RetKind;
  const auto& t = runtime_helpers();
  EXPECT_EQ(t.find(BPF_FUNC_map_lookup_elem)->proto.ret, RetKind::PtrToMapValueOrNull);
  EXPECT_EQ(t.find(BPF_FUNC_map_lookup_elem)->proto.args[0], ArgKind::ConstMapPtr);
  EXPECT_EQ(t.find(BPF_FUNC_map_lookup_elem)->proto.args[1], ArgKind::PtrToMapKey);
  EXPECT_EQ(t.find(BPF_FUNC_map_update_elem)->proto.args[2], ArgKind::PtrToMapValue);
  EXPECT_EQ(t.find(BPF_FUNC_map_pop_elem)->proto.args[1], ArgKind::PtrToUninitMapValue);
  EXPECT_EQ(t.find(BPF_FUNC_ringbuf_reserve)->proto.ret, RetKind::PtrToAllocMemOrNull);
  EXPECT_EQ(t.find(BPF_FUNC_ringbuf_submit)->proto.ret, RetKind::Void);
  EXPECT_EQ(t.find(BPF_FUNC_ringbuf_submit)->proto.args[0], ArgKind::PtrToAllocMem);
  EXPECT_EQ(t.find(BPF_FUNC_probe_read_user)->proto.args[0], ArgKind::PtrToUninitMem);
  EXPECT_EQ(t.find(BPF_FUNC_probe_read_user)->proto.args[1], ArgKind::ConstSizeOrZero);
  EXPECT_EQ(t.find(BPF_FUNC_trace_printk)->proto.args[1], ArgKind::ConstSize);
  EXPECT_EQ(t.find(BPF_FUNC_snprintf)->proto.args[2], ArgKind::PtrToConstStr);
  EXPECT_EQ(t.find(BPF_FUNC_loop)->proto.args[1], ArgKind::PtrToFunc);
  EXPECT_EQ(t.find(BPF_FUNC_tail_call)->proto.ret, RetKind::Void);
  EXPECT_EQ(t.find(BPF_FUNC_skb_load_bytes)->proto.args[0], ArgKind::PtrToCtx);
}

TEST(TimeHelpers, ClocksAreTheKernels) {
  core::ExecEnv env = runtime_env();
  const uint64_t before = now(CLOCK_MONOTONIC);
  const uint64_t t = call(BPF_FUNC_ktime_get_ns, env);
  EXPECT_GE(t, before);
  EXPECT_LE(t, now(CLOCK_MONOTONIC));
  const uint64_t boot = call(BPF_FUNC_ktime_get_boot_ns, env);
  EXPECT_GE(boot, now(CLOCK_BOOTTIME) - 1'000'000'000ull);
  EXPECT_LE(boot, now(CLOCK_BOOTTIME));
  const uint64_t coarse = call(BPF_FUNC_ktime_get_coarse_ns, env);
  EXPECT_LE(coarse, now(CLOCK_MONOTONIC));
  EXPECT_GE(coarse + 50'000'000ull, now(CLOCK_MONOTONIC));
  const uint64_t j1 = call(BPF_FUNC_jiffies64, env);
  usleep(20'000);
  const uint64_t j2 = call(BPF_FUNC_jiffies64, env);
  EXPECT_GE(j2 - j1, 3u);  // 250 Hz: 5 ticks in 20 ms, less the coarse clock's granularity
  EXPECT_LE(j2 - j1, 50u);
}

TEST(TimeHelpers, RandomAndCpu) {
  core::ExecEnv env = runtime_env();
  env.cpu = 3;
  EXPECT_EQ(call(BPF_FUNC_get_smp_processor_id, env), 3u);
  uint64_t seen_high = 0, distinct = 0, last = ~0ull;
  for (int i = 0; i < 64; ++i) {
    uint64_t r = call(BPF_FUNC_get_prandom_u32, env);
    EXPECT_LE(r, 0xffffffffull);
    seen_high |= r >> 31;
    distinct += r != last;
    last = r;
  }
  EXPECT_EQ(seen_high, 1u);
  EXPECT_GE(distinct, 60u);
}

TEST(TaskHelpers, CallingThreadByDefault) {
  core::ExecEnv env = runtime_env();
  EXPECT_EQ(call(BPF_FUNC_get_current_pid_tgid, env), (uint64_t(getpid()) << 32) | uint32_t(gettid()));
  EXPECT_EQ(call(BPF_FUNC_get_current_uid_gid, env), (uint64_t(getgid()) << 32) | getuid());
  char comm[16];
  std::memset(comm, 'z', sizeof comm);
  EXPECT_EQ(call(BPF_FUNC_get_current_comm, env, addr(comm), sizeof comm), 0u);
  EXPECT_STREQ(comm, core::TaskIdentity::current().comm);
}

TEST(TaskHelpers, TheHooksTask) {
  core::ExecEnv env = runtime_env();
  core::TaskIdentity task;
  task.pid = 101;
  task.tgid = 100;
  task.uid = 1000;
  task.gid = 2000;
  std::strcpy(task.comm, "nginx-worker-12");
  env.task = &task;
  EXPECT_EQ(call(BPF_FUNC_get_current_pid_tgid, env), (100ull << 32) | 101);
  EXPECT_EQ(call(BPF_FUNC_get_current_uid_gid, env), (2000ull << 32) | 1000);
  char comm[8];
  EXPECT_EQ(call(BPF_FUNC_get_current_comm, env, addr(comm), sizeof comm), 0u);
  EXPECT_STREQ(comm, "nginx-w");  // cut to size - 1, NUL-terminated
  char big[24];
  std::memset(big, 'z', sizeof big);
  EXPECT_EQ(call(BPF_FUNC_get_current_comm, env, addr(big), sizeof big), 0u);
  EXPECT_STREQ(big, "nginx-worker-12");
  for (size_t i = 15; i < sizeof big; ++i) EXPECT_EQ(big[i], 0) << i;  // zero-padded
}

// A page that is mapped but unreadable, right after a readable one.
struct GuardedPage {
  GuardedPage() {
    base = static_cast<uint8_t*>(
        mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mprotect(base + 4096, 4096, PROT_NONE);
  }
  ~GuardedPage() { munmap(base, 8192); }
  uint8_t* base;
};

TEST(ProbeHelpers, ReadsAndFaultsWithoutCrashing) {
  core::ExecEnv env = runtime_env();
  const uint64_t src = 0x1122334455667788ull;
  for (int32_t id : {BPF_FUNC_probe_read, BPF_FUNC_probe_read_user, BPF_FUNC_probe_read_kernel}) {
    uint64_t dst = 0;
    EXPECT_EQ(call(id, env, addr(&dst), 8, addr(&src)), 0u);
    EXPECT_EQ(dst, src);
    dst = ~0ull;
    EXPECT_EQ(int64_t(call(id, env, addr(&dst), 8, 16)), -EFAULT);
    EXPECT_EQ(dst, 0u);  // zeroed on failure
    GuardedPage g;
    dst = ~0ull;
    EXPECT_EQ(int64_t(call(id, env, addr(&dst), 8, addr(g.base + 4092))), -EFAULT);  // straddles the guard
    EXPECT_EQ(dst, 0u);
    EXPECT_EQ(call(id, env, addr(&dst), 0, 16), 0u);
  }
}

TEST(ProbeHelpers, StringsReturnTheirLengthWithTheNul) {
  core::ExecEnv env = runtime_env();
  const char s[] = "hello";
  for (int32_t id : {BPF_FUNC_probe_read_str, BPF_FUNC_probe_read_user_str, BPF_FUNC_probe_read_kernel_str}) {
    char buf[16];
    std::memset(buf, 'z', sizeof buf);
    EXPECT_EQ(call(id, env, addr(buf), sizeof buf, addr(s)), 6u);
    EXPECT_STREQ(buf, "hello");
    EXPECT_EQ(buf[6], 'z');                               // nothing written past the NUL
    EXPECT_EQ(call(id, env, addr(buf), 4, addr(s)), 4u);  // cut: size - 1 characters and a NUL
    EXPECT_STREQ(buf, "hel");
    EXPECT_EQ(call(id, env, addr(buf), 0, addr(s)), 0u);
    std::memset(buf, 'z', sizeof buf);
    EXPECT_EQ(int64_t(call(id, env, addr(buf), sizeof buf, 8)), -EFAULT);
    for (char c : buf) EXPECT_EQ(c, 0);
    // A string running into an unreadable page faults; one ending before it does not.
    GuardedPage g;
    std::memset(g.base + 4090, 'a', 6);
    EXPECT_EQ(int64_t(call(id, env, addr(buf), sizeof buf, addr(g.base + 4090))), -EFAULT);
    g.base[4095] = 0;
    EXPECT_EQ(call(id, env, addr(buf), sizeof buf, addr(g.base + 4090)), 6u);
    EXPECT_STREQ(buf, "aaaaa");
  }
}

TEST(StackHelpers, UserStackOfTheTask) {
  core::ExecEnv env = runtime_env();
  core::TaskIdentity task;
  task.user_stack = {0x401000, 0x402000, 0x403000};
  env.task = &task;
  uint64_t buf[4];
  std::memset(buf, 0xff, sizeof buf);
  EXPECT_EQ(call(BPF_FUNC_get_stack, env, 0, addr(buf), sizeof buf, BPF_F_USER_STACK), 24u);
  EXPECT_EQ(buf[0], 0x401000u);
  EXPECT_EQ(buf[2], 0x403000u);
  EXPECT_EQ(buf[3], 0u);  // the rest is zeroed
  EXPECT_EQ(call(BPF_FUNC_get_stack, env, 0, addr(buf), 16, BPF_F_USER_STACK | 1), 16u);  // skip 1
  EXPECT_EQ(buf[0], 0x402000u);
  EXPECT_EQ(int64_t(call(BPF_FUNC_get_stack, env, 0, addr(buf), 16, BPF_F_USER_STACK | 5)), -EFAULT);
  EXPECT_EQ(int64_t(call(BPF_FUNC_get_stack, env, 0, addr(buf), 12, BPF_F_USER_STACK)), -EINVAL);
  EXPECT_EQ(int64_t(call(BPF_FUNC_get_stack, env, 0, addr(buf), 16, 1ull << 20)), -EINVAL);
  EXPECT_EQ(int64_t(call(BPF_FUNC_get_stack, env, 0, addr(buf), 32, BPF_F_USER_BUILD_ID)), -EINVAL);
  // No kernel runs under the program: its kernel stack is empty.
  EXPECT_EQ(call(BPF_FUNC_get_stack, env, 0, addr(buf), 16, 0), 0u);
  bpf_stack_build_id ids[2];
  EXPECT_EQ(call(BPF_FUNC_get_stack, env, 0, addr(ids), sizeof ids, BPF_F_USER_STACK | BPF_F_USER_BUILD_ID),
            sizeof ids);
  EXPECT_EQ(ids[1].status, BPF_STACK_BUILD_ID_IP);
  EXPECT_EQ(ids[1].ip, 0x402000u);
}

TEST(PrintHelpers, TracePrintkGoesToOnPrintk) {
  core::ExecEnv env = runtime_env();
  std::vector<std::string> lines;
  env.on_printk = [&](std::string_view line) { lines.emplace_back(line); };
  const char fmt[] = "pid %d says %s\n";
  const char word[] = "hi";
  EXPECT_EQ(call(BPF_FUNC_trace_printk, env, addr(fmt), sizeof fmt, 42, addr(word)), 15u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "pid 42 says hi");
  // No NUL within the size, or a bad format: -EINVAL and no line.
  EXPECT_EQ(int64_t(call(BPF_FUNC_trace_printk, env, addr(fmt), 4, 1)), -EINVAL);
  const char bad[] = "%f";
  EXPECT_EQ(int64_t(call(BPF_FUNC_trace_printk, env, addr(bad), sizeof bad, 1)), -EINVAL);
  EXPECT_EQ(lines.size(), 1u);
  const uint64_t args[4] = {1, 2, 3, 4};
  const char vfmt[] = "%d+%d+%d+%d";
  EXPECT_EQ(call(BPF_FUNC_trace_vprintk, env, addr(vfmt), sizeof vfmt, addr(args), sizeof args), 7u);
  EXPECT_EQ(lines.back(), "1+2+3+4");
  EXPECT_EQ(int64_t(call(BPF_FUNC_trace_vprintk, env, addr(vfmt), sizeof vfmt, addr(args), 12)), -EINVAL);
}

TEST(PrintHelpers, SnprintfReturnsTheSizeItNeeds) {
  core::ExecEnv env = runtime_env();
  const char fmt[] = "%d-%s";
  const char word[] = "abc";
  const uint64_t args[2] = {uint64_t(-7), addr(word)};
  char out[16];
  std::memset(out, 'z', sizeof out);
  EXPECT_EQ(call(BPF_FUNC_snprintf, env, addr(out), sizeof out, addr(fmt), addr(args), sizeof args), 7u);
  EXPECT_STREQ(out, "-7-abc");
  EXPECT_EQ(call(BPF_FUNC_snprintf, env, addr(out), 4, addr(fmt), addr(args), sizeof args), 7u);
  EXPECT_STREQ(out, "-7-");
  EXPECT_EQ(call(BPF_FUNC_snprintf, env, 0, 0, addr(fmt), addr(args), sizeof args), 7u);
  EXPECT_EQ(int64_t(call(BPF_FUNC_snprintf, env, addr(out), sizeof out, addr(fmt), addr(args), 8)), -EINVAL);
  EXPECT_EQ(int64_t(call(BPF_FUNC_snprintf, env, addr(out), sizeof out, addr(fmt), addr(args), 13 * 8)),
            -EINVAL);
}

TEST(PrintHelpers, Strncmp) {
  core::ExecEnv env = runtime_env();
  auto cmp = [&](const char* a, uint32_t n, const char* b) {
    return int64_t(call(BPF_FUNC_strncmp, env, addr(a), n, addr(b)));
  };
  EXPECT_EQ(cmp("abc", 4, "abc"), 0);
  EXPECT_EQ(cmp("abd", 4, "abc"), 1);
  EXPECT_EQ(cmp("abb", 4, "abc"), -1);
  EXPECT_EQ(cmp("abcdef", 3, "abc"), 0);
  EXPECT_EQ(cmp("abcdef", 4, "abc"), 1);
  EXPECT_EQ(cmp("\xff", 2, "a"), 1);  // bytes compare unsigned
}

}  // namespace
}  // namespace bpfkit::helpers::testing
