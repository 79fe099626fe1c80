// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH.
//
// Buckets of singly linked elements. Writers take a striped mutex (the kernel locks
// per bucket too); lookup() takes no lock: it walks the chain and then checks the
// stripe's sequence count, which every change to a chain bumps, retrying when a
// writer got in the way (an element deleted and reused elsewhere mid-walk is what the
// kernel's nulls-terminated lists detect; the count does it here). Element memory is
// never returned to the system while the map lives: a deleted element goes to a free
// list and is reused, so a pointer from lookup() stays valid memory (the kernel's
// preallocated maps give the same guarantee; its RCU is what makes the old value
// readable, here the memory simply stays). Updating an existing key copies into the
// same element, so its pointer keeps pointing at the current value.
//
// LRU: approximate, as the kernel's is. Updates stamp an element with a global
// clock; a lookup only raises the element's use mark (none, once, more), and
// writes nothing once it is at the top (as the kernel's LRU sets its ref bit only
// when not set), so hot lookups write nothing shared. When the map is full an
// insert samples elements from a rotating bucket cursor and evicts the least
// marked, oldest one; a marked one it passes gets another chance (its stamp
// becomes "now", its mark drops a level). Unlike the kernel (which
// takes a free node before checking the flags), an update that fails its
// BPF_NOEXIST/BPF_EXIST check never evicts.
//
// Hot path: keys of 4, 8 and 16 bytes hash and compare without library calls;
// with a 4- or 8-byte key and an 8-byte value an element is 32 bytes, so a
// lookup touches one cache line of it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "maps/map.h"

namespace bpfkit::maps {

class HashMap : public Map {
 public:
  explicit HashMap(MapSpec spec);
  ~HashMap() override;

  bool per_cpu() const override { return percpu_; }
  void* lookup(const void* key) override;
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;
  int lookup_user_impl(const void* key, void* value) override;
  int update_user_impl(const void* key, const void* value, uint64_t flags) override;
  int lookup_and_delete_user_impl(const void* key, void* value) override;

  uint32_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Node {
    std::atomic<Node*> next;
    std::atomic<uint32_t> tag;  // the high half of the key's hash (the low bits pick the bucket)
    std::atomic<uint32_t> lru;  // LRU maps: stamp << 2 | use marks
    // followed by the key (padded to 8) and the value area
  };
  static_assert(sizeof(Node) == 16);

  uint8_t* key_of(Node* n) const { return reinterpret_cast<uint8_t*>(n) + sizeof(Node); }
  const uint8_t* key_of(const Node* n) const { return reinterpret_cast<const uint8_t*>(n) + sizeof(Node); }
  uint8_t* value_of(Node* n, uint32_t cpu) const {
    return key_of(n) + key_stride_ + (percpu_ ? elem_size_ * cpu : 0);
  }
  uint64_t hash_key(const void* key) const;
  static uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  bool key_equal(const Node* n, const void* key) const;
  bool matches(const Node* n, uint32_t tag, const void* key) const {
    return n->tag.load(std::memory_order_relaxed) == tag && key_equal(n, key);
  }
  uint32_t stamp_now() const { return static_cast<uint32_t>(clock_.load(std::memory_order_relaxed)) << 2; }
  uint32_t stamp_next() { return static_cast<uint32_t>(clock_.fetch_add(1, std::memory_order_relaxed)) << 2; }
  void mark_used(Node* n);
  size_t bucket_of(uint64_t hash) const { return hash & (nbuckets_ - 1); }
  std::mutex& lock_of(size_t bucket) { return locks_[bucket & (locks_.size() - 1)]; }  // both powers of 2
  std::atomic<uint32_t>& seq_of(size_t bucket) const { return seqs_[bucket & (locks_.size() - 1)]; }
  // Around a change to a bucket's chain, with its lock held: the count is odd meanwhile.
  void begin_change(size_t bucket);
  void end_change(size_t bucket);
  Node* find(size_t bucket, uint32_t tag, const void* key) const;
  // Lock-free find; nullptr with *ok = false when a writer interfered.
  Node* find_unlocked(size_t bucket, uint32_t tag, const void* key, bool* ok) const;
  Node* alloc_node();
  void free_node(Node* n);
  // Evicts one element (LRU maps); false when none could be found.
  bool evict_one();
  // Shared by the program and user views: `all_cpus` takes every CPU's value.
  int update_impl(const void* key, const void* value, uint64_t flags, bool all_cpus);
  void write_value(Node* n, const void* value, bool all_cpus, bool fresh);

  // Read by every lookup and never written after construction: kept off the
  // cache lines that updates write (the counters below).
  bool percpu_;
  bool lru_;
  uint32_t key_size_;
  uint32_t value_size_;
  size_t walk_budget_;  // longest walk a lock-free lookup tries (more than any chain)
  size_t key_stride_;
  size_t elem_size_;
  size_t node_size_;
  uint64_t seed_;
  size_t nbuckets_;
  std::unique_ptr<std::atomic<Node*>[]> buckets_;
  std::unique_ptr<std::mutex[]> locks_storage_;
  std::span<std::mutex> locks_;
  std::unique_ptr<std::atomic<uint32_t>[]> seqs_;  // one per lock stripe

  alignas(64) std::atomic<uint32_t> count_{0};
  alignas(64) std::atomic<uint64_t> clock_{0};
  std::atomic<size_t> evict_cursor_{0};

  alignas(64) std::mutex alloc_mu_;  // guards the six below
  std::vector<uint8_t*> chunks_;  // slabs of nodes, for locality; freed with the map
  uint8_t* slab_next_ = nullptr;
  size_t slab_left_ = 0;
  size_t slab_nodes_;  // size of the next slab: slabs grow geometrically
  size_t allocated_ = 0;  // nodes in all slabs
  Node* free_list_ = nullptr;
};

}  // namespace bpfkit::maps
