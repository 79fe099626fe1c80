// Map operations in bpfkit's maps called directly, beside the same operation
// inside a kernel program run by BPF_PROG_TEST_RUN (repeat = N). The kernel's
// figure is its average duration per run minus that of the same program without
// the map call (both draw a random key with bpf_get_prandom_u32), so it is the
// cost of the helper call alone. Counters: kernel_ns and ratio (bpfkit / kernel).
// Without bpf(2) (not root) the kernel columns are 0.
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "isa/assembler.h"
#include "maps/map.h"
#include "maps/ringbuf_map.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/bpf_syscall.h"

namespace {

using bpfkit::maps::create_map;
using bpfkit::maps::Map;
using bpfkit::maps::MapSpec;
namespace lk = bpfkit::target::linux_kernel;

// This thread's CPU time: the kernel's test-run clock stops while it is preempted,
// so on a busy machine CPU time is the comparable figure here.
std::chrono::nanoseconds cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

constexpr uint32_t kHashKeys = 8192;  // keys 0..8191, all present
constexpr uint32_t kLpmPrefixes = 10000;
constexpr uint32_t kKernelRepeat = 2000000;
constexpr uint32_t kRingRecords = 500000;

struct LpmKey {
  uint32_t prefixlen;
  uint32_t addr;
};

uint32_t next_random(uint32_t& x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

// The program: a random key (masked), then `body` (r1..r5 set up by it), XDP_PASS.
std::string program(const std::string& key_setup, const std::string& body) {
  return "call " + std::to_string(BPF_FUNC_get_prandom_u32) + "\n" + key_setup + body + "r0 = 2\nexit\n";
}

// ns per run of `with` minus ns per run of `without` (best of three each).
double kernel_cost(const std::string& with, const std::string& without, uint32_t repeat = kKernelRepeat) {
  if (!lk::kernel_bpf_available()) return 0;
  auto best = [&](const std::string& text) {
    lk::UniqueFd fd = lk::load_program(BPF_PROG_TYPE_XDP, bpfkit::isa::assemble(text));
    std::vector<uint8_t> packet(64, 0);
    uint32_t b = UINT32_MAX;
    for (int i = 0; i < 3; ++i) b = std::min(b, lk::test_run_program(fd.get(), packet, repeat).duration_ns);
    return double(b);
  };
  double a = best(with), b = best(without);
  return a > b ? a - b : 0;
}

void report(benchmark::State& state, std::chrono::nanoseconds spent, double kernel_ns) {
  double ours = std::chrono::duration<double, std::nano>(spent).count() / double(state.iterations());
  state.counters["bpfkit_ns"] = ours;
  state.counters["kernel_ns"] = kernel_ns;
  state.counters["ratio"] = kernel_ns > 0 ? ours / kernel_ns : 0;
}

std::unique_ptr<Map> filled_hash(uint32_t type) {
  auto m = create_map(MapSpec{type, 4, 8, kHashKeys, 0, 0, "bench"});
  for (uint32_t k = 0; k < kHashKeys; ++k) {
    uint64_t v = k;
    m->update(&k, &v, BPF_ANY);
  }
  return m;
}

int kernel_filled_hash(uint32_t type, lk::UniqueFd& fd) {
  if (!lk::kernel_bpf_available()) return -1;
  fd = lk::map_create(MapSpec{type, 4, 8, kHashKeys, 0, 0, "bench"});
  for (uint32_t k = 0; k < kHashKeys; ++k) {
    uint64_t v = k;
    lk::map_update_elem(fd.get(), &k, &v, BPF_ANY);
  }
  return fd.get();
}

const std::string kHashKey = "r0 &= " + std::to_string(kHashKeys - 1) + "\n*(u32 *)(r10 - 4) = r0\n";

void hash_lookup(benchmark::State& state, uint32_t type) {
  auto m = filled_hash(type);
  lk::UniqueFd kfd;
  double kernel = 0;
  int fd = kernel_filled_hash(type, kfd);
  if (fd >= 0) {
    std::string call = "r1 = map_fd(" + std::to_string(fd) + ") ll\nr2 = r10\nr2 += -4\ncall " +
                       std::to_string(BPF_FUNC_map_lookup_elem) + "\n";
    kernel = kernel_cost(program(kHashKey, call), program(kHashKey, ""));
  }
  uint32_t x = 2463534242u;
  auto t0 = cpu_now();
  for (auto _ : state) {
    uint32_t k = next_random(x) & (kHashKeys - 1);
    benchmark::DoNotOptimize(m->lookup(&k));
  }
  report(state, cpu_now() - t0, kernel);
}

void hash_update(benchmark::State& state, uint32_t type) {
  auto m = filled_hash(type);
  lk::UniqueFd kfd;
  double kernel = 0;
  int fd = kernel_filled_hash(type, kfd);
  if (fd >= 0) {
    std::string value = "r1 = 1\n*(u64 *)(r10 - 16) = r1\n";
    std::string call = "r1 = map_fd(" + std::to_string(fd) + ") ll\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -16\n"
                       "r4 = 0\ncall " + std::to_string(BPF_FUNC_map_update_elem) + "\n";
    kernel = kernel_cost(program(kHashKey + value, call), program(kHashKey + value, ""));
  }
  uint32_t x = 2463534242u;
  uint64_t v = 1;
  auto t0 = cpu_now();
  for (auto _ : state) {
    uint32_t k = next_random(x) & (kHashKeys - 1);  // existing keys: replace in place
    benchmark::DoNotOptimize(m->update(&k, &v, BPF_ANY));
  }
  report(state, cpu_now() - t0, kernel);
}

void BM_HashLookup(benchmark::State& s) { hash_lookup(s, BPF_MAP_TYPE_HASH); }
void BM_HashUpdate(benchmark::State& s) { hash_update(s, BPF_MAP_TYPE_HASH); }
void BM_LruHashLookup(benchmark::State& s) { hash_lookup(s, BPF_MAP_TYPE_LRU_HASH); }
void BM_LruHashUpdate(benchmark::State& s) { hash_update(s, BPF_MAP_TYPE_LRU_HASH); }
BENCHMARK(BM_HashLookup);
BENCHMARK(BM_HashUpdate);
BENCHMARK(BM_LruHashLookup);
BENCHMARK(BM_LruHashUpdate);

// A routing-table-like mix of /8, /16 and /24 prefixes.
LpmKey route(uint32_t i) {
  return {static_cast<uint32_t>(8 + 8 * (i % 3)), __builtin_bswap32(i * 2654435761u)};
}

const MapSpec kLpmSpec{BPF_MAP_TYPE_LPM_TRIE, 8, 8, kLpmPrefixes + 70000, BPF_F_NO_PREALLOC, 0, "routes"};

void lpm(benchmark::State& state, bool update) {
  auto m = create_map(kLpmSpec);
  for (uint32_t i = 0; i < kLpmPrefixes; ++i) {
    LpmKey k = route(i);
    uint64_t v = i;
    m->update(&k, &v, BPF_ANY);
  }
  double kernel = 0;
  lk::UniqueFd kfd;
  if (lk::kernel_bpf_available()) {
    kfd = lk::map_create(kLpmSpec);
    for (uint32_t i = 0; i < kLpmPrefixes; ++i) {
      LpmKey k = route(i);
      uint64_t v = i;
      lk::map_update_elem(kfd.get(), &k, &v, BPF_ANY);
    }
    // Lookup: a random /32. Update: a random /24 among 64K (the trie stays bounded).
    std::string key = update ? "r0 &= 16776960\nr0 = be32 r0\n*(u32 *)(r10 - 4) = r0\n*(u32 *)(r10 - 8) = 24\n"
                               "r1 = 0\n*(u64 *)(r10 - 16) = r1\n"
                             : "*(u32 *)(r10 - 4) = r0\n*(u32 *)(r10 - 8) = 32\n";
    std::string call = "r1 = map_fd(" + std::to_string(kfd.get()) + ") ll\nr2 = r10\nr2 += -8\n" +
                       (update ? "r3 = r10\nr3 += -16\nr4 = 0\ncall " + std::to_string(BPF_FUNC_map_update_elem)
                               : "call " + std::to_string(BPF_FUNC_map_lookup_elem)) + "\n";
    kernel = kernel_cost(program(key, call), program(key, ""), update ? 500000 : kKernelRepeat);
  }
  uint32_t x = 2463534242u;
  uint64_t v = 0;
  auto t0 = cpu_now();
  for (auto _ : state) {
    uint32_t r = next_random(x);
    if (update) {
      LpmKey k{24, __builtin_bswap32(r & 0xFFFF00u)};
      benchmark::DoNotOptimize(m->update(&k, &v, BPF_ANY));
    } else {
      LpmKey k{32, r};
      benchmark::DoNotOptimize(m->lookup(&k));
    }
  }
  report(state, cpu_now() - t0, kernel);
}
void BM_LpmLookup10k(benchmark::State& s) { lpm(s, false); }
void BM_LpmUpdate10k(benchmark::State& s) { lpm(s, true); }
BENCHMARK(BM_LpmLookup10k);
BENCHMARK(BM_LpmUpdate10k);

// Reserve 8 bytes + submit (no wakeup), kRingRecords times into a ring big enough
// for all of them (no consumer on either side).
void BM_RingbufReserveSubmit(benchmark::State& state) {
  const MapSpec spec{BPF_MAP_TYPE_RINGBUF, 0, 0, 1u << 24, 0, 0, "bench_rb"};
  double kernel = 0;
  if (lk::kernel_bpf_available()) {
    lk::UniqueFd ring = lk::map_create(spec);
    std::string call = "r1 = map_fd(" + std::to_string(ring.get()) + ") ll\nr2 = 8\nr3 = 0\ncall " +
                       std::to_string(BPF_FUNC_ringbuf_reserve) + "\nif r0 == 0 goto +4\nr1 = r0\nr2 = " +
                       std::to_string(BPF_RB_NO_WAKEUP) + "\ncall " + std::to_string(BPF_FUNC_ringbuf_submit) +
                       "\nr0 = 0\n";
    auto once = [&](const std::string& text) {
      lk::UniqueFd fd = lk::load_program(BPF_PROG_TYPE_XDP, bpfkit::isa::assemble(text));
      std::vector<uint8_t> packet(64, 0);
      return double(lk::test_run_program(fd.get(), packet, kRingRecords).duration_ns);
    };
    double with = once(program("", call)), without = once(program("", ""));
    kernel = with > without ? with - without : 0;
  }
  std::chrono::nanoseconds spent{};
  for (auto _ : state) {
    state.PauseTiming();
    auto m = create_map(spec);
    auto& rb = static_cast<bpfkit::maps::RingBufMap&>(*m);
    state.ResumeTiming();
    auto t0 = cpu_now();
    for (uint32_t i = 0; i < kRingRecords; ++i) {
      void* p = rb.reserve(8, 0);
      if (p) rb.submit(p, BPF_RB_NO_WAKEUP);
    }
    spent += cpu_now() - t0;
  }
  double ours = std::chrono::duration<double, std::nano>(spent).count() / double(state.iterations()) / kRingRecords;
  state.counters["bpfkit_ns"] = ours;
  state.counters["kernel_ns"] = kernel;
  state.counters["ratio"] = kernel > 0 ? ours / kernel : 0;
}
BENCHMARK(BM_RingbufReserveSubmit)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::printf("bpfkit maps called directly vs the same helper call in a kernel program (BPF_PROG_TEST_RUN).\n"
              "kernel_ns = the kernel's duration per run minus an identical program's without the map call;\n"
              "bpfkit_ns = CPU ns per operation here (the random-key draw included); ratio = bpfkit_ns / kernel_ns.\n%s",
              lk::kernel_bpf_available() ? "" : ("kernel columns are 0: " + lk::kernel_bpf_unavailable_reason() +
                                                 "\n").c_str());
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
