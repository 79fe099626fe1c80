// may_goto, load-acquire and store-release on both engines, checked and unchecked:
// may_goto falls through until the run's budget (BPF_MAX_LOOPS) is spent, then
// jumps; the budget is per run and shared by every loop of it; acquire/release
// accesses move the bytes a plain load/store of their size would.
#include <gtest/gtest.h>

#include "isa/opcodes.h"
#include "program_builders.h"

namespace bpfkit::engine_test {
namespace {

struct Mode {
  bool jit;
  bool checked;
};

class OrderedInsns : public ::testing::TestWithParam<Mode> {
 protected:
  uint64_t run(const std::vector<Instruction>& insns, uint64_t r1 = 0) {
    const vm::Program program = program_of(insns);
    const vm::EngineOptions options{GetParam().checked, 100'000'000};
    engine_ = GetParam().jit ? vm::make_jit(program, options) : vm::make_interpreter(program, options);
    return engine_->run(r1, 0, env_);
  }
  uint64_t run_again() { return engine_->run(0, 0, env_); }

  core::ExecEnv env_;
  std::unique_ptr<vm::Engine> engine_;
};

Instruction may_goto(int16_t off) { return Jump{JmpCond::MayGoto, false, 0, Operand::Imm(0), off}; }

TEST_P(OrderedInsns, MayGotoJumpsOnceTheRunsBudgetIsSpent) {
  // r0 counts the fall-throughs of an otherwise endless loop.
  const std::vector<Instruction> loop = {
      mov(0, 0),
      may_goto(2),
      alu(AluOp::Add, true, 0, Operand::Imm(1)),
      ja(-3),
      exit_insn(),
  };
  EXPECT_EQ(run(loop), isa::kMayGotoBudget);
  EXPECT_EQ(run_again(), isa::kMayGotoBudget) << "each run starts with a full budget";
}

TEST_P(OrderedInsns, LoopsOfOneRunShareTheBudget) {
  // Two endless loops one after the other: the second finds nothing left.
  const std::vector<Instruction> two_loops = {
      mov(0, 0),           mov(1, 0),
      may_goto(2),         alu(AluOp::Add, true, 0, Operand::Imm(1)),
      ja(-3),              may_goto(2),
      alu(AluOp::Add, true, 1, Operand::Imm(1)),
      ja(-3),              alu(AluOp::Lsh, true, 1, Operand::Imm(32)),
      alu(AluOp::Or, true, 0, Operand::Reg(1)),
      exit_insn(),
  };
  EXPECT_EQ(run(two_loops), isa::kMayGotoBudget);
}

TEST_P(OrderedInsns, MayGotoFallsThroughWhileBudgetRemains) {
  // A loop that ends by itself long before the budget: may_goto never jumps.
  const std::vector<Instruction> counted = {
      mov(0, 0),
      mov(1, 100),
      may_goto(4),
      alu(AluOp::Add, true, 0, Operand::Imm(1)),
      alu(AluOp::Sub, true, 1, Operand::Imm(1)),
      jmp(JmpCond::Ne, 1, Operand::Imm(0), -4),
      exit_insn(),
      mov(0, -1),
      exit_insn(),
  };
  EXPECT_EQ(run(counted), 100u);
}

TEST_P(OrderedInsns, LoadAcquireAndStoreReleaseMoveTheirSize) {
  // Store-release writes only its size's low bytes; load-acquire zero-extends.
  const std::vector<Instruction> stack = {
      lddw(1, 0x1122334455667788),
      stx(8, 10, -8, 1),
      lddw(2, 0xa1a2a3a4a5a6a7a8),
      Store{2, 10, -8, Operand::Reg(2), true},  // bytes 0-1 become a8 a7
      Load{8, false, 0, 10, -8, true},
      Load{1, false, 3, 10, -7, true},  // 0xa7, zero-extended
      alu(AluOp::Lsh, true, 3, Operand::Imm(56)),
      alu(AluOp::Xor, true, 0, Operand::Reg(3)),
      exit_insn(),
  };
  EXPECT_EQ(run(stack), 0x112233445566a7a8ull ^ (0xa7ull << 56));

  uint8_t memory[16] = {};
  env_.allow(reinterpret_cast<uint64_t>(memory), sizeof memory, true);
  const std::vector<Instruction> through_r1 = {
      lddw(2, 0x8899aabbccddeeff),
      Store{4, 1, 4, Operand::Reg(2), true},
      Store{1, 1, 9, Operand::Reg(2), true},
      Load{4, false, 0, 1, 4, true},
      exit_insn(),
  };
  EXPECT_EQ(run(through_r1, reinterpret_cast<uint64_t>(memory)), 0xccddeeffu);
  EXPECT_EQ(memory[4], 0xff);
  EXPECT_EQ(memory[7], 0xcc);
  EXPECT_EQ(memory[8], 0x00);
  EXPECT_EQ(memory[9], 0xff);
}

INSTANTIATE_TEST_SUITE_P(Engines, OrderedInsns,
                         ::testing::Values(Mode{false, false}, Mode{false, true}, Mode{true, false},
                                           Mode{true, true}),
                         [](const auto& info) {
                           return std::string(info.param.jit ? "Jit" : "Interpreter") +
                                  (info.param.checked ? "Checked" : "Unchecked");
                         });

}  // namespace
}  // namespace bpfkit::engine_test
