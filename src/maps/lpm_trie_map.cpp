#include "maps/lpm_trie_map.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "maps/cpu.h"

namespace bpfkit::maps {
namespace {

uint32_t prefixlen_of(const void* key) {
  uint32_t p;
  std::memcpy(&p, key, 4);
  return p;
}

const uint8_t* data_of(const void* key) { return static_cast<const uint8_t*>(key) + 4; }

// Readers retry this often before they wait for the writer's lock instead.
constexpr int kOptimisticTries = 8;

// Slabs start small (most tries are small) and double up to this many nodes or
// bytes (values may be large), never past the 2 * max_entries - 1 nodes a full trie
// holds (stored ones and at most one intermediate per stored one).
constexpr size_t kFirstSlabNodes = 16, kMaxSlabNodes = 4096, kMaxSlabBytes = 256 * 1024;
constexpr std::align_val_t kSlabAlign{64};

}  // namespace

LpmTrieMap::LpmTrieMap(MapSpec spec) : Map(std::move(spec)) {
  data_size_ = key_size() - 4;
  words_ = (data_size_ + 7) / 8;
  // A multiple of 32 bytes: a node's header and first data word (all an IPv4 walk
  // reads) then never straddle two cache lines.
  static_assert(sizeof(Node) + 8 <= 32);
  node_bytes_ = (sizeof(Node) + 8 * words_ + round_up8(value_size()) + 31) & ~size_t(31);
  if (max_entries() >= 1024) {
    stride_bits_ = std::min<uint32_t>(16, max_prefixlen());
    stride_ = std::make_unique<StrideEntry[]>(size_t(1) << stride_bits_);  // all: an empty walk
  }
}

LpmTrieMap::~LpmTrieMap() = default;  // nodes hold only atomics and bytes: slabs free them

size_t LpmTrieMap::size() const {
  std::lock_guard guard(mu_);
  return entries_;
}

size_t LpmTrieMap::nodes_allocated() const {
  std::lock_guard guard(mu_);
  return nodes_allocated_;
}

size_t LpmTrieMap::slab_bytes() const {
  std::lock_guard guard(mu_);
  return slab_bytes_;
}

void LpmTrieMap::SlabFree::operator()(uint8_t* p) const { ::operator delete(p, kSlabAlign); }

[[gnu::always_inline]] inline void LpmTrieMap::load_key(const void* key, KeyWords* out) const {
  out->prefixlen = prefixlen_of(key);
  const uint8_t* d = data_of(key);
  if (data_size_ == 4) {  // IPv4: one big-endian load
    uint32_t v;
    std::memcpy(&v, d, 4);
    out->w[0] = uint64_t(__builtin_bswap32(v)) << 32;
    return;
  }
  for (uint32_t w = 0; w < words_; ++w) {
    uint64_t v = 0;
    for (uint32_t b = 0; b < 8; ++b) {
      const uint32_t i = w * 8 + b;
      v = (v << 8) | (i < data_size_ ? d[i] : 0);
    }
    out->w[w] = v;
  }
}

uint32_t LpmTrieMap::match_len_words(const uint64_t* nw, const KeyWords& key, uint32_t limit) const {
  for (uint32_t w = 0; w < words_ && w * 64 < limit; ++w) {
    if (const uint64_t diff = nw[w] ^ key.w[w]; diff != 0) {
      return std::min(limit, w * 64 + uint32_t(__builtin_clzll(diff)));
    }
  }
  return limit;
}

// The kernel's trie_lookup_elem: remember the last stored (non-intermediate)
// prefix on the way down; stop where the node's prefix stops matching.
[[gnu::always_inline]] inline LpmTrieMap::Node* LpmTrieMap::find_longest(const KeyWords& key) const {
  Node* found = nullptr;
  Node* start;
  if (stride_bits_ != 0 && key.prefixlen >= stride_bits_) {
    const StrideEntry& e = stride_[key.w[0] >> (64 - stride_bits_)];
    found = e.found.load(std::memory_order_acquire);
    start = e.resume.load(std::memory_order_acquire);
  } else {
    start = root_.load(std::memory_order_acquire);
  }
  // A path's prefix lengths strictly grow, so a consistent walk ends within
  // max_prefixlen + 1 nodes; the bound keeps a racing walk finite too.
  uint32_t steps = max_prefixlen() + 2;
  for (Node* n = start; n != nullptr && steps-- > 0;) {
    const uint32_t matched = match_len(n, key);
    if (matched == max_prefixlen()) return n;
    const uint32_t plen = n->prefixlen.load(std::memory_order_relaxed);
    if (matched < plen) break;
    if (!n->intermediate.load(std::memory_order_relaxed)) found = n;
    n = n->child[bit_at(key.w, plen)].load(std::memory_order_acquire);
  }
  return found;
}

void LpmTrieMap::fill_stride(Node* n, Node* found, uint64_t lo, uint32_t depth) {
  const uint32_t S = stride_bits_;
  const uint64_t count = uint64_t(1) << (S - depth);
  const uint32_t plen = n ? n->prefixlen.load(std::memory_order_relaxed) : S;
  if (plen >= S) {  // the walk of every key here resumes at n (or has ended)
    for (uint64_t i = 0; i < count; ++i) {
      stride_[lo + i].resume.store(n, std::memory_order_release);
      stride_[lo + i].found.store(found, std::memory_order_release);
    }
    return;
  }
  // Above S bits a node's prefix matches a whole aligned run of entries: those whose
  // first plen bits are its own. The others' walks end at n.
  const uint64_t n_bits = words_of(n)[0] >> (64 - S);
  const uint64_t run = uint64_t(1) << (S - plen);
  const uint64_t run_lo = n_bits & ~(run - 1);
  const bool inside = run_lo >= lo && run_lo < lo + count;
  for (uint64_t i = 0; i < count; ++i) {
    if (inside && lo + i == run_lo) {
      i += run - 1;
      continue;
    }
    stride_[lo + i].resume.store(nullptr, std::memory_order_release);
    stride_[lo + i].found.store(found, std::memory_order_release);
  }
  if (!inside) return;
  if (!n->intermediate.load(std::memory_order_relaxed)) found = n;
  fill_stride(n->child[0].load(std::memory_order_relaxed), found, run_lo, plen + 1);
  fill_stride(n->child[1].load(std::memory_order_relaxed), found, run_lo | (run >> 1), plen + 1);
}

void LpmTrieMap::refresh_stride(const uint64_t* words, uint32_t region_len) {
  if (stride_bits_ == 0) return;
  const uint32_t fixed = std::min(region_len, stride_bits_);
  const uint64_t base = fixed == 0 ? 0 : (words[0] >> (64 - fixed)) << (stride_bits_ - fixed);
  // The walk down to the region: above `fixed` bits it is the same for all its keys.
  KeyWords key{};
  key.prefixlen = fixed;
  key.w[0] = fixed == 0 ? 0 : words[0] & (~uint64_t(0) << (64 - fixed));
  Node* found = nullptr;
  Node* n = root_.load(std::memory_order_relaxed);
  while (n != nullptr) {
    const uint32_t plen = n->prefixlen.load(std::memory_order_relaxed);
    if (plen >= fixed) break;
    if (match_len(n, key) < plen) {
      n = nullptr;
      break;
    }
    if (!n->intermediate.load(std::memory_order_relaxed)) found = n;
    n = n->child[bit_at(key.w, plen)].load(std::memory_order_relaxed);
  }
  fill_stride(n, found, base, fixed);
}

// Inlined into lookup(), the helper's hot path.
[[gnu::always_inline]] inline LpmTrieMap::Node* LpmTrieMap::find_longest_unlocked(const KeyWords& key) {
  for (int tries = 0; tries < kOptimisticTries; ++tries) {
    const uint32_t before = seq_.load(std::memory_order_acquire);
    if (before & 1) continue;  // a writer is mid-change
    Node* n = find_longest(key);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == before) return n;
  }
  std::lock_guard guard(mu_);
  return find_longest(key);
}

