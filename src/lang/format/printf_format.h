// printf() formats as bpftrace 0.17 reads and prints them. The semantic pass parses the
// format (parse_printf_format, printf_args_error); at run time format_printf renders the
// arguments read back from the event.
//
// bpftrace 0.17's rules, checked against it:
// - a conversion is '%', an optional '-', digits (zeros first are the 0 flag, then the
//   width), an optional '.digits' precision, then one of d u x X o p with an optional
//   length hh h l ll z j t, or c, s, r, rx, rh. Anything else ('%i', '%+d', '% d', '%#x',
//   '%e', '%.d', '%lc') is not a conversion and consumes no argument.
// - the text is cut after each conversion; each piece is printed by the C library with its
//   one argument, so "%%" there prints '%' -- but the text after the last conversion is
//   printed verbatim ("%d%%" prints "5%%", "100%%" without conversions prints "100%%").
// - a conversion written right after a '%' ("%%d") still takes an argument, which is not
//   printed: the C library sees "%%" and a literal "d".
// - without a length (or with h / hh) an integer is printed from its low 32 (16 / 8) bits,
//   as C's printf reads an int: "%d" of 1<<40 is 0, "%u" of -1 is 4294967295.
// - %c of 0 prints nothing (the piece ends at the NUL byte), %p of 0 prints "(nil)".
// - %r/%rx/%rh print a buf() (escaped text / \xNN for every byte / "61 62" hex); written
//   with flags, width or precision ("%10r") they print the conversion's text instead.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "lang/format/value.h"

namespace bpfkit::lang::format {

// What a conversion consumes. bpftrace's type names: integer (Integer, Char, Pointer),
// string (String), buffer (Buffer).
enum class ArgKind { Integer, String, Char, Pointer, Buffer };
std::string_view arg_kind_type_name(ArgKind kind);

// C length modifiers; they decide how many bits of an integer are printed.
enum class LengthMod { None, HH, H, L, LL, Z, J, T };

struct Conversion {
  size_t offset = 0;  // of '%' in the format text
  std::string spec;   // as written: "%-10lu"
  std::string token;  // length and letter: "lu", "rx" (bpftrace's messages name "%lu")
  char letter = 'd';  // d u x X o p c s r (the first letter of rx/rh)
  ArgKind kind = ArgKind::Integer;
  bool left = false;      // '-'
  bool zero_pad = false;  // a leading 0 in the digits
  int width = -1;         // -1: none
  int precision = -1;     // -1: none
  LengthMod length = LengthMod::None;
  char buffer_style = 0;       // for r: 0 (%r), 'x' (%rx), 'h' (%rh)
  bool after_percent = false;  // written right after a '%': takes an argument, prints its text
};

struct PrintfFormat {
  std::string text;
  std::vector<Conversion> conversions;
  // literals[i]: what the C library prints for the text between conversion i-1 and i
  // ("%%" collapsed); tail: the text after the last conversion, printed verbatim.
  std::vector<std::string> literals;
  std::string tail;
};

// A format bpftrace would accept but print wrongly: a '%' before a conversion that starts
// no conversion ("%i %d" -- the C library would consume the argument for "%i"); also a
// width or precision over 65535.
class FormatError : public bpfkit::Error {
 public:
  FormatError(size_t offset, std::string message);
  size_t offset() const { return offset_; }  // in the format text
  const std::string& message() const { return message_; }

 private:
  size_t offset_;
  std::string message_;
};

PrintfFormat parse_printf_format(std::string_view fmt);

// bpftrace's semantic check of printf arguments: "" when they fit, else its message, e.g.
// "printf: Not enough arguments for format string (1 supplied, 2 expected)" or
// "printf: %s specifier expects a value of type string (integer supplied)".
// supplied: each argument's type as bpftrace names it: "integer", "string" (also ksym,
// usym, stacks, inet, probe, username, strftime), "buffer", "tuple", ...
std::string printf_args_error(const PrintfFormat& f, std::span<const std::string_view> supplied);

// Renders the arguments. Never throws: a missing argument prints the conversion's text,
// a value of the wrong kind is printed as format_value shows it (with the width), extra
// arguments are ignored. Buffer arguments are Value{Buffer{bytes}}.
std::string format_printf(const PrintfFormat& f, std::span<const Value> args);

}  // namespace bpfkit::lang::format
