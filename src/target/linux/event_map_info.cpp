#include "target/linux/event_map_info.h"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {

EventMapInfo query_event_map(int map_fd, std::string_view name) {
  bpf_map_info info;
  std::memset(&info, 0, sizeof info);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = static_cast<uint32_t>(map_fd);
  attr.info.info_len = sizeof info;
  attr.info.info = reinterpret_cast<uintptr_t>(&info);
  if (syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) < 0) {
    const std::string who = name.empty() ? "fd " + std::to_string(map_fd) : "map '" + std::string(name) + "'";
    throw BpfError(who + " is not a BPF map (BPF_OBJ_GET_INFO_BY_FD failed)", errno);
  }
  EventMapInfo out;
  out.type = info.type;
  out.id = info.id;
  out.max_entries = info.max_entries;
  if (!name.empty()) {
    out.name = name;
  } else if (info.name[0]) {
    out.name = std::string(info.name, strnlen(info.name, sizeof info.name));
  } else {
    out.name = "map id " + std::to_string(info.id);
  }
  return out;
}

std::string event_map_type_name(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_RINGBUF:
      return "ring buffer";
    case BPF_MAP_TYPE_USER_RINGBUF:
      return "user ring buffer";
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
      return "perf event array";
    case BPF_MAP_TYPE_HASH:
      return "hash";
    case BPF_MAP_TYPE_ARRAY:
      return "array";
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return "per-CPU array";
    case BPF_MAP_TYPE_PERCPU_HASH:
      return "per-CPU hash";
    case BPF_MAP_TYPE_QUEUE:
      return "queue";
    case BPF_MAP_TYPE_STACK:
      return "stack";
    default:
      return "map type " + std::to_string(type);
  }
}

}  // namespace bpfkit::target::linux_kernel
