#include "maps/bloom_filter_map.h"

#include <bit>
#include <cerrno>
#include <random>

#include "maps/hash_bytes.h"

namespace bpfkit::maps {

BloomFilterMap::BloomFilterMap(MapSpec spec) : Map(std::move(spec)) {
  hashes_ = static_cast<uint32_t>(this->spec().map_extra & 0xF);
  if (hashes_ == 0) hashes_ = 5;
  // max_entries * hashes / ln(2), with 7/5 standing in for 1/ln(2) as the kernel does.
  uint64_t n = uint64_t{max_entries()} * hashes_ / 5 * 7;
  if (n > (1ull << 31)) n = 1ull << 31;
  bits_ = n <= 64 ? 64 : std::bit_ceil(n);
  seed_ = (flags() & BPF_F_ZERO_SEED) ? 0 : std::random_device{}();
  words_ = std::make_unique<std::atomic<uint64_t>[]>(bits_ / 64);
  for (uint64_t i = 0; i < bits_ / 64; ++i) words_[i].store(0, std::memory_order_relaxed);
}

uint64_t BloomFilterMap::bit_of(const void* value, uint32_t i) const {
  return hash_bytes(value, value_size(), seed_ + i) & (bits_ - 1);
}

void* BloomFilterMap::lookup(const void*) { return nullptr; }
int BloomFilterMap::update(const void*, const void*, uint64_t) { return -EINVAL; }
int BloomFilterMap::delete_elem(const void*) { return -EOPNOTSUPP; }
int BloomFilterMap::get_next_key(const void*, void*) { return -EOPNOTSUPP; }
int BloomFilterMap::pop(void*) { return -EOPNOTSUPP; }

int BloomFilterMap::push(const void* value, uint64_t flags) {
  if (flags != BPF_ANY) return -EINVAL;
  for (uint32_t i = 0; i < hashes_; ++i) {
    uint64_t bit = bit_of(value, i);
    words_[bit / 64].fetch_or(uint64_t{1} << (bit % 64), std::memory_order_relaxed);
  }
  return 0;
}

int BloomFilterMap::peek(void* value) {
  for (uint32_t i = 0; i < hashes_; ++i) {
    uint64_t bit = bit_of(value, i);
    if (!(words_[bit / 64].load(std::memory_order_relaxed) & (uint64_t{1} << (bit % 64)))) return -ENOENT;
  }
  return 0;
}

int BloomFilterMap::lookup_user_impl(const void*, void* value) { return peek(value); }

int BloomFilterMap::update_user_impl(const void*, const void* value, uint64_t flags) {
  if (flags & BPF_F_LOCK) return -EINVAL;
  return push(value, flags);
}

}  // namespace bpfkit::maps
