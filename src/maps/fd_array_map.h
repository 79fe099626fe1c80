// Maps whose values name other objects: BPF_MAP_TYPE_PROG_ARRAY (tail-call
// targets), BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS. In the
// kernel user space writes file descriptors into them; here a target supplies a
// resolver that turns the u32 written by update_user into an object handle
// (a program or a Map*), and lookup_user reads back the id it was given.
//
// Program view: lookup() in a map-of-maps returns the inner Map* itself (the
// value a program passes on to map helpers); prog_array lookup returns nullptr,
// as programs cannot read prog arrays. Inner maps must match the inner template
// (type, key/value size, flags; max_entries only for plain arrays without
// BPF_F_INNER_MAP), as the kernel's bpf_map_meta_equal checks.
//
// User-space errnos follow the kernel's: arrays take BPF_ANY only (-EINVAL) and
// refuse an index >= max_entries (-E2BIG, also for delete); an id the resolver
// does not know is -EBADF (a closed fd); an inner map that does not match is -EINVAL.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "maps/map.h"

namespace bpfkit::maps {

// Turns an id written from user space into a handle; nullptr when the id names nothing suitable.
using HandleResolver = std::function<const void*(uint32_t id)>;

class ProgArrayMap : public Map {
 public:
  explicit ProgArrayMap(MapSpec spec);
  ~ProgArrayMap() override;
  void set_resolver(HandleResolver resolve);

  void* lookup(const void* key) override;
  int update(const void* key, const void* value, uint64_t flags) override;  // -EINVAL for programs
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;

  // What bpf_tail_call jumps to: the program at `index`, or nullptr (out of range or empty).
  const void* program_at(uint64_t index) const;
  // Direct set for loaders (.values initialisation): handle + the id lookup_user reports.
  int set(uint32_t index, const void* program, uint32_t id);

 protected:
  int lookup_user_impl(const void* key, void* value) override;
  int update_user_impl(const void* key, const void* value, uint64_t flags) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class MapOfMaps : public Map {
 public:
  // `inner` is the template every inner map must match.
  MapOfMaps(MapSpec spec, MapSpec inner);
  ~MapOfMaps() override;
  void set_resolver(HandleResolver resolve);
  const MapSpec& inner_spec() const { return inner_; }

  void* lookup(const void* key) override;  // the inner Map*, or nullptr
  int update(const void* key, const void* value, uint64_t flags) override;  // -EINVAL for programs
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;

  // Direct set for loaders: the inner map + the id lookup_user reports. -EINVAL when it does not match the template.
  int set(const void* key, Map* inner, uint32_t id, uint64_t flags = BPF_ANY);

 protected:
  int lookup_user_impl(const void* key, void* value) override;
  int update_user_impl(const void* key, const void* value, uint64_t flags) override;

 private:
  MapSpec inner_;
  struct State;
  std::unique_ptr<State> state_;
};

// Checks `inner` against the template as the kernel's bpf_map_meta_equal does.
bool inner_map_compatible(const MapSpec& templ, const Map& inner);

}  // namespace bpfkit::maps
