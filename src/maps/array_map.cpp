#include "maps/array_map.h"

#include <cerrno>
#include <cstring>

#include "maps/cpu.h"

namespace bpfkit::maps {

ArrayMap::ArrayMap(MapSpec spec) : Map(std::move(spec)) {
  percpu_ = type() == BPF_MAP_TYPE_PERCPU_ARRAY;
  elem_size_ = round_up8(value_size());  // the kernel keeps each element 8-byte aligned
  stride_ = percpu_ ? elem_size_ * possible_cpus() : elem_size_;
  storage_ = std::make_unique<uint8_t[]>(stride_ * max_entries());  // zero-filled
}

void* ArrayMap::slot(uint32_t index, uint32_t cpu) {
  return storage_.get() + stride_ * index + (percpu_ ? elem_size_ * cpu : 0);
}

static uint32_t index_of(const void* key) {
  uint32_t index;
  std::memcpy(&index, key, sizeof index);
  return index;
}

void* ArrayMap::lookup(const void* key) {
  uint32_t index = index_of(key);
  if (index >= max_entries()) return nullptr;
  return slot(index, percpu_ ? current_cpu() : 0);
}

int ArrayMap::update(const void* key, const void* value, uint64_t flags) {
  if ((flags & ~uint64_t{BPF_F_LOCK}) > BPF_EXIST) return -EINVAL;
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -E2BIG;
  if (flags & BPF_NOEXIST) return -EEXIST;  // every element always exists
  if (flags & BPF_F_LOCK) return -EINVAL;   // no bpf_spin_lock in our values
  std::memcpy(slot(index, percpu_ ? current_cpu() : 0), value, value_size());
  return 0;
}

int ArrayMap::delete_elem(const void*) { return -EINVAL; }

int ArrayMap::get_next_key(const void* key, void* next_key) {
  uint32_t next = 0;
  if (key != nullptr) {
    uint32_t index = index_of(key);
    // A missing or out-of-range key restarts at 0, as the kernel does.
    if (index < max_entries()) {
      if (index == max_entries() - 1) return -ENOENT;
      next = index + 1;
    }
  }
  std::memcpy(next_key, &next, sizeof next);
  return 0;
}

int ArrayMap::lookup_user_impl(const void* key, void* value) {
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -ENOENT;
  if (!percpu_) {
    std::memcpy(value, slot(index, 0), value_size());
    return 0;
  }
  auto* out = static_cast<uint8_t*>(value);
  for (uint32_t cpu = 0; cpu < possible_cpus(); ++cpu) {
    std::memcpy(out + elem_size_ * cpu, slot(index, cpu), elem_size_);
  }
  return 0;
}

int ArrayMap::update_user_impl(const void* key, const void* value, uint64_t flags) {
  if (flags & BPF_F_LOCK) return -EINVAL;
  if (!percpu_) return update(key, value, flags);
  if (flags > BPF_EXIST) return -EINVAL;
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -E2BIG;
  if (flags & BPF_NOEXIST) return -EEXIST;
  const auto* in = static_cast<const uint8_t*>(value);
  for (uint32_t cpu = 0; cpu < possible_cpus(); ++cpu) {
    std::memcpy(slot(index, cpu), in + elem_size_ * cpu, elem_size_);
  }
  return 0;
}

}  // namespace bpfkit::maps
