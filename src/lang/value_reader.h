// Reads a compiled script's values back in user space: the bytes of an event record
// or a map key/value, decoded by their script type into format::Values (stacks and
// symbols resolved to text), and whole maps as format::MapSnapshots (per-CPU values
// combined, histogram buckets gathered per key).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>

#include "lang/codegen.h"
#include "lang/format/map_output.h"
#include "lang/format/printf_format.h"
#include "target/linux/kernel_symbols.h"
#include "target/linux/user_symbols.h"
#include "target/target.h"

namespace bpfkit::lang {

class ValueReader {
 public:
  ValueReader(const CompiledScript& script, target::LoadedObject& loaded);

  // `stack_indent`: how far stack frames are indented (8 in printf, 4 in map keys).
  format::Value decode(const Type& type, std::span<const uint8_t> bytes, int stack_indent = 8);
  format::MapSnapshot snapshot(size_t map_index);
  // clear(): every key deleted; zero(): every value zeroed, keys kept.
  void clear(size_t map_index);
  void zero(size_t map_index);

 private:
  std::vector<uint64_t> stack_frames(bool user, uint32_t id);
  const target::linux_kernel::KernelSymbols& kernel_symbols();
  const target::linux_kernel::UserSymbols& user_symbols(int pid);
  std::vector<std::vector<uint8_t>> keys_of(target::MapHandle& map);

  const CompiledScript& script_;
  target::LoadedObject& loaded_;
  std::vector<target::MapHandle*> maps_;
  std::optional<target::linux_kernel::KernelSymbols> ksyms_;
  std::map<int, std::unique_ptr<target::linux_kernel::UserSymbols>> usyms_;
};

}  // namespace bpfkit::lang
