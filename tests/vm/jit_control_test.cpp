// JIT control flow: conditional jumps on every register pair, loops and the
// checked-mode budget, bpf-to-bpf calls and their frames, helpers, callx,
// env.abort and the run-time errors (with the interpreter's wording).
#include <unistd.h>

#include <random>

#include "jit_test_util.h"
#include "vm/semantics.h"

namespace bpfkit::jit_test {
namespace {

const JmpCond kConds[] = {JmpCond::Eq,  JmpCond::Gt, JmpCond::Ge, JmpCond::Set, JmpCond::Ne, JmpCond::Sgt,
                          JmpCond::Sge, JmpCond::Lt, JmpCond::Le, JmpCond::Slt, JmpCond::Sle};

// clang-format off
const uint64_t kValues[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x1ffffffff,
    0x7fffffffffffffff, 0x8000000000000000, 0xffffffff00000000, 0xfffffffffffffffe, 0xffffffffffffffff
};
// clang-format on

const int32_t kImms[] = {0, 1, -1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fffffff, INT32_MIN, -2, -0x80, 0x12345678};

std::array<uint64_t, 10> random_registers(std::mt19937_64& rng) {
  std::array<uint64_t, 10> r;
  for (auto& v : r) v = rng();
  return r;
}

uint64_t pick(std::mt19937_64& rng) {
  const uint64_t v = kValues[rng() % std::size(kValues)];
  return rng() % 8 == 0 ? rng() : v;
}

// The body sets the flag only when the jump is not taken.
Snapshot expected_jump(const std::array<uint64_t, 10>& init, bool taken) {
  Snapshot s;
  std::copy(init.begin(), init.end(), s.v.begin());
  s.v[10] = taken ? 0 : 1;
  return s;
}

TEST(JitJump, RegisterOperandsOnEveryRegisterPair) {
  std::mt19937_64 rng(20);
  for (JmpCond cond : kConds)
    for (bool is32 : {false, true})
      for (uint8_t dst = 0; dst < 10; ++dst)
        for (uint8_t src = 0; src < 10; ++src)
          for (int k = 0; k < 3; ++k) {
            std::array<uint64_t, 10> init = random_registers(rng);
            init[dst] = pick(rng);
            if (src != dst) init[src] = k == 0 ? init[dst] : pick(rng);  // equal operands too
            const bool taken = vm::sem::jump_taken(cond, is32, init[dst], init[src]);
            RunConfig c;
            c.checked = k != 1;
            ASSERT_EQ(run_snapshot({jmp(cond, dst, Operand::Reg(src), 1, is32), st(8, 10, -88, 1)}, init, c),
                      expected_jump(init, taken))
                << "cond " << int(cond) << (is32 ? " 32" : " 64") << " r" << int(dst) << ", r" << int(src);
          }
}

TEST(JitJump, ImmediateOperandsOnEveryRegister) {
  std::mt19937_64 rng(21);
  for (JmpCond cond : kConds)
    for (bool is32 : {false, true})
      for (uint8_t dst = 0; dst < 10; ++dst)
        for (int32_t imm : kImms)
          for (int k = 0; k < 2; ++k) {
            std::array<uint64_t, 10> init = random_registers(rng);
            init[dst] = k == 0 ? uint64_t(int64_t(imm)) ^ (rng() % 2 ? 0 : 0xffffffff00000000) : pick(rng);
            const bool taken =
                vm::sem::jump_taken(cond, is32, init[dst], is32 ? uint32_t(imm) : vm::sem::imm64(imm));
            ASSERT_EQ(run_snapshot({jmp(cond, dst, Operand::Imm(imm), 1, is32), st(8, 10, -88, 1)}, init),
                      expected_jump(init, taken))
                << "cond " << int(cond) << (is32 ? " 32" : " 64") << " r" << int(dst) << "=0x" << std::hex
                << init[dst] << ", " << std::dec << imm;
          }
}

TEST(JitJump, HandWrittenComparisons) {
  struct Case {
    JmpCond cond;
    bool is32;
    uint64_t a, b;
    bool taken;
  };
  const Case cases[] = {
      {JmpCond::Gt, false, 0xffffffffffffffff, 1, true},
      {JmpCond::Sgt, false, 0xffffffffffffffff, 1, false},
      {JmpCond::Gt, true, 0x100000000, 1, false},
      {JmpCond::Eq, true, 0xabcd00000005, 5, true},
      {JmpCond::Slt, true, 0x80000000, 0, true},
      {JmpCond::Slt, false, 0x80000000, 0, false},
      {JmpCond::Set, false, 0x100000000, 0x100000000, true},
      {JmpCond::Set, true, 0x100000000, 0x100000000, false},
      {JmpCond::Le, false, 5, 5, true},
      {JmpCond::Lt, false, 5, 5, false},
      {JmpCond::Sge, true, 0xffffffff, 0xfffffffe, true},
      {JmpCond::Sle, false, 0x8000000000000000, 0, true},
  };
  for (const Case& c : cases) {
    const std::vector<Instruction> p = {lddw(1, c.a), lddw(2, c.b),
                                        mov(0, 1),    jmp(c.cond, 1, Operand::Reg(2), 1, c.is32),
                                        mov(0, 0),    exit_insn()};
    EXPECT_EQ(run_jit(p), c.taken ? 1u : 0u) << int(c.cond) << " 0x" << std::hex << c.a << " 0x" << c.b;
  }
}

// r0 = 1 + 2 + ... + n with a backward conditional jump.
std::vector<Instruction> sum_loop(int32_t n) {
  return {mov(0, 0),
          mov(1, n),
          alu(AluOp::Add, true, 0, Operand::Reg(1)),  // 2: loop
          alu(AluOp::Sub, true, 1, Operand::Imm(1)),
          jmp(JmpCond::Ne, 1, Operand::Imm(0), -3),  // 4: back to 2
          exit_insn()};
}

TEST(JitJump, LoopsAndTheBudget) {
  for (bool checked : {true, false}) {
    RunConfig c;
    c.checked = checked;
    EXPECT_EQ(run_jit(sum_loop(1000), c), 500500u);
    EXPECT_EQ(run_jit(sum_loop(1), c), 1u);
  }
  // 1000 iterations take 999 backward jumps: a budget of 999 suffices, 998 does not.
  RunConfig c;
  c.budget = 999;
  EXPECT_EQ(run_jit(sum_loop(1000), c), 500500u);
  c.budget = 998;
  const std::string want =
      "instruction 4: instruction budget of 998 exhausted: the program may not terminate (the budget counts "
      "backward jumps and calls)";
  EXPECT_EQ(jit_error(sum_loop(1000), c), want);
  EXPECT_EQ(interp_error(sum_loop(1000), c), want);
  // An endless loop (ja -1) stops; unconditional backward jumps count too.
  c.budget = 1000;
  EXPECT_EQ(jit_error({mov(0, 0), ja(-1)}, c),
            "instruction 1: instruction budget of 1000 exhausted: the program may not terminate (the budget "
            "counts backward jumps and calls)");
  // Forward jumps are free.
  c.budget = 0;
  EXPECT_EQ(
      run_jit({mov(0, 3), ja(1), mov(0, 4), jmp(JmpCond::Eq, 0, Operand::Imm(3), 1), mov(0, 5), exit_insn()},
              c),
      3u);
}

TEST(JitJump, WideJaAndJumpsToTheNextInstruction) {
  EXPECT_EQ(run_jit({mov(0, 1), Ja{1, true}, mov(0, 2), exit_insn()}), 1u);
  EXPECT_EQ(run_jit({mov(0, 1), ja(0), jmp(JmpCond::Eq, 0, Operand::Imm(1), 0), exit_insn()}), 1u);
  // Jumps over many instructions (rel32 encodings).
  std::vector<Instruction> far = {mov(0, 0), jmp(JmpCond::Eq, 0, Operand::Imm(0), 300)};
  for (int i = 0; i < 300; ++i) far.push_back(alu(AluOp::Add, true, 0, Operand::Imm(1)));
  far.push_back(alu(AluOp::Add, true, 0, Operand::Imm(1000)));
  far.push_back(jmp(JmpCond::Lt, 0, Operand::Imm(2000), -302));
  far.push_back(exit_insn());
  EXPECT_EQ(run_jit(far), 2000u + 300u);
  EXPECT_EQ(run_interp(far), 2000u + 300u);
}

TEST(JitEntry, CheckedRunsStartWithZeroedRegisters) {
  // An unverified program may read registers it never wrote: it sees 0, as in the interpreter.
  for (uint8_t r : {0, 3, 4, 5, 6, 7, 8, 9}) {
    const std::vector<Instruction> p = {movr(0, r), exit_insn()};
    EXPECT_EQ(run_jit(p, {.r1 = 11, .r2 = 22}), 0u) << "r" << int(r);
    EXPECT_EQ(run_interp(p, {.r1 = 11, .r2 = 22}), 0u) << "r" << int(r);
  }
  EXPECT_EQ(run_jit({exit_insn()}), 0u);
  EXPECT_EQ(
      run_jit({movr(0, 1), alu(AluOp::Add, true, 0, Operand::Reg(2)), exit_insn()}, {.r1 = 11, .r2 = 22}),
      33u);
  // In a callee too (r6-r9 come from the caller, still 0).
  EXPECT_EQ(run_jit({call_local(1), exit_insn(), movr(0, 7), alu(AluOp::Add, true, 0, Operand::Reg(9)),
                     exit_insn()}),
            0u);
}

// --- bpf-to-bpf calls ---

TEST(JitCall, ArgumentsResultAndPreservedRegisters) {
  // main sets r1-r9, calls f, checks r6-r9 survived, returns f's r0 + r6.
  const std::vector<Instruction> p = {
      mov(1, 1),
      mov(2, 2),
      mov(3, 3),
      mov(4, 4),
      mov(5, 5),
      mov(6, 60),
      mov(7, 70),
      mov(8, 80),
      mov(9, 90),
      call_local(9),                             // 9 -> 19
      jmp(JmpCond::Ne, 7, Operand::Imm(70), 6),  // 10
      jmp(JmpCond::Ne, 8, Operand::Imm(80), 5),
      jmp(JmpCond::Ne, 9, Operand::Imm(90), 4),
      alu(AluOp::Add, true, 0, Operand::Reg(6)),  // 13
      exit_insn(),
      mov(0, 0),
      mov(0, 0),   // padding
      mov(0, -1),  // 17: failed
      exit_insn(),
      mov(0, 0),  // 19: f
      alu(AluOp::Add, true, 0, Operand::Reg(1)),
      alu(AluOp::Add, true, 0, Operand::Reg(2)),
      alu(AluOp::Add, true, 0, Operand::Reg(3)),
      alu(AluOp::Add, true, 0, Operand::Reg(4)),
      alu(AluOp::Add, true, 0, Operand::Reg(5)),
      mov(6, 0),
      mov(7, 0),
      mov(8, 0),
      mov(9, 0),
      exit_insn(),
  };
  for (bool checked : {true, false}) {
    RunConfig c;
    c.checked = checked;
    EXPECT_EQ(run_jit(p, c), 15u + 60u);
  }
  EXPECT_EQ(run_interp(p), 75u);
}

TEST(JitCall, EachFrameHasItsOwnStackBelowTheCallers) {
  // main: r6 = r10; call f; r0 = r6 - r0 (f returns its r10): one frame of 512 bytes apart.
  const std::vector<Instruction> q = {
      movr(6, 10), call_local(3), alu(AluOp::Sub, true, 6, Operand::Reg(0)), movr(0, 6), exit_insn(),
      movr(0, 10), exit_insn(),
  };
  EXPECT_EQ(run_jit(q), 512u);
  EXPECT_EQ(run_jit(q, {.checked = false}), 512u);
  EXPECT_EQ(run_interp(q), 512u);
}

// main calls f with r1 = depth; f recurses while r1 < limit.
std::vector<Instruction> recursion(int32_t limit) {
  return {
      mov(1, 1),
      call_local(1),  // 1 -> 3
      exit_insn(),
      mov(0, 0),  // 3: f(r1)
      jmp(JmpCond::Ge, 1, Operand::Imm(limit), 4),
      movr(6, 1),
      alu(AluOp::Add, true, 1, Operand::Imm(1)),
      call_local(-5),  // 7 -> 3
      movr(0, 6),
      alu(AluOp::Add, true, 0, Operand::Imm(100)),  // 9
      exit_insn(),
  };
}

TEST(JitCall, EightFramesAndNoMore) {
  // limit 7: frames 0 (main) + f at depths 1..7 = 8 frames. r0 = 100 + 1 (the first f's r6).
  for (bool checked : {true, false}) {
    RunConfig c;
    c.checked = checked;
    EXPECT_EQ(run_jit(recursion(7), c), 101u);
    const std::string want =
        "instruction 7: call stack overflow: this call would need a frame beyond the limit of 8 frames";
    EXPECT_EQ(jit_error(recursion(8), c), want);
    EXPECT_EQ(interp_error(recursion(8), c), want);
  }
}

TEST(JitCall, CallsSpendBudget) {
  // Three calls and no backward jumps.
  const std::vector<Instruction> p = {call_local(3), call_local(2), call_local(1),
                                      exit_insn(),   mov(0, 9),     exit_insn()};
  RunConfig c;
  c.budget = 3;
  EXPECT_EQ(run_jit(p, c), 9u);
  c.budget = 2;
  EXPECT_EQ(jit_error(p, c), interp_error(p, c));
  EXPECT_EQ(jit_error(p, c).rfind("instruction 2: instruction budget of 2 exhausted", 0), 0u);
}

TEST(JitCall, RecursionIntoTheMainFunction) {
  // main(r1): if r1 == 3 return r1; r1 += 1; return main(r1) * 10. From r1 = 0: 3000.
  const std::vector<Instruction> p = {
      jmp(JmpCond::Ne, 1, Operand::Imm(3), 2),
      movr(0, 1),
      exit_insn(),
      alu(AluOp::Add, true, 1, Operand::Imm(1)),
      call_local(-5),
      alu(AluOp::Mul, true, 0, Operand::Imm(10)),
      exit_insn(),
  };
  EXPECT_EQ(run_jit(p), 3000u);
  EXPECT_EQ(run_interp(p), 3000u);
}

TEST(JitCall, FallingOffAFunctionContinuesIntoTheNext) {
  // f (slot 3) has no exit and runs into g (slot 4, also a call target) in f's frame:
  // the first call returns 11, the second (g alone) adds 10.
  const std::vector<Instruction> p = {
      call_local(2), call_local(2), exit_insn(), mov(0, 1), alu(AluOp::Add, true, 0, Operand::Imm(10)),
      exit_insn()};
  EXPECT_EQ(run_jit(p), 21u);
  EXPECT_EQ(run_interp(p), 21u);
  // The same when f ends with a jump to the next instruction (slot 6 makes slot 4 a function).
  const std::vector<Instruction> q = {
      call_local(1), exit_insn(),   mov(0, 1), Ja{0, false}, alu(AluOp::Add, true, 0, Operand::Imm(10)),
      exit_insn(),   call_local(-3)};
  EXPECT_EQ(run_jit(q), 11u);
  EXPECT_EQ(run_interp(q), 11u);
  // And a jump from one function into another's body runs there in the jumper's frame.
  const std::vector<Instruction> r = {call_local(3), exit_insn(),
                                      mov(0, 2),     exit_insn(),
                                      mov(0, 5),     ja(1),  // f (4) jumps into g's body
                                      mov(0, 100),   alu(AluOp::Add, true, 0, Operand::Imm(7)),
                                      exit_insn(),  // g (6)
                                      call_local(-4)};
  EXPECT_EQ(run_jit(r), 12u);
  EXPECT_EQ(run_interp(r), 12u);
}

TEST(JitCall, FallingOffTheProgramStops) {
  const std::string want = "instruction 2: execution ran past the last instruction of the program";
  EXPECT_EQ(jit_error({mov(0, 1), mov(0, 2)}), want);
  EXPECT_EQ(interp_error({mov(0, 1), mov(0, 2)}), want);
  EXPECT_EQ(jit_error({mov(0, 1), jmp(JmpCond::Eq, 0, Operand::Imm(0), -2)}, {.checked = false}), want);
}

// --- helpers ---

uint64_t sum_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, core::ExecEnv* env) {
  return a + 10 * b + 100 * c + 1000 * d + 10000 * e + (env->regions.size() << 20);
}
uint64_t stop_helper(uint64_t a, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv* env) {
  env->abort = true;
  if (a) env->abort_reason = "stopped by the helper";
  return 99;
}
uint64_t identity_helper(uint64_t a, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv*) { return a; }

core::HelperTable test_helpers() {
  core::HelperTable t;
  t.add({1000, "sum", {}, sum_helper});
  t.add({1001, "stop", {}, stop_helper});
  t.add({1002, "identity", {}, identity_helper});
  t.add({1003, "declared", {}, nullptr});
  return t;
}

TEST(JitHelper, ArgumentsEnvAndPreservedRegisters) {
  const core::HelperTable table = test_helpers();
  core::ExecEnv env;
  env.helpers = &table;
  env.allow(0, 1, false);
  const std::vector<Instruction> p = {
      mov(1, 1),
      mov(2, 2),
      mov(3, 3),
      mov(4, 4),
      mov(5, 5),
      mov(6, 6),
      mov(7, 7),
      mov(8, 8),
      mov(9, 9),
      call_helper(1000),
      alu(AluOp::Add, true, 0, Operand::Reg(6)),
      alu(AluOp::Add, true, 0, Operand::Reg(7)),
      alu(AluOp::Add, true, 0, Operand::Reg(8)),
      alu(AluOp::Add, true, 0, Operand::Reg(9)),
      ldx(8, 1, 10, -8),  // the stack survives too
      alu(AluOp::Add, true, 0, Operand::Reg(1)),
      exit_insn(),
  };
  for (bool checked : {true, false}) {
    RunConfig c;
    c.checked = checked;
    c.env = &env;
    std::vector<Instruction> q = p;
    q.insert(q.begin(), st(8, 10, -8, 100000));
    EXPECT_EQ(run_jit(q, c), 54321u + (1u << 20) + 30u + 100000u);
  }
}

TEST(JitHelper, StandardHelpersAreCalled) {
  const uint64_t pid_tgid = run_jit({call_helper(14), exit_insn()});  // get_current_pid_tgid
  EXPECT_EQ(pid_tgid >> 32, uint64_t(getpid()));
  const uint64_t t0 = run_jit({call_helper(5), exit_insn()});  // ktime_get_ns
  EXPECT_GT(t0, 0u);
}

TEST(JitHelper, UnknownAndUnimplementedHelpers) {
  const core::HelperTable table = test_helpers();
  core::ExecEnv env;
  env.helpers = &table;
  RunConfig c;
  c.env = &env;
  const std::vector<Instruction> unknown = {mov(0, 0), call_helper(77), exit_insn()};
  EXPECT_EQ(jit_error(unknown, c), "instruction 1: call: unknown helper function 77");
  EXPECT_EQ(interp_error(unknown, c), jit_error(unknown, c));
  const std::vector<Instruction> negative = {call_helper(-5), exit_insn()};
  EXPECT_EQ(jit_error(negative, c), "instruction 0: call: unknown helper function -5");
  const std::vector<Instruction> declared = {call_helper(1003), exit_insn()};
  EXPECT_EQ(jit_error(declared, c), "instruction 0: call: helper 1003 (declared) has no implementation");
  EXPECT_EQ(interp_error(declared, c), jit_error(declared, c));
  // An unknown helper on a path never taken is no error.
  EXPECT_EQ(run_jit({mov(0, 4), ja(1), call_helper(77), exit_insn()}, c), 4u);
  // No table at all.
  core::ExecEnv bare;
  bare.helpers = nullptr;
  RunConfig b;
  b.env = &bare;
  EXPECT_EQ(jit_error({call_helper(5), exit_insn()}, b), "instruction 0: call: unknown helper function 5");
}

TEST(JitHelper, AbortStopsTheRun) {
  const core::HelperTable table = test_helpers();
  for (bool checked : {true, false}) {
    core::ExecEnv env;
    env.helpers = &table;
    RunConfig c;
    c.checked = checked;
    c.env = &env;
    // Without a reason: r0 = 0 from the outermost exit, even from a nested frame.
    const std::vector<Instruction> p = {call_local(2),     mov(0, 5), exit_insn(), mov(1, 0),
                                        call_helper(1001), mov(0, 7), exit_insn()};
    EXPECT_EQ(run_jit(p, c), 0u);
    // With a reason: an error naming the call.
    env.abort = false;
    std::vector<Instruction> q = p;
    q[3] = mov(1, 1);
    EXPECT_EQ(jit_error(q, c), "instruction 4: stopped by the helper");
  }
}

TEST(JitHelper, TableChangesBetweenRunsAreSeen) {
  core::HelperTable table;
  core::ExecEnv env;
  env.helpers = &table;
  auto engine = vm::make_jit(
      program_of({mov(1, 21), mov(2, 1), mov(3, 0), mov(4, 0), mov(5, 0), call_helper(1002), exit_insn()}));
  EXPECT_THROW(engine->run(0, 0, env), vm::RuntimeError);
  table.add({1002, "identity", {}, identity_helper});
  EXPECT_EQ(engine->run(0, 0, env), 21u);
  table.add({1002, "sum", {}, sum_helper});
  EXPECT_EQ(engine->run(0, 0, env), 31u);
  // Another table (same ids, other functions) at once.
  core::HelperTable other;
  other.add({1002, "identity", {}, identity_helper});
  core::ExecEnv env2;
  env2.helpers = &other;
  EXPECT_EQ(engine->run(0, 0, env2), 21u);
  EXPECT_EQ(engine->run(0, 0, env), 31u);
}

TEST(JitHelper, Callx) {
  const core::HelperTable table = test_helpers();
  core::ExecEnv env;
  env.helpers = &table;
  RunConfig c;
  c.env = &env;
  for (uint8_t reg : {0, 2, 3, 4, 5, 6, 9}) {
    const std::vector<Instruction> p = {mov(1, 42), mov(reg, 1002), CallX{reg}, exit_insn()};
    EXPECT_EQ(run_jit(p, c), 42u) << "callx r" << int(reg);
  }
  // The conformance suite's callx: r1 = -1, callx r2 with r2 = 1002 -> r0 = -1.
  EXPECT_EQ(run_jit({mov(1, -1), mov(2, 1002), CallX{2}, exit_insn()}, c), ~0ull);
  const std::vector<Instruction> bad = {mov(1, 42), mov(2, 99), CallX{2}, exit_insn()};
  EXPECT_EQ(jit_error(bad, c), "instruction 2: callx r2: unknown helper function 99");
  EXPECT_EQ(interp_error(bad, c), jit_error(bad, c));
  const std::vector<Instruction> huge = {lddw(3, 0x100000005), CallX{3}, exit_insn()};
  EXPECT_EQ(jit_error(huge, c), interp_error(huge, c));
  const std::vector<Instruction> declared = {mov(3, 1003), CallX{3}, exit_insn()};
  EXPECT_EQ(jit_error(declared, c), "instruction 1: callx r3: helper 1003 (declared) has no implementation");
  // callx abort, and budget.
  EXPECT_EQ(run_jit({mov(1, 0), mov(4, 1001), CallX{4}, mov(0, 1), exit_insn()}, c), 0u);
  env.abort = false;
  c.budget = 0;
  EXPECT_EQ(jit_error({mov(4, 1002), CallX{4}, exit_insn()}, c).rfind("instruction 1: instruction budget", 0),
            0u);
}

// --- what needs a loader ---

TEST(JitUnsupported, FailsOnlyWhenReached) {
  const Instruction map_fd = LoadImm64{1, Pseudo::MapFd, 3, 0};
  const std::vector<Instruction> reached = {mov(0, 0), map_fd, exit_insn()};
  EXPECT_EQ(jit_error(reached), "instruction 1: lddw with pseudo source 1 needs a loader (map fd)");
  EXPECT_EQ(interp_error(reached), jit_error(reached));
  EXPECT_EQ(run_jit({mov(0, 6), ja(2), map_fd, exit_insn()}), 6u);
  const std::vector<Instruction> packet = {mov(0, 0), PacketLoad{4, false, 0, 12}, exit_insn()};
  EXPECT_EQ(jit_error(packet),
            "instruction 1: legacy packet load (ld_abs/ld_ind) needs a socket filter context");
  EXPECT_EQ(interp_error(packet), jit_error(packet));
  const std::vector<Instruction> kfunc = {Call{CallKind::Kfunc, 1234}, exit_insn()};
  EXPECT_EQ(
      jit_error(kfunc),
      "instruction 0: call to the kernel function with BTF id 1234: kfuncs exist only on the Linux target");
  EXPECT_EQ(interp_error(kfunc), jit_error(kfunc));
}

}  // namespace
}  // namespace bpfkit::jit_test
