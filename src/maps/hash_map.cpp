#include "maps/hash_map.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <new>
#include <random>
#include <thread>

#include "maps/cpu.h"
#include "maps/hash_bytes.h"

namespace bpfkit::maps {

namespace {
constexpr size_t kMaxLocks = 256;
constexpr int kLruSample = 8;  // elements compared per eviction
constexpr int kLruMaxSample = 4 * kLruSample;  // when all of them were referenced
constexpr size_t kFirstSlabNodes = 64;
constexpr size_t kMaxSlabNodes = 1 << 16;
constexpr size_t kSlabAlign = 64;  // 32-byte nodes then never straddle a cache line
constexpr int kUnlockedTries = 4;
// LRU use marks, the low two bits of Node::lru: none, once (1), more (3).
constexpr uint32_t kUseMask = 3;

// Copies of small fixed sizes inline; other sizes call memcpy.
inline void copy_bytes(void* dst, const void* src, size_t n) {
  switch (n) {
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    case 16: std::memcpy(dst, src, 16); return;
    default: std::memcpy(dst, src, n);
  }
}

template <typename T>
inline T load_as(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

HashMap::HashMap(MapSpec spec) : Map(std::move(spec)) {
  percpu_ = type() == BPF_MAP_TYPE_PERCPU_HASH || type() == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  lru_ = type() == BPF_MAP_TYPE_LRU_HASH || type() == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  key_size_ = key_size();
  value_size_ = value_size();
  walk_budget_ = size_t{max_entries()} + 2;
  key_stride_ = round_up8(key_size());
  elem_size_ = round_up8(value_size());
  node_size_ = sizeof(Node) + key_stride_ + elem_size_ * (percpu_ ? possible_cpus() : 1);
  seed_ = (flags() & BPF_F_ZERO_SEED) ? 0 : std::random_device{}();
  nbuckets_ = std::bit_ceil(static_cast<size_t>(max_entries()));
  buckets_ = std::make_unique<std::atomic<Node*>[]>(nbuckets_);  // value-initialised: nullptr
  size_t nlocks = std::min(nbuckets_, kMaxLocks);
  locks_storage_ = std::make_unique<std::mutex[]>(nlocks);
  locks_ = std::span<std::mutex>(locks_storage_.get(), nlocks);
  seqs_ = std::make_unique<std::atomic<uint32_t>[]>(nlocks);
  // Nodes are 8-aligned: the key and values that follow them must be.
  node_size_ = (node_size_ + alignof(Node) - 1) & ~(alignof(Node) - 1);
  slab_nodes_ = kFirstSlabNodes;
}

HashMap::~HashMap() {
  // Nodes hold only atomics of trivial types: the slabs are freed without destructors.
  for (uint8_t* chunk : chunks_) ::operator delete[](chunk, std::align_val_t{kSlabAlign});
}

void HashMap::begin_change(size_t bucket) {
  auto& seq = seq_of(bucket);
  seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void HashMap::end_change(size_t bucket) {
  auto& seq = seq_of(bucket);
  seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

inline uint64_t HashMap::hash_key(const void* key) const { return hash_bytes(key, key_size_, seed_); }

// A lock-free lookup may compare against a node that a writer is reusing: the
// stripe's sequence count, checked afterwards, throws such a result away.
inline bool HashMap::key_equal(const Node* n, const void* key) const {
  const uint8_t* mine = key_of(n);
  switch (key_size_) {
    case 4: return load_as<uint32_t>(mine) == load_as<uint32_t>(key);
    case 8: return load_as<uint64_t>(mine) == load_as<uint64_t>(key);
    case 16: {
      const auto* k = static_cast<const uint8_t*>(key);
      return ((load_as<uint64_t>(mine) ^ load_as<uint64_t>(k)) |
              (load_as<uint64_t>(mine + 8) ^ load_as<uint64_t>(k + 8))) == 0;
    }
    default: return std::memcmp(mine, key, key_size_) == 0;
  }
}

HashMap::Node* HashMap::find(size_t bucket, uint32_t tag, const void* key) const {
  for (Node* n = buckets_[bucket].load(std::memory_order_relaxed); n != nullptr;
       n = n->next.load(std::memory_order_relaxed)) {
    if (matches(n, tag, key)) return n;
  }
  return nullptr;
}

// Raises the use mark one level; a node already at the top is not written (the
// common case for hot keys: a load and no store).
inline void HashMap::mark_used(Node* n) {
  uint32_t word = n->lru.load(std::memory_order_relaxed);
  if ((word & kUseMask) != kUseMask) n->lru.fetch_or((word & 1) ? 2 : 1, std::memory_order_relaxed);
}

inline HashMap::Node* HashMap::find_unlocked(size_t bucket, uint32_t tag, const void* key, bool* ok) const {
  auto& seq = seq_of(bucket);
  uint32_t before = seq.load(std::memory_order_acquire);
  *ok = false;
  if (before & 1) return nullptr;
  Node* found = nullptr;
  // A chain is never longer than the map; a walk that strays (through a node
  // reused meanwhile) is cut short and retried.
  size_t budget = walk_budget_;
  for (Node* n = buckets_[bucket].load(std::memory_order_acquire); n != nullptr;
       n = n->next.load(std::memory_order_acquire)) {
    if (budget-- == 0) return nullptr;
    if (matches(n, tag, key)) {
      found = n;
      break;
    }
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  *ok = seq.load(std::memory_order_relaxed) == before;
  return *ok ? found : nullptr;
}

HashMap::Node* HashMap::alloc_node() {
  std::lock_guard guard(alloc_mu_);
  if (free_list_ != nullptr) {
    Node* n = free_list_;
    free_list_ = n->next.load(std::memory_order_relaxed);
    return n;
  }
  if (slab_left_ == 0) {
    // Slabs grow geometrically (few, large, contiguous allocations) but never
    // hold more than the map can still need: nodes are reused, not freed.
    // (A delete returns its count before its node: an insert may then briefly need one more.)
    size_t room = max_entries() - std::min<size_t>(allocated_, max_entries());
    size_t nodes = std::max<size_t>(1, std::min(slab_nodes_, room));
    slab_next_ = static_cast<uint8_t*>(::operator new[](node_size_ * nodes, std::align_val_t{kSlabAlign}));
    chunks_.push_back(slab_next_);
    slab_left_ = nodes;
    allocated_ += nodes;
    slab_nodes_ = std::min(2 * slab_nodes_, kMaxSlabNodes);
  }
  uint8_t* at = slab_next_;
  slab_next_ += node_size_;
  --slab_left_;
  return new (at) Node{{nullptr}, {0}, {0}};
}

void HashMap::free_node(Node* n) {
  std::lock_guard guard(alloc_mu_);
  n->next.store(free_list_, std::memory_order_relaxed);
  free_list_ = n;
}

void* HashMap::lookup(const void* key) {
  uint64_t h = hash_key(key);
  size_t b = bucket_of(h);
  uint32_t tag = tag_of(h);
  bool ok = false;
  Node* n = find_unlocked(b, tag, key, &ok);
  for (int i = 1; i < kUnlockedTries && !ok; ++i) n = find_unlocked(b, tag, key, &ok);
  if (!ok) {
    std::lock_guard guard(lock_of(b));  // writers keep getting in the way: wait for them
    n = find(b, tag, key);
  }
  if (n == nullptr) return nullptr;
  if (lru_) mark_used(n);
  return value_of(n, percpu_ ? current_cpu() : 0);
}

void HashMap::write_value(Node* n, const void* value, bool all_cpus, bool fresh) {
  if (!percpu_) {
    copy_bytes(value_of(n, 0), value, value_size_);
    return;
  }
  if (all_cpus) {
    const auto* in = static_cast<const uint8_t*>(value);
    for (uint32_t cpu = 0; cpu < possible_cpus(); ++cpu) {
      std::memcpy(value_of(n, cpu), in + elem_size_ * cpu, elem_size_);
    }
    return;
  }
  // A program's update sets its own CPU's slot; a new element's others start at zero.
  uint32_t self = current_cpu();
  if (fresh) std::memset(value_of(n, 0), 0, elem_size_ * possible_cpus());
  std::memcpy(value_of(n, self), value, value_size());
}

int HashMap::update_impl(const void* key, const void* value, uint64_t flags, bool all_cpus) {
  if (flags & BPF_F_LOCK) return -EINVAL;  // no bpf_spin_lock in our values
  if (flags > BPF_EXIST) return -EINVAL;
  uint64_t h = hash_key(key);
  size_t b = bucket_of(h);
  uint32_t tag = tag_of(h);
  for (;;) {
    std::unique_lock guard(lock_of(b));
    if (Node* n = find(b, tag, key)) {
      if (flags == BPF_NOEXIST) return -EEXIST;
      write_value(n, value, all_cpus, false);
      if (lru_) n->lru.store(stamp_next(), std::memory_order_relaxed);
      return 0;
    }
    if (flags == BPF_EXIST) return -ENOENT;
    uint32_t c = count_.load(std::memory_order_relaxed);
    bool reserved = false;
    while (c < max_entries()) {
      if (count_.compare_exchange_weak(c, c + 1, std::memory_order_relaxed)) {
        reserved = true;
        break;
      }
    }
    if (!reserved) {
      if (!lru_) return -E2BIG;
      guard.unlock();
      if (!evict_one()) std::this_thread::yield();
      continue;  // the key may have appeared meanwhile: look again
    }
    Node* n = alloc_node();
    n->tag.store(tag, std::memory_order_relaxed);
    copy_bytes(key_of(n), key, key_size_);
    write_value(n, value, all_cpus, true);
    n->lru.store(lru_ ? stamp_next() : 0, std::memory_order_relaxed);
    n->next.store(buckets_[b].load(std::memory_order_relaxed), std::memory_order_relaxed);
    begin_change(b);
    buckets_[b].store(n, std::memory_order_release);
    end_change(b);
    return 0;
  }
}

bool HashMap::evict_one() {
  const size_t nb = nbuckets_;
  size_t start = evict_cursor_.load(std::memory_order_relaxed);
  const uint32_t now = stamp_now();
  Node* best = nullptr;
  size_t best_bucket = 0;
  uint32_t best_marks = kUseMask + 1;
  uint32_t best_age = 0;
  int sampled = 0;
  size_t i = 0;
  // The victim is the least used (by use mark), then the oldest. Sampling goes on
  // past kLruSample until an unmarked element turns up, within limits.
  for (; i < nb && sampled < kLruMaxSample && (sampled < kLruSample || best_marks != 0); ++i) {
    size_t b = (start + i) & (nb - 1);
    std::lock_guard guard(lock_of(b));
    for (Node* n = buckets_[b].load(std::memory_order_relaxed); n != nullptr;
         n = n->next.load(std::memory_order_relaxed)) {
      ++sampled;
      uint32_t word = n->lru.load(std::memory_order_relaxed);
      uint32_t marks = word & kUseMask;
      uint32_t age = (now - (word & ~kUseMask)) >> 2;  // updates since its stamp, modulo 2^30
      // Used since the last pass: another chance, as used now, one mark less.
      if (marks != 0) n->lru.store(now | (marks >> 1), std::memory_order_relaxed);
      if (marks < best_marks || (marks == best_marks && age > best_age)) {
        best_marks = marks;
        best_age = age;
        best = n;
        best_bucket = b;
      }
    }
  }
  evict_cursor_.store(start + i, std::memory_order_relaxed);
  if (best == nullptr) return false;
  std::lock_guard guard(lock_of(best_bucket));
  // It may have been deleted (and reused) since we looked: unlink only if still there.
  for (std::atomic<Node*>* link = &buckets_[best_bucket]; link->load() != nullptr; link = &link->load()->next) {
    if (link->load() == best) {
      begin_change(best_bucket);
      link->store(best->next.load(std::memory_order_relaxed), std::memory_order_release);
      end_change(best_bucket);
      count_.fetch_sub(1, std::memory_order_relaxed);
      free_node(best);
      return true;
    }
  }
  return true;  // someone else freed room
}

int HashMap::update(const void* key, const void* value, uint64_t flags) {
  return update_impl(key, value, flags, false);
}

int HashMap::update_user_impl(const void* key, const void* value, uint64_t flags) {
  return update_impl(key, value, flags, true);
}

int HashMap::delete_elem(const void* key) {
  uint64_t h = hash_key(key);
  size_t b = bucket_of(h);
  std::lock_guard guard(lock_of(b));
  for (std::atomic<Node*>* link = &buckets_[b]; link->load() != nullptr; link = &link->load()->next) {
    Node* n = link->load();
    if (matches(n, tag_of(h), key)) {
      begin_change(b);
      link->store(n->next.load(std::memory_order_relaxed), std::memory_order_release);
      end_change(b);
      count_.fetch_sub(1, std::memory_order_relaxed);
      free_node(n);
      return 0;
    }
  }
  return -ENOENT;
}

int HashMap::lookup_and_delete_user_impl(const void* key, void* value) {
  uint64_t h = hash_key(key);
  size_t b = bucket_of(h);
  std::lock_guard guard(lock_of(b));
  for (std::atomic<Node*>* link = &buckets_[b]; link->load() != nullptr; link = &link->load()->next) {
    Node* n = link->load();
    if (matches(n, tag_of(h), key)) {
      std::memcpy(value, value_of(n, 0), percpu_ ? elem_size_ * possible_cpus() : value_size());
      begin_change(b);
      link->store(n->next.load(std::memory_order_relaxed), std::memory_order_release);
      end_change(b);
      count_.fetch_sub(1, std::memory_order_relaxed);
      free_node(n);
      return 0;
    }
  }
  return -ENOENT;
}

int HashMap::get_next_key(const void* key, void* next_key) {
  size_t start = 0;
  if (key != nullptr) {
    uint64_t h = hash_key(key);
    size_t b = bucket_of(h);
    std::lock_guard guard(lock_of(b));
    // A key that is not in the map restarts from the first, as the kernel does.
    if (Node* n = find(b, tag_of(h), key)) {
      if (Node* next = n->next.load()) {
        std::memcpy(next_key, key_of(next), key_size());
        return 0;
      }
      start = b + 1;
    }
  }
  for (size_t b = start; b < nbuckets_; ++b) {
    std::lock_guard guard(lock_of(b));
    if (Node* n = buckets_[b].load()) {
      std::memcpy(next_key, key_of(n), key_size());
      return 0;
    }
  }
  return -ENOENT;
}

int HashMap::lookup_user_impl(const void* key, void* value) {
  uint64_t h = hash_key(key);
  size_t b = bucket_of(h);
  std::lock_guard guard(lock_of(b));
  Node* n = find(b, tag_of(h), key);
  if (n == nullptr) return -ENOENT;
  if (lru_) mark_used(n);
  if (!percpu_) {
    std::memcpy(value, value_of(n, 0), value_size());
  } else {
    std::memcpy(value, value_of(n, 0), elem_size_ * possible_cpus());
  }
  return 0;
}

}  // namespace bpfkit::maps
