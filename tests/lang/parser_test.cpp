// The bpftrace parser: the issue's one-liners, precedence, both dialects, the printer's
// round trip, located errors, and random token soup.
#include "lang/parser.h"

#include <gtest/gtest.h>

#include <random>

namespace bpfkit::lang {
namespace {

Program parse(const std::string& text) { return parse_program(Source("t.bt", text)); }

std::string dump(const std::string& expr_text) {
  return dump_expr(*parse_expression(Source("e", expr_text)));
}

std::string parse_error(const std::string& text) {
  try {
    parse(text);
  } catch (const SyntaxError& e) {
    return std::to_string(e.location().line) + ":" + std::to_string(e.location().column) + ": " + e.message();
  }
  return "no error";
}

// Every expression of a program as an S-expression, in source order: compares trees exactly.
void collect(const Block& b, std::vector<std::string>& out);
void collect(const Stmt& s, std::vector<std::string>& out) {
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, ExprStmt>) {
          out.push_back(dump_expr(*n.expr));
        } else if constexpr (std::is_same_v<T, Assign>) {
          out.push_back(dump_expr(*n.target) + " " + n.op + " " + dump_expr(*n.value));
        } else if constexpr (std::is_same_v<T, If>) {
          out.push_back("if " + dump_expr(*n.cond));
          collect(n.then, out);
          if (n.otherwise) {
            out.push_back("else");
            collect(*n.otherwise, out);
          }
        } else if constexpr (std::is_same_v<T, Unroll>) {
          out.push_back("unroll " + dump_expr(*n.count));
          collect(n.body, out);
        } else if constexpr (std::is_same_v<T, While>) {
          out.push_back("while " + dump_expr(*n.cond));
          collect(n.body, out);
        } else if constexpr (std::is_same_v<T, For>) {
          out.push_back("for $" + n.var + " " + dump_expr(*n.range) +
                        (n.range_end ? dump_expr(*n.range_end) : ""));
          collect(n.body, out);
        } else if constexpr (std::is_same_v<T, Return>) {
          out.push_back("return " + (n.value ? dump_expr(*n.value) : ""));
        } else if constexpr (std::is_same_v<T, Break>) {
          out.push_back("break");
        } else if constexpr (std::is_same_v<T, Continue>) {
          out.push_back("continue");
        } else {
          out.push_back("let $" + n.name + (n.type ? ":" + print_type(*n.type) : "") +
                        (n.init ? "=" + dump_expr(*n.init) : ""));
        }
      },
      s.node);
  out.push_back(";");
}
void collect(const Block& b, std::vector<std::string>& out) {
  out.push_back("{");
  for (const StmtPtr& s : b) collect(*s, out);
  out.push_back("}");
}
std::vector<std::string> tree(const Program& p) {
  std::vector<std::string> out;
  for (const Directive& d : p.directives) out.push_back(d.text);
  for (const Probe& probe : p.probes) {
    for (const AttachPoint& a : probe.attach_points) out.push_back(a.text);
    if (probe.predicate) out.push_back("/" + dump_expr(*probe.predicate) + "/");
    collect(probe.body, out);
  }
  return out;
}

void expect_round_trip(const std::string& text) {
  Program first = parse(text);
  std::string printed = print_program(first);
  Program second;
  try {
    second = parse(printed);
  } catch (const SyntaxError& e) {
    FAIL() << "printed text does not parse: " << e.what() << "\n" << printed;
  }
  EXPECT_EQ(tree(first), tree(second)) << printed;
  EXPECT_EQ(print_program(second), printed);
}

const char* const kOneLiners[] = {
    "tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, str(args->filename)); }",
    "tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, str(args.filename)); }",
    "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }",
    "tracepoint:raw_syscalls:sys_enter { @start[tid] = nsecs; }\n"
    "tracepoint:raw_syscalls:sys_exit /@start[tid]/ {\n"
    "  @ns = hist(nsecs - @start[tid]); delete(@start[tid]);\n}",
    "profile:hz:99 { @[kstack] = count(); }",
    "tracepoint:sched:sched* { @[probe] = count(); }",
    "tracepoint:block:block_rq_issue { @ = hist(args->bytes); }",
    "uprobe:/bin/bash:readline { printf(\"readline %d\\n\", pid); }",
    "uretprobe:/bin/bash:readline { printf(\"%s\\n\", str(retval)); }",
    "kprobe:do_nanosleep { printf(\"%d sleeping\\n\", pid); }",
    "kfunc:vfs_read, fentry:vfs_write { @[func] = count(); } interval:s:1 { print(@); clear(@); }",
    "BEGIN { printf(\"Tracing... Hit Ctrl-C to end.\\n\"); } END { delete(@m, 1); exit(); }",
};

