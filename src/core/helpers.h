// The one helper table: id, name, prototype and implementation of every helper.
// The verifier checks calls against `proto`; the interpreter and the JIT call `fn`.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace bpfkit::core {

struct ExecEnv;

// Helpers receive r1..r5 and the run's environment (for memory regions, the
// abort flag and per-run state). The signature maps straight onto the x86-64
// SysV convention, so the JIT calls helpers with no glue.
using HelperFn = uint64_t (*)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ExecEnv* env);

// Argument and return kinds, as the kernel's bpf_func_proto describes them.
enum class ArgKind : uint8_t { None, Anything, ConstMapPtr, PtrToMapKey, PtrToMapValue, PtrToMem,
                               PtrToUninitMem, ConstSize, ConstSizeOrZero, PtrToCtx, PtrToStack,
                               PtrToUninitMapValue,   // map_pop/peek_elem: written by the helper
                               PtrToMemOrNull,        // PTR_TO_MEM | PTR_MAYBE_NULL
                               PtrToConstStr,         // NUL-terminated string in a read-only map value
                               PtrToFunc,             // callback subprogram (bpf_loop, for_each_map_elem)
                               PtrToStackOrNull,      // callback context
                               PtrToAllocMem,         // a ringbuf_reserve record (released by the call)
                               ConstAllocSizeOrZero,  // the size of the record ringbuf_reserve returns
                               PtrToSockCommonRelease };  // an acquired socket (released by the call)
enum class RetKind : uint8_t { Integer, Void, PtrToMapValueOrNull, PtrToMemOrNull,
                               PtrToAllocMemOrNull,     // ringbuf_reserve: a record to submit or discard
                               PtrToSocketOrNull,       // sk_lookup_tcp/udp: an acquired socket to release
                               PtrToSockCommonOrNull };  // skc_lookup_tcp: the same, maybe request/timewait

struct HelperProto {
  RetKind ret = RetKind::Integer;
  std::array<ArgKind, 5> args{};
};

struct HelperSpec {
  int32_t id = 0;
  std::string name;  // without the bpf_ prefix, as the kernel's enum names it
  HelperProto proto;
  HelperFn fn = nullptr;
};

// The key and value sizes of a map handle (one of ExecEnv::maps): checked mode sizes the
// PtrToMapKey/PtrToMapValue arguments of map helpers with them.
struct MapSizes {
  uint32_t key_size = 0;
  uint32_t value_size = 0;
};
using MapSizesFn = MapSizes (*)(const void* map);

class HelperTable {
 public:
  // The helpers bpfkit implements, by their kernel ids.
  static const HelperTable& standard();

  void add(HelperSpec spec) {
    by_id_[spec.id] = std::move(spec);
    generation_ = next_generation();
  }
  const HelperSpec* find(int32_t id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &it->second;
  }
  const std::map<int32_t, HelperSpec>& all() const { return by_id_; }
  // Unique to this table's current contents (a new table or any add() changes it),
  // so that an engine may cache what it looked up, as the JIT does per table.
  uint64_t generation() const { return generation_; }
  // How to read the map handles this table's map helpers take (set by whoever adds them).
  void set_map_sizes(MapSizesFn fn) { map_sizes_ = fn; }
  MapSizesFn map_sizes() const { return map_sizes_; }

 private:
  static uint64_t next_generation() {
    static std::atomic<uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  std::map<int32_t, HelperSpec> by_id_;
  uint64_t generation_ = next_generation();
  MapSizesFn map_sizes_ = nullptr;
};

}  // namespace bpfkit::core
