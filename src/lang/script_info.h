// What the semantic pass learns about a script and the code generator and the run
// time read: the concrete probes (wildcards expanded), the type of every expression
// in each, the maps with their key and value types, and the output formats (printf,
// system, cat, time) that events refer to by index.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tracepoint_format.h"
#include "lang/ast.h"
#include "lang/format/map_output.h"
#include "lang/format/printf_format.h"
#include "lang/probe_spec.h"
#include "lang/source.h"
#include "lang/types.h"

namespace bpfkit::lang {

// A located error found after parsing: unknown names, type mismatches, bad probes.
class SemanticError : public SyntaxError {
 public:
  using SyntaxError::SyntaxError;
};

struct MapInfo {
  std::string name;  // "@x", "@" for the anonymous map
  format::AggKind agg = format::AggKind::Plain;
  std::vector<Type> keys;  // empty: one value, no key
  Type value;              // Plain maps: what was assigned
  int64_t lhist_min = 0, lhist_max = 0, lhist_step = 0;
  Location first_use;
  bool keyed() const { return !keys.empty(); }
  bool histogram() const { return agg == format::AggKind::Hist || agg == format::AggKind::Lhist; }
  // Aggregations are per-CPU maps (no atomics, no contention); user space combines the CPUs.
  bool per_cpu() const { return agg != format::AggKind::Plain; }
  // A count() without a key lives in a one-entry per-CPU array, as bpftrace keeps it: the
  // kernel inlines the lookup, the entry always exists (and prints "@: 0" when never counted).
  bool single_counter() const { return keys.empty() && agg == format::AggKind::Count; }
  uint32_t user_key_size() const;  // the script's key (8 bytes of zero for a map without a key; 4 for a counter)
  uint32_t key_size() const { return user_key_size() + (histogram() ? 8 : 0); }  // + the bucket
  uint32_t value_size() const { return agg == format::AggKind::Plain ? value.storage_size() : 16; }
};

// Kinds of records the programs send to user space through the events ring buffer.
enum class EventKind : uint32_t {
  Printf = 1,  // id: formats index; then the arguments
  Exit,
  PrintMap,  // id: map index; then top (u64), div (u64)
  ClearMap,
  ZeroMap,
  Time,       // id: formats index (the strftime format)
  Join,       // id: formats index (the separator); then kJoinMax strings of kJoinStringSize
  System,     // id: formats index (printf-style command)
  Cat,        // id: formats index (printf-style path)
  PrintValue, // id: formats index (the value's type lives in `args[0]`)
};

// A printf-style output whose arguments are packed into a record.
struct OutputFormat {
  EventKind kind = EventKind::Printf;
  std::string text;  // the format string as written (time(): strftime format; join: separator)
  format::PrintfFormat printf;
  std::vector<Type> args;
  std::vector<uint32_t> offsets;  // of each argument in the record, after the 8-byte header
  uint32_t record_size = 8;
  Location loc;
};

inline constexpr uint32_t kJoinMax = 16;
inline constexpr uint32_t kJoinStringSize = 64;

// How a field access reads: from the probe's context (tracepoint args), or through a
// kernel pointer with probe_read (BTF-typed), at a byte offset.
struct FieldInfo {
  uint32_t offset = 0;
  bool from_ctx = false;
  bool data_loc = false;  // a tracepoint __data_loc string: the u32 at offset locates it in the record
};

// One probe as it is attached: a wildcard attach point or a probe with several attach
// points gives several, each compiled on its own (their args differ).
struct ConcreteProbe {
  ProbeSpec spec;
  const Probe* probe = nullptr;
  Location loc;        // of the attach point
  std::string name;    // the `probe` builtin: "tracepoint:syscalls:sys_enter_openat"
  std::optional<core::TracepointFormat> tracepoint;
  std::unordered_map<const Expr*, Type> types;
  std::unordered_map<const Expr*, FieldInfo> fields;
  std::string section;      // the BPF program's section: its type and how it attaches
  std::map<std::string, Type> vars;  // $x -> its type
};

struct ScriptInfo {
  std::vector<ConcreteProbe> probes;
  std::vector<MapInfo> maps;
  std::vector<OutputFormat> formats;
  std::unordered_map<const Expr*, size_t> format_of;  // printf/time/join/print/... call -> formats index
  std::vector<std::string> positional;  // $1... from the command line
  bool uses_kstack = false, uses_ustack = false;
  bool unsafe = false;
  int cpid = 0;

  const MapInfo* find_map(const std::string& name) const;
};

}  // namespace bpfkit::lang
