// The strongest test of the maps layer: the same map is created in the running
// kernel (raw bpf(2)) and here, the same seeded random sequence of user-space
// operations runs on both, and every return code and value must agree.
//
// Iteration order is the kernel's for arrays and LPM tries (the same trie); for
// hash maps the SET of keys a full get_next_key walk reaches is compared. LRU maps run
// with fewer distinct keys than max_entries, so neither side needs to evict:
// which element an LRU evicts depends on the kernel's per-CPU lists and is not
// part of the contract (a separate test checks that both evict rather than fail).
#include <gtest/gtest.h>
#include <sched.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernel_map.h"
#include "maps/cpu.h"
#include "maps/map.h"

namespace bpfkit::maps {
namespace {

using testing::KernelMap;
using Bytes = std::vector<uint8_t>;

std::string hex(const Bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s.empty() ? "(none)" : s;
}

#define SKIP_WITHOUT_KERNEL()                                                    \
  do {                                                                           \
    std::string why = testing::kernel_maps_unavailable_reason();                 \
    if (!why.empty()) GTEST_SKIP() << "skipped: " << why;                        \
  } while (0)

// BPFKIT_MAPS_SEED=n shifts every seed, to run other sequences than the default.
uint64_t seed_offset() {
  const char* s = getenv("BPFKIT_MAPS_SEED");
  return s ? std::strtoull(s, nullptr, 10) * 1000 : 0;
}

// Runs one seeded random operation sequence on both sides.
class Crosscheck {
 public:
  Crosscheck(const MapSpec& spec, uint64_t seed) : spec_(spec), rng_(seed + seed_offset()) {
    mine_ = create_map(spec);
    int rc = kernel_.create(spec);
    EXPECT_EQ(rc, 0) << "the kernel refused " << map_type_name(spec.type) << ": " << strerror(-rc);
    uvs_ = mine_->user_value_size();
  }

  Map& mine() { return *mine_; }
  KernelMap& kernel() { return kernel_; }

  Bytes random_bytes(size_t n) {
    Bytes b(n);
    for (auto& c : b) c = static_cast<uint8_t>(rng_());
    return b;
  }
  uint64_t random_flags() {
    uint32_t r = rng_() % 100;
    if (r < 35) return BPF_ANY;
    if (r < 60) return BPF_NOEXIST;
    if (r < 85) return BPF_EXIST;
    static const uint64_t bad[] = {3, BPF_F_LOCK, 8, BPF_F_LOCK | BPF_EXIST};
    return bad[rng_() % 4];
  }
  std::mt19937_64& rng() { return rng_; }

  // Keyed maps: one random operation on `keys`.
  void keyed_op(const std::vector<Bytes>& keys, int step) {
    const Bytes& key = keys[rng_() % keys.size()];
    uint32_t r = rng_() % 100;
    std::string where = "step " + std::to_string(step) + " key " + hex(key) + ": ";
    if (r < 40) {
      Bytes value = random_bytes(uvs_);
      uint64_t flags = random_flags();
      int a = mine_->update_user(key.data(), value.data(), flags);
      int b = kernel_.update(key.data(), value.data(), flags);
      ASSERT_EQ(a, b) << where << "update flags " << flags;
      ++outcomes_["update " + std::string(strerror(-a))];
    } else if (r < 65) {
      Bytes va(uvs_, 0xAA), vb(uvs_, 0xAA);
      int a = mine_->lookup_user(key.data(), va.data());
      int b = kernel_.lookup(key.data(), vb.data());
      ASSERT_EQ(a, b) << where << "lookup";
      if (a == 0) {
        ASSERT_EQ(hex(va), hex(vb)) << where << "lookup value";
      }
    } else if (r < 75) {
      Bytes va(uvs_, 0xAA), vb(uvs_, 0xAA);
      int a = mine_->lookup_and_delete_user(key.data(), va.data());
      int b = kernel_.lookup_and_delete(key.data(), vb.data());
      ASSERT_EQ(a, b) << where << "lookup_and_delete";
      if (a == 0) {
        ASSERT_EQ(hex(va), hex(vb)) << where << "lookup_and_delete value";
      }
      ++outcomes_["lookup_and_delete " + std::string(strerror(-a))];
    } else if (r < 85) {
      int a = mine_->delete_user(key.data());
      int b = kernel_.delete_elem(key.data());
      ASSERT_EQ(a, b) << where << "delete";
      ++outcomes_["delete " + std::string(strerror(-a))];
    } else {
      next_op(key, where);
    }
  }

