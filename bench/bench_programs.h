// The programs both engine benchmarks run (bench_engines, bench_jit_vs_kernel).
// Each is a bare program (r1 = memory, r2 = its length) with bounded loops, so
// the kernel's verifier accepts it too.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "isa/assembler.h"
#include "testing/differential.h"
#include "testing/insn_count.h"

namespace bpfkit::bench {

// uBPF's interpreter, measured on this kind of machine: the reference the README
// compares against. Not our measurement.
inline constexpr double kUbpfReferenceAluLoopNs = 3.4;
inline constexpr double kUbpfReferenceStackLoopNs = 4.6;

struct BenchProgram {
  std::string name;
  std::vector<isa::RawInsn> insns;
  std::vector<uint8_t> memory;
  uint64_t insns_per_run = 0;       // dynamically executed, counted once
  double ubpf_reference_ns = 0;     // per instruction; 0 when there is none
  uint64_t expected_r0 = 0;
};

// 10,000 rounds of 64- and 32-bit arithmetic on registers only.
inline const char* kAluLoop = R"(
    r0 = 0
    r3 = 0x12345678
    r6 = 0
  loop:
    r0 += r3
    r3 ^= r0
    r3 *= 17
    r4 = r0
    r4 >>= 7
    r0 ^= r4
    w5 = w3
    w5 += 0x3c6ef372
    r0 -= r5
    r6 += 1
    if r6 < 10000 goto loop
    exit
)";

// 10,000 rounds of loads and stores through the frame pointer.
inline const char* kStackLoop = R"(
    r0 = 0
    r6 = 0
    *(u64 *)(r10 - 8) = 1
    *(u64 *)(r10 - 16) = 2
    *(u64 *)(r10 - 24) = 3
  loop:
    r3 = *(u64 *)(r10 - 8)
    r3 += r6
    *(u64 *)(r10 - 16) = r3
    r4 = *(u64 *)(r10 - 16)
    r4 ^= r0
    *(u64 *)(r10 - 8) = r4
    r0 += r4
    *(u32 *)(r10 - 24) = r0
    r5 = *(u32 *)(r10 - 24)
    r0 += r5
    r6 += 1
    if r6 < 10000 goto loop
    exit
)";

// Counts the primes below the memory's length with a byte per number: clear,
// cross out multiples of every prime p with p * p < N, count what is left.
inline const char* kSieve = R"(
    r3 = 0
  clear:
    r4 = r1
    r4 += r3
    *(u8 *)(r4 + 0) = 0
    r3 += 1
    if r3 < r2 goto clear
    r3 = 2
  outer:
    r5 = r3
    r5 *= r3
    if r5 >= r2 goto count
    r4 = r1
    r4 += r3
    r0 = *(u8 *)(r4 + 0)
    if r0 != 0 goto next
  inner:
    r4 = r1
    r4 += r5
    *(u8 *)(r4 + 0) = 1
    r5 += r3
    if r5 < r2 goto inner
  next:
    r3 += 1
    goto outer
  count:
    r0 = 0
    r3 = 2
  tally:
    r4 = r1
    r4 += r3
    r5 = *(u8 *)(r4 + 0)
    if r5 != 0 goto composite
    r0 += 1
  composite:
    r3 += 1
    if r3 < r2 goto tally
    exit
)";

inline constexpr size_t kSieveSize = 2000;  // fits one XDP test packet
inline constexpr uint64_t kPrimesBelowSieveSize = 303;

inline BenchProgram make_bench_program(std::string name, const char* text, std::vector<uint8_t> memory,
                                       double ubpf_ns) {
  BenchProgram p;
  p.name = std::move(name);
  p.insns = isa::assemble(text);
  p.memory = std::move(memory);
  p.insns_per_run = testgen::count_executed_instructions(p.insns, p.memory);
  p.ubpf_reference_ns = ubpf_ns;
  testgen::EngineOutcome out = testgen::run_engine(testgen::EngineKind::Interpreter, p.insns, p.memory);
  if (!out.ran) {
    std::fprintf(stderr, "benchmark program %s does not run: %s\n", p.name.c_str(), out.error.c_str());
    std::exit(2);
  }
  p.expected_r0 = out.r0;
  return p;
}

inline const std::vector<BenchProgram>& bench_programs() {
  static const std::vector<BenchProgram> programs = [] {
    std::vector<BenchProgram> v;
    v.push_back(make_bench_program("alu_loop", kAluLoop, {}, kUbpfReferenceAluLoopNs));
    v.push_back(make_bench_program("stack_loop", kStackLoop, {}, kUbpfReferenceStackLoopNs));
    v.push_back(make_bench_program("sieve", kSieve, std::vector<uint8_t>(kSieveSize), 0));
    if (v.back().expected_r0 != kPrimesBelowSieveSize) {
      std::fprintf(stderr, "sieve counted %llu primes below %zu, not %llu\n",
                   static_cast<unsigned long long>(v.back().expected_r0), kSieveSize,
                   static_cast<unsigned long long>(kPrimesBelowSieveSize));
      std::exit(2);
    }
    return v;
  }();
  return programs;
}

}  // namespace bpfkit::bench
