// The conformance suite's programs verify: each is checked by bpfkit's verifier
// under the suite's contract (r1 = LEN bytes of writable memory, r2 = LEN; the
// suite's helper table), as the kernel checks them behind an XDP prologue
// (tests/kernel/conformance_verify_kernel_test.cpp compares the two verdicts).
// A program bpfkit refuses must be listed below with the reason, which is the
// kernel's reason too; one that starts verifying fails the test until removed.
#include <gtest/gtest.h>

#include <cstdio>

#include "../support/conformance_verify.h"

namespace bpfkit {
namespace {

TEST(ConformanceVerify, EveryProgramVerifiesOrIsAJustifiedRejection) {
  const auto programs = conformance_verify::load_programs();
  ASSERT_FALSE(programs.empty()) << "no conformance tests in " << conformance_verify::tests_dir()
                                 << " (set BPFKIT_CONFORMANCE_DIR)";
  int accepted = 0, justified = 0;
  for (const auto& p : programs) {
    const verifier::VerifyResult r = conformance_verify::verify(p);
    const auto known = conformance_verify::kRejected.find(p.name);
    if (known != conformance_verify::kRejected.end()) {
      ++justified;
      EXPECT_FALSE(r.ok) << p.name << " is listed as refused (" << known->second.reason
                         << ") but now verifies: remove it from the list";
      if (!r.ok) {
        EXPECT_EQ(verifier::reject_kind_name(r.kind), known->second.kind) << p.name << ": " << r.message;
      }
      continue;
    }
    if (r.ok) {
      ++accepted;
      continue;
    }
    ADD_FAILURE() << p.name << ": refused\n" << r.message;
  }
  std::printf("conformance programs: %d verify, %d refused as listed (of %zu)\n", accepted, justified,
              programs.size());
}

}  // namespace
}  // namespace bpfkit
