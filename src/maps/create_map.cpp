// BPF_MAP_CREATE's checks, in the kernel's order, so that a spec is refused
// here exactly when (and with the errno) the kernel would refuse it.
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "maps/array_map.h"
#include "maps/bloom_filter_map.h"
#include "maps/cpu.h"
#include "maps/fd_array_map.h"
#include "maps/hash_map.h"
#include "maps/lpm_trie_map.h"
#include "maps/map.h"
#include "maps/perf_event_array_map.h"
#include "maps/queue_stack_map.h"
#include "maps/redirect_maps.h"
#include "maps/ringbuf_map.h"
#include "maps/stack_trace_map.h"

namespace bpfkit::maps {

namespace {

constexpr uint32_t kAccessMask = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;
constexpr uint64_t kKmallocMax = 1ull << 22;   // KMALLOC_MAX_SIZE on x86-64 (4 MiB)
constexpr uint32_t kPcpuMinUnit = 32 << 10;    // PCPU_MIN_UNIT_SIZE
constexpr uint32_t kLpmDataMax = 256;
constexpr int kEnotsupp = 524;                 // the kernel-internal ENOTSUPP
constexpr uint64_t kMaxMapBytes = 1ull << 32;  // refuse (ENOMEM) rather than exhaust memory

[[noreturn]] void refuse(const MapSpec& spec, int err, const std::string& why) {
  std::string where = map_type_name(spec.type) + " map";
  if (!spec.name.empty()) where += " '" + spec.name + "'";
  std::string name = err == EINVAL   ? "EINVAL"
                     : err == E2BIG  ? "E2BIG"
                     : err == ENOMEM ? "ENOMEM"
                     : err == kEnotsupp ? "ENOTSUPP"
                                        : std::to_string(err);
  throw MapSpecError(where + ": " + why + " (the kernel returns " + name + ")", err);
}

void check_flags(const MapSpec& s, uint32_t allowed) {
  if (s.flags & ~allowed) {
    refuse(s, EINVAL, "map_flags 0x" + [&] {
      char buf[16];
      snprintf(buf, sizeof buf, "%x", s.flags & ~allowed);
      return std::string(buf);
    }() + " are not accepted by this map type");
  }
  if ((s.flags & BPF_F_RDONLY_PROG) && (s.flags & BPF_F_WRONLY_PROG)) {
    refuse(s, EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
  }
}

void check_common(const MapSpec& s) {
  if (s.name.size() > BPF_OBJ_NAME_LEN - 1) {
    refuse(s, EINVAL, "the name is longer than 15 characters");
  }
  for (char c : s.name) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') {
      refuse(s, EINVAL, "the name may hold only letters, digits, '_' and '.'");
    }
  }
  if (s.map_extra != 0 && s.type != BPF_MAP_TYPE_BLOOM_FILTER) {
    refuse(s, EINVAL, "map_extra is only for bloom filters");
  }
  if ((s.flags & BPF_F_RDONLY) && (s.flags & BPF_F_WRONLY)) {
    refuse(s, EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY exclude each other");
  }
}

// array_map_alloc_check (plus fd_array_map_alloc_check for arrays of fds).
void check_array(const MapSpec& s) {
  bool percpu = s.type == BPF_MAP_TYPE_PERCPU_ARRAY;
  bool fds = s.type == BPF_MAP_TYPE_PROG_ARRAY || s.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
             s.type == BPF_MAP_TYPE_ARRAY_OF_MAPS;
  if (fds && s.value_size != 4) {
    refuse(s, EINVAL, "value_size must be 4 (a file descriptor), not " + std::to_string(s.value_size));
  }
  if (fds && (s.flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))) {
    refuse(s, EINVAL, "BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG are not supported for maps of file descriptors");
  }
  if (s.max_entries == 0) refuse(s, EINVAL, "max_entries must not be 0");
  if (s.key_size != 4) {
    refuse(s, EINVAL, "key_size must be 4 (a u32 index), not " + std::to_string(s.key_size));
  }
  if (s.value_size == 0) refuse(s, EINVAL, "value_size must not be 0");
  check_flags(s, BPF_F_NUMA_NODE | BPF_F_MMAPABLE | kAccessMask | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP);
  if (percpu && (s.flags & BPF_F_NUMA_NODE)) refuse(s, EINVAL, "per-CPU arrays take no NUMA node");
  if (s.type != BPF_MAP_TYPE_ARRAY && (s.flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP))) {
    refuse(s, EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for plain arrays only");
  }
  if (s.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY && (s.flags & BPF_F_PRESERVE_ELEMS)) {
    refuse(s, EINVAL, "BPF_F_PRESERVE_ELEMS is for perf event arrays only");
  }
  if (s.value_size > INT_MAX) refuse(s, E2BIG, "value_size is larger than INT_MAX");
  if (percpu && round_up8(s.value_size) > kPcpuMinUnit) {
    refuse(s, E2BIG, "a per-CPU value may not exceed 32 KiB");
  }
}

// array_map_alloc: what the elements need.
void check_array_size(const MapSpec& s) {
  bool percpu = s.type == BPF_MAP_TYPE_PERCPU_ARRAY;
  uint64_t bytes = uint64_t{round_up8(s.value_size)} * s.max_entries * (percpu ? possible_cpus() : 1);
  if (bytes > kMaxMapBytes) refuse(s, ENOMEM, "the array would need more than 4 GiB");
}

// htab_map_alloc_check (plus fd_htab_map_alloc_check for a hash of maps).
void check_hash(const MapSpec& s) {
  if (s.type == BPF_MAP_TYPE_HASH_OF_MAPS && s.value_size != 4) {
    refuse(s, EINVAL, "value_size must be 4 (a file descriptor), not " + std::to_string(s.value_size));
  }
  bool percpu = s.type == BPF_MAP_TYPE_PERCPU_HASH || s.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  bool lru = s.type == BPF_MAP_TYPE_LRU_HASH || s.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  check_flags(s, BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | kAccessMask | BPF_F_ZERO_SEED);
  if (!lru && (s.flags & BPF_F_NO_COMMON_LRU)) refuse(s, EINVAL, "BPF_F_NO_COMMON_LRU is for LRU maps only");
  if (lru && (s.flags & BPF_F_NO_PREALLOC)) refuse(s, kEnotsupp, "LRU maps are always preallocated");
  if ((s.flags & BPF_F_NUMA_NODE) && (percpu || (s.flags & BPF_F_NO_COMMON_LRU))) {
    refuse(s, EINVAL, "per-CPU maps take no NUMA node");
  }
  if (s.max_entries == 0) refuse(s, EINVAL, "max_entries must not be 0");
  if (s.key_size == 0) refuse(s, EINVAL, "key_size must not be 0");
  if (s.value_size == 0) refuse(s, EINVAL, "value_size must not be 0");
  if (uint64_t{s.key_size} + s.value_size >= kKmallocMax - 48) {
    refuse(s, E2BIG, "key and value exceed the largest kernel allocation");
  }
  if (percpu && round_up8(s.value_size) > kPcpuMinUnit) {
    refuse(s, E2BIG, "a per-CPU value may not exceed 32 KiB");
  }
}

// htab_map_alloc: what the elements could need.
void check_hash_size(const MapSpec& s) {
  bool percpu = s.type == BPF_MAP_TYPE_PERCPU_HASH || s.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  uint64_t per_elem =
      64 + round_up8(s.key_size) + uint64_t{round_up8(s.value_size)} * (percpu ? possible_cpus() : 1);
  if (per_elem * s.max_entries > kMaxMapBytes * 4) refuse(s, ENOMEM, "the map could need more than 16 GiB");
}

void check_lpm(const MapSpec& s) {
  if (s.max_entries == 0) refuse(s, EINVAL, "max_entries must not be 0");
  if (!(s.flags & BPF_F_NO_PREALLOC)) refuse(s, EINVAL, "LPM tries must be created with BPF_F_NO_PREALLOC");
  check_flags(s, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | kAccessMask);
  if (s.key_size < 4 + 1 || s.key_size > 4 + kLpmDataMax) {
    refuse(s, EINVAL, "key_size must be 4 (the u32 prefixlen) + 1..256 bytes of data, not " +
                          std::to_string(s.key_size));
  }
  if (s.value_size < 1 || s.value_size > kKmallocMax - kLpmDataMax - 32) {
    refuse(s, EINVAL, "value_size must be between 1 and about 4 MiB");
  }
}

void check_queue_stack(const MapSpec& s) {
  if (s.max_entries == 0) refuse(s, EINVAL, "max_entries must not be 0");
  if (s.key_size != 0) refuse(s, EINVAL, "key_size must be 0 (queues and stacks have no keys)");
  if (s.value_size == 0) refuse(s, EINVAL, "value_size must not be 0");
  check_flags(s, BPF_F_NUMA_NODE | kAccessMask);
  if (s.value_size > kKmallocMax) refuse(s, E2BIG, "value_size exceeds 4 MiB");
  if (uint64_t{s.value_size} * (uint64_t{s.max_entries} + 1) > kMaxMapBytes) {
    refuse(s, ENOMEM, "the map would need more than 4 GiB");
  }
}

void check_ringbuf(const MapSpec& s) {
  check_flags(s, BPF_F_NUMA_NODE);
  if (s.key_size != 0 || s.value_size != 0) refuse(s, EINVAL, "key_size and value_size must be 0");
  long page = sysconf(_SC_PAGESIZE);
  uint32_t n = s.max_entries;
  if (n == 0 || (n & (n - 1)) != 0 || n % static_cast<uint32_t>(page > 0 ? page : 4096) != 0) {
    refuse(s, EINVAL, "max_entries (the ring's size in bytes) must be a power of 2 and a multiple of the " +
                          std::to_string(page) + "-byte page, not " + std::to_string(n));
  }
}

void check_spec(const MapSpec& spec);

// bpf_map_meta_alloc: the inner template must be a map that can live in another.
void check_inner(const MapSpec& s) {
  if (!s.inner) refuse(s, EINVAL, "a map of maps needs an inner map (inner_map_fd)");
  const MapSpec& in = *s.inner;
  try {
    check_spec(in);
  } catch (const MapSpecError& e) {
    throw MapSpecError(map_type_name(s.type) + " map" + (s.name.empty() ? "" : " '" + s.name + "'") +
                           ": its inner map: " + e.what(),
                       e.kernel_errno());
  }
  if (in.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || in.type == BPF_MAP_TYPE_HASH_OF_MAPS) {
    refuse(s, EINVAL, "maps of maps nest one level only: the inner map may not be a map of maps");
  }
  if (in.type == BPF_MAP_TYPE_PROG_ARRAY) {
    refuse(s, kEnotsupp, "a prog_array cannot be an inner map");
  }
}

void check_bloom(const MapSpec& s) {
  if (s.key_size != 0) refuse(s, EINVAL, "key_size must be 0 (values are the keys)");
  if (s.value_size == 0) refuse(s, EINVAL, "value_size must not be 0");
  if (s.max_entries == 0) refuse(s, EINVAL, "max_entries must not be 0");
  check_flags(s, BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | kAccessMask);
  if (s.map_extra & ~uint64_t{0xF}) refuse(s, EINVAL, "map_extra holds only the number of hashes (0-15)");
  if (s.value_size > kKmallocMax) refuse(s, E2BIG, "value_size exceeds 4 MiB");
}

}  // namespace

