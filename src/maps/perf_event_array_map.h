// BPF_MAP_TYPE_PERF_EVENT_ARRAY: one event ring per CPU (key: the CPU index,
// value: in the kernel a perf event fd). bpf_perf_event_output writes a sample
// into the ring of the current CPU (BPF_F_CURRENT_CPU) or of the CPU in the flags'
// index bits; a reader drains the rings and counts samples it lost when a ring was full.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "maps/map.h"

namespace bpfkit::maps {

class PerfEventArrayMap : public Map {
 public:
  explicit PerfEventArrayMap(MapSpec spec);
  ~PerfEventArrayMap() override;

  void* lookup(const void* key) override;  // nullptr, as for programs in the kernel
  int update(const void* key, const void* value, uint64_t flags) override;  // -EINVAL for programs
  // delete closes the ring at an index (-E2BIG out of range, -ENOENT none); keys walk as an array's.
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;

  static constexpr uint32_t kSameCpu = UINT32_MAX;
  static constexpr size_t kDefaultRingBytes = 64 * 4096;
  // Opens (enables) the ring at `index` with room for `bytes` of records, bound to
  // `cpu` (kSameCpu: cpu = index, what libbpf's perf_buffer sets up), as storing a
  // perf event fd does in the kernel. Replaces a ring already there. -E2BIG when
  // index >= max_entries. Output to an index with no ring fails with -ENOENT.
  int open_ring(uint32_t index, size_t bytes = kDefaultRingBytes, uint32_t cpu = kSameCpu);
  // bpf_perf_event_output: flags = BPF_F_CURRENT_CPU or an index (low 32 bits).
  // 0, -EINVAL (other flag bits), -E2BIG (index >= max_entries), -ENOENT (no ring),
  // -EOPNOTSUPP (the ring's event is bound to another CPU than `current_cpu`),
  // -ENOSPC (ring full: the sample is lost and counted).
  int output(uint64_t flags, const void* data, uint64_t size, uint32_t current_cpu);

  // A sample's bytes are what libbpf hands to its callback: the data padded with
  // zeros to the raw record size (size + 4 rounded up to 8, minus 4).
  using SampleFn = std::function<void(uint32_t cpu, std::span<const uint8_t>)>;
  using LostFn = std::function<void(uint32_t cpu, uint64_t lost)>;
  // Drains every ring (libbpf's perf_buffer__consume), in order within a ring, lost
  // runs where they happened; returns samples delivered. Callbacks run unlocked.
  size_t consume(const SampleFn& on_sample, const LostFn& on_lost = {});

 protected:
  // User space: lookup is ENOTSUPP (-524) as in the kernel; update (BPF_ANY only)
  // stores "an event" at index key: a ring of kDefaultRingBytes bound to the CPU in value.
  int lookup_user_impl(const void* key, void* value) override;
  int update_user_impl(const void* key, const void* value, uint64_t flags) override;

 private:
  struct State;
  State* state_;
};

}  // namespace bpfkit::maps