  void next_op(const Bytes& key, const std::string& where) {
    bool null_key = rng_() % 4 == 0;
    const void* k = null_key ? nullptr : key.data();
    Bytes na(spec_.key_size, 0), nb(spec_.key_size, 0);
    int a = mine_->get_next_key(k, na.data());
    int b = kernel_.get_next_key(k, nb.data());
    if (ordered_) {
      ASSERT_EQ(a, b) << where << "get_next_key";
      if (a == 0) {
        ASSERT_EQ(hex(na), hex(nb)) << where << "next key";
      }
      return;
    }
    // Orders differ: compare what is order-independent.
    Bytes probe(uvs_);
    bool present = !null_key && kernel_.lookup(key.data(), probe.data()) == 0 && exact_key_present(key);
    if (!present) {
      ASSERT_EQ(a, b) << where << "get_next_key from a missing key restarts from the first";
    }
    if (a == 0) {
      ASSERT_EQ(mine_->lookup_user(na.data(), probe.data()), 0) << where << "my next key exists";
    }
    if (b == 0) {
      ASSERT_EQ(kernel_.lookup(nb.data(), probe.data()), 0) << where << "kernel's next key exists";
    }
  }

  // For LPM tries a lookup matches prefixes; get_next_key needs the exact key.
  bool exact_key_present(const Bytes& key) {
    if (spec_.type != BPF_MAP_TYPE_LPM_TRIE) return true;
    return exact_keys_mine().count(normalize(key)) > 0;
  }

  std::string normalize(const Bytes& key) {
    if (spec_.type != BPF_MAP_TYPE_LPM_TRIE) return hex(key);
    uint32_t plen;
    std::memcpy(&plen, key.data(), 4);
    Bytes k = key;
    for (uint32_t bit = plen; bit < (spec_.key_size - 4) * 8; ++bit) k[4 + bit / 8] &= ~(0x80 >> (bit % 8));
    return hex(k);
  }

  std::set<std::string> exact_keys_mine() {
    std::set<std::string> s;
    Bytes cur(spec_.key_size), next(spec_.key_size);
    const void* k = nullptr;
    for (uint32_t i = 0; i <= spec_.max_entries * 2 + 2; ++i) {
      if (mine_->get_next_key(k, next.data()) != 0) break;
      s.insert(normalize(next));
      cur = next;
      k = cur.data();
    }
    return s;
  }

  // Walks both maps from the first key; the walks must reach the same keys
  // (in the same order for arrays) holding the same values.
  void compare_all(const std::string& where) {
    std::vector<Bytes> ka = walk_mine(), kb = walk_kernel();
    if (ordered_) {
      ASSERT_EQ(ka, kb) << where << ": iteration order";
    } else {
      std::set<Bytes> sa(ka.begin(), ka.end()), sb(kb.begin(), kb.end());
      ASSERT_EQ(sa.size(), ka.size()) << where << ": my walk repeated a key";
      ASSERT_EQ(sb.size(), kb.size()) << where << ": the kernel's walk repeated a key";
      std::set<std::string> na, nb;
      for (auto& k : ka) na.insert(normalize(k));
      for (auto& k : kb) nb.insert(normalize(k));
      ASSERT_EQ(na, nb) << where << ": the sets of keys reached";
    }
    for (const Bytes& key : kb) {
      Bytes va(uvs_), vb(uvs_);
      ASSERT_EQ(mine_->lookup_user(key.data(), va.data()), 0) << where << " key " << hex(key);
      ASSERT_EQ(kernel_.lookup(key.data(), vb.data()), 0) << where << " key " << hex(key);
      ASSERT_EQ(hex(va), hex(vb)) << where << " value of key " << hex(key);
    }
  }

