// bpfkit's JIT against the Linux kernel's JIT on the same programs. The kernel
// runs each as XDP under BPF_PROG_TEST_RUN with repeat = R and reports its
// average; bpfkit's JIT runs the same program R times in a loop. The two sides
// alternate batch by batch, so that both see the same machine load, and the
// closing table gives bpfkit / kernel per program (the goal is <= 1.0x).
//
// Both figures leave out time the process spends preempted: the kernel's timer
// pauses around rescheduling, and bpfkit's side is measured in thread CPU time.
#include <benchmark/benchmark.h>

#include <time.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_programs.h"
#include "core/exec_env.h"
#include "target/linux/kernel_runner.h"
#include "vm/engine.h"

namespace bpfkit::bench {
namespace {

constexpr uint32_t kRepeat = 200;  // runs per batch, on both sides

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

struct Pair {
  double kernel_ns_per_run = 0;
  double bpfkit_ns_per_run = 0;
};
std::map<std::string, Pair> results;

void paired(benchmark::State& state, const BenchProgram* p) {
  std::unique_ptr<target::linux_kernel::KernelProgram> kernel;
  try {
    kernel = std::make_unique<target::linux_kernel::KernelProgram>(p->insns, p->memory.size(), false);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    for (auto _ : state) {
    }
    return;
  }
  vm::Program program(p->insns);
  vm::EngineOptions options;
  options.checked = false;
  std::unique_ptr<vm::Engine> jit = vm::make_jit(program, options);
  std::vector<uint8_t> memory = p->memory;
  core::ExecEnv env;
  const uint64_t base = memory.empty() ? 0 : reinterpret_cast<uint64_t>(memory.data());

  double kernel_ns = 0, bpfkit_ns = 0;
  uint64_t kernel_r0 = 0, bpfkit_r0 = 0;
  for (auto _ : state) {
    target::linux_kernel::KernelProgram::Result r = kernel->run(p->memory, kRepeat);
    kernel_r0 = r.r0;
    const double k = double(r.duration_ns) * kRepeat;

    const double start = thread_cpu_ns();
    for (uint32_t i = 0; i < kRepeat; ++i) {
      bpfkit_r0 = jit->run(base, memory.size(), env);
      benchmark::DoNotOptimize(bpfkit_r0);
    }
    const double b = thread_cpu_ns() - start;

    kernel_ns += k;
    bpfkit_ns += b;
    state.SetIterationTime((k + b) * 1e-9);
  }
  if (kernel_r0 != uint32_t(p->expected_r0)) {
    state.SkipWithError("the kernel's r0 differs from the interpreter's");
  }
  if (bpfkit_r0 != p->expected_r0) state.SkipWithError("the JIT's r0 differs from the interpreter's");
  const double runs = double(state.iterations()) * kRepeat;
  Pair& pair = results[p->name];
  pair.kernel_ns_per_run = kernel_ns / runs;
  pair.bpfkit_ns_per_run = bpfkit_ns / runs;
  state.counters["kernel_ns"] = pair.kernel_ns_per_run;
  state.counters["bpfkit_ns"] = pair.bpfkit_ns_per_run;
  state.counters["bpfkit/kernel"] = pair.bpfkit_ns_per_run / pair.kernel_ns_per_run;
}

}  // namespace
}  // namespace bpfkit::bench

int main(int argc, char** argv) {
  using namespace bpfkit::bench;
  if (!bpfkit::target::linux_kernel::kernel_bpf_available()) {
    std::printf("kernel side skipped: %s\n",
                bpfkit::target::linux_kernel::kernel_bpf_unavailable_reason().c_str());
    return 0;
  }
  for (const BenchProgram& p : bench_programs()) {
    benchmark::RegisterBenchmark(("jit_vs_kernel/" + p.name).c_str(), paired, &p)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();

  std::printf("\nbpfkit JIT vs Linux kernel JIT, ns per run (batches of %u runs, alternating)\n", kRepeat);
  std::printf("%-12s %8s %12s %12s %14s %15s %15s\n", "program", "insns", "kernel ns", "bpfkit ns",
              "bpfkit/kernel", "kernel ns/insn", "bpfkit ns/insn");
  for (const BenchProgram& p : bench_programs()) {
    auto it = results.find(p.name);
    if (it == results.end() || it->second.kernel_ns_per_run <= 0) continue;
    const Pair& r = it->second;
    const double insns = double(p.insns_per_run);
    std::printf("%-12s %8.0f %12.1f %12.1f %13.2fx %15.3f %15.3f\n", p.name.c_str(), insns,
                r.kernel_ns_per_run, r.bpfkit_ns_per_run, r.bpfkit_ns_per_run / r.kernel_ns_per_run,
                r.kernel_ns_per_run / insns, r.bpfkit_ns_per_run / insns);
  }
  benchmark::Shutdown();
  return 0;
}
