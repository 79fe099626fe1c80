#include "lang/format/printf_format.h"

#include <algorithm>
#include <array>

namespace bpfkit::lang::format {
namespace {

// Widths and precisions beyond this are refused: bpftrace would print megabytes of padding.
constexpr int kMaxWidth = 65535;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct TokenInfo {
  std::string_view token;
  LengthMod length;
};

// The length modifiers bpftrace 0.17 accepts before d u x X o p, longest first so that
// "hhd" is not read as "h" + "hd".
constexpr std::array<TokenInfo, 8> kLengths = {{{"hh", LengthMod::HH},
                                                {"ll", LengthMod::LL},
                                                {"h", LengthMod::H},
                                                {"l", LengthMod::L},
                                                {"z", LengthMod::Z},
                                                {"j", LengthMod::J},
                                                {"t", LengthMod::T},
                                                {"", LengthMod::None}}};

bool starts_with(std::string_view s, size_t at, std::string_view prefix) {
  return s.substr(at, prefix.size()) == prefix;
}

// Reads the token (length + letter) at `at`; returns its size, 0 when there is none.
size_t match_token(std::string_view fmt, size_t at, Conversion& c) {
  // Buffers first, with %rx / %rh before %r.
  for (std::string_view t : {"rx", "rh", "r"}) {
    if (starts_with(fmt, at, t)) {
      c.letter = 'r';
      c.kind = ArgKind::Buffer;
      c.buffer_style = t.size() == 2 ? t[1] : 0;
      return t.size();
    }
  }
  if (at < fmt.size() && (fmt[at] == 'c' || fmt[at] == 's')) {
    c.letter = fmt[at];
    c.kind = fmt[at] == 'c' ? ArgKind::Char : ArgKind::String;
    return 1;
  }
  for (const TokenInfo& len : kLengths) {
    if (!starts_with(fmt, at, len.token)) continue;
    size_t l = at + len.token.size();
    if (l >= fmt.size()) continue;
    char letter = fmt[l];
    if (letter == 'd' || letter == 'u' || letter == 'x' || letter == 'X' || letter == 'o' || letter == 'p') {
      c.letter = letter;
      c.kind = letter == 'p' ? ArgKind::Pointer : ArgKind::Integer;
      c.length = len.length;
      return len.token.size() + 1;
    }
  }
  return 0;
}

// bpftrace's conversion pattern at `p` (a '%'): -?[0-9]*(\.[0-9]+)?TOKEN. Returns the end.
size_t match_conversion(std::string_view fmt, size_t p, Conversion& c) {
  size_t i = p + 1;
  if (i < fmt.size() && fmt[i] == '-') {
    c.left = true;
    ++i;
  }
  while (i < fmt.size() && fmt[i] == '0') {
    c.zero_pad = true;
    ++i;
  }
  size_t width_at = i;
  long long width = -1;
  while (i < fmt.size() && is_digit(fmt[i])) {
    width = std::min<long long>((width < 0 ? 0 : width) * 10 + (fmt[i] - '0'), 1LL << 40);
    ++i;
  }
  long long precision = -1;
  size_t precision_at = i;
  if (i + 1 < fmt.size() && fmt[i] == '.' && is_digit(fmt[i + 1])) {
    ++i;
    precision = 0;
    while (i < fmt.size() && is_digit(fmt[i])) {
      precision = std::min<long long>(precision * 10 + (fmt[i] - '0'), 1LL << 40);
      ++i;
    }
  }
  size_t token_at = i;
  size_t n = match_token(fmt, i, c);
  if (n == 0) return 0;
  if (width > kMaxWidth) {
    throw FormatError(width_at, "printf: width " +
                                    std::string(fmt.substr(width_at, precision_at - width_at)) +
                                    " is too large (at most " + std::to_string(kMaxWidth) + ")");
  }
  if (precision > kMaxWidth) {
    throw FormatError(precision_at,
                      "printf: precision " +
                          std::string(fmt.substr(precision_at + 1, token_at - precision_at - 1)) +
                          " is too large (at most " + std::to_string(kMaxWidth) + ")");
  }
  c.width = int(width);
  c.precision = int(precision);
  c.offset = p;
  c.token = std::string(fmt.substr(token_at, n));
  c.spec = std::string(fmt.substr(p, token_at + n - p));
  return token_at + n;
}

// The text of what looks like a conversion at `p`, for messages: '%', flags, digits, letters.
std::string bad_conversion_text(std::string_view fmt, size_t p) {
  size_t i = p + 1;
  while (i < fmt.size() && i - p < 12 &&
         std::string_view("-+ #0123456789.'*").find(fmt[i]) != std::string_view::npos) {
    ++i;
  }
  while (i < fmt.size() && i - p < 12 &&
         ((fmt[i] >= 'a' && fmt[i] <= 'z') || (fmt[i] >= 'A' && fmt[i] <= 'Z'))) {
    ++i;
    if (fmt[i - 1] != 'h' && fmt[i - 1] != 'l') break;  // stop after the conversion letter
  }
  return std::string(fmt.substr(p, i - p));
}

std::string pad(std::string body, int width, bool left) {
  if (width < 0 || body.size() >= size_t(width)) return body;
  std::string fill(size_t(width) - body.size(), ' ');
  return left ? body + fill : fill + body;
}

std::string to_base(uint64_t v, unsigned base, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  if (v == 0) return "0";
  std::string out;
  while (v) {
    out.insert(out.begin(), digits[v % base]);
    v /= base;
  }
  return out;
}

// An integer conversion as glibc prints it; `bits` already widened to 64 bits.
std::string render_integer(const Conversion& c, uint64_t bits) {
  unsigned size = 64;
  if (c.letter != 'p') {
    if (c.length == LengthMod::None) size = 32;
    if (c.length == LengthMod::H) size = 16;
    if (c.length == LengthMod::HH) size = 8;
  }
  uint64_t mask = size == 64 ? ~uint64_t{0} : (uint64_t{1} << size) - 1;
  uint64_t magnitude = bits & mask;
  bool negative = false;
  if (c.letter == 'd' && size < 64 && (magnitude >> (size - 1)) & 1) {
    negative = true;
    magnitude = (~magnitude + 1) & mask;
  } else if (c.letter == 'd' && size == 64 && int64_t(magnitude) < 0) {
    negative = true;
    magnitude = ~magnitude + 1;
  }
  if (c.letter == 'p' && magnitude == 0) return pad("(nil)", c.width, c.left);

  unsigned base = 10;
  if (c.letter == 'x' || c.letter == 'X' || c.letter == 'p') base = 16;
  if (c.letter == 'o') base = 8;
  std::string digits = to_base(magnitude, base, c.letter == 'X');
  if (c.precision >= 0) {
    if (c.precision == 0 && magnitude == 0) digits.clear();
    if (digits.size() < size_t(c.precision)) digits.insert(0, size_t(c.precision) - digits.size(), '0');
  }
  std::string prefix = negative ? "-" : c.letter == 'p' ? "0x" : "";
  if (!c.left && c.zero_pad && c.precision < 0 && c.width > 0 &&
      prefix.size() + digits.size() < size_t(c.width)) {
    digits.insert(0, size_t(c.width) - prefix.size() - digits.size(), '0');
  }
  return pad(prefix + digits, c.width, c.left);
}

std::string render_buffer(const Conversion& c, std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  if (c.buffer_style == 0) return escape_buffer(bytes);
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    if (c.buffer_style == 'x') {
      out += "\\x";
    } else if (i) {
      out += ' ';
    }
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// What the C library prints for one conversion with its argument.
std::string render_conversion(const Conversion& c, const Value* arg) {
  bool plain = c.spec.size() == c.token.size() + 1;  // no flags, width or precision
  if (c.after_percent) {
    // "%%d": the C library printed '%' and now sees the rest as text. bpftrace had
    // rewritten a plain %r / %rx / %rh to %s first.
    return c.kind == ArgKind::Buffer && plain ? "s" : c.spec.substr(1);
  }
  if (c.kind == ArgKind::Buffer && !plain) return c.spec;  // not a %s after bpftrace's rewrite
  if (!arg) return c.spec;

  const auto* text = std::get_if<std::string>(&arg->v);
  switch (c.kind) {
    case ArgKind::Integer:
    case ArgKind::Pointer:
      if (arg->is_integer()) return render_integer(c, arg->bits());
      break;
    case ArgKind::Char:
      if (arg->is_integer()) return pad(std::string(1, char(arg->bits() & 0xff)), c.width, c.left);
      break;
    case ArgKind::String:
      if (text) {
        std::string s = c.precision >= 0 ? text->substr(0, size_t(c.precision)) : *text;
        return pad(std::move(s), c.width, c.left);
      }
      break;
    case ArgKind::Buffer:
      if (const auto* b = std::get_if<Buffer>(&arg->v)) return render_buffer(c, b->bytes);
      if (text) return render_buffer(c, *text);
      break;
  }
  return pad(format_value(*arg), c.width, c.left);  // a value of the wrong kind
}

}  // namespace

FormatError::FormatError(size_t offset, std::string message)
    : bpfkit::Error("format string offset " + std::to_string(offset) + ": " + message),
      offset_(offset),
      message_(std::move(message)) {}

std::string_view arg_kind_type_name(ArgKind kind) {
  switch (kind) {
    case ArgKind::String:
      return "string";
    case ArgKind::Buffer:
      return "buffer";
    default:
      return "integer";
  }
}

PrintfFormat parse_printf_format(std::string_view fmt) {
  PrintfFormat f;
  f.text = std::string(fmt);
  // Like bpftrace's regex search: try every '%' not inside an earlier match.
  for (size_t p = 0; p < fmt.size(); ++p) {
    if (fmt[p] != '%') continue;
    Conversion c;
    size_t end = match_conversion(fmt, p, c);
    if (end == 0) continue;
    f.conversions.push_back(std::move(c));
    p = end - 1;
  }
  // The C library's view of the text before each conversion: "%%" is '%', any other
  // '%' would start a conversion of its own and take this piece's argument.
  size_t pos = 0;
  for (Conversion& c : f.conversions) {
    std::string literal;
    for (size_t i = pos; i < c.offset; ++i) {
      if (fmt[i] != '%') {
        literal += fmt[i];
      } else if (i + 1 == c.offset) {
        literal += '%';
        c.after_percent = true;
      } else if (fmt[i + 1] == '%') {
        literal += '%';
        ++i;
      } else {
        throw FormatError(i, "printf: '" + bad_conversion_text(fmt, i) +
                                 "' is not a conversion bpftrace supports (d u x X o p with - 0 width "
                                 ".precision and hh h l ll z j t; c s r rx rh); write %% for a '%'");
      }
    }
    f.literals.push_back(std::move(literal));
    pos = c.offset + c.spec.size();
  }
  f.tail = std::string(fmt.substr(pos));
  return f;
}

std::string printf_args_error(const PrintfFormat& f, std::span<const std::string_view> supplied) {
  size_t expected = f.conversions.size();
  auto counts =
      " (" + std::to_string(supplied.size()) + " supplied, " + std::to_string(expected) + " expected)";
  if (supplied.size() < expected) return "printf: Not enough arguments for format string" + counts;
  if (supplied.size() > expected) return "printf: Too many arguments for format string" + counts;
  for (size_t i = 0; i < expected; ++i) {
    std::string_view want = arg_kind_type_name(f.conversions[i].kind);
    if (supplied[i] != want) {
      return "printf: %" + f.conversions[i].token + " specifier expects a value of type " +
             std::string(want) + " (" + std::string(supplied[i]) + " supplied)";
    }
  }
  return "";
}

std::string format_printf(const PrintfFormat& f, std::span<const Value> args) {
  std::string out;
  for (size_t i = 0; i < f.conversions.size(); ++i) {
    std::string piece = (i < f.literals.size() ? f.literals[i] : std::string()) +
                        render_conversion(f.conversions[i], i < args.size() ? &args[i] : nullptr);
    // Each piece is a C string: a NUL from %c 0 (or inside a string) ends it.
    out.append(piece.data(), std::min(piece.size(), piece.find('\0')));
  }
  out += f.tail;
  return out;
}

}  // namespace bpfkit::lang::format
