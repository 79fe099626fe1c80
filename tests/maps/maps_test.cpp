// The program view of the maps (pointers into storage, per-CPU slots, LRU
// eviction, thread safety) and what the kernel cross-check cannot see.
#include <gtest/gtest.h>
#include <sched.h>

#include <array>
#include <atomic>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "maps/cpu.h"
#include "maps/hash_map.h"
#include "maps/lpm_trie_map.h"
#include "maps/map.h"

namespace bpfkit::maps {
namespace {

std::unique_ptr<Map> make(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                          uint32_t flags = 0, uint64_t extra = 0) {
  return create_map(MapSpec{type, key_size, value_size, max_entries, flags, extra, "t"});
}

// Runs `body` pinned to `cpu`, so that current_cpu() is known.
template <typename F>
void on_cpu(uint32_t cpu, F body) {
  std::thread t([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
    body();
  });
  t.join();
}

TEST(ArrayMap, LookupPointsIntoStorageAndWritesAreSeen) {
  auto m = make(BPF_MAP_TYPE_ARRAY, 4, 8, 4);
  uint32_t k = 2;
  auto* p = static_cast<uint64_t*>(m->lookup(&k));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 0u);  // zero-filled
  *p = 0x1122334455667788;
  uint64_t out = 0;
  ASSERT_EQ(m->lookup_user(&k, &out), 0);
  EXPECT_EQ(out, 0x1122334455667788u);
  EXPECT_EQ(m->lookup(&k), p);  // stable
  k = 4;
  EXPECT_EQ(m->lookup(&k), nullptr);
  EXPECT_EQ(m->lookup_user(&k, &out), -ENOENT);
}

TEST(ArrayMap, UpdateFlagsAndDelete) {
  auto m = make(BPF_MAP_TYPE_ARRAY, 4, 4, 4);
  uint32_t k = 1, v = 7;
  EXPECT_EQ(m->update(&k, &v, BPF_ANY), 0);
  EXPECT_EQ(m->update(&k, &v, BPF_EXIST), 0);
  EXPECT_EQ(m->update(&k, &v, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update(&k, &v, 3), -EINVAL);
  k = 4;
  EXPECT_EQ(m->update(&k, &v, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->delete_elem(&k), -EINVAL);
}

TEST(ArrayMap, GetNextKeyWalksIndicesAndRestartsOutOfRange) {
  auto m = make(BPF_MAP_TYPE_ARRAY, 4, 4, 3);
  uint32_t next = 99;
  ASSERT_EQ(m->get_next_key(nullptr, &next), 0);
  EXPECT_EQ(next, 0u);
  uint32_t k = 1;
  ASSERT_EQ(m->get_next_key(&k, &next), 0);
  EXPECT_EQ(next, 2u);
  k = 2;
  EXPECT_EQ(m->get_next_key(&k, &next), -ENOENT);
  k = 77;
  ASSERT_EQ(m->get_next_key(&k, &next), 0);
  EXPECT_EQ(next, 0u);
}

TEST(PercpuArray, ProgramWritesOnlyItsCpuAndUserSeesAllCpus) {
  if (possible_cpus() < 2) GTEST_SKIP() << "skipped: needs two CPUs";
  auto m = make(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2);
  EXPECT_TRUE(m->per_cpu());
  EXPECT_EQ(m->user_value_size(), 8u * possible_cpus());  // each rounded up to 8 bytes
  uint32_t k = 1;
  on_cpu(1, [&] {
    uint32_t v = 41;
    ASSERT_EQ(m->update(&k, &v, BPF_ANY), 0);
    ++*static_cast<uint32_t*>(m->lookup(&k));
  });
  on_cpu(0, [&] { EXPECT_EQ(*static_cast<uint32_t*>(m->lookup(&k)), 0u); });
  std::vector<uint8_t> all(m->user_value_size());
  ASSERT_EQ(m->lookup_user(&k, all.data()), 0);
  uint32_t cpu0, cpu1;
  std::memcpy(&cpu0, all.data(), 4);
  std::memcpy(&cpu1, all.data() + 8, 4);
  EXPECT_EQ(cpu0, 0u);
  EXPECT_EQ(cpu1, 42u);
}

TEST(HashMap, FlagsFullAndPointerStability) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 2);
  uint32_t k1 = 1, k2 = 2, k3 = 3;
  uint64_t v = 5;
  EXPECT_EQ(m->update(&k1, &v, BPF_EXIST), -ENOENT);
  EXPECT_EQ(m->update(&k1, &v, BPF_NOEXIST), 0);
  EXPECT_EQ(m->update(&k1, &v, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update(&k2, &v, BPF_ANY), 0);
  EXPECT_EQ(m->update(&k3, &v, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->update(&k3, &v, 4), -EINVAL);
  auto* p = static_cast<uint64_t*>(m->lookup(&k1));
  ASSERT_NE(p, nullptr);
  v = 9;
  EXPECT_EQ(m->update(&k1, &v, BPF_EXIST), 0);  // full, but replacing is fine
  EXPECT_EQ(*p, 9u);                            // same storage, new value
  *p = 10;
  uint64_t out;
  ASSERT_EQ(m->lookup_user(&k1, &out), 0);
  EXPECT_EQ(out, 10u);
  EXPECT_EQ(m->delete_elem(&k1), 0);
  EXPECT_EQ(m->delete_elem(&k1), -ENOENT);
  EXPECT_EQ(m->lookup(&k1), nullptr);
  EXPECT_EQ(m->update(&k3, &v, BPF_ANY), 0);  // room again
}

TEST(HashMap, GetNextKeyVisitsEveryKeyOnceAndMissingKeyRestarts) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 4, 100);
  for (uint32_t k = 0; k < 100; ++k) ASSERT_EQ(m->update(&k, &k, BPF_NOEXIST), 0);
  std::set<uint32_t> seen;
  uint32_t cur, next;
  const void* key = nullptr;
  while (m->get_next_key(key, &next) == 0) {
    EXPECT_TRUE(seen.insert(next).second) << next;
    cur = next;
    key = &cur;
  }
  EXPECT_EQ(seen.size(), 100u);
  uint32_t first, from_missing, missing = 1000;
  ASSERT_EQ(m->get_next_key(nullptr, &first), 0);
  ASSERT_EQ(m->get_next_key(&missing, &from_missing), 0);
  EXPECT_EQ(first, from_missing);
}

TEST(HashMap, TwoThreadsLoseNoUpdate) {
  auto m = make(BPF_MAP_TYPE_HASH, 8, 8, 20000);
  auto work = [&](uint64_t base) {
    for (uint64_t i = 0; i < 10000; ++i) {
      uint64_t k = base + i;
      ASSERT_EQ(m->update(&k, &k, BPF_NOEXIST), 0);
    }
  };
  std::thread a(work, 0), b(work, 1u << 20);
  a.join();
  b.join();
  EXPECT_EQ(static_cast<HashMap&>(*m).size(), 20000u);
  for (uint64_t base : {uint64_t{0}, uint64_t{1} << 20}) {
    for (uint64_t i = 0; i < 10000; ++i) {
      uint64_t k = base + i;
      auto* v = static_cast<uint64_t*>(m->lookup(&k));
      ASSERT_NE(v, nullptr) << k;
      ASSERT_EQ(*v, k);
    }
  }
}

TEST(HashMap, ConcurrentChurnKeepsCountRight) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 4, 64);
  std::atomic<int> inserted{0}, deleted{0};
  auto work = [&](uint32_t seed) {
    for (uint32_t i = 0; i < 20000; ++i) {
      uint32_t k = (i * 2654435761u + seed) % 128;
      if (i % 2 == 0) {
        if (m->update(&k, &k, BPF_NOEXIST) == 0) ++inserted;
      } else if (m->delete_elem(&k) == 0) {
        ++deleted;
      }
    }
  };
  std::thread a(work, 1), b(work, 7);
  a.join();
  b.join();
  EXPECT_EQ(static_cast<HashMap&>(*m).size(), static_cast<uint32_t>(inserted - deleted));
  EXPECT_LE(static_cast<HashMap&>(*m).size(), 64u);
}

