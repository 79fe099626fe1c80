// bpfkit's interpreter and JIT, unchecked (trusted programs), in nanoseconds per
// executed instruction on an ALU loop, a stack loop and a prime sieve; plus the
// JIT's compile time per 1,000 instructions. Ends with a table that sets the
// figures against uBPF's interpreter (reference constants, not measured here).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_programs.h"
#include "core/exec_env.h"
#include "testing/random_program.h"
#include "vm/engine.h"

namespace bpfkit::bench {
namespace {

enum class Engine { Interpreter, Jit };

std::unique_ptr<vm::Engine> make_engine(Engine engine, const vm::Program& program) {
  vm::EngineOptions options;
  options.checked = false;
  return engine == Engine::Jit ? vm::make_jit(program, options) : vm::make_interpreter(program, options);
}

void run_program(benchmark::State& state, Engine which, const BenchProgram* p) {
  vm::Program program(p->insns);
  std::unique_ptr<vm::Engine> engine = make_engine(which, program);
  std::vector<uint8_t> memory = p->memory;
  core::ExecEnv env;
  const uint64_t base = memory.empty() ? 0 : reinterpret_cast<uint64_t>(memory.data());
  uint64_t r0 = 0;
  for (auto _ : state) {
    r0 = engine->run(base, memory.size(), env);
    benchmark::DoNotOptimize(r0);
  }
  if (r0 != p->expected_r0) {
    state.SkipWithError("wrong result: the engine disagrees with the interpreter's checked run");
  }
  state.counters["insns"] = double(p->insns_per_run);
  state.counters["insn/s"] =
      benchmark::Counter(double(p->insns_per_run), benchmark::Counter::kIsIterationInvariantRate);
}

// A 1,000-instruction random program (the differential fuzzer's kind).
const std::vector<isa::RawInsn>& compile_input() {
  static const std::vector<isa::RawInsn> insns = [] {
    testgen::RandomProgramOptions options;
    options.length = 950;  // plus register and stack setup and the fold: about 1,000 instructions
    options.mem_len = 64;
    return testgen::generate_random_program(7, options).insns;
  }();
  return insns;
}

void compile(benchmark::State& state, Engine which) {
  const std::vector<isa::RawInsn>& insns = compile_input();
  vm::Program program(insns);
  for (auto _ : state) {
    std::unique_ptr<vm::Engine> engine = make_engine(which, program);
    benchmark::DoNotOptimize(engine.get());
  }
  state.counters["instructions"] = double(program.insns().size());
}

// Captures the runs for the closing table and prints them as usual.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  struct Row {
    double cpu_ns = 0;  // per iteration
    double insns = 0;
    double slots = 0;  // instructions of the compiled program
  };
  std::map<std::string, Row> rows;

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      Row row;
      row.cpu_ns = run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
      if (auto it = run.counters.find("insns"); it != run.counters.end()) row.insns = it->second.value;
      if (auto it = run.counters.find("instructions"); it != run.counters.end()) row.slots = it->second.value;
      rows[run.benchmark_name()] = row;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

void print_table(const TableReporter& reporter) {
  auto find = [&](const std::string& name) -> const TableReporter::Row* {
    auto it = reporter.rows.find(name);
    return it == reporter.rows.end() ? nullptr : &it->second;
  };
  std::printf("\nbpfkit engines, unchecked mode, CPU time per executed instruction\n");
  std::printf("%-12s %10s %10s %11s %12s %16s %13s\n", "program", "interp ns", "jit ns", "interp/jit",
              "uBPF ref ns", "interp/uBPF ref", "jit/uBPF ref");
  for (const BenchProgram& p : bench_programs()) {
    const TableReporter::Row* interp = find("interpreter/" + p.name);
    const TableReporter::Row* jit = find("jit/" + p.name);
    double in = interp ? interp->cpu_ns / interp->insns : 0;
    double jn = jit ? jit->cpu_ns / jit->insns : 0;
    std::printf("%-12s %10.3f %10.3f %10.1fx", p.name.c_str(), in, jn, jn > 0 ? in / jn : 0.0);
    if (p.ubpf_reference_ns > 0) {
      std::printf(" %12.1f %15.2fx %12.3fx\n", p.ubpf_reference_ns, in / p.ubpf_reference_ns,
                  jn / p.ubpf_reference_ns);
    } else {
      std::printf(" %12s %16s %13s\n", "-", "-", "-");
    }
  }
  std::printf("(uBPF reference: its interpreter measured on this kind of machine, 3.4 ns/insn ALU loop, "
              "4.6 ns/insn stack loop; a constant, not measured by this program)\n");
  for (const char* engine : {"jit", "interpreter"}) {
    if (const TableReporter::Row* c = find(std::string(engine) + "_compile")) {
      std::printf("%s preparation: %.1f us per 1,000 instructions (%.0f-instruction random program)\n",
                  engine, c->cpu_ns / c->slots, c->slots);
    }
  }
}

}  // namespace
}  // namespace bpfkit::bench

int main(int argc, char** argv) {
  using namespace bpfkit::bench;
  for (const BenchProgram& p : bench_programs()) {
    benchmark::RegisterBenchmark(("interpreter/" + p.name).c_str(), run_program, Engine::Interpreter, &p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("jit/" + p.name).c_str(), run_program, Engine::Jit, &p)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("jit_compile", compile, Engine::Jit)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("interpreter_compile", compile, Engine::Interpreter)
      ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_table(reporter);
  benchmark::Shutdown();
  return 0;
}
