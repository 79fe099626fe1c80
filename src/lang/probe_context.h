// What a program attached to one kind of probe receives: which builtins mean
// something there (args, argN, retval, func), where they live in the BPF context,
// and which address space its pointers point into. The semantic pass asks it what
// is allowed; the code generator asks it where to load from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lang/script_info.h"
#include "object/btf.h"

namespace bpfkit::lang {

struct ArgField {
  Type type;
  FieldInfo info;
};

class ProbeContext {
 public:
  explicit ProbeContext(const ConcreteProbe& probe, const object::Btf* btf = nullptr) : probe_(probe), btf_(btf) {}

  bool has_function() const;
  std::string function_name() const;
  bool has_retval() const;
  // Empty when argN is available here; otherwise the sentence saying why not.
  std::string arg_unavailable(int index) const;
  bool has_args() const;
  uint32_t args_size() const;
  std::optional<ArgField> arg_field(const std::string& name, std::string& error) const;
  // Where str() of an untyped pointer reads from: user memory for uprobes and syscall tracepoints.
  AddrSpace default_space() const;

  // Byte offset of argN / the return value in the context (pt_regs for uprobes, the
  // u64 array of raw tracepoints and fentry/fexit).
  uint32_t arg_offset(int index) const;
  uint32_t retval_offset() const;

 private:
  const ConcreteProbe& probe_;
  const object::Btf* btf_;
};

// Every attach point of every probe, parsed and expanded into concrete probes.
// Throws SemanticError at the attach point that names nothing on this system (or
// names a kind of probe the target lacks).
std::vector<ConcreteProbe> resolve_probes(const Source& source, const Program& program, bool kernel_probes);

// The BPF section of a concrete probe (its program type and how the driver attaches it).
std::string probe_section(const ProbeSpec& spec);

}  // namespace bpfkit::lang
