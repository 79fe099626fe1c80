// BPF_MAP_TYPE_LPM_TRIE: keys are struct bpf_lpm_trie_key_u8 (u32 prefixlen,
// then data_size bytes, most significant bit first); lookup returns the value
// of the longest stored prefix that matches the key's first prefixlen bits.
//
// The same structure as the kernel's: a path-compressed binary trie whose nodes
// are the stored prefixes plus "intermediate" nodes where two subtrees branch.
// The shape depends only on the set of prefixes, so get_next_key walks it in the
// kernel's post-order and yields exactly the kernel's sequence of keys.
//
// Lookups take no lock: writers (under a mutex) bump a sequence count around
// every change, and a reader that saw the count move retries (after a few
// retries it takes the lock). Node memory is never returned while the map
// lives — a removed node goes to a free list — so a racing reader never touches
// freed memory and a pointer from lookup() stays valid memory. Nodes are carved
// from slabs (arrays of nodes allocated together, each node on a 32-byte boundary
// so that the fields a walk reads share one cache line). Node data is kept
// as big-endian 64-bit words so that a prefix comparison is one XOR and a
// count of leading zeros per 64 bits.
//
// Large tries (>= 1024 entries) also keep a stride table indexed by a key's first
// S bits (S = 16, or the data width when smaller): where the walk for those bits
// leaves the top of the trie and the longest stored prefix seen up to there. A
// lookup starts from it instead of the root, skipping most of the walk; a change
// recomputes only the entries below the slot it changed, in one walk of the
// subtree there.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "maps/map.h"

namespace bpfkit::maps {

class LpmTrieMap : public Map {
 public:
  explicit LpmTrieMap(MapSpec spec);
  ~LpmTrieMap() override;

  void* lookup(const void* key) override;
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;
  int lookup_user_impl(const void* key, void* value) override;

  uint32_t max_prefixlen() const { return data_size_ * 8; }
  size_t size() const;
  // Nodes ever carved from slabs (stored, intermediate and free ones); for tests.
  size_t nodes_allocated() const;
  // Bytes from one node to the next in a slab, and bytes all slabs hold; for tests.
  size_t node_stride() const { return node_bytes_; }
  size_t slab_bytes() const;

 private:
  struct Node {
    std::atomic<Node*> child[2];
    std::atomic<uint32_t> prefixlen;
    std::atomic<bool> intermediate;
    // followed by words_ big-endian 64-bit words (the key data as last given),
    // then the value (value_size bytes, rounded up to 8; unused while intermediate)
  };
  // A key's data as words, on the caller's stack (data_size is at most 256 bytes).
  struct KeyWords {
    uint32_t prefixlen;
    uint64_t w[32];
  };

  uint64_t* words_of(Node* n) const { return reinterpret_cast<uint64_t*>(n + 1); }
  const uint64_t* words_of(const Node* n) const { return reinterpret_cast<const uint64_t*>(n + 1); }
  void load_key(const void* key, KeyWords* out) const;
  // How many leading bits of `n` match `key`, at most min(n.prefixlen, key.prefixlen).
  uint32_t match_len(const Node* n, const KeyWords& key) const {
    const uint32_t limit = std::min(n->prefixlen.load(std::memory_order_relaxed), key.prefixlen);
    const uint64_t* nw = words_of(n);
    if (words_ == 1) {  // keys of up to 8 data bytes (IPv4): one XOR
      const uint64_t diff = nw[0] ^ key.w[0];
      return diff == 0 ? limit : std::min(limit, uint32_t(__builtin_clzll(diff)));
    }
    return match_len_words(nw, key, limit);
  }
  uint32_t match_len_words(const uint64_t* nw, const KeyWords& key, uint32_t limit) const;
  uint8_t* value_of(Node* n) const { return reinterpret_cast<uint8_t*>(words_of(n) + words_); }
  static int bit_at(const uint64_t* words, uint32_t bit) { return int(words[bit / 64] >> (63 - bit % 64)) & 1; }

  Node* find_longest(const KeyWords& key) const;  // caller holds mu_ or validates seq_
  // The stride table: for the first S bits v, the first node of prefix length >= S
  // on v's walk (nullptr: the walk ends above it) and the last stored node before it.
  struct StrideEntry {
    std::atomic<Node*> resume{nullptr};
    std::atomic<Node*> found{nullptr};
  };
  // Sets the entries [lo, lo + 2^(S - depth)), whose keys share their first `depth`
  // bits, given `n`, the next node of their walk (prefix length >= depth, or nullptr),
  // and `found`, the last stored node above it.
  void fill_stride(Node* n, Node* found, uint64_t lo, uint32_t depth);
  // Recomputes the entries of keys whose first `region_len` bits equal `words`'.
  void refresh_stride(const uint64_t* words, uint32_t region_len);
  Node* find_longest_unlocked(const KeyWords& key);
  Node* find_longest_v4(uint32_t prefixlen, uint64_t w) const;  // 4-byte keys, caller validates seq_
  [[gnu::noinline]] void* lookup_slow(const void* key);
  Node* alloc_node();
  void free_node(Node* n);
  void begin_change() { seq_.fetch_add(1, std::memory_order_relaxed); std::atomic_thread_fence(std::memory_order_release); }
  void end_change() { seq_.fetch_add(1, std::memory_order_release); }

  uint32_t data_size_;
  uint32_t words_;
  size_t node_bytes_;
  mutable std::mutex mu_;
  std::atomic<uint32_t> seq_{0};
  std::atomic<Node*> root_{nullptr};
  uint32_t stride_bits_ = 0;  // S; 0: no table
  std::unique_ptr<StrideEntry[]> stride_;
  size_t entries_ = 0;
  struct SlabFree {
    void operator()(uint8_t* p) const;
  };
  std::vector<std::unique_ptr<uint8_t, SlabFree>> slabs_;  // every node ever allocated lives in one
  uint8_t* slab_next_ = nullptr;  // the next unused node of the newest slab
  size_t slab_left_ = 0;          // unused nodes there
  size_t nodes_allocated_ = 0;
  size_t slab_bytes_ = 0;
  std::vector<Node*> free_nodes_;
};

}  // namespace bpfkit::maps
