// bpfkit-soundfuzz: soundness fuzzing of bpfkit's verifier. Programs built to be
// accepted often (and one-instruction mutants of them) are verified; whatever the
// verifier accepts runs on the checked and unchecked interpreter and JIT, and a
// runtime check that fires, a failed run or a disagreement is a bug.
//
//   bpfkit-soundfuzz [--seed S] [--iterations N] [--mutations M] [--seconds T] [--fault-percent P]
//
// Round i uses seed S + i (the program and its M mutants). Exit status 1 when a bug was found.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "testing/verifier_soundness.h"

namespace {

using namespace bpfkit;

char g_current[128];  // the round in progress, for a crash in an unchecked engine

void on_crash(int sig) {
  const char* what = "bpfkit-soundfuzz: crashed (an unchecked engine ran an unsafe program?) in ";
  ssize_t ignored = write(2, what, std::strlen(what));
  ignored = write(2, g_current, std::strlen(g_current));
  (void)ignored;
  signal(sig, SIG_DFL);
  raise(sig);
}

void print_bug(const std::string& report) { std::printf("\n%s\n", report.c_str()); }

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 1, iterations = 1000;
  size_t mutations = 8;
  double seconds = 0;
  bool verbose = false;
  testgen::SoundnessGenOptions gen;
  CLI::App app{
      "Soundness fuzzing of bpfkit's verifier: what it accepts must run cleanly on the checked engines "
      "and identically on all engines."};
  app.add_option("--seed", seed, "first seed; round i uses seed + i");
  app.add_option("--iterations,-n", iterations, "rounds (one generated program and its mutants each)");
  app.add_option("--mutations", mutations, "mutants per generated program");
  app.add_option("--seconds", seconds, "stop after this long (0: run all iterations)");
  app.add_option("--fault-percent", gen.fault_percent, "chance that a building block breaks a rule")
      ->check(CLI::Range(0, 100));
  app.add_flag("--verbose,-v", verbose, "show one verifier message per kind of rejection");
  CLI11_PARSE(app, argc, argv);
  signal(SIGSEGV, on_crash);
  signal(SIGBUS, on_crash);

  std::printf("bpfkit-soundfuzz: seeds %llu.., %zu mutants each\n", static_cast<unsigned long long>(seed),
              mutations);
  testgen::SoundnessStats stats;
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  uint64_t i = 0;
  for (; i < iterations; ++i) {
    std::snprintf(
        g_current, sizeof g_current, "round seed %llu (bpfkit-soundfuzz --seed %llu -n 1 --mutations %zu)\n",
        static_cast<unsigned long long>(seed + i), static_cast<unsigned long long>(seed + i), mutations);
    try {
      testgen::soundness_round(seed + i, mutations, stats, gen, print_bug);
    } catch (const std::exception& e) {
      std::printf("\nround seed %llu threw: %s\n", static_cast<unsigned long long>(seed + i), e.what());
      ++stats.bugs;
    }
    const auto now = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(now - start).count();
    if (now - last > std::chrono::seconds(5)) {
      last = now;
      std::printf(
          "[%llu rounds, %.0fs] generated %llu accepted %llu, mutants %llu accepted %llu, bugs %llu\n",
          static_cast<unsigned long long>(i + 1), secs, static_cast<unsigned long long>(stats.generated),
          static_cast<unsigned long long>(stats.accepted), static_cast<unsigned long long>(stats.mutants),
          static_cast<unsigned long long>(stats.mutants_accepted),
          static_cast<unsigned long long>(stats.bugs));
      std::fflush(stdout);
    }
    if (seconds > 0 && secs >= seconds) {
      ++i;
      break;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t tried = stats.generated + stats.mutants;
  std::printf(
      "rounds %llu in %.1fs: generated %llu, accepted %llu (%.0f%%); mutants %llu, accepted %llu (%.0f%%); "
      "programs run %llu of %llu tried; bugs %llu\n",
      static_cast<unsigned long long>(i), secs, static_cast<unsigned long long>(stats.generated),
      static_cast<unsigned long long>(stats.accepted),
      stats.generated ? 100.0 * double(stats.accepted) / double(stats.generated) : 0.0,
      static_cast<unsigned long long>(stats.mutants), static_cast<unsigned long long>(stats.mutants_accepted),
      stats.mutants ? 100.0 * double(stats.mutants_accepted) / double(stats.mutants) : 0.0,
      static_cast<unsigned long long>(stats.run), static_cast<unsigned long long>(tried),
      static_cast<unsigned long long>(stats.bugs));
  std::printf("generated programs rejected, by kind:");
  for (const auto& [kind, n] : stats.rejections)
    std::printf(" %s %llu", kind.c_str(), static_cast<unsigned long long>(n));
  std::printf("\n");
  if (verbose) {
    for (const auto& [kind, example] : stats.rejection_examples) std::printf("  e.g. %s\n", example.c_str());
  }
  for (const auto& [why, n] : stats.refusal_reasons) {
    std::printf("engines refused %llu verified programs: %s\n", static_cast<unsigned long long>(n), why.c_str());
  }
  if (stats.engine_refusals) {
    std::printf(
        "engines refused %llu verified programs (engine false positives, not verifier bugs); the "
        "first:\n%s\n",
        static_cast<unsigned long long>(stats.engine_refusals), stats.first_refusal.c_str());
  }
  return stats.bugs ? 1 : 0;
}
