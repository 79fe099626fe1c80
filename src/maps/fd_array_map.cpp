#include "maps/fd_array_map.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

#include "maps/hash_map.h"

namespace bpfkit::maps {

namespace {

uint32_t index_of(const void* key) {
  uint32_t index;
  std::memcpy(&index, key, 4);
  return index;
}

// array_map_get_next_key: every index in turn; a missing or out-of-range key restarts.
int array_next_key(const void* key, void* next_key, uint32_t max_entries) {
  uint32_t index = key != nullptr ? index_of(key) : UINT32_MAX;
  uint32_t next = 0;
  if (index < max_entries) {
    if (index == max_entries - 1) return -ENOENT;
    next = index + 1;
  }
  std::memcpy(next_key, &next, 4);
  return 0;
}

// What a prog array and a map of maps share: per index (arrays only) the handle programs
// read without a lock and the id user space wrote and reads back, and the resolver that
// turns such ids into handles. Writers and user-space reads take the lock. Callers check
// indexes, since the errno for one out of range differs between operations.
class IdSlots {
 public:
  explicit IdSlots(uint32_t count) : slots_(count) {}

  void set_resolver(HandleResolver resolve) {
    std::lock_guard guard(mu_);
    resolve_ = std::move(resolve);
  }
  // The handle user space names by `id`, or nullptr (no resolver, or nothing of that id).
  const void* resolve(uint32_t id) {
    std::lock_guard guard(mu_);
    return resolve_ ? resolve_(id) : nullptr;
  }

  const void* handle(uint32_t index) const { return slots_[index].handle.load(std::memory_order_acquire); }
  void set(uint32_t index, const void* handle, uint32_t id) {
    std::lock_guard guard(mu_);
    Slot& slot = slots_[index];
    slot.id = id;
    slot.handle.store(handle, std::memory_order_release);
  }
  // Empties the slot: -ENOENT when it already was.
  int clear(uint32_t index) {
    std::lock_guard guard(mu_);
    Slot& slot = slots_[index];
    if (slot.handle.exchange(nullptr) == nullptr) return -ENOENT;
    slot.id = 0;
    return 0;
  }
  // lookup_user of an array: the slot's id as 4 bytes, or -ENOENT when it is empty.
  int read_id(uint32_t index, void* value) {
    std::lock_guard guard(mu_);
    const Slot& slot = slots_[index];
    if (slot.handle.load() == nullptr) return -ENOENT;
    std::memcpy(value, &slot.id, 4);
    return 0;
  }

