// libFuzzer target for the bpf_printk / bpf_snprintf format engine: any format
// text with arguments that are small numbers, readable pointers (a string, an
// address buffer) and unreadable addresses must give a rendering or -EINVAL /
// -ENOSPC, never a crash, and a rendering must only come from a valid format.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "helpers/printk_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const char text[] = "a string argument";
  static const uint8_t addr16[16] = {0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  // The first byte picks each argument's kind (2 bits per argument, for 12 arguments
  // cycling through four kinds); the second how many arguments the call takes.
  const uint8_t kinds = data[0];
  const size_t max_args = data[1] % (bpfkit::helpers::kBprintfMaxArgs + 1);
  uint64_t args[bpfkit::helpers::kBprintfMaxArgs];
  for (size_t i = 0; i < bpfkit::helpers::kBprintfMaxArgs; ++i) {
    switch ((kinds >> (2 * (i % 4))) & 3) {
      case 0:
        args[i] = uint64_t(int64_t(i) - 6);
        break;
      case 1:
        args[i] = reinterpret_cast<uint64_t>(text);
        break;
      case 2:
        args[i] = reinterpret_cast<uint64_t>(addr16);
        break;
      default:
        args[i] = 0x10 + i;
        break;  // never mapped
    }
  }
  std::string_view fmt(reinterpret_cast<const char*>(data + 2), size - 2);
  if (const size_t nul = fmt.find('\0'); nul != std::string_view::npos) fmt = fmt.substr(0, nul);
  std::string out;
  const int err =
      bpfkit::helpers::bprintf_format(fmt, std::span<const uint64_t>(args, max_args), max_args, out);
  if (err != 0 && err != -EINVAL && err != -ENOSPC) std::abort();
  if (err == 0 && fmt.find('%') == std::string_view::npos && out != fmt)
    std::abort();  // plain text is copied
  return 0;
}
