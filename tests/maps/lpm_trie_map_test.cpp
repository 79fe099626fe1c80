// LpmTrieMap internals that maps_test.cpp's behaviour tests do not pin down: nodes
// carved from slabs (distinct, aligned, reused after a delete, never returned) and
// the stride table's subtree refresh after changes near the top of the trie.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "maps/lpm_trie_map.h"

namespace bpfkit::maps {
namespace {

using Key = std::array<uint8_t, 8>;  // struct bpf_lpm_trie_key_u8 with 4 data bytes

Key key(uint32_t plen, uint32_t addr) {
  Key k{};
  std::memcpy(k.data(), &plen, 4);
  for (int i = 0; i < 4; ++i) k[4 + i] = uint8_t(addr >> (24 - 8 * i));
  return k;
}

uint32_t mask(uint32_t plen) { return plen == 0 ? 0u : ~0u << (32 - plen); }

// Every value lives in its own node: writing through one lookup pointer changes no
// other prefix's value, and every pointer is 8-byte aligned (values hold u64 counters
// the program updates atomically).
TEST(LpmTrieSlabs, NodesAreDistinctAlignedAndKeptApart) {
  LpmTrieMap m(MapSpec{BPF_MAP_TYPE_LPM_TRIE, 8, 8, 8192, BPF_F_NO_PREALLOC, 0, "slabs"});
  EXPECT_EQ(m.node_stride() % 32, 0u);
  constexpr uint32_t kCount = 5000;  // more than a few slabs' worth
  std::vector<uint64_t*> values;
  for (uint32_t i = 0; i < kCount; ++i) {
    const uint64_t v = 0;
    ASSERT_EQ(m.update(key(32, i * 2654435761u).data(), &v, BPF_ANY), 0) << i;
  }
  std::set<uintptr_t> seen;
  for (uint32_t i = 0; i < kCount; ++i) {
    auto* p = static_cast<uint64_t*>(m.lookup(key(32, i * 2654435761u).data()));
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 8, 0u) << i;
    EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(p)).second) << "two prefixes share a value: " << i;
    *p = 0x1234567800000000ull | i;
    values.push_back(p);
  }
  for (uint32_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(*values[i], 0x1234567800000000ull | i) << "value " << i << " was overwritten by a neighbour";
    ASSERT_EQ(m.lookup(key(32, i * 2654435761u).data()), values[i]) << "a node moved: " << i;
  }
  // At most one intermediate node per stored prefix; slabs at most double that.
  EXPECT_GE(m.nodes_allocated(), size_t(kCount));
  EXPECT_LE(m.nodes_allocated(), size_t(2 * kCount));
  EXPECT_LE(m.slab_bytes(), 2 * m.nodes_allocated() * m.node_stride());
}

// Slabs never reserve more than a full trie can use, however large its values.
TEST(LpmTrieSlabs, SlabsStayWithinWhatAFullTrieNeeds) {
  LpmTrieMap m(MapSpec{BPF_MAP_TYPE_LPM_TRIE, 8, 1 << 20, 3, BPF_F_NO_PREALLOC, 0, "bigvalues"});
  std::vector<uint8_t> v(1 << 20, 0x5a);
  for (uint32_t i = 0; i < 3; ++i) ASSERT_EQ(m.update(key(32, i).data(), v.data(), BPF_ANY), 0);
  EXPECT_EQ(m.update(key(32, 99).data(), v.data(), BPF_ANY), -ENOSPC);
  EXPECT_LE(m.nodes_allocated(), 5u);  // 3 stored, 2 intermediate
  EXPECT_LE(m.slab_bytes(), 5 * m.node_stride());
  for (uint32_t i = 0; i < 3; ++i) {
    const auto* p = static_cast<const uint8_t*>(m.lookup(key(32, i).data()));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p[0], 0x5a);
    EXPECT_EQ(p[(1 << 20) - 1], 0x5a);
  }
}

// Deleted nodes go back to a free list: deleting and re-adding the same prefixes
// takes no new node, so the slabs do not grow without bound under churn.
TEST(LpmTrieSlabs, DeletedNodesAreReusedNotLeaked) {
  LpmTrieMap m(MapSpec{BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4096, BPF_F_NO_PREALLOC, 0, "churn"});
  const uint64_t v = 7;
  for (uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(m.update(key(24, i << 8).data(), &v, BPF_ANY), 0);
  const size_t after_fill = m.nodes_allocated();
  for (int round = 0; round < 20; ++round) {
    for (uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(m.delete_elem(key(24, i << 8).data()), 0);
    EXPECT_EQ(m.size(), 0u);
    for (uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(m.update(key(24, i << 8).data(), &v, BPF_ANY), 0);
  }
  EXPECT_EQ(m.nodes_allocated(), after_fill);
  for (uint32_t i = 0; i < 1000; ++i) {
    auto* p = static_cast<uint64_t*>(m.lookup(key(32, (i << 8) | 99).data()));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 7u);
  }
}

// Changes near the root (prefixes shorter than the stride table's 16 bits) rewrite
// whole ranges of the table from one walk of the subtree below them. An address in
// every /16 is checked against a brute-force match after each group of changes.
TEST(LpmTrieSlabs, ShortPrefixChangesRefreshTheStrideTableBelowThem) {
  LpmTrieMap m(MapSpec{BPF_MAP_TYPE_LPM_TRIE, 8, 4, 2048, BPF_F_NO_PREALLOC, 0, "stride"});
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> ref;
  auto set = [&](uint32_t plen, uint32_t addr, uint32_t v) {
    ASSERT_EQ(m.update(key(plen, addr).data(), &v, BPF_ANY), 0);
    ref[{plen, addr & mask(plen)}] = v;
  };
  auto del = [&](uint32_t plen, uint32_t addr) {
    ASSERT_EQ(m.delete_elem(key(plen, addr).data()), 0);
    ref.erase({plen, addr & mask(plen)});
  };
  auto check = [&](const char* what) {
    for (uint32_t hi = 0; hi < 65536; ++hi) {  // one address per stride entry
      const uint32_t addr = hi << 16 | ((hi * 2654435761u) >> 16);
      int64_t want = -1;
      for (uint32_t l = 33; l-- > 0;) {
        if (auto it = ref.find({l, addr & mask(l)}); it != ref.end()) {
          want = it->second;
          break;
        }
      }
      const auto* got = static_cast<const uint32_t*>(m.lookup(key(32, addr).data()));
      ASSERT_EQ(got ? int64_t(*got) : -1, want) << what << ": " << std::hex << addr;
    }
  };
  // Longer prefixes spread over the whole space first, so that the short ones
  // below split and join subtrees that already fill many stride entries.
  for (uint32_t i = 0; i < 300; ++i) set(17 + i % 16, i * 0x9E3779B9u, 100 + i);
  check("long prefixes");
  set(0, 0, 1);
  check("/0");
  set(4, 0xA0000000, 4);
  set(9, 0xA0800000, 9);
  set(15, 0xA0820000, 15);
  set(12, 0x12300000, 12);
  check("short prefixes");
  del(0, 0);
  del(9, 0xA0800000);
  check("after deleting /0 and /9");
  set(1, 0x80000000, 2);
  del(4, 0xA0000000);
  del(15, 0xA0820000);
  check("after more changes");
}

}  // namespace
}  // namespace bpfkit::maps
