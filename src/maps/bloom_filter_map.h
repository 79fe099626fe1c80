// BPF_MAP_TYPE_BLOOM_FILTER: push adds a value, peek answers "maybe present"
// (0) or "certainly absent" (-ENOENT). map_extra bits 0-3 give the number of
// hash functions (0 means 5). Sized as the kernel sizes it: about
// max_entries * hashes / ln 2 bits, rounded up to a power of two. The hash
// functions differ from the kernel's jhash, so false positives differ.
#pragma once

#include <atomic>
#include <memory>

#include "maps/map.h"

namespace bpfkit::maps {

class BloomFilterMap : public Map {
 public:
  explicit BloomFilterMap(MapSpec spec);

  void* lookup(const void* key) override;  // always nullptr: programs use peek
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;
  int push(const void* value, uint64_t flags) override;
  int pop(void* value) override;
  int peek(void* value) override;

  // bpf(2): UPDATE_ELEM pushes, LOOKUP_ELEM peeks the value passed in `value`.
  int lookup_user_impl(const void* key, void* value) override;
  int update_user_impl(const void* key, const void* value, uint64_t flags) override;

  uint32_t hash_count() const { return hashes_; }
  uint64_t bit_count() const { return bits_; }

 private:
  uint64_t bit_of(const void* value, uint32_t i) const;

  uint32_t hashes_;
  uint64_t bits_;  // a power of two
  uint64_t seed_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
};

}  // namespace bpfkit::maps
