// libFuzzer target: arbitrary text as a probe's attach point. parse_probe_spec may only
// throw ProbeSpecError located inside the text (or just past its end); a spec it accepts
// without quotes or wildcards must print (canonical()) to text that parses to the same spec.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lang/probe_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfkit::lang;
  const std::string text(reinterpret_cast<const char*>(data), size);
  ProbeSpec spec;
  try {
    spec = parse_probe_spec(text);
  } catch (const ProbeSpecError& e) {
    if (e.column_offset() > text.size() || e.message().empty()) {
      std::fprintf(stderr, "error at column %zu of a %zu-byte text: %s\n", e.column_offset(), text.size(),
                   e.what());
      std::abort();
    }
    return 0;
  }
  (void)wildcard_match(spec.function, spec.target);
  if (text.find('"') != std::string::npos || spec.has_wildcard()) return 0;
  const std::string printed = spec.canonical();
  try {
    if (!(parse_probe_spec(printed) == spec)) {
      std::fprintf(stderr, "'%s' prints as '%s', which parses to another spec\n", text.c_str(),
                   printed.c_str());
      std::abort();
    }
  } catch (const ProbeSpecError& e) {
    std::fprintf(stderr, "'%s' prints as '%s', which does not parse: %s\n", text.c_str(), printed.c_str(),
                 e.what());
    std::abort();
  }
  return 0;
}
