// "Hash updates from 2 threads lose nothing": every hash flavour, two threads
// inserting distinct keys at once, then incrementing shared values through the
// pointers lookup() returns with atomic adds, as programs on two CPUs do.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "maps/cpu.h"
#include "maps/map.h"

namespace bpfkit::maps {
namespace {

constexpr uint64_t kKeysPerThread = 5000;
constexpr uint64_t kIncrements = 20000;

class HashThreads : public ::testing::TestWithParam<uint32_t> {};

TEST_P(HashThreads, DistinctKeysAllPresentAndAtomicIncrementsExact) {
  const uint32_t type = GetParam();
  const bool percpu = type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  auto m = create_map(MapSpec{type, 8, 8, 2 * kKeysPerThread + 8, 0, 0, "threads"});
  auto insert = [&](uint64_t base) {
    for (uint64_t i = 0; i < kKeysPerThread; ++i) {
      uint64_t k = base + i, v = k * 3;
      ASSERT_EQ(m->update(&k, &v, BPF_NOEXIST), 0) << k;
      // Interleave replacements of the thread's earlier keys.
      if (i % 4 == 3) {
        uint64_t old = base + i / 2, ov = old * 3;
        ASSERT_EQ(m->update(&old, &ov, BPF_EXIST), 0) << old;
      }
    }
  };
  std::thread a(insert, 0), b(insert, 1ull << 32);
  a.join();
  b.join();
  std::vector<uint64_t> all(m->user_value_size() / 8);
  for (uint64_t base : {0ull, 1ull << 32}) {
    for (uint64_t i = 0; i < kKeysPerThread; ++i) {
      uint64_t k = base + i;
      ASSERT_EQ(m->lookup_user(&k, all.data()), 0) << "key " << k << " was lost";
      if (!percpu) ASSERT_EQ(all[0], k * 3);
    }
  }
  // Shared counters: both threads add to the same keys through lookup() pointers.
  constexpr uint64_t kCounters = 4;
  for (uint64_t c = 0; c < kCounters; ++c) {
    uint64_t k = 1000000 + c;
    std::vector<uint64_t> zero(all.size(), 0);
    ASSERT_EQ(m->update_user(&k, zero.data(), BPF_NOEXIST), 0);
  }
  auto count = [&] {
    for (uint64_t i = 0; i < kIncrements; ++i) {
      uint64_t k = 1000000 + i % kCounters;
      auto* v = static_cast<uint64_t*>(m->lookup(&k));
      ASSERT_NE(v, nullptr);
      __atomic_fetch_add(v, 1, __ATOMIC_RELAXED);
    }
  };
  std::thread c1(count), c2(count);
  c1.join();
  c2.join();
  uint64_t total = 0;
  for (uint64_t c = 0; c < kCounters; ++c) {
    uint64_t k = 1000000 + c;
    ASSERT_EQ(m->lookup_user(&k, all.data()), 0);
    for (uint64_t v : all) total += v;  // per-CPU: the sum over CPUs
  }
  EXPECT_EQ(total, 2 * kIncrements);
}

// lookup() takes no lock: while another thread deletes and re-inserts keys (so
// elements are reused in other buckets mid-walk), keys that stay must always be found.
TEST_P(HashThreads, LockFreeLookupsNeverMissKeysThatStay) {
  const uint32_t type = GetParam();
  // Few buckets: chains are shared, so a walk often meets an element being moved.
  auto m = create_map(MapSpec{type, 8, 8, 16, 0, 0, "churn"});
  std::vector<uint64_t> all(m->user_value_size() / 8);
  for (uint64_t k = 0; k < 8; ++k) {
    std::vector<uint64_t> v(all.size(), 1000 + k);
    uint64_t key = 1000 + k;
    ASSERT_EQ(m->update_user(&key, v.data(), BPF_NOEXIST), 0);
  }
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    std::vector<uint64_t> v(all.size(), 7);
    for (uint64_t i = 0; !stop; ++i) {
      uint64_t k = i % 8;
      m->update_user(&k, v.data(), BPF_ANY);
      uint64_t old = (i + 4) % 8;
      m->delete_user(&old);
    }
  });
  uint64_t misses = 0, wrong = 0;
  for (int round = 0; round < 100000; ++round) {
    for (uint64_t k = 1000; k < 1008; ++k) {
      auto* v = static_cast<uint64_t*>(m->lookup(&k));
      if (v == nullptr) {
        ++misses;
      } else if (*v != k) {
        ++wrong;
      }
    }
  }
  stop = true;
  churn.join();
  EXPECT_EQ(misses, 0u);
  EXPECT_EQ(wrong, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllHashes, HashThreads,
                         ::testing::Values(BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_PERCPU_HASH,
                                           BPF_MAP_TYPE_LRU_PERCPU_HASH),
                         [](const auto& info) { return map_type_name(info.param); });

}  // namespace
}  // namespace bpfkit::maps
