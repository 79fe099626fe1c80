// Seeded random eBPF programs that the kernel's verifier accepts as bare programs
// (see target/linux/kernel_runner.h), for differential testing of the engines
// against each other and against the kernel.
//
// Shape of a program: r9 = r1 (the memory base, never written again); r0-r8 get
// random 64-bit values; the stack area the program uses is filled; then a body
// of random instructions (ALU and ALU32 including sdiv/smod/movsx/neg/endian,
// forward conditional jumps (a few may_goto), if/else shapes with goto or gotol,
// stack loads and stores (a few load-acquire / store-release), atomics on the
// stack, loads and stores in [r9, r9 + LEN), and bpf-to-bpf calls to a random
// subprogram);
// finally every register and stack slot is folded into r0, so that a wrong value
// anywhere shows in the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "isa/instruction.h"

namespace bpfkit::testgen {

struct RandomProgramOptions {
  size_t length = 100;       // random instructions in the main function's body
  size_t mem_len = 64;       // bytes of input memory (0: r1 = 0, no memory accesses)
  size_t stack_bytes = 64;   // stack bytes each function uses below r10; multiple of 8, <= 256
  bool subprogram = true;    // add a subprogram and calls to it
  size_t subprogram_length = 24;
  // Steer clear of what the running kernel is known to get wrong, for when the
  // kernel is the oracle (tests/kernel/kernel_quirks_test.cpp shows both):
  //  - Linux 6.18's precision tracking does not follow a fetching atomic back to
  //    the stack slot it read, so the verifier may prune a path whose slot holds
  //    a different constant and then drop code as dead. Each fetching atomic is
  //    preceded by `rK = 0; lock *(u64 *)(r10 + slot) += rK`, after which the
  //    verifier no longer knows the slot's value.
  //  - On x86-64 it can leave the upper half of r0 set after a 32-bit cmpxchg
  //    whose comparison succeeds (the zero-extension is skipped when the path
  //    reading r0 as 64 bits is pruned). Each 32-bit cmpxchg is followed by
  //    `w0 = w0`.
  bool kernel_workarounds = false;
};

struct RandomProgram {
  uint64_t seed = 0;
  std::vector<isa::RawInsn> insns;
  std::vector<uint8_t> memory;  // random input memory, options.mem_len bytes
};

// The same seed and options give the same program on every platform (the
// generator uses its own random number generator, not <random>'s distributions).
RandomProgram generate_random_program(uint64_t seed, const RandomProgramOptions& options = {});

// A small deterministic generator (splitmix64), shared with the fuzzers.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }  // [0, n)
  bool chance(unsigned percent) { return below(100) < percent; }
  // A value that often sits on a boundary: 0, ±1, powers of two, INT_MIN/MAX, ...
  uint64_t interesting64();
  int32_t interesting32();

 private:
  uint64_t state_;
};

}  // namespace bpfkit::testgen