std::string map_type_name(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_HASH: return "hash";
    case BPF_MAP_TYPE_ARRAY: return "array";
    case BPF_MAP_TYPE_PERCPU_HASH: return "percpu_hash";
    case BPF_MAP_TYPE_PERCPU_ARRAY: return "percpu_array";
    case BPF_MAP_TYPE_LRU_HASH: return "lru_hash";
    case BPF_MAP_TYPE_LRU_PERCPU_HASH: return "lru_percpu_hash";
    case BPF_MAP_TYPE_LPM_TRIE: return "lpm_trie";
    case BPF_MAP_TYPE_QUEUE: return "queue";
    case BPF_MAP_TYPE_STACK: return "stack";
    case BPF_MAP_TYPE_BLOOM_FILTER: return "bloom_filter";
    case BPF_MAP_TYPE_RINGBUF: return "ringbuf";
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY: return "perf_event_array";
    case BPF_MAP_TYPE_PROG_ARRAY: return "prog_array";
    case BPF_MAP_TYPE_ARRAY_OF_MAPS: return "array_of_maps";
    case BPF_MAP_TYPE_HASH_OF_MAPS: return "hash_of_maps";
    case BPF_MAP_TYPE_STACK_TRACE: return "stack_trace";
    case BPF_MAP_TYPE_DEVMAP: return "devmap";
    case BPF_MAP_TYPE_DEVMAP_HASH: return "devmap_hash";
    case BPF_MAP_TYPE_CPUMAP: return "cpumap";
    case BPF_MAP_TYPE_XSKMAP: return "xskmap";
    default: return "type " + std::to_string(type);
  }
}

