// bpf_redirect_map on devmaps, cpumaps and xskmaps (return values and the target
// recorded in PacketState) and bpf_get_stackid on a stack trace map, called
// directly and from programs on both engines.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>
#include <vector>

#include "helper_test_util.h"
#include "maps/map.h"
#include "maps/redirect_maps.h"
#include "maps/stack_trace_map.h"

namespace bpfkit::helpers::testing {
namespace {

int64_t s(uint64_t v) { return int64_t(v); }

std::unique_ptr<maps::DevMap> devmap(uint32_t type) {
  auto m = maps::create_map({type, 4, 4, 8});
  auto d = std::unique_ptr<maps::DevMap>(static_cast<maps::DevMap*>(m.release()));
  d->set_ifindex_check([](uint32_t ifindex) { return ifindex < 100; });
  return d;
}

TEST(RedirectMap, DevmapEntryRedirectsMissingKeyFallsBack) {
  for (uint32_t type : {BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH}) {
    SCOPED_TRACE(maps::map_type_name(type));
    auto m = devmap(type);
    const uint32_t key = 3, ifindex = 17;
    ASSERT_EQ(m->update_user(&key, &ifindex, BPF_ANY), 0);
    const uint8_t bytes[64] = {};
    TestPacket pkt(bytes);
    core::ExecEnv env = runtime_env();
    pkt.attach(env);
    env.maps.push_back(m.get());
    EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 3, XDP_PASS), uint64_t(XDP_REDIRECT));
    EXPECT_TRUE(pkt.state.redirected);
    EXPECT_EQ(pkt.state.redirect_ifindex, 17u);
    EXPECT_EQ(pkt.state.redirect_map, m.get());
    EXPECT_EQ(pkt.state.redirect_map_type, type);
    EXPECT_EQ(pkt.state.redirect_key, 3u);
    // A missing key: the fallback action, and the map target is cleared.
    EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 4, XDP_DROP), uint64_t(XDP_DROP));
    EXPECT_EQ(pkt.state.redirect_map_type, uint32_t(BPF_MAP_TYPE_UNSPEC));
    EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 4, 0), uint64_t(XDP_ABORTED));
    // The key is a u32: higher bits are dropped before the lookup.
    EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), (1ull << 32) | 3, XDP_PASS),
              uint64_t(XDP_REDIRECT));
    // Flags beyond the action and the devmap's broadcast flags abort without a lookup.
    EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 3, XDP_REDIRECT), uint64_t(XDP_ABORTED));
    EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 3, 1 << 5), uint64_t(XDP_ABORTED));
    // A broadcast redirects even for a missing key.
    EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(m.get()), 4, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS),
              uint64_t(XDP_REDIRECT));
    EXPECT_EQ(pkt.state.redirect_flags, uint64_t(BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS));
    EXPECT_EQ(pkt.state.redirect_ifindex, 0u);
    EXPECT_EQ(m->broadcast_ifindexes(), std::vector<uint32_t>{17});
    // bpf_redirect afterwards replaces the map target.
    EXPECT_EQ(call(BPF_FUNC_redirect, env, 9, 0), uint64_t(XDP_REDIRECT));
    EXPECT_EQ(pkt.state.redirect_map, nullptr);
    EXPECT_EQ(pkt.state.redirect_ifindex, 9u);
  }
}

TEST(RedirectMap, CpumapAndXskmapTakeNoBroadcast) {
  auto cpus = maps::create_map({BPF_MAP_TYPE_CPUMAP, 4, 4, 1});
  const uint32_t zero = 0, qsize = 64;
  ASSERT_EQ(cpus->update_user(&zero, &qsize, BPF_ANY), 0);
  auto xsks = maps::create_map({BPF_MAP_TYPE_XSKMAP, 4, 4, 4});
  core::ExecEnv env = runtime_env();
  const uint8_t bytes[64] = {};
  TestPacket pkt(bytes);
  pkt.attach(env);
  env.maps = {cpus.get(), xsks.get()};
  EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(cpus.get()), 0, XDP_PASS), uint64_t(XDP_REDIRECT));
  EXPECT_EQ(pkt.state.redirect_map_type, uint32_t(BPF_MAP_TYPE_CPUMAP));
  EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(cpus.get()), 1, XDP_PASS), uint64_t(XDP_PASS));
  EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(cpus.get()), 0, BPF_F_BROADCAST), uint64_t(XDP_ABORTED));
  EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(xsks.get()), 0, XDP_TX), uint64_t(XDP_TX));  // empty slot
}

TEST(RedirectMap, ForeignPointerAbortsTheRun) {
  core::ExecEnv env = runtime_env();
  int not_a_map = 0;
  EXPECT_EQ(call(BPF_FUNC_redirect_map, env, addr(&not_a_map), 0, XDP_PASS), 0u);
  EXPECT_TRUE(env.abort);
}

