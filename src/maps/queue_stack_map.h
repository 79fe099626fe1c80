// BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO): keyless maps of up to
// max_entries values, used through push/pop/peek. A push with BPF_EXIST into a
// full map drops the oldest value (for both kinds), as the kernel's does.
#pragma once

#include <memory>
#include <mutex>

#include "maps/map.h"

namespace bpfkit::maps {

class QueueStackMap : public Map {
 public:
  explicit QueueStackMap(MapSpec spec);

  void* lookup(const void* key) override;  // always nullptr: programs use peek
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;
  int push(const void* value, uint64_t flags) override;
  int pop(void* value) override;
  int peek(void* value) override;

  // bpf(2): UPDATE_ELEM pushes, LOOKUP_ELEM peeks, LOOKUP_AND_DELETE_ELEM pops.
  int lookup_user_impl(const void* key, void* value) override;
  int update_user_impl(const void* key, const void* value, uint64_t flags) override;
  int lookup_and_delete_user_impl(const void* key, void* value) override;

  uint32_t size() const;

 private:
  int get(void* value, bool remove);

  bool stack_;
  uint32_t slots_;  // max_entries + 1: one slot stays empty to tell full from empty
  std::mutex mu_;
  uint32_t head_ = 0;  // next slot to write
  uint32_t tail_ = 0;  // oldest value
  std::unique_ptr<uint8_t[]> storage_;
};

}  // namespace bpfkit::maps
