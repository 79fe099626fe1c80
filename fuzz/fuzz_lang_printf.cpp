// libFuzzer target for printf formats: any text either parses (conversions at '%'s inside
// the text, literals and tail adding up) or throws FormatError with an offset inside it;
// a parsed format renders any arguments -- of the right kind, the wrong kind, too few or
// too many -- without crashing, and ends its output with the verbatim tail.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lang/format/printf_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfkit::lang::format;
  if (size < 1) return 0;
  // The first byte picks the arguments' kinds and how many there are.
  const uint8_t mode = data[0];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  PrintfFormat f;
  try {
    f = parse_printf_format(text);
  } catch (const FormatError& e) {
    if (e.offset() >= text.size() || text[e.offset()] == '\0') {
      std::fprintf(stderr, "error offset %zu outside the text: %s\n", e.offset(), e.what());
      std::abort();
    }
    return 0;
  }
  if (f.literals.size() != f.conversions.size()) std::abort();
  for (const Conversion& c : f.conversions) {
    if (c.offset >= text.size() || text[c.offset] != '%' ||
        text.compare(c.offset, c.spec.size(), c.spec) != 0) {
      std::fprintf(stderr, "conversion %s not at offset %zu\n", c.spec.c_str(), c.offset);
      std::abort();
    }
  }
  std::vector<Value> args;
  size_t n = f.conversions.size() + (mode & 3) - 1;  // one too few .. two too many
  if (mode & 3) {
    for (size_t i = 0; i < n && i < 64; ++i) {
      switch ((mode >> 2) % 5) {
        case 0:
          args.emplace_back(int64_t(i) - 3);
          break;
        case 1:
          args.emplace_back(uint64_t(0x8000000000000000ULL) >> i);
          break;
        case 2:
          args.emplace_back(std::string(i, 'a'));
          break;
        case 3:
          args.emplace_back(Buffer{std::string(i, '\x01')});
          break;
        default:
          args.emplace_back(Tuple{int64_t(i), "x"});
          break;
      }
    }
  }
  std::string out = format_printf(f, args);
  if (out.size() < f.tail.size() || out.compare(out.size() - f.tail.size(), f.tail.size(), f.tail) != 0) {
    std::fprintf(stderr, "the tail is not printed verbatim\n");
    std::abort();
  }
  return 0;
}
