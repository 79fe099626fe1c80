// bpf_loop and bpf_for_each_map_elem, through programs on both engines (the
// engines provide ExecEnv::call_subprogram), and their argument checks.
#include <linux/bpf.h>

#include "../support/callback_program.h"
#include "helper_test_util.h"
#include "maps/map.h"

namespace bpfkit::helpers::testing {
namespace {

int64_t s(uint64_t v) { return int64_t(v); }

TEST(CallbackHelpers, ArgumentChecksComeFirst) {
  core::ExecEnv env = runtime_env();
  EXPECT_EQ(s(call(BPF_FUNC_loop, env, 1, 0, 0, 1)), -EINVAL);              // flags
  EXPECT_EQ(s(call(BPF_FUNC_loop, env, (1u << 23) + 1, 0, 0, 0)), -E2BIG);  // nr_loops
  EXPECT_FALSE(env.abort);
  // Outside a run there is no engine to call back into.
  call(BPF_FUNC_loop, env, 1, 0, 0, 0);
  EXPECT_TRUE(env.abort);
  EXPECT_EQ(env.abort_reason, "bpf_loop: the engine running this program cannot call a callback");
}

using test_support::call_with_stack_ctx;

class CallbackProgramTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  // Runs `text`, whose callbacks are named by label (func(cb)), once in checked mode.
  uint64_t run(const std::string& text, core::ExecEnv& env) const {
    const vm::Program program = test_support::callback_program(text);
    auto engine = GetParam() == EngineKind::Interpreter ? vm::make_interpreter(program) : vm::make_jit(program);
    return engine->run(0, 0, env);
  }
};

// Sums i over the iterations through the ctx on the stack; the callback stops at i == 6.
TEST_P(CallbackProgramTest, LoopCallsUntilTheCallbackReturnsOne) {
  core::ExecEnv env = runtime_env();
  const std::string text = call_with_stack_ctx(BPF_FUNC_loop, "100") + R"(
    cb:
      r3 = *(u64 *)(r2 + 0)
      r3 += r1
      *(u64 *)(r2 + 0) = r3
      r0 = 0
      if r1 != 6 goto done
      r0 = 1
    done:
      exit
  )";
  const uint64_t r = run(text, env);
  EXPECT_EQ(r >> 32, 7u);          // calls made: i = 0..6
  EXPECT_EQ(r & 0xffffffff, 21u);  // 0 + 1 + ... + 6
}

// Sums the values of an array through for_each_map_elem and counts the calls.
TEST_P(CallbackProgramTest, ForEachMapElemVisitsEveryElement) {
  maps::MapSpec spec{BPF_MAP_TYPE_HASH, 4, 8, 16};
  spec.name = "h";
  auto m = maps::create_map(spec);
  for (uint32_t k = 1; k <= 5; ++k) {
    uint64_t v = k * 10;
    ASSERT_EQ(m->update(&k, &v, BPF_ANY), 0);
  }
  core::ExecEnv env = runtime_env();
  env.maps.push_back(m.get());
  const std::string text = call_with_stack_ctx(BPF_FUNC_for_each_map_elem, hex(addr(m.get())) + " ll") + R"(
    cb:
      r5 = *(u32 *)(r2 + 0)
      r0 = *(u64 *)(r3 + 0)
      r0 += r5
      *(u64 *)(r3 + 0) = r0
      r5 = *(u64 *)(r4 + 0)
      r5 += r0
      *(u64 *)(r4 + 0) = r5
      r0 = 0
      exit
  )";
  const uint64_t r = run(text, env);
  EXPECT_EQ(r >> 32, 5u);
  EXPECT_EQ(r & 0xffffffff, 150u + 15u);  // every value plus its key
  for (uint32_t k = 1; k <= 5; ++k) {
    uint64_t v = 0;
    ASSERT_EQ(m->lookup_user(&k, &v), 0);
    EXPECT_EQ(v, k * 11);  // the callback wrote through the value pointer
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, CallbackProgramTest,
                         ::testing::Values(EngineKind::Interpreter, EngineKind::Jit), engine_name);

}  // namespace
}  // namespace bpfkit::helpers::testing
