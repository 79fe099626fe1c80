// Verifier soundness on fixed seeds: no accepted program trips a runtime check or
// makes the engines disagree, and the generator is useful (most of its programs
// are accepted, some of its mutants too). Also that the oracle does see a bug.
#include "testing/verifier_soundness.h"

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <set>

namespace bpfkit::testgen {
namespace {

TEST(SoundGenerator, SameSeedSameProgram) {
  const SoundProgram a = generate_sound_program(5), b = generate_sound_program(5),
                     c = generate_sound_program(6);
  EXPECT_EQ(a.insns, b.insns);
  EXPECT_EQ(a.prog_type, b.prog_type);
  EXPECT_NE(a.insns, c.insns);
}

TEST(SoundGenerator, CoversTheProgramTypes) {
  std::set<uint32_t> types;
  for (uint64_t s = 0; s < 100; ++s) types.insert(generate_sound_program(s).prog_type);
  EXPECT_EQ(types,
            (std::set<uint32_t>{BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_XDP}));
}

TEST(SoundGenerator, MutationChangesOneThing) {
  const SoundProgram p = generate_sound_program(11);
  Rng rng(3);
  size_t changed = 0;
  for (int i = 0; i < 50; ++i) {
    SoundProgram m = p;
    const std::string what = mutate_sound_program(m, rng);
    EXPECT_FALSE(what.empty());
    EXPECT_EQ(m.insns.size(), p.insns.size());
    changed += m.insns != p.insns;
  }
  EXPECT_GT(changed, 40u);
}

// The oracle itself: a packet read past data_end with no bounds check, run although
// the verifier rejects it, must be reported (the checked engines stop on it).
TEST(SoundOracle, ReportsAnUncheckedPacketRead) {
  SoundProgram p = generate_sound_program(1);
  p.prog_type = BPF_PROG_TYPE_XDP;
  p.insns = {
      {uint8_t(BPF_LDX | BPF_MEM | BPF_W), 2, 1, 0, 0},   // r2 = ctx->data
      {uint8_t(BPF_LDX | BPF_MEM | BPF_B), 0, 2, 40, 0},  // r0 = *(u8 *)(r2 + 40)
      {uint8_t(BPF_JMP | BPF_EXIT), 0, 0, 0, 0},
  };
  Rng rng(1);
  std::vector<SoundInput> inputs = sound_inputs(rng, 1);
  inputs[0].packet.assign(20, 0xab);
  const SoundnessVerdict v = check_soundness(p, inputs, /*run_rejected=*/true);
  EXPECT_FALSE(v.accepted);
  EXPECT_TRUE(v.bug);
  EXPECT_NE(v.report.find("checked interpreter failed"), std::string::npos) << v.report;
}

// An uninitialised stack read shows as a disagreement between checked (zeroed stack)
// and unchecked engines (poisoned host stack).
TEST(SoundOracle, ReportsAnUninitialisedStackRead) {
  SoundProgram p = generate_sound_program(1);
  p.prog_type = BPF_PROG_TYPE_XDP;
  p.privileged = false;
  p.deterministic = true;
  p.insns = {
      {uint8_t(BPF_LDX | BPF_MEM | BPF_DW), 0, 10, -320, 0},  // r0 = *(u64 *)(r10 - 320), never written
      {uint8_t(BPF_JMP | BPF_EXIT), 0, 0, 0, 0},
  };
  Rng rng(1);
  const std::vector<SoundInput> inputs = sound_inputs(rng, 1);
  const SoundnessVerdict v = check_soundness(p, inputs, /*run_rejected=*/true);
  EXPECT_FALSE(v.accepted);
  EXPECT_TRUE(v.bug);
  EXPECT_NE(v.report.find("disagrees"), std::string::npos) << v.report;
}

TEST(VerifierSoundness, FixedSeeds) {
  SoundnessStats stats;
  for (uint64_t seed = 1; seed <= 300; ++seed) soundness_round(seed, 3, stats);
  EXPECT_EQ(stats.bugs, 0u) << stats.first_bug;
  EXPECT_EQ(stats.generated, 300u);
  // A generator whose programs the verifier mostly rejects would test nothing.
  EXPECT_GE(stats.accepted * 100, stats.generated * 30) << stats.accepted << " of " << stats.generated;
  EXPECT_GE(stats.mutants_accepted * 100, stats.mutants * 10)
      << stats.mutants_accepted << " of " << stats.mutants;
  std::printf("generated %llu, accepted %llu; mutants %llu, accepted %llu\n",
              static_cast<unsigned long long>(stats.generated),
              static_cast<unsigned long long>(stats.accepted), static_cast<unsigned long long>(stats.mutants),
              static_cast<unsigned long long>(stats.mutants_accepted));
}

}  // namespace
}  // namespace bpfkit::testgen
