// What an event consumer (ring buffer, perf buffer) must know about the map it
// is given before mapping it: its kernel type, size and name, from
// BPF_OBJ_GET_INFO_BY_FD, so a wrong map is refused with a sentence naming it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bpfkit::target::linux_kernel {

struct EventMapInfo {
  uint32_t type = 0;  // bpf_map_type
  uint32_t id = 0;
  uint32_t max_entries = 0;
  std::string name;  // `name` given by the caller, else the kernel's name, else "map id N"
};

// Throws BpfError naming the fd (or `name`) when the fd is not a BPF map.
EventMapInfo query_event_map(int map_fd, std::string_view name = {});

// "ring buffer", "perf event array", ... or "map type N" for a type this file does not name.
std::string event_map_type_name(uint32_t type);

}  // namespace bpfkit::target::linux_kernel
