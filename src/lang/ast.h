// The tracing language's syntax tree: plain structs in std::variants, every node with
// the Location it was parsed at. Names are resolved by later passes; the tree only
// records what was written.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lang/source.h"

namespace bpfkit::lang {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

// A type as written in a cast, sizeof or `let`: "uint32", "struct task_struct", plus '*'s and [N].
struct TypeName {
  std::string name;
  uint32_t pointer_depth = 0;
  std::optional<uint64_t> array_length;
};

struct IntLit {
  uint64_t value = 0;
};
struct StrLit {
  std::string value;
};
struct Builtin {
  std::string name;
};  // pid, comm, args, arg0, ...
struct Ident {
  std::string name;
};  // an enum constant or other bare name
struct MapRef {
  std::string name;
  std::vector<ExprPtr> keys;
};  // @name[k1, k2]; "" is `@`
struct VarRef {
  std::string name;
};  // $x
struct Positional {
  uint64_t index = 0;
};                          // $1
struct PositionalCount {};  // $#
struct Call {
  std::string name;
  std::vector<ExprPtr> args;
};
struct Unary {
  std::string op;
  ExprPtr operand;
  bool postfix = false;
};  // - ! ~ * & ++ --
struct Binary {
  std::string op;
  ExprPtr lhs;
  ExprPtr rhs;
};
struct Ternary {
  ExprPtr cond;
  ExprPtr then;
  ExprPtr otherwise;
};
struct FieldAccess {
  ExprPtr base;
  std::string field;
  bool arrow = false;
};  // a->f, a.f, $t.0
struct Index {
  ExprPtr base;
  ExprPtr index;
};
struct Cast {
  TypeName type;
  ExprPtr operand;
};
struct Tuple {
  std::vector<ExprPtr> elems;
};
struct Sizeof {
  std::optional<TypeName> type;
  ExprPtr expr;
};  // exactly one is set
struct Offsetof {
  TypeName type;
  std::string field;
};

struct Expr {
  Location loc;
  std::variant<IntLit, StrLit, Builtin, Ident, MapRef, VarRef, Positional, PositionalCount, Call, Unary,
               Binary, Ternary, FieldAccess, Index, Cast, Tuple, Sizeof, Offsetof>
      node;
};

struct ExprStmt {
  ExprPtr expr;
};
struct Assign {
  ExprPtr target;
  std::string op;
  ExprPtr value;
};  // op: = += -= ... on a map or $var
struct If {
  ExprPtr cond;
  Block then;
  std::optional<Block> otherwise;
};
struct Unroll {
  ExprPtr count;
  Block body;
};
struct While {
  ExprPtr cond;
  Block body;
};
// for ($x : @map) or for ($i : start..end)
struct For {
  std::string var;
  ExprPtr range;
  ExprPtr range_end;
  Block body;
};
struct Return {
  ExprPtr value;
};  // value may be null
struct Break {};
struct Continue {};
struct VarDecl {
  std::string name;
  std::optional<TypeName> type;
  ExprPtr init;
};  // let $x: T = e

struct Stmt {
  Location loc;
  std::variant<ExprStmt, Assign, If, Unroll, While, For, Return, Break, Continue, VarDecl> node;
};

struct AttachPoint {
  std::string text;  // as written, e.g. "tracepoint:syscalls:sys_enter_openat"
  Location loc;
};

struct Probe {
  Location loc;
  std::vector<AttachPoint> attach_points;
  ExprPtr predicate;  // may be null
  Block body;
};

struct Directive {
  std::string text;  // the whole line, e.g. "#include <linux/sched.h>"
  Location loc;
};

struct Program {
  std::vector<Directive> directives;
  std::vector<Probe> probes;
};

// Canonical text: one construct per line, two-space indent, minimal parentheses.
std::string print_program(const Program& program);
std::string print_expr(const Expr& expr);
std::string print_type(const TypeName& type);
// Fully explicit S-expression of an expression, for tests: (+ 1 (* 2 3)).
std::string dump_expr(const Expr& expr);
// A string literal with escapes, quotes included.
std::string quote_string(const std::string& value);

}  // namespace bpfkit::lang
