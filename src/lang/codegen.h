// Code generation: every concrete probe of a checked script becomes one BPF program
// (straight from the AST and its types to instructions, no LLVM), and the script's
// maps, event ring buffer, scratch buffer and stack maps become map definitions. The
// result is an ordinary target-neutral BpfObject that either Target loads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "lang/ast.h"
#include "lang/script_info.h"
#include "object/bpf_object.h"

namespace bpfkit::lang {

struct CompiledProgram {
  size_t probe = 0;                 // index into ScriptInfo::probes
  std::vector<Location> locations;  // the script location of every instruction slot
};

struct CompiledScript {
  std::shared_ptr<const Program> ast;  // ScriptInfo points into it
  ScriptInfo info;
  std::shared_ptr<const object::BpfObject> object;
  std::vector<CompiledProgram> programs;  // parallel to object->programs()
  // Indexes into object->maps(): the script's maps come first, in ScriptInfo::maps order.
  size_t events_map = 0, scratch_map = 0;
  std::optional<size_t> kstack_map, ustack_map;
};

struct CodegenOptions {
  uint64_t start_ns = 0;  // CLOCK_MONOTONIC when the script started: `elapsed` counts from here
  uint32_t map_max_entries = 4096;
};

// Throws SemanticError where a construct cannot be compiled (e.g. a probe needing more
// than 512 bytes of stack).
CompiledScript generate_code(const Source& source, std::shared_ptr<const Program> ast, ScriptInfo info,
                             const CodegenOptions& options);

// The kernel's name for a script map: "@x" -> "AT_x", "@" -> "AT_".
std::string bpf_map_name(const std::string& script_name);

}  // namespace bpfkit::lang
