// libFuzzer target: arbitrary text as a bpftrace script. The parser may only throw
// SyntaxError (with a location inside the text); what it accepts must print to text
// that parses again to the same canonical form.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lang/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfkit::lang;
  std::string text(reinterpret_cast<const char*>(data), size);
  Program program;
  try {
    program = parse_program(Source("fuzz.bt", text));
  } catch (const SyntaxError& e) {
    uint32_t lines = 1;
    for (char c : text) lines += c == '\n';
    if (e.location().line < 1 || e.location().line > lines || e.location().column < 1) {
      std::fprintf(stderr, "error located outside the text: %s\n", e.what());
      std::abort();
    }
    return 0;
  }
  std::string printed = print_program(program);
  try {
    std::string again = print_program(parse_program(Source("printed.bt", printed)));
    if (again != printed) {
      std::fprintf(stderr, "printing is not a fixed point:\n%s\n---\n%s\n", printed.c_str(), again.c_str());
      std::abort();
    }
  } catch (const SyntaxError& e) {
    std::fprintf(stderr, "printed text does not parse: %s\n%s\n", e.what(), printed.c_str());
    std::abort();
  }
  return 0;
}
