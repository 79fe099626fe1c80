// Where the running kernel is known to depart from the ISA. bpfkit's engines must
// follow the ISA (RFC 9669); the kernel's answer is printed, not asserted, so that
// the test keeps passing once the kernel is fixed. The random-program generator
// avoids these constructs when the kernel is the oracle (kernel_workarounds).
// Both were found by this project's differential tests on Linux 6.18 (x86-64).
#include <gtest/gtest.h>

#include <string>

#include <cstdio>

#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "target/linux/kernel_runner.h"
#include "testing/differential.h"
#include "testing/minimize.h"

namespace bpfkit {
namespace {

class KernelQuirks : public kernel_test::KernelTest {};

// A 32-bit cmpxchg zero-extends r0 with the old value (RFC 9669, 5.3.1). x86's
// cmpxchg does not write eax when the comparison succeeds, so the kernel adds a
// zero-extension, but only where its verifier saw r0 read as 64 bits: here the
// path that does so (the jump straight to exit) is pruned against the path that
// redefines w0 first, and Linux 6.18 returns r0 with its upper half intact.
TEST_F(KernelQuirks, Cmpxchg32ZeroExtensionAfterPruning) {
  const char* text = R"(
    r5 = 0x6946478a7c3c4c59 ll
    *(u64 *)(r10 - 8) = r5
    r0 = *(u64 *)(r10 - 8)
    w0 = cmpxchg32_32(r10 - 8, w0, w0)
    %s
    r6 = *(u64 *)(r10 - 8)
    if r6 != 5 goto +1
    w0 &= w5
    exit
  )";
  char plain[512], workaround[512];
  std::snprintf(plain, sizeof plain, text, "");
  std::snprintf(workaround, sizeof workaround, text, "w0 = w0");
  const uint64_t isa_answer = 0x7c3c4c59;

  std::vector<isa::RawInsn> prog = isa::assemble(plain);
  for (auto kind : {testgen::EngineKind::Interpreter, testgen::EngineKind::Jit}) {
    testgen::EngineOutcome out = testgen::run_engine(kind, prog, {});
    ASSERT_TRUE(out.ran) << out.error;
    EXPECT_EQ(out.r0, isa_answer) << testgen::engine_name(kind);
  }
  target::linux_kernel::KernelVerdict kernel = target::linux_kernel::run_in_kernel(prog, {});
  ASSERT_TRUE(kernel.accepted) << kernel.reason;
  std::printf("kernel: 32-bit cmpxchg then a pruned 64-bit read of r0 gives 0x%llx (%s)\n",
              static_cast<unsigned long long>(kernel.r0),
              kernel.r0 == isa_answer ? "zero-extended, as the ISA says" : "upper half kept: the known bug");

  // The generator's workaround must hold in this kernel.
  kernel = target::linux_kernel::run_in_kernel(isa::assemble(workaround), {});
  ASSERT_TRUE(kernel.accepted) << kernel.reason;
  EXPECT_EQ(kernel.r0, isa_answer);
}

// The reproducer of the kernel's precision bug; `extra` goes after `r4 = 0`.
std::string precision_bug_program(const char* extra) {
  const char* text = R"(
    r6 = *(u8 *)(r1 + 0)
    r2 = 1
    *(u64 *)(r10 - 8) = r2
    if r6 == 0 goto +2
    r3 = 2
    *(u64 *)(r10 - 8) = r3
    r4 = 0
    %s
    if r6 == 7 goto +0
    r5 = 1
    r5 = 2
    r5 = 3
    r5 = 4
    r5 = 5
    r5 = 6
    r5 = 7
    r5 = 8
    if r6 == 9 goto +0
    r4 = xchg_64(r10 - 8, r4)
    if r4 == 1 goto +2
    r0 = 111
    exit
    r0 = 222
    exit
  )";
  char buf[1024];
  std::snprintf(buf, sizeof buf, text, extra);
  return buf;
}

// The verifier decides `if r4 == 1` from the constant it believes the stack slot
// holds, and marks r4 precise; its backtracking does not follow the xchg that
// defined r4 back to the slot, so the slot stays imprecise and the second path
// (where the slot holds 1, not 2) is pruned as equivalent. The `r0 = 222` branch
// is then dead code to the kernel. (Fixed upstream after 6.18, where selftests
// now cover precision through atomic fetches.)
TEST_F(KernelQuirks, PrecisionIsLostThroughAFetchingAtomic) {
  const std::string plain = precision_bug_program("");
  // The generator's workaround: a non-fetching atomic makes the slot unknown.
  const std::string workaround = precision_bug_program("r7 = 0\n    lock *(u64 *)(r10 - 8) += r7");
  const std::vector<uint8_t> mem = {0};  // takes the jump: the slot holds 1

  std::vector<isa::RawInsn> prog = isa::assemble(plain);
  for (auto kind : {testgen::EngineKind::Interpreter, testgen::EngineKind::Jit}) {
    testgen::EngineOutcome out = testgen::run_engine(kind, prog, mem);
    ASSERT_TRUE(out.ran) << out.error;
    EXPECT_EQ(out.r0, 222u) << testgen::engine_name(kind);
  }
  target::linux_kernel::KernelVerdict kernel = target::linux_kernel::run_in_kernel(prog, mem);
  ASSERT_TRUE(kernel.accepted) << kernel.reason;
  std::printf("kernel: branch on a value fetched by xchg from a pruned stack slot gives %llu (%s)\n",
              static_cast<unsigned long long>(kernel.r0),
              kernel.r0 == 222 ? "correct" : "the taken branch was dropped as dead code: the known bug");

  kernel = target::linux_kernel::run_in_kernel(isa::assemble(workaround), mem);
  ASSERT_TRUE(kernel.accepted) << kernel.reason;
  EXPECT_EQ(kernel.r0, 222u);
}

// The fuzzer's minimizer on a real disagreement (this kernel's precision bug):
// the fillers go, the disagreement stays.
TEST_F(KernelQuirks, MinimizerKeepsTheDisagreement) {
  std::vector<isa::RawInsn> prog = isa::assemble(precision_bug_program(""));
  const std::vector<uint8_t> mem = {0};
  testgen::DifferentialOptions engines;
  engines.jit = false;
  engines.kernel = true;
  if (testgen::run_differential(prog, mem, engines).all_agree()) {
    GTEST_SKIP() << "this kernel no longer loses precision through xchg: nothing to minimize";
  }
  std::vector<isa::RawInsn> small = testgen::minimize_mismatch(prog, mem, engines);
  ASSERT_EQ(small.size(), prog.size());  // slots stay where they were
  EXPECT_FALSE(testgen::run_differential(small, mem, engines).all_agree());
  std::string listing = testgen::minimized_listing(small);
  EXPECT_EQ(listing.find("r5 = "), std::string::npos) << listing;
  EXPECT_NE(listing.find("xchg"), std::string::npos) << listing;
}

}  // namespace
}  // namespace bpfkit
