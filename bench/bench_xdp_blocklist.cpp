// The XDP blocklist example (examples/xdp_blocklist.bpf.c) with 10,000 blocked
// CIDRs in its LPM trie, over 10,000 generated packets held in memory: packets
// per second per core on the userspace target (JIT and interpreter, verified and unchecked or checked),
// beside the kernel running the same object under BPF_PROG_TEST_RUN on the same
// packets. The summary prints Mpps and the bpfkit / kernel time ratio per packet.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "hooks/packet_generator.h"
#include "object/bpf_object.h"
#include "target/linux/bpf_syscall.h"
#include "target/target.h"
#include "target/user/user_target.h"

namespace bpfkit::bench {
namespace {

const std::string kObject = std::string(BPFKIT_BINARY_DIR) + "/examples/xdp_blocklist.bpf.o";
constexpr size_t kPrefixes = 10'000, kPackets = 10'000;

// 10,000 prefixes (/8 to /32) drawn reproducibly, plus the README's sample list,
// so that a realistic share of the generated traffic is dropped.
void fill_blocklist(target::MapHandle& map) {
  std::mt19937_64 rng(2024);
  const uint64_t zero = 0;
  auto add = [&](uint32_t addr, uint32_t len) {
    uint8_t key[8];
    std::memcpy(key, &len, 4);
    for (int i = 0; i < 4; ++i) key[4 + i] = uint8_t(addr >> (24 - 8 * i));
    map.update(key, &zero, BPF_ANY);
  };
  for (const char* c : {"203.0.113.0/24", "192.168.0.0/17", "10.13.0.0/16", "10.200.0.0/13", "198.51.100.7/32"}) {
    const auto p = hooks::parse_ipv4_prefix(c);
    add(p.addr, p.len);
  }
  for (size_t i = 0; i < kPrefixes - 5; ++i) add(uint32_t(rng()), uint32_t(8 + rng() % 25));
}

struct Setup {
  std::shared_ptr<object::BpfObject> object;
  std::vector<hooks::CapturedPacket> packets;
  Setup() {
    if (!std::filesystem::exists(kObject)) return;
    object = std::make_shared<object::BpfObject>(object::BpfObject::open(kObject));
    for (auto& p : hooks::generate_traffic({1, kPackets})) {
      if (p.data.size() >= 14) packets.push_back(std::move(p));
    }
  }
};
Setup& setup() {
  static Setup s;
  return s;
}

double user_ns[4] = {0, 0, 0, 0};  // JIT, JIT checked, interpreter, interpreter checked
double kernel_ns = 0;

void BM_UserXdpBlocklist(benchmark::State& state) {
  Setup& s = setup();
  if (!s.object) {
    state.SkipWithError(("build the examples first: " + kObject).c_str());
    return;
  }
  target::TargetOptions o;
  o.jit = state.range(0) == 1;
  o.checked = state.range(1) == 1;  // unchecked: verified at load, run without runtime checks
  auto loaded = target::make_user_target(o)->load(s.object);
  fill_blocklist(*loaded->find_map("blocklist"));
  auto* prog = dynamic_cast<target::user::UserProgram*>(loaded->find_program("xdp_blocklist"));
  size_t i = 0, n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(prog->run_packet(s.packets[i].data));
    if (++i == s.packets.size()) i = 0;
    ++n;
  }
  state.SetItemsProcessed(int64_t(n));
  state.counters["Mpps"] = benchmark::Counter(double(n) / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_UserXdpBlocklist)->Args({1, 0})->Args({1, 1})->Args({0, 0})->Args({0, 1})->ArgNames({"jit", "checked"});

// The kernel: each packet run `repeat` times inside one BPF_PROG_TEST_RUN; its
// reported average excludes the system call.
void BM_KernelXdpBlocklist(benchmark::State& state) {
  Setup& s = setup();
  if (!s.object) {
    state.SkipWithError("examples not built");
    return;
  }
  if (!target::linux_kernel::kernel_bpf_available()) {
    state.SkipWithError(("kernel side skipped: " + target::linux_kernel::kernel_bpf_unavailable_reason()).c_str());
    return;
  }
  auto loaded = target::make_linux_target()->load(s.object);
  fill_blocklist(*loaded->find_map("blocklist"));
  target::ProgramHandle* prog = loaded->find_program("xdp_blocklist");
  constexpr uint32_t kRepeat = 100;
  size_t i = 0;
  double total = 0, runs = 0;
  for (auto _ : state) {
    target::TestRunRequest req;
    req.data_in = s.packets[i].data;
    req.repeat = kRepeat;
    total += double(prog->test_run(req).duration_ns) * kRepeat;
    runs += kRepeat;
    i = (i + 97) % s.packets.size();
  }
  kernel_ns = total / runs;
  state.counters["kernel_ns_per_packet"] = kernel_ns;
}
BENCHMARK(BM_KernelXdpBlocklist)->Iterations(400);

}  // namespace
}  // namespace bpfkit::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  struct Collector : benchmark::ConsoleReporter {
    bool ReportContext(const Context& c) override { return ConsoleReporter::ReportContext(c); }
    void ReportRuns(const std::vector<Run>& runs) override {
      ConsoleReporter::ReportRuns(runs);
      for (const Run& r : runs) {
        if (r.error_occurred || r.iterations == 0) continue;
        // With --benchmark_repetitions the median (reported after the runs) is the figure.
        if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
        const double ns = r.GetAdjustedCPUTime();  // per iteration = per packet
        const char* names[] = {"BM_UserXdpBlocklist/jit:1/checked:0", "BM_UserXdpBlocklist/jit:1/checked:1",
                               "BM_UserXdpBlocklist/jit:0/checked:0", "BM_UserXdpBlocklist/jit:0/checked:1"};
        for (int i = 0; i < 4; ++i) {
          if (r.benchmark_name().find(names[i]) == 0) bpfkit::bench::user_ns[i] = ns;
        }
      }
    }
  } reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nXDP blocklist, %zu prefixes, %zu packets in memory (per core)\n", bpfkit::bench::kPrefixes,
              bpfkit::bench::kPackets);
  const char* names[] = {"bpfkit JIT", "bpfkit JIT, checked", "bpfkit interpreter", "bpfkit interp, checked"};
  for (int i = 0; i < 4; ++i) {
    const double ns = bpfkit::bench::user_ns[i];
    if (ns <= 0) continue;
    std::printf("  %-20s %7.1f ns/packet  %6.2f Mpps", names[i], ns, 1e3 / ns);
    if (bpfkit::bench::kernel_ns > 0) std::printf("  bpfkit/kernel time: %.2fx", ns / bpfkit::bench::kernel_ns);
    std::printf("\n");
  }
  if (bpfkit::bench::kernel_ns > 0) {
    std::printf("  %-20s %7.1f ns/packet  %6.2f Mpps (BPF_PROG_TEST_RUN average)\n", "kernel", bpfkit::bench::kernel_ns,
                1e3 / bpfkit::bench::kernel_ns);
  }
  benchmark::Shutdown();
  return 0;
}
