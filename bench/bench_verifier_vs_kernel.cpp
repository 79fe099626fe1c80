// bpfkit's verifier beside the kernel's on the same instructions, program type and
// maps (created for real in the kernel): the examples (BUILD/examples/*.bpf.o) and
// the large generated programs of src/testing/large_programs.h.
//
// bpfkit's time is the best of the benchmark's iterations of verify_program (graph
// build included); the kernel's is the best "verification time" of kKernelLoads
// loads with log_level BPF_LOG_STATS. Counters per program: insns, processed
// instructions and states of both, both times (us), ratio (bpfkit / kernel time) and
// bpfkit's peak state memory. A table of the same figures is printed at the end.
// Without bpf(2) (not root) the kernel columns are 0.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "helpers/runtime_helpers.h"
#include "object/bpf_object.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/kernel_verify.h"
#include "target/linux/linux_target.h"
#include "target/target.h"
#include "target/verify_object.h"
#include "testing/large_programs.h"
#include "verifier/verifier.h"

namespace {

namespace lk = bpfkit::target::linux_kernel;
using bpfkit::verifier::VerifyInput;
using bpfkit::verifier::VerifyResult;

constexpr int kKernelLoads = 5;

struct Row {
  std::string name;
  size_t insns = 0;
  bool bpfkit_ok = false;
  std::string bpfkit_error;
  uint64_t bpfkit_processed = 0, bpfkit_states = 0, bpfkit_peak_bytes = 0;
  double bpfkit_us = 0;
  bool kernel_ran = false, kernel_ok = false;
  std::string kernel_error;
  uint64_t kernel_processed = 0, kernel_states = 0;
  double kernel_us = 0;
};

// One program to verify on both sides; owns everything its inputs point into.
struct Subject {
  Row row;
  std::vector<bpfkit::isa::RawInsn> insns;
  VerifyInput input;
  std::shared_ptr<bpfkit::object::BpfObject> object;  // examples
  std::shared_ptr<bpfkit::target::LoadedObject> kernel_object;  // holds the example's kernel maps
  std::vector<lk::UniqueFd> own_maps;                 // generated programs' kernel maps
  std::vector<int> map_fds;
  uint32_t expected_attach_type = 0;
};

std::vector<std::unique_ptr<Subject>>& subjects() {
  static std::vector<std::unique_ptr<Subject>> all;
  return all;
}

void measure_kernel(Subject& s) {
  if (!lk::kernel_bpf_available()) return;
  lk::KernelVerifyRequest req;
  req.prog_type = s.input.prog_type;
  req.expected_attach_type = s.expected_attach_type;
  req.insns = s.insns;
  req.map_fds = s.map_fds;
  s.row.kernel_ran = true;
  for (int i = 0; i < kKernelLoads; ++i) {
    const lk::KernelVerifyResult r = lk::kernel_verify(req);
    if (!r.accepted || !r.stats) {
      s.row.kernel_ok = false;
      const size_t tail = r.log.size() > 300 ? r.log.size() - 300 : 0;
      s.row.kernel_error = "errno " + std::to_string(r.err) + ": " + r.log.substr(tail);
      return;
    }
    s.row.kernel_ok = true;
    s.row.kernel_processed = r.stats->insns_processed;
    s.row.kernel_states = r.stats->total_states;
    const double us = double(r.stats->time_usec);
    s.row.kernel_us = i == 0 ? us : std::min(s.row.kernel_us, us);
  }
}

void add_examples() {
  const std::string dir = std::string(BPFKIT_BINARY_DIR) + "/examples";
  if (!std::filesystem::is_directory(dir)) {
    std::fprintf(stderr, "note: %s does not exist (examples not built): generated programs only\n",
                 dir.c_str());
    return;
  }
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string p = e.path().string();
    if (p.size() > 6 && p.substr(p.size() - 6) == ".bpf.o") paths.push_back(p);
  }
  std::sort(paths.begin(), paths.end());
  for (const std::string& path : paths) {
    auto object = std::make_shared<bpfkit::object::BpfObject>(bpfkit::object::BpfObject::open(path));
    std::shared_ptr<bpfkit::target::LoadedObject> loaded;
    std::string kernel_error;
    if (lk::kernel_bpf_available()) {
      try {
        loaded = bpfkit::target::make_linux_target()->load(object);
      } catch (const std::exception& e) {
        kernel_error = e.what();
      }
    }
    for (const bpfkit::object::ProgramDefinition& prog : object->programs()) {
      auto s = std::make_unique<Subject>();
      s->object = object;
      s->kernel_object = loaded;
      s->insns = prog.insns;
      s->input = bpfkit::target::verify_input_for(*object, prog, &bpfkit::helpers::runtime_helpers());
      s->input.insns = s->insns;
      s->expected_attach_type = prog.def.expected_attach_type;
      s->row.name = std::filesystem::path(path).filename().string() + ":" + prog.name;
      s->row.insns = s->insns.size();
      if (loaded) {
        for (const bpfkit::object::MapDefinition& m : object->maps()) {
          bpfkit::target::MapHandle* h = m.inner_template ? nullptr : loaded->find_map(m.name);
          s->map_fds.push_back(h ? lk::map_fd(*h) : -1);
        }
        measure_kernel(*s);
      } else if (!kernel_error.empty()) {
        s->row.kernel_ran = true;
        s->row.kernel_error = kernel_error;
      }
      subjects().push_back(std::move(s));
    }
  }
}