// find_longest() for 4-byte keys (IPv4), the key in one register: the same walk.
[[gnu::always_inline]] inline LpmTrieMap::Node* LpmTrieMap::find_longest_v4(uint32_t prefixlen,
                                                                        uint64_t w) const {
  Node* found = nullptr;
  Node* n;
  if (stride_bits_ != 0 && prefixlen >= stride_bits_) {
    const StrideEntry& e = stride_[w >> (64 - stride_bits_)];
    found = e.found.load(std::memory_order_acquire);
    n = e.resume.load(std::memory_order_acquire);
  } else {
    n = root_.load(std::memory_order_acquire);
  }
  for (uint32_t steps = 32 + 2; n != nullptr && steps-- > 0;) {
    // A node's prefix length is at most 32 (even one read mid-change: nodes are reused
    // only within this map), so the shift below stays in range.
    const uint32_t plen = n->prefixlen.load(std::memory_order_relaxed);
    const uint32_t limit = std::min(plen, prefixlen);
    const uint64_t diff = words_of(n)[0] ^ w;
    const uint32_t matched = diff == 0 ? limit : std::min(limit, uint32_t(__builtin_clzll(diff)));
    if (matched == 32) return n;
    if (matched < plen) break;
    if (!n->intermediate.load(std::memory_order_relaxed)) found = n;
    n = n->child[(w >> (63 - plen)) & 1].load(std::memory_order_acquire);
  }
  return found;
}

