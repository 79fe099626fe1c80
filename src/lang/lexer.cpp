#include "lang/lexer.h"

#include <array>
#include <cctype>
#include <string_view>

namespace bpfkit::lang {
namespace {

constexpr std::string_view kKeywords[] = {"if",     "else",  "unroll",   "while",  "for",
                                          "return", "break", "continue", "sizeof", "offsetof",
                                          "struct", "union", "enum",     "let"};

// Longest first so that maximal munch is a simple first-match scan.
constexpr std::string_view kPuncts[] = {
    "<<=", ">>=", "..", "->", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "==", "!=",
    "<=",  ">=",  "&&", "||", "<<", ">>", "::", "+",  "-",  "*",  "/",  "%",  "&",  "|",  "^",  "!",
    "~",   "<",   ">",  "=",  "?",  ":",  ".",  ",",  ";",  "(",  ")",  "[",  "]",  "{"};

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
 public:
  Lexer(const Source& source, LexStart start)
      : src_(source), text_(source.text()), mode_(start == LexStart::kCode ? Mode::kCode : Mode::kProbes) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skip_space_and_comments();
      if (pos_ >= text_.size()) break;
      out.push_back(next());
    }
    Token end;
    end.kind = TokenKind::kEnd;
    end.loc = here();
    out.push_back(end);
    return out;
  }

 private:
  // Where the lexer is, which decides what a '/' or a word means.
  enum class Mode { kProbes, kPredicate, kBlock, kCode };

  Location here(uint32_t length = 1) const { return Location{line_, col_, length}; }

  [[noreturn]] void fail(Location loc, const std::string& msg) { throw SyntaxError(src_, loc, msg); }

  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  bool at_line_start() const {
    for (size_t i = pos_; i > 0; --i) {
      char c = text_[i - 1];
      if (c == '\n') return true;
      if (c != ' ' && c != '\t') return false;
    }
    return true;
  }

  void skip_space_and_comments() {
    for (;;) {
      if (pos_ >= text_.size()) return;
      char c = peek();
      if (is_space(c)) {
        advance();
      } else if (c == '/' && peek(1) == '/') {
        while (pos_ < text_.size() && peek() != '\n') advance();
      } else if (c == '/' && peek(1) == '*') {
        Location start = here(2);
        advance();
        advance();
        for (;;) {
          if (pos_ >= text_.size()) fail(start, "unterminated comment; close it with '*/'");
          if (peek() == '*' && peek(1) == '/') {
            advance();
            advance();
            break;
          }
          advance();
        }
      } else {
        return;
      }
    }
  }

  Token make(TokenKind kind, std::string text, Location loc) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.loc = loc;
    t.loc.length = static_cast<uint32_t>(pos_ - start_);
    if (t.loc.length == 0) t.loc.length = 1;
    return t;
  }

  Token next() {
    start_ = pos_;
    Location loc = here();
    char c = peek();
    if (c == '#' && at_line_start()) {
      while (pos_ < text_.size() && peek() != '\n') advance();
      std::string line(text_.substr(start_, pos_ - start_));
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.pop_back();
      return make(TokenKind::kDirective, line, loc);
    }
    if (mode_ == Mode::kProbes) {
      if (is_ident_start(c) || c == '*') return attach_point(loc);
      if (c == '/') {
        advance();
        mode_ = Mode::kPredicate;
        paren_depth_ = 0;
        return make(TokenKind::kPunct, "/", loc);
      }
      if (c == '{') {
        advance();
        mode_ = Mode::kBlock;
        brace_depth_ = 1;
        return make(TokenKind::kPunct, "{", loc);
      }
      if (c == ',') {
        advance();
        return make(TokenKind::kPunct, ",", loc);
      }
    }
    if (c == '"') return string_literal(loc);
    if (std::isdigit(static_cast<unsigned char>(c))) return number(loc);
    if (is_ident_start(c)) {
      while (is_ident_char(peek())) advance();
      std::string word(text_.substr(start_, pos_ - start_));
      for (std::string_view k : kKeywords) {
        if (word == k) return make(TokenKind::kKeyword, word, loc);
      }
      return make(is_builtin_name(word) ? TokenKind::kBuiltin : TokenKind::kIdent, word, loc);
    }
    if (c == '@') {
      advance();
      while (is_ident_char(peek())) advance();
      return make(TokenKind::kMap, std::string(text_.substr(start_ + 1, pos_ - start_ - 1)), loc);
    }
    if (c == '$') return dollar(loc);
    if (c == '}') {
      advance();
      if (mode_ == Mode::kBlock && --brace_depth_ == 0) mode_ = Mode::kProbes;
      return make(TokenKind::kPunct, "}", loc);
    }
    for (std::string_view p : kPuncts) {
      if (text_.substr(pos_, p.size()) == p) {
        for (size_t i = 0; i < p.size(); ++i) advance();
        track_nesting(p);
        return make(TokenKind::kPunct, std::string(p), loc);
      }
    }
    std::string shown =
        std::isprint(static_cast<unsigned char>(c))
            ? std::string("'") + c + "'"
            : "byte 0x" + std::string(1, "0123456789abcdef"[(c >> 4) & 0xf]) + "0123456789abcdef"[c & 0xf];
    fail(loc, "unexpected character " + shown + " in the script");
  }

  // Keeps the mode in step with the punctuation that changes it.
  void track_nesting(std::string_view p) {
    if (mode_ == Mode::kBlock && p == "{") ++brace_depth_;
    if (mode_ == Mode::kPredicate) {
      if (p == "(") ++paren_depth_;
      if (p == ")" && paren_depth_ > 0) --paren_depth_;
      // An unparenthesized '/' closes the predicate; division needs parentheses there.
      if (p == "/" && paren_depth_ == 0) mode_ = Mode::kProbes;
    }
  }

  Token attach_point(Location loc) {
    bool path_segment = false;
    for (;;) {
      char c = peek();
      if (pos_ >= text_.size() || is_space(c) || c == ',' || c == '{' || c == '}') break;
      if (c == '/' && !path_segment && pos_ > start_ && text_[pos_ - 1] != ':') break;
      if (c == '/' && (pos_ == start_ || text_[pos_ - 1] == ':')) path_segment = true;
      if (c == ':') path_segment = false;
      if (c == '"') {
        Location q = here();
        advance();
        while (pos_ < text_.size() && peek() != '"' && peek() != '\n') advance();
        if (peek() != '"') fail(q, "unterminated quoted name in the probe; add a closing '\"'");
      }
      advance();
    }
    return make(TokenKind::kAttachPoint, std::string(text_.substr(start_, pos_ - start_)), loc);
  }

  Token dollar(Location loc) {
    advance();
    if (peek() == '#') {
      advance();
      return make(TokenKind::kPositionalCount, "#", loc);
    }
    if (std::isdigit(static_cast<unsigned char>(peek()))) {
      uint64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        v = v * 10 + static_cast<uint64_t>(peek() - '0');
        if (v > 1'000'000) fail(loc, "positional parameter number is too large");
        advance();
      }
      if (is_ident_char(peek())) fail(here(), "a positional parameter is '$' and digits only, like $1");
      Token t = make(TokenKind::kPositional, std::string(text_.substr(start_ + 1, pos_ - start_ - 1)), loc);
      t.value = v;
      return t;
    }
    if (!is_ident_start(peek())) fail(loc, "expected a variable name after '$', like $x, $1 or $#");
    while (is_ident_char(peek())) advance();
    return make(TokenKind::kVar, std::string(text_.substr(start_ + 1, pos_ - start_ - 1)), loc);
  }

  // Decimal, hex (0x), binary (0b) and octal (leading 0), '_' between digits, and
  // decimal exponents (1e6) as bpftrace accepts them; the value must fit in 64 bits.
  Token number(Location loc) {
    unsigned base = 10;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      base = 16;
    } else if (peek() == '0' && (peek(1) == 'b' || peek(1) == 'B')) {
      base = 2;
    } else if (peek() == '0' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
      base = 8;
    }
    if (base == 16 || base == 2) {
      advance();
      advance();
    }
    uint64_t value = 0;
    bool overflow = false;
    size_t digits = 0;
    auto digit_value = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return 99;
    };
    auto accumulate = [&](uint64_t& v, int d) {
      if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / base) overflow = true;
      v = v * base + static_cast<uint64_t>(d);
    };
    for (;;) {
      char c = peek();
      if (c == '_' && digits > 0 && digit_value(peek(1)) < static_cast<int>(base)) {
        advance();
        continue;
      }
      int d = digit_value(c);
      if (base == 10 && (c == 'e' || c == 'E') && digits > 0) break;
      if (d >= static_cast<int>(base)) {
        if (d < 16 && base != 16 && std::isdigit(static_cast<unsigned char>(c))) {
          fail(here(), std::string("invalid digit '") + c + "' in " + (base == 8 ? "an octal" : "a binary") +
                           " integer literal");
        }
        break;
      }
      accumulate(value, d);
      ++digits;
      advance();
    }
    if (digits == 0) fail(loc, "expected digits after the integer prefix");
    if (base == 10 && (peek() == 'e' || peek() == 'E') && std::isdigit(static_cast<unsigned char>(peek(1)))) {
      advance();
      uint64_t exp = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        exp = exp * 10 + static_cast<uint64_t>(peek() - '0');
        if (exp > 100) exp = 100;
        advance();
      }
      for (uint64_t i = 0; i < exp && !overflow; ++i) accumulate(value, 0);
    }
    if (is_ident_char(peek())) {
      fail(here(),
           std::string("unexpected '") + peek() + "' after the integer literal; separate it with a space");
    }
    if (overflow) {
      Token t = make(TokenKind::kInt, "", loc);
      fail(t.loc, "integer literal does not fit in 64 bits");
    }
    Token t = make(TokenKind::kInt, std::string(text_.substr(start_, pos_ - start_)), loc);
    t.value = value;
    return t;
  }

  Token string_literal(Location loc) {
    advance();
    std::string value;
    for (;;) {
      if (pos_ >= text_.size() || peek() == '\n') {
        fail(loc, "unterminated string literal; add a closing '\"' on the same line");
      }
      char c = peek();
      if (c == '"') {
        advance();
        break;
      }
      if (c != '\\') {
        value += c;
        advance();
        continue;
      }
      Location esc = here(2);
      advance();
      char e = peek();
      switch (e) {
        case 'n':
          value += '\n';
          advance();
          break;
        case 't':
          value += '\t';
          advance();
          break;
        case 'r':
          value += '\r';
          advance();
          break;
        case '\\':
          value += '\\';
          advance();
          break;
        case '"':
          value += '"';
          advance();
          break;
        case '\'':
          value += '\'';
          advance();
          break;
        case 'x': {
          advance();
          int v = 0, n = 0;
          while (n < 2 && std::isxdigit(static_cast<unsigned char>(peek()))) {
            char h = peek();
            v = v * 16 +
                (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
            ++n;
            advance();
          }
          if (n == 0) fail(esc, "'\\x' needs one or two hex digits, like \\x41");
          value += static_cast<char>(v);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int v = 0, n = 0;
            while (n < 3 && peek() >= '0' && peek() <= '7') {
              v = v * 8 + (peek() - '0');
              ++n;
              advance();
            }
            if (v > 255) fail(esc, "octal escape is larger than \\377");
            value += static_cast<char>(v);
            break;
          }
          if (pos_ >= text_.size() || e == '\n') {
            fail(loc, "unterminated string literal; add a closing '\"' on the same line");
          }
          fail(esc, std::string("unknown escape sequence '\\") + e + "'; write '\\\\' for a backslash");
      }
    }
    return make(TokenKind::kString, value, loc);
  }

  const Source& src_;
  std::string_view text_;
  size_t pos_ = 0;
  size_t start_ = 0;
  uint32_t line_ = 1;
  uint32_t col_ = 1;
  Mode mode_;
  int brace_depth_ = 0;
  int paren_depth_ = 0;
};

}  // namespace

