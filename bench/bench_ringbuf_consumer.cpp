// Event throughput from the kernel to user space: a producer thread runs a program
// with BPF_PROG_TEST_RUN (repeat = N), each run writing one 16-byte record, while a
// consumer thread polls and reads them, through the ring buffer consumer
// (bpf_ringbuf_reserve + submit) and, for comparison, the perf buffer
// (bpf_perf_event_output). Counters: events_per_s (records delivered per second of
// wall time, from the first run to the last record read), lost (records the program
// could not write because the consumer was behind: counted by the program into an
// array map), produced. Without bpf(2) (not root) the benchmarks are skipped.
#include <benchmark/benchmark.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "isa/assembler.h"
#include "maps/map.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/perf_buffer.h"
#include "target/linux/ring_buffer.h"

namespace {

namespace lk = bpfkit::target::linux_kernel;
using bpfkit::maps::MapSpec;

constexpr uint32_t kBatch = 5000;                             // runs per BPF_PROG_TEST_RUN
constexpr auto kProduceFor = std::chrono::milliseconds(500);  // per benchmark

std::string n(uint64_t v) { return std::to_string(v); }

// On failure to write, lost[0] += 1.
std::string count_failure(int lost_fd) {
  return "fail:\n*(u32 *)(r10 - 4) = 0\nr1 = map_fd(" + n(uint64_t(lost_fd)) +
         ") ll\nr2 = r10\nr2 += -4\ncall " + n(BPF_FUNC_map_lookup_elem) +
         "\nif r0 == 0 goto out\nr1 = 1\nlock *(u64 *)(r0 + 0) += r1\nout:\nr0 = 2\nexit\n";
}

std::string ring_program(int ring_fd, int lost_fd) {
  return "r1 = map_fd(" + n(uint64_t(ring_fd)) + ") ll\nr2 = 16\nr3 = 0\ncall " +
         n(BPF_FUNC_ringbuf_reserve) +
         "\nif r0 == 0 goto fail\nr1 = 7\n*(u64 *)(r0 + 0) = r1\n*(u64 *)(r0 + 8) = r1\nr1 = r0\nr2 = "
         "0\ncall " +
         n(BPF_FUNC_ringbuf_submit) + "\nr0 = 2\nexit\n" + count_failure(lost_fd);
}

std::string perf_program(int perf_fd, int lost_fd) {
  return "r6 = r1\nr1 = 7\n*(u64 *)(r10 - 16) = r1\n*(u64 *)(r10 - 8) = r1\nr1 = r6\nr2 = map_fd(" +
         n(uint64_t(perf_fd)) + ") ll\nr3 = " + n(BPF_F_CURRENT_CPU) +
         " ll\nr4 = r10\nr4 += -16\nr5 = 16\ncall " + n(BPF_FUNC_perf_event_output) +
         "\nif r0 != 0 goto fail\nr0 = 2\nexit\n" + count_failure(lost_fd);
}

uint64_t read_lost(int lost_fd) {
  uint32_t key = 0;
  uint64_t value = 0;
  lk::map_lookup_elem(lost_fd, &key, &value);
  return value;
}

// Runs the producer in this thread and `poll` (returning records read) in another
// until the producer has run kProduceFor and everything written has been read.
void measure(benchmark::State& state, int prog_fd, int lost_fd, const std::function<size_t(int)>& poll) {
  const std::vector<uint8_t> packet(64, 0);
  uint64_t produced = 0, delivered = 0, lost = 0;
  double seconds = 0;
  for (auto _ : state) {
    const uint64_t lost_before = read_lost(lost_fd);
    std::atomic<bool> producing{true};
    std::atomic<uint64_t> got{0};
    const auto t0 = std::chrono::steady_clock::now();
    auto last_read = t0;  // the end of the measurement: not the consumer's idle wait after it
    std::thread consumer([&] {
      auto read = [&](int timeout) {
        if (const size_t k = poll(timeout)) {
          got += k;
          last_read = std::chrono::steady_clock::now();
        }
      };
      while (producing.load(std::memory_order_relaxed)) read(100);
      read(0);  // what was written after the last wakeup
    });
    uint64_t runs = 0;
    while (std::chrono::steady_clock::now() - t0 < kProduceFor) {
      lk::test_run_program(prog_fd, packet, kBatch);
      runs += kBatch;
    }
    producing = false;
    consumer.join();
    seconds += std::chrono::duration<double>(last_read - t0).count();
    produced += runs;
    delivered += got;
    lost += read_lost(lost_fd) - lost_before;
  }
  state.counters["events_per_s"] = seconds > 0 ? double(delivered) / seconds : 0;
  state.counters["lost"] = double(lost);
  state.counters["produced"] = double(produced);
  if (delivered + lost != produced) state.SkipWithError("records delivered + lost != records produced");
}

lk::UniqueFd lost_counter() {
  return lk::map_create(MapSpec{BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, 0, "bench_lost"});
}

void BM_RingBufferConsumer(benchmark::State& state) {
  if (!lk::kernel_bpf_available()) return state.SkipWithError(lk::kernel_bpf_unavailable_reason().c_str());
  const uint32_t ring_bytes = uint32_t(state.range(0)) * 1024;
  lk::UniqueFd ring = lk::map_create(MapSpec{BPF_MAP_TYPE_RINGBUF, 0, 0, ring_bytes, 0, 0, "bench_ring"});
  lk::UniqueFd lost = lost_counter();
  lk::UniqueFd prog =
      lk::load_program(BPF_PROG_TYPE_XDP, bpfkit::isa::assemble(ring_program(ring.get(), lost.get())));
  uint64_t sum = 0;
  lk::RingBuffer rb;
  rb.add(ring.get(), [&](std::span<const uint8_t> r) { return sum += r[0], 0; });
  measure(state, prog.get(), lost.get(),
          [&](int timeout) { return timeout ? rb.poll(timeout).records : rb.consume().records; });
  benchmark::DoNotOptimize(sum);
}
// 256 KiB: the consumer must keep up; 16 MiB: bursts are absorbed by the ring.
BENCHMARK(BM_RingBufferConsumer)
    ->Arg(256)
    ->Arg(16384)
    ->ArgName("ring_KiB")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_PerfBufferConsumer(benchmark::State& state) {
  if (!lk::kernel_bpf_available()) return state.SkipWithError(lk::kernel_bpf_unavailable_reason().c_str());
  const uint32_t cpus = uint32_t(sysconf(_SC_NPROCESSORS_CONF));
  lk::UniqueFd perf = lk::map_create(MapSpec{BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, cpus, 0, 0, "bench_perf"});
  lk::UniqueFd lost = lost_counter();
  lk::UniqueFd prog =
      lk::load_program(BPF_PROG_TYPE_XDP, bpfkit::isa::assemble(perf_program(perf.get(), lost.get())));
  uint64_t sum = 0;
  lk::PerfBufferOptions options;
  options.page_count = size_t(state.range(0)) * 1024 / size_t(sysconf(_SC_PAGESIZE));  // per CPU
  lk::PerfBuffer pb(
      perf.get(), [&](uint32_t, std::span<const uint8_t> d) { return sum += d[0], 0; }, options);
  measure(state, prog.get(), lost.get(),
          [&](int timeout) { return timeout ? pb.poll(timeout).records : pb.consume().records; });
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_PerfBufferConsumer)
    ->Arg(256)
    ->ArgName("ring_KiB_per_cpu")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::printf(
      "Events from a kernel program (BPF_PROG_TEST_RUN in a loop, one 16-byte record per run) read by\n"
      "bpfkit's consumers in another thread. events_per_s = records read per second of wall time;\n"
      "lost = records the program could not write (the consumer was behind).\n");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
