// Tokens of one assembly line and the operand readers both syntaxes share.
#include <algorithm>
#include <cstdio>

#include "isa/assembler_parse.h"
#include "isa/opcodes.h"

namespace bpfkit::isa::asm_detail {
namespace {

bool is_ident_start(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.';
}
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
bool is_ident_char(char ch) { return is_ident_start(ch) || is_digit(ch) || ch == '$'; }
bool is_hex_digit(char ch) { return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'); }
bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; }

int hex_value(char ch) {
  if (is_digit(ch)) return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  return ch - 'A' + 10;
}

// Longest first, so that "<<=" wins over "<<" and "<".
constexpr std::string_view kPuncts[] = {
    "<<=", ">>=", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "==", "!=",
    ">=",  "<=",  "<<", ">>", "=",  "+",  "-",  "*",  "/",  "%",  "|",  "&",
    "^",   "<",   ">",  "(",  ")",  "[",  "]",  ",",  ":",  "!",  "~",
};

std::string char_name(char ch) {
  if (ch >= 0x21 && ch < 0x7f) return std::string("'") + ch + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", unsigned(uint8_t(ch)));
  return buf;
}

// Register number of "r7", "w7" or "%r7" (the prefix already stripped); -1 if not all
// digits, and some number above 10 for long digit strings (reported as unknown registers).
int reg_digits(std::string_view digits) {
  if (digits.empty()) return -1;
  int n = 0;
  for (char ch : digits) {
    if (!is_digit(ch)) return -1;
    n = std::min(n * 10 + (ch - '0'), 1000);
  }
  return n;
}

}  // namespace

std::vector<Token> lex_line(std::string_view line, size_t start, int line_no) {
  std::vector<Token> out;
  size_t i = start;
  const size_t n = line.size();
  auto fail = [&](size_t at, const std::string& what) { throw AsmError(line_no, int(at) + 1, what); };
  while (i < n) {
    const char ch = line[i];
    if (is_space(ch)) {
      ++i;
      continue;
    }
    if (ch == '#' || ch == ';' || (ch == '/' && i + 1 < n && line[i + 1] == '/')) break;  // comment
    Token t;
    t.col = int(i) + 1;
    const size_t begin = i;
    if (is_ident_start(ch)) {
      while (i < n && is_ident_char(line[i])) ++i;
      t.kind = Tok::Ident;
    } else if (ch == '%' && i + 1 < n && is_ident_start(line[i + 1])) {
      ++i;
      while (i < n && is_ident_char(line[i])) ++i;
      t.kind = Tok::PercentIdent;
    } else if (is_digit(ch)) {
      t.kind = Tok::Number;
      uint64_t v = 0;
      bool overflow = false;
      if (ch == '0' && i + 2 < n && (line[i + 1] == 'x' || line[i + 1] == 'X') && is_hex_digit(line[i + 2])) {
        t.hex = true;
        i += 2;
        while (i < n && is_hex_digit(line[i])) {
          if (v >> 60) overflow = true;
          v = (v << 4) | uint64_t(hex_value(line[i++]));
        }
      } else {
        while (i < n && is_digit(line[i])) {
          const uint64_t d = uint64_t(line[i++] - '0');
          if (v > (UINT64_MAX - d) / 10) overflow = true;
          v = v * 10 + d;
        }
      }
      if (i < n && is_ident_char(line[i])) {  // "12ab", "0f", "0x": not a number
        while (i < n && is_ident_char(line[i])) ++i;
        fail(begin, "malformed number '" + std::string(line.substr(begin, i - begin)) +
                        "' (write decimal 42 or hex 0x2a)");
      }
      if (overflow)
        fail(begin, "number '" + std::string(line.substr(begin, i - begin)) + "' does not fit in 64 bits");
      t.value = v;
    } else {
      for (std::string_view p : kPuncts) {
        if (line.substr(i, p.size()) == p) {
          t.kind = Tok::Punct;
          i += p.size();
          break;
        }
      }
      if (t.kind != Tok::Punct) fail(i, "unexpected character " + char_name(ch));
    }
    t.text = line.substr(begin, i - begin);
    out.push_back(t);
  }
  Token end;
  end.kind = Tok::End;
  end.col = int(std::min(i, n)) + 1;
  out.push_back(end);
  return out;
}

std::string Cursor::describe(const Token& t) {
  if (t.kind == Tok::End) return "the end of the line";
  return "'" + std::string(t.text) + "'";
}

void Cursor::expect_punct(std::string_view p, std::string_view context) {
  if (accept_punct(p)) return;
  fail_here("expected '" + std::string(p) + "' " + std::string(context) + ", found " + describe(peek()));
}

void Cursor::expect_ident(std::string_view s, std::string_view context) {
  if (accept_ident(s)) return;
  fail_here("expected '" + std::string(s) + "' " + std::string(context) + ", found " + describe(peek()));
}

void Cursor::expect_end(std::string_view form) {
  if (at_end()) return;
  fail_here("unexpected " + describe(peek()) + " after the instruction (the form is '" + std::string(form) +
            "')");
}

bool Cursor::at_reg(size_t k) const {
  const Token& t = peek(k);
  if (t.kind == Tok::PercentIdent) return true;
  if (t.kind != Tok::Ident || t.text.size() < 2) return false;
  return (t.text[0] == 'r' || t.text[0] == 'w') && reg_digits(t.text.substr(1)) >= 0;
}

Reg Cursor::reg(std::string_view what) {
  const Token& t = peek();
  if (t.kind == Tok::PercentIdent) {
    const int num = t.text.size() > 2 && t.text[1] == 'r' ? reg_digits(t.text.substr(2)) : -1;
    if (num < 0 || num >= kRegCount)
      fail_here("unknown register '" + std::string(t.text) + "' (registers are %r0-%r10)");
    next();
    return {uint8_t(num), false, t.col};
  }
  if (at_reg()) {
    const int num = reg_digits(t.text.substr(1));
    if (num >= kRegCount) {
      fail_here("unknown register '" + std::string(t.text) + "' (registers are " + t.text[0] + "0-" +
                t.text[0] + "10)");
    }
    next();
    return {uint8_t(num), t.text[0] == 'w', t.col};
  }
  fail_here("expected " + std::string(what) + " (r0-r10), found " + describe(t));
}

bool Cursor::at_literal() const {
  if (peek().kind == Tok::Number) return true;
  return (is_punct("-") || is_punct("+")) && peek(1).kind == Tok::Number;
}

Literal Cursor::literal(std::string_view what) {
  Literal l;
  l.col = peek().col;
  if (is_punct("-") || is_punct("+")) {
    l.neg = peek().text == "-";
    if (l.neg) l.text = "-";
    next();
  }
  const Token& t = peek();
  if (t.kind != Tok::Number) fail_here("expected " + std::string(what) + ", found " + describe(t));
  l.mag = t.value;
  l.hex = t.hex;
  l.text += std::string(t.text);
  next();
  return l;
}

void Cursor::skip_annotation() {
  if (!is_punct("<") || peek(1).kind != Tok::Ident) return;
  size_t k = 2;
  while (peek(k).kind != Tok::End && !is_punct(">", k)) ++k;
  if (!is_punct(">", k)) return;
  for (size_t i = 0; i <= k; ++i) next();
}

Target Cursor::target(std::string_view what) {
  Target t;
  t.col = peek().col;
  if (peek().kind == Tok::Ident && !at_reg()) {
    t.is_label = true;
    t.label = std::string(next().text);
  } else if (at_literal()) {
    Literal l = literal(what);
    if (l.mag > (uint64_t(1) << 40)) fail(l.col, std::string(what) + " " + l.text + " is far out of range");
    t.offset = l.neg ? -int64_t(l.mag) : int64_t(l.mag);
  } else {
    fail_here("expected " + std::string(what) + " (+N, -N or a label), found " + describe(peek()));
  }
  skip_annotation();
  return t;
}

bool fits_imm32(const Literal& l) {
  if (l.neg) return l.mag <= (uint64_t(1) << 31);
  return l.mag <= (l.hex ? 0xffffffffu : 0x7fffffffu);
}

int32_t imm32_of(const Cursor& c, const Literal& l, std::string_view what) {
  if (fits_imm32(l)) return l.neg ? int32_t(-int64_t(l.mag)) : int32_t(uint32_t(l.mag));
  c.fail(l.col, std::string(what) + " " + l.text +
                    " does not fit in 32 bits (-2147483648 to 2147483647, or up to 0xffffffff in hex)");
}

int16_t off16_of(const Cursor& c, const Literal& l, std::string_view what) {
  if (l.neg ? l.mag <= 32768 : l.mag <= 32767) return int16_t(l.neg ? -int64_t(l.mag) : int64_t(l.mag));
  c.fail(l.col, std::string(what) + " " + l.text + " does not fit in 16 bits (-32768 to 32767)");
}

int32_t off32_of(const Cursor& c, const Literal& l, std::string_view what) {
  if (l.neg ? l.mag <= (uint64_t(1) << 31) : l.mag <= 0x7fffffffu)
    return int32_t(l.neg ? -int64_t(l.mag) : int64_t(l.mag));
  c.fail(l.col, std::string(what) + " " + l.text + " does not fit in 32 bits (-2147483648 to 2147483647)");
}

uint64_t imm64_of(const Cursor& c, const Literal& l) {
  if (!l.neg) return l.mag;
  if (l.mag <= (uint64_t(1) << 63)) return uint64_t(0) - l.mag;
  c.fail(l.col, "64-bit immediate " + l.text + " is below -9223372036854775808");
}

int16_t target16_of(const Cursor& c, const Target& t, std::string_view what) {
  if (t.is_label) return 0;  // patched after layout
  if (t.offset < -32768 || t.offset > 32767)
    c.fail(t.col,
           std::string(what) + " " + std::to_string(t.offset) + " does not fit in 16 bits (-32768 to 32767)");
  return int16_t(t.offset);
}

int32_t target32_of(const Cursor& c, const Target& t, std::string_view what) {
  if (t.is_label) return 0;
  if (t.offset < INT32_MIN || t.offset > INT32_MAX)
    c.fail(t.col, std::string(what) + " " + std::to_string(t.offset) + " does not fit in 32 bits");
  return int32_t(t.offset);
}

Parsed parse_call(Cursor& c) {
  const Token& kw = c.next();  // "call" or "callx"
  if (kw.text == "callx" || c.at_reg()) {
    Reg r = c.reg("the register holding the helper id");
    c.expect_end(kw.text == "callx" ? "callx r2" : "call %r2");
    return {CallX{r.num}, std::nullopt};
  }
  if (c.accept_ident("local")) {  // uBPF: call local LABEL / call local +3
    Target t = c.target("call target");
    c.expect_end("call local LABEL");
    return {Call{CallKind::Local, target32_of(c, t, "call offset")},
            t.is_label ? std::optional(t) : std::nullopt};
  }
  if (c.is_ident("pc") && (c.is_punct("+", 1) || c.is_punct("-", 1))) {  // kernel: call pc+3
    c.next();
    Target t = c.target("call offset");
    c.expect_end("call pc+N");
    return {Call{CallKind::Local, target32_of(c, t, "call offset")}, std::nullopt};
  }
  if (c.is_ident("kfunc") && c.is_punct("(", 1)) {
    c.next();
    c.next();
    const int32_t id = imm32_of(c, c.literal("a kfunc BTF id"), "kfunc BTF id");
    int16_t btf_fd_idx = 0;  // optional: the module BTF's index in fd_array
    if (c.accept_punct(",")) btf_fd_idx = off16_of(c, c.literal("an fd_array index"), "fd_array index");
    c.expect_punct(")", "after the kfunc BTF id");
    c.expect_end("call kfunc(ID) or call kfunc(ID, FD_ARRAY_INDEX)");
    return {Call{CallKind::Kfunc, id, btf_fd_idx}, std::nullopt};
  }
  if (c.is_punct("+")) {
    c.fail_here("ambiguous call target: write 'call pc+N' for a bpf-to-bpf call or 'call N' for helper N");
  }
  if (c.at_literal()) {
    Literal id = c.literal("a helper id");
    c.expect_end("call HELPER_ID");
    return {Call{CallKind::Helper, imm32_of(c, id, "helper id")}, std::nullopt};
  }
  if (c.peek().kind == Tok::Ident) {  // a label: bpf-to-bpf call
    Target t = c.target("call target");
    c.expect_end("call LABEL");
    return {Call{CallKind::Local, 0}, t};
  }
  c.fail_here(
      "expected a helper id, 'pc+N', 'local LABEL', a label, 'kfunc(ID)' or a register after 'call', "
      "found " +
      Cursor::describe(c.peek()));
}

}  // namespace bpfkit::isa::asm_detail
