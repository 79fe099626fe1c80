// libFuzzer target: arbitrary text as a tracefs format file. It may only throw
// bpfkit::Error; what it accepts must be self-consistent.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/tracepoint_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfkit::core;
  TracepointFormat fmt;
  try {
    fmt = parse_tracepoint_format(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const bpfkit::Error&) {
    return 0;
  }
  uint32_t end = 0;
  for (const TracepointField& f : fmt.fields) {
    if (f.name.empty() || fmt.find(f.name) != &f) {
      std::fprintf(stderr, "field '%s' is unnamed or not found by its name\n", f.name.c_str());
      std::abort();
    }
    if ((f.data_loc || f.rel_loc) && f.size != 4) {
      std::fprintf(stderr, "__data_loc field '%s' of %u bytes accepted\n", f.name.c_str(), f.size);
      std::abort();
    }
    if (f.offset + f.size > end) end = f.offset + f.size;
  }
  if (fmt.size() != end) {
    std::fprintf(stderr, "size() %u, fields end at %u\n", fmt.size(), end);
    std::abort();
  }
  return 0;
}
