// bpf-to-bpf calls and their frames, helper calls, abort, the checked mode's
// budget, and the errors a run can stop with.
#include <unistd.h>

#include "interpreter_test_util.h"

namespace bpfkit::interp_test {
namespace {

class FrameTest : public BothModes {};

TEST_P(FrameTest, CallPreservesR6ToR9) {
  const std::vector<Instruction> p = {
      mov(6, 6), mov(7, 7), mov(8, 8), mov(9, 9),
      call_local(7),  // slot 4 -> slot 12
      movr(1, 0), alu(AluOp::Add, true, 1, Operand::Reg(6)), alu(AluOp::Add, true, 1, Operand::Reg(7)),
      alu(AluOp::Add, true, 1, Operand::Reg(8)), alu(AluOp::Add, true, 1, Operand::Reg(9)), movr(0, 1),
      exit_insn(),
      // callee: clobbers r6-r9
      mov(6, 100), mov(7, 100), mov(8, 100), mov(9, 100), mov(0, 1000), exit_insn()};
  EXPECT_EQ(run(p, checked()), 1030u);
}

TEST_P(FrameTest, ArgumentsPassInR1ToR5) {
  const std::vector<Instruction> p = {
      mov(1, 1), mov(2, 2), mov(3, 3), mov(4, 4), mov(5, 5), call_local(1), exit_insn(),
      // callee: r0 = r1 + r2 * r3 - r4 + r5
      movr(0, 2), alu(AluOp::Mul, true, 0, Operand::Reg(3)), alu(AluOp::Add, true, 0, Operand::Reg(1)),
      alu(AluOp::Sub, true, 0, Operand::Reg(4)), alu(AluOp::Add, true, 0, Operand::Reg(5)), exit_insn()};
  EXPECT_EQ(run(p, checked()), 8u);
}

TEST_P(FrameTest, CalleeFrameIs512BytesBelow) {
  const std::vector<Instruction> p = {movr(6, 10), call_local(3), alu(AluOp::Sub, true, 6, Operand::Reg(0)),
                                      movr(0, 6), exit_insn(),
                                      // callee returns its r10
                                      movr(0, 10), exit_insn()};
  EXPECT_EQ(run(p, checked()), 512u);
}

TEST_P(FrameTest, R10IsRestoredAfterReturn) {
  const std::vector<Instruction> p = {movr(6, 10), call_local(2), alu(AluOp::Sub, true, 6, Operand::Reg(10)),
                                      movr(0, 6),  exit_insn(),   mov(0, 0),
                                      exit_insn()};
  // call_local(2) from slot 1 lands on slot 4, the caller's exit: the callee returns at once.
  EXPECT_EQ(run(p, checked()), 0u);
}

TEST_P(FrameTest, CalleeReadsAndWritesCallerStack) {
  // Caller stores 40 at r10-8 and passes its address; callee adds 2 through the pointer.
  const std::vector<Instruction> p = {
      st(8, 10, -8, 40), movr(1, 10), alu(AluOp::Add, true, 1, Operand::Imm(-8)), call_local(2),
      ldx(8, 0, 10, -8), exit_insn(),
      // callee
      ldx(8, 2, 1, 0), alu(AluOp::Add, true, 2, Operand::Imm(2)), stx(8, 1, 0, 2), exit_insn()};
  EXPECT_EQ(run(p, checked()), 42u);
}

// f(n) = n == 0 ? 0 : 1 + f(n - 1), called from the entry frame with r1 = n.
std::vector<Instruction> recursion(int32_t n) {
  return {mov(1, n), call_local(1), exit_insn(),
          // f at slot 3
          jmp(JmpCond::Ne, 1, Operand::Imm(0), 2), mov(0, 0), exit_insn(),
          alu(AluOp::Sub, true, 1, Operand::Imm(1)), call_local(-5),
          alu(AluOp::Add, true, 0, Operand::Imm(1)), exit_insn()};
}

TEST_P(FrameTest, EightFramesAreAllowed) { EXPECT_EQ(run(recursion(6), checked()), 6u); }

TEST_P(FrameTest, NinthFrameFails) {
  EXPECT_EQ(run_error(recursion(7), checked()),
            "instruction 7: call stack overflow: this call would need a frame beyond the limit of 8 frames");
}

TEST_P(FrameTest, EveryFrameHasItsOwnStack) {
  // Each level stores n at r10-8, recurses, then reads it back: 6+5+...+0 = 21 if frames do not overlap.
  const std::vector<Instruction> p = {mov(1, 6), call_local(1), exit_insn(),
                                      // g at slot 3
                                      stx(8, 10, -8, 1), mov(0, 0), jmp(JmpCond::Eq, 1, Operand::Imm(0), 2),
                                      alu(AluOp::Sub, true, 1, Operand::Imm(1)), call_local(-5),
                                      ldx(8, 2, 10, -8), alu(AluOp::Add, true, 0, Operand::Reg(2)),
                                      exit_insn()};
  EXPECT_EQ(run(p, checked()), 21u);
}

INSTANTIATE_TEST_SUITE_P(Interpreter, FrameTest, ::testing::Bool());

TEST(CheckedFrameTest, CalleeCannotGoBelowItsFrame) {
  const std::string msg = run_error({call_local(1), exit_insn(), st(8, 10, -520, 1), exit_insn()}, true);
  EXPECT_TRUE(msg.starts_with("instruction 2: store of 8 bytes at r10-520 (0x")) << msg;
}

TEST(CheckedFrameTest, CallerCannotTouchAFinishedFrame) {
  // After the callee returns its frame is gone: r10-520 is outside again.
  const std::string msg =
      run_error({call_local(2), st(8, 10, -520, 1), exit_insn(), st(8, 10, -8, 1), exit_insn()}, true);
  EXPECT_TRUE(msg.starts_with("instruction 1: store of 8 bytes at r10-520 (0x")) << msg;
}

uint64_t weighted_sum(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, core::ExecEnv*) {
  return r1 + 2 * r2 + 3 * r3 + 4 * r4 + 5 * r5;
}
uint64_t stopper(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv* env) {
  env->abort = true;
  if (r1) env->abort_reason = "stopped by the test helper";
  return 99;
}
uint64_t count_regions(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv* env) {
  return env->regions.size();
}

const core::HelperTable& test_helpers() {
  static const core::HelperTable table = [] {
    core::HelperTable t = core::HelperTable::standard();
    t.add({1000, "test_weighted_sum", {}, weighted_sum});
    t.add({1001, "test_stopper", {}, stopper});
    t.add({1002, "test_unimplemented", {}, nullptr});
    t.add({1003, "test_count_regions", {}, count_regions});
    return t;
  }();
  return table;
}

class HelperTest : public BothModes {
 protected:
  HelperTest() { env.helpers = &test_helpers(); }
  uint64_t go(const std::vector<Instruction>& p) { return run(p, checked(), 0, 0, &env); }
  std::string fails(const std::vector<Instruction>& p) { return run_error(p, checked(), 0, 0, &env); }
  core::ExecEnv env;
};

TEST_P(HelperTest, CallPassesR1ToR5AndEnv) {
  EXPECT_EQ(go({mov(1, 1), mov(2, 2), mov(3, 3), mov(4, 4), mov(5, 5), call_helper(1000), exit_insn()}), 55u);
  env.allow(0x1000, 8, true);
  env.allow(0x2000, 8, true);
  EXPECT_EQ(go({call_helper(1003), exit_insn()}), 2u);
}

TEST_P(HelperTest, HelperCallKeepsR6ToR9) {
  EXPECT_EQ(go({mov(6, 6), mov(9, 9), call_helper(1000), alu(AluOp::Add, true, 6, Operand::Reg(9)),
                movr(0, 6), exit_insn()}),
            15u);
}

TEST_P(HelperTest, CallxCallsTheHelperInTheRegister) {
  EXPECT_EQ(go({mov(1, 10), mov(3, 1000), CallX{3}, exit_insn()}), 10u + 3 * 1000);
}

TEST_P(HelperTest, StandardHelper) {
  const uint64_t expect = (uint64_t(getpid()) << 32) | uint32_t(gettid());
  EXPECT_EQ(go({call_helper(BPF_FUNC_get_current_pid_tgid), exit_insn()}), expect);
}

TEST_P(HelperTest, UnknownHelper) {
  EXPECT_EQ(fails({mov(0, 0), call_helper(4242), exit_insn()}),
            "instruction 1: call: unknown helper function 4242");
  EXPECT_EQ(fails({call_helper(-3), exit_insn()}), "instruction 0: call: unknown helper function -3");
  EXPECT_EQ(fails({mov(1, 0), mov(3, 4242), CallX{3}, exit_insn()}),
            "instruction 2: callx r3: unknown helper function 4242");
  EXPECT_EQ(fails({lddw(3, 0x100000005ull), CallX{3}, exit_insn()}),
            "instruction 2: callx r3: unknown helper function 4294967301");
}

TEST_P(HelperTest, HelperWithoutImplementation) {
  EXPECT_EQ(fails({call_helper(1002), exit_insn()}),
            "instruction 0: call: helper 1002 (test_unimplemented) has no implementation");
}

TEST_P(HelperTest, AbortStopsWithZero) {
  // After the aborting call nothing runs: r0 stays 0 although the helper returned 99.
  EXPECT_EQ(go({mov(1, 0), call_helper(1001), mov(0, 5), exit_insn()}), 0u);
  EXPECT_TRUE(env.abort);
}

TEST_P(HelperTest, AbortWithReasonFails) {
  EXPECT_EQ(fails({mov(1, 1), call_helper(1001), mov(0, 5), exit_insn()}),
            "instruction 1: stopped by the test helper");
}

TEST_P(HelperTest, AbortInsideASubprogram) {
  EXPECT_EQ(go({mov(0, 3), call_local(1), exit_insn(), mov(1, 0), call_helper(1001), mov(0, 7), exit_insn()}),
            0u);
}

INSTANTIATE_TEST_SUITE_P(Interpreter, HelperTest, ::testing::Bool());

uint64_t returns_one(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv*) { return 1; }
uint64_t returns_two(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv*) { return 2; }

TEST_P(HelperTest, OneEngineFollowsTheTableOfEachRun) {
  // Helper calls are resolved once per table generation; a run with another
  // table, or with a table changed since, must see that table's helpers.
  auto engine = vm::make_interpreter(program_of({call_helper(2000), exit_insn()}), {checked(), 1000});
  core::HelperTable a, b;
  a.add({2000, "one", {}, returns_one});
  b.add({2000, "two", {}, returns_two});
  core::ExecEnv env_a, env_b;
  env_a.helpers = &a;
  env_b.helpers = &b;
  EXPECT_EQ(engine->run(0, 0, env_a), 1u);
  EXPECT_EQ(engine->run(0, 0, env_b), 2u);
  EXPECT_EQ(engine->run(0, 0, env_a), 1u);
  a.add({2000, "two", {}, returns_two});
  EXPECT_EQ(engine->run(0, 0, env_a), 2u);
  core::HelperTable empty;
  core::ExecEnv env_empty;
  env_empty.helpers = &empty;
  EXPECT_THROW(engine->run(0, 0, env_empty), vm::RuntimeError);
  // Many tables: past the cache's limit every call looks its helper up.
  for (int i = 0; i < 40; ++i) {
    core::HelperTable t;
    t.add({2000, "n", {}, i % 2 ? returns_one : returns_two});
    core::ExecEnv e;
    e.helpers = &t;
    EXPECT_EQ(engine->run(0, 0, e), i % 2 ? 1u : 2u);
  }
}

// r0 = 0; r1 = 10; loop: r0 += r1; r1 -= 1; if r1 != 0 goto loop; exit: 9 backward jumps.
const std::vector<Instruction> kTenIterations = {mov(0, 0),
                                                 mov(1, 10),
                                                 alu(AluOp::Add, true, 0, Operand::Reg(1)),
                                                 alu(AluOp::Sub, true, 1, Operand::Imm(1)),
                                                 jmp(JmpCond::Ne, 1, Operand::Imm(0), -3),
                                                 exit_insn()};

TEST(BudgetTest, InfiniteLoopIsStopped) {
  EXPECT_EQ(
      run_error({mov(0, 0), ja(-1), exit_insn()}, true, 0, 0, nullptr, 1000),
      "instruction 1: instruction budget of 1000 exhausted: the program may not terminate (the budget counts "
      "backward jumps and calls)");
}

TEST(BudgetTest, CountsExactlyTheBackwardJumps) {
  EXPECT_EQ(run(kTenIterations, true, 0, 0, nullptr, 9), 55u);
  EXPECT_EQ(
      run_error(kTenIterations, true, 0, 0, nullptr, 8).rfind("instruction 4: instruction budget of 8", 0),
      0u);
}

TEST(BudgetTest, ForwardJumpsAreFree) {
  EXPECT_EQ(run({mov(0, 1), ja(0), ja(0), jmp(JmpCond::Eq, 0, Operand::Imm(1), 0), exit_insn()}, true, 0, 0,
                nullptr, 0),
            1u);
}

TEST(BudgetTest, CallsCount) {
  EXPECT_EQ(run_error({call_local(1), exit_insn(), exit_insn()}, true, 0, 0, nullptr, 0)
                .rfind("instruction 0: ", 0),
            0u);
  EXPECT_EQ(run({call_local(1), exit_insn(), exit_insn()}, true, 0, 0, nullptr, 1), 0u);
  EXPECT_NE(run_error({call_helper(BPF_FUNC_ktime_get_ns), exit_insn()}, true, 0, 0, nullptr, 0), "no error");
}

TEST(BudgetTest, UncheckedModeHasNoBudget) { EXPECT_EQ(run(kTenIterations, false, 0, 0, nullptr, 1), 55u); }

class RunErrorTest : public BothModes {};

TEST_P(RunErrorTest, FallingOffTheEnd) {
  EXPECT_EQ(run_error({mov(0, 1)}, checked()),
            "instruction 1: execution ran past the last instruction of the program");
  EXPECT_EQ(run_error({mov(0, 1), exit_insn(), lddw(0, 1)}, checked()), "no error");
  EXPECT_EQ(run_error({mov(0, 1), ja(1), exit_insn(), lddw(0, 1)}, checked()),
            "instruction 5: execution ran past the last instruction of the program");
}

TEST_P(RunErrorTest, PseudoLddwNeedsALoader) {
  EXPECT_EQ(run_error({LoadImm64{1, Pseudo::MapFd, 3, 0}, exit_insn()}, checked()),
            "instruction 0: lddw with pseudo source 1 needs a loader (map fd)");
  EXPECT_EQ(run_error({mov(0, 0), LoadImm64{1, Pseudo::MapIdxValue, 0, 8}, exit_insn()}, checked()),
            "instruction 1: lddw with pseudo source 6 needs a loader (map index value)");
  // Only when it runs.
  EXPECT_EQ(run_error({mov(0, 0), exit_insn(), LoadImm64{1, Pseudo::MapFd, 3, 0}, exit_insn()}, checked()),
            "no error");
}

TEST_P(RunErrorTest, LegacyPacketLoad) {
  EXPECT_EQ(run_error({mov(6, 0), PacketLoad{4, false, 0, 12}, exit_insn()}, checked()),
            "instruction 1: legacy packet load (ld_abs/ld_ind) needs a socket filter context");
}

TEST_P(RunErrorTest, Kfunc) {
  EXPECT_EQ(
      run_error({Call{CallKind::Kfunc, 77}, exit_insn()}, checked()),
      "instruction 0: call to the kernel function with BTF id 77: kfuncs exist only on the Linux target");
}

TEST_P(RunErrorTest, R10IsReadOnly) {
  auto make_error = [&](const std::vector<Instruction>& p) -> std::string {
    try {
      uint64_t stack[8] = {};
      core::ExecEnv env;
      env.allow(reinterpret_cast<uint64_t>(stack), sizeof stack, true);
      vm::make_interpreter(program_of(p), {checked(), 1000})->run(reinterpret_cast<uint64_t>(stack), 0, env);
    } catch (const vm::RuntimeError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(make_error({mov(10, 0), exit_insn()}),
            "instruction 0: r10 is the read-only frame pointer and cannot be written");
  EXPECT_EQ(make_error({mov(0, 0), ldx(8, 10, 10, -8), exit_insn()}),
            "instruction 1: r10 is the read-only frame pointer and cannot be written");
  EXPECT_EQ(make_error({mov(0, 0), Atomic{AtomicOp::Xchg, true, 8, 10, -8, 10}, exit_insn()}),
            "instruction 1: r10 is the read-only frame pointer and cannot be written");
  // Reading r10, storing through it and atomics without fetch are fine.
  EXPECT_EQ(
      make_error({movr(0, 10), stx(8, 10, -8, 10), Atomic{AtomicOp::Add, false, 8, 10, -8, 10}, exit_insn()}),
      "no error");
  // A write no path reaches is dead code, as for the kernel: it fails only when run.
  EXPECT_EQ(make_error({mov(0, 7), ja(1), mov(10, 0), exit_insn()}), "no error");
}

TEST_P(RunErrorTest, EngineRunsManyTimes) {
  auto engine = vm::make_interpreter(program_of(kTenIterations), {checked(), 1000});
  core::ExecEnv env;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(engine->run(0, 0, env), 55u);
}

INSTANTIATE_TEST_SUITE_P(Interpreter, RunErrorTest, ::testing::Bool());

}  // namespace
}  // namespace bpfkit::interp_test
