#include "lang/source.h"

#include <algorithm>

namespace bpfkit::lang {

std::string_view Source::line_text(uint32_t line) const {
  std::string_view t = text_;
  for (uint32_t l = 1; l < line; ++l) {
    size_t nl = t.find('\n');
    if (nl == std::string_view::npos) return {};
    t.remove_prefix(nl + 1);
  }
  size_t nl = t.find('\n');
  if (nl != std::string_view::npos) t = t.substr(0, nl);
  if (!t.empty() && t.back() == '\r') t.remove_suffix(1);
  return t;
}

std::string format_diagnostic(const Source& source, Location loc, std::string_view message,
                              std::string_view severity) {
  std::string out = source.name() + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": " +
                    std::string(severity) + ": " + std::string(message) + "\n";
  std::string_view line = source.line_text(loc.line);
  out += line;
  out += '\n';
  // Tabs in the prefix are kept so the caret lines up in a terminal.
  uint32_t col = std::max<uint32_t>(loc.column, 1);
  for (uint32_t i = 1; i < col; ++i) out += (i - 1 < line.size() && line[i - 1] == '\t') ? '\t' : ' ';
  out += '^';
  uint32_t room = line.size() >= col ? static_cast<uint32_t>(line.size()) - col + 1 : 1;
  uint32_t len = std::min(std::max<uint32_t>(loc.length, 1), std::max<uint32_t>(room, 1));
  out.append(len - 1, '~');
  out += '\n';
  return out;
}

}  // namespace bpfkit::lang
