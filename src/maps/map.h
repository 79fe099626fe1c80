// The maps layer: the kernel's map types, in user space, with the kernel's
// semantics (return codes, flags, iteration) so that a program or a tool sees
// the same behaviour on the userspace target as through bpf(2).
//
// Two views of every map, as in the kernel:
//  - the program view (lookup/update/delete_elem/get_next_key/push/pop/peek):
//    what the helpers do. lookup() returns a pointer into the map's storage that a
//    program may write through; for per-CPU maps it is the calling CPU's slot.
//  - the user-space view (lookup_user/update_user): what BPF_MAP_LOOKUP_ELEM and
//    BPF_MAP_UPDATE_ELEM do: values are copied, and per-CPU maps exchange all
//    CPUs' values, each rounded up to 8 bytes.
// Return codes are 0 or a negative errno, exactly as the kernel's.
#pragma once

#include <cstdint>
#include <linux/bpf.h>
#include <memory>
#include <string>

#include "base/error.h"

namespace bpfkit::maps {

struct MapSpec {
  uint32_t type = BPF_MAP_TYPE_UNSPEC;  // a bpf_map_type; any u32 may come from an object file
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t flags = 0;        // BPF_F_* map_flags
  uint64_t map_extra = 0;    // bloom filter: number of hash functions in bits 0-3
  std::string name;
  std::shared_ptr<const MapSpec> inner;  // map-in-map: the inner template (ignored by other types)
};

// A spec the kernel would refuse. kernel_errno() is what BPF_MAP_CREATE returns
// for it (positive, e.g. EINVAL), so tests can compare against the kernel.
class MapSpecError : public Error {
 public:
  MapSpecError(const std::string& what, int kernel_errno) : Error(what), errno_(kernel_errno) {}
  int kernel_errno() const { return errno_; }

 private:
  int errno_;
};

class Map {
 public:
  explicit Map(MapSpec spec) : spec_(std::move(spec)) {}
  virtual ~Map() = default;
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;

  const MapSpec& spec() const { return spec_; }
  bpf_map_type type() const { return static_cast<bpf_map_type>(spec_.type); }
  uint32_t key_size() const { return spec_.key_size; }
  uint32_t value_size() const { return spec_.value_size; }
  uint32_t max_entries() const { return spec_.max_entries; }
  uint32_t flags() const { return spec_.flags; }
  const std::string& name() const { return spec_.name; }

  // Whether values are per CPU (lookup() gives the current CPU's slot).
  virtual bool per_cpu() const { return false; }
  // Size of the value buffer of lookup_user/update_user: value_size, or for
  // per-CPU maps possible_cpus() * round_up(value_size, 8).
  size_t user_value_size() const;

  // Program view. lookup: nullptr when absent (and always for queue/stack/bloom).
  virtual void* lookup(const void* key) = 0;
  virtual int update(const void* key, const void* value, uint64_t flags) = 0;
  virtual int delete_elem(const void* key) = 0;
  // key == nullptr: the first key. -ENOENT after the last.
  virtual int get_next_key(const void* key, void* next_key) = 0;
  // Queue, stack and bloom filter (bpf_map_push_elem/pop_elem/peek_elem).
  virtual int push(const void* value, uint64_t flags);
  virtual int pop(void* value);
  virtual int peek(void* value);

  // User-space view (bpf(2) commands). `value` holds user_value_size() bytes.
  // Maps created BPF_F_RDONLY (BPF_F_WRONLY) refuse writes (reads) with -EPERM.
  int lookup_user(const void* key, void* value);
  int update_user(const void* key, const void* value, uint64_t flags);
  int delete_user(const void* key);
  int get_next_key_user(const void* key, void* next_key);
  // BPF_MAP_LOOKUP_AND_DELETE_ELEM: queue/stack pop, hash maps copy out and delete;
  // other types -ENOTSUPP (524), as the kernel.
  int lookup_and_delete_user(const void* key, void* value);

 protected:
  virtual int lookup_user_impl(const void* key, void* value);
  virtual int update_user_impl(const void* key, const void* value, uint64_t flags);
  virtual int lookup_and_delete_user_impl(const void* key, void* value);

 private:
  MapSpec spec_;
};

// Validates `spec` as BPF_MAP_CREATE does and creates the map. Throws
// MapSpecError naming what the kernel would refuse and why.
std::unique_ptr<Map> create_map(const MapSpec& spec);

// A human name of a map type ("hash", "lru_percpu_hash", ...).
std::string map_type_name(uint32_t type);

}  // namespace bpfkit::maps
