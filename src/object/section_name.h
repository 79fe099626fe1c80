// libbpf's SEC() names: what program type, expected attach type and attach point
// a section name stands for ("xdp", "tc", "tracepoint/syscalls/sys_enter_openat",
// "uprobe//bin/bash:readline", "fentry/do_unlinkat", ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bpfkit::object {

struct SectionDefinition {
  uint32_t prog_type = 0;             // bpf_prog_type
  uint32_t expected_attach_type = 0;  // bpf_attach_type (0 where the type has none)
  std::string attach_target;          // what follows the prefix: "syscalls/sys_enter_openat", "do_unlinkat", ...
  bool sleepable = false;             // ".s" sections (fentry.s, uprobe.s, lsm.s)
  bool retprobe = false;              // kretprobe/uretprobe
};

// Parses a section name as libbpf does (exact names and "prefix/target" forms).
// std::nullopt for names that are not program sections.
std::optional<SectionDefinition> parse_section_name(std::string_view section);

}  // namespace bpfkit::object
