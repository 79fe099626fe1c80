// The bpftrace lexer: attach points vs code, literals, escapes, comments, and located errors.
#include "lang/lexer.h"

#include <gtest/gtest.h>

namespace bpfkit::lang {
namespace {

std::vector<Token> lex(const std::string& text, LexStart start = LexStart::kScript) {
  return tokenize(Source("t.bt", text), start);
}

// "kind:text" of each token, without the final end marker.
std::vector<std::string> kinds(const std::string& text, LexStart start = LexStart::kScript) {
  std::vector<std::string> out;
  for (const Token& t : lex(text, start)) {
    if (t.kind != TokenKind::kEnd) out.push_back(std::string(token_kind_name(t.kind)) + ":" + t.text);
  }
  return out;
}

std::string lex_error(const std::string& text, LexStart start = LexStart::kScript) {
  try {
    lex(text, start);
  } catch (const SyntaxError& e) {
    return std::to_string(e.location().line) + ":" + std::to_string(e.location().column) + ": " + e.message();
  }
  return "no error";
}

TEST(LangLexer, AttachPointsAreWholeWords) {
  using V = std::vector<std::string>;
  EXPECT_EQ(kinds("tracepoint:syscalls:sys_enter_openat { }"),
            (V{"probe:tracepoint:syscalls:sys_enter_openat", "punctuation:{", "punctuation:}"}));
  EXPECT_EQ(kinds("uprobe:/bin/bash:readline{}"),
            (V{"probe:uprobe:/bin/bash:readline", "punctuation:{", "punctuation:}"}));
  EXPECT_EQ(kinds("tracepoint:sched:sched*,kprobe:f,BEGIN {}"),
            (V{"probe:tracepoint:sched:sched*", "punctuation:,", "probe:kprobe:f", "punctuation:,",
               "probe:BEGIN", "punctuation:{", "punctuation:}"}));
  EXPECT_EQ(kinds("profile:hz:99 interval:s:1 END kfunc:vmlinux:f fentry:f"),
            (V{"probe:profile:hz:99", "probe:interval:s:1", "probe:END", "probe:kfunc:vmlinux:f",
               "probe:fentry:f"}));
  EXPECT_EQ(kinds("uprobe:\"lib x.so\":\"fn(char const*)\" {}")[0],
            "probe:uprobe:\"lib x.so\":\"fn(char const*)\"");
}

TEST(LangLexer, PredicateIsCodeAndEndsAtTopLevelSlash) {
  using V = std::vector<std::string>;
  EXPECT_EQ(kinds("kprobe:f /pid == 1/ { }"),
            (V{"probe:kprobe:f", "punctuation:/", "builtin:pid", "punctuation:==", "integer:1",
               "punctuation:/", "punctuation:{", "punctuation:}"}));
  // A parenthesized '/' is division; the next word after the predicate is a probe again.
  EXPECT_EQ(kinds("kprobe:f/(a / 2) > 1/{} BEGIN{}"),
            (V{"probe:kprobe:f", "punctuation:/", "punctuation:(", "identifier:a", "punctuation:/",
               "integer:2", "punctuation:)", "punctuation:>", "integer:1", "punctuation:/", "punctuation:{",
               "punctuation:}", "probe:BEGIN", "punctuation:{", "punctuation:}"}));
}

TEST(LangLexer, BlockTokens) {
  using V = std::vector<std::string>;
  EXPECT_EQ(kinds("BEGIN { @[comm] = count(); @start[tid] = nsecs; $x += $1 + $#; if (x) { } }"),
            (V{"probe:BEGIN",
               "punctuation:{",
               "map:",
               "punctuation:[",
               "builtin:comm",
               "punctuation:]",
               "punctuation:=",
               "identifier:count",
               "punctuation:(",
               "punctuation:)",
               "punctuation:;",
               "map:start",
               "punctuation:[",
               "builtin:tid",
               "punctuation:]",
               "punctuation:=",
               "builtin:nsecs",
               "punctuation:;",
               "variable:x",
               "punctuation:+=",
               "positional parameter:1",
               "punctuation:+",
               "positional parameter count:#",
               "punctuation:;",
               "keyword:if",
               "punctuation:(",
               "identifier:x",
               "punctuation:)",
               "punctuation:{",
               "punctuation:}",
               "punctuation:}"}));
  // Maximal munch on operators.
  EXPECT_EQ(kinds("a<<=b->c++ ..d", LexStart::kCode),
            (V{"identifier:a", "punctuation:<<=", "identifier:b", "punctuation:->", "identifier:c",
               "punctuation:++", "punctuation:..", "identifier:d"}));
  EXPECT_EQ(kinds("arg0 arg12 sarg1 args argv retval", LexStart::kCode),
            (V{"builtin:arg0", "builtin:arg12", "builtin:sarg1", "builtin:args", "identifier:argv",
               "builtin:retval"}));
}

TEST(LangLexer, Integers) {
  auto value = [](const std::string& text) {
    std::vector<Token> t = lex(text, LexStart::kCode);
    EXPECT_EQ(t.size(), 2u) << text;
    EXPECT_EQ(t[0].kind, TokenKind::kInt) << text;
    return t[0].value;
  };
  EXPECT_EQ(value("0"), 0u);
  EXPECT_EQ(value("1234"), 1234u);
  EXPECT_EQ(value("0x1F"), 31u);
  EXPECT_EQ(value("0755"), 0755u);
  EXPECT_EQ(value("0b101"), 5u);
  EXPECT_EQ(value("1_000_000"), 1000000u);
  EXPECT_EQ(value("1e6"), 1000000u);
  EXPECT_EQ(value("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(lex_error("18446744073709551616", LexStart::kCode),
            "1:1: integer literal does not fit in 64 bits");
  EXPECT_EQ(lex_error("0789", LexStart::kCode), "1:3: invalid digit '8' in an octal integer literal");
  EXPECT_EQ(lex_error("12abc", LexStart::kCode),
            "1:3: unexpected 'a' after the integer literal; separate it with a space");
  EXPECT_EQ(lex_error("0x", LexStart::kCode), "1:1: expected digits after the integer prefix");
}

TEST(LangLexer, StringsAndEscapes) {
  std::vector<Token> t = lex(R"("a\tb\n\"q\" \\ \x41\101\0")", LexStart::kCode);
  ASSERT_EQ(t[0].kind, TokenKind::kString);
  EXPECT_EQ(t[0].text, std::string("a\tb\n\"q\" \\ AA\0", 13));
  EXPECT_EQ(t[0].loc.length, 27u);
  EXPECT_EQ(lex_error("BEGIN { printf(\"abc); }"),
            "1:16: unterminated string literal; add a closing '\"' on the same line");
  EXPECT_EQ(lex_error(R"(BEGIN { printf("a\qb"); })"),
            "1:18: unknown escape sequence '\\q'; write '\\\\' for a backslash");
  EXPECT_EQ(lex_error(R"("\xZZ")", LexStart::kCode), "1:2: '\\x' needs one or two hex digits, like \\x41");
}

TEST(LangLexer, CommentsDirectivesAndLocations) {
  std::vector<Token> t = lex("#include <linux/sched.h>\n// hi\nBEGIN /* x\n y */ {\n\t@x = 1; }\n");
  ASSERT_EQ(t.size(), 9u);
  EXPECT_EQ(t[0].kind, TokenKind::kDirective);
  EXPECT_EQ(t[0].text, "#include <linux/sched.h>");
  EXPECT_EQ(t[1].text, "BEGIN");
  EXPECT_EQ(t[1].loc.line, 3u);
  EXPECT_EQ(t[1].loc.column, 1u);
  EXPECT_EQ(t[1].loc.length, 5u);
  EXPECT_EQ(t[2].text, "{");
  EXPECT_EQ(t[2].loc.line, 4u);
  EXPECT_EQ(t[2].loc.column, 7u);
  EXPECT_EQ(t[3].kind, TokenKind::kMap);
  EXPECT_EQ(t[3].loc.line, 5u);
  EXPECT_EQ(t[3].loc.column, 2u);
  EXPECT_EQ(lex_error("BEGIN { /* never closed"), "1:9: unterminated comment; close it with '*/'");
  EXPECT_EQ(lex_error("BEGIN { @x = `a`; }"), "1:14: unexpected character '`' in the script");
  EXPECT_EQ(lex_error("BEGIN { $ = 1; }"), "1:9: expected a variable name after '$', like $x, $1 or $#");
}

TEST(LangLexer, DiagnosticHasSourceLineAndCaret) {
  try {
    lex("BEGIN {\n  @x = \"oops;\n}\n");
    FAIL() << "no error";
  } catch (const SyntaxError& e) {
    EXPECT_EQ(std::string(e.what()),
              "t.bt:2:8: error: unterminated string literal; add a closing '\"' on the same line\n"
              "  @x = \"oops;\n"
              "       ^\n");
  }
  Source src("s.bt", "kprobe:f { @x = count(); }");
  EXPECT_EQ(format_diagnostic(src, Location{1, 17, 5}, "unknown function 'count'"),
            "s.bt:1:17: error: unknown function 'count'\n"
            "kprobe:f { @x = count(); }\n"
            "                ^~~~~\n");
}

}  // namespace
}  // namespace bpfkit::lang