TEST(PercpuHash, NewElementZeroesOtherCpusExistingKeepsThem) {
  if (possible_cpus() < 2) GTEST_SKIP() << "skipped: needs two CPUs";
  auto m = make(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4);
  uint32_t k = 3;
  std::vector<uint64_t> all(possible_cpus(), 100);
  ASSERT_EQ(m->update_user(&k, all.data(), BPF_ANY), 0);
  on_cpu(0, [&] {
    uint64_t v = 1;
    ASSERT_EQ(m->update(&k, &v, BPF_EXIST), 0);
  });
  ASSERT_EQ(m->lookup_user(&k, all.data()), 0);
  EXPECT_EQ(all[0], 1u);
  EXPECT_EQ(all[1], 100u);
  ASSERT_EQ(m->delete_elem(&k), 0);
  on_cpu(1, [&] {
    uint64_t v = 2;
    ASSERT_EQ(m->update(&k, &v, BPF_NOEXIST), 0);
    EXPECT_EQ(*static_cast<uint64_t*>(m->lookup(&k)), 2u);
  });
  ASSERT_EQ(m->lookup_user(&k, all.data()), 0);
  EXPECT_EQ(all[0], 0u);
  EXPECT_EQ(all[1], 2u);
}

TEST(LruHash, EvictsInsteadOfFailingAndKeepsRecentlyUsed) {
  auto m = make(BPF_MAP_TYPE_LRU_HASH, 4, 4, 32);
  uint32_t hot = 0;
  ASSERT_EQ(m->update(&hot, &hot, BPF_ANY), 0);
  for (uint32_t k = 1; k < 1000; ++k) {
    ASSERT_NE(m->lookup(&hot), nullptr) << "the hot key was evicted before inserting " << k;
    ASSERT_EQ(m->update(&k, &k, BPF_NOEXIST), 0);
    ASSERT_NE(m->lookup(&k), nullptr);
  }
  EXPECT_LE(static_cast<HashMap&>(*m).size(), 32u);
  EXPECT_GE(static_cast<HashMap&>(*m).size(), 31u);
}

