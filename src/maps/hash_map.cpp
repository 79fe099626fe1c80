#include "maps/hash_map.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>
#include <random>
#include <thread>

#include "maps/cpu.h"
#include "maps/hash_bytes.h"

namespace bpfkit::maps {

namespace {
constexpr size_t kMaxLocks = 256;
constexpr int kLruSample = 8;  // elements compared per eviction
}  // namespace

HashMap::HashMap(MapSpec spec) : Map(std::move(spec)) {
  percpu_ = type() == BPF_MAP_TYPE_PERCPU_HASH || type() == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  lru_ = type() == BPF_MAP_TYPE_LRU_HASH || type() == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  key_stride_ = round_up8(key_size());
  elem_size_ = round_up8(value_size());
  node_size_ = sizeof(Node) + key_stride_ + elem_size_ * (percpu_ ? possible_cpus() : 1);
  seed_ = (flags() & BPF_F_ZERO_SEED) ? 0 : std::random_device{}();
  buckets_.assign(std::bit_ceil(static_cast<size_t>(max_entries())), nullptr);
  size_t nlocks = std::min(buckets_.size(), kMaxLocks);
  locks_storage_ = std::make_unique<std::mutex[]>(nlocks);
  locks_ = std::span<std::mutex>(locks_storage_.get(), nlocks);
}

HashMap::~HashMap() {
  for (uint8_t* chunk : chunks_) {
    reinterpret_cast<Node*>(chunk)->~Node();
    delete[] chunk;
  }
}

uint64_t HashMap::hash_key(const void* key) const { return hash_bytes(key, key_size(), seed_); }

HashMap::Node* HashMap::find(size_t bucket, uint64_t hash, const void* key) const {
  for (Node* n = buckets_[bucket]; n != nullptr; n = n->next) {
    if (n->hash == hash && std::memcmp(key_of(n), key, key_size()) == 0) return n;
  }
  return nullptr;
}

HashMap::Node* HashMap::alloc_node() {
  std::lock_guard guard(alloc_mu_);
  if (free_list_ != nullptr) {
    Node* n = free_list_;
    free_list_ = n->next;
    return n;
  }
  auto* chunk = new uint8_t[node_size_];
  chunks_.push_back(chunk);
  return new (chunk) Node{nullptr, 0, {0}};
}

void HashMap::free_node(Node* n) {
  std::lock_guard guard(alloc_mu_);
  n->next = free_list_;
  free_list_ = n;
}

void* HashMap::lookup(const void* key) {
  uint64_t h = hash_key(key);
  size_t b = bucket_of(h);
  std::lock_guard guard(lock_of(b));
  Node* n = find(b, h, key);
  if (n == nullptr) return nullptr;
  if (lru_) n->last_used.store(clock_.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
  return value_of(n, percpu_ ? current_cpu() : 0);
}

void HashMap::write_value(Node* n, const void* value, bool all_cpus, bool fresh) {
  if (!percpu_) {
    std::memcpy(value_of(n, 0), value, value_size());
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
  for (;;) {
    std::unique_lock guard(lock_of(b));
    if (Node* n = find(b, h, key)) {
      if (flags == BPF_NOEXIST) return -EEXIST;
      write_value(n, value, all_cpus, false);
      if (lru_) n->last_used.store(clock_.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
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
    n->hash = h;
    std::memcpy(key_of(n), key, key_size());
    write_value(n, value, all_cpus, true);
    n->last_used.store(clock_.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
    n->next = buckets_[b];
    buckets_[b] = n;
    return 0;
  }
}

bool HashMap::evict_one() {
  const size_t nb = buckets_.size();
  size_t start = evict_cursor_.load(std::memory_order_relaxed);
  Node* best = nullptr;
  size_t best_bucket = 0;
  uint64_t best_stamp = std::numeric_limits<uint64_t>::max();
  int sampled = 0;
  size_t i = 0;
  for (; i < nb && sampled < kLruSample; ++i) {
    size_t b = (start + i) & (nb - 1);
    std::lock_guard guard(lock_of(b));
    for (Node* n = buckets_[b]; n != nullptr; n = n->next) {
      ++sampled;
      uint64_t stamp = n->last_used.load(std::memory_order_relaxed);
      if (stamp < best_stamp) {
        best_stamp = stamp;
        best = n;
        best_bucket = b;
      }
    }
  }
  evict_cursor_.store(start + i, std::memory_order_relaxed);
  if (best == nullptr) return false;
  std::lock_guard guard(lock_of(best_bucket));
  // It may have been deleted (and reused) since we looked: unlink only if still there.
  for (Node** link = &buckets_[best_bucket]; *link != nullptr; link = &(*link)->next) {
    if (*link == best) {
      *link = best->next;
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
  for (Node** link = &buckets_[b]; *link != nullptr; link = &(*link)->next) {
    Node* n = *link;
    if (n->hash == h && std::memcmp(key_of(n), key, key_size()) == 0) {
      *link = n->next;
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
  for (Node** link = &buckets_[b]; *link != nullptr; link = &(*link)->next) {
    Node* n = *link;
    if (n->hash == h && std::memcmp(key_of(n), key, key_size()) == 0) {
      std::memcpy(value, value_of(n, 0), percpu_ ? elem_size_ * possible_cpus() : value_size());
      *link = n->next;
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
    if (Node* n = find(b, h, key)) {
      if (n->next != nullptr) {
        std::memcpy(next_key, key_of(n->next), key_size());
        return 0;
      }
      start = b + 1;
    }
  }
  for (size_t b = start; b < buckets_.size(); ++b) {
    std::lock_guard guard(lock_of(b));
    if (Node* n = buckets_[b]) {
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
  Node* n = find(b, h, key);
  if (n == nullptr) return -ENOENT;
  if (lru_) n->last_used.store(clock_.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
  if (!percpu_) {
    std::memcpy(value, value_of(n, 0), value_size());
  } else {
    std::memcpy(value, value_of(n, 0), elem_size_ * possible_cpus());
  }
  return 0;
}

}  // namespace bpfkit::maps
