// The generated large programs (src/testing/large_programs.h) are accepted by
// bpfkit's verifier, within a bounded amount of work: a state explosion shows as a
// TooComplex rejection or as far more states than instructions.
#include <gtest/gtest.h>

#include "testing/large_programs.h"
#include "verifier/verifier.h"

namespace bpfkit::testgen {
namespace {

// Assembled once: the set is deterministic, and the ALU program is long.
const std::vector<LargeProgram>& all_programs() {
  static const std::vector<LargeProgram> all = large_programs();
  return all;
}

class LargeProgramsTest : public ::testing::TestWithParam<size_t> {};

TEST_P(LargeProgramsTest, BpfkitAccepts) {
  const LargeProgram& p = all_programs().at(GetParam());
  const verifier::VerifyResult r = verifier::verify_program(large_program_input(p));
  ASSERT_TRUE(r.ok) << p.name << ": " << r.message;
  EXPECT_GT(r.stats.insns_processed, 0u);
  // No explosion: each program needs at most a few hundred thousand instructions.
  EXPECT_LT(r.stats.insns_processed, 300'000u) << p.name;
}

std::string name_of(const ::testing::TestParamInfo<size_t>& info) {
  return all_programs().at(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(All, LargeProgramsTest, ::testing::Range(size_t(0), all_programs().size()),
                         name_of);

TEST(LargePrograms, AreDeterministicAndDistinct) {
  const std::vector<LargeProgram> a = large_programs(), b = large_programs();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].insns, b[i].insns) << a[i].name;
    for (size_t j = 0; j < i; ++j) EXPECT_NE(a[i].name, a[j].name);
  }
}

// The deep-branching program's paths double with every diamond: it is only
// verified quickly because states are pruned where the two sides meet.
TEST(LargePrograms, BranchesArePruned) {
  for (const LargeProgram& p : large_programs()) {
    if (p.name.rfind("branches_", 0) != 0) continue;
    const verifier::VerifyResult r = verifier::verify_program(large_program_input(p));
    ASSERT_TRUE(r.ok) << r.message;
    EXPECT_LT(r.stats.insns_processed, 4 * p.insns.size()) << p.name;
  }
}

// The OR diamonds keep a live register (or stack slot) whose 2^20 values nothing
// checks: only precision tracking keeps them flat (without it they hit the 1M limit).
TEST(LargePrograms, ImpreciseScalarsDoNotExplode) {
  int seen = 0;
  for (const LargeProgram& p : large_programs()) {
    if (p.name.rfind("or_diamonds", 0) != 0) continue;
    ++seen;
    const verifier::VerifyResult r = verifier::verify_program(large_program_input(p));
    ASSERT_TRUE(r.ok) << p.name << ": " << r.message;
    EXPECT_LT(r.stats.insns_processed, 4 * p.insns.size()) << p.name;
  }
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace bpfkit::testgen
