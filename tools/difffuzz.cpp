// bpfkit-difffuzz: differential fuzzing of bpfkit's interpreter against its JIT,
// and of both against the Linux kernel with --kernel, on seeded random programs
// that the kernel's verifier accepts.
//
//   bpfkit-difffuzz [--seed S] [--iterations N] [--kernel] [--length L] [--mem-len M]
//                   [--no-jit] [--unchecked] [--minimize] [--save-dir DIR]
//
// Iteration i uses seed S + i; every mismatch prints the command line that
// reproduces it alone, the program, its memory and what each engine computed.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>

#include "isa/codec.h"
#include "isa/disassembler.h"
#include "target/linux/bpf_syscall.h"
#include "testing/differential.h"
#include "testing/minimize.h"
#include "testing/random_program.h"

namespace {

using namespace bpfkit;

struct Config {
  uint64_t seed = 1;
  uint64_t iterations = 1000;
  bool kernel = false;
  size_t length = 0;     // 0: varies with the seed
  int64_t mem_len = -1;  // -1: varies with the seed
  bool unchecked = false;
  bool no_jit = false;
  bool minimize = false;
  bool no_workarounds = false;
  std::string save_dir;
};

// The program shape for one seed: drawn from the seed unless fixed on the command line.
testgen::RandomProgramOptions options_for(uint64_t seed, const Config& cfg) {
  static constexpr size_t kMemLens[] = {0, 1, 4, 8, 14, 20, 64, 128, 512};
  testgen::Rng rng(seed ^ 0x5eed5eed5eedull);
  testgen::RandomProgramOptions o;
  o.length = cfg.length ? cfg.length : 10 + rng.below(400);
  o.mem_len = cfg.mem_len >= 0 ? size_t(cfg.mem_len) : kMemLens[rng.below(std::size(kMemLens))];
  o.stack_bytes = 8 * (1 + rng.below(32));
  o.subprogram = rng.chance(70);
  o.subprogram_length = 5 + rng.below(40);
  o.kernel_workarounds = cfg.kernel && !cfg.no_workarounds;  // keep the kernel's known bugs out
  return o;
}

std::string repro_command(uint64_t seed, const Config& cfg) {
  std::string cmd = "bpfkit-difffuzz --seed " + std::to_string(seed) + " --iterations 1";
  if (cfg.length) cmd += " --length " + std::to_string(cfg.length);
  if (cfg.mem_len >= 0) cmd += " --mem-len " + std::to_string(cfg.mem_len);
  if (cfg.kernel) cmd += " --kernel";
  if (cfg.unchecked) cmd += " --unchecked";
  if (cfg.no_jit) cmd += " --no-jit";
  if (cfg.minimize) cmd += " --minimize";
  if (cfg.no_workarounds) cmd += " --no-kernel-workarounds";
  return cmd;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Writes the failing program as a conformance data file (uBPF syntax, relative
// jump offsets). The expected result is the r0 that a majority of the engines
// computed; with no majority the file has no -- result and says so.
void save_case(const std::string& dir, uint64_t seed, std::span<const isa::RawInsn> insns,
               std::span<const uint8_t> memory, const testgen::DifferentialResult& result) {
  std::filesystem::create_directories(dir);
  std::filesystem::path path = std::filesystem::path(dir) / ("difffuzz-" + std::to_string(seed) + ".data");
  std::ofstream out(path);
  out << "# bpfkit-difffuzz seed " << seed << "\n";
  std::optional<uint64_t> majority;
  for (const auto& o : result.outcomes) {
    out << "# " << testgen::engine_name(o.engine) << ": " << (o.ran ? "r0 = " + hex(o.r0) : "did not run") << "\n";
    size_t votes = 0;
    for (const auto& other : result.outcomes) votes += other.ran && o.ran && other.r0 == o.r0;
    if (o.ran && 2 * votes > result.outcomes.size()) majority = o.r0;
  }
  out << "-- asm\n";
  for (const isa::DecodedInsn& d : isa::decode_program(insns)) {
    out << isa::format_insn(d.insn, d.slot, isa::AsmSyntax::Ubpf) << "\n";
  }
  if (!memory.empty()) out << "-- mem\n" << testgen::hex_dump(memory);
  if (majority) {
    out << "-- result\n" << hex(*majority) << "\n";
  } else {
    out << "# no -- result: no majority among the engines\n";
  }
  std::printf("  saved %s\n", path.c_str());
}

int run(const Config& cfg) {
  if (cfg.kernel && !target::linux_kernel::kernel_bpf_available()) {
    std::fprintf(stderr, "bpfkit-difffuzz: --kernel: %s\n",
                 target::linux_kernel::kernel_bpf_unavailable_reason().c_str());
    return 2;
  }
  testgen::DifferentialOptions engines;
  engines.kernel = cfg.kernel;
  engines.jit = !cfg.no_jit;
  engines.checked = !cfg.unchecked;
  std::printf("bpfkit-difffuzz: seeds %llu..%llu, interpreter%s%s%s\n",
              static_cast<unsigned long long>(cfg.seed),
              static_cast<unsigned long long>(cfg.seed + cfg.iterations - 1), cfg.no_jit ? "" : " vs jit",
              cfg.kernel ? " vs kernel" : "",
              cfg.unchecked ? " (unchecked mode)" : "");
  uint64_t passed = 0, failed = 0;
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  for (uint64_t i = 0; i < cfg.iterations; ++i) {
    const uint64_t seed = cfg.seed + i;
    const testgen::RandomProgramOptions options = options_for(seed, cfg);
    testgen::RandomProgram prog = testgen::generate_random_program(seed, options);
    testgen::DifferentialResult result = testgen::run_differential(prog.insns, prog.memory, engines);
    if (result.all_agree()) {
      ++passed;
    } else {
      ++failed;
      std::printf("\nMISMATCH seed %llu (length %zu, mem_len %zu, stack_bytes %zu, subprogram %s)\n",
                  static_cast<unsigned long long>(seed), options.length, options.mem_len, options.stack_bytes,
                  options.subprogram ? "yes" : "no");
      std::printf("  reproduce: %s\n%s", repro_command(seed, cfg).c_str(), result.describe().c_str());
      std::printf("program:\n%s", testgen::program_listing(prog.insns).c_str());
      if (!prog.memory.empty()) std::printf("memory:\n%s", testgen::hex_dump(prog.memory).c_str());
      std::vector<isa::RawInsn> repro = prog.insns;
      testgen::DifferentialResult repro_result = result;
      if (cfg.minimize) {
        repro = testgen::minimize_mismatch(prog.insns, prog.memory, engines);
        repro_result = testgen::run_differential(repro, prog.memory, engines);
        std::printf("minimized (goto +0 fillers not shown; slots as above):\n%s%s",
                    testgen::minimized_listing(repro).c_str(), repro_result.describe().c_str());
      }
      if (!cfg.save_dir.empty()) save_case(cfg.save_dir, seed, repro, prog.memory, repro_result);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_report > std::chrono::seconds(2) || i + 1 == cfg.iterations) {
      last_report = now;
      double secs = std::chrono::duration<double>(now - start).count();
      std::printf("[%llu/%llu] %llu passed, %llu failed, %.1f programs/s\n",
                  static_cast<unsigned long long>(i + 1), static_cast<unsigned long long>(cfg.iterations),
                  static_cast<unsigned long long>(passed), static_cast<unsigned long long>(failed),
                  secs > 0 ? double(i + 1) / secs : 0.0);
      std::fflush(stdout);
    }
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(passed),
              static_cast<unsigned long long>(failed));
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  CLI::App app{"Differential fuzzing: bpfkit's interpreter vs its JIT (vs the Linux kernel with --kernel) "
               "on random programs the kernel's verifier accepts."};
  app.add_option("--seed", cfg.seed, "first seed; iteration i uses seed + i");
  app.add_option("--iterations,-n", cfg.iterations, "how many programs");
  app.add_flag("--kernel", cfg.kernel, "also run every program in the Linux kernel (needs root)");
  app.add_option("--length", cfg.length, "random instructions per program (default: varies)");
  app.add_option("--mem-len", cfg.mem_len, "bytes of input memory (default: varies)")
      ->check(CLI::Range(0, 3072));
  app.add_flag("--unchecked", cfg.unchecked, "run the engines without bounds checks");
  app.add_flag("--no-jit", cfg.no_jit, "leave the JIT out (with --kernel: interpreter vs kernel)");
  app.add_flag("--minimize", cfg.minimize, "shrink each mismatching program before printing it again");
  app.add_flag("--no-kernel-workarounds", cfg.no_workarounds,
               "with --kernel, also generate what the kernel is known to get wrong");
  app.add_option("--save-dir", cfg.save_dir, "write each mismatch as a conformance .data file here");
  CLI11_PARSE(app, argc, argv);
  if (cfg.no_jit && !cfg.kernel) {
    std::fprintf(stderr, "bpfkit-difffuzz: --no-jit needs --kernel (nothing to compare otherwise)\n");
    return 2;
  }
  try {
    return run(cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bpfkit-difffuzz: %s\n", e.what());
    return 2;
  }
}
