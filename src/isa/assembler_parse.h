// Internals of the assembler shared by its two syntaxes: the tokens of one line, a
// cursor over them with operand readers (registers, literals, targets), and the
// parsed form of a line before labels are resolved. Not part of the public API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isa/assembler.h"
#include "isa/instruction.h"

namespace bpfkit::isa::asm_detail {

enum class Tok : uint8_t {
  Ident,         // letters, digits, '_', '.', starting with a letter, '_' or '.'
  PercentIdent,  // %r1 (uBPF registers), text includes the '%'
  Number,        // decimal or 0x hex, no sign
  Punct,         // operators and brackets, longest match: "<<=", "+=", "==", "(", ...
  End,           // end of the line (or start of a comment)
};

struct Token {
  Tok kind = Tok::End;
  std::string_view text;
  uint64_t value = 0;  // Number only
  bool hex = false;    // Number written as 0x...
  int col = 0;         // 1-based
};

// Splits `line` from byte `start` into tokens, stopping at a comment (#, //, ;).
// The last token is always End. Throws AsmError for stray characters and bad numbers.
std::vector<Token> lex_line(std::string_view line, size_t start, int line_no);

// A register operand as written: r0-r10 / w0-w10 (kernel) or %r0-%r10 (uBPF).
struct Reg {
  uint8_t num = 0;
  bool w = false;  // written as a 32-bit w register
  int col = 0;
};

// A number with its sign kept apart from its magnitude, so range checks are exact.
struct Literal {
  bool neg = false;
  uint64_t mag = 0;
  bool hex = false;
  int col = 0;
  std::string text;  // as written, for messages
};

// A jump or call destination: an offset relative to the next slot, or a label.
struct Target {
  bool is_label = false;
  int64_t offset = 0;
  std::string label;
  int col = 0;
};

// One parsed instruction. When `target` holds a label, the branch field of `insn`
// (jump offset, call imm, func pointer imm) is filled in after layout.
struct Parsed {
  Instruction insn;
  std::optional<Target> target;
};

class Cursor {
 public:
  Cursor(std::vector<Token> tokens, int line) : toks_(std::move(tokens)), line_(line) {}

  int line() const { return line_; }
  const Token& peek(size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = peek();
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool at_end() const { return peek().kind == Tok::End; }
  bool is_punct(std::string_view p, size_t k = 0) const {
    return peek(k).kind == Tok::Punct && peek(k).text == p;
  }
  bool is_ident(std::string_view s, size_t k = 0) const {
    return peek(k).kind == Tok::Ident && peek(k).text == s;
  }
  bool accept_punct(std::string_view p) {
    if (!is_punct(p)) return false;
    next();
    return true;
  }
  bool accept_ident(std::string_view s) {
    if (!is_ident(s)) return false;
    next();
    return true;
  }
  // Consumes `p` or fails with "expected P CONTEXT, found X".
  void expect_punct(std::string_view p, std::string_view context);
  void expect_ident(std::string_view s, std::string_view context);
  // Fails unless the line is over; `form` shows the instruction's expected shape.
  void expect_end(std::string_view form);

  [[noreturn]] void fail(int col, const std::string& what) const { throw AsmError(line_, col, what); }
  [[noreturn]] void fail_here(const std::string& what) const { fail(peek().col, what); }

  // "'foo'" for a token, "the end of the line" for End.
  static std::string describe(const Token& t);

  // True when token k looks like a register (r7, w3, %r7, also r11: reported by reg()).
  bool at_reg(size_t k = 0) const;
  // Reads a register; `what` names the operand for the message ("destination register").
  Reg reg(std::string_view what);
  // True when the next tokens are a number, optionally signed.
  bool at_literal() const;
  Literal literal(std::string_view what);
  // A destination: +N, -N, N (relative to the next slot) or a label name. An llvm-objdump
  // symbol annotation that follows (`<LBB0_2>`) is skipped.
  Target target(std::string_view what);
  // Skips `<symbol>` or `<symbol+0x10>` as llvm-objdump prints after branch targets.
  void skip_annotation();

 private:
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int line_;
};

// Range checks. Decimal 32-bit immediates are signed (-2^31..2^31-1); hex ones may also
// be written unsigned up to 0xffffffff. Offsets are int16. 64-bit immediates take any
// value from -2^63 to 2^64-1.
bool fits_imm32(const Literal& l);
int32_t imm32_of(const Cursor& c, const Literal& l, std::string_view what);
int16_t off16_of(const Cursor& c, const Literal& l, std::string_view what);
int32_t off32_of(const Cursor& c, const Literal& l, std::string_view what);
uint64_t imm64_of(const Cursor& c, const Literal& l);
// A relative target that is not a label must fit the field it goes to.
int16_t target16_of(const Cursor& c, const Target& t, std::string_view what);
int32_t target32_of(const Cursor& c, const Target& t, std::string_view what);

// `call ...` is shared by both syntaxes: call 5, call pc+3, call pc-4, call local LABEL,
// call LABEL, call kfunc(1234), call %r2 / callx r2.
Parsed parse_call(Cursor& c);

// Parses one line already known to be in that syntax.
Parsed parse_kernel(Cursor& c);
Parsed parse_ubpf(Cursor& c);

// Whether the line's tokens are kernel syntax (r0 = 1, if ..., goto, *(u32 *)..., lock *...).
bool is_kernel_syntax(const Cursor& c);

}  // namespace bpfkit::isa::asm_detail
