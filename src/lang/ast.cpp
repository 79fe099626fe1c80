#include "lang/ast.h"

#include <cstdio>

namespace bpfkit::lang {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// C precedence, higher binds tighter.
constexpr int kPrecTernary = 2;
constexpr int kPrecUnary = 13;
constexpr int kPrecPostfix = 14;
constexpr int kPrecPrimary = 15;

int binary_prec(const std::string& op) {
  if (op == "||") return 3;
  if (op == "&&") return 4;
  if (op == "|") return 5;
  if (op == "^") return 6;
  if (op == "&") return 7;
  if (op == "==" || op == "!=") return 8;
  if (op == "<" || op == "<=" || op == ">" || op == ">=") return 9;
  if (op == "<<" || op == ">>") return 10;
  if (op == "+" || op == "-") return 11;
  return 12;  // * / %
}

int prec(const Expr& e) {
  return std::visit(Overloaded{
                        [](const Binary& b) { return binary_prec(b.op); },
                        [](const Ternary&) { return kPrecTernary; },
                        [](const Unary& u) { return u.postfix ? kPrecPostfix : kPrecUnary; },
                        [](const Cast&) { return kPrecUnary; },
                        [](const FieldAccess&) { return kPrecPostfix; },
                        [](const Index&) { return kPrecPostfix; },
                        [](const auto&) { return kPrecPrimary; },
                    },
                    e.node);
}

class Printer {
 public:
  // In a predicate an unparenthesized '/' would end it, so every division gets parentheses.
  explicit Printer(bool in_predicate = false) : bare_slash_ends_(in_predicate) {}

  std::string expr(const Expr& e) {
    return std::visit(
        Overloaded{
            [](const IntLit& v) { return std::to_string(v.value); },
            [](const StrLit& v) { return quote_string(v.value); },
            [](const Builtin& v) { return v.name; },
            [](const Ident& v) { return v.name; },
            [this](const MapRef& v) {
              std::string s = "@" + v.name;
              // Brackets do not reopen division in a predicate (the lexer only counts parentheses).
              for (size_t i = 0; i < v.keys.size(); ++i) s += (i ? ", " : "[") + expr(*v.keys[i]);
              if (!v.keys.empty()) s += "]";
              return s;
            },
            [](const VarRef& v) { return "$" + v.name; },
            [](const Positional& v) { return "$" + std::to_string(v.index); },
            [](const PositionalCount&) { return std::string("$#"); },
            [this](const Call& v) { return v.name + "(" + list(v.args) + ")"; },
            [this](const Unary& v) {
              if (v.postfix) return wrap(*v.operand, kPrecPostfix) + v.op;
              // A space between nested prefix operators keeps '- -x' from reading as '--x'
              // (parentheses would work too, but would deepen the tree's nesting on reparse).
              bool nested =
                  std::holds_alternative<Unary>(v.operand->node) && !std::get<Unary>(v.operand->node).postfix;
              return v.op + (nested ? " " : "") + wrap(*v.operand, kPrecUnary);
            },
            [this](const Binary& v) {
              int p = binary_prec(v.op);
              if (bare_slash_ends_ && v.op == "/") {
                bare_slash_ends_ = false;
                std::string s = "(" + wrap(*v.lhs, p) + " / " + wrap(*v.rhs, p + 1) + ")";
                bare_slash_ends_ = true;
                return s;
              }
              return wrap(*v.lhs, p) + " " + v.op + " " + wrap(*v.rhs, p + 1);
            },
            [this](const Ternary& v) {
              return wrap(*v.cond, kPrecTernary + 1) + " ? " + expr(*v.then) + " : " +
                     wrap(*v.otherwise, kPrecTernary);
            },
            [this](const FieldAccess& v) {
              return wrap(*v.base, kPrecPostfix) + (v.arrow ? "->" : ".") + v.field;
            },
            [this](const Index& v) { return wrap(*v.base, kPrecPostfix) + "[" + expr(*v.index) + "]"; },
            [this](const Cast& v) { return "(" + print_type(v.type) + ")" + wrap(*v.operand, kPrecUnary); },
            [this](const Tuple& v) { return "(" + list(v.elems) + ")"; },
            [this](const Sizeof& v) {
              return "sizeof(" + (v.type ? print_type(*v.type) : inside_parens(*v.expr)) + ")";
            },
            [](const Offsetof& v) { return "offsetof(" + print_type(v.type) + ", " + v.field + ")"; },
        },
        e.node);
  }

  void block(const Block& b, int indent, std::string& out) {
    out += "{\n";
    for (const StmtPtr& s : b) stmt(*s, indent + 1, out);
    out += std::string(static_cast<size_t>(indent) * 2, ' ') + "}";
  }