namespace {

// Every check BPF_MAP_CREATE makes, in its order, without creating anything.
void check_spec(const MapSpec& spec) {
  check_common(spec);
  switch (spec.type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
      check_array(spec);
      check_array_size(spec);
      return;
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
      check_array(spec);
      check_inner(spec);
      check_array_size(spec);
      return;
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      check_hash(spec);
      check_hash_size(spec);
      return;
    case BPF_MAP_TYPE_HASH_OF_MAPS:
      check_hash(spec);
      check_inner(spec);
      check_hash_size(spec);
      return;
    case BPF_MAP_TYPE_LPM_TRIE: check_lpm(spec); return;
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK: check_queue_stack(spec); return;
    case BPF_MAP_TYPE_BLOOM_FILTER: check_bloom(spec); return;
    case BPF_MAP_TYPE_RINGBUF: check_ringbuf(spec); return;
    case BPF_MAP_TYPE_STACK_TRACE: check_stack_trace_spec(spec); return;
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_DEVMAP_HASH:
    case BPF_MAP_TYPE_CPUMAP:
    case BPF_MAP_TYPE_XSKMAP: check_redirect_map_spec(spec); return;
    default: refuse(spec, EINVAL, "not a map type that bpfkit's userspace maps implement (yet)");
  }
}

}  // namespace

