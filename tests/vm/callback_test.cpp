// Callbacks: helpers (bpf_loop, bpf_for_each_map_elem) calling a subprogram of the running
// program through ExecEnv::call_subprogram, on the interpreter and the JIT, checked and not.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../support/callback_program.h"
#include "core/exec_env.h"
#include "isa/opcodes.h"
#include "vm/engine.h"

namespace bpfkit::vm {
namespace {

constexpr int32_t kLoop = 2000;  // loop(nr, slot, ctx, flags), as bpf_loop
constexpr int32_t kStop = 2001;  // sets env.abort without a reason

// Calls the subprogram at `slot` with (i, ctx) for i < nr until it returns 1; returns the
// number of calls, as bpf_loop does. Stops at once when the run is aborted.
uint64_t test_loop(uint64_t nr, uint64_t slot, uint64_t ctx, uint64_t, uint64_t, core::ExecEnv* env) {
  uint64_t i = 0;
  while (i < nr) {
    const uint64_t r0 = env->call_subprogram(env, size_t(slot), i, ctx, 0, 0, 0);
    ++i;
    if (env->abort) return 0;
    if (r0 == 1) break;
  }
  return i;
}

uint64_t test_stop(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv* env) {
  env->abort = true;
  return 0;
}

const core::HelperTable& helpers() {
  static const core::HelperTable table = [] {
    core::HelperTable t;
    t.add({kLoop, "test_loop", {}, test_loop});
    t.add({kStop, "test_stop", {}, test_stop});
    return t;
  }();
  return table;
}

using test_support::call_with_stack_ctx;
Program load(std::string_view text) { return test_support::callback_program(text); }

struct Mode {
  bool jit;
  bool checked;
};

std::string mode_name(const testing::TestParamInfo<Mode>& info) {
  return std::string(info.param.jit ? "Jit" : "Interpreter") + (info.param.checked ? "Checked" : "Unchecked");
}

class CallbackTest : public testing::TestWithParam<Mode> {
 protected:
  std::unique_ptr<Engine> engine(const Program& p, uint64_t budget = 100'000'000) const {
    const EngineOptions o{GetParam().checked, budget};
    return GetParam().jit ? make_jit(p, o) : make_interpreter(p, o);
  }
  uint64_t run(std::string_view text, uint64_t r1 = 0, uint64_t budget = 100'000'000) const {
    core::ExecEnv env;
    env.helpers = &helpers();
    return engine(load(text), budget)->run(r1, 0, env);
  }
  // The error a run stops with ("" when it does not), checked on the other engine too.
  std::string error(std::string_view text, uint64_t r1 = 0, uint64_t budget = 100'000'000) const {
    std::string what[2];
    for (bool jit : {false, true}) {
      core::ExecEnv env;
      env.helpers = &helpers();
      const EngineOptions o{GetParam().checked, budget};
      const Program p = load(text);
      auto e = jit ? make_jit(p, o) : make_interpreter(p, o);
      try {
        e->run(r1, 0, env);
      } catch (const RuntimeError& err) {
        what[jit] = err.what();
      }
      EXPECT_EQ(env.call_subprogram, nullptr) << "the run must put back what it found";
    }
    EXPECT_EQ(what[0], what[1]) << "interpreter and JIT disagree";
    return what[GetParam().jit];
  }
};

// Sums 0..9 into the caller's stack through the ctx pointer; r6-r9 survive the callbacks
// that clobber theirs, and the loop count comes back in r0.
constexpr std::string_view kSum = R"(
    r6 = 6
    r7 = 7
    r8 = 8
    r9 = 9
    *(u64 *)(r10 - 8) = 0
    r1 = 10
    r2 = func(cb) ll
    r3 = r10
    r3 += -8
    r4 = 0
    call 2000
    r1 = *(u64 *)(r10 - 8)
    r1 *= 1000
    r0 += r1
    r6 *= 10
    r0 += r6
    r7 *= 100
    r0 += r7
    r8 *= 1000000
    r0 += r8
    r9 *= 100000000
    r0 += r9
    exit
cb:
    r3 = *(u64 *)(r2 + 0)
    r3 += r1
    *(u64 *)(r2 + 0) = r3
    r6 = 0
    r7 = 0
    r8 = 0
    r9 = 0
    r0 = 0
    exit
)";

TEST_P(CallbackTest, LoopSumsIntoCallerStackAndKeepsR6ToR9) {
  EXPECT_EQ(run(kSum), 10u + 45u * 1000 + 60 + 700 + 8'000'000 + 900'000'000);
}

TEST_P(CallbackTest, CallbackReturningOneStopsTheLoop) {
  // The callback counts calls and stops at i == 3: four calls.
  EXPECT_EQ(run(call_with_stack_ctx(kLoop, "100", 8) + R"(
cb:
    r3 = *(u64 *)(r2 + 0)
    r3 += 1
    *(u64 *)(r2 + 0) = r3
    r0 = 0
    if r1 != 3 goto out
    r0 = 1
out:
    exit
)"),
            (4u << 8) | 4u);
}

TEST_P(CallbackTest, CallbackFrameIsOneBelowItsCaller) {
  // The callback stores its r10 and its own stack works; main's r10 minus it is 512, and
  // 1024 when the loop is called from a bpf-to-bpf callee.
  constexpr std::string_view kFromMain = R"(
    r1 = 1
    r2 = func(cb) ll
    r3 = r10
    r3 += -8
    r4 = 0
    call 2000
    r0 = r10
    r1 = *(u64 *)(r10 - 8)
    r0 -= r1
    exit
cb:
    *(u64 *)(r10 - 8) = r10
    r3 = *(u64 *)(r10 - 8)
    *(u64 *)(r2 + 0) = r3
    r0 = 0
    exit
)";
  EXPECT_EQ(run(kFromMain), 512u);
  constexpr std::string_view kFromCallee = R"(
    r1 = r10
    r1 += -8
    call sub
    r0 = r10
    r1 = *(u64 *)(r10 - 8)
    r0 -= r1
    exit
sub:
    r3 = r1
    r1 = 1
    r2 = func(cb) ll
    r4 = 0
    call 2000
    exit
cb:
    *(u64 *)(r2 + 0) = r10
    r0 = 0
    exit
)";
  EXPECT_EQ(run(kFromCallee), 1024u);
}

