// A tracepoint's record layout, from its `format` file in tracefs
// (/sys/kernel/tracing/events/<category>/<name>/format): the context a
// tracepoint program receives and what the tracing language types args with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace bpfkit::core {

struct TracepointField {
  std::string name;        // "filename"
  std::string type;        // the C declaration's type: "const char *", "int", "char[16]"
  uint32_t offset = 0, size = 0;
  bool is_signed = false;
  uint32_t array_len = 0;  // "char comm[16]": 16; 0 when not an array
  bool common = false;     // common_type, common_flags, common_preempt_count, common_pid
  bool data_loc = false;   // __data_loc: a u32 with offset (low 16 bits) and length (high 16)
  bool rel_loc = false;    // __rel_loc: as __data_loc, the offset counted from the end of this field
};

struct TracepointFormat {
  std::string category, name;  // "syscalls", "sys_enter_openat"
  uint32_t id = 0;
  std::vector<TracepointField> fields;
  uint32_t size() const;  // bytes up to the end of the last field
  const TracepointField* find(std::string_view field) const;
};

// Parses a format file's text. Throws Error naming the line that does not parse.
TracepointFormat parse_tracepoint_format(std::string_view text, std::string category = {}, std::string name = {});

// Where tracefs is mounted (/sys/kernel/tracing, else /sys/kernel/debug/tracing), mounting it
// at /sys/kernel/tracing when neither is (needs root); std::nullopt when there is none.
std::optional<std::string> tracefs_root();
// Reads and parses "<category>/<name>" (also accepts "category:name"). Throws Error naming the path.
TracepointFormat load_tracepoint_format(std::string_view tracepoint);

}  // namespace bpfkit::core