TEST(LruHash, TwoThreadsInsertingIntoAFullMap) {
  auto m = make(BPF_MAP_TYPE_LRU_PERCPU_HASH, 8, 8, 64);
  auto work = [&](uint64_t base) {
    for (uint64_t i = 0; i < 20000; ++i) {
      uint64_t k = base + i;
      ASSERT_EQ(m->update(&k, &k, BPF_ANY), 0);
    }
  };
  std::thread a(work, 0), b(work, 1u << 20);
  a.join();
  b.join();
  EXPECT_LE(static_cast<HashMap&>(*m).size(), 64u);
}

TEST(LpmTrie, LongestPrefixWins) {
  auto m = make(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16, BPF_F_NO_PREALLOC);
  struct Key {
    uint32_t prefixlen;
    uint8_t addr[4];
  };
  auto add = [&](uint32_t plen, std::array<uint8_t, 4> a, uint32_t v) {
    Key k{plen, {a[0], a[1], a[2], a[3]}};
    return m->update(&k, &v, BPF_ANY);
  };
  auto find = [&](std::array<uint8_t, 4> a, uint32_t plen = 32) -> int64_t {
    Key k{plen, {a[0], a[1], a[2], a[3]}};
    auto* v = static_cast<uint32_t*>(m->lookup(&k));
    return v ? int64_t{*v} : -1;
  };
  ASSERT_EQ(add(8, {10, 0, 0, 0}, 8), 0);
  ASSERT_EQ(add(16, {10, 1, 0, 0}, 16), 0);
  ASSERT_EQ(add(24, {10, 1, 2, 99}, 24), 0);  // bits beyond the prefix are ignored
  ASSERT_EQ(add(0, {0, 0, 0, 0}, 1), 0);
  EXPECT_EQ(find({10, 1, 2, 3}), 24);
  EXPECT_EQ(find({10, 1, 3, 3}), 16);
  EXPECT_EQ(find({10, 2, 3, 3}), 8);
  EXPECT_EQ(find({11, 2, 3, 3}), 1);
  EXPECT_EQ(find({10, 1, 2, 3}, 20), 16);  // a shorter lookup prefix limits the match
  EXPECT_EQ(find({10, 1, 2, 3}, 33), -1);
  Key bad{33, {}};
  uint32_t v = 0;
  EXPECT_EQ(m->update(&bad, &v, BPF_ANY), -EINVAL);
  EXPECT_EQ(m->delete_elem(&bad), -EINVAL);
  Key k16{16, {10, 1, 200, 200}};
  EXPECT_EQ(m->delete_elem(&k16), 0);  // exact prefix, trailing bits ignored
  EXPECT_EQ(find({10, 1, 3, 3}), 8);
}

TEST(LpmTrie, FullTrieSaysEnospcButReplacesInPlace) {
  auto m = make(BPF_MAP_TYPE_LPM_TRIE, 5, 1, 2, BPF_F_NO_PREALLOC);
  uint8_t k1[5] = {8, 0, 0, 0, 1}, k2[5] = {8, 0, 0, 0, 2}, k3[5] = {8, 0, 0, 0, 3};
  uint8_t v = 1;
  ASSERT_EQ(m->update(k1, &v, BPF_ANY), 0);
  ASSERT_EQ(m->update(k2, &v, BPF_ANY), 0);
  EXPECT_EQ(m->update(k3, &v, BPF_ANY), -ENOSPC);
  EXPECT_EQ(m->update(k1, &v, BPF_EXIST), 0);
  EXPECT_EQ(m->update(k3, &v, BPF_EXIST), -ENOENT);
}