void add_generated() {
  for (bpfkit::testgen::LargeProgram& p : bpfkit::testgen::large_programs()) {
    auto s = std::make_unique<Subject>();
    s->insns = std::move(p.insns);
    p.insns = s->insns;
    s->input = bpfkit::testgen::large_program_input(p);
    s->input.insns = s->insns;
    s->row.name = p.name;
    s->row.insns = s->insns.size();
    if (lk::kernel_bpf_available()) {
      try {
        for (const bpfkit::verifier::MapInfo& m : p.maps) {
          s->own_maps.push_back(lk::map_create(bpfkit::target::map_spec_of(m)));
          s->map_fds.push_back(s->own_maps.back().get());
        }
        measure_kernel(*s);
      } catch (const std::exception& e) {
        s->row.kernel_ran = true;
        s->row.kernel_error = e.what();
      }
    }
    subjects().push_back(std::move(s));
  }
}

void verify_bench(benchmark::State& state, Subject* s) {
  double best = 0;
  VerifyResult r;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    r = bpfkit::verifier::verify_program(s->input);
    const auto t1 = std::chrono::steady_clock::now();
    const double us = std::chrono::duration<double, std::micro>(t1 - t0).count();
    best = best == 0 ? us : std::min(best, us);
    benchmark::DoNotOptimize(r.ok);
  }
  Row& row = s->row;
  row.bpfkit_ok = r.ok;
  row.bpfkit_error = r.ok ? "" : r.message.substr(0, 300);
  row.bpfkit_processed = r.stats.insns_processed;
  row.bpfkit_states = r.stats.states_total;
  row.bpfkit_peak_bytes = r.stats.peak_memory_bytes;
  row.bpfkit_us = best;
  if (!r.ok) state.SkipWithError(("bpfkit rejects: " + row.bpfkit_error).c_str());
  state.counters["insns"] = double(row.insns);
  state.counters["bpfkit_processed"] = double(row.bpfkit_processed);
  state.counters["kernel_processed"] = double(row.kernel_processed);
  state.counters["bpfkit_states"] = double(row.bpfkit_states);
  state.counters["kernel_states"] = double(row.kernel_states);
  state.counters["bpfkit_us"] = best;
  state.counters["kernel_us"] = row.kernel_us;
  state.counters["ratio"] = row.kernel_us > 0 ? best / row.kernel_us : 0;
  state.counters["peak_kb"] = double(row.bpfkit_peak_bytes) / 1024.0;
}

std::string ratio(double a, double b) {
  if (b <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", a / b);
  return buf;
}

void print_table() {
  std::printf("\n%-40s %7s %21s %17s %24s %6s %9s\n", "program", "insns", "processed bpfkit/kern",
              "states bpfkit/kern", "time us bpfkit/kern", "ratio", "peak KiB");
  for (const auto& s : subjects()) {
    const Row& r = s->row;
    char processed[48], states[48], time[48];
    std::snprintf(processed, sizeof(processed), "%llu/%llu", (unsigned long long)r.bpfkit_processed,
                  (unsigned long long)r.kernel_processed);
    std::snprintf(states, sizeof(states), "%llu/%llu", (unsigned long long)r.bpfkit_states,
                  (unsigned long long)r.kernel_states);
    std::snprintf(time, sizeof(time), "%.1f/%.0f", r.bpfkit_us, r.kernel_us);
    std::printf("%-40s %7zu %21s %17s %24s %6s %9.1f\n", r.name.c_str(), r.insns, processed, states, time,
                ratio(r.bpfkit_us, r.kernel_us).c_str(), double(r.bpfkit_peak_bytes) / 1024.0);
    if (!r.bpfkit_ok) std::printf("    bpfkit REJECTS: %s\n", r.bpfkit_error.c_str());
    if (r.kernel_ran && !r.kernel_ok) std::printf("    kernel REJECTS: %s\n", r.kernel_error.c_str());
  }
  if (!lk::kernel_bpf_available()) {
    std::printf("kernel columns empty: %s\n", lk::kernel_bpf_unavailable_reason().c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  add_examples();
  add_generated();
  for (const auto& s : subjects()) {
    benchmark::RegisterBenchmark(("BM_Verify/" + s->row.name).c_str(), verify_bench, s.get())
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_table();
  return 0;
}
