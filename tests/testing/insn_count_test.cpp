// Counting executed instructions by instrumentation.
#include <gtest/gtest.h>

#include "isa/assembler.h"
#include "testing/insn_count.h"

namespace bpfkit::testgen {
namespace {

TEST(InsnCount, CountsLoopsJumpsAndLddwOnce) {
  std::vector<isa::RawInsn> prog = isa::assemble(R"(
    r0 = 0
    r2 = 0x100000000 ll
    r3 = 0
  loop:
    r0 += 1
    r3 += 1
    if r3 < 10 goto loop
    if r0 == 10 goto done
    r0 = 99
  done:
    exit
  )");
  // 3 setup + 3 * 10 loop + 1 taken jump + exit.
  EXPECT_EQ(count_executed_instructions(prog, {}), 35u);
}

TEST(InsnCount, JumpsIntoTheFirstInstructionAreCounted) {
  std::vector<isa::RawInsn> prog = isa::assemble(R"(
    r0 = 3
  top:
    r0 -= 1
    if r0 != 0 goto top
    exit
  )");
  EXPECT_EQ(count_executed_instructions(prog, {}), 1u + 2 * 3 + 1);
}

TEST(InsnCount, RefusesProgramsItCannotCount) {
  EXPECT_THROW(instrument_instruction_count(isa::assemble("r9 = 1\nr0 = r9\nexit")), Error);
  EXPECT_THROW(instrument_instruction_count(isa::assemble("call 5\nexit")), Error);
}

}  // namespace
}  // namespace bpfkit::testgen
