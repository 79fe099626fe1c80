// The generated large programs (src/testing/large_programs.h) are accepted by the
// running kernel's verifier, with the same maps created for real, and the kernel's
// log statistics can be read back (bench_verifier_vs_kernel compares them with bpfkit's).
#include <gtest/gtest.h>

#include <iostream>
#include <vector>

#include "kernel_test_util.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/kernel_verify.h"
#include "testing/large_programs.h"
#include "target/verify_object.h"

namespace bpfkit::testgen {
namespace {

namespace lk = target::linux_kernel;

// Assembled once: the set is deterministic, and the ALU program is long.
const std::vector<LargeProgram>& all_programs() {
  static const std::vector<LargeProgram> all = large_programs();
  return all;
}

TEST(KernelVerifierStats, ParsesTheLogsLastLines) {
  const auto s = lk::parse_kernel_verifier_stats(
      "0: R1=ctx() R10=fp0\n"
      "processed 1234 insns (limit 1000000) max_states_per_insn 4 total_states 56 peak_states 7 mark_read 2\n"
      "verification time 89 usec\n"
      "stack depth 8\n");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->insns_processed, 1234u);
  EXPECT_EQ(s->max_states_per_insn, 4u);
  EXPECT_EQ(s->total_states, 56u);
  EXPECT_EQ(s->peak_states, 7u);
  EXPECT_EQ(s->time_usec, 89u);
  EXPECT_FALSE(lk::parse_kernel_verifier_stats("R1 invalid mem access 'scalar'\n").has_value());
}

class LargeProgramsKernelTest : public kernel_test::KernelTest,
                                public ::testing::WithParamInterface<size_t> {};

TEST_P(LargeProgramsKernelTest, KernelAccepts) {
  const LargeProgram& p = all_programs().at(GetParam());
  std::vector<lk::UniqueFd> maps;
  std::vector<int> fds;
  for (const verifier::MapInfo& m : p.maps) {
    maps.push_back(lk::map_create(target::map_spec_of(m)));
    fds.push_back(maps.back().get());
  }
  lk::KernelVerifyRequest req;
  req.prog_type = p.prog_type;
  req.insns = p.insns;
  req.map_fds = fds;
  const lk::KernelVerifyResult r = lk::kernel_verify(req);
  ASSERT_TRUE(r.accepted) << p.name << ": errno " << r.err << "\n" << r.log;
  ASSERT_TRUE(r.stats.has_value()) << r.log;
  EXPECT_GT(r.stats->insns_processed, 0u);
  // No state explosion where the kernel has none: bpfkit's work stays within a small
  // factor of the kernel's (precision tracking keeps the OR diamonds flat, for one).
  const verifier::VerifyResult ours = verifier::verify_program(large_program_input(p));
  ASSERT_TRUE(ours.ok) << p.name << ": " << ours.message;
  std::cout << p.name << ": processed bpfkit " << ours.stats.insns_processed << ", kernel "
            << r.stats->insns_processed << "; states bpfkit " << ours.stats.states_total << ", kernel "
            << r.stats->total_states << "\n";
  EXPECT_LE(ours.stats.insns_processed, 4 * r.stats->insns_processed) << p.name;
}

std::string name_of(const ::testing::TestParamInfo<size_t>& info) {
  return all_programs().at(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(All, LargeProgramsKernelTest, ::testing::Range(size_t(0), all_programs().size()),
                         name_of);

}  // namespace
}  // namespace bpfkit::testgen
