// Shared by the kernel tests: skipping cleanly where the kernel cannot be used.
#pragma once

#include <gtest/gtest.h>

#include "target/linux/bpf_syscall.h"

namespace bpfkit::kernel_test {

// Tests that load programs into the running kernel derive from this; they skip,
// with the reason, when this process cannot use bpf(2) (not root, no CAP_BPF).
class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!target::linux_kernel::kernel_bpf_available()) {
      GTEST_SKIP() << "skipped: " << target::linux_kernel::kernel_bpf_unavailable_reason();
    }
  }
};

}  // namespace bpfkit::kernel_test
