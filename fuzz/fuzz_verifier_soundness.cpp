// libFuzzer target: verifier soundness. The input chooses a generated program
// (bytes 0-7: its seed; byte 8: the fault rate), a chain of mutations of it
// (byte 9: how many, the rest seeds their choices) and the packets. Whatever the
// verifier accepts must run on the checked engines without tripping a check and
// give the same result on every engine (testing/verifier_soundness.h).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "testing/verifier_soundness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfkit::testgen;
  uint64_t seed = 0;
  std::memcpy(&seed, data, size < 8 ? size : 8);
  SoundnessGenOptions gen;
  gen.fault_percent = size > 8 ? data[8] % 30 : 8;
  SoundProgram program = generate_sound_program(seed, gen);

  // The tail of the input seeds the mutations and, raw, becomes the first packet.
  uint64_t tail_hash = 0xcbf29ce484222325ull;
  for (size_t i = 10; i < size; ++i) tail_hash = (tail_hash ^ data[i]) * 0x100000001b3ull;
  Rng rng(tail_hash);
  const size_t mutations = size > 9 ? data[9] % 4 : 0;
  for (size_t i = 0; i < mutations; ++i) mutate_sound_program(program, rng);

  std::vector<SoundInput> inputs = sound_inputs(rng, 2);
  if (size > 10) {
    inputs[0].packet.assign(data + 10, data + (size - 10 > 256 ? 266 : size));
    if (inputs[0].packet.size() < 14) inputs[0].packet.resize(14);  // test runs need an Ethernet header
  }
  const SoundnessVerdict v = check_soundness(program, inputs);
  if (v.bug) {
    std::fprintf(stderr, "%s\n", v.report.c_str());
    std::abort();
  }
  return 0;
}
