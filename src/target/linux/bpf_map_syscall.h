// Kernel maps through raw bpf(2): BPF_MAP_CREATE from a maps::MapSpec and the
// element commands. The element calls return 0 or a negative errno, like maps::Map,
// so a test can compare a kernel map with a userspace one call for call.
#pragma once

#include <cstdint>

#include "maps/map.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {

// BPF_MAP_CREATE: the new map's fd, or -errno. For a map of maps, `inner_map_fd`
// is the template; when it is -1 and spec.inner is set, a temporary kernel map is
// created from spec.inner for the call (an unusable inner spec gives its errno).
int try_map_create(const maps::MapSpec& spec, int inner_map_fd = -1);
// The same, throwing BpfError (naming the map) on failure.
UniqueFd map_create(const maps::MapSpec& spec, int inner_map_fd = -1);

// BPF_MAP_LOOKUP_ELEM / UPDATE_ELEM / DELETE_ELEM / GET_NEXT_KEY / LOOKUP_AND_DELETE_ELEM.
// Keyless maps (queue, stack, ring buffer) take key == nullptr.
int map_lookup_elem(int map_fd, const void* key, void* value, uint64_t flags = 0);
int map_update_elem(int map_fd, const void* key, const void* value, uint64_t flags);
int map_delete_elem(int map_fd, const void* key);
int map_get_next_key(int map_fd, const void* key, void* next_key);
int map_lookup_and_delete_elem(int map_fd, const void* key, void* value, uint64_t flags = 0);

// BPF_OBJ_GET_INFO_BY_FD on a map or program fd: its kernel id (what a map of maps
// or prog array reads back from user space), or -errno.
int64_t object_id(int fd);

}  // namespace bpfkit::target::linux_kernel