TEST(LangParser, IssueOneLinersParse) {
  for (const char* text : kOneLiners) {
    SCOPED_TRACE(text);
    Program p;
    ASSERT_NO_THROW(p = parse(text));
    ASSERT_FALSE(p.probes.empty());
    expect_round_trip(text);
  }
}

TEST(LangParser, OneLinerShapes) {
  Program p = parse(kOneLiners[0]);
  ASSERT_EQ(p.probes.size(), 1u);
  EXPECT_EQ(p.probes[0].attach_points[0].text, "tracepoint:syscalls:sys_enter_openat");
  EXPECT_EQ(tree(p)[2], "(call printf \"%s %s\\n\" builtin:comm (call str (-> builtin:args filename)))");
  EXPECT_EQ(tree(parse(kOneLiners[1]))[2],
            "(call printf \"%s %s\\n\" builtin:comm (call str (. builtin:args filename)))");
  EXPECT_EQ(tree(parse(kOneLiners[2]))[2], "(map @ builtin:comm) = (call count)");

  Program lat = parse(kOneLiners[3]);
  ASSERT_EQ(lat.probes.size(), 2u);
  EXPECT_EQ(dump_expr(*lat.probes[1].predicate), "(map @start builtin:tid)");
  EXPECT_EQ(tree(lat)[8], "(map @ns) = (call hist (- builtin:nsecs (map @start builtin:tid)))");
  EXPECT_EQ(tree(lat)[10], "(call delete (map @start builtin:tid))");
  EXPECT_EQ(lat.probes[1].loc.line, 2u);

  Program multi = parse(kOneLiners[10]);
  ASSERT_EQ(multi.probes.size(), 2u);
  ASSERT_EQ(multi.probes[0].attach_points.size(), 2u);
  EXPECT_EQ(multi.probes[0].attach_points[1].text, "fentry:vfs_write");
  EXPECT_EQ(tree(parse(kOneLiners[11]))[7], "(call delete (map @m) 1)");
}