bool is_builtin_name(std::string_view name) {
  static constexpr std::string_view kNames[] = {"pid",
                                                "tid",
                                                "uid",
                                                "gid",
                                                "nsecs",
                                                "elapsed",
                                                "cpu",
                                                "comm",
                                                "kstack",
                                                "ustack",
                                                "args",
                                                "retval",
                                                "func",
                                                "probe",
                                                "curtask",
                                                "rand",
                                                "cgroup",
                                                "cpid",
                                                "username",
                                                "ctx",
                                                "jiffies",
                                                "numaid",
                                                "ncpus",
                                                "usermode",
                                                "sarg",
                                                "__builtin_retval",
                                                "__builtin_func",
                                                "__builtin_probe",
                                                "__builtin_comm",
                                                "__builtin_pid",
                                                "__builtin_tid"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  // arg0..argN and sarg0..sargN.
  for (std::string_view prefix : {std::string_view("arg"), std::string_view("sarg")}) {
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) {
      bool digits = true;
      for (char c : name.substr(prefix.size()))
        digits = digits && std::isdigit(static_cast<unsigned char>(c));
      if (digits && name.size() - prefix.size() <= 3) return true;
    }
  }
  return false;
}

const char* token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kAttachPoint:
      return "probe";
    case TokenKind::kDirective:
      return "directive";
    case TokenKind::kIdent:
      return "identifier";
    case TokenKind::kBuiltin:
      return "builtin";
    case TokenKind::kKeyword:
      return "keyword";
    case TokenKind::kMap:
      return "map";
    case TokenKind::kVar:
      return "variable";
    case TokenKind::kPositional:
      return "positional parameter";
    case TokenKind::kPositionalCount:
      return "positional parameter count";
    case TokenKind::kInt:
      return "integer";
    case TokenKind::kString:
      return "string";
    case TokenKind::kPunct:
      return "punctuation";
  }
  return "token";
}

std::string describe_token(const Token& tok) {
  switch (tok.kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kString:
      return "a string";
    case TokenKind::kMap:
      return "'@" + tok.text + "'";
    case TokenKind::kVar:
      return "'$" + tok.text + "'";
    case TokenKind::kPositional:
      return "'$" + tok.text + "'";
    case TokenKind::kPositionalCount:
      return "'$#'";
    case TokenKind::kDirective:
      return "'" + tok.text.substr(0, tok.text.find(' ')) + "'";
    default:
      return "'" + tok.text + "'";
  }
}

std::vector<Token> tokenize(const Source& source, LexStart start) { return Lexer(source, start).run(); }

}  // namespace bpfkit::lang
