// What one run of a program may touch and call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/helpers.h"

namespace bpfkit::core {

// A block of memory a program may access in checked mode (the stack is implicit).
struct MemoryRegion {
  uint64_t begin = 0;
  uint64_t size = 0;
  bool writable = true;
};

struct ExecEnv {
  const HelperTable* helpers = &HelperTable::standard();
  std::vector<MemoryRegion> regions;  // ctx/packet/helper memory; checked mode only

  // A helper sets `abort` to stop the program; the run then returns r0 = 0, or
  // fails with `abort_reason` when that is not empty.
  bool abort = false;
  std::string abort_reason;

  // Lets a helper (e.g. one returning a pointer) grant access in checked mode.
  void allow(uint64_t begin, uint64_t size, bool writable) { regions.push_back({begin, size, writable}); }
};

}  // namespace bpfkit::core
