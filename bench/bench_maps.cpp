// Map operations as a program would issue them (program view), ns/op.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "maps/map.h"

namespace {

using bpfkit::maps::create_map;
using bpfkit::maps::Map;
using bpfkit::maps::MapSpec;

constexpr uint32_t kEntries = 1 << 16;

std::unique_ptr<Map> filled(bpf_map_type type, uint32_t flags = 0) {
  auto m = create_map(MapSpec{type, 4, 8, kEntries, flags, 0, "bench"});
  for (uint32_t k = 0; k < kEntries; ++k) {
    uint64_t v = k;
    m->update(&k, &v, BPF_ANY);
  }
  return m;
}

void BM_ArrayLookup(benchmark::State& state) {
  auto m = filled(BPF_MAP_TYPE_ARRAY);
  uint32_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m->lookup(&k));
    k = (k + 7919) & (kEntries - 1);
  }
}
BENCHMARK(BM_ArrayLookup);

void hash_lookup(benchmark::State& state, bpf_map_type type) {
  auto m = filled(type);
  uint32_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m->lookup(&k));
    k = (k + 7919) & (kEntries - 1);
  }
}
void hash_update(benchmark::State& state, bpf_map_type type) {
  auto m = filled(type);
  uint32_t k = 0;
  uint64_t v = 1;
  for (auto _ : state) {
    // Twice the key space: half the updates insert (LRU: evict), half replace.
    benchmark::DoNotOptimize(m->update(&k, &v, BPF_ANY));
    k = (k + 7919) & (2 * kEntries - 1);
  }
}
void BM_HashLookup(benchmark::State& s) { hash_lookup(s, BPF_MAP_TYPE_HASH); }
void BM_HashUpdate(benchmark::State& s) { hash_update(s, BPF_MAP_TYPE_HASH); }
void BM_LruLookup(benchmark::State& s) { hash_lookup(s, BPF_MAP_TYPE_LRU_HASH); }
void BM_LruUpdate(benchmark::State& s) { hash_update(s, BPF_MAP_TYPE_LRU_HASH); }
BENCHMARK(BM_HashLookup);
BENCHMARK(BM_HashUpdate);
BENCHMARK(BM_LruLookup);
BENCHMARK(BM_LruUpdate);

struct LpmKey {
  uint32_t prefixlen;
  uint32_t addr;
};

std::unique_ptr<Map> lpm_routes() {
  auto m = create_map(MapSpec{BPF_MAP_TYPE_LPM_TRIE, 8, 8, kEntries, BPF_F_NO_PREALLOC, 0, "routes"});
  // A routing-table-like mix of /8, /16 and /24 prefixes.
  for (uint32_t i = 0; i < 4096; ++i) {
    uint64_t v = i;
    LpmKey k{static_cast<uint32_t>(8 + 8 * (i % 3)), __builtin_bswap32(i * 2654435761u)};
    m->update(&k, &v, BPF_ANY);
  }
  return m;
}

void BM_LpmLookup(benchmark::State& state) {
  auto m = lpm_routes();
  uint32_t x = 1;
  for (auto _ : state) {
    LpmKey k{32, x};
    benchmark::DoNotOptimize(m->lookup(&k));
    x = x * 1664525u + 1013904223u;
  }
}
BENCHMARK(BM_LpmLookup);

void BM_LpmUpdate(benchmark::State& state) {
  auto m = lpm_routes();
  uint32_t x = 1;
  uint64_t v = 0;
  for (auto _ : state) {
    LpmKey k{24, __builtin_bswap32(x & 0xFFFF00u)};  // at most 64K distinct /24s
    benchmark::DoNotOptimize(m->update(&k, &v, BPF_ANY));
    x = x * 1664525u + 1013904223u;
  }
}
BENCHMARK(BM_LpmUpdate);

}  // namespace

BENCHMARK_MAIN();
