// A tracing script's text with its file name, source locations, and compiler-style
// diagnostics: "file:line:col: error: MESSAGE", the source line, and a caret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace bpfkit::lang {

// 1-based line and column; `length` is how many columns the token spans (for `^~~~`).
struct Location {
  uint32_t line = 1;
  uint32_t column = 1;
  uint32_t length = 1;
};

class Source {
 public:
  Source(std::string name, std::string text) : name_(std::move(name)), text_(std::move(text)) {}
  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  // The text of a 1-based line without its newline; empty past the end.
  std::string_view line_text(uint32_t line) const;

 private:
  std::string name_;
  std::string text_;
};

// "name:line:col: error: message\n<line>\n<spaces>^~~\n"
std::string format_diagnostic(const Source& source, Location loc, std::string_view message,
                              std::string_view severity = "error");

// A lexical or syntax error: what() is the full diagnostic.
class SyntaxError : public bpfkit::Error {
 public:
  SyntaxError(const Source& source, Location loc, std::string message)
      : bpfkit::Error(format_diagnostic(source, loc, message)), loc_(loc), message_(std::move(message)) {}
  Location location() const { return loc_; }
  const std::string& message() const { return message_; }

 private:
  Location loc_;
  std::string message_;
};

}  // namespace bpfkit::lang
