#include "lang/semantic.h"

#include <linux/bpf.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "lang/btf_fields.h"
#include "lang/probe_context.h"

namespace bpfkit::lang {

const MapInfo* ScriptInfo::find_map(const std::string& name) const {
  for (const MapInfo& m : maps) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

uint32_t MapInfo::user_key_size() const {
  if (single_counter()) return 4;
  if (keys.empty()) return 8;
  uint32_t total = 0;
  for (const Type& k : keys) total += k.storage_size();
  return total;
}

namespace {

using format::AggKind;

std::optional<AggKind> aggregation_of(const std::string& fn) {
  static const std::pair<const char*, AggKind> kAggs[] = {
      {"count", AggKind::Count}, {"sum", AggKind::Sum},     {"min", AggKind::Min},   {"max", AggKind::Max},
      {"avg", AggKind::Avg},     {"stats", AggKind::Stats}, {"hist", AggKind::Hist}, {"lhist", AggKind::Lhist}};
  for (auto [name, kind] : kAggs) {
    if (fn == name) return kind;
  }
  return std::nullopt;
}

const char* agg_name(AggKind kind) {
  switch (kind) {
    case AggKind::Plain: return "a plain value";
    case AggKind::Count: return "count()";
    case AggKind::Sum: return "sum()";
    case AggKind::Min: return "min()";
    case AggKind::Max: return "max()";
    case AggKind::Avg: return "avg()";
    case AggKind::Stats: return "stats()";
    case AggKind::Hist: return "hist()";
    case AggKind::Lhist: return "lhist()";
  }
  return "?";
}

std::string where(Location loc) { return std::to_string(loc.line) + ":" + std::to_string(loc.column); }

// Functions used as statements (no value).
const std::set<std::string>& statement_functions() {
  static const std::set<std::string> kNames = {"printf", "exit",   "print", "clear", "zero",  "delete",
                                               "time",   "join",   "system", "cat",  "signal"};
  return kNames;
}

class Analyser {
 public:
  Analyser(const Source& source, ScriptInfo& info, const SemanticOptions& options, bool strict)
      : source_(source), info_(info), options_(options), strict_(strict) {}

  void analyse_probe(ConcreteProbe& probe) {
    probe_ = &probe;
    probe.types.clear();
    probe.fields.clear();
    probe.vars.clear();
    loop_depth_ = 0;
    if (probe.probe->predicate) {
      Type t = expr(*probe.probe->predicate);
      if (!t.is_int() && t.kind != TypeKind::Pointer) {
        fail(probe.probe->predicate->loc, "a predicate must be an integer condition, not " + type_name(t));
      }
    }
    block(probe.probe->body);
  }

 private:
  [[noreturn]] void fail(Location loc, const std::string& message) const {
    throw SemanticError(source_, loc, message);
  }

  Type set(const Expr& e, Type t) {
    probe_->types[&e] = t;
    return t;
  }

  void block(const Block& b) {
    for (const StmtPtr& s : b) stmt(*s);
  }

  void stmt(const Stmt& s) {
    std::visit([&](const auto& node) { stmt_node(s, node); }, s.node);
  }

  void stmt_node(const Stmt&, const ExprStmt& n) {
    const Expr& e = *n.expr;
    if (const auto* call = std::get_if<Call>(&e.node)) {
      if (aggregation_of(call->name)) {
        fail(e.loc, call->name + "() makes a value for a map: write @name = " + call->name + "(...)");
      }
      if (statement_functions().count(call->name)) {
        statement_call(e, *call);
        return;
      }
    }
    if (const auto* u = std::get_if<Unary>(&e.node); u && (u->op == "++" || u->op == "--")) {
      expr(e);
      return;
    }
    Type t = expr(e);
    (void)t;  // an expression evaluated for nothing (bpftrace accepts these)
  }

  void stmt_node(const Stmt& s, const Assign& n) {
    const Expr& target = *n.target;
    if (const auto* m = std::get_if<MapRef>(&target.node)) {
      assign_map(target, *m, n.op, *n.value, s.loc);
      return;
    }
    if (const auto* v = std::get_if<VarRef>(&target.node)) {
      if (const auto* call = std::get_if<Call>(&n.value->node); call && aggregation_of(call->name)) {
        fail(n.value->loc, call->name + "() can only be assigned to a map (@name), not to $" + v->name);
      }
      Type t = expr(*n.value);
      if (n.op != "=") {
        auto it = probe_->vars.find(v->name);
        if (it == probe_->vars.end()) fail(target.loc, "$" + v->name + " is used before it is assigned");
        if (!it->second.is_int() || !t.is_int()) fail(s.loc, "'" + n.op + "' needs integers");
        set(target, it->second);
        return;
      }
      assign_var(target, v->name, t, n.value->loc);
      return;
    }
    fail(target.loc, "only maps (@name) and variables ($name) can be assigned to");
  }

  void stmt_node(const Stmt&, const VarDecl& n) {
    Type t = Type::i64();
    if (n.init) t = expr(*n.init);
    if (n.type) {
      Type declared = type_from_name(*n.type, n.init ? n.init->loc : Location{});
      if (n.init && declared.kind != t.kind && !(declared.is_int() && t.kind == TypeKind::Pointer)) {
        fail(n.init->loc, "$" + n.name + " is declared " + type_name(declared) + " but given " + type_name(t));
      }
      t = declared;
    }
    probe_->vars[n.name] = t;
  }

  void stmt_node(const Stmt&, const If& n) {
    condition(*n.cond);
    block(n.then);
    if (n.otherwise) block(*n.otherwise);
  }

  void stmt_node(const Stmt&, const Unroll& n) {
    Type t = expr(*n.count);
    uint64_t count = 0;
    if (!t.is_int() || !constant_int(*n.count, count)) fail(n.count->loc, "unroll needs a constant count");
    if (count < 1 || count > 100) fail(n.count->loc, "unroll count must be between 1 and 100");
    block(n.body);
  }

  void stmt_node(const Stmt&, const While& n) {
    condition(*n.cond);
    ++loop_depth_;
    block(n.body);
    --loop_depth_;
  }

  void stmt_node(const Stmt& s, const For& n) {
    if (!n.range_end) fail(s.loc, "for over a map is not supported yet; use for ($i : START..END)");
    Type a = expr(*n.range), b = expr(*n.range_end);
    if (!a.is_int() || !b.is_int()) fail(n.range->loc, "a for range needs integer bounds");
    probe_->vars[n.var] = Type::i64();
    ++loop_depth_;
    block(n.body);
    --loop_depth_;
  }

  void stmt_node(const Stmt& s, const Return& n) {
    if (n.value) {
      Type t = expr(*n.value);
      if (!t.is_int()) fail(n.value->loc, "return needs an integer value");
    }
    (void)s;
  }
  void stmt_node(const Stmt& s, const Break&) {
    if (loop_depth_ == 0) fail(s.loc, "break outside a loop");
  }
  void stmt_node(const Stmt& s, const Continue&) {
    if (loop_depth_ == 0) fail(s.loc, "continue outside a loop");
  }

  void condition(const Expr& e) {
    Type t = expr(e);
    if (!t.is_int() && t.kind != TypeKind::Pointer) fail(e.loc, "a condition must be an integer, not " + type_name(t));
  }

  void assign_var(const Expr& target, const std::string& name, Type t, Location value_loc) {
    if (t.kind == TypeKind::None) fail(value_loc, "this expression has no value to assign to $" + name);
    if (t.kind == TypeKind::Record) fail(value_loc, "a whole record cannot be stored in $" + name + "; pick a field");
    auto [it, fresh] = probe_->vars.emplace(name, t);
    if (!fresh) {
      Type& have = it->second;
      if (!have.compatible(t)) {
        fail(value_loc, "$" + name + " holds " + type_name(have) + "; it cannot be assigned " + type_name(t));
      }
      if (have.is_string()) have.size = std::max(have.size, t.size);
    }
    set(target, it->second);
  }

  MapInfo& map_entry(const std::string& name, Location loc) {
    for (MapInfo& m : info_.maps) {
      if (m.name == name) return m;
    }
    MapInfo m;
    m.name = name;
    m.first_use = loc;
    info_.maps.push_back(std::move(m));
    return info_.maps.back();
  }

  std::string map_display(const MapRef& m) const { return "@" + m.name; }

  std::vector<Type> key_types(const MapRef& m) {
    std::vector<Type> keys;
    for (const ExprPtr& k : m.keys) {
      Type t = expr(*k);
      if (t.kind == TypeKind::None || t.kind == TypeKind::Record || t.kind == TypeKind::Array) {
        fail(k->loc, "a map key cannot be " + type_name(t));
      }
      if (t.kind == TypeKind::Pointer) t = Type::u64();
      keys.push_back(t);
    }
    return keys;
  }

  void check_keys(MapInfo& info, std::vector<Type> keys, Location loc, bool defining) {
    if (!info.keys.empty() || info.value.kind != TypeKind::None || info.agg != AggKind::Plain) {
      if (keys.size() != info.keys.size()) {
        fail(loc, info.name + " was used with " + std::to_string(info.keys.size()) + " key(s) at " +
                      where(info.first_use) + "; here it has " + std::to_string(keys.size()));
      }
      for (size_t i = 0; i < keys.size(); ++i) {
        if (!info.keys[i].compatible(keys[i])) {
          fail(loc, info.name + "'s key " + std::to_string(i + 1) + " is " + type_name(info.keys[i]) + " (from " +
                        where(info.first_use) + "); here it is " + type_name(keys[i]));
        }
        if (keys[i].is_string()) info.keys[i].size = std::max(info.keys[i].size, keys[i].size);
      }
      return;
    }
    (void)defining;
    info.keys = std::move(keys);
  }

  void assign_map(const Expr& target, const MapRef& m, const std::string& op, const Expr& value, Location) {
    std::vector<Type> keys = key_types(m);
    const std::string name = map_display(m);
    if (const auto* call = std::get_if<Call>(&value.node); call && aggregation_of(call->name)) {
      if (op != "=") fail(value.loc, "an aggregation is assigned with '=', not '" + op + "'");
      AggKind agg = *aggregation_of(call->name);
      aggregation_args(value, *call, agg);
      MapInfo& info = map_entry(name, target.loc);
      bool fresh = info.keys.empty() && info.value.kind == TypeKind::None && info.agg == AggKind::Plain;
      if (!fresh && info.agg != agg) {
        fail(value.loc, name + " is " + agg_name(info.agg) + " (from " + where(info.first_use) + "); it cannot also be " +
                            agg_name(agg));
      }
      check_keys(info, std::move(keys), target.loc, fresh);
      info.agg = agg;
      info.value = Type::i64();
      if (agg == AggKind::Lhist) {
        int64_t params[3];
        for (int i = 0; i < 3; ++i) {
          uint64_t v = 0;
          constant_int(*call->args[i + 1], v);
          params[i] = int64_t(v);
        }
        if (fresh || (info.lhist_step == 0)) {
          info.lhist_min = params[0];
          info.lhist_max = params[1];
          info.lhist_step = params[2];
        } else if (info.lhist_min != params[0] || info.lhist_max != params[1] || info.lhist_step != params[2]) {
          fail(value.loc, name + " was given other lhist() bounds at " + where(info.first_use));
        }
      }
      set(target, Type::i64());
      return;
    }
    Type t = expr(value);
    if (t.kind == TypeKind::None) fail(value.loc, "this expression has no value to store in " + name);
    if (t.kind == TypeKind::Record || t.kind == TypeKind::Array) {
      fail(value.loc, "a whole record cannot be stored in " + name + "; pick a field");
    }
    if (t.kind == TypeKind::Pointer) t = Type::u64();
    MapInfo& info = map_entry(name, target.loc);
    bool fresh = info.keys.empty() && info.value.kind == TypeKind::None && info.agg == AggKind::Plain;
    if (!fresh && info.agg != AggKind::Plain) {
      fail(target.loc, name + " is " + agg_name(info.agg) + " (from " + where(info.first_use) +
                           "); it cannot be assigned a value");
    }
    check_keys(info, std::move(keys), target.loc, fresh);
    if (op != "=" && (!t.is_int() || (!fresh && !info.value.is_int()))) fail(value.loc, "'" + op + "' needs integers");
    if (fresh) {
      info.value = t;
    } else if (!info.value.compatible(t)) {
      fail(value.loc, name + " holds " + type_name(info.value) + " (from " + where(info.first_use) + "); it cannot be assigned " +
                          type_name(t));
    } else if (t.is_string()) {
      info.value.size = std::max(info.value.size, t.size);
    }
    set(target, info.value);
  }

  void aggregation_args(const Expr& e, const Call& call, AggKind agg) {
    size_t want = agg == AggKind::Count ? 0 : agg == AggKind::Lhist ? 4 : 1;
    if (call.args.size() != want) {
      fail(e.loc, call.name + "() takes " + std::to_string(want) + " argument" + (want == 1 ? "" : "s") + ", not " +
                      std::to_string(call.args.size()));
    }
    for (size_t i = 0; i < call.args.size(); ++i) {
      Type t = expr(*call.args[i]);
      if (!t.is_int() && t.kind != TypeKind::Pointer) {
        fail(call.args[i]->loc, call.name + "() needs an integer, not " + type_name(t));
      }
      uint64_t v = 0;
      if (i > 0 && !constant_int(*call.args[i], v)) fail(call.args[i]->loc, "lhist()'s bounds must be constants");
    }
    if (agg == AggKind::Lhist) {
      uint64_t lo = 0, hi = 0, step = 0;
      constant_int(*call.args[1], lo);
      constant_int(*call.args[2], hi);
      constant_int(*call.args[3], step);
      if (int64_t(step) <= 0) fail(call.args[3]->loc, "lhist()'s step must be positive");
      if (int64_t(hi) <= int64_t(lo)) fail(call.args[2]->loc, "lhist()'s max must be above its min");
      if ((int64_t(hi) - int64_t(lo)) / int64_t(step) > 1000) fail(call.args[3]->loc, "lhist() would have over 1000 buckets");
    }
  }

  // Evaluates compile-time integer constants (literals, sizeof, $N, arithmetic on them).
  bool constant_int(const Expr& e, uint64_t& out) const {
    if (const auto* i = std::get_if<IntLit>(&e.node)) {
      out = i->value;
      return true;
    }
    if (const auto* u = std::get_if<Unary>(&e.node); u && u->op == "-") {
      uint64_t v = 0;
      if (!constant_int(*u->operand, v)) return false;
      out = uint64_t(-int64_t(v));
      return true;
    }
    if (const auto* p = std::get_if<Positional>(&e.node)) {
      if (p->index == 0) return false;
      if (p->index > options_.positional.size()) {
        out = 0;  // as bpftrace: a parameter not given is 0 (and "" in str())
        return true;
      }
      const std::string& s = options_.positional[p->index - 1];
      char* end = nullptr;
      out = std::strtoull(s.c_str(), &end, 0);
      return !s.empty() && *end == 0;
    }
    if (std::holds_alternative<PositionalCount>(e.node)) {
      out = options_.positional.size();
      return true;
    }
    return false;
  }

  void statement_call(const Expr& e, const Call& call) {
    const std::string& fn = call.name;
    auto want_args = [&](size_t lo, size_t hi) {
      if (call.args.size() < lo || call.args.size() > hi) {
        std::string range = lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
        fail(e.loc, fn + "() takes " + range + " argument" + (hi == 1 ? "" : "s") + ", not " +
                        std::to_string(call.args.size()));
      }
    };
    if (fn == "printf" || fn == "system" || fn == "cat") {
      if ((fn == "system" || fn == "cat") && !options_.unsafe) {
        fail(e.loc, fn + "() runs commands or reads files as root: it needs --unsafe");
      }
      if (call.args.empty()) fail(e.loc, fn + "() needs a format string");
      output_format(e, call, fn == "printf" ? EventKind::Printf : fn == "system" ? EventKind::System : EventKind::Cat);
      return;
    }
    if (fn == "exit") {
      want_args(0, 0);
      return;
    }
    if (fn == "time") {
      want_args(0, 1);
      OutputFormat f;
      f.kind = EventKind::Time;
      f.text = "%H:%M:%S\n";
      f.loc = e.loc;
      if (!call.args.empty()) {
        const auto* s = std::get_if<StrLit>(&call.args[0]->node);
        if (!s) fail(call.args[0]->loc, "time() needs a literal strftime format, e.g. \"%H:%M:%S\\n\"");
        f.text = s->value;
      }
      set(e, Type::u64());
      register_format(e, std::move(f));
      return;
    }
    if (fn == "join") {
      want_args(1, 2);
      Type t = expr(*call.args[0]);
      if (t.kind != TypeKind::Pointer && !t.is_int()) {
        fail(call.args[0]->loc, "join() needs a pointer to an array of strings (e.g. args->argv), not " + type_name(t));
      }
      OutputFormat f;
      f.kind = EventKind::Join;
      f.text = " ";
      f.loc = e.loc;
      f.record_size = 8 + kJoinMax * kJoinStringSize;
      if (call.args.size() == 2) {
        const auto* s = std::get_if<StrLit>(&call.args[1]->node);
        if (!s) fail(call.args[1]->loc, "join()'s separator must be a string literal");
        f.text = s->value;
      }
      register_format(e, std::move(f));
      return;
    }
    if (fn == "print") {
      want_args(1, 3);
      if (const auto* m = std::get_if<MapRef>(&call.args[0]->node); m && m->keys.empty()) {
        need_map(call.args[0]->loc, "@" + m->name);
        for (size_t i = 1; i < call.args.size(); ++i) {
          uint64_t v = 0;
          Type t = expr(*call.args[i]);
          if (!t.is_int() || !constant_int(*call.args[i], v)) fail(call.args[i]->loc, "print()'s top and div must be constants");
        }
        return;
      }
      if (call.args.size() != 1) fail(e.loc, "print() of a value takes one argument");
      Type t = expr(*call.args[0]);
      if (t.kind == TypeKind::None || t.kind == TypeKind::Record || t.kind == TypeKind::Array) {
        fail(call.args[0]->loc, "print() cannot show " + type_name(t));
      }
      OutputFormat f;
      f.kind = EventKind::PrintValue;
      f.loc = e.loc;
      f.args = {t};
      f.offsets = {8};
      f.record_size = 8 + t.storage_size();
      register_format(e, std::move(f));
      return;
    }
    if (fn == "clear" || fn == "zero") {
      want_args(1, 1);
      const auto* m = std::get_if<MapRef>(&call.args[0]->node);
      if (!m || !m->keys.empty()) fail(call.args[0]->loc, fn + "() takes a whole map, e.g. " + fn + "(@name)");
      need_map(call.args[0]->loc, "@" + m->name);
      return;
    }
    if (fn == "delete") {
      want_args(1, 2);
      const auto* m = std::get_if<MapRef>(&call.args[0]->node);
      if (!m) fail(call.args[0]->loc, "delete() takes a map element: delete(@m[key]) or delete(@m, key)");
      MapInfo* info = need_map(call.args[0]->loc, "@" + m->name);
      std::vector<Type> keys;
      if (call.args.size() == 2) {
        if (!m->keys.empty()) fail(call.args[1]->loc, "delete(@m[key], x): give the key once");
        Type t = expr(*call.args[1]);
        keys = t.kind == TypeKind::Tuple ? t.elems : std::vector<Type>{t};
      } else {
        keys = key_types(*m);
      }
      if (info && info->histogram()) fail(e.loc, "delete() of one key of a histogram is not supported; clear(@m) clears it");
      if (info && strict_) check_keys(*info, keys, call.args[0]->loc, false);
      return;
    }
    if (fn == "signal") {
      if (!options_.unsafe) fail(e.loc, "signal() signals processes: it needs --unsafe");
      want_args(1, 1);
      Type t = expr(*call.args[0]);
      if (!t.is_int() && !std::holds_alternative<StrLit>(call.args[0]->node)) {
        fail(call.args[0]->loc, "signal() takes a signal number or name (\"SIGKILL\")");
      }
      if (const auto* s = std::get_if<StrLit>(&call.args[0]->node); s && signal_number(s->value) < 0) {
        fail(call.args[0]->loc, "unknown signal \"" + s->value + "\"");
      }
      return;
    }
    fail(e.loc, "unknown function " + fn + "()");
  }

 public:
  static int signal_number(const std::string& name) {
    static const std::pair<const char*, int> kSignals[] = {
        {"SIGHUP", 1},  {"SIGINT", 2},   {"SIGQUIT", 3},  {"SIGILL", 4},   {"SIGTRAP", 5},  {"SIGABRT", 6},
        {"SIGBUS", 7},  {"SIGFPE", 8},   {"SIGKILL", 9},  {"SIGUSR1", 10}, {"SIGSEGV", 11}, {"SIGUSR2", 12},
        {"SIGPIPE", 13}, {"SIGALRM", 14}, {"SIGTERM", 15}, {"SIGCHLD", 17}, {"SIGCONT", 18}, {"SIGSTOP", 19}};
    std::string n = name.rfind("SIG", 0) == 0 ? name : "SIG" + name;
    for (auto [s, v] : kSignals) {
      if (n == s) return v;
    }
    return -1;
  }

 private:
  MapInfo* need_map(Location loc, const std::string& name) {
    for (MapInfo& m : info_.maps) {
      if (m.name == name) return &m;
    }
    if (strict_) fail(loc, "unknown map " + name + ": no statement assigns it");
    return nullptr;
  }

  void register_format(const Expr& e, OutputFormat f) {
    auto it = info_.format_of.find(&e);
    if (it == info_.format_of.end()) {
      info_.format_of[&e] = info_.formats.size();
      info_.formats.push_back(std::move(f));
    } else {
      // Every concrete probe of a wildcard analyses the statement again: argument
      // types may differ (args of two tracepoints); keep the widest record.
      OutputFormat& have = info_.formats[it->second];
      if (have.args.size() == f.args.size()) {
        for (size_t i = 0; i < f.args.size(); ++i) {
          if (!have.args[i].compatible(f.args[i])) {
            fail(e.loc, "argument " + std::to_string(i + 1) + " has type " + type_name(f.args[i]) + " here but " +
                            type_name(have.args[i]) + " in another probe this statement is attached to");
          }
          if (f.args[i].is_string()) have.args[i].size = std::max(have.args[i].size, f.args[i].size);
        }
        lay_out(have);
      }
    }
  }

  static void lay_out(OutputFormat& f) {
    f.offsets.clear();
    uint32_t off = 8;
    for (const Type& t : f.args) {
      f.offsets.push_back(off);
      off += t.storage_size();
    }
    f.record_size = std::max(f.record_size, off);
    if (f.kind == EventKind::Join) f.record_size = 8 + kJoinMax * kJoinStringSize;
  }

  void output_format(const Expr& e, const Call& call, EventKind kind) {
    const auto* fmt = std::get_if<StrLit>(&call.args[0]->node);
    if (!fmt) fail(call.args[0]->loc, call.name + "()'s format must be a string literal");
    OutputFormat f;
    f.kind = kind;
    f.text = fmt->value;
    f.loc = e.loc;
    try {
      f.printf = format::parse_printf_format(fmt->value);
    } catch (const format::FormatError& err) {
      Location loc = call.args[0]->loc;
      loc.column += uint32_t(err.offset()) + 1;  // past the opening quote (escapes shift it; close enough)
      loc.length = 1;
      fail(loc, err.what());
    }
    if (f.printf.conversions.size() != call.args.size() - 1) {
      fail(e.loc, "the format has " + std::to_string(f.printf.conversions.size()) + " conversion(s) but " +
                      std::to_string(call.args.size() - 1) + " argument(s) follow it");
    }
    for (size_t i = 1; i < call.args.size(); ++i) {
      Type t = expr(*call.args[i]);
      const format::Conversion& c = f.printf.conversions[i - 1];
      bool ok = true;
      switch (c.kind) {
        case format::ArgKind::Integer:
        case format::ArgKind::Char:
        case format::ArgKind::Pointer: ok = t.is_int() || t.kind == TypeKind::Pointer; break;
        case format::ArgKind::String:
          ok = t.kind != TypeKind::None && t.kind != TypeKind::Record && t.kind != TypeKind::Array &&
               t.kind != TypeKind::Buffer;
          break;
        case format::ArgKind::Buffer: ok = t.kind == TypeKind::Buffer; break;
      }
      if (!ok) {
        fail(call.args[i]->loc, "argument " + std::to_string(i) + " is " + type_name(t) + " but the format's " + c.spec +
                                    " wants " + (c.kind == format::ArgKind::String   ? "a string"
                                                 : c.kind == format::ArgKind::Buffer ? "a buf()"
                                                                                     : "an integer"));
      }
      if (t.kind == TypeKind::Pointer) t = Type::u64();
      f.args.push_back(t);
    }
    lay_out(f);
    register_format(e, std::move(f));
  }

  Type type_from_name(const TypeName& tn, Location loc) {
    static const std::pair<const char*, Type> kInts[] = {
        {"int8", Type::integer(1, true)},   {"uint8", Type::integer(1, false)},  {"int16", Type::integer(2, true)},
        {"uint16", Type::integer(2, false)}, {"int32", Type::integer(4, true)},  {"uint32", Type::integer(4, false)},
        {"int64", Type::integer(8, true)},   {"uint64", Type::integer(8, false)}, {"char", Type::integer(1, true)},
        {"short", Type::integer(2, true)},   {"int", Type::integer(4, true)},     {"long", Type::integer(8, true)},
        {"unsigned int", Type::integer(4, false)}, {"unsigned long", Type::integer(8, false)},
        {"u8", Type::integer(1, false)},   {"u16", Type::integer(2, false)}, {"u32", Type::integer(4, false)},
        {"u64", Type::integer(8, false)},  {"s8", Type::integer(1, true)},   {"s16", Type::integer(2, true)},
        {"s32", Type::integer(4, true)},   {"s64", Type::integer(8, true)},  {"bool", Type::integer(1, false)}};
    if (tn.pointer_depth > 0) {
      Type p = Type::of_kind(TypeKind::Pointer);
      p.size = 8;
      p.space = AddrSpace::Kernel;
      if (tn.pointer_depth == 1) p.btf_id = btf_type_named(tn.name);
      return p;
    }
    if (tn.name == "string") return Type::string(tn.array_length ? uint32_t(*tn.array_length) : kDefaultStringSize);
    for (const auto& [name, t] : kInts) {
      if (tn.name == name) return t;
    }
    fail(loc, "unknown type '" + tn.name + "'; integer types are int8..int64 and uint8..uint64");
  }

  // BTF is read only for kfunc probes (their args) and typed pointers.
  ProbeContext context() const {
    ProbeKind k = probe_->spec.kind;
    return ProbeContext(*probe_, k == ProbeKind::Fentry || k == ProbeKind::Fexit ? btf() : nullptr);
  }

  const object::Btf* btf() const { return options_.vmlinux_btf ? options_.vmlinux_btf().get() : nullptr; }

  uint32_t btf_type_named(const std::string& name) {
    auto btf = options_.vmlinux_btf ? options_.vmlinux_btf() : nullptr;
    if (!btf) return 0;
    std::string_view n = name;
    object::BtfKind kind = object::BtfKind::Struct;
    if (n.rfind("struct ", 0) == 0) n.remove_prefix(7);
    else if (n.rfind("union ", 0) == 0) { n.remove_prefix(6); kind = object::BtfKind::Union; }
    auto id = btf->find_by_name(n, kind);
    if (!id) id = btf->find_by_name(n, object::BtfKind::Typedef);
    return id.value_or(0);
  }

  // ----- expressions -----

  Type expr(const Expr& e) {
    return set(e, std::visit([&](const auto& node) { return expr_node(e, node); }, e.node));
  }

  Type expr_node(const Expr&, const IntLit& n) {
    return n.value > uint64_t(INT64_MAX) ? Type::u64() : Type::i64();
  }
  Type expr_node(const Expr&, const StrLit& n) { return Type::string(uint32_t(n.value.size()) + 1); }

  Type expr_node(const Expr& e, const Builtin& n) {
    ProbeContext ctx = context();
    const std::string& b = n.name;
    if (b == "pid" || b == "tid" || b == "uid" || b == "gid" || b == "cpu" || b == "rand") return Type::integer(4, false);
    if (b == "cpid") {
      if (options_.cpid == 0) fail(e.loc, "cpid is the pid of the -c command; this run has no -c");
      return Type::integer(4, false);
    }
    if (b == "nsecs" || b == "elapsed" || b == "cgroup" || b == "jiffies") return Type::u64();
    if (b == "comm") return Type::string(16);
    if (b == "kstack" || b == "ustack") return stack_type(b == "ustack", {});
    if (b == "func") {
      if (!ctx.has_function()) fail(e.loc, "func is only known in probes on a function (uprobe, kprobe, kfunc)");
      return Type::string(uint32_t(ctx.function_name().size()) + 1);
    }
    if (b == "probe") return Type::string(uint32_t(probe_->name.size()) + 1);
    if (b == "curtask") {
      Type t = Type::of_kind(TypeKind::Pointer);
      t.size = 8;
      t.space = AddrSpace::Kernel;
      t.btf_id = btf_type_named("task_struct");
      return t;
    }
    if (b == "retval") {
      if (!ctx.has_retval()) fail(e.loc, "retval is only known in uretprobe, kretprobe and kretfunc/fexit probes");
      return Type::i64();
    }
    if (b.rfind("arg", 0) == 0 && b.size() > 3 && std::isdigit(static_cast<unsigned char>(b[3]))) {
      int index = std::stoi(b.substr(3));
      std::string why = ctx.arg_unavailable(index);
      if (!why.empty()) fail(e.loc, why);
      return Type::u64();
    }
    if (b == "args") {
      if (!ctx.has_args()) fail(e.loc, "args is only known in tracepoint and kfunc/fentry probes");
      Type t = Type::of_kind(TypeKind::Record);
      t.size = ctx.args_size();
      return t;
    }
    fail(e.loc, "builtin '" + b + "' is not supported by bpfkit yet");
  }

  Type stack_type(bool user, const std::vector<ExprPtr>& args) {
    Type t = Type::of_kind(TypeKind::Stack);
    t.user_stack = user;
    for (const ExprPtr& a : args) {
      if (const auto* id = std::get_if<Ident>(&a->node)) {
        if (id->name == "perf") t.perf_mode = true;
        else if (id->name != "bpftrace") fail(a->loc, "a stack mode is bpftrace or perf, not '" + id->name + "'");
        continue;
      }
      uint64_t limit = 0;
      if (!constant_int(*a, limit) || limit == 0 || limit > 127) fail(a->loc, "a stack limit is a constant from 1 to 127");
      t.stack_limit = uint32_t(limit);
    }
    (user ? info_.uses_ustack : info_.uses_kstack) = true;
    return t;
  }

  Type expr_node(const Expr& e, const Ident& n) {
    fail(e.loc, "unknown identifier '" + n.name + "'");
  }

  Type expr_node(const Expr& e, const MapRef& n) {
    std::string name = "@" + n.name;
    std::vector<Type> keys = key_types(n);
    MapInfo* info = nullptr;
    for (MapInfo& m : info_.maps) {
      if (m.name == name) info = &m;
    }
    if (!info) {
      if (strict_) fail(e.loc, "unknown map " + name + ": no statement assigns it");
      return Type::i64();
    }
    if (info->agg != AggKind::Plain) {
      // Aggregations live in per-CPU maps: a probe sees only its own CPU's share.
      fail(e.loc, name + " is " + agg_name(info->agg) + ": aggregations are printed, not read in an expression");
    }
    if (strict_) check_keys(*info, keys, e.loc, false);
    return info->value.kind == TypeKind::None ? Type::i64() : info->value;
  }

  Type expr_node(const Expr& e, const VarRef& n) {
    auto it = probe_->vars.find(n.name);
    if (it == probe_->vars.end()) fail(e.loc, "$" + n.name + " is used before it is assigned");
    return it->second;
  }

  Type expr_node(const Expr& e, const Positional& n) {
    if (n.index == 0) fail(e.loc, "positional parameters start at $1");
    uint64_t v = 0;
    if (constant_int(e, v)) return Type::i64();
    return Type::string(uint32_t(options_.positional[n.index - 1].size()) + 1);
  }
  Type expr_node(const Expr&, const PositionalCount&) { return Type::i64(); }

  Type expr_node(const Expr& e, const Call& n) {
    const std::string& fn = n.name;
    auto argc = [&](size_t lo, size_t hi) {
      if (n.args.size() < lo || n.args.size() > hi) {
        fail(e.loc, fn + "() takes " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                        " argument(s), not " + std::to_string(n.args.size()));
      }
    };
    if (aggregation_of(fn)) fail(e.loc, fn + "() makes a value for a map: write @name = " + fn + "(...)");
    if (statement_functions().count(fn)) fail(e.loc, fn + "() has no value; call it as a statement");
    if (fn == "str") {
      argc(1, 2);
      Type t = expr(*n.args[0]);
      if (t.is_string()) return t;
      if (const auto* p = std::get_if<Positional>(&n.args[0]->node); p && p->index > options_.positional.size()) {
        return Type::string(1);  // str($N) of a parameter not given: ""
      }
      if (t.kind != TypeKind::Pointer && !t.is_int()) fail(n.args[0]->loc, "str() needs a pointer, not " + type_name(t));
      uint32_t cap = kDefaultStringSize;
      if (n.args.size() == 2) {
        uint64_t len = 0;
        Type lt = expr(*n.args[1]);
        if (!lt.is_int() || !constant_int(*n.args[1], len) || len == 0 || len > 1024) {
          fail(n.args[1]->loc, "str()'s length must be a constant from 1 to 1024");
        }
        cap = uint32_t(len) + 1;
      }
      Type s = Type::string(cap);
      s.space = t.space == AddrSpace::None ? context().default_space() : t.space;
      return s;
    }
    if (fn == "kstack" || fn == "ustack") {
      argc(0, 2);
      return stack_type(fn == "ustack", n.args);
    }
    if (fn == "ksym" || fn == "usym") {
      argc(1, 1);
      Type t = expr(*n.args[0]);
      if (!t.is_int() && t.kind != TypeKind::Pointer) fail(n.args[0]->loc, fn + "() needs an address");
      return Type::of_kind(fn == "ksym" ? TypeKind::Ksym : TypeKind::Usym);
    }
    if (fn == "buf") {
      argc(1, 2);
      Type t = expr(*n.args[0]);
      uint64_t len = 64;
      if (t.kind == TypeKind::Array && n.args.size() == 1) {
        len = t.size;
      } else if (t.kind != TypeKind::Pointer && !t.is_int()) {
        fail(n.args[0]->loc, "buf() needs a pointer (and a length), not " + type_name(t));
      }
      if (n.args.size() == 2) {
        Type lt = expr(*n.args[1]);
        if (!lt.is_int()) fail(n.args[1]->loc, "buf()'s length must be an integer");
        // A constant length sizes the buffer; a run-time one is capped at 64 bytes.
        if (constant_int(*n.args[1], len) && (len == 0 || len > 256)) {
          fail(n.args[1]->loc, "buf()'s length must be from 1 to 256");
        }
      }
      Type b = Type::of_kind(TypeKind::Buffer);
      b.size = uint32_t(len);
      b.space = t.space == AddrSpace::None ? context().default_space() : t.space;
      return b;
    }
    if (fn == "uaddr") {
      argc(1, 1);
      if (!std::holds_alternative<StrLit>(n.args[0]->node)) fail(n.args[0]->loc, "uaddr() takes a symbol name literal");
      ProbeKind k = probe_->spec.kind;
      if (k != ProbeKind::Uprobe && k != ProbeKind::Uretprobe) {
        fail(e.loc, "uaddr() looks the symbol up in the probed binary: it needs a uprobe or uretprobe");
      }
      expr(*n.args[0]);
      return Type::u64();
    }
    if (fn == "kaddr") {
      argc(1, 1);
      if (!std::holds_alternative<StrLit>(n.args[0]->node)) fail(n.args[0]->loc, "kaddr() takes a symbol name literal");
      expr(*n.args[0]);
      return Type::u64();
    }
    if (fn == "strncmp") {
      argc(3, 3);
      Type a = expr(*n.args[0]), b = expr(*n.args[1]), c = expr(*n.args[2]);
      uint64_t len = 0;
      if (!a.is_string() || !b.is_string()) fail(e.loc, "strncmp() compares two strings");
      if (!c.is_int() || !constant_int(*n.args[2], len)) fail(n.args[2]->loc, "strncmp()'s length must be a constant");
      return Type::i64();
    }
    if (fn == "sizeof") {
      argc(1, 1);
      Type t = expr(*n.args[0]);
      return Type::u64();
    }
    if (fn == "ntop") {
      argc(1, 2);
      for (const ExprPtr& a : n.args) {
        Type t = expr(*a);
        if (!t.is_int() && t.kind != TypeKind::Array && t.kind != TypeKind::Pointer) fail(a->loc, "ntop() takes an address");
      }
      return Type::of_kind(TypeKind::Inet);
    }
    fail(e.loc, "unknown function " + fn + "()");
  }

  Type expr_node(const Expr& e, const Unary& n) {
    if (n.op == "++" || n.op == "--") {
      Type t = expr(*n.operand);
      if (const auto* m = std::get_if<MapRef>(&n.operand->node)) {
        std::string name = "@" + m->name;
        MapInfo& info = map_entry(name, e.loc);
        bool fresh = info.keys.empty() && info.value.kind == TypeKind::None && info.agg == AggKind::Plain;
        if (!fresh && info.agg != AggKind::Plain) fail(e.loc, name + " is " + agg_name(info.agg) + "; it cannot be incremented");
        check_keys(info, key_types(*m), e.loc, fresh);
        if (fresh) info.value = Type::i64();
        if (!info.value.is_int()) fail(e.loc, name + " holds " + type_name(info.value) + "; only integers can be incremented");
        set(*n.operand, info.value);
        return info.value;
      }
      if (!std::holds_alternative<VarRef>(n.operand->node)) fail(e.loc, n.op + " works on a map or a $variable");
      if (!t.is_int()) fail(e.loc, n.op + " needs an integer");
      return t;
    }
    Type t = expr(*n.operand);
    if (n.op == "*") {
      if (t.kind != TypeKind::Pointer && !t.is_int()) fail(e.loc, "'*' needs a pointer");
      return Type::u64();
    }
    if (n.op == "&") fail(e.loc, "taking an address with '&' is not supported");
    if (!t.is_int() && t.kind != TypeKind::Pointer) fail(e.loc, "'" + n.op + "' needs an integer, not " + type_name(t));
    if (n.op == "!") return Type::u64();
    return Type::integer(8, n.op == "-" ? true : t.is_signed);
  }

  Type expr_node(const Expr& e, const Binary& n) {
    Type a = expr(*n.lhs), b = expr(*n.rhs);
    const std::string& op = n.op;
    bool compare = op == "==" || op == "!=" || op == "<" || op == ">" || op == "<=" || op == ">=";
    if (a.is_string() || b.is_string()) {
      if (!(a.is_string() && b.is_string())) {
        fail(e.loc, "'" + op + "' between " + type_name(a) + " and " + type_name(b) + ": both sides must be strings");
      }
      if (op != "==" && op != "!=") fail(e.loc, "strings compare with == and != only (strncmp() for prefixes)");
      return Type::u64();
    }
    auto intlike = [](const Type& t) { return t.is_int() || t.kind == TypeKind::Pointer; };
    if (!intlike(a) || !intlike(b)) {
      fail(e.loc, "'" + op + "' needs integers, not " + type_name(a) + " and " + type_name(b));
    }
    if (compare || op == "&&" || op == "||") return Type::u64();
    if (a.kind == TypeKind::Pointer && (op == "+" || op == "-")) return a;
    bool is_signed = a.is_signed && b.is_signed;
    return Type::integer(8, is_signed);
  }

  Type expr_node(const Expr& e, const Ternary& n) {
    condition(*n.cond);
    Type a = expr(*n.then), b = expr(*n.otherwise);
    if (!a.compatible(b)) fail(e.loc, "the two branches of ?: have different types: " + type_name(a) + " and " + type_name(b));
    if (a.is_string()) a.size = std::max(a.size, b.size);
    if (a.is_int()) a = Type::integer(8, a.is_signed && b.is_signed);
    return a;
  }

  Type expr_node(const Expr& e, const FieldAccess& n) {
    Type base = expr(*n.base);
    if (base.kind == TypeKind::Tuple) {
      char* end = nullptr;
      unsigned long idx = std::strtoul(n.field.c_str(), &end, 10);
      if (*end || n.field.empty() || idx >= base.elems.size()) {
        fail(e.loc, "a tuple of " + std::to_string(base.elems.size()) + " has no element ." + n.field);
      }
      return base.elems[idx];
    }
    if (std::holds_alternative<Builtin>(n.base->node) && std::get<Builtin>(n.base->node).name == "args") {
      ProbeContext ctx = context();
      std::string err;
      auto field = ctx.arg_field(n.field, err);
      if (!field) fail(e.loc, err);
      probe_->fields[&e] = field->info;
      return field->type;
    }
    auto btf = options_.vmlinux_btf ? options_.vmlinux_btf() : nullptr;
    if ((base.kind == TypeKind::Pointer && n.arrow) || (base.kind == TypeKind::Record && !n.arrow && base.btf_id)) {
      if (!btf || base.btf_id == 0) fail(e.loc, "cannot look up field '" + n.field + "': the type of this pointer is unknown (cast it: (struct foo *)p)");
      std::string err;
      auto member = find_btf_member(*btf, base.btf_id, n.field, err);
      if (!member) fail(e.loc, err);
      FieldInfo fi;
      fi.offset = member->offset;
      probe_->fields[&e] = fi;
      return type_of_btf(*btf, member->type_id, e.loc);
    }
    if (base.kind == TypeKind::Pointer) fail(e.loc, "use '->' to reach a field through a pointer");
    fail(e.loc, type_name(base) + " has no fields");
  }

  Type type_of_btf(const object::Btf& btf, uint32_t id, Location loc) {
    uint32_t r = btf.resolve(id);
    const object::BtfType& t = btf.type(r);
    switch (t.kind) {
      case object::BtfKind::Int: {
        const auto* i = t.as<object::BtfInt>();
        return Type::integer(t.size, i && (i->encoding & object::kBtfIntSigned));
      }
      case object::BtfKind::Enum:
      case object::BtfKind::Enum64: return Type::integer(t.size, false);
      case object::BtfKind::Ptr: {
        Type p = Type::of_kind(TypeKind::Pointer);
        p.size = 8;
        p.space = AddrSpace::Kernel;
        uint32_t pointee = btf.resolve(t.type);
        const object::BtfType& pt = btf.type(pointee);
        if (pt.kind == object::BtfKind::Struct || pt.kind == object::BtfKind::Union) p.btf_id = pointee;
        return p;
      }
      case object::BtfKind::Array: {
        const auto* a = t.as<object::BtfArray>();
        const object::BtfType& elem = btf.type(btf.resolve(a->elem_type));
        if (elem.kind == object::BtfKind::Int && elem.size == 1) return Type::string(a->nelems);
        Type arr = Type::of_kind(TypeKind::Array);
        arr.elems = {type_of_btf(btf, a->elem_type, loc)};
        arr.size = uint32_t(btf.size_of(r));
        return arr;
      }
      case object::BtfKind::Struct:
      case object::BtfKind::Union: {
        Type rec = Type::of_kind(TypeKind::Record);
        rec.size = t.size;
        rec.btf_id = r;
        return rec;
      }
      default: fail(loc, "fields of type " + btf.type_name(id) + " cannot be read");
    }
  }

  Type expr_node(const Expr& e, const Index& n) {
    Type base = expr(*n.base);
    Type idx = expr(*n.index);
    if (!idx.is_int()) fail(n.index->loc, "an index must be an integer");
    if (base.kind == TypeKind::Array) {
      uint64_t i = 0;
      uint32_t count = base.size / std::max<uint32_t>(1, base.elems[0].storage_size());
      if (!constant_int(*n.index, i)) fail(n.index->loc, "an array index must be a constant");
      if (i >= count) fail(n.index->loc, "index " + std::to_string(i) + " is past the array's " + std::to_string(count) + " elements");
      return base.elems[0];
    }
    if (base.kind == TypeKind::Pointer) return Type::u64();  // p[i]: the i-th 8-byte word
    fail(e.loc, type_name(base) + " cannot be indexed");
  }

  Type expr_node(const Expr& e, const Cast& n) {
    Type t = expr(*n.operand);
    Type to = type_from_name(n.type, e.loc);
    if (to.kind == TypeKind::String) fail(e.loc, "cast to a string: use str()");
    if (!t.is_int() && t.kind != TypeKind::Pointer) fail(e.loc, "only integers and pointers can be cast, not " + type_name(t));
    if (to.kind == TypeKind::Pointer && to.space == AddrSpace::Kernel && t.kind == TypeKind::Pointer) to.space = t.space;
    return to;
  }

  Type expr_node(const Expr&, const Tuple& n) {
    Type t = Type::of_kind(TypeKind::Tuple);
    for (const ExprPtr& el : n.elems) {
      Type et = expr(*el);
      if (et.kind == TypeKind::None || et.kind == TypeKind::Record || et.kind == TypeKind::Array) {
        fail(el->loc, "a tuple cannot hold " + type_name(et));
      }
      if (et.kind == TypeKind::Pointer) et = Type::u64();
      t.elems.push_back(et);
    }
    return t;
  }

  Type expr_node(const Expr& e, const Sizeof& n) {
    if (n.expr) {
      expr(*n.expr);
      return Type::u64();
    }
    Type t = type_from_name(*n.type, e.loc);
    (void)t;
    return Type::u64();
  }

  Type expr_node(const Expr& e, const Offsetof&) { fail(e.loc, "offsetof() is not supported yet"); }

  const Source& source_;
  ScriptInfo& info_;
  const SemanticOptions& options_;
  bool strict_;
  ConcreteProbe* probe_ = nullptr;
  int loop_depth_ = 0;
};

}  // namespace

int signal_number_of(const std::string& name) { return Analyser::signal_number(name); }

ScriptInfo analyse_script(const Source& source, const Program& program, const SemanticOptions& options) {
  ScriptInfo info;
  info.positional = options.positional;
  info.unsafe = options.unsafe;
  info.cpid = options.cpid;
  info.probes = resolve_probes(source, program, options.kernel_probes);
  // Maps may be read in a probe before the probe that assigns them: a first lenient
  // pass learns every map's key and value types, the second checks every use.
  // A probe that fails in a lenient pass (it read a map not yet known) is skipped there;
  // the strict pass reports whatever is still wrong.
  for (bool strict : {false, false, true}) {
    info.formats.clear();
    info.format_of.clear();
    Analyser analyser(source, info, options, strict);
    for (ConcreteProbe& p : info.probes) {
      try {
        analyser.analyse_probe(p);
      } catch (const SemanticError&) {
        if (strict) throw;
      }
    }
  }
  for (const MapInfo& m : info.maps) {
    if (m.agg == format::AggKind::Plain && m.value.kind == TypeKind::None) {
      throw SemanticError(source, m.first_use, m.name + " is never assigned a value");
    }
  }
  return info;
}

}  // namespace bpfkit::lang
