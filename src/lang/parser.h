// Recursive-descent parser for bpftrace scripts (the 0.17 dialect and today's, where
// they differ only in which names are used). Throws SyntaxError with a location and
// one sentence saying what was expected.
#pragma once

#include "lang/ast.h"
#include "lang/source.h"

namespace bpfkit::lang {

Program parse_program(const Source& source);

// One expression on its own (tests, `-e` snippets); the whole text must be used.
ExprPtr parse_expression(const Source& source);

// How deep blocks and expressions may nest before the parser refuses (keeps the stack bounded).
inline constexpr int kMaxNesting = 200;

}  // namespace bpfkit::lang