TEST(LangParser, Precedence) {
  EXPECT_EQ(dump("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(dump("1 - 2 - 3"), "(- (- 1 2) 3)");
  EXPECT_EQ(dump("a || b && c | d ^ e & f == g < h << i + j * k"),
            "(|| ident:a (&& ident:b (| ident:c (^ ident:d (& ident:e (== ident:f (< ident:g (<< ident:h "
            "(+ ident:i (* ident:j ident:k))))))))))");
  EXPECT_EQ(dump("a ? b : c ? d : e"), "(? ident:a ident:b (? ident:c ident:d ident:e))");
  EXPECT_EQ(dump("-x->y[2]++"), "(- (post++ ([] (-> ident:x y) 2)))");
  EXPECT_EQ(dump("!*&$p"), "(! (* (& $p)))");
  EXPECT_EQ(dump("(uint32)arg0 + 1"), "(+ (cast uint32 builtin:arg0) 1)");
  EXPECT_EQ(dump("(struct task_struct *)curtask->parent->pid"),
            "(cast struct task_struct * (-> (-> builtin:curtask parent) pid))");
  EXPECT_EQ(dump("((struct sock *)arg0)->__sk_common.skc_dport"),
            "(. (-> (cast struct sock * builtin:arg0) __sk_common) skc_dport)");
  EXPECT_EQ(dump("(1, \"a\", $x)"), "(tuple 1 \"a\" $x)");
  EXPECT_EQ(dump("$t.0 + (a)"), "(+ (. $t 0) ident:a)");
  EXPECT_EQ(dump("@m[pid, comm]"), "(map @m builtin:pid builtin:comm)");
  EXPECT_EQ(dump("sizeof(uint64) + sizeof($x) + offsetof(struct s, f)"),
            "(+ (+ (sizeof uint64) (sizeof $x)) (offsetof struct s f))");
  EXPECT_EQ(dump("$1 + $#"), "(+ $1 $#)");
  EXPECT_EQ(dump("kstack(perf, 3)"), "(call kstack ident:perf 3)");
}

TEST(LangParser, StatementsRoundTrip) {
  const char* script =
      "#include <linux/sched.h>\n"
      "kprobe:f /pid == 42 && (arg0 / 2) > 1/ {\n"
      "  $x = 1; $x += 2; @c++; --@d; @h = lhist($x, 0, 100, 10);\n"
      "  if ($x > 1) { printf(\"big\\t\\x01\\n\"); } else if ($x) { @e = 1; } else { return; }\n"
      "  unroll(4) { $x <<= 1 }\n"
      "  while ($x < 100) { $x *= 2; if ($x == 64) { break; } continue; }\n"
      "  for ($kv : @c) { print($kv.0); }\n"
      "  for ($i : 0..10) { @s = sum($i); }\n"
      "  let $y: uint8 = (uint8)$x; let $z;\n"
      "  @t = ($x, comm); @r = -(-$x) - -1 + ~(uint16)$x + (1 ? 2 : 3) * 4;\n"
      "  @p = ((a - b) - (c - d)) / (e % (f * g)); ;;\n"
      "}\n"
      "BEGIN { exit() }\n";
  expect_round_trip(script);
  Program p = parse(script);
  ASSERT_EQ(p.directives.size(), 1u);
  EXPECT_EQ(p.directives[0].text, "#include <linux/sched.h>");
  EXPECT_EQ(dump_expr(*p.probes[0].predicate), "(&& (== builtin:pid 42) (> (/ builtin:arg0 2) 1))");
  // The printer parenthesizes division in a predicate, where a bare '/' would end it.
  EXPECT_NE(print_program(p).find("/pid == 42 && (arg0 / 2) > 1/"), std::string::npos) << print_program(p);
  expect_round_trip("kprobe:f /@m[(a / b)] && str((c / d / e))/ { }");
  std::string printed = print_program(parse("kprobe:f /@m[(a / b)] && str((c / d / e))/ { }"));
  EXPECT_NE(printed.find("/@m[(a / b)] && str(c / d / e)/"), std::string::npos) << printed;
}

struct BadScript {
  const char* text;
  const char* error;
};

TEST(LangParser, LocatedErrors) {
  const BadScript cases[] = {
      {"BEGIN { @x = 1;", "1:16: expected '}' to close the block opened at 1:7"},
      {"BEGIN {\n  if (pid) {\n    @x = 1;\n}\n", "5:1: expected '}' to close the block opened at 1:7"},
      {"kprobe:f @x = 1; }", "1:10: expected '{' to start the action block of 'kprobe:f', found '@x'"},
      {"kprobe:f /pid == 1 { }", "1:20: expected '/' to close the predicate opened at 1:10, found '{'"},
      {"kprobe:f // { }", "1:16: expected '{' to start the action block of 'kprobe:f', found end of input"},
      {"BEGIN { @x = 1 @y = 2; }", "1:16: expected ';' after the statement, found '@y'"},
      {"BEGIN { printf(\"%d\", pid; }",
       "1:25: expected ',' or ')' to close the argument list opened at 1:15, found ';'"},
      {"BEGIN { @x = (1 + 2; }", "1:20: expected ')' to close the '(' opened at 1:14, found ';'"},
      {"BEGIN { @x[1, 2 = 3; }", "1:17: expected ',' or ']' to close the map key opened at 1:11, found '='"},
      {"BEGIN { @x = ; }", "1:14: expected an expression, found ';'"},
      {"BEGIN { 1 = 2; }",
       "1:9: cannot assign to this expression; assign to a map (@name[key]) or a variable ($name)"},
      {"BEGIN { for (x : @m) { } }",
       "1:14: expected a '$variable' after 'for (', as in 'for ($kv : @map)', found 'x'"},
      {"BEGIN { if pid { } }", "1:12: expected '(' after 'if', found 'pid'"},
      {"BEGIN { $x = a ? b; }", "1:19: expected ':' to complete the '?' at 1:16, found ';'"},
      {"{ @x = 1; }", "1:1: expected a probe such as 'kprobe:do_nanosleep' or 'BEGIN', found '{'"},
      {"kprobe:f, { }", "1:11: expected another probe after ',', found '{'"},
      {"kprobe:f // x\n/ / { }", "2:3: the predicate opened at 2:1 is empty; write a condition"},
      {"BEGIN { @x[] = 1; }", "1:12: a map key list needs at least one key; write '@x' for no key"},
      {"BEGIN { $x = a-> ; }", "1:18: expected a field name after '->', found ';'"},
      {"BEGIN { } }", "1:11: expected a probe such as 'kprobe:do_nanosleep' or 'BEGIN', found '}'"},
  };
  for (const BadScript& c : cases) EXPECT_EQ(parse_error(c.text), c.error) << c.text;
}

TEST(LangParser, ErrorTextIsCompilerLike) {
  try {
    parse_program(Source("open.bt", "BEGIN {\n  @x = count()\n  @y = 1;\n}\n"));
    FAIL() << "no error";
  } catch (const SyntaxError& e) {
    EXPECT_EQ(std::string(e.what()),
              "open.bt:3:3: error: expected ';' after the statement, found '@y'\n"
              "  @y = 1;\n"
              "  ^~\n");
  }
}

TEST(LangParser, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "BEGIN { @x = " + std::string(5000, '(') + "1" + std::string(5000, ')') + "; }";
  EXPECT_NE(parse_error(deep).find("nesting is too deep"), std::string::npos);
  std::string minus = "BEGIN { @x = " + std::string(5000, '!') + "1; }";
  EXPECT_NE(parse_error(minus).find("nesting is too deep"), std::string::npos);
  std::string blocks = "BEGIN { ";
  for (int i = 0; i < 3000; ++i) blocks += "if (1) { ";
  EXPECT_NE(parse_error(blocks).find("nesting is too deep"), std::string::npos);
}

// Random token soup never crashes: it parses (and then round-trips) or fails with a location
// inside the text.
TEST(LangParser, TokenSoupAlwaysParsesOrFailsWithLocation) {
  const char* const vocab[] = {
      "kprobe:f",
      "BEGIN",
      "tracepoint:a:b*",
      "uprobe:/bin/x:y",
      ",",
      "/",
      "{",
      "}",
      "(",
      ")",
      "[",
      "]",
      ";",
      "@m",
      "@",
      "$x",
      "$1",
      "$#",
      "pid",
      "comm",
      "args",
      "->",
      ".",
      "f",
      "count()",
      "1",
      "0x10",
      "\"s\\n\"",
      "=",
      "+=",
      "++",
      "--",
      "+",
      "-",
      "*",
      "%",
      "<<",
      "==",
      "&&",
      "||",
      "!",
      "~",
      "?",
      ":",
      "..",
      "if",
      "else",
      "while",
      "for",
      "unroll",
      "return",
      "let",
      "(uint32)",
      "struct",
      "sizeof",
      "\n",
      "#include <x.h>\n",
      "/*c*/",
      "//c\n",
      "\"",
      "`",
      "$",
      "0789",
  };
  std::mt19937 rng(12345);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    int n = 1 + static_cast<int>(rng() % 30);
    // Half the cases start like a real probe so the soup reaches statement and expression code.
    if (i % 2 == 0) text = "kprobe:f { ";
    for (int k = 0; k < n; ++k) text += std::string(vocab[rng() % std::size(vocab)]) + (rng() % 3 ? " " : "");
    if (i % 4 == 0) text += " }";
    try {
      Program p = parse(text);
      ++parsed;
      Program again = parse(print_program(p));
      EXPECT_EQ(tree(p), tree(again)) << text;
    } catch (const SyntaxError& e) {
      uint32_t lines = 1;
      for (char c : text) lines += c == '\n';
      EXPECT_GE(e.location().line, 1u) << text;
      EXPECT_LE(e.location().line, lines) << text;
      EXPECT_GE(e.location().column, 1u) << text;
      EXPECT_FALSE(e.message().empty());
    }
  }
  EXPECT_GT(parsed, 10);  // the soup is not all errors, so the success path is exercised too
}

}  // namespace
}  // namespace bpfkit::lang