  std::vector<Bytes> walk_mine() {
    std::vector<Bytes> keys;
    Bytes next(spec_.key_size);
    const void* k = nullptr;
    while (keys.size() <= spec_.max_entries && mine_->get_next_key(k, next.data()) == 0) {
      keys.push_back(next);
      k = keys.back().data();
    }
    return keys;
  }
  std::vector<Bytes> walk_kernel() {
    std::vector<Bytes> keys;
    Bytes next(spec_.key_size);
    const void* k = nullptr;
    while (keys.size() <= spec_.max_entries && kernel_.get_next_key(k, next.data()) == 0) {
      keys.push_back(next);
      k = keys.back().data();
    }
    return keys;
  }

  void set_ordered(bool ordered) { ordered_ = ordered; }
  // How often each return code came up: shows that the sequence reached E2BIG etc.
  std::string outcomes() const {
    std::string s;
    for (auto& [what, n] : outcomes_) s += "  " + what + ": " + std::to_string(n) + "\n";
    return s;
  }
  size_t uvs() const { return uvs_; }

 private:
  MapSpec spec_;
  std::mt19937_64 rng_;
  std::unique_ptr<Map> mine_;
  KernelMap kernel_;
  size_t uvs_ = 0;
  bool ordered_ = false;
  std::map<std::string, int> outcomes_;
};

constexpr int kOps = 3000;


void run_keyed(const MapSpec& spec, const std::vector<Bytes>& keys, bool ordered, uint64_t seed) {
  Crosscheck c(spec, seed);
  if (::testing::Test::HasFailure()) return;
  c.set_ordered(ordered);
  for (int step = 0; step < kOps; ++step) {
    c.keyed_op(keys, step);
    if (::testing::Test::HasFatalFailure()) return;
    if (step % 100 == 99) {
      c.compare_all("after step " + std::to_string(step));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  std::cout << map_type_name(spec.type) << " outcomes (identical on both sides):\n" << c.outcomes();
}

std::vector<Bytes> random_keys(std::mt19937_64& rng, size_t count, uint32_t key_size) {
  std::set<Bytes> keys;
  while (keys.size() < count) {
    Bytes k(key_size);
    for (auto& c : k) c = static_cast<uint8_t>(rng());
    keys.insert(k);
  }
  return {keys.begin(), keys.end()};
}

std::vector<Bytes> array_keys(uint32_t max_entries) {
  std::vector<Bytes> keys;
  std::vector<uint32_t> edges{0, 1, 2, max_entries - 1, max_entries, max_entries + 1, 0xFFFFFFFF};
  for (uint32_t i : edges) {
    Bytes k(4);
    std::memcpy(k.data(), &i, 4);
    keys.push_back(k);
  }
  for (uint32_t i = 3; i < max_entries - 1; ++i) {
    Bytes k(4);
    std::memcpy(k.data(), &i, 4);
    keys.push_back(k);
  }
  return keys;
}

// Per-CPU maps exchange possible_cpus() values; the kernel's count must agree.
#define SKIP_UNLESS_CPUS_AGREE()                                                                    \
  do {                                                                                              \
    if (testing::kernel_possible_cpus() != possible_cpus())                                         \
      GTEST_SKIP() << "skipped: sysconf says " << possible_cpus() << " CPUs but the kernel's possible " \
                   << "mask has " << testing::kernel_possible_cpus();                               \
  } while (0)

TEST(KernelCrosscheck, CreateRefusesWhatTheKernelRefuses) {
  SKIP_WITHOUT_KERNEL();
  std::vector<MapSpec> specs = {
      {BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, 0, "ok"},
      {BPF_MAP_TYPE_ARRAY, 8, 8, 16, 0, 0, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 0, 16, 0, 0, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0, 0, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_MMAPABLE, 0, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_PRESERVE_ELEMS, 0, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, 0, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY | BPF_F_WRONLY, 0, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 1, ""},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, "bad-name"},
      {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, "name_ok.1"},
      {BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPF_F_MMAPABLE, 0, ""},
      {BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32768, 4, 0, 0, ""},
      {BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 4, 0, 0, ""},
      {BPF_MAP_TYPE_HASH, 0, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_HASH, 4, 0, 4, 0, 0, ""},
      {BPF_MAP_TYPE_HASH, 4, 8, 0, 0, 0, ""},
      {BPF_MAP_TYPE_HASH, 512, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_HASH, 513, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, 0, ""},
      {BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_NO_COMMON_LRU, 0, ""},
      {BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_MMAPABLE, 0, ""},
      {BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 4, 0, 0, ""},
      {BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_F_NO_COMMON_LRU, 0, ""},
      {BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 4, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 5, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 260, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 261, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 8, 0, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 8, 8, 0, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, 0, ""},
      {BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_QUEUE, 4, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_QUEUE, 0, 0, 4, 0, 0, ""},
      {BPF_MAP_TYPE_QUEUE, 0, 8, 0, 0, 0, ""},
      {BPF_MAP_TYPE_STACK, 0, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_STACK, 0, 8, 4, BPF_F_RDONLY_PROG, 0, ""},
      {BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, 0, 3, ""},
      {BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, 0, 16, ""},
      {BPF_MAP_TYPE_BLOOM_FILTER, 4, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, BPF_F_ZERO_SEED, 0, ""},
      {BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_BLOOM_FILTER, 0, 0, 4, 0, 0, ""},
  };
  for (const MapSpec& spec : specs) {
    KernelMap k;
    int expected = -k.create(spec);
    int got = 0;
    std::string message;
    try {
      create_map(spec);
    } catch (const MapSpecError& e) {
      got = e.kernel_errno();
      message = e.what();
    }
    EXPECT_EQ(got, expected) << map_type_name(spec.type) << " key " << spec.key_size << " value "
                             << spec.value_size << " max " << spec.max_entries << " flags 0x" << std::hex
                             << spec.flags << std::dec << " extra " << spec.map_extra << " name '"
                             << spec.name
                             << "': mine says: " << (message.empty() ? "created" : message);
  }
}

// BPF_F_RDONLY / BPF_F_WRONLY: the syscall refuses writes / reads with EPERM.
TEST(KernelCrosscheck, AccessFlags) {
  SKIP_WITHOUT_KERNEL();
  for (uint32_t access : {0u, uint32_t{BPF_F_RDONLY}, uint32_t{BPF_F_WRONLY}, uint32_t{BPF_F_RDONLY_PROG}}) {
    for (uint32_t type : {BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_QUEUE}) {
      bool keyless = type == BPF_MAP_TYPE_QUEUE;
      MapSpec spec{type, keyless ? 0u : 4u, 8, 4, access, 0, "xc_access"};
      Crosscheck c(spec, 14);
      if (HasFailure()) return;
      uint32_t key = 1;
      const void* k = keyless ? nullptr : &key;
      uint64_t v = 5, va = 0, vb = 0;
      std::string where = map_type_name(type) + " flags " + std::to_string(access) + ": ";
      EXPECT_EQ(c.mine().update_user(k, &v, BPF_ANY), c.kernel().update(k, &v, BPF_ANY)) << where << "update";
      EXPECT_EQ(c.mine().lookup_user(k, &va), c.kernel().lookup(k, &vb)) << where << "lookup";
      EXPECT_EQ(va, vb) << where << "lookup value";
      uint32_t na = 0, nb = 0;
      EXPECT_EQ(c.mine().get_next_key_user(nullptr, &na), c.kernel().get_next_key(nullptr, &nb))
          << where << "get_next_key";
      EXPECT_EQ(c.mine().lookup_and_delete_user(k, &va), c.kernel().lookup_and_delete(k, &vb))
          << where << "lookup_and_delete";
      EXPECT_EQ(c.mine().delete_user(k), c.kernel().delete_elem(k)) << where << "delete";
    }
  }
}

TEST(KernelCrosscheck, Array) {
  SKIP_WITHOUT_KERNEL();
  MapSpec spec{BPF_MAP_TYPE_ARRAY, 4, 12, 24, 0, 0, "xc_array"};
  run_keyed(spec, array_keys(spec.max_entries), true, 1);
}

TEST(KernelCrosscheck, PercpuArray) {
  SKIP_WITHOUT_KERNEL();
  SKIP_UNLESS_CPUS_AGREE();
  MapSpec spec{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 12, 24, 0, 0, "xc_pcpu_array"};
  run_keyed(spec, array_keys(spec.max_entries), true, 2);
}

TEST(KernelCrosscheck, Hash) {
  SKIP_WITHOUT_KERNEL();
  std::mt19937_64 rng(3 + seed_offset());
  MapSpec spec{BPF_MAP_TYPE_HASH, 6, 10, 16, 0, 0, "xc_hash"};
  run_keyed(spec, random_keys(rng, 40, spec.key_size), false, 3);
}

TEST(KernelCrosscheck, HashNoPrealloc) {
  SKIP_WITHOUT_KERNEL();
  std::mt19937_64 rng(4 + seed_offset());
  MapSpec spec{BPF_MAP_TYPE_HASH, 8, 16, 20, BPF_F_NO_PREALLOC, 0, "xc_hash_np"};
  run_keyed(spec, random_keys(rng, 50, spec.key_size), false, 4);
}

TEST(KernelCrosscheck, PercpuHash) {
  SKIP_WITHOUT_KERNEL();
  SKIP_UNLESS_CPUS_AGREE();
  std::mt19937_64 rng(5 + seed_offset());
  MapSpec spec{BPF_MAP_TYPE_PERCPU_HASH, 4, 12, 16, 0, 0, "xc_pcpu_hash"};
  run_keyed(spec, random_keys(rng, 40, spec.key_size), false, 5);
}

// Pinned to one CPU: the kernel's LRU hands out free nodes from per-CPU lists,
// and a thread that migrates could make it evict before the map is full.
class PinToOneCpu {
 public:
  PinToOneCpu() {
    sched_getaffinity(0, sizeof old_, &old_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);
  }
  ~PinToOneCpu() { sched_setaffinity(0, sizeof old_, &old_); }

 private:
  cpu_set_t old_;
};

TEST(KernelCrosscheck, LruHashWithoutEviction) {
  SKIP_WITHOUT_KERNEL();
  PinToOneCpu pin;
  std::mt19937_64 rng(6 + seed_offset());
  MapSpec spec{BPF_MAP_TYPE_LRU_HASH, 4, 8, 64, 0, 0, "xc_lru"};
  run_keyed(spec, random_keys(rng, 32, spec.key_size), false, 6);
}

TEST(KernelCrosscheck, LruPercpuHashWithoutEviction) {
  SKIP_WITHOUT_KERNEL();
  SKIP_UNLESS_CPUS_AGREE();
  PinToOneCpu pin;
  std::mt19937_64 rng(7 + seed_offset());
  MapSpec spec{BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 64, 0, 0, "xc_lru_pcpu"};
  run_keyed(spec, random_keys(rng, 32, spec.key_size), false, 7);
}

// Full LRU maps: both sides accept every insert (evicting), never exceed
// max_entries, and keep the element just inserted.
void lru_evicts_in_both(bpf_map_type type) {
  PinToOneCpu pin;
  MapSpec spec{type, 4, 8, 32, 0, 0, "xc_lru_evict"};
  Crosscheck c(spec, 8);
  if (::testing::Test::HasFailure()) return;
  Bytes value(c.uvs(), 7);
  for (uint32_t i = 0; i < 400; ++i) {
    ASSERT_EQ(c.mine().update_user(&i, value.data(), BPF_NOEXIST), 0) << "insert " << i;
    ASSERT_EQ(c.kernel().update(&i, value.data(), BPF_NOEXIST), 0) << "kernel insert " << i;
    Bytes out(c.uvs());
    ASSERT_EQ(c.mine().lookup_user(&i, out.data()), 0) << "just inserted " << i;
    ASSERT_EQ(c.kernel().lookup(&i, out.data()), 0) << "kernel just inserted " << i;
  }
  EXPECT_LE(c.walk_mine().size(), spec.max_entries);
  EXPECT_LE(c.walk_kernel().size(), spec.max_entries);
  EXPECT_GE(c.walk_mine().size(), spec.max_entries / 2);
}

TEST(KernelCrosscheck, LruHashEvictsWhenFull) {
  SKIP_WITHOUT_KERNEL();
  lru_evicts_in_both(BPF_MAP_TYPE_LRU_HASH);
}

TEST(KernelCrosscheck, LruPercpuHashEvictsWhenFull) {
  SKIP_WITHOUT_KERNEL();
  SKIP_UNLESS_CPUS_AGREE();
  lru_evicts_in_both(BPF_MAP_TYPE_LRU_PERCPU_HASH);
}

std::vector<Bytes> lpm_keys(std::mt19937_64& rng, uint32_t data_size, size_t count) {
  // A few base addresses, so that prefixes nest and overlap; prefix lengths up
  // to max_prefixlen + 1 (an invalid one now and then).
  std::vector<Bytes> bases;
  for (int i = 0; i < 3; ++i) {
    Bytes b(data_size);
    for (auto& c : b) c = static_cast<uint8_t>(rng());
    bases.push_back(b);
  }
  std::vector<Bytes> keys;
  uint32_t max_plen = data_size * 8;
  for (size_t i = 0; i < count; ++i) {
    Bytes k(4 + data_size);
    uint32_t plen = static_cast<uint32_t>(rng() % (max_plen + 2));
    std::memcpy(k.data(), &plen, 4);
    Bytes data = bases[rng() % bases.size()];
    // Flip a bit somewhere so that different keys share different prefix lengths.
    uint32_t bit = static_cast<uint32_t>(rng() % max_plen);
    if (rng() % 2) data[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
    std::memcpy(k.data() + 4, data.data(), data_size);
    keys.push_back(k);
  }
  return keys;
}

TEST(KernelCrosscheck, LpmTrie) {
  SKIP_WITHOUT_KERNEL();
  std::mt19937_64 rng(9 + seed_offset());
  MapSpec spec{BPF_MAP_TYPE_LPM_TRIE, 4 + 4, 8, 24, BPF_F_NO_PREALLOC, 0, "xc_lpm"};
  run_keyed(spec, lpm_keys(rng, 4, 80), true, 9);  // the same trie: the same order
}

TEST(KernelCrosscheck, LpmTrieOddSize) {
  SKIP_WITHOUT_KERNEL();
  std::mt19937_64 rng(10 + seed_offset());
  MapSpec spec{BPF_MAP_TYPE_LPM_TRIE, 4 + 3, 5, 16, BPF_F_NO_PREALLOC, 0, "xc_lpm3"};
  run_keyed(spec, lpm_keys(rng, 3, 60), true, 10);
}

void run_queue_stack(bpf_map_type type, uint64_t seed) {
  MapSpec spec{type, 0, 6, 8, 0, 0, "xc_qs"};
  Crosscheck c(spec, seed);
  if (::testing::Test::HasFailure()) return;
  auto& rng = c.rng();
  for (int step = 0; step < kOps; ++step) {
    std::string where = "step " + std::to_string(step) + ": ";
    uint32_t r = rng() % 100;
    Bytes va(6, 0xAA), vb(6, 0xAA);
    int a, b;
    if (r < 45) {
      Bytes v = c.random_bytes(6);
      uint64_t flags = c.random_flags();
      a = c.mine().update_user(nullptr, v.data(), flags);
      b = c.kernel().update(nullptr, v.data(), flags);
      ASSERT_EQ(a, b) << where << "push flags " << flags;
      continue;
    } else if (r < 70) {
      a = c.mine().lookup_and_delete_user(nullptr, va.data());
      b = c.kernel().lookup_and_delete(nullptr, vb.data());
    } else if (r < 90) {
      a = c.mine().lookup_user(nullptr, va.data());
      b = c.kernel().lookup(nullptr, vb.data());
    } else if (r < 95) {
      a = c.mine().delete_user(nullptr);
      b = c.kernel().delete_elem(nullptr);
    } else {
      a = c.mine().get_next_key(nullptr, va.data());
      b = c.kernel().get_next_key(nullptr, vb.data());
    }
    ASSERT_EQ(a, b) << where << "op " << r;
    ASSERT_EQ(hex(va), hex(vb)) << where << "value";
  }
}

TEST(KernelCrosscheck, Queue) {
  SKIP_WITHOUT_KERNEL();
  run_queue_stack(BPF_MAP_TYPE_QUEUE, 11);
}

TEST(KernelCrosscheck, Stack) {
  SKIP_WITHOUT_KERNEL();
  run_queue_stack(BPF_MAP_TYPE_STACK, 12);
}

TEST(KernelCrosscheck, BloomFilter) {
  SKIP_WITHOUT_KERNEL();
  MapSpec spec{BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 100, 0, 3, "xc_bloom"};
  Crosscheck c(spec, 13);
  if (HasFailure()) return;
  auto& rng = c.rng();
  std::vector<Bytes> pool;
  for (int i = 0; i < 400; ++i) pool.push_back(c.random_bytes(8));
  std::set<Bytes> pushed;
  int false_positives = 0, absent_probes = 0;
  for (int step = 0; step < kOps; ++step) {
    std::string where = "step " + std::to_string(step) + ": ";
    uint32_t r = rng() % 100;
    if (r < 20) {
      const Bytes& v = pool[rng() % 100];  // the first 100 are the ones that get pushed
      uint64_t flags = rng() % 4 == 0 ? c.random_flags() : uint64_t{BPF_ANY};
      int a = c.mine().update_user(nullptr, v.data(), flags);
      int b = c.kernel().update(nullptr, v.data(), flags);
      ASSERT_EQ(a, b) << where << "push flags " << flags;
      if (a == 0) pushed.insert(v);
    } else if (r < 90) {
      Bytes v = pool[rng() % pool.size()];
      Bytes v2 = v;
      int a = c.mine().lookup_user(nullptr, v.data());
      int b = c.kernel().lookup(nullptr, v2.data());
      if (pushed.count(v)) {
        ASSERT_EQ(a, 0) << where << "a pushed value must be found";
        ASSERT_EQ(b, 0) << where << "the kernel found a pushed value";
      } else {
        // Either may say "maybe" for a value never pushed: hashes differ.
        ASSERT_TRUE(a == 0 || a == -ENOENT) << where << a;
        ASSERT_TRUE(b == 0 || b == -ENOENT) << where << b;
        ++absent_probes;
        if (a == 0) ++false_positives;
      }
    } else if (r < 95) {
      ASSERT_EQ(c.mine().delete_user(nullptr), c.kernel().delete_elem(nullptr)) << where << "delete";
    } else {
      Bytes na(8), nb(8);
      ASSERT_EQ(c.mine().get_next_key(nullptr, na.data()), c.kernel().get_next_key(nullptr, nb.data()))
          << where << "get_next_key";
    }
  }
  EXPECT_LT(false_positives, absent_probes / 10) << "too many false positives";
}

}  // namespace
}  // namespace bpfkit::maps
