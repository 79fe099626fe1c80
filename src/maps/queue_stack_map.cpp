#include "maps/queue_stack_map.h"

#include <cerrno>
#include <cstring>

namespace bpfkit::maps {

QueueStackMap::QueueStackMap(MapSpec spec) : Map(std::move(spec)) {
  stack_ = type() == BPF_MAP_TYPE_STACK;
  slots_ = max_entries() + 1;
  storage_ = std::make_unique<uint8_t[]>(size_t{slots_} * value_size());
}

uint32_t QueueStackMap::size() const {
  auto* self = const_cast<QueueStackMap*>(this);
  std::lock_guard guard(self->mu_);
  return (head_ + slots_ - tail_) % slots_;
}

void* QueueStackMap::lookup(const void*) { return nullptr; }
int QueueStackMap::update(const void*, const void*, uint64_t) { return -EINVAL; }
int QueueStackMap::delete_elem(const void*) { return -EINVAL; }
int QueueStackMap::get_next_key(const void*, void*) { return -EINVAL; }

int QueueStackMap::push(const void* value, uint64_t flags) {
  if ((flags & BPF_NOEXIST) || flags > BPF_EXIST) return -EINVAL;
  std::lock_guard guard(mu_);
  if ((head_ + 1) % slots_ == tail_) {
    if (!(flags & BPF_EXIST)) return -E2BIG;
    tail_ = (tail_ + 1) % slots_;  // full and BPF_EXIST: forget the oldest
  }
  std::memcpy(storage_.get() + size_t{head_} * value_size(), value, value_size());
  head_ = (head_ + 1) % slots_;
  return 0;
}

int QueueStackMap::get(void* value, bool remove) {
  std::lock_guard guard(mu_);
  if (head_ == tail_) return -ENOENT;
  uint32_t index;
  if (stack_) {
    index = (head_ + slots_ - 1) % slots_;
    if (remove) head_ = index;
  } else {
    index = tail_;
    if (remove) tail_ = (tail_ + 1) % slots_;
  }
  std::memcpy(value, storage_.get() + size_t{index} * value_size(), value_size());
  return 0;
}

int QueueStackMap::pop(void* value) { return get(value, true); }
int QueueStackMap::peek(void* value) { return get(value, false); }

int QueueStackMap::lookup_user_impl(const void*, void* value) { return peek(value); }

int QueueStackMap::update_user_impl(const void*, const void* value, uint64_t flags) {
  if (flags & BPF_F_LOCK) return -EINVAL;
  return push(value, flags);
}

int QueueStackMap::lookup_and_delete_user_impl(const void*, void* value) { return pop(value); }

}  // namespace bpfkit::maps
