#include "lang/parser.h"

#include <initializer_list>
#include <string_view>

#include "lang/lexer.h"

namespace bpfkit::lang {
namespace {

std::string at(Location loc) { return std::to_string(loc.line) + ":" + std::to_string(loc.column); }

bool is_assign_op(const Token& t) {
  if (t.kind != TokenKind::kPunct) return false;
  for (std::string_view op : {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}) {
    if (t.text == op) return true;
  }
  return false;
}

bool is_scalar_type(std::string_view name) {
  for (std::string_view t : {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "int",
                             "char", "bool", "void", "string", "inet", "buffer", "usym_t", "ksym_t"}) {
    if (name == t) return true;
  }
  return false;
}

// Binary operator levels, loosest first.
const std::vector<std::vector<std::string_view>>& binary_levels() {
  static const std::vector<std::vector<std::string_view>> levels = {
      {"||"},       {"&&"},     {"|"},          {"^"}, {"&"}, {"==", "!="}, {"<", "<=", ">", ">="},
      {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"}};
  return levels;
}

class Parser {
 public:
  Parser(const Source& source, LexStart start) : src_(source), toks_(tokenize(source, start)) {}

  Program program() {
    Program prog;
    while (!at_end()) {
      if (cur().kind == TokenKind::kDirective) {
        prog.directives.push_back(Directive{cur().text, cur().loc});
        ++pos_;
        continue;
      }
      prog.probes.push_back(probe());
    }
    return prog;
  }

  ExprPtr lone_expression() {
    ExprPtr e = expr();
    if (!at_end()) fail(cur().loc, "unexpected " + describe_token(cur()) + " after the expression");
    return e;
  }

 private:
  // Bounds recursion so that deeply nested input is an error, not a stack overflow.
  class DepthGuard {
   public:
    DepthGuard(Parser& p, Location loc) : p_(p) {
      if (++p_.depth_ > kMaxNesting) {
        p_.fail(loc, "nesting is too deep (more than " + std::to_string(kMaxNesting) + " levels)");
      }
    }
    ~DepthGuard() { --p_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Parser& p_;
  };

  [[noreturn]] void fail(Location loc, const std::string& msg) { throw SyntaxError(src_, loc, msg); }

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t ahead) const {
    return pos_ + ahead < toks_.size() ? toks_[pos_ + ahead] : toks_.back();
  }
  bool at_end() const { return cur().kind == TokenKind::kEnd; }
  bool is_punct(std::string_view p, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::kPunct && peek(ahead).text == p;
  }
  bool is_keyword(std::string_view k) const { return cur().kind == TokenKind::kKeyword && cur().text == k; }
  Token take() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }
  bool accept(std::string_view p) {
    if (!is_punct(p)) return false;
    ++pos_;
    return true;
  }
  Token expect(std::string_view p, const std::string& why) {
    if (!is_punct(p))
      fail(cur().loc, "expected '" + std::string(p) + "' " + why + ", found " + describe_token(cur()));
    return take();
  }

  // --- probes and blocks ---

  Probe probe() {
    Probe p;
    if (cur().kind != TokenKind::kAttachPoint) {
      fail(cur().loc,
           "expected a probe such as 'kprobe:do_nanosleep' or 'BEGIN', found " + describe_token(cur()));
    }
    p.loc = cur().loc;
    p.attach_points.push_back(AttachPoint{cur().text, cur().loc});
    ++pos_;
    while (accept(",")) {
      if (cur().kind != TokenKind::kAttachPoint) {
        fail(cur().loc, "expected another probe after ',', found " + describe_token(cur()));
      }
      p.attach_points.push_back(AttachPoint{cur().text, cur().loc});
      ++pos_;
    }
    if (is_punct("/")) {
      Location open = take().loc;
      if (is_punct("/"))
        fail(cur().loc, "the predicate opened at " + at(open) + " is empty; write a condition");
      in_predicate_ = true;
      p.predicate = expr();
      in_predicate_ = false;
      expect("/", "to close the predicate opened at " + at(open));
    }
    if (!is_punct("{")) {
      fail(cur().loc, "expected '{' to start the action block of '" + p.attach_points.back().text +
                          "', found " + describe_token(cur()));
    }
    p.body = block();
    return p;
  }

  Block block() {
    Location open = expect("{", "to start a block").loc;
    DepthGuard guard(*this, open);
    Block b;
    for (;;) {
      if (accept(";")) continue;
      if (is_punct("}")) break;
      if (at_end()) fail(cur().loc, "expected '}' to close the block opened at " + at(open));
      StmtPtr s = statement();
      bool compound = std::holds_alternative<If>(s->node) || std::holds_alternative<Unroll>(s->node) ||
                      std::holds_alternative<While>(s->node) || std::holds_alternative<For>(s->node);
      b.push_back(std::move(s));
      if (compound || is_punct("}") || accept(";")) continue;
      if (at_end()) fail(cur().loc, "expected '}' to close the block opened at " + at(open));
      fail(cur().loc, "expected ';' after the statement, found " + describe_token(cur()));
    }
    ++pos_;
    return b;
  }

  ExprPtr paren_expr(std::string_view what) {
    Location open = expect("(", "after '" + std::string(what) + "'").loc;
    ExprPtr e = expr();
    expect(")", "to close the '(' opened at " + at(open));
    return e;
  }

  template <class T>
  StmtPtr make_stmt(Location loc, T node) {
    auto s = std::make_unique<Stmt>();
    s->loc = loc;
    s->node = std::move(node);
    return s;
  }

  StmtPtr statement() {
    Location loc = cur().loc;
    if (cur().kind == TokenKind::kKeyword) {
      std::string k = cur().text;
      if (k == "if") {
        ++pos_;
        If node;
        node.cond = paren_expr("if");
        node.then = block();
        if (is_keyword("else")) {
          ++pos_;
          if (is_keyword("if")) {
            Block chained;
            chained.push_back(statement());
            node.otherwise = std::move(chained);
          } else {
            if (!is_punct("{"))
              fail(cur().loc, "expected '{' or 'if' after 'else', found " + describe_token(cur()));
            node.otherwise = block();
          }
        }
        return make_stmt(loc, std::move(node));
      }
      if (k == "unroll") {
        ++pos_;
        Unroll node;
        node.count = paren_expr("unroll");
        node.body = block();
        return make_stmt(loc, std::move(node));
      }
      if (k == "while") {
        ++pos_;
        While node;
        node.cond = paren_expr("while");
        node.body = block();
        return make_stmt(loc, std::move(node));
      }
      if (k == "for") return for_loop(loc);
      if (k == "return") {
        ++pos_;
        Return node;
        if (!is_punct(";") && !is_punct("}")) node.value = expr();
        return make_stmt(loc, std::move(node));
      }
      if (k == "break" || k == "continue") {
        ++pos_;
        return k == "break" ? make_stmt(loc, Break{}) : make_stmt(loc, Continue{});
      }
      if (k == "let") {
        ++pos_;
        if (cur().kind != TokenKind::kVar)
          fail(cur().loc, "expected a '$variable' after 'let', found " + describe_token(cur()));
        VarDecl node;
        node.name = take().text;
        if (accept(":")) node.type = type_name();
        if (accept("=")) node.init = expr();
        return make_stmt(loc, std::move(node));
      }
    }
    ExprPtr e = expr();
    if (is_assign_op(cur())) {
      bool target_ok = std::holds_alternative<MapRef>(e->node) || std::holds_alternative<VarRef>(e->node);
      if (!target_ok) {
        fail(e->loc, "cannot assign to this expression; assign to a map (@name[key]) or a variable ($name)");
      }
      Assign node;
      node.op = take().text;
      node.target = std::move(e);
      node.value = expr();
      return make_stmt(loc, std::move(node));
    }
    return make_stmt(loc, ExprStmt{std::move(e)});
  }

  StmtPtr for_loop(Location loc) {
    ++pos_;
    Location open = expect("(", "after 'for'").loc;
    if (cur().kind != TokenKind::kVar) {
      fail(cur().loc,
           "expected a '$variable' after 'for (', as in 'for ($kv : @map)', found " + describe_token(cur()));
    }
    For node;
    node.var = take().text;
    expect(":", "after the loop variable, as in 'for ($kv : @map)'");
    node.range = expr();
    if (accept("..")) node.range_end = expr();
    expect(")", "to close the '(' opened at " + at(open));
    node.body = block();
    return make_stmt(loc, std::move(node));
  }

  // --- types ---

  bool type_starts_at(size_t ahead) const {
    const Token& t = peek(ahead);
    if (t.kind == TokenKind::kKeyword) return t.text == "struct" || t.text == "union" || t.text == "enum";
    if (t.kind != TokenKind::kIdent) return false;
    size_t i = ahead + 1;
    if (is_scalar_type(t.text)) return is_punct(")", i) || is_punct("*", i) || is_punct("[", i);
    // A typedef name is only taken as a type when followed by '*'s and ')': `(sock *)x`.
    if (!is_punct("*", i)) return false;
    while (is_punct("*", i)) ++i;
    return is_punct(")", i);
  }

  TypeName type_name() {
    TypeName t;
    if (cur().kind == TokenKind::kKeyword &&
        (cur().text == "struct" || cur().text == "union" || cur().text == "enum")) {
      t.name = take().text + " ";
      if (cur().kind != TokenKind::kIdent && cur().kind != TokenKind::kBuiltin) {
        fail(cur().loc, "expected a name after '" + t.name.substr(0, t.name.size() - 1) + "', found " +
                            describe_token(cur()));
      }
      t.name += take().text;
    } else if (cur().kind == TokenKind::kIdent) {
      t.name = take().text;
    } else {
      fail(cur().loc,
           "expected a type name such as 'uint32' or 'struct task_struct', found " + describe_token(cur()));
    }
    while (accept("*")) ++t.pointer_depth;
    if (is_punct("[")) {
      Location open = take().loc;
      if (cur().kind != TokenKind::kInt)
        fail(cur().loc, "expected an array length, found " + describe_token(cur()));
      t.array_length = take().value;
      expect("]", "to close the '[' opened at " + at(open));
    }
    return t;
  }

  // --- expressions ---

  template <class T>
  ExprPtr make(Location loc, T node) {
    auto e = std::make_unique<Expr>();
    e->loc = loc;
    e->node = std::move(node);
    return e;
  }

  ExprPtr expr() {
    DepthGuard guard(*this, cur().loc);
    ExprPtr cond = binary(0);
    if (!is_punct("?")) return cond;
    Location q = take().loc;
    Ternary t;
    t.cond = std::move(cond);
    t.then = expr();
    expect(":", "to complete the '?' at " + at(q));
    t.otherwise = expr();
    Location loc = t.cond->loc;
    return make(loc, std::move(t));
  }

  ExprPtr binary(size_t level) {
    if (level == binary_levels().size()) return unary();
    ExprPtr lhs = binary(level + 1);
    for (;;) {
      const Token& t = cur();
      bool match = false;
      if (t.kind == TokenKind::kPunct) {
        for (std::string_view op : binary_levels()[level]) match = match || t.text == op;
      }
      // At the top of a predicate '/' closes it; division there needs parentheses.
      if (match && t.text == "/" && in_predicate_) match = false;
      if (!match) return lhs;
      Binary b;
      b.op = take().text;
      b.lhs = std::move(lhs);
      b.rhs = binary(level + 1);
      Location loc = b.lhs->loc;
      lhs = make(loc, std::move(b));
    }
  }

  ExprPtr unary() {
    DepthGuard guard(*this, cur().loc);
    Location loc = cur().loc;
    if (cur().kind == TokenKind::kPunct) {
      for (std::string_view op : {"-", "!", "~", "*", "&", "++", "--"}) {
        if (cur().text == op) {
          ++pos_;
          Unary u;
          u.op = std::string(op);
          u.operand = unary();
          return make(loc, std::move(u));
        }
      }
      if (cur().text == "(" && type_starts_at(1)) {
        ++pos_;
        Cast c;
        c.type = type_name();
        expect(")", "to close the cast opened at " + at(loc));
        c.operand = unary();
        return make(loc, std::move(c));
      }
    }
    return postfix(primary());
  }

  ExprPtr postfix(ExprPtr e) {
    for (;;) {
      Location loc = cur().loc;
      if (is_punct("->") || is_punct(".")) {
        bool arrow = take().text == "->";
        const Token& f = cur();
        bool ok = f.kind == TokenKind::kIdent || f.kind == TokenKind::kBuiltin ||
                  f.kind == TokenKind::kKeyword || (f.kind == TokenKind::kInt && !arrow);
        if (!ok)
          fail(f.loc, std::string("expected a field name after '") + (arrow ? "->" : ".") + "', found " +
                          describe_token(f));
        FieldAccess fa;
        fa.arrow = arrow;
        fa.field = f.kind == TokenKind::kInt ? std::to_string(f.value) : f.text;
        ++pos_;
        fa.base = std::move(e);
        e = make(loc, std::move(fa));
      } else if (is_punct("[")) {
        ++pos_;
        Index ix;
        ix.base = std::move(e);
        ix.index = expr();
        expect("]", "to close the '[' opened at " + at(loc));
        e = make(loc, std::move(ix));
      } else if (is_punct("++") || is_punct("--")) {
        Unary u;
        u.op = take().text;
        u.postfix = true;
        u.operand = std::move(e);
        e = make(loc, std::move(u));
      } else {
        return e;
      }
    }
  }

  std::vector<ExprPtr> call_args(Location open) {
    std::vector<ExprPtr> args;
    if (accept(")")) return args;
    bool saved = in_predicate_;
    in_predicate_ = false;  // inside parentheses '/' is division again (the lexer agrees)
    for (;;) {
      args.push_back(expr());
      if (accept(")")) {
        in_predicate_ = saved;
        return args;
      }
      if (at_end() || !is_punct(",")) {
        fail(cur().loc, "expected ',' or ')' to close the argument list opened at " + at(open) + ", found " +
                            describe_token(cur()));
      }
      ++pos_;
    }
  }

  ExprPtr primary() {
    const Token t = cur();
    switch (t.kind) {
      case TokenKind::kInt:
        ++pos_;
        return make(t.loc, IntLit{t.value});
      case TokenKind::kString:
        ++pos_;
        return make(t.loc, StrLit{t.text});
      case TokenKind::kVar:
        ++pos_;
        return make(t.loc, VarRef{t.text});
      case TokenKind::kPositional:
        ++pos_;
        return make(t.loc, Positional{t.value});
      case TokenKind::kPositionalCount:
        ++pos_;
        return make(t.loc, PositionalCount{});
      case TokenKind::kMap: {
        ++pos_;
        MapRef m;
        m.name = t.text;
        if (is_punct("[")) {
          Location open = take().loc;
          if (is_punct("]"))
            fail(cur().loc, "a map key list needs at least one key; write '@" + t.text + "' for no key");
          for (;;) {
            m.keys.push_back(expr());
            if (accept("]")) break;
            if (!is_punct(",")) {
              fail(cur().loc, "expected ',' or ']' to close the map key opened at " + at(open) + ", found " +
                                  describe_token(cur()));
            }
            ++pos_;
          }
        }
        return make(t.loc, std::move(m));
      }
      case TokenKind::kIdent:
      case TokenKind::kBuiltin:
        ++pos_;
        if (is_punct("(")) {
          Location open = take().loc;
          Call c;
          c.name = t.text;
          c.args = call_args(open);
          return make(t.loc, std::move(c));
        }
        if (t.kind == TokenKind::kBuiltin) return make(t.loc, Builtin{t.text});
        return make(t.loc, Ident{t.text});
      case TokenKind::kKeyword:
        if (t.text == "sizeof") return sizeof_expr();
        if (t.text == "offsetof") return offsetof_expr();
        break;
      case TokenKind::kPunct:
        if (t.text == "(") return paren_or_tuple();
        break;
      default:
        break;
    }
    fail(t.loc, "expected an expression, found " + describe_token(t));
  }

  ExprPtr paren_or_tuple() {
    Location open = take().loc;
    bool saved = in_predicate_;
    in_predicate_ = false;  // inside parentheses '/' is division again (the lexer agrees)
    ExprPtr first = expr();
    if (!is_punct(",")) {
      expect(")", "to close the '(' opened at " + at(open));
      in_predicate_ = saved;
      return first;
    }
    Tuple tup;
    tup.elems.push_back(std::move(first));
    while (accept(",")) tup.elems.push_back(expr());
    expect(")", "to close the tuple opened at " + at(open));
    in_predicate_ = saved;
    return make(open, std::move(tup));
  }

  ExprPtr sizeof_expr() {
    Location loc = take().loc;
    Location open = expect("(", "after 'sizeof'").loc;
    bool saved = in_predicate_;
    in_predicate_ = false;
    Sizeof s;
    bool is_type = type_starts_at(0) ||
                   (cur().kind == TokenKind::kIdent && is_scalar_type(cur().text) && is_punct(")", 1));
    if (is_type) {
      s.type = type_name();
    } else {
      s.expr = expr();
    }
    expect(")", "to close the '(' opened at " + at(open));
    in_predicate_ = saved;
    return make(loc, std::move(s));
  }

  ExprPtr offsetof_expr() {
    Location loc = take().loc;
    Location open = expect("(", "after 'offsetof'").loc;
    Offsetof o;
    o.type = type_name();
    expect(",", "between the type and the field name in offsetof");
    if (cur().kind != TokenKind::kIdent && cur().kind != TokenKind::kBuiltin) {
      fail(cur().loc, "expected a field name in offsetof, found " + describe_token(cur()));
    }
    o.field = take().text;
    expect(")", "to close the '(' opened at " + at(open));
    return make(loc, std::move(o));
  }

  const Source& src_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool in_predicate_ = false;
};

}  // namespace

Program parse_program(const Source& source) { return Parser(source, LexStart::kScript).program(); }

ExprPtr parse_expression(const Source& source) { return Parser(source, LexStart::kCode).lone_expression(); }

}  // namespace bpfkit::lang
