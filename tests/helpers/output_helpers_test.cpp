// Ring buffer, perf event output and tail call helpers.
#include <linux/bpf.h>

#include "helper_test_util.h"
#include "maps/fd_array_map.h"
#include "maps/perf_event_array_map.h"
#include "maps/ringbuf_map.h"

namespace bpfkit::helpers::testing {
namespace {

int64_t s(uint64_t v) { return int64_t(v); }

maps::MapSpec spec(uint32_t type, uint32_t key, uint32_t value, uint32_t max) {
  maps::MapSpec sp;
  sp.type = type;
  sp.key_size = key;
  sp.value_size = value;
  sp.max_entries = max;
  sp.name = "out";
  return sp;
}

TEST(RingbufHelpers, ReserveSubmitDiscardOutputQuery) {
  maps::RingBufMap rb(spec(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096));
  core::ExecEnv env = runtime_env();
  env.maps.push_back(&rb);
  const uint64_t m = addr(&rb);
  auto* rec = reinterpret_cast<uint32_t*>(call(BPF_FUNC_ringbuf_reserve, env, m, 8, 0));
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(env.regions.back().begin, addr(rec));  // granted to checked mode
  EXPECT_EQ(env.regions.back().size, 8u);
  rec[0] = 1, rec[1] = 2;
  call(BPF_FUNC_ringbuf_submit, env, addr(rec), 0);
  auto* dropped = reinterpret_cast<uint32_t*>(call(BPF_FUNC_ringbuf_reserve, env, m, 4, 0));
  ASSERT_NE(dropped, nullptr);
  call(BPF_FUNC_ringbuf_discard, env, addr(dropped), 0);
  const uint32_t data[3] = {7, 8, 9};
  EXPECT_EQ(call(BPF_FUNC_ringbuf_output, env, m, addr(data), sizeof data, 0), 0u);
  EXPECT_EQ(s(call(BPF_FUNC_ringbuf_output, env, m, addr(data), sizeof data, 8)), -EINVAL);
  EXPECT_EQ(call(BPF_FUNC_ringbuf_query, env, m, BPF_RB_RING_SIZE), 4096u);
  EXPECT_GT(call(BPF_FUNC_ringbuf_query, env, m, BPF_RB_AVAIL_DATA), 0u);
  EXPECT_EQ(call(BPF_FUNC_ringbuf_reserve, env, m, 8192, 0), 0u);  // bigger than the ring
  std::vector<std::vector<uint8_t>> got;
  rb.consume([&](std::span<const uint8_t> r) { got.emplace_back(r.begin(), r.end()); });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].size(), 8u);
  EXPECT_EQ(got[1].size(), 12u);
  EXPECT_EQ(got[1][4], 8);
  EXPECT_FALSE(env.abort);
}

TEST(RingbufHelpers, SubmittingSomethingElseStopsTheRun) {
  maps::RingBufMap rb(spec(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096));
  core::ExecEnv env = runtime_env();
  env.maps.push_back(&rb);
  uint64_t local = 0;
  call(BPF_FUNC_ringbuf_submit, env, addr(&local), 0);
  EXPECT_TRUE(env.abort);
  EXPECT_NE(env.abort_reason.find("bpf_ringbuf_submit: argument 1 is not a record"), std::string::npos);
}

TEST(RingbufHelpers, AMapOfAnotherTypeStopsTheRun) {
  auto arr = maps::create_map(spec(BPF_MAP_TYPE_ARRAY, 4, 4, 1));
  core::ExecEnv env = runtime_env();
  env.maps.push_back(arr.get());
  call(BPF_FUNC_ringbuf_reserve, env, addr(arr.get()), 8, 0);
  EXPECT_TRUE(env.abort);
  EXPECT_NE(env.abort_reason.find("not a ringbuf map"), std::string::npos) << env.abort_reason;
}

