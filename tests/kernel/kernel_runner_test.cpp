// The kernel harness: bare programs (r1 = memory, r2 = length, 64-bit r0) run
// inside the kernel as XDP programs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "target/linux/kernel_runner.h"
#include "target/linux/program_rewrite.h"

namespace bpfkit::target::linux_kernel {
namespace {

using kernel_test::KernelTest;

std::vector<isa::RawInsn> asm_(const char* text) { return isa::assemble(text); }

TEST(WrapBareProgram, LowHalfIsPrologueThenTheProgram) {
  std::vector<isa::RawInsn> prog = asm_("r0 = r2\nexit");
  std::vector<isa::RawInsn> low = wrap_bare_program(prog, 16, ResultHalf::Low);
  ASSERT_GT(low.size(), prog.size());
  EXPECT_EQ(std::vector<isa::RawInsn>(low.end() - 2, low.end()), prog);
  // With no memory the prologue only zeroes r1 and r2.
  EXPECT_EQ(wrap_bare_program(prog, 0, ResultHalf::Low).size(), prog.size() + 2);
}

TEST(WrapBareProgram, HighHalfSendsOnlyMainExitsToTheEpilogue) {
  std::vector<isa::RawInsn> prog = asm_(R"(
    mov %r0, 1
    call local sub
    jeq %r0, 0, done
    exit
  done:
    exit
  sub:
    mov %r0, 2
    exit
  )");
  std::vector<isa::RawInsn> low = wrap_bare_program(prog, 0, ResultHalf::Low);
  std::vector<isa::RawInsn> high = wrap_bare_program(prog, 0, ResultHalf::High);
  ASSERT_EQ(high.size(), low.size() + 2);
  const uint8_t exit_op = BPF_JMP | BPF_EXIT;
  auto count_exits = [&](const std::vector<isa::RawInsn>& p, size_t from, size_t to) {
    int n = 0;
    for (size_t i = from; i < to; ++i) n += p[i].opcode == exit_op;
    return n;
  };
  std::vector<size_t> starts = function_starts(high);
  ASSERT_EQ(starts.size(), 2u);
  // Main: only the epilogue's exit remains (right before the subprogram), which
  // follows `r0 >>= 32`; the subprogram keeps its own exit.
  EXPECT_EQ(count_exits(high, 0, starts[1]), 1);
  EXPECT_EQ(high[starts[1] - 1].opcode, exit_op);
  EXPECT_EQ(high[starts[1] - 2].opcode, BPF_ALU64 | BPF_RSH | BPF_K);
  EXPECT_EQ(high[starts[1] - 2].imm, 32);
  EXPECT_EQ(count_exits(high, starts[1], high.size()), 1);
}

TEST(WrapBareProgram, RefusesMemoryBeyondAPacket) {
  EXPECT_THROW(wrap_bare_program(asm_("exit"), kMaxBareMemory + 1, ResultHalf::Low), Error);
}

class KernelRunner : public KernelTest {};

TEST_F(KernelRunner, ReturnsAllSixtyFourBitsOfR0) {
  KernelVerdict v = run_in_kernel(asm_("r0 = 0x8877665544332211 ll\nexit"), {});
  ASSERT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.r0, 0x8877665544332211ull);
  v = run_in_kernel(asm_("r0 = -2\nexit"), {});
  ASSERT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.r0, ~1ull);
}

TEST_F(KernelRunner, MemoryIsReadableWritableAndReturned) {
  std::vector<uint8_t> mem = {1, 2, 3, 4, 5};
  KernelVerdict v = run_in_kernel(asm_(R"(
    r0 = *(u8 *)(r1 + 4)
    r0 <<= 8
    r0 |= r2
    *(u8 *)(r1 + 0) = 0x77
    *(u16 *)(r1 + 2) = 0x1234
    exit
  )"), mem);
  ASSERT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.r0, 0x505u);  // mem[4] = 5, r2 = length 5
  EXPECT_EQ(v.memory, (std::vector<uint8_t>{0x77, 2, 0x34, 0x12, 5}));
}

TEST_F(KernelRunner, WithoutMemoryR1AndR2AreZero) {
  KernelVerdict v = run_in_kernel(asm_("r0 = r1\nr0 += r2\nr0 += 7\nexit"), {});
  ASSERT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.r0, 7u);
  EXPECT_TRUE(v.memory.empty());
}

TEST_F(KernelRunner, AccessesPastTheMemoryAreRefused) {
  std::vector<uint8_t> mem(8);
  EXPECT_TRUE(run_in_kernel(asm_("r0 = *(u64 *)(r1 + 0)\nexit"), mem).accepted);
  KernelVerdict v = run_in_kernel(asm_("r0 = *(u8 *)(r1 + 8)\nexit"), mem);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("invalid access to packet"), std::string::npos) << v.reason;
}

TEST_F(KernelRunner, UninitialisedRegistersAreStillRefused) {
  // The prologue must not leave scratch registers initialised behind it.
  for (const char* reg : {"r0", "r3", "r4", "r5", "r6", "r9"}) {
    std::string text = std::string("r7 = ") + reg + "\nr0 = r7\nexit";
    KernelVerdict v = run_in_kernel(asm_(text.c_str()), std::vector<uint8_t>(16));
    EXPECT_FALSE(v.accepted) << reg;
    EXPECT_NE(v.reason.find("!read_ok"), std::string::npos) << v.reason;
  }
}

TEST_F(KernelRunner, SubprogramsAndSeveralExitsKeepWorking) {
  std::vector<isa::RawInsn> prog = asm_(R"(
    mov %r6, %r2
    mov %r1, 3
    call local triple
    jeq %r6, 0, nomem
    lddw %r1, 0x100000000
    add %r0, %r1
    exit
  nomem:
    lddw %r1, 0x200000000
    add %r0, %r1
    exit
  triple:
    mov %r0, %r1
    mul %r0, 3
    jgt %r0, 100, big
    exit
  big:
    mov %r0, 0
    exit
  )");
  KernelVerdict with_mem = run_in_kernel(prog, std::vector<uint8_t>(4));
  ASSERT_TRUE(with_mem.accepted) << with_mem.reason;
  EXPECT_EQ(with_mem.r0, 0x100000009ull);
  KernelVerdict without = run_in_kernel(prog, {});
  ASSERT_TRUE(without.accepted) << without.reason;
  EXPECT_EQ(without.r0, 0x200000009ull);
}

TEST_F(KernelRunner, LoadedProgramRunsRepeatedly) {
  KernelProgram prog(asm_("r0 = *(u32 *)(r1 + 0)\nr0 += 1\n*(u32 *)(r1 + 0) = r0\nexit"), 4);
  std::vector<uint8_t> mem = {9, 0, 0, 0};
  KernelProgram::Result r = prog.run(mem, 1);
  EXPECT_EQ(r.r0, 10u);
  EXPECT_EQ(r.memory, (std::vector<uint8_t>{10, 0, 0, 0}));
  // The kernel reruns on the same packet: writes accumulate over the repeats.
  r = prog.run(mem, 5);
  EXPECT_EQ(r.r0, 14u);
  EXPECT_EQ(r.memory, (std::vector<uint8_t>{14, 0, 0, 0}));
  EXPECT_THROW(prog.run(std::vector<uint8_t>(3)), Error);
}

TEST_F(KernelRunner, RejectionIsAVerdictNotAnException) {
  KernelVerdict v = run_in_kernel(asm_("r0 = 1\nr0 /= 0\nexit"), {});
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("div by zero"), std::string::npos) << v.reason;
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