TEST_P(CallbackTest, CallbackStartsWithZeroedR0AndR6ToR9) {
  if (!GetParam().checked) GTEST_SKIP() << "only checked mode promises zeroed registers";
  EXPECT_EQ(run(R"(
    r6 = 1
    r7 = 2
    r8 = 3
    r9 = 4
    r0 = 5
    *(u64 *)(r10 - 8) = 77
    r1 = 1
    r2 = func(cb) ll
    r3 = r10
    r3 += -8
    r4 = 0
    call 2000
    r0 = *(u64 *)(r10 - 8)
    exit
cb:
    r1 = r0
    r1 |= r6
    r1 |= r7
    r1 |= r8
    r1 |= r9
    *(u64 *)(r2 + 0) = r1
    r0 = 0
    exit
)"),
            0u);
}

// loop(3, outer) where outer(i) runs loop(4, inner) and inner(j) adds 10 * i + j (i read
// back from the outer callback's stack through a second pointer).
TEST_P(CallbackTest, NestedCallbacks) {
  EXPECT_EQ(run(call_with_stack_ctx(kLoop, "3", 16, "outer") + R"(
outer:
    *(u64 *)(r10 - 16) = r2
    *(u64 *)(r10 - 8) = r1
    r1 = 4
    r2 = func(inner) ll
    r3 = r10
    r3 += -16
    r4 = 0
    call 2000
    r0 = 0
    exit
inner:
    r3 = *(u64 *)(r2 + 8)
    r3 *= 10
    r3 += r1
    r4 = *(u64 *)(r2 + 0)
    r5 = *(u64 *)(r4 + 0)
    r5 += r3
    *(u64 *)(r4 + 0) = r5
    r0 = 0
    exit
)"),
            // sum over i < 3, j < 4 of 10i + j = 4 * 10 * 3 + 3 * 6
            (3u << 16) | 138u);
}

// cb nests itself through loop(1, cb) until a counter at ctx reaches the limit in `limit`
// (kept at ctx + 8). From main (depth 0) callbacks run at depths 1, 2, ...; from a
// bpf-to-bpf callee they start at depth 2.
std::string recursion(const std::string& limit) {
  return R"(
    *(u64 *)(r10 - 16) = 0
    *(u64 *)(r10 - 8) = )" + limit + R"(
    r1 = 1
    r2 = func(cb) ll
    r3 = r10
    r3 += -16
    r4 = 0
    call 2000
    r0 = *(u64 *)(r10 - 16)
    exit
cb:
    r3 = *(u64 *)(r2 + 0)
    r3 += 1
    *(u64 *)(r2 + 0) = r3
    r4 = *(u64 *)(r2 + 8)
    r0 = 0
    if r3 >= r4 goto out
    r3 = r2
    r1 = 1
    r2 = func(cb) ll
    r4 = 0
    call 2000
    r0 = 0
out:
    exit
)";
}

TEST_P(CallbackTest, DepthLimitCountsCallbackFrames) {
  const std::string recurse = recursion("r1");
  EXPECT_EQ(run(recurse, 7), 7u);  // the 8th frame
  const std::string what = error(recurse, 8);
  // The 8th callback asks for a 9th frame: the run fails at its helper call (slot 22).
  EXPECT_NE(what.find("instruction 22: call stack overflow"), std::string::npos) << what;
}

