// Map helpers through the runtime table and from programs on both engines.
#include <linux/bpf.h>

#include "helper_test_util.h"
#include "maps/map.h"

namespace bpfkit::helpers::testing {
namespace {

std::unique_ptr<maps::Map> make(uint32_t type, uint32_t key, uint32_t value, uint32_t max,
                                uint32_t flags = 0) {
  maps::MapSpec spec;
  spec.type = type;
  spec.key_size = key;
  spec.value_size = value;
  spec.max_entries = max;
  spec.flags = flags;
  spec.name = "m";
  return maps::create_map(spec);
}

TEST(MapHelpers, LookupUpdateDeleteThroughTheTable) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 4);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(m.get());
  uint32_t key = 7;
  uint64_t value = 99;
  EXPECT_EQ(call(BPF_FUNC_map_lookup_elem, env, addr(m.get()), addr(&key)), 0u);
  EXPECT_EQ(call(BPF_FUNC_map_update_elem, env, addr(m.get()), addr(&key), addr(&value), BPF_ANY), 0u);
  EXPECT_EQ(
      int64_t(call(BPF_FUNC_map_update_elem, env, addr(m.get()), addr(&key), addr(&value), BPF_NOEXIST)),
      -EEXIST);
  const size_t regions = env.regions.size();
  auto* p = reinterpret_cast<uint64_t*>(call(BPF_FUNC_map_lookup_elem, env, addr(m.get()), addr(&key)));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 99u);
  // Checked mode may use the value: the helper granted it, writable.
  ASSERT_EQ(env.regions.size(), regions + 1);
  EXPECT_EQ(env.regions.back().begin, addr(p));
  EXPECT_EQ(env.regions.back().size, 8u);
  EXPECT_TRUE(env.regions.back().writable);
  EXPECT_EQ(call(BPF_FUNC_map_delete_elem, env, addr(m.get()), addr(&key)), 0u);
  EXPECT_EQ(int64_t(call(BPF_FUNC_map_delete_elem, env, addr(m.get()), addr(&key))), -ENOENT);
  EXPECT_FALSE(env.abort);
}

TEST(MapHelpers, ReadOnlyForProgramsMapsGrantReadOnlyValues) {
  auto m = make(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_RDONLY_PROG);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(m.get());
  uint32_t key = 0, value = 1;
  ASSERT_NE(call(BPF_FUNC_map_lookup_elem, env, addr(m.get()), addr(&key)), 0u);
  EXPECT_FALSE(env.regions.back().writable);
  call(BPF_FUNC_map_update_elem, env, addr(m.get()), addr(&key), addr(&value), BPF_ANY);
  EXPECT_TRUE(env.abort);
  EXPECT_NE(env.abort_reason.find("read-only"), std::string::npos) << env.abort_reason;
}

TEST(MapHelpers, RefusesAPointerThatIsNotAMapOfTheProgram) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 4);
  auto other = make(BPF_MAP_TYPE_HASH, 4, 8, 4);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(m.get());
  uint32_t key = 1;
  EXPECT_EQ(call(BPF_FUNC_map_lookup_elem, env, addr(other.get()), addr(&key)), 0u);
  EXPECT_TRUE(env.abort);
  EXPECT_EQ(env.abort_reason.rfind("bpf_map_lookup_elem: argument 1 is not a map of this program", 0), 0u)
      << env.abort_reason;
}

TEST(MapHelpers, QueuePushPopPeek) {
  auto q = make(BPF_MAP_TYPE_QUEUE, 0, 4, 2);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(q.get());
  uint32_t v = 0;
  EXPECT_EQ(int64_t(call(BPF_FUNC_map_pop_elem, env, addr(q.get()), addr(&v))), -ENOENT);
  for (uint32_t x : {10u, 20u}) {
    v = x;
    EXPECT_EQ(call(BPF_FUNC_map_push_elem, env, addr(q.get()), addr(&v), BPF_ANY), 0u);
  }
  v = 30;
  EXPECT_EQ(int64_t(call(BPF_FUNC_map_push_elem, env, addr(q.get()), addr(&v), BPF_ANY)), -E2BIG);
  EXPECT_EQ(call(BPF_FUNC_map_push_elem, env, addr(q.get()), addr(&v), BPF_EXIST), 0u);  // drops 10
  EXPECT_EQ(call(BPF_FUNC_map_peek_elem, env, addr(q.get()), addr(&v)), 0u);
  EXPECT_EQ(v, 20u);
  EXPECT_EQ(call(BPF_FUNC_map_pop_elem, env, addr(q.get()), addr(&v)), 0u);
  EXPECT_EQ(v, 20u);
  EXPECT_EQ(call(BPF_FUNC_map_pop_elem, env, addr(q.get()), addr(&v)), 0u);
  EXPECT_EQ(v, 30u);
}

class MapProgramTest : public ::testing::TestWithParam<EngineKind> {};

// A counter program: value = lookup(key 3) or insert 1; *value += 5; return *value.
TEST_P(MapProgramTest, CountsThroughALookedUpPointer) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 8);
  core::ExecEnv env = runtime_env();
  env.maps.push_back(m.get());
  const std::string text = R"(
      *(u32 *)(r10 - 4) = 3
      r1 = )" + hex(addr(m.get())) +
                           R"( ll
      r2 = r10
      r2 += -4
      call 1
      if r0 != 0 goto found
      *(u64 *)(r10 - 16) = 0
      r1 = )" + hex(addr(m.get())) +
                           R"( ll
      r2 = r10
      r2 += -4
      r3 = r10
      r3 += -16
      r4 = 0
      call 2
      r1 = )" + hex(addr(m.get())) +
                           R"( ll
      r2 = r10
      r2 += -4
      call 1
      if r0 == 0 goto out
    found:
      r1 = *(u64 *)(r0 + 0)
      r1 += 5
      *(u64 *)(r0 + 0) = r1
      r0 = r1
      exit
    out:
      r0 = 0
      exit
  )";
  EXPECT_EQ(run_asm(GetParam(), text, env), 5u);
  EXPECT_EQ(run_asm(GetParam(), text, env), 10u);
  uint32_t key = 3;
  uint64_t value = 0;
  ASSERT_EQ(m->lookup_user(&key, &value), 0);
  EXPECT_EQ(value, 10u);
}

TEST_P(MapProgramTest, AForgedMapPointerStopsTheRun) {
  core::ExecEnv env = runtime_env();
  const std::string text = R"(
      *(u32 *)(r10 - 4) = 3
      r1 = 0x12345678 ll
      r2 = r10
      r2 += -4
      call 1
      exit
  )";
  try {
    run_asm(GetParam(), text, env);
    FAIL() << "the run should fail";
  } catch (const vm::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("bpf_map_lookup_elem: argument 1 is not a map of this program"),
              std::string::npos)
        << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, MapProgramTest, ::testing::Values(EngineKind::Interpreter, EngineKind::Jit),
                         engine_name);

}  // namespace
}  // namespace bpfkit::helpers::testing
