// CO-RE ("compile once, run everywhere"): rewrites the instructions that clang
// marked with .BTF.ext CO-RE relocation records so that field offsets, sizes,
// existence, signedness, type ids/sizes/existence and enum values match a target
// BTF (normally the running kernel's) instead of the headers the program was
// compiled against. Candidate types are found by name with libbpf's rule that a
// "___suffix" (struct task_struct___old) is ignored, and are checked for
// compatibility along the access string.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "isa/instruction.h"
#include "object/btf.h"
#include "object/btf_ext.h"

namespace bpfkit::object {

// A relocation that cannot be applied: names the section, the instruction, the
// relocation kind and the access string ("struct task_struct::pid (0:5)").
class CoreRelocationError : public Error {
 public:
  using Error::Error;
};

// The outcome of one relocation, for logs and tests.
struct CoreRelocationResult {
  size_t insn = 0;          // slot index in the section
  uint32_t kind = 0;        // enum bpf_core_relo_kind
  std::string description;  // e.g. "field_byte_offset struct task_struct.pid: 1234 -> 2468"
  uint64_t local_value = 0, target_value = 0;
  bool poisoned = false;  // no candidate: the instruction was turned into a call to an
                          // invalid helper id (0xbad2310), as libbpf does, so only a
                          // path that reaches it fails
};

// Applies the records of one section (`insns` is that section's code, indexed by
// byte offset / 8 as the records are). `local` is the object's BTF, `target` the
// BTF to relocate against.
std::vector<CoreRelocationResult> apply_core_relocations(std::span<isa::RawInsn> insns, const std::string& section,
                                                         const Btf& local,
                                                         const std::vector<BtfCoreRelo>& relocations,
                                                         const Btf& target);

}  // namespace bpfkit::object