// A large trie (its stride table on) against a brute-force longest-prefix match,
// through inserts, replacements and deletes of nested and overlapping prefixes.
TEST(LpmTrie, LargeTrieAgreesWithBruteForce) {
  auto m = make(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4096, BPF_F_NO_PREALLOC);
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> ref;  // (plen, masked addr) -> value
  auto mask = [](uint32_t plen) { return plen == 0 ? 0u : ~0u << (32 - plen); };
  auto key = [](uint32_t plen, uint32_t addr) {
    std::array<uint8_t, 8> k{};
    std::memcpy(k.data(), &plen, 4);
    for (int i = 0; i < 4; ++i) k[4 + i] = uint8_t(addr >> (24 - 8 * i));
    return k;
  };
  uint64_t x = 12345;
  auto rnd = [&] { return uint32_t((x = x * 6364136223846793005ull + 1442695040888963407ull) >> 33); };
  const uint32_t bases[] = {0x0A000000, 0xC0A80000, 0x7F000000, 0x00000000};
  for (int step = 0; step < 6000; ++step) {
    const uint32_t plen = rnd() % 33;
    const uint32_t addr = (bases[rnd() % 4] ^ (rnd() & (rnd() % 2 ? 0x00FFFFFF : 0x0000FFFF))) & mask(plen);
    const auto k = key(plen, addr);
    if (rnd() % 4 == 0) {
      EXPECT_EQ(m->delete_elem(k.data()) == 0, ref.erase({plen, addr}) == 1) << step;
    } else {
      const uint32_t v = uint32_t(step);
      if (m->update(k.data(), &v, BPF_ANY) == 0) ref[{plen, addr}] = v;
    }
    for (int q = 0; q < 4; ++q) {
      const uint32_t qlen = q == 0 ? rnd() % 33 : 32;
      const uint32_t qaddr = bases[rnd() % 4] ^ (rnd() & 0x00FFFFFF);
      int64_t want = -1;
      for (uint32_t l = qlen + 1; l-- > 0;) {
        auto it = ref.find({l, qaddr & mask(l)});
        if (it != ref.end()) {
          want = it->second;
          break;
        }
      }
      const auto qk = key(qlen, qaddr);
      const auto* got = static_cast<const uint32_t*>(m->lookup(qk.data()));
      ASSERT_EQ(got ? int64_t(*got) : -1, want) << "step " << step << " lookup " << std::hex << qaddr << "/"
                                                 << std::dec << qlen;
    }
  }
}

// A writer inserting and deleting prefixes under 10.0.0.0/8 (and splitting the
// trie around it) must never make a lock-free lookup miss the /8 or see a value
// that was never stored.
TEST(LpmTrie, LookupsDuringUpdatesNeverMissAStablePrefix) {
  auto m = make(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4096, BPF_F_NO_PREALLOC);
  auto key = [](uint32_t plen, uint32_t addr) {
    std::array<uint8_t, 8> k{};
    std::memcpy(k.data(), &plen, 4);
    for (int i = 0; i < 4; ++i) k[4 + i] = uint8_t(addr >> (24 - 8 * i));
    return k;
  };
  const uint32_t stable = 8;
  ASSERT_EQ(m->update(key(8, 0x0A000000).data(), &stable, BPF_ANY), 0);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    uint32_t x = 1;
    for (int i = 0; i < 200000; ++i) {
      x = x * 1103515245u + 12345u;
      const uint32_t plen = 9 + x % 24;
      const auto k = key(plen, 0x0A000000 | (x & 0x00FFFFFF));
      const uint32_t v = 1000 + plen;
      if (x & 0x10000) {
        m->update(k.data(), &v, BPF_ANY);
      } else {
        m->delete_elem(k.data());
      }
    }
    stop = true;
  });
  uint64_t lookups = 0;
  uint32_t y = 7;
  while (!stop) {
    y = y * 1664525u + 1013904223u;
    const auto k = key(32, 0x0A000000 | (y & 0x00FFFFFF));
    const auto* v = static_cast<const uint32_t*>(m->lookup(k.data()));
    ASSERT_NE(v, nullptr) << "10.0.0.0/8 vanished during a concurrent update";
    ASSERT_TRUE(*v == 8 || (*v >= 1009 && *v <= 1032)) << *v;
    ++lookups;
  }
  writer.join();
  EXPECT_GT(lookups, 0u);
}

