// BPF_MAP_TYPE_RINGBUF: one multi-producer, single-consumer ring of variable-size
// records shared by all CPUs, as the kernel's (max_entries is the data size in
// bytes, a power of two and a multiple of the page size; key and value sizes are 0).
// Records are 8-byte aligned and carry an 8-byte header (length, busy and discard
// bits), so the capacity accounting matches the kernel's.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "maps/map.h"

namespace bpfkit::maps {

class RingBufMap : public Map {
 public:
  explicit RingBufMap(MapSpec spec);
  ~RingBufMap() override;

  // No element operations: the kernel's ring buffer answers every element command
  // with ENOTSUPP (-524); lookup() gives nullptr.
  void* lookup(const void* key) override;
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;

  // bpf_ringbuf_reserve: a writable record of `size` bytes, or nullptr when the
  // ring is full (or size is too big / flags are not 0). A record may wrap around
  // the end of the ring: the data is mapped twice, so it is contiguous anyway.
  void* reserve(uint64_t size, uint64_t flags);
  // bpf_ringbuf_submit / discard: `sample` is what reserve returned. Flags:
  // BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP.
  void submit(void* sample, uint64_t flags);
  void discard(void* sample, uint64_t flags);
  // bpf_ringbuf_output: reserve + copy + submit; 0 or -EAGAIN / -EINVAL.
  int output(const void* data, uint64_t size, uint64_t flags);
  // bpf_ringbuf_query: BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS.
  uint64_t query(uint64_t flags) const;

  // The consumer (what libbpf's ring_buffer__consume does): calls `on_record` for
  // every submitted record in order, skips discarded ones, frees their space.
  // Returns the number of records delivered. Records still reserved stop it.
  // Single consumer: calls are serialised; `on_record` must not call consume().
  using RecordFn = std::function<void(std::span<const uint8_t>)>;
  size_t consume(const RecordFn& on_record);
  // Waits up to `timeout_ms` (< 0: forever) for a record to be available (a consumer
  // that polls). Producers wake it as the kernel's do: when the record submitted is
  // the one at the consumer position (unless BPF_RB_NO_WAKEUP), or BPF_RB_FORCE_WAKEUP.
  bool wait(int timeout_ms);
  // Whether `p` can be a sample reserve() returned (right after an 8-aligned record
  // header inside the ring), for helpers validating a sample pointer.
  bool owns(const void* p) const;

 protected:
  int lookup_user_impl(const void* key, void* value) override;

 private:
  // Clears the busy bit (and sets the discard bit), then wakes a waiting consumer
  // when the record is the one it waits for (or BPF_RB_FORCE_WAKEUP).
  void commit(void* sample, uint64_t flags, bool discard);
  struct State;
  State* state_;
};

}  // namespace bpfkit::maps