  void stmt(const Stmt& s, int indent, std::string& out) {
    std::string pad(static_cast<size_t>(indent) * 2, ' ');
    out += pad;
    std::visit(Overloaded{
                   [&](const ExprStmt& v) { out += expr(*v.expr) + ";"; },
                   [&](const Assign& v) { out += expr(*v.target) + " " + v.op + " " + expr(*v.value) + ";"; },
                   [&](const If& v) {
                     out += "if (" + expr(*v.cond) + ") ";
                     block(v.then, indent, out);
                     if (v.otherwise) {
                       out += " else ";
                       block(*v.otherwise, indent, out);
                     }
                   },
                   [&](const Unroll& v) {
                     out += "unroll (" + expr(*v.count) + ") ";
                     block(v.body, indent, out);
                   },
                   [&](const While& v) {
                     out += "while (" + expr(*v.cond) + ") ";
                     block(v.body, indent, out);
                   },
                   [&](const For& v) {
                     out += "for ($" + v.var + " : " + expr(*v.range);
                     if (v.range_end) out += ".." + expr(*v.range_end);
                     out += ") ";
                     block(v.body, indent, out);
                   },
                   [&](const Return& v) { out += v.value ? "return " + expr(*v.value) + ";" : "return;"; },
                   [&](const Break&) { out += "break;"; },
                   [&](const Continue&) { out += "continue;"; },
                   [&](const VarDecl& v) {
                     out += "let $" + v.name;
                     if (v.type) out += ": " + print_type(*v.type);
                     if (v.init) out += " = " + expr(*v.init);
                     out += ";";
                   },
               },
               s.node);
    out += "\n";
  }

 private:
  std::string wrap(const Expr& e, int min_prec) {
    if (prec(e) >= min_prec) return expr(e);
    return "(" + inside_parens(e) + ")";
  }

  // Within parentheses a '/' is division again, so it needs no parentheses of its own.
  std::string inside_parens(const Expr& e) {
    bool saved = bare_slash_ends_;
    bare_slash_ends_ = false;
    std::string s = expr(e);
    bare_slash_ends_ = saved;
    return s;
  }

  std::string list(const std::vector<ExprPtr>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + inside_parens(*v[i]);
    return s;
  }

  // True while printing where an unparenthesized '/' would end a predicate.
  bool bare_slash_ends_;
};

class Dumper {
 public:
  std::string expr(const Expr& e) {
    return std::visit(
        Overloaded{
            [](const IntLit& v) { return std::to_string(v.value); },
            [](const StrLit& v) { return quote_string(v.value); },
            [](const Builtin& v) { return "builtin:" + v.name; },
            [](const Ident& v) { return "ident:" + v.name; },
            [this](const MapRef& v) { return "(map @" + v.name + list(v.keys) + ")"; },
            [](const VarRef& v) { return "$" + v.name; },
            [](const Positional& v) { return "$" + std::to_string(v.index); },
            [](const PositionalCount&) { return std::string("$#"); },
            [this](const Call& v) { return "(call " + v.name + list(v.args) + ")"; },
            [this](const Unary& v) {
              return std::string(v.postfix ? "(post" : "(") + v.op + " " + expr(*v.operand) + ")";
            },
            [this](const Binary& v) { return "(" + v.op + " " + expr(*v.lhs) + " " + expr(*v.rhs) + ")"; },
            [this](const Ternary& v) {
              return "(? " + expr(*v.cond) + " " + expr(*v.then) + " " + expr(*v.otherwise) + ")";
            },
            [this](const FieldAccess& v) {
              return std::string(v.arrow ? "(-> " : "(. ") + expr(*v.base) + " " + v.field + ")";
            },
            [this](const Index& v) { return "([] " + expr(*v.base) + " " + expr(*v.index) + ")"; },
            [this](const Cast& v) { return "(cast " + print_type(v.type) + " " + expr(*v.operand) + ")"; },
            [this](const Tuple& v) { return "(tuple" + list(v.elems) + ")"; },
            [this](const Sizeof& v) {
              return "(sizeof " + (v.type ? print_type(*v.type) : expr(*v.expr)) + ")";
            },
            [](const Offsetof& v) { return "(offsetof " + print_type(v.type) + " " + v.field + ")"; },
        },
        e.node);
  }

 private:
  std::string list(const std::vector<ExprPtr>& v) {
    std::string s;
    for (const ExprPtr& e : v) s += " " + expr(*e);
    return s;
  }
};

}  // namespace

std::string quote_string(const std::string& value) {
  std::string s = "\"";
  for (char c : value) {
    switch (c) {
      case '\n':
        s += "\\n";
        break;
      case '\t':
        s += "\\t";
        break;
      case '\r':
        s += "\\r";
        break;
      case '\\':
        s += "\\\\";
        break;
      case '"':
        s += "\\\"";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          s += buf;
        } else {
          s += c;
        }
    }
  }
  return s + "\"";
}

std::string print_type(const TypeName& type) {
  std::string s = type.name;
  if (type.pointer_depth) s += " " + std::string(type.pointer_depth, '*');
  if (type.array_length) s += "[" + std::to_string(*type.array_length) + "]";
  return s;
}

std::string print_expr(const Expr& expr) { return Printer().expr(expr); }

std::string dump_expr(const Expr& expr) { return Dumper().expr(expr); }

std::string print_program(const Program& program) {
  std::string out;
  for (const Directive& d : program.directives) out += d.text + "\n";
  for (const Probe& p : program.probes) {
    if (!out.empty()) out += "\n";
    for (size_t i = 0; i < p.attach_points.size(); ++i) {
      out += (i ? ",\n" : "") + p.attach_points[i].text;
    }
    out += "\n";
    if (p.predicate) out += "/" + Printer(true).expr(*p.predicate) + "/\n";
    Printer printer;
    printer.block(p.body, 0, out);
    out += "\n";
  }
  return out;
}

}  // namespace bpfkit::lang
