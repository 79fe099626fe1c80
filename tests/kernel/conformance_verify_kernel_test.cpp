// bpfkit's verifier beside the kernel's on the conformance suite: every helper-free
// program is loaded into the kernel (behind the bare-program XDP prologue, see
// target/linux/kernel_runner.h) and verified by bpfkit under the same contract; the
// verdicts must agree (on Linux 6.18 they do for every one of them).
#include <gtest/gtest.h>

#include <cstdio>

#include "../support/conformance_verify.h"
#include "kernel_test_util.h"
#include "target/linux/kernel_runner.h"

namespace bpfkit {
namespace {

class ConformanceVerifyKernel : public kernel_test::KernelTest {};

TEST_F(ConformanceVerifyKernel, VerdictsAgreeWithTheKernel) {
  const auto programs = conformance_verify::load_programs();
  ASSERT_FALSE(programs.empty()) << "no conformance tests in " << conformance_verify::tests_dir();
  int agree = 0, compared = 0;
  for (const auto& p : programs) {
    if (p.calls_helpers) continue;  // the suite's helper ids mean other helpers in the kernel
    ++compared;
    const auto kernel = target::linux_kernel::run_in_kernel(p.insns, p.memory);
    const verifier::VerifyResult ours = conformance_verify::verify(p);
    if (kernel.accepted == ours.ok) {
      ++agree;
      continue;
    }
    ADD_FAILURE() << p.name << ": the kernel " << (kernel.accepted ? "accepts" : "refuses") << ", bpfkit "
                  << (ours.ok ? "accepts" : "refuses: " + ours.message)
                  << (kernel.accepted ? "" : "\nkernel: " + kernel.reason.substr(0, 2000));
  }
  std::printf("conformance verdicts: %d of %d agree with the kernel\n", agree, compared);
  EXPECT_GT(compared, 150);
}

}  // namespace
}  // namespace bpfkit