TEST(LpmTrie, IterationGivesMoreSpecificPrefixesFirst) {
  auto m = make(BPF_MAP_TYPE_LPM_TRIE, 6, 1, 16, BPF_F_NO_PREALLOC);
  uint8_t v = 0;
  for (uint32_t plen : {0u, 8u, 16u, 12u}) {
    uint8_t k[6] = {};
    std::memcpy(k, &plen, 4);
    k[4] = 0xAB;
    k[5] = 0xCD;
    ASSERT_EQ(m->update(k, &v, BPF_ANY), 0);
  }
  std::vector<uint32_t> order;
  uint8_t cur[6], next[6];
  const void* key = nullptr;
  while (m->get_next_key(key, next) == 0) {
    uint32_t plen;
    std::memcpy(&plen, next, 4);
    order.push_back(plen);
    std::memcpy(cur, next, 6);
    key = cur;
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{16, 12, 8, 0}));
}

TEST(QueueStack, FifoLifoAndOverwriteOldest) {
  auto q = make(BPF_MAP_TYPE_QUEUE, 0, 4, 3);
  auto s = make(BPF_MAP_TYPE_STACK, 0, 4, 3);
  for (uint32_t v = 1; v <= 3; ++v) {
    ASSERT_EQ(q->push(&v, BPF_ANY), 0);
    ASSERT_EQ(s->push(&v, BPF_ANY), 0);
  }
  uint32_t v = 4, out = 0;
  EXPECT_EQ(q->push(&v, BPF_ANY), -E2BIG);
  EXPECT_EQ(q->push(&v, BPF_NOEXIST), -EINVAL);
  EXPECT_EQ(q->push(&v, BPF_EXIST), 0);  // drops 1
  EXPECT_EQ(s->push(&v, BPF_EXIST), 0);  // drops 1 as well: the oldest
  ASSERT_EQ(q->peek(&out), 0);
  EXPECT_EQ(out, 2u);
  for (uint32_t want : {2u, 3u, 4u}) {
    ASSERT_EQ(q->pop(&out), 0);
    EXPECT_EQ(out, want);
  }
  for (uint32_t want : {4u, 3u, 2u}) {
    ASSERT_EQ(s->pop(&out), 0);
    EXPECT_EQ(out, want);
  }
  EXPECT_EQ(q->pop(&out), -ENOENT);
  EXPECT_EQ(s->peek(&out), -ENOENT);
  EXPECT_EQ(q->lookup(nullptr), nullptr);
  EXPECT_EQ(q->delete_elem(nullptr), -EINVAL);
}

TEST(BloomFilter, NoFalseNegativesAndFewFalsePositives) {
  auto m = make(BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 1000);
  for (uint64_t v = 0; v < 1000; ++v) ASSERT_EQ(m->push(&v, BPF_ANY), 0);
  for (uint64_t v = 0; v < 1000; ++v) ASSERT_EQ(m->peek(&v), 0) << v;
  int positives = 0;
  for (uint64_t v = 1000; v < 11000; ++v) positives += m->peek(&v) == 0;
  EXPECT_LT(positives, 500);  // about 2% expected with 5 hashes
  uint64_t v = 1;
  EXPECT_EQ(m->push(&v, BPF_EXIST), -EINVAL);
  EXPECT_EQ(m->pop(&v), -EOPNOTSUPP);
  EXPECT_EQ(m->delete_elem(nullptr), -EOPNOTSUPP);
}

TEST(CreateMap, RefusalsSayWhatAndWhy) {
  try {
    make(BPF_MAP_TYPE_ARRAY, 8, 4, 4);
    FAIL() << "created an array with an 8-byte key";
  } catch (const MapSpecError& e) {
    EXPECT_EQ(e.kernel_errno(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("key_size must be 4"), std::string::npos) << e.what();
  }
  try {
    make(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4);
    FAIL() << "created an LPM trie without BPF_F_NO_PREALLOC";
  } catch (const MapSpecError& e) {
    EXPECT_NE(std::string(e.what()).find("BPF_F_NO_PREALLOC"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make(BPF_MAP_TYPE_RINGBUF, 0, 0, 4095), MapSpecError);  // not a power of 2
  EXPECT_THROW(make(9999, 4, 4, 4), MapSpecError);
  EXPECT_EQ(make(BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 10)->name(), "t");
}

}  // namespace
}  // namespace bpfkit::maps