TEST_P(CallbackTest, DepthLimitFromBpfToBpfCallee) {
  const std::string via_callee = "    r6 = r1\n    call sub\n    exit\nsub:" + recursion("r6");
  EXPECT_EQ(run(via_callee, 6), 6u);
  EXPECT_NE(error(via_callee, 7).find("call stack overflow"), std::string::npos);
}

TEST_P(CallbackTest, BudgetRunsOutInsideCallback) {
  if (!GetParam().checked) GTEST_SKIP() << "the budget is a checked-mode limit";
  constexpr std::string_view kSpin = R"(
    r1 = 1
    r2 = func(cb) ll
    r3 = 0
    r4 = 0
    call 2000
    exit
cb:
    r0 = 0
spin:
    goto spin
)";
  const std::string what = error(kSpin, 0, 1000);
  EXPECT_NE(what.find("instruction 8: instruction budget of 1000 exhausted"), std::string::npos) << what;
}

TEST_P(CallbackTest, BudgetIsSharedWithTheRun) {
  if (!GetParam().checked) GTEST_SKIP() << "the budget is a checked-mode limit";
  // Each callback call costs 1 and spends nothing else: 10 calls fit in 12 (with the
  // helper call), 1000 do not, although no single callback runs long.
  constexpr std::string_view kMany = R"(
    r2 = func(cb) ll
    r3 = 0
    r4 = 0
    call 2000
    exit
cb:
    r0 = 0
    exit
)";
  EXPECT_EQ(run(kMany, 10, 12), 10u);
  const std::string what = error(kMany, 1000, 12);
  EXPECT_NE(what.find("instruction 4: instruction budget of 12 exhausted"), std::string::npos) << what;
}

TEST_P(CallbackTest, SlotThatStartsNoSubprogramFails) {
  for (uint64_t slot : {uint64_t(3), uint64_t(1) << 40}) {
    const std::string text = "r1 = 1\nr2 = " + std::to_string(slot) + " ll\nr3 = 0\nr4 = 0\ncall 2000\nexit\n";
    const std::string what = error(text);
    EXPECT_EQ(what, "instruction 5: callback slot " + std::to_string(slot) + " is not the start of a subprogram");
  }
  // Slot 0 is the entry point, no subprogram.
  EXPECT_NE(error("r1 = 1\nr2 = 0\nr3 = 0\nr4 = 0\ncall 2000\nexit\n").find("callback slot 0 is not"),
            std::string::npos);
}

TEST_P(CallbackTest, BpfToBpfCallTargetIsACallbackToo) {
  // sub is only known as a call target; the loop calls it by its slot (8).
  EXPECT_EQ(run(R"(
    r1 = 5
    call sub
    r1 = 4
    r2 = 8
    r3 = 0
    r4 = 0
    call 2000
    exit
sub:
    r0 = 0
    exit
)"),
            4u);
}

TEST_P(CallbackTest, BadAccessInCallbackNamesItsInstruction) {
  constexpr std::string_view kBad = R"(
    r1 = 2
    r2 = func(cb) ll
    r3 = 0
    r4 = 0
    call 2000
    r0 = 1
    exit
cb:
    r0 = *(u64 *)(r2 + 0)
    exit
)";
  if (!GetParam().checked) GTEST_SKIP() << "unchecked runs do not check accesses";
  const std::string what = error(kBad);
  EXPECT_NE(what.find("instruction 8: load of 8 bytes at r2 (0x0) is outside"), std::string::npos) << what;
}

TEST_P(CallbackTest, AbortInsideCallbackStopsTheRunWithZero) {
  EXPECT_EQ(run(R"(
    r1 = 5
    r2 = func(cb) ll
    r3 = 0
    r4 = 0
    call 2000
    r0 = 7
    exit
cb:
    call 2001
    r0 = 9
    exit
)"),
            0u);
}

TEST_P(CallbackTest, RunRestoresTheEnvironmentsCallback) {
  core::ExecEnv env;
  env.helpers = &helpers();
  int marker = 0;
  env.engine = &marker;
  engine(load(kSum))->run(0, 0, env);
  EXPECT_EQ(env.engine, &marker);
  EXPECT_EQ(env.call_subprogram, nullptr);
}

INSTANTIATE_TEST_SUITE_P(Engines, CallbackTest,
                         testing::Values(Mode{false, true}, Mode{false, false}, Mode{true, true},
                                         Mode{true, false}),
                         mode_name);

TEST(CallbackProgram, CallbackStartMustBeAnInstruction) {
  const std::vector<isa::RawInsn> raw = isa::assemble("r0 = 1 ll\nexit\n");
  EXPECT_THROW(Program(raw, {1}), isa::DecodeError);  // the lddw's second slot
  EXPECT_THROW(Program(raw, {3}), isa::DecodeError);
  EXPECT_EQ(Program(raw, {2}).subprograms(), std::vector<uint32_t>{2});
}

}  // namespace
}  // namespace bpfkit::vm