TEST(PerfEventOutput, ToTheCurrentCpusRing) {
  maps::PerfEventArrayMap pe(spec(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4));
  ASSERT_EQ(pe.open_ring(2), 0);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(&pe);
  env.cpu = 2;
  const uint32_t data = 0xabcd;
  EXPECT_EQ(call(BPF_FUNC_perf_event_output, env, 0, addr(&pe), BPF_F_CURRENT_CPU, addr(&data), 4), 0u);
  EXPECT_EQ(s(call(BPF_FUNC_perf_event_output, env, 0, addr(&pe), 1, addr(&data), 4)), -ENOENT);
  EXPECT_EQ(s(call(BPF_FUNC_perf_event_output, env, 0, addr(&pe), 9, addr(&data), 4)), -E2BIG);
  // No packet: the context-length bits are refused.
  EXPECT_EQ(s(call(BPF_FUNC_perf_event_output, env, 0, addr(&pe), (4ull << 32) | 2, addr(&data), 4)),
            -EINVAL);
  std::vector<uint8_t> bytes = {1, 2, 3, 4, 5, 6};
  TestPacket pkt(bytes);
  pkt.attach(env);
  EXPECT_EQ(call(BPF_FUNC_perf_event_output, env, 0, addr(&pe), (4ull << 32) | 2, addr(&data), 4), 0u);
  EXPECT_EQ(s(call(BPF_FUNC_perf_event_output, env, 0, addr(&pe), (7ull << 32) | 2, addr(&data), 4)),
            -EFAULT);
  std::vector<std::vector<uint8_t>> got;
  pe.consume([&](uint32_t cpu, std::span<const uint8_t> r) {
    EXPECT_EQ(cpu, 2u);
    got.emplace_back(r.begin(), r.end());
  });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0][0], 0xcd);
  ASSERT_GE(got[1].size(), 8u);
  EXPECT_EQ(got[1][4], 1);  // the packet's first bytes follow the data
  EXPECT_EQ(got[1][7], 4);
}

TEST(TailCall, JumpsThroughTheProgArrayUpTo33Times) {
  maps::ProgArrayMap progs(spec(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4));
  int target = 0;
  ASSERT_EQ(progs.set(1, &target, 5), 0);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(&progs);
  EXPECT_EQ(s(call(BPF_FUNC_tail_call, env, 0, addr(&progs), 4)), -ENOENT);  // out of range
  EXPECT_EQ(env.tail_call_count, 0u);
  EXPECT_EQ(s(call(BPF_FUNC_tail_call, env, 0, addr(&progs), 0)), -ENOENT);  // empty slot: counted
  EXPECT_EQ(env.tail_call_count, 1u);
  EXPECT_FALSE(env.abort);
  EXPECT_EQ(call(BPF_FUNC_tail_call, env, 0, addr(&progs), 1), 0u);
  EXPECT_TRUE(env.abort);
  EXPECT_TRUE(env.abort_reason.empty());
  EXPECT_EQ(env.tail_call, &target);
  env.abort = false;
  env.tail_call_count = 33;
  EXPECT_EQ(s(call(BPF_FUNC_tail_call, env, 0, addr(&progs), 1)), -ENOENT);
  EXPECT_FALSE(env.abort);
}

class TailCallProgramTest : public ::testing::TestWithParam<EngineKind> {};

// A failed tail call falls through; a successful one ends the run with r0 = 0.
TEST_P(TailCallProgramTest, RunStopsOnlyWhenTheCallIsTaken) {
  maps::ProgArrayMap progs(spec(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4));
  int target = 0;
  ASSERT_EQ(progs.set(2, &target, 5), 0);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(&progs);
  auto text = [&](int index) {
    return "r2 = " + hex(addr(&progs)) + " ll\nr3 = " + std::to_string(index) + "\ncall 12\nr0 = 77\nexit\n";
  };
  EXPECT_EQ(run_asm(GetParam(), text(0), env), 77u);
  EXPECT_EQ(env.tail_call, nullptr);
  EXPECT_EQ(run_asm(GetParam(), text(2), env), 0u);
  EXPECT_EQ(env.tail_call, &target);
}

INSTANTIATE_TEST_SUITE_P(Engines, TailCallProgramTest,
                         ::testing::Values(EngineKind::Interpreter, EngineKind::Jit), engine_name);

}  // namespace
}  // namespace bpfkit::helpers::testing
