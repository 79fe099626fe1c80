#include "maps/perf_event_array_map.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

namespace bpfkit::maps {

namespace {

constexpr int kEnotsupp = 524;
constexpr size_t kPerfHeaderSize = 8;  // struct perf_event_header in front of every record

// A PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: the header, a u32 size and the data,
// padded so that size + data is a multiple of 8 (the size then counts the padding).
size_t raw_size(uint64_t size) { return ((size + 4 + 7) & ~uint64_t{7}) - 4; }

struct Entry {
  std::vector<uint8_t> data;
  uint64_t lost = 0;  // a run of lost samples (PERF_RECORD_LOST) instead of data
};

struct Ring {
  uint32_t cpu = 0;
  size_t capacity = 0;
  size_t used = 0;
  std::deque<Entry> entries;
};

}  // namespace

struct PerfEventArrayMap::State {
  std::mutex mu;
  std::vector<std::unique_ptr<Ring>> rings;  // by index; nullptr: no event there
};

PerfEventArrayMap::PerfEventArrayMap(MapSpec spec) : Map(std::move(spec)), state_(new State) {
  state_->rings.resize(max_entries());
}

PerfEventArrayMap::~PerfEventArrayMap() { delete state_; }

void* PerfEventArrayMap::lookup(const void*) { return nullptr; }
int PerfEventArrayMap::update(const void*, const void*, uint64_t) { return -EINVAL; }

int PerfEventArrayMap::delete_elem(const void* key) {
  uint32_t index;
  std::memcpy(&index, key, 4);
  if (index >= max_entries()) return -E2BIG;
  std::lock_guard guard(state_->mu);
  if (!state_->rings[index]) return -ENOENT;
  state_->rings[index].reset();
  return 0;
}

// As an array: every index, whether or not an event is there.
int PerfEventArrayMap::get_next_key(const void* key, void* next_key) {
  uint32_t index = UINT32_MAX;
  if (key != nullptr) std::memcpy(&index, key, 4);
  uint32_t next = 0;
  if (index < max_entries()) {
    if (index == max_entries() - 1) return -ENOENT;
    next = index + 1;
  }
  std::memcpy(next_key, &next, 4);
  return 0;
}

// The kernel has no way to read a perf event back through the map.
int PerfEventArrayMap::lookup_user_impl(const void*, void*) { return -kEnotsupp; }

int PerfEventArrayMap::update_user_impl(const void* key, const void* value, uint64_t flags) {
  if (flags != BPF_ANY) return -EINVAL;
  uint32_t index, cpu;
  std::memcpy(&index, key, 4);
  std::memcpy(&cpu, value, 4);
  return open_ring(index, kDefaultRingBytes, cpu);
}

int PerfEventArrayMap::open_ring(uint32_t index, size_t bytes, uint32_t cpu) {
  if (index >= max_entries()) return -E2BIG;
  if (bytes < 2 * kPerfHeaderSize) return -EINVAL;
  auto ring = std::make_unique<Ring>();
  ring->cpu = cpu == kSameCpu ? index : cpu;
  ring->capacity = bytes;
  std::lock_guard guard(state_->mu);
  state_->rings[index] = std::move(ring);
  return 0;
}

int PerfEventArrayMap::output(uint64_t flags, const void* data, uint64_t size, uint32_t current_cpu) {
  if (flags & ~uint64_t{BPF_F_INDEX_MASK}) return -EINVAL;
  uint64_t index = flags & BPF_F_INDEX_MASK;
  if (index == BPF_F_CURRENT_CPU) index = current_cpu;
  if (index >= max_entries()) return -E2BIG;
  std::lock_guard guard(state_->mu);
  Ring* ring = state_->rings[index].get();
  if (ring == nullptr) return -ENOENT;
  // An event bound to another CPU cannot be written from this one.
  if (ring->cpu != current_cpu) return -EOPNOTSUPP;
  size_t payload = raw_size(size);
  size_t record = kPerfHeaderSize + 4 + payload;
  // perf keeps one byte free, as a circular buffer does.
  if (record > 0xFFFF || ring->used + record > ring->capacity - 1) {
    if (ring->entries.empty() || ring->entries.back().lost == 0) ring->entries.push_back({});
    ++ring->entries.back().lost;
    return -ENOSPC;
  }
  Entry e;
  e.data.assign(payload, 0);
  std::memcpy(e.data.data(), data, size);
  ring->used += record;
  ring->entries.push_back(std::move(e));
  return 0;
}

size_t PerfEventArrayMap::consume(const SampleFn& on_sample, const LostFn& on_lost) {
  size_t delivered = 0;
  for (uint32_t index = 0; index < max_entries(); ++index) {
    std::deque<Entry> taken;
    uint32_t cpu;
    {
      std::lock_guard guard(state_->mu);
      Ring* ring = state_->rings[index].get();
      if (ring == nullptr || ring->entries.empty()) continue;
      taken.swap(ring->entries);
      ring->used = 0;
      cpu = ring->cpu;
    }
    // Delivered outside the lock, so that a callback may output again.
    for (const Entry& e : taken) {
      if (e.lost != 0) {
        if (on_lost) on_lost(cpu, e.lost);
        continue;
      }
      ++delivered;
      if (on_sample) on_sample(cpu, e.data);
    }
  }
  return delivered;
}

}  // namespace bpfkit::maps
