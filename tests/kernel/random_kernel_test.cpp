// Random valid programs: the kernel, bpfkit's interpreter and bpfkit's JIT must
// compute the same r0 and leave the same memory.
#include <gtest/gtest.h>

#include <string>

#include "kernel_test_util.h"
#include "testing/differential.h"
#include "testing/random_program.h"

namespace bpfkit::testgen {
namespace {

class RandomAgainstKernel : public kernel_test::KernelTest {};

// Varies the shape with the seed, so that a few hundred seeds cover short and long
// bodies, no memory and odd lengths, small and large stack areas.
RandomProgramOptions options_for(uint64_t seed) {
  static constexpr size_t kMemLens[] = {0, 1, 3, 8, 14, 33, 64, 256};
  RandomProgramOptions o;
  o.length = 20 + (seed * 37) % 220;
  o.mem_len = kMemLens[seed % std::size(kMemLens)];
  o.stack_bytes = 8 * (1 + (seed * 13) % 32);
  o.subprogram = seed % 3 != 0;
  o.kernel_workarounds = true;  // see kernel_quirks_test.cpp
  return o;
}

std::string report(uint64_t seed, const RandomProgram& prog, const DifferentialResult& result) {
  const RandomProgramOptions o = options_for(seed);
  return "seed " + std::to_string(seed) + " (length " + std::to_string(o.length) + ", mem_len " +
         std::to_string(o.mem_len) + ", stack_bytes " + std::to_string(o.stack_bytes) + ")\n" +
         result.describe() + "program:\n" + program_listing(prog.insns) + "memory:\n" + hex_dump(prog.memory);
}

TEST_F(RandomAgainstKernel, KernelInterpreterAndJitAgree) {
  constexpr uint64_t kSeeds = 1000;
  int disagreements = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    RandomProgram prog = generate_random_program(seed, options_for(seed));
    DifferentialOptions options;
    options.kernel = true;
    DifferentialResult result = run_differential(prog.insns, prog.memory, options);
    if (!result.all_agree()) {
      ADD_FAILURE() << report(seed, prog, result);
      if (++disagreements >= 3) break;  // enough to debug; keep the log readable
    }
  }
}

}  // namespace
}  // namespace bpfkit::testgen