// The helper's hot path: for IPv4 one optimistic walk, inline; the rest (other key
// sizes, a writer mid-change) in lookup_slow().
void* LpmTrieMap::lookup(const void* key) {
  const uint32_t prefixlen = prefixlen_of(key);
  if (prefixlen > max_prefixlen()) return nullptr;
  if (data_size_ == 4) {
    uint32_t v;
    std::memcpy(&v, data_of(key), 4);
    const uint64_t w = uint64_t(__builtin_bswap32(v)) << 32;
    const uint32_t before = seq_.load(std::memory_order_acquire);
    if (!(before & 1)) [[likely]] {
      Node* n = find_longest_v4(prefixlen, w);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) [[likely]] return n ? value_of(n) : nullptr;
    }
  }
  return lookup_slow(key);
}

void* LpmTrieMap::lookup_slow(const void* key) {
  KeyWords k;
  load_key(key, &k);
  Node* n = find_longest_unlocked(k);
  return n ? value_of(n) : nullptr;
}

int LpmTrieMap::lookup_user_impl(const void* key, void* value) {
  if (prefixlen_of(key) > max_prefixlen()) return -ENOENT;
  KeyWords k;
  load_key(key, &k);
  std::lock_guard guard(mu_);
  Node* n = find_longest(k);
  if (n == nullptr) return -ENOENT;
  std::memcpy(value, value_of(n), value_size());
  return 0;
}

LpmTrieMap::Node* LpmTrieMap::alloc_node() {
  Node* n;
  if (!free_nodes_.empty()) {
    n = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    if (slab_left_ == 0) {
      size_t nodes = std::min(kMaxSlabNodes, std::max(kFirstSlabNodes, nodes_allocated_));
      nodes = std::min(nodes, kMaxSlabBytes / node_bytes_);
      const size_t full = 2 * size_t(max_entries());
      nodes = std::max<size_t>(1, std::min(nodes, full > nodes_allocated_ ? full - nodes_allocated_ : 0));
      slabs_.emplace_back(static_cast<uint8_t*>(::operator new(nodes * node_bytes_, kSlabAlign)));
      slab_next_ = slabs_.back().get();
      slab_bytes_ += nodes * node_bytes_;
      slab_left_ = nodes;
    }
    n = new (slab_next_) Node{};
    slab_next_ += node_bytes_;
    --slab_left_;
    ++nodes_allocated_;
  }
  n->child[0].store(nullptr, std::memory_order_relaxed);
  n->child[1].store(nullptr, std::memory_order_relaxed);
  n->intermediate.store(false, std::memory_order_relaxed);
  return n;
}

void LpmTrieMap::free_node(Node* n) { free_nodes_.push_back(n); }

