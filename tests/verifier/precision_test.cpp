// Precision tracking (src/verifier/precision.*): every case of corpus/precision.vcase
// is rejected as labelled, also with every scalar compared by range, and ACCEPTED when
// the precise marks are ignored — so each case fails if the backtracking stops marking
// what it shows. The large OR-diamond programs stay flat only with the marks.
#include <gtest/gtest.h>

#include "isa/assembler.h"
#include "isa/codec.h"
#include "testing/large_programs.h"
#include "testing/verifier_case.h"
#include "verifier/precision.h"
#include "verifier/verifier.h"

namespace bpfkit::verifier {
namespace {

using Precision = VerifyOptions::Precision;

const std::string kCases = std::string(BPFKIT_SOURCE_DIR) + "/tests/verifier/corpus/precision.vcase";

VerifyResult verify_case(const testgen::VerifierCase& c, Precision precision) {
  VerifyOptions o;
  o.precision = precision;
  return verify_program(c.verify_input(), o);
}

TEST(Precision, PruningDoesNotHideTheUnsafePath) {
  const auto cases = testgen::load_verifier_case_file(kCases);
  ASSERT_GE(cases.size(), 10u);
  for (const testgen::VerifierCase& c : cases) {
    ASSERT_FALSE(c.expect_accept) << c.where();
    for (Precision p : {Precision::Track, Precision::AllPrecise}) {
      const VerifyResult r = verify_case(c, p);
      EXPECT_FALSE(r.ok) << c.where() << " accepted (precision mode " << int(p) << ")";
      EXPECT_EQ(r.kind, c.expect_kind) << c.where() << ": " << r.message;
    }
    // Without the marks the unsafe path is pruned at the join: the case depends on them.
    const VerifyResult unsound = verify_case(c, Precision::IgnoreForTesting);
    EXPECT_TRUE(unsound.ok) << c.where() << " is rejected even without precise marks, so it tests nothing: "
                            << unsound.message;
  }
}

TEST(Precision, DiamondsStayFlatOnlyWithTracking) {
  for (const testgen::LargeProgram& p : testgen::large_programs()) {
    if (p.name.rfind("or_diamonds", 0) != 0) continue;
    const VerifyInput in = testgen::large_program_input(p);
    VerifyOptions tracked;
    const VerifyResult r = verify_program(in, tracked);
    ASSERT_TRUE(r.ok) << p.name << ": " << r.message;
    EXPECT_LT(r.stats.insns_processed, 4 * p.insns.size()) << p.name;
    // Every scalar compared by value: the 2^20 values of the OR register are all distinct.
    VerifyOptions all;
    all.precision = Precision::AllPrecise;
    all.insn_limit = 50 * r.stats.insns_processed;
    const VerifyResult exploded = verify_program(in, all);
    EXPECT_FALSE(exploded.ok) << p.name;
    EXPECT_EQ(exploded.kind, RejectKind::TooComplex) << p.name;
  }
}

// The per-instruction rules, one at a time.
PreciseMarks need_reg(size_t f, int r) {
  PreciseMarks m;
  set_precise_reg(m, f, r);
  return m;
}

bool step_back(const char* text, PreciseMarks& need, HistEntry e = {}) {
  const auto insns = isa::assemble(text);
  return backtrack_insn(isa::decode_insn(insns, 0), e, nullptr, need);
}

TEST(Precision, BacktrackRules) {
  PreciseMarks m = need_reg(0, 3);
  ASSERT_TRUE(step_back("r3 = r4\n", m));
  EXPECT_EQ(m.regs[0], 1u << 4) << "a copy: the source matters instead";
  m = need_reg(0, 3);
  ASSERT_TRUE(step_back("r3 += r4\n", m));
  EXPECT_EQ(m.regs[0], (1u << 3) | (1u << 4)) << "arithmetic: both operands matter";
  m = need_reg(0, 3);
  ASSERT_TRUE(step_back("r3 = 7\n", m));
  EXPECT_TRUE(m.empty()) << "a constant: nothing before it matters";
  m = need_reg(0, 3);
  ASSERT_TRUE(step_back("r4 += r5\n", m));
  EXPECT_EQ(m.regs[0], 1u << 3) << "other registers' arithmetic is not followed";
  m = need_reg(0, 3);
  ASSERT_TRUE(step_back("r3 = *(u64 *)(r10 - 16)\n", m, HistEntry{0, 0, 1, 0, 0}));
  EXPECT_EQ(m.regs[0], 0u);
  EXPECT_EQ(m.slots[0], 1u << 1) << "a fill: the slot it came from matters";
  ASSERT_TRUE(step_back("*(u64 *)(r10 - 16) = r6\n", m, HistEntry{0, 0, 1, 0, 0}));
  EXPECT_EQ(m.slots[0], 0u);
  EXPECT_EQ(m.regs[0], 1u << 6) << "the spill: the register stored matters";
  m = need_reg(0, 3);
  ASSERT_TRUE(step_back("r3 = *(u64 *)(r6 + 0)\n", m));
  EXPECT_TRUE(m.empty()) << "a load from memory: a value nobody chose";
  m = need_reg(0, 3);
  ASSERT_TRUE(step_back("if r3 > r8 goto +1\n", m));
  EXPECT_EQ(m.regs[0], (1u << 3) | (1u << 8)) << "a comparison teaches both operands";
  m = need_reg(0, 0);
  ASSERT_TRUE(step_back("call 1\n", m));
  EXPECT_TRUE(m.empty()) << "a helper's result";
  // Back out of a callee through its call (run by frame 0): its R1 was the caller's R1.
  m = need_reg(1, 1);
  ASSERT_TRUE(backtrack_insn(isa::Call{isa::CallKind::Local, 4}, HistEntry{}, nullptr, m));
  EXPECT_EQ(m.regs[0], 1u << 1);
  EXPECT_EQ(m.regs[1], 0u);
  // Back into a callee through its exit (run by frame 1): the caller's R0 was its R0.
  m = need_reg(0, 0);
  ASSERT_TRUE(backtrack_insn(isa::Exit{}, HistEntry{0, 0, -1, 0, 1}, nullptr, m));
  EXPECT_EQ(m.regs[0], 0u);
  EXPECT_EQ(m.regs[1], 1u);
  // A callee's register other than its arguments cannot matter at its entry: give up.
  m = need_reg(1, 6);
  EXPECT_FALSE(backtrack_insn(isa::Call{isa::CallKind::Local, 4}, HistEntry{}, nullptr, m));
}

}  // namespace
}  // namespace bpfkit::verifier
