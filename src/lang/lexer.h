// Tokens of the bpftrace language. The lexer knows where it is at the top level:
// outside braces, words are attach points (`uprobe:/bin/bash:readline`, `tracepoint:sched:sched*`)
// and a '/' opens a predicate; inside predicates and blocks it produces ordinary C-like tokens.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lang/source.h"

namespace bpfkit::lang {

enum class TokenKind {
  kEnd,              // end of input
  kAttachPoint,      // kprobe:f, BEGIN, tracepoint:syscalls:sys_enter_* (text as written)
  kDirective,        // a whole '#include ...' (or other '#') line, text without the newline
  kIdent,            // identifiers that are neither keywords nor builtins (function names, types, fields)
  kBuiltin,          // pid, comm, args, arg0, retval, ...
  kKeyword,          // if else unroll while for return break continue sizeof offsetof struct union enum let
  kMap,              // @name or @ (text is the name without '@', empty for the anonymous map)
  kVar,              // $name (text without '$')
  kPositional,       // $1 (value is the number)
  kPositionalCount,  // $#
  kInt,              // value holds the number; text is the spelling
  kString,           // text holds the decoded bytes
  kPunct,            // operators and punctuation, text is the spelling
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  uint64_t value = 0;
  Location loc;
};

const char* token_kind_name(TokenKind kind);
// How a token reads in an error message: 'x', "string", end of input.
std::string describe_token(const Token& tok);

bool is_builtin_name(std::string_view name);

// kScript starts at the top level (probes); kCode lexes the text as if inside a block.
enum class LexStart { kScript, kCode };

// Tokenizes the whole text; throws SyntaxError at the first bad character.
std::vector<Token> tokenize(const Source& source, LexStart start = LexStart::kScript);

}  // namespace bpfkit::lang