// The kernel's trie_update_elem, with one difference: a stored prefix that is
// updated keeps its node (value and data rewritten in place) where the kernel
// swaps in a new node; the trie's shape and every result are the same.
int LpmTrieMap::update(const void* key, const void* value, uint64_t flags) {
  if (flags > BPF_EXIST) return -EINVAL;
  KeyWords k;
  load_key(key, &k);
  if (k.prefixlen > max_prefixlen()) return -EINVAL;
  std::lock_guard guard(mu_);
  // Whether a new entry fits, as trie_check_add_elem.
  auto check_add = [&]() -> int {
    if (flags == BPF_EXIST) return -ENOENT;
    if (entries_ >= max_entries()) return -ENOSPC;  // the trie's "full", unlike hash's E2BIG
    return 0;
  };
  auto fill = [&](Node* n) {
    n->prefixlen.store(k.prefixlen, std::memory_order_relaxed);
    std::memcpy(words_of(n), k.w, 8 * words_);
    std::memcpy(value_of(n), value, value_size());
  };

  std::atomic<Node*>* slot = &root_;
  uint32_t region = 0;  // the bits every key whose walk reaches `slot` shares with k
  Node* n = nullptr;
  uint32_t matched = 0;
  while ((n = slot->load(std::memory_order_relaxed)) != nullptr) {
    matched = match_len(n, k);
    const uint32_t plen = n->prefixlen.load(std::memory_order_relaxed);
    if (plen != matched || plen == k.prefixlen) break;
    slot = &n->child[bit_at(k.w, plen)];
    region = plen + 1;
  }
  if (n == nullptr) {
    if (int rc = check_add(); rc != 0) return rc;
    Node* fresh = alloc_node();
    fill(fresh);
    begin_change();
    slot->store(fresh, std::memory_order_release);
    refresh_stride(k.w, region);
    end_change();
    ++entries_;
    return 0;
  }
  const uint32_t plen = n->prefixlen.load(std::memory_order_relaxed);
  if (plen == matched) {  // the same prefix: replace in place
    const bool was_intermediate = n->intermediate.load(std::memory_order_relaxed);
    if (!was_intermediate && flags == BPF_NOEXIST) return -EEXIST;
    if (was_intermediate) {
      if (int rc = check_add(); rc != 0) return rc;
    }
    begin_change();
    fill(n);
    n->intermediate.store(false, std::memory_order_relaxed);
    refresh_stride(k.w, region);
    end_change();
    if (was_intermediate) ++entries_;
    return 0;
  }
  if (int rc = check_add(); rc != 0) return rc;
  Node* fresh = alloc_node();
  fill(fresh);
  if (matched == k.prefixlen) {  // the new prefix contains `n`: insert it above
    fresh->child[bit_at(words_of(n), matched)].store(n, std::memory_order_relaxed);
    begin_change();
    slot->store(fresh, std::memory_order_release);
    refresh_stride(k.w, region);
    end_change();
    ++entries_;
    return 0;
  }
  // They diverge after `matched` bits: a new intermediate node holds both.
  Node* im = alloc_node();
  im->prefixlen.store(matched, std::memory_order_relaxed);
  im->intermediate.store(true, std::memory_order_relaxed);
  std::memcpy(words_of(im), words_of(n), 8 * words_);
  const int fresh_side = bit_at(k.w, matched);
  im->child[fresh_side].store(fresh, std::memory_order_relaxed);
  im->child[1 - fresh_side].store(n, std::memory_order_relaxed);
  begin_change();
  slot->store(im, std::memory_order_release);
  refresh_stride(k.w, region);
  end_change();
  ++entries_;
  return 0;
}

