// The hash map's fast paths for small keys (4, 8, 12, 16 bytes hash and compare
// inline) against the generic ones, and the LRU's use marks.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "maps/hash_bytes.h"
#include "maps/hash_map.h"
#include "maps/map.h"

namespace bpfkit::maps {
namespace {

// The unrolled lengths hash exactly as the byte loop does (the bloom filter's
// bits and every map's buckets depend on one function per length).
TEST(HashBytes, FixedLengthsMatchTheGenericLoop) {
  // The generic loop, written out here independently of the dispatch.
  auto reference = [](const uint8_t* p, size_t n, uint64_t seed) {
    uint64_t h = seed ^ (0x9E3779B97F4A7C15ull * (n + 1));
    for (; n >= 8; p += 8, n -= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
      h ^= h >> 31;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = (h ^ tail ^ (uint64_t{n} << 56)) * 0x94D049BB133111EBull;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
  };
  uint8_t buf[40];
  for (size_t i = 0; i < sizeof(buf); ++i) buf[i] = static_cast<uint8_t>(i * 37 + 11);
  for (size_t n = 0; n <= sizeof(buf); ++n) {
    for (uint64_t seed : {0ull, 1ull, 0xDEADBEEFull}) {
      EXPECT_EQ(hash_bytes(buf, n, seed), reference(buf, n, seed)) << "length " << n;
    }
  }
  EXPECT_EQ(hash_fixed<4>(buf, 5), reference(buf, 4, 5));
  EXPECT_EQ(hash_fixed<16>(buf, 5), reference(buf, 16, 5));
}

// Keys that differ in a single byte (any position) are different keys, for every
// key size, whether the size has a fast path or not.
class HashKeySizes : public ::testing::TestWithParam<uint32_t> {};

TEST_P(HashKeySizes, KeysDifferingInOneByteAreDistinct) {
  const uint32_t ksize = GetParam();
  auto m = create_map(MapSpec{BPF_MAP_TYPE_HASH, ksize, 8, 4096, BPF_F_ZERO_SEED, 0, "keys"});
  std::vector<uint8_t> base(ksize);
  for (uint32_t i = 0; i < ksize; ++i) base[i] = static_cast<uint8_t>(0xA0 + i);
  // The base key, and for each position and a few byte values, a key that differs there only.
  std::vector<std::vector<uint8_t>> keys{base};
  for (uint32_t pos = 0; pos < ksize; ++pos) {
    for (uint8_t delta : {1, 0x80, 0xFF}) {
      auto k = base;
      k[pos] = static_cast<uint8_t>(k[pos] + delta);
      keys.push_back(k);
    }
  }
  for (uint64_t i = 0; i < keys.size(); ++i) ASSERT_EQ(m->update(keys[i].data(), &i, BPF_NOEXIST), 0) << i;
  for (uint64_t i = 0; i < keys.size(); ++i) {
    auto* v = static_cast<uint64_t*>(m->lookup(keys[i].data()));
    ASSERT_NE(v, nullptr) << "key " << i;
    EXPECT_EQ(*v, i);
  }
  // A key the map does not hold: the base with every byte changed.
  auto absent = base;
  for (auto& b : absent) b = static_cast<uint8_t>(~b);
  EXPECT_EQ(m->lookup(absent.data()), nullptr);
  ASSERT_EQ(m->delete_elem(keys[0].data()), 0);
  EXPECT_EQ(m->lookup(keys[0].data()), nullptr);
  EXPECT_NE(m->lookup(keys[1].data()), nullptr);
  EXPECT_EQ(static_cast<HashMap&>(*m).size(), keys.size() - 1);
}

INSTANTIATE_TEST_SUITE_P(Sizes, HashKeySizes, ::testing::Values(1u, 3u, 4u, 8u, 12u, 16u, 20u, 64u),
                         [](const auto& info) { return "key" + std::to_string(info.param); });

// A key looked up between inserts into a full LRU map keeps its place even when
// every other key was used once too (each is looked up after its insert): its
// use mark stays above theirs.
TEST(LruReferenced, HotKeysSurviveChurnOfOnceUsedKeys) {
  auto m = create_map(MapSpec{BPF_MAP_TYPE_LRU_HASH, 8, 8, 256, 0, 0, "lru"});
  constexpr uint64_t kHot = 8;
  for (uint64_t k = 0; k < kHot; ++k) ASSERT_EQ(m->update(&k, &k, BPF_NOEXIST), 0);
  for (uint64_t k = 1000; k < 20000; ++k) {
    for (uint64_t h = 0; h < kHot; ++h) {
      ASSERT_NE(m->lookup(&h), nullptr) << "hot key " << h << " evicted at " << k;
    }
    ASSERT_EQ(m->update(&k, &k, BPF_NOEXIST), 0);
    ASSERT_NE(m->lookup(&k), nullptr);
  }
  EXPECT_LE(static_cast<HashMap&>(*m).size(), 256u);
}

// Never-used keys go before used ones: after filling the map, half the keys are
// looked up; inserting a few more evicts none of those looked up.
TEST(LruReferenced, UnreferencedKeysAreEvictedFirst) {
  constexpr uint64_t kEntries = 512;
  auto m = create_map(MapSpec{BPF_MAP_TYPE_LRU_HASH, 8, 8, kEntries, 0, 0, "lru"});
  for (uint64_t k = 0; k < kEntries; ++k) ASSERT_EQ(m->update(&k, &k, BPF_NOEXIST), 0);
  for (uint64_t k = 0; k < kEntries; k += 2) ASSERT_NE(m->lookup(&k), nullptr);
  // Few enough inserts that eviction samples each element at most once.
  constexpr uint64_t kMore = kEntries / 16;
  for (uint64_t k = kEntries; k < kEntries + kMore; ++k) ASSERT_EQ(m->update(&k, &k, BPF_NOEXIST), 0);
  uint64_t used_lost = 0, unused_lost = 0;
  for (uint64_t k = 0; k < kEntries; ++k) (k % 2 == 0 ? used_lost : unused_lost) += m->lookup(&k) == nullptr;
  EXPECT_EQ(used_lost, 0u);
  // The victims are the never-used old keys (or, rarely, a never-used new one).
  EXPECT_GE(unused_lost, kMore / 2);
  EXPECT_EQ(static_cast<HashMap&>(*m).size(), kEntries);
}

// Two threads: one marks keys referenced through lookups while the other fills
// the map past its size (evicting and reusing elements under the lookups).
// Every pointer a lookup returns holds a value some update stored.
TEST(LruReferenced, LookupsDuringEvictionSeeOnlyStoredValues) {
  constexpr uint64_t kInserts = 200000;
  auto m = create_map(MapSpec{BPF_MAP_TYPE_LRU_HASH, 8, 8, 64, 0, 0, "lru"});
  std::atomic<uint64_t> latest{0};
  std::thread writer([&] {
    for (uint64_t k = 1; k <= kInserts; ++k) {
      uint64_t v = k * 2 + 1;  // odd: a zeroed or half-written slot would show
      ASSERT_EQ(m->update(&k, &v, BPF_ANY), 0);
      latest.store(k, std::memory_order_relaxed);
    }
  });
  uint64_t found = 0, wrong = 0;
  for (uint64_t i = 0; latest.load(std::memory_order_relaxed) < kInserts || found < 1000; ++i) {
    uint64_t k = latest.load(std::memory_order_relaxed) - i % 32;  // recent keys: mostly present
    if (auto* v = static_cast<uint64_t*>(m->lookup(&k))) {
      ++found;
      wrong += (__atomic_load_n(v, __ATOMIC_RELAXED) & 1) == 0;
    }
  }
  writer.join();
  EXPECT_EQ(wrong, 0u);
  EXPECT_LE(static_cast<HashMap&>(*m).size(), 64u);
}

}  // namespace
}  // namespace bpfkit::maps
