// The same maps, created in the running kernel with raw bpf(2), for the
// cross-check tests. Every call returns 0 or a negative errno, like maps::Map.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <linux/bpf.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

#include "maps/map.h"

namespace bpfkit::maps::testing {

inline long sys_bpf(int cmd, bpf_attr* attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

class KernelMap {
 public:
  KernelMap() = default;
  KernelMap(const KernelMap&) = delete;
  KernelMap& operator=(const KernelMap&) = delete;
  ~KernelMap() {
    if (fd_ >= 0) close(fd_);
  }

  // 0, or the negative errno of BPF_MAP_CREATE.
  int create(const MapSpec& spec) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.map_type = spec.type;
    attr.key_size = spec.key_size;
    attr.value_size = spec.value_size;
    attr.max_entries = spec.max_entries;
    attr.map_flags = spec.flags;
    attr.map_extra = spec.map_extra;
    std::strncpy(attr.map_name, spec.name.c_str(), sizeof attr.map_name - 1);
    if (spec.name.size() >= sizeof attr.map_name) attr.map_name[sizeof attr.map_name - 1] = 'x';
    long fd = sys_bpf(BPF_MAP_CREATE, &attr);
    if (fd < 0) return -errno;
    fd_ = static_cast<int>(fd);
    return 0;
  }

  int lookup(const void* key, void* value, uint64_t flags = 0) {
    return elem(BPF_MAP_LOOKUP_ELEM, key, value, flags);
  }
  int update(const void* key, const void* value, uint64_t flags) {
    return elem(BPF_MAP_UPDATE_ELEM, key, const_cast<void*>(value), flags);
  }
  int delete_elem(const void* key) { return elem(BPF_MAP_DELETE_ELEM, key, nullptr, 0); }
  int lookup_and_delete(const void* key, void* value) {
    return elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, key, value, 0);
  }
  int get_next_key(const void* key, void* next) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.map_fd = fd_;
    attr.key = reinterpret_cast<uint64_t>(key);
    attr.next_key = reinterpret_cast<uint64_t>(next);
    return sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr) < 0 ? -errno : 0;
  }

 private:
  int elem(int cmd, const void* key, void* value, uint64_t flags) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.map_fd = fd_;
    attr.key = reinterpret_cast<uint64_t>(key);
    attr.value = reinterpret_cast<uint64_t>(value);
    attr.flags = flags;
    return sys_bpf(cmd, &attr) < 0 ? -errno : 0;
  }

  int fd_ = -1;
};

// Empty when the kernel can create maps here; else why not, in one sentence.
inline std::string kernel_maps_unavailable_reason() {
  if (geteuid() != 0) return "the kernel cross-check needs root (BPF_MAP_CREATE of every map type)";
  KernelMap probe;
  MapSpec spec{BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, 0, ""};
  int rc = probe.create(spec);
  if (rc != 0) return "BPF_MAP_CREATE fails here: " + std::string(strerror(-rc));
  return {};
}

// The kernel's num_possible_cpus(), from /sys/devices/system/cpu/possible ("0-N").
inline uint32_t kernel_possible_cpus() {
  std::ifstream in("/sys/devices/system/cpu/possible");
  std::string s;
  std::getline(in, s);
  auto dash = s.rfind('-');
  auto comma = s.rfind(',');
  if (comma != std::string::npos && (dash == std::string::npos || comma > dash)) return 0;  // unusual: ignore
  return dash == std::string::npos ? 1u : static_cast<uint32_t>(std::stoul(s.substr(dash + 1)) + 1);
}

}  // namespace bpfkit::maps::testing
