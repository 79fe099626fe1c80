// An object's BTF in the kernel: BPF_BTF_LOAD of the (libbpf-fixed) .BTF bytes, and
// a program's func_info / line_info turned into the records BPF_PROG_LOAD takes, so
// the kernel's verifier log, `prog dump` and bpftool show function names and C lines.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "object/bpf_object.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {

// Loads raw BTF; throws BpfError with the kernel's BTF log on refusal.
UniqueFd load_btf(std::span<const uint8_t> blob);

// String offsets of a raw BTF blob's string section (the first offset of each
// distinct string), to point line_info at the file names and source lines.
class BtfStrings {
 public:
  explicit BtfStrings(std::span<const uint8_t> blob);
  // The offset of `s`, or nullopt when the blob has no such string.
  std::optional<uint32_t> offset_of(std::string_view s) const;

 private:
  std::unordered_map<std::string_view, uint32_t> offsets_;
};

struct ProgramBtfInfo {
  std::vector<bpf_func_info> funcs;
  std::vector<bpf_line_info> lines;  // empty when a line's strings are not in the BTF
};

// The kernel's records for `program` (instruction indexes, FUNC type ids, string offsets).
ProgramBtfInfo program_btf_info(const object::ProgramDefinition& program, const BtfStrings& strings);

}  // namespace bpfkit::target::linux_kernel
