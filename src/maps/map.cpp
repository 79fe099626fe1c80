#include "maps/map.h"

#include <cerrno>
#include <cstring>

#include "maps/cpu.h"

namespace bpfkit::maps {

size_t Map::user_value_size() const {
  if (!per_cpu()) return value_size();
  return static_cast<size_t>(possible_cpus()) * round_up8(value_size());
}

int Map::push(const void*, uint64_t) { return -EOPNOTSUPP; }
int Map::pop(void*) { return -EOPNOTSUPP; }
int Map::peek(void*) { return -EOPNOTSUPP; }

// Default for maps whose values are one block: copy what lookup() points at.
int Map::lookup_user_impl(const void* key, void* value) {
  void* p = lookup(key);
  if (p == nullptr) return -ENOENT;
  std::memcpy(value, p, value_size());
  return 0;
}

int Map::update_user_impl(const void* key, const void* value, uint64_t flags) {
  // The syscall refuses BPF_F_LOCK on maps without a bpf_spin_lock in their value.
  if (flags & BPF_F_LOCK) return -EINVAL;
  return update(key, value, flags);
}

// The kernel's ENOTSUPP (524) for map types without lookup-and-delete.
int Map::lookup_and_delete_user_impl(const void*, void*) { return -524; }

// The syscall's file-mode checks come before anything else the command checks.
int Map::lookup_user(const void* key, void* value) {
  if (flags() & BPF_F_WRONLY) return -EPERM;
  return lookup_user_impl(key, value);
}

int Map::update_user(const void* key, const void* value, uint64_t flags) {
  if (this->flags() & BPF_F_RDONLY) return -EPERM;
  return update_user_impl(key, value, flags);
}

int Map::delete_user(const void* key) {
  if (flags() & BPF_F_RDONLY) return -EPERM;
  return delete_elem(key);
}

int Map::get_next_key_user(const void* key, void* next_key) {
  if (flags() & BPF_F_WRONLY) return -EPERM;
  return get_next_key(key, next_key);
}

int Map::lookup_and_delete_user(const void* key, void* value) {
  if (flags() & (BPF_F_RDONLY | BPF_F_WRONLY)) return -EPERM;
  return lookup_and_delete_user_impl(key, value);
}

}  // namespace bpfkit::maps
