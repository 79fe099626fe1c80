// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: max_entries preallocated,
// zero-filled values indexed by a u32 key; elements cannot be deleted.
#pragma once

#include <memory>

#include "maps/map.h"

namespace bpfkit::maps {

class ArrayMap : public Map {
 public:
  explicit ArrayMap(MapSpec spec);

  bool per_cpu() const override { return percpu_; }
  void* lookup(const void* key) override;
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;
  int lookup_user_impl(const void* key, void* value) override;
  int update_user_impl(const void* key, const void* value, uint64_t flags) override;

  // The value of `index` for `cpu` (cpu ignored for plain arrays).
  void* slot(uint32_t index, uint32_t cpu);

 private:
  bool percpu_;
  size_t stride_;  // bytes of one element (all CPUs' slots for per-CPU arrays)
  size_t elem_size_;
  std::unique_ptr<uint8_t[]> storage_;
};

}  // namespace bpfkit::maps