std::unique_ptr<Map> create_map(const MapSpec& spec) {
  check_spec(spec);
  switch (spec.type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return std::make_unique<ArrayMap>(spec);
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH: {
      MapSpec s = spec;
      if (s.flags & BPF_F_NO_COMMON_LRU) {
        // Per-CPU LRU lists: the kernel rounds max_entries up to a multiple of the CPUs.
        uint32_t n = possible_cpus();
        s.max_entries = (s.max_entries + n - 1) / n * n;
      }
      return std::make_unique<HashMap>(s);
    }
    case BPF_MAP_TYPE_LPM_TRIE: return std::make_unique<LpmTrieMap>(spec);
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK: return std::make_unique<QueueStackMap>(spec);
    case BPF_MAP_TYPE_BLOOM_FILTER: return std::make_unique<BloomFilterMap>(spec);
    case BPF_MAP_TYPE_RINGBUF: return std::make_unique<RingBufMap>(spec);
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY: return std::make_unique<PerfEventArrayMap>(spec);
    case BPF_MAP_TYPE_PROG_ARRAY: return std::make_unique<ProgArrayMap>(spec);
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_HASH_OF_MAPS: return std::make_unique<MapOfMaps>(spec, *spec.inner);
    case BPF_MAP_TYPE_STACK_TRACE: return std::make_unique<StackTraceMap>(spec);
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_DEVMAP_HASH: return std::make_unique<DevMap>(spec);
    case BPF_MAP_TYPE_CPUMAP: return std::make_unique<CpuMap>(spec);
    case BPF_MAP_TYPE_XSKMAP: return std::make_unique<XskMap>(spec);
    default: refuse(spec, EINVAL, "not a map type that bpfkit's userspace maps implement (yet)");
  }
}

}  // namespace bpfkit::maps