// The kernel's trie_delete_elem: a node with two children becomes intermediate;
// a leaf under an intermediate parent takes the parent with it; otherwise the
// node's only child (or nothing) takes its place.
int LpmTrieMap::delete_elem(const void* key) {
  KeyWords k;
  load_key(key, &k);
  if (k.prefixlen > max_prefixlen()) return -EINVAL;
  std::lock_guard guard(mu_);
  std::atomic<Node*>* slot = &root_;
  std::atomic<Node*>* parent_slot = nullptr;
  uint32_t region = 0, parent_region = 0;  // as in update()
  Node* parent = nullptr;
  Node* n = nullptr;
  uint32_t matched = 0;
  while ((n = slot->load(std::memory_order_relaxed)) != nullptr) {
    matched = match_len(n, k);
    const uint32_t plen = n->prefixlen.load(std::memory_order_relaxed);
    if (plen != matched || plen == k.prefixlen) break;
    parent = n;
    parent_slot = slot;
    parent_region = region;
    slot = &n->child[bit_at(k.w, plen)];
    region = plen + 1;
  }
  if (n == nullptr || n->prefixlen.load(std::memory_order_relaxed) != k.prefixlen ||
      n->prefixlen.load(std::memory_order_relaxed) != matched || n->intermediate.load(std::memory_order_relaxed)) {
    return -ENOENT;
  }
  --entries_;
  Node* left = n->child[0].load(std::memory_order_relaxed);
  Node* right = n->child[1].load(std::memory_order_relaxed);
  begin_change();
  if (left != nullptr && right != nullptr) {
    n->intermediate.store(true, std::memory_order_relaxed);
  } else if (parent != nullptr && parent->intermediate.load(std::memory_order_relaxed) && left == nullptr &&
             right == nullptr) {
    Node* sibling = parent->child[parent->child[0].load(std::memory_order_relaxed) == n ? 1 : 0].load(
        std::memory_order_relaxed);
    parent_slot->store(sibling, std::memory_order_release);
    free_node(parent);
    free_node(n);
    region = parent_region;
  } else {
    slot->store(left != nullptr ? left : right, std::memory_order_release);
    free_node(n);
  }
  refresh_stride(k.w, region);
  end_change();
  return 0;
}

// The kernel's trie_get_next_key: the post-order successor of the exact key,
// or the first node in post-order when the key is missing or invalid.
int LpmTrieMap::get_next_key(const void* key, void* next_key) {
  std::lock_guard guard(mu_);
  Node* search_root = root_.load(std::memory_order_relaxed);
  if (search_root == nullptr) return -ENOENT;
  Node* next = nullptr;
  if (key != nullptr && prefixlen_of(key) <= max_prefixlen()) {
    KeyWords k;
    load_key(key, &k);
    std::vector<Node*> path;
    Node* n = search_root;
    uint32_t matched = 0;
    while (n != nullptr) {
      path.push_back(n);
      matched = match_len(n, k);
      const uint32_t plen = n->prefixlen.load(std::memory_order_relaxed);
      if (plen != matched || plen == k.prefixlen) break;
      n = n->child[bit_at(k.w, plen)].load(std::memory_order_relaxed);
    }
    if (n != nullptr && n->prefixlen.load(std::memory_order_relaxed) == matched &&
        n->prefixlen.load(std::memory_order_relaxed) == k.prefixlen && !n->intermediate.load(std::memory_order_relaxed)) {
      // Climb: a right sibling subtree comes next, else the first stored ancestor.
      search_root = nullptr;
      for (size_t i = path.size() - 1; i > 0 && next == nullptr && search_root == nullptr; --i) {
        Node* parent = path[i - 1];
        if (parent->child[0].load(std::memory_order_relaxed) == path[i]) {
          search_root = parent->child[1].load(std::memory_order_relaxed);
        }
        if (search_root == nullptr && !parent->intermediate.load(std::memory_order_relaxed)) next = parent;
      }
      if (next == nullptr && search_root == nullptr) return -ENOENT;
    }
  }
  if (next == nullptr) {
    // The leftmost stored node of the subtree: the first in post-order.
    for (Node* n = search_root; n != nullptr;) {
      if (n->intermediate.load(std::memory_order_relaxed)) {
        n = n->child[0].load(std::memory_order_relaxed);
      } else {
        next = n;
        n = n->child[0].load(std::memory_order_relaxed);
        if (n == nullptr) n = next->child[1].load(std::memory_order_relaxed);
      }
    }
  }
  auto* out = static_cast<uint8_t*>(next_key);
  const uint32_t plen = next->prefixlen.load(std::memory_order_relaxed);
  std::memcpy(out, &plen, 4);
  const uint64_t* w = words_of(next);
  for (uint32_t i = 0; i < data_size_; ++i) out[4 + i] = uint8_t(w[i / 8] >> (56 - 8 * (i % 8)));
  return 0;
}

}  // namespace bpfkit::maps
