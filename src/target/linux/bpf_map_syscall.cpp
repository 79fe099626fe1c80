#include "target/linux/bpf_map_syscall.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bpfkit::target::linux_kernel {
namespace {

long sys_bpf(int cmd, bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

uint64_t ptr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

int elem_command(int cmd, int map_fd, const void* key, const void* value, uint64_t flags) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = static_cast<uint32_t>(map_fd);
  attr.key = ptr(key);
  attr.value = ptr(value);
  attr.flags = flags;
  return sys_bpf(cmd, &attr) < 0 ? -errno : 0;
}

}  // namespace

int try_map_create(const maps::MapSpec& spec, int inner_map_fd) {
  UniqueFd inner;
  if (inner_map_fd < 0 && spec.inner &&
      (spec.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || spec.type == BPF_MAP_TYPE_HASH_OF_MAPS)) {
    int fd = try_map_create(*spec.inner);
    if (fd < 0) return fd;
    inner.reset(fd);
    inner_map_fd = fd;
  }
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_type = spec.type;
  attr.key_size = spec.key_size;
  attr.value_size = spec.value_size;
  attr.max_entries = spec.max_entries;
  attr.map_flags = spec.flags;
  attr.map_extra = spec.map_extra;
  attr.inner_map_fd = inner_map_fd < 0 ? 0 : static_cast<uint32_t>(inner_map_fd);
  // A name too long for the kernel is passed unterminated, so that it refuses it as it would.
  std::memcpy(attr.map_name, spec.name.data(), std::min(spec.name.size(), sizeof attr.map_name));
  long fd = sys_bpf(BPF_MAP_CREATE, &attr);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

UniqueFd map_create(const maps::MapSpec& spec, int inner_map_fd) {
  int fd = try_map_create(spec, inner_map_fd);
  if (fd < 0) {
    throw BpfError("BPF_MAP_CREATE of " + maps::map_type_name(spec.type) + " map '" + spec.name + "'", -fd);
  }
  return UniqueFd(fd);
}

int map_lookup_elem(int map_fd, const void* key, void* value, uint64_t flags) {
  return elem_command(BPF_MAP_LOOKUP_ELEM, map_fd, key, value, flags);
}

int map_update_elem(int map_fd, const void* key, const void* value, uint64_t flags) {
  return elem_command(BPF_MAP_UPDATE_ELEM, map_fd, key, value, flags);
}

int map_delete_elem(int map_fd, const void* key) {
  return elem_command(BPF_MAP_DELETE_ELEM, map_fd, key, nullptr, 0);
}

int map_lookup_and_delete_elem(int map_fd, const void* key, void* value, uint64_t flags) {
  return elem_command(BPF_MAP_LOOKUP_AND_DELETE_ELEM, map_fd, key, value, flags);
}

int map_get_next_key(int map_fd, const void* key, void* next_key) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = static_cast<uint32_t>(map_fd);
  attr.key = ptr(key);
  attr.next_key = ptr(next_key);
  return sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr) < 0 ? -errno : 0;
}

int64_t object_id(int fd) {
  // bpf_map_info and bpf_prog_info both begin with (type, id).
  uint32_t info[2] = {0, 0};
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = static_cast<uint32_t>(fd);
  attr.info.info_len = sizeof info;
  attr.info.info = ptr(info);
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0) return -errno;
  return info[1];
}

}  // namespace bpfkit::target::linux_kernel
