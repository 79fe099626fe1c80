// insert_instructions and friends: every relative reference that crosses the
// insertion point must follow the instruction it pointed to.
#include <gtest/gtest.h>

#include <vector>

#include "isa/codec.h"
#include "isa/opcodes.h"
#include "target/linux/program_rewrite.h"
#include "testing/differential.h"
#include "testing/random_program.h"

namespace bpfkit::target::linux_kernel {
namespace {

using isa::RawInsn;

RawInsn raw(uint8_t opcode, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
  RawInsn r;
  r.opcode = opcode;
  r.dst = dst;
  r.src = src;
  r.off = off;
  r.imm = imm;
  return r;
}

const uint8_t kMovK = BPF_ALU64 | BPF_MOV | BPF_K;
const uint8_t kAddK = BPF_ALU64 | BPF_ADD | BPF_K;
const uint8_t kJeqK = BPF_JMP | BPF_JEQ | BPF_K;
const uint8_t kJa = BPF_JMP | BPF_JA;
const uint8_t kGotol = BPF_JMP32 | BPF_JA;
const uint8_t kCall = BPF_JMP | BPF_CALL;
const uint8_t kExit = BPF_JMP | BPF_EXIT;
const uint8_t kLddw = BPF_LD | BPF_IMM | BPF_DW;

RawInsn mov(uint8_t dst, int32_t imm) { return raw(kMovK, dst, 0, 0, imm); }
RawInsn exit_insn() { return raw(kExit); }

TEST(ProgramRewrite, RelativeTargetOfEachKind) {
  std::vector<RawInsn> p = {
      raw(kJeqK, 1, 0, 2, 5),                    // 0 -> 3
      raw(kGotol, 0, 0, 0, -2),                  // 1 -> 0
      raw(kCall, 0, isa::kPseudoCall, 0, 3),     // 2 -> 6
      raw(kCall, 0, 0, 0, 7),                    // helper 7: no target
      raw(kLddw, 1, isa::kPseudoFunc, 0, 1),     // 4 -> 6
      raw(0, 0, 0, 0, 0),
      exit_insn(),
  };
  EXPECT_EQ(relative_target(p, 0), 3);
  EXPECT_EQ(relative_target(p, 1), 0);
  EXPECT_EQ(relative_target(p, 2), 6);
  EXPECT_EQ(relative_target(p, 3), std::nullopt);
  EXPECT_EQ(relative_target(p, 4), 6);
  EXPECT_EQ(relative_target(p, 6), std::nullopt);
  EXPECT_TRUE(is_lddw_tail(p, 5));
  EXPECT_FALSE(is_lddw_tail(p, 4));
  EXPECT_FALSE(is_lddw_tail(p, 6));
}

TEST(ProgramRewrite, InsertAtStartKeepsEveryTarget) {
  std::vector<RawInsn> p = {
      mov(0, 0),                // 0
      raw(kAddK, 0, 0, 0, 1),   // 1  <- backward jump target
      raw(kJeqK, 0, 0, -2, 3),  // 2 -> 1
      raw(kJeqK, 0, 0, 1, 9),   // 3 -> 5
      exit_insn(),              // 4
      exit_insn(),              // 5
  };
  std::vector<RawInsn> ins = {mov(1, 7), mov(2, 8)};
  std::vector<RawInsn> out = insert_instructions(p, 0, ins);
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out[0], ins[0]);
  EXPECT_EQ(out[1], ins[1]);
  // Relative offsets of a block that moves as a whole do not change.
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(out[i + 2], p[i]) << "slot " << i;
}

TEST(ProgramRewrite, InsertInTheMiddleFixesCrossingReferences) {
  std::vector<RawInsn> p = {
      raw(kJeqK, 1, 0, 2, 0),  // 0 -> 3 (crosses 2)
      raw(kJeqK, 1, 0, 0, 0),  // 1 -> 2 (targets the insertion point)
      mov(0, 1),               // 2
      raw(kJeqK, 1, 0, -4, 0), // 3 -> 0 (crosses backward)
      raw(kJa, 0, 0, -2, 0),   // 4 -> 3 (both after: unchanged)
      exit_insn(),             // 5
  };
  std::vector<RawInsn> ins = {mov(3, 3), mov(4, 4), mov(5, 5)};
  std::vector<RawInsn> out = insert_instructions(p, 2, ins);
  ASSERT_EQ(out.size(), 9u);
  EXPECT_EQ(relative_target(out, 0), 6);  // old 3
  EXPECT_EQ(relative_target(out, 1), 5);  // old 2: the original instruction, not the inserted code
  EXPECT_EQ(out[5], p[2]);
  EXPECT_EQ(relative_target(out, 6), 0);
  EXPECT_EQ(relative_target(out, 7), 6);
  EXPECT_EQ(out[7], p[4]);
  EXPECT_EQ(out[2], ins[0]);
}

TEST(ProgramRewrite, InstrumentationCanBeReachedByJumps) {
  std::vector<RawInsn> p = {
      raw(kJeqK, 1, 0, 1, 0),  // 0 -> 2
      mov(0, 1),               // 1
      exit_insn(),             // 2
  };
  std::vector<RawInsn> probe = {mov(5, 5)};
  std::vector<RawInsn> skipped = insert_instructions(p, 2, probe);
  EXPECT_EQ(relative_target(skipped, 0), 3);  // the exit, past the probe
  std::vector<RawInsn> entered = insert_instructions(p, 2, probe, InsertReach::FallThroughAndJumps);
  EXPECT_EQ(relative_target(entered, 0), 2);  // the probe
  EXPECT_EQ(entered[2], probe[0]);
  EXPECT_EQ(entered[3], p[2]);
}

TEST(ProgramRewrite, CallsGotolAndFunctionAddressesAreFixed) {
  std::vector<RawInsn> p = {
      raw(kLddw, 2, isa::kPseudoFunc, 0, 5),  // 0 -> 6
      raw(0),                                  // 1
      raw(kCall, 0, isa::kPseudoCall, 0, 3),  // 2 -> 6
      raw(kCall, 0, 0, 0, 5),                  // 3: helper 5, untouched
      raw(kGotol, 0, 0, 0, 0),                 // 4 -> 5
      exit_insn(),                             // 5
      mov(0, 1),                               // 6: subprogram
      exit_insn(),                             // 7
  };
  std::vector<RawInsn> out = insert_instructions(p, 5, std::vector<RawInsn>{mov(7, 7)});
  EXPECT_EQ(relative_target(out, 0), 7);
  EXPECT_EQ(relative_target(out, 2), 7);
  EXPECT_EQ(out[3], p[3]);
  EXPECT_EQ(relative_target(out, 4), 6);
  EXPECT_EQ(out[1], p[1]);  // lddw's second slot is data
  EXPECT_EQ(function_starts(out), (std::vector<size_t>{0, 7}));
}

TEST(ProgramRewrite, LddwTailLooksLikeAJumpButIsData) {
  // The second slot's imm would read as an offset if the slot were decoded.
  std::vector<RawInsn> p = {raw(kLddw, 0, 0, 0, 1), raw(0, 0, 0, 0, -100), exit_insn()};
  std::vector<RawInsn> out = insert_instructions(p, 0, std::vector<RawInsn>{mov(1, 0)});
  EXPECT_EQ(out[2], p[1]);
}

TEST(ProgramRewrite, RefusesToSplitAnLddwOrOverflow) {
  std::vector<RawInsn> p = {raw(kLddw, 0, 0, 0, 1), raw(0), exit_insn()};
  EXPECT_THROW(insert_instructions(p, 1, std::vector<RawInsn>{mov(1, 0)}), Error);
  EXPECT_THROW(insert_instructions(p, 4, std::vector<RawInsn>{mov(1, 0)}), Error);

  std::vector<RawInsn> far(32770, mov(0, 0));
  far[0] = raw(kJa, 0, 0, 32767, 0);  // -> 32768
  far.back() = exit_insn();
  try {
    insert_instructions(far, 5, std::vector<RawInsn>{mov(1, 0)});
    FAIL() << "expected an overflow error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("instruction 0"), std::string::npos) << e.what();
  }
}

TEST(ProgramRewrite, FunctionStarts) {
  std::vector<RawInsn> p = {
      raw(kCall, 0, isa::kPseudoCall, 0, 3),  // -> 4
      raw(kCall, 0, isa::kPseudoCall, 0, 4),  // -> 6
      raw(kCall, 0, isa::kPseudoCall, 0, 3),  // -> 6
      exit_insn(), mov(0, 1), exit_insn(), mov(0, 2), exit_insn(),
  };
  EXPECT_EQ(function_starts(p), (std::vector<size_t>{0, 4, 6}));
}

// Inserting `r0 += 0` anywhere must not change what a program computes: the
// references follow their instructions, and the new code only runs when falling in.
TEST(ProgramRewrite, NoOpInsertionsKeepRandomProgramsEquivalent) {
  testgen::Rng rng(42);
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    testgen::RandomProgramOptions options;
    options.length = 60;
    testgen::RandomProgram prog = testgen::generate_random_program(seed, options);
    std::vector<RawInsn> rewritten = prog.insns;
    for (int k = 0; k < 5; ++k) {
      size_t pos;
      do pos = rng.below(rewritten.size() + 1);
      while (is_lddw_tail(rewritten, pos));
      rewritten = insert_instructions(rewritten, pos, std::vector<RawInsn>{raw(kAddK, 0, 0, 0, 0)});
    }
    using testgen::EngineKind;
    testgen::EngineOutcome before = testgen::run_engine(EngineKind::Interpreter, prog.insns, prog.memory);
    testgen::EngineOutcome after = testgen::run_engine(EngineKind::Interpreter, rewritten, prog.memory);
    ASSERT_TRUE(before.ran) << before.error;
    ASSERT_TRUE(after.ran) << after.error;
    EXPECT_EQ(before.r0, after.r0) << "seed " << seed;
    EXPECT_EQ(before.memory, after.memory) << "seed " << seed;
  }
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