TEST(GetStackid, UserStackOfTheTask) {
  auto m = maps::create_map({BPF_MAP_TYPE_STACK_TRACE, 4, 32, 64});
  core::ExecEnv env = runtime_env();
  env.maps.push_back(m.get());
  core::TaskIdentity task;
  task.user_stack = {0x401000, 0x402000, 0x403000, 0x404000, 0x405000, 0x406000};
  env.task = &task;
  const int64_t id = s(call(BPF_FUNC_get_stackid, env, 0, addr(m.get()), BPF_F_USER_STACK));
  ASSERT_GE(id, 0);
  // The value holds 4 frames: the stack is cut there, and so hashed.
  EXPECT_EQ(uint64_t(id), maps::stack_trace_hash(task.user_stack.data(), 4) & 63);
  uint64_t value[4];
  const uint32_t key = uint32_t(id);
  ASSERT_EQ(m->lookup_user(&key, value), 0);
  EXPECT_EQ(value[0], 0x401000u);
  EXPECT_EQ(value[3], 0x404000u);
  // Skipping 2 captures 2 more frames.
  const int64_t skipped = s(call(BPF_FUNC_get_stackid, env, 0, addr(m.get()), BPF_F_USER_STACK | 2));
  ASSERT_GE(skipped, 0);
  const uint32_t key2 = uint32_t(skipped);
  ASSERT_EQ(m->lookup_user(&key2, value), 0);
  EXPECT_EQ(value[0], 0x403000u);
  EXPECT_EQ(value[3], 0x406000u);
  EXPECT_EQ(s(call(BPF_FUNC_get_stackid, env, 0, addr(m.get()), BPF_F_USER_STACK | 6)), -EFAULT);
  EXPECT_EQ(s(call(BPF_FUNC_get_stackid, env, 0, addr(m.get()), 0)), -EFAULT);  // no kernel stack here
  EXPECT_EQ(s(call(BPF_FUNC_get_stackid, env, 0, addr(m.get()), BPF_F_USER_BUILD_ID)), -EINVAL);
  auto array = maps::create_map({BPF_MAP_TYPE_ARRAY, 4, 8, 1});
  env.maps.push_back(array.get());
  EXPECT_EQ(s(call(BPF_FUNC_get_stackid, env, 0, addr(array.get()), BPF_F_USER_STACK)), -EINVAL);
}

class StackidProgramTest : public ::testing::TestWithParam<EngineKind> {};

// A program calling get_stackid twice from the same stack gets the same id both times.
TEST_P(StackidProgramTest, SameStackSameId) {
  auto m = maps::create_map({BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, 1024});
  core::ExecEnv env = runtime_env();
  env.maps.push_back(m.get());
  core::TaskIdentity task;
  for (uint64_t i = 0; i < 20; ++i) task.user_stack.push_back(0x7f0000001000 + i * 0x40);
  env.task = &task;
  const std::string map = hex(addr(m.get()));
  const std::string text = "r6 = r1\n"
                           "r2 = " + map + " ll\n"
                           "r3 = " + std::to_string(BPF_F_USER_STACK) + "\n"
                           "call " + std::to_string(BPF_FUNC_get_stackid) + "\n"
                           "r7 = r0\n"
                           "r1 = r6\n"
                           "r2 = " + map + " ll\n"
                           "r3 = " + std::to_string(BPF_F_USER_STACK) + "\n"
                           "call " + std::to_string(BPF_FUNC_get_stackid) + "\n"
                           "if r0 != r7 goto differ\n"
                           "exit\n"
                           "differ:\n"
                           "r0 = -1\n"
                           "exit\n";
  uint64_t ctx[8] = {};
  env.allow(addr(ctx), sizeof ctx, true);
  const int64_t id = s(run_asm(GetParam(), text, env, addr(ctx)));
  ASSERT_GE(id, 0) << env.abort_reason;
  std::vector<uint64_t> value(127);
  const uint32_t key = uint32_t(id);
  ASSERT_EQ(m->lookup_user(&key, value.data()), 0);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(value[i], task.user_stack[i]) << i;
  EXPECT_EQ(value[20], 0u);
  uint32_t next = 0;
  EXPECT_EQ(m->get_next_key_user(nullptr, &next), 0);
  EXPECT_EQ(next, key);  // the only stack stored
  EXPECT_EQ(m->get_next_key_user(&next, &next), -ENOENT);
}

INSTANTIATE_TEST_SUITE_P(Engines, StackidProgramTest,
                         ::testing::Values(EngineKind::Interpreter, EngineKind::Jit), engine_name);

}  // namespace
}  // namespace bpfkit::helpers::testing