 private:
  struct Slot {
    std::atomic<const void*> handle{nullptr};
    uint32_t id = 0;
  };
  std::mutex mu_;
  std::vector<Slot> slots_;
  HandleResolver resolve_;
};

// What a hash of maps stores per key.
struct HashValue {
  Map* map;
  uint64_t id;
};

}  // namespace

bool inner_map_compatible(const MapSpec& templ, const Map& inner) {
  // The syscall keeps BPF_F_RDONLY/WRONLY out of map_flags (they are file modes).
  constexpr uint32_t kFileModes = BPF_F_RDONLY | BPF_F_WRONLY;
  if (templ.type != inner.spec().type || templ.key_size != inner.key_size() ||
      templ.value_size != inner.value_size() || (templ.flags & ~kFileModes) != (inner.flags() & ~kFileModes)) {
    return false;
  }
  // Only plain arrays also pin max_entries (programs inline their bounds check),
  // unless the template says BPF_F_INNER_MAP.
  if (templ.type == BPF_MAP_TYPE_ARRAY && !(templ.flags & BPF_F_INNER_MAP)) {
    return templ.max_entries == inner.max_entries();
  }
  return true;
}

// ---------------------------------------------------------------- prog array

struct ProgArrayMap::State {
  explicit State(uint32_t entries) : slots(entries) {}
  IdSlots slots;  // program_at reads them without a lock
};

ProgArrayMap::ProgArrayMap(MapSpec spec) : Map(std::move(spec)), state_(std::make_unique<State>(max_entries())) {}

ProgArrayMap::~ProgArrayMap() = default;

void ProgArrayMap::set_resolver(HandleResolver resolve) { state_->slots.set_resolver(std::move(resolve)); }

void* ProgArrayMap::lookup(const void*) { return nullptr; }
int ProgArrayMap::update(const void*, const void*, uint64_t) { return -EINVAL; }

int ProgArrayMap::delete_elem(const void* key) {
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -E2BIG;
  return state_->slots.clear(index);
}

int ProgArrayMap::get_next_key(const void* key, void* next_key) {
  return array_next_key(key, next_key, max_entries());
}

const void* ProgArrayMap::program_at(uint64_t index) const {
  if (index >= max_entries()) return nullptr;
  return state_->slots.handle(uint32_t(index));
}

int ProgArrayMap::set(uint32_t index, const void* program, uint32_t id) {
  if (index >= max_entries()) return -E2BIG;
  if (program == nullptr) return -EINVAL;
  state_->slots.set(index, program, id);
  return 0;
}

int ProgArrayMap::lookup_user_impl(const void* key, void* value) {
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -ENOENT;
  return state_->slots.read_id(index, value);
}

int ProgArrayMap::update_user_impl(const void* key, const void* value, uint64_t flags) {
  if (flags != BPF_ANY) return -EINVAL;
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -E2BIG;
  uint32_t id = index_of(value);
  const void* program = state_->slots.resolve(id);
  if (program == nullptr) return -EBADF;  // as the kernel for an fd that names no program
  return set(index, program, id);
}

// ---------------------------------------------------------------- map of maps

struct MapOfMaps::State {
  explicit State(uint32_t entries) : slots(entries) {}
  IdSlots slots;                   // array of maps (a hash of maps uses only the resolver)
  std::unique_ptr<HashMap> table;  // hash of maps: key -> HashValue
};

MapOfMaps::MapOfMaps(MapSpec spec, MapSpec inner)
    : Map(std::move(spec)), inner_(std::move(inner)),
      state_(std::make_unique<State>(type() == BPF_MAP_TYPE_HASH_OF_MAPS ? 0 : max_entries())) {
  if (type() == BPF_MAP_TYPE_HASH_OF_MAPS) {
    MapSpec table{BPF_MAP_TYPE_HASH, key_size(), sizeof(HashValue), max_entries(),
                  flags() & BPF_F_ZERO_SEED, 0, name()};
    state_->table = std::make_unique<HashMap>(table);
  }
}

MapOfMaps::~MapOfMaps() = default;

void MapOfMaps::set_resolver(HandleResolver resolve) { state_->slots.set_resolver(std::move(resolve)); }

void* MapOfMaps::lookup(const void* key) {
  if (state_->table) {
    auto* v = static_cast<HashValue*>(state_->table->lookup(key));
    return v != nullptr ? __atomic_load_n(&v->map, __ATOMIC_ACQUIRE) : nullptr;
  }
  uint32_t index = index_of(key);
  if (index >= max_entries()) return nullptr;
  return const_cast<void*>(state_->slots.handle(index));
}

int MapOfMaps::update(const void*, const void*, uint64_t) { return -EINVAL; }

int MapOfMaps::delete_elem(const void* key) {
  if (state_->table) return state_->table->delete_elem(key);
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -E2BIG;
  return state_->slots.clear(index);
}

int MapOfMaps::get_next_key(const void* key, void* next_key) {
  if (state_->table) return state_->table->get_next_key(key, next_key);
  return array_next_key(key, next_key, max_entries());
}

int MapOfMaps::set(const void* key, Map* inner, uint32_t id, uint64_t flags) {
  if (state_->table) {
    if (flags & BPF_F_LOCK) return -EINVAL;
    if (inner == nullptr || !inner_map_compatible(inner_, *inner)) return -EINVAL;
    HashValue v{inner, id};
    return state_->table->update(key, &v, flags);
  }
  if (flags != BPF_ANY) return -EINVAL;
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -E2BIG;
  if (inner == nullptr || !inner_map_compatible(inner_, *inner)) return -EINVAL;
  state_->slots.set(index, inner, id);
  return 0;
}

int MapOfMaps::lookup_user_impl(const void* key, void* value) {
  if (state_->table) {
    std::vector<uint8_t> raw(sizeof(HashValue));
    if (int rc = state_->table->lookup_user(key, raw.data()); rc != 0) return rc;
    HashValue v;
    std::memcpy(&v, raw.data(), sizeof v);
    uint32_t id = static_cast<uint32_t>(v.id);
    std::memcpy(value, &id, 4);
    return 0;
  }
  uint32_t index = index_of(key);
  if (index >= max_entries()) return -ENOENT;
  return state_->slots.read_id(index, value);
}

int MapOfMaps::update_user_impl(const void* key, const void* value, uint64_t flags) {
  if (flags & BPF_F_LOCK) return -EINVAL;
  // The array checks its flags and index before it looks at the fd; the hash after.
  if (!state_->table) {
    if (flags != BPF_ANY) return -EINVAL;
    if (index_of(key) >= max_entries()) return -E2BIG;
  }
  uint32_t id = index_of(value);
  const void* handle = state_->slots.resolve(id);
  if (handle == nullptr) return -EBADF;  // as the kernel for an fd that names no map
  return set(key, static_cast<Map*>(const_cast<void*>(handle)), id, flags);
}

}  // namespace bpfkit::maps
