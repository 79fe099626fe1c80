// libFuzzer target for the trace_pipe line parser: any bytes give a line or
// std::nullopt, never a crash; a parsed line's message is the tail of the input,
// and its canonical form (format_trace_line) is read back into the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "target/linux/trace_pipe_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace lk = bpfkit::target::linux_kernel;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)lk::parse_trace_lost_line(text);
  const auto line = lk::parse_trace_line(text);
  if (!line) return 0;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.size() < line->message.size() ||
      text.substr(text.size() - line->message.size()) != line->message) {
    std::abort();  // the message is what follows the event, verbatim
  }
  if (lk::parse_trace_line(lk::format_trace_line(*line)) != line) std::abort();
  return 0;
}
