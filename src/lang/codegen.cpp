#include "lang/codegen.h"

#include <linux/bpf.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <type_traits>

#include "lang/emitter.h"
#include "lang/format/histogram.h"
#include "lang/probe_context.h"
#include "target/linux/kernel_symbols.h"
#include "target/linux/user_symbols.h"

namespace bpfkit::lang {

int signal_number_of(const std::string& name);  // semantic.cpp

std::string bpf_map_name(const std::string& script_name) {
  std::string out = "AT_" + script_name.substr(1);
  if (out.size() > 15) out.resize(15);
  return out;
}

namespace {

using isa::AluOp;
using isa::JmpCond;
using isa::Operand;
using format::AggKind;

constexpr uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, FP = 10;
constexpr uint8_t kCtx = R6;      // the program's context, saved at entry
constexpr uint8_t kRecord = R9;   // the per-CPU scratch buffer events are built in
constexpr uint32_t kStackLimit = 512;

// Where a value is written: a base register (FP or kRecord) and an offset.
struct Place {
  uint8_t base;
  int32_t off;
  Place at(int32_t delta) const { return {base, off + delta}; }
};

struct MapIndexes {
  size_t events = 0, scratch = 0;
  std::optional<size_t> kstack, ustack;
};

class ProbeCompiler {
 public:
  ProbeCompiler(const Source& source, const ScriptInfo& info, const ConcreteProbe& probe, const MapIndexes& maps,
                const CodegenOptions& options)
      : source_(source), info_(info), probe_(probe), maps_(maps), options_(options) {}

  std::vector<isa::RawInsn> compile(std::vector<Location>& locations) {
    out_.at(probe_.loc);
    exit_label_ = out_.new_label();
    out_.mov(kCtx, R1);
    if (sends_events(probe_.probe->body)) {
      // The scratch record: looked up once, kept in r9 (callee-saved) for the whole probe.
      out_.store_imm(8, FP, -8, 0);
      frame_ = 8;
      out_.load_map(R1, maps_.scratch);
      out_.mov(R2, FP);
      out_.alu(AluOp::Add, R2, Operand::Imm(-8));
      out_.call(BPF_FUNC_map_lookup_elem);
      out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), exit_label_);
      out_.mov(kRecord, R0);
    }
    for (const auto& [name, type] : probe_.vars) {
      vars_[name] = alloc(std::max<uint32_t>(8, type.storage_size()), probe_.loc);
    }
    if (probe_.probe->predicate) {
      const Expr& pred = *probe_.probe->predicate;
      out_.at(pred.loc);
      value(pred);
      out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), exit_label_);
    }
    block(probe_.probe->body);
    out_.bind(exit_label_);
    out_.mov_imm(R0, 0);
    out_.exit();
    return out_.finish(locations);
  }

 private:
  [[noreturn]] void fail(Location loc, const std::string& message) const {
    throw SemanticError(source_, loc, message);
  }

  // Whether a block has a statement that sends an event (printf, exit, print, ...): only
  // then does the probe need the scratch record (one map lookup per run saved otherwise).
 public:
  static bool sends_events(const Block& block) {
    static const std::set<std::string> kSenders = {"printf", "exit", "print", "clear", "zero",
                                                   "time",   "join", "system", "cat"};
    for (const StmtPtr& s : block) {
      bool found = std::visit(
          [](const auto& n) -> bool {
            using T = std::decay_t<decltype(n)>;
            if constexpr (std::is_same_v<T, ExprStmt>) {
              const auto* call = std::get_if<Call>(&n.expr->node);
              return call && kSenders.count(call->name);
            } else if constexpr (std::is_same_v<T, If>) {
              return sends_events(n.then) || (n.otherwise && sends_events(*n.otherwise));
            } else if constexpr (std::is_same_v<T, Unroll> || std::is_same_v<T, While> || std::is_same_v<T, For>) {
              return sends_events(n.body);
            } else {
              return false;
            }
          },
          s->node);
      if (found) return true;
    }
    return false;
  }


 private:
  const Type& type_of(const Expr& e) const {
    auto it = probe_.types.find(&e);
    if (it == probe_.types.end()) fail(e.loc, "internal error: expression has no type");
    return it->second;
  }

  // ----- stack frame -----
  int32_t alloc(uint32_t size, Location loc) {
    uint32_t rounded = (size + 7) / 8 * 8;
    frame_ += rounded;
    if (frame_ > kStackLimit) {
      fail(loc, "this probe needs more than " + std::to_string(kStackLimit) +
                    " bytes of BPF stack (each string takes its full size): use fewer or shorter strings, e.g. str(p, 32)");
    }
    return -int32_t(frame_);
  }

  void zero(Place p, uint32_t size) {
    uint32_t i = 0;
    for (; i + 8 <= size; i += 8) out_.store_imm(8, p.base, int16_t(p.off + int32_t(i)), 0);
    for (; i < size; ++i) out_.store_imm(1, p.base, int16_t(p.off + int32_t(i)), 0);
  }

  // Copies `size` bytes; the source base register must stay valid (r0, r6-r10, or a temp not clobbered here).
  void copy(Place dst, uint8_t src_base, int32_t src_off, uint32_t size) {
    uint32_t i = 0;
    for (; i + 8 <= size; i += 8) {
      out_.load(8, R5, src_base, int16_t(src_off + int32_t(i)));
      out_.store(8, dst.base, int16_t(dst.off + int32_t(i)), R5);
    }
    for (; i < size; ++i) {
      out_.load(1, R5, src_base, int16_t(src_off + int32_t(i)));
      out_.store(1, dst.base, int16_t(dst.off + int32_t(i)), R5);
    }
  }

  void address_of(uint8_t reg, Place p) {
    out_.mov(reg, p.base);
    if (p.off) out_.alu(AluOp::Add, reg, Operand::Imm(p.off));
  }

  // ----- statements -----
  void block(const Block& b) {
    for (const StmtPtr& s : b) {
      uint32_t mark = frame_;
      out_.at(s->loc);
      std::visit([&](const auto& node) { stmt(*s, node); }, s->node);
      frame_ = mark;  // temporaries of one statement are dead after it
    }
  }

  void stmt(const Stmt&, const ExprStmt& n) {
    const Expr& e = *n.expr;
    if (const auto* call = std::get_if<Call>(&e.node)) {
      if (statement_call(e, *call)) return;
    }
    value_or_effect(e);
  }

  void value_or_effect(const Expr& e) {
    const Type& t = type_of(e);
    if (t.is_int() || t.kind == TypeKind::Pointer) {
      value(e);
    } else if (t.kind != TypeKind::None) {
      int32_t tmp = alloc(t.storage_size(), e.loc);
      store(e, {FP, tmp});
    }
  }

  void stmt(const Stmt& s, const Assign& n) {
    if (const auto* m = std::get_if<MapRef>(&n.target->node)) {
      const MapInfo& info = *info_.find_map("@" + m->name);
      if (const auto* call = std::get_if<Call>(&n.value->node); call && info.agg != AggKind::Plain) {
        aggregate(info, *m, *call, n.value->loc);
        return;
      }
      if (n.op == "=") {
        int32_t val = alloc(info.value_size(), s.loc);
        store_as(*n.value, {FP, val}, info.value);
        int32_t key = build_key(info, m->keys, s.loc);
        map_update(info, key, val);
        return;
      }
      compound_map(info, *m, binary_op_of(n.op), n.value.get(), false, s.loc);
      return;
    }
    const auto& v = std::get<VarRef>(n.target->node);
    const Type& vt = probe_.vars.at(v.name);
    Place slot{FP, vars_.at(v.name)};
    if (n.op == "=") {
      store_as(*n.value, slot, vt);
      return;
    }
    value(*n.value);
    out_.load(8, R1, FP, int16_t(slot.off));
    arith(binary_op_of(n.op), R1, R0, vt.is_signed);
    normalize(R1, vt);
    out_.store(8, FP, int16_t(slot.off), R1);
  }

  static std::string binary_op_of(const std::string& assign_op) { return assign_op.substr(0, assign_op.size() - 1); }

  void stmt(const Stmt&, const VarDecl& n) {
    if (!n.init) {
      zero({FP, vars_.at(n.name)}, std::max<uint32_t>(8, probe_.vars.at(n.name).storage_size()));
      return;
    }
    store_as(*n.init, {FP, vars_.at(n.name)}, probe_.vars.at(n.name));
  }

  void stmt(const Stmt&, const If& n) {
    auto otherwise = out_.new_label(), end = out_.new_label();
    out_.at(n.cond->loc);
    value(*n.cond);
    out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), otherwise);
    block(n.then);
    out_.jump(end);
    out_.bind(otherwise);
    if (n.otherwise) block(*n.otherwise);
    out_.bind(end);
  }

  void stmt(const Stmt&, const Unroll& n) {
    uint64_t count = constant_of(*n.count);
    for (uint64_t i = 0; i < count; ++i) block(n.body);
  }

  void stmt(const Stmt&, const While& n) {
    auto top = out_.new_label(), end = out_.new_label();
    out_.bind(top);
    out_.at(n.cond->loc);
    value(*n.cond);
    out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), end);
    loops_.push_back({top, end});
    block(n.body);
    loops_.pop_back();
    out_.jump(top);
    out_.bind(end);
  }

  void stmt(const Stmt& s, const For& n) {
    Place var{FP, vars_.at(n.var)};
    int32_t end_slot = alloc(8, s.loc);
    value(*n.range_end);
    out_.store(8, FP, int16_t(end_slot), R0);
    value(*n.range);
    out_.store(8, var.base, int16_t(var.off), R0);
    auto top = out_.new_label(), next = out_.new_label(), end = out_.new_label();
    out_.bind(top);
    out_.load(8, R1, var.base, int16_t(var.off));
    out_.load(8, R2, FP, int16_t(end_slot));
    out_.jump_if(JmpCond::Sge, R1, Operand::Reg(R2), end);
    loops_.push_back({next, end});
    block(n.body);
    loops_.pop_back();
    out_.bind(next);
    out_.load(8, R1, var.base, int16_t(var.off));
    out_.alu(AluOp::Add, R1, Operand::Imm(1));
    out_.store(8, var.base, int16_t(var.off), R1);
    out_.jump(top);
    out_.bind(end);
  }

  void stmt(const Stmt&, const Return&) { out_.jump(exit_label_); }
  void stmt(const Stmt&, const Break&) { out_.jump(loops_.back().second); }
  void stmt(const Stmt&, const Continue&) { out_.jump(loops_.back().first); }

  // ----- events -----
  const OutputFormat& format_of(const Expr& e) const {
    auto it = info_.format_of.find(&e);
    if (it == info_.format_of.end()) fail(e.loc, "internal error: no output format for this statement");
    return info_.formats[it->second];
  }
  size_t format_index(const OutputFormat& f) const { return size_t(&f - info_.formats.data()); }

  void header(EventKind kind, uint64_t id) {
    out_.mov_imm(R1, int64_t(uint64_t(kind) | (id << 32)));
    out_.store(8, kRecord, 0, R1);
  }

  void send(uint32_t size) {
    out_.load_map(R1, maps_.events);
    out_.mov(R2, kRecord);
    out_.mov_imm(R3, size);
    out_.mov_imm(R4, 0);
    out_.call(BPF_FUNC_ringbuf_output);
  }

  bool statement_call(const Expr& e, const Call& call) {
    const std::string& fn = call.name;
    if (fn == "printf" || fn == "system" || fn == "cat") {
      const OutputFormat& f = format_of(e);
      for (size_t i = 0; i < f.args.size(); ++i) store_as(*call.args[i + 1], {kRecord, int32_t(f.offsets[i])}, f.args[i]);
      header(f.kind, format_index(f));
      send(f.record_size);
      return true;
    }
    if (fn == "exit") {
      header(EventKind::Exit, 0);
      send(8);
      out_.jump(exit_label_);
      return true;
    }
    if (fn == "time") {
      header(EventKind::Time, format_index(format_of(e)));
      send(8);
      return true;
    }
    if (fn == "print") {
      if (const auto* m = std::get_if<MapRef>(&call.args[0]->node); m && m->keys.empty()) {
        size_t index = map_index("@" + m->name);
        uint64_t top = call.args.size() > 1 ? constant_of(*call.args[1]) : 0;
        uint64_t div = call.args.size() > 2 ? constant_of(*call.args[2]) : 1;
        header(EventKind::PrintMap, index);
        out_.mov_imm(R1, int64_t(top));
        out_.store(8, kRecord, 8, R1);
        out_.mov_imm(R1, int64_t(div));
        out_.store(8, kRecord, 16, R1);
        send(24);
        return true;
      }
      const OutputFormat& f = format_of(e);
      store_as(*call.args[0], {kRecord, 8}, f.args[0]);
      header(EventKind::PrintValue, format_index(f));
      send(f.record_size);
      return true;
    }
    if (fn == "clear" || fn == "zero") {
      const auto& m = std::get<MapRef>(call.args[0]->node);
      header(fn == "clear" ? EventKind::ClearMap : EventKind::ZeroMap, map_index("@" + m.name));
      send(8);
      return true;
    }
    if (fn == "delete") {
      const auto& m = std::get<MapRef>(call.args[0]->node);
      const MapInfo& info = *info_.find_map("@" + m.name);
      int32_t key = 0;
      if (call.args.size() == 2) {
        key = alloc(info.key_size(), e.loc);
        Type kt = info.keys.size() == 1 ? info.keys[0] : Type::of_kind(TypeKind::Tuple);
        if (info.keys.size() != 1) kt.elems = info.keys;
        store_as(*call.args[1], {FP, key}, kt);
      } else {
        key = build_key(info, m.keys, e.loc);
      }
      out_.load_map(R1, map_index(info.name));
      address_of(R2, {FP, key});
      out_.call(BPF_FUNC_map_delete_elem);
      return true;
    }
    if (fn == "join") {
      join(e, call);
      return true;
    }
    if (fn == "signal") {
      if (const auto* s = std::get_if<StrLit>(&call.args[0]->node)) {
        out_.mov_imm(R1, signal_number_of(s->value));
      } else {
        value(*call.args[0]);
        out_.mov(R1, R0);
      }
      out_.call(BPF_FUNC_send_signal);
      return true;
    }
    return false;
  }

  // join(argv): up to kJoinMax strings read from an array of user pointers.
  void join(const Expr& e, const Call& call) {
    const OutputFormat& f = format_of(e);
    value(*call.args[0]);
    out_.mov(R7, R0);  // the array
    zero({kRecord, 8}, kJoinMax * kJoinStringSize);
    auto done = out_.new_label();
    AddrSpace space = type_of(*call.args[0]).space;
    if (space == AddrSpace::None) space = ProbeContext(probe_).default_space();
    int32_t ptr_slot = alloc(8, e.loc);
    for (uint32_t i = 0; i < kJoinMax; ++i) {
      address_of(R1, {FP, ptr_slot});
      out_.mov_imm(R2, 8);
      out_.mov(R3, R7);
      out_.alu(AluOp::Add, R3, Operand::Imm(int32_t(i * 8)));
      out_.call(space == AddrSpace::User ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel);
      out_.jump_if(JmpCond::Ne, R0, Operand::Imm(0), done);
      out_.load(8, R3, FP, int16_t(ptr_slot));
      out_.jump_if(JmpCond::Eq, R3, Operand::Imm(0), done);
      address_of(R1, {kRecord, int32_t(8 + i * kJoinStringSize)});
      out_.mov_imm(R2, kJoinStringSize);
      out_.call(space == AddrSpace::User ? BPF_FUNC_probe_read_user_str : BPF_FUNC_probe_read_kernel_str);
    }
    out_.bind(done);
    header(EventKind::Join, format_index(f));
    send(f.record_size);
  }

  // ----- maps -----
  size_t map_index(const std::string& name) const {
    for (size_t i = 0; i < info_.maps.size(); ++i) {
      if (info_.maps[i].name == name) return i;
    }
    fail(out_.location(), "internal error: unknown map " + name);
  }

  int32_t build_key(const MapInfo& info, const std::vector<ExprPtr>& keys, Location loc) {
    int32_t key = alloc(info.key_size(), loc);
    if (keys.empty()) {
      zero({FP, key}, info.key_size());
      return key;
    }
    int32_t off = key;
    for (size_t i = 0; i < keys.size(); ++i) {
      store_as(*keys[i], {FP, off}, info.keys[i]);
      off += int32_t(info.keys[i].storage_size());
    }
    return key;
  }

  void map_lookup(const MapInfo& info, int32_t key) {
    out_.load_map(R1, map_index(info.name));
    address_of(R2, {FP, key});
    out_.call(BPF_FUNC_map_lookup_elem);
  }

  void map_update(const MapInfo& info, int32_t key, int32_t value, int flags = BPF_ANY) {
    out_.load_map(R1, map_index(info.name));
    address_of(R2, {FP, key});
    address_of(R3, {FP, value});
    out_.mov_imm(R4, flags);
    out_.call(BPF_FUNC_map_update_elem);
  }

  // r0 = the value of `key` in a per-CPU aggregation map, created zeroed when missing;
  // jumps to `skip` when even that fails (the map is full).
  void lookup_or_create(const MapInfo& info, int32_t key, Emitter::Label skip, Location loc) {
    auto have = out_.new_label();
    map_lookup(info, key);
    out_.jump_if(JmpCond::Ne, R0, Operand::Imm(0), have);
    int32_t zeros = alloc(info.value_size(), loc);
    zero({FP, zeros}, info.value_size());
    map_update(info, key, zeros, BPF_NOEXIST);
    map_lookup(info, key);
    out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), skip);
    out_.bind(have);
  }

  void aggregate(const MapInfo& info, const MapRef& m, const Call& call, Location loc) {
    int32_t arg = call.args.empty() ? 0 : alloc(8, loc);
    if (!call.args.empty()) {
      value(*call.args[0]);
      out_.store(8, FP, int16_t(arg), R0);
    }
    int32_t key = build_key(info, m.keys, loc);
    if (info.histogram()) {
      out_.load(8, R1, FP, int16_t(arg));
      if (info.agg == AggKind::Hist) log2_bucket(R1);
      else linear_bucket(R1, info);
      out_.store(8, FP, int16_t(key + int32_t(info.user_key_size())), R1);
    }
    auto skip = out_.new_label();
    if (info.single_counter()) {
      map_lookup(info, key);  // an array entry: always there, but the verifier wants the check
      out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), skip);
    } else {
      lookup_or_create(info, key, skip, loc);
    }
    if (!call.args.empty()) out_.load(8, R1, FP, int16_t(arg));
    out_.load(8, R2, R0, 0);
    switch (info.agg) {
      case AggKind::Count:
      case AggKind::Hist:
      case AggKind::Lhist: out_.alu(AluOp::Add, R2, Operand::Imm(1)); break;
      case AggKind::Sum: out_.alu(AluOp::Add, R2, Operand::Reg(R1)); break;
      case AggKind::Avg:
      case AggKind::Stats:
        out_.alu(AluOp::Add, R2, Operand::Reg(R1));
        out_.load(8, R3, R0, 8);
        out_.alu(AluOp::Add, R3, Operand::Imm(1));
        out_.store(8, R0, 8, R3);
        break;
      case AggKind::Min:
      case AggKind::Max: {
        // {value, seen}: the first value is taken as is, later ones when smaller/larger.
        auto take = out_.new_label(), keep = out_.new_label();
        out_.load(8, R3, R0, 8);
        out_.jump_if(JmpCond::Eq, R3, Operand::Imm(0), take);
        out_.jump_if(info.agg == AggKind::Min ? JmpCond::Sge : JmpCond::Sle, R1, Operand::Reg(R2), keep);
        out_.bind(take);
        out_.mov(R2, R1);
        out_.mov_imm(R3, 1);
        out_.store(8, R0, 8, R3);
        out_.bind(keep);
        break;
      }
      case AggKind::Plain: break;
    }
    out_.store(8, R0, 0, R2);
    out_.bind(skip);
  }

  // r = 0 below zero, 1 for 0, 2 + floor(log2(r)) above: format::hist_bucket's rule.
  void log2_bucket(uint8_t r) {
    auto negative = out_.new_label(), zero_value = out_.new_label(), done = out_.new_label();
    out_.jump_if(JmpCond::Slt, r, Operand::Imm(0), negative);
    out_.jump_if(JmpCond::Eq, r, Operand::Imm(0), zero_value);
    out_.mov_imm(R2, 2);
    for (int shift : {32, 16, 8, 4, 2, 1}) {
      auto small = out_.new_label();
      out_.mov(R3, r);
      out_.alu(AluOp::Rsh, R3, Operand::Imm(shift));
      out_.jump_if(JmpCond::Eq, R3, Operand::Imm(0), small);
      out_.mov(r, R3);
      out_.alu(AluOp::Add, R2, Operand::Imm(shift));
      out_.bind(small);
    }
    out_.mov(r, R2);
    out_.jump(done);
    out_.bind(negative);
    out_.mov_imm(r, 0);
    out_.jump(done);
    out_.bind(zero_value);
    out_.mov_imm(r, 1);
    out_.bind(done);
  }

  // format::lhist_bucket's rule: 0 below min, 1 + (v - min) / step inside, the last at or above max.
  void linear_bucket(uint8_t r, const MapInfo& info) {
    size_t buckets = format::lhist_bucket_count(info.lhist_min, info.lhist_max, info.lhist_step);
    auto below = out_.new_label(), above = out_.new_label(), done = out_.new_label();
    out_.mov_imm(R2, info.lhist_min);
    out_.jump_if(JmpCond::Slt, r, Operand::Reg(R2), below);
    out_.mov_imm(R2, info.lhist_max);
    out_.jump_if(JmpCond::Sge, r, Operand::Reg(R2), above);
    out_.mov_imm(R2, info.lhist_min);
    out_.alu(AluOp::Sub, r, Operand::Reg(R2));
    out_.mov_imm(R2, info.lhist_step);
    out_.alu(AluOp::Div, r, Operand::Reg(R2));
    out_.alu(AluOp::Add, r, Operand::Imm(1));
    out_.jump(done);
    out_.bind(below);
    out_.mov_imm(r, 0);
    out_.jump(done);
    out_.bind(above);
    out_.mov_imm(r, int64_t(buckets - 1));
    out_.bind(done);
  }

  // @m[k] op= v, @m[k]++ and friends on a plain integer map; r0 = the result (old value
  // with `postfix`).
  void compound_map(const MapInfo& info, const MapRef& m, const std::string& op, const Expr* rhs, bool postfix,
                    Location loc) {
    int32_t operand = alloc(8, loc);
    if (rhs) {
      value(*rhs);
    } else {
      out_.mov_imm(R0, 1);
    }
    out_.store(8, FP, int16_t(operand), R0);
    int32_t key = build_key(info, m.keys, loc);
    int32_t val = alloc(8, loc);
    auto have = out_.new_label(), join = out_.new_label();
    map_lookup(info, key);
    out_.mov_imm(R1, 0);
    out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), have);
    out_.load(8, R1, R0, 0);
    out_.bind(have);
    int32_t old = alloc(8, loc);
    out_.store(8, FP, int16_t(old), R1);
    out_.load(8, R2, FP, int16_t(operand));
    arith(op, R1, R2, info.value.is_signed);
    out_.store(8, FP, int16_t(val), R1);
    map_update(info, key, val);
    out_.load(8, R0, FP, int16_t(postfix ? old : val));
    (void)join;
  }

  // ----- values -----
  uint64_t constant_of(const Expr& e) const {
    if (const auto* i = std::get_if<IntLit>(&e.node)) return i->value;
    if (const auto* u = std::get_if<Unary>(&e.node); u && u->op == "-") return uint64_t(-int64_t(constant_of(*u->operand)));
    if (const auto* p = std::get_if<Positional>(&e.node)) {
      if (p->index > info_.positional.size()) return 0;  // not given: 0
      return std::strtoull(info_.positional.at(p->index - 1).c_str(), nullptr, 0);
    }
    if (std::holds_alternative<PositionalCount>(e.node)) return info_.positional.size();
    fail(e.loc, "a constant is needed here");
  }

  // r0 = the integer value of `e` (sign- or zero-extended to 64 bits).
  void value(const Expr& e) {
    Location saved = out_.location();
    out_.at(e.loc);
    std::visit([&](const auto& node) { value_node(e, node); }, e.node);
    out_.at(saved);
  }

  void value_node(const Expr&, const IntLit& n) { out_.mov_imm(R0, int64_t(n.value)); }
  void value_node(const Expr& e, const StrLit&) { fail(e.loc, "a string is not a number"); }
  void value_node(const Expr& e, const Ident& n) { fail(e.loc, "unknown identifier '" + n.name + "'"); }
  void value_node(const Expr& e, const Positional&) { out_.mov_imm(R0, int64_t(constant_of(e))); }
  void value_node(const Expr&, const PositionalCount&) { out_.mov_imm(R0, int64_t(info_.positional.size())); }

  void value_node(const Expr& e, const Builtin& n) {
    const std::string& b = n.name;
    ProbeContext ctx(probe_);
    if (b == "pid" || b == "tid") {
      out_.call(BPF_FUNC_get_current_pid_tgid);
      if (b == "pid") out_.alu(AluOp::Rsh, R0, Operand::Imm(32));
      else out_.alu(AluOp::Mov, R0, Operand::Reg(R0), false);
    } else if (b == "uid" || b == "gid") {
      out_.call(BPF_FUNC_get_current_uid_gid);
      if (b == "gid") out_.alu(AluOp::Rsh, R0, Operand::Imm(32));
      else out_.alu(AluOp::Mov, R0, Operand::Reg(R0), false);
    } else if (b == "cpid") {
      out_.mov_imm(R0, info_.cpid);
    } else if (b == "nsecs") {
      out_.call(BPF_FUNC_ktime_get_ns);
    } else if (b == "elapsed") {
      out_.call(BPF_FUNC_ktime_get_ns);
      out_.emit(isa::LoadImm64::Imm(R1, options_.start_ns));
      out_.alu(AluOp::Sub, R0, Operand::Reg(R1));
    } else if (b == "cpu") {
      out_.call(BPF_FUNC_get_smp_processor_id);
    } else if (b == "rand") {
      out_.call(BPF_FUNC_get_prandom_u32);
    } else if (b == "cgroup") {
      out_.call(BPF_FUNC_get_current_cgroup_id);
    } else if (b == "jiffies") {
      out_.call(BPF_FUNC_jiffies64);
    } else if (b == "curtask") {
      out_.call(BPF_FUNC_get_current_task);
    } else if (b == "retval") {
      out_.load(8, R0, kCtx, int16_t(ctx.retval_offset()));
    } else if (b.rfind("arg", 0) == 0) {
      out_.load(8, R0, kCtx, int16_t(ctx.arg_offset(std::stoi(b.substr(3)))));
    } else {
      fail(e.loc, "'" + b + "' is not a number");
    }
  }

  void value_node(const Expr& e, const MapRef& n) {
    const MapInfo& info = *info_.find_map("@" + n.name);
    int32_t key = build_key(info, n.keys, e.loc);
    auto done = out_.new_label();
    map_lookup(info, key);
    out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), done);
    out_.load(8, R0, R0, 0);
    out_.bind(done);
  }

  void value_node(const Expr& e, const VarRef& n) {
    out_.load(8, R0, FP, int16_t(vars_.at(n.name)));
    (void)e;
  }

  void value_node(const Expr& e, const Call& n) {
    const std::string& fn = n.name;
    if (fn == "kaddr") {
      const std::string& name = std::get<StrLit>(n.args[0]->node).value;
      if (!kernel_symbols_) kernel_symbols_ = target::linux_kernel::KernelSymbols::load();  // once per probe
      auto addr = kernel_symbols_->address_of(name);
      if (!addr) fail(e.loc, "kaddr(): no kernel symbol '" + name + "' in /proc/kallsyms");
      out_.emit(isa::LoadImm64::Imm(R0, *addr));
      return;
    }
    if (fn == "ksym") {
      value(*n.args[0]);
      return;
    }
    if (fn == "uaddr") {
      const std::string& name = std::get<StrLit>(n.args[0]->node).value;
      std::optional<uint64_t> addr;
      try {
        addr = target::linux_kernel::ElfSymbols::load(probe_.spec.target)->address_of(name);
      } catch (const Error&) {
      }
      if (!addr) fail(e.loc, "uaddr(): no symbol '" + name + "' in " + probe_.spec.target);
      out_.emit(isa::LoadImm64::Imm(R0, *addr));
      return;
    }
    if (fn == "sizeof") {
      out_.mov_imm(R0, type_of(*n.args[0]).storage_size());
      return;
    }
    if (fn == "strncmp") {
      string_compare(*n.args[0], *n.args[1], uint32_t(constant_of(*n.args[2])), e.loc);
      // strncmp() is 0 when equal.
      out_.alu(AluOp::Xor, R0, Operand::Imm(1));
      return;
    }
    fail(e.loc, fn + "() is not a number");
  }

  void value_node(const Expr& e, const Unary& n) {
    if (n.op == "++" || n.op == "--") {
      std::string op = n.op == "++" ? "+" : "-";
      if (const auto* m = std::get_if<MapRef>(&n.operand->node)) {
        compound_map(*info_.find_map("@" + m->name), *m, op, nullptr, n.postfix, e.loc);
        return;
      }
      const auto& v = std::get<VarRef>(n.operand->node);
      int32_t slot = vars_.at(v.name);
      const Type& vt = probe_.vars.at(v.name);
      out_.load(8, R1, FP, int16_t(slot));
      out_.mov(R0, R1);
      out_.alu(op == "+" ? AluOp::Add : AluOp::Sub, R1, Operand::Imm(1));
      normalize(R1, vt);
      out_.store(8, FP, int16_t(slot), R1);
      if (!n.postfix) out_.mov(R0, R1);
      return;
    }
    value(*n.operand);
    if (n.op == "-") out_.emit(isa::Neg{true, R0});
    else if (n.op == "~") out_.alu(AluOp::Xor, R0, Operand::Imm(-1));
    else if (n.op == "!") {
      auto zero_label = out_.new_label(), done = out_.new_label();
      out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), zero_label);
      out_.mov_imm(R0, 0);
      out_.jump(done);
      out_.bind(zero_label);
      out_.mov_imm(R0, 1);
      out_.bind(done);
    } else if (n.op == "*") {
      read_memory(R0, 8, type_of(*n.operand).space == AddrSpace::User ? AddrSpace::User : AddrSpace::Kernel, e.loc);
    } else {
      fail(e.loc, "operator '" + n.op + "' is not supported here");
    }
  }

  // r0 = *(size *)r0 read with probe_read_{kernel,user}; 0 when unreadable.
  void read_memory(uint8_t addr_reg, uint32_t size, AddrSpace space, Location loc) {
    int32_t tmp = alloc(8, loc);
    out_.store_imm(8, FP, int16_t(tmp), 0);
    out_.mov(R3, addr_reg);
    address_of(R1, {FP, tmp});
    out_.mov_imm(R2, size);
    out_.call(space == AddrSpace::User ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel);
    out_.load(uint8_t(size == 1 || size == 2 || size == 4 ? size : 8), R0, FP, int16_t(tmp));
  }

  static bool small_constant(const Expr& e, int32_t& out) {
    if (const auto* i = std::get_if<IntLit>(&e.node); i && i->value <= uint64_t(INT32_MAX)) {
      out = int32_t(i->value);
      return true;
    }
    return false;
  }

  void value_node(const Expr& e, const Binary& n) {
    const std::string& op = n.op;
    const Type& lt = type_of(*n.lhs);
    if (lt.is_string()) {
      string_compare(*n.lhs, *n.rhs, UINT32_MAX, e.loc);
      if (op == "!=") out_.alu(AluOp::Xor, R0, Operand::Imm(1));
      return;
    }
    if (op == "&&" || op == "||") {
      auto short_circuit = out_.new_label(), done = out_.new_label();
      value(*n.lhs);
      out_.jump_if(op == "&&" ? JmpCond::Eq : JmpCond::Ne, R0, Operand::Imm(0), short_circuit);
      value(*n.rhs);
      out_.jump_if(op == "&&" ? JmpCond::Eq : JmpCond::Ne, R0, Operand::Imm(0), short_circuit);
      out_.mov_imm(R0, op == "&&" ? 1 : 0);
      out_.jump(done);
      out_.bind(short_circuit);
      out_.mov_imm(R0, op == "&&" ? 0 : 1);
      out_.bind(done);
      return;
    }
    bool is_signed = lt.is_signed && type_of(*n.rhs).is_signed;
    int32_t imm = 0;
    if (small_constant(*n.rhs, imm)) {
      value(*n.lhs);
      out_.mov(R1, R0);
      out_.mov_imm(R2, imm);
    } else {
      int32_t tmp = alloc(8, e.loc);
      value(*n.lhs);
      out_.store(8, FP, int16_t(tmp), R0);
      value(*n.rhs);
      out_.mov(R2, R0);
      out_.load(8, R1, FP, int16_t(tmp));
    }
    static const std::map<std::string, std::pair<JmpCond, JmpCond>> kCompare = {
        {"==", {JmpCond::Eq, JmpCond::Eq}}, {"!=", {JmpCond::Ne, JmpCond::Ne}}, {"<", {JmpCond::Lt, JmpCond::Slt}},
        {"<=", {JmpCond::Le, JmpCond::Sle}}, {">", {JmpCond::Gt, JmpCond::Sgt}}, {">=", {JmpCond::Ge, JmpCond::Sge}}};
    if (auto it = kCompare.find(op); it != kCompare.end()) {
      auto yes = out_.new_label();
      out_.mov_imm(R0, 1);
      out_.jump_if(is_signed ? it->second.second : it->second.first, R1, Operand::Reg(R2), yes);
      out_.mov_imm(R0, 0);
      out_.bind(yes);
      return;
    }
    arith(op, R1, R2, is_signed);
    out_.mov(R0, R1);
  }

  // dst = dst OP src.
  void arith(const std::string& op, uint8_t dst, uint8_t src, bool is_signed) {
    static const std::map<std::string, AluOp> kOps = {{"+", AluOp::Add}, {"-", AluOp::Sub}, {"*", AluOp::Mul},
                                                      {"/", AluOp::Div}, {"%", AluOp::Mod}, {"&", AluOp::And},
                                                      {"|", AluOp::Or},  {"^", AluOp::Xor}, {"<<", AluOp::Lsh},
                                                      {">>", AluOp::Rsh}};
    auto it = kOps.find(op);
    if (it == kOps.end()) fail(out_.location(), "operator '" + op + "' is not supported");
    AluOp alu = it->second;
    if (is_signed && alu == AluOp::Div) alu = AluOp::SDiv;
    if (is_signed && alu == AluOp::Mod) alu = AluOp::SMod;
    if (is_signed && alu == AluOp::Rsh) alu = AluOp::Arsh;
    out_.alu(alu, dst, Operand::Reg(src));
  }

  // Truncates / extends a 64-bit register to the type's width.
  void normalize(uint8_t r, const Type& t) {
    if (!t.is_int() || t.size >= 8) return;
    uint32_t shift = 64 - t.size * 8;
    if (t.is_signed) {
      out_.alu(AluOp::Lsh, r, Operand::Imm(int32_t(shift)));
      out_.alu(AluOp::Arsh, r, Operand::Imm(int32_t(shift)));
    } else if (t.size == 4) {
      out_.alu(AluOp::Mov, r, Operand::Reg(r), false);
    } else {
      out_.alu(AluOp::And, r, Operand::Imm(int32_t((1u << (t.size * 8)) - 1)));
    }
  }

  void value_node(const Expr& e, const Ternary& n) {
    auto otherwise = out_.new_label(), done = out_.new_label();
    value(*n.cond);
    out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), otherwise);
    value(*n.then);
    out_.jump(done);
    out_.bind(otherwise);
    value(*n.otherwise);
    out_.bind(done);
    (void)e;
  }

  void value_node(const Expr& e, const FieldAccess& n) {
    const Type& t = type_of(e);
    const Type& base = type_of(*n.base);
    if (base.kind == TypeKind::Tuple) {
      int32_t tmp = alloc(base.storage_size(), e.loc);
      store(*n.base, {FP, tmp});
      out_.load(8, R0, FP, int16_t(tmp + int32_t(tuple_offset(base, std::stoul(n.field)))));
      return;
    }
    const FieldInfo& fi = probe_.fields.at(&e);
    if (fi.from_ctx) {
      uint8_t size = uint8_t(t.size == 1 || t.size == 2 || t.size == 4 ? t.size : 8);
      out_.load(size, R0, kCtx, int16_t(fi.offset));
      normalize(R0, t);
      return;
    }
    field_address(e, n);
    read_memory(R0, t.kind == TypeKind::Int ? t.size : 8, AddrSpace::Kernel, e.loc);
    normalize(R0, t);
  }

  // r0 = the address of a BTF field reached through a kernel pointer.
  void field_address(const Expr& e, const FieldAccess& n) {
    const FieldInfo& fi = probe_.fields.at(&e);
    const Type& base = type_of(*n.base);
    if (base.kind == TypeKind::Record) {
      const auto& inner = std::get<FieldAccess>(n.base->node);
      field_address(*n.base, inner);
    } else {
      value(*n.base);
    }
    if (fi.offset) out_.alu(AluOp::Add, R0, Operand::Imm(int32_t(fi.offset)));
  }

  static uint32_t tuple_offset(const Type& tuple, size_t index) {
    uint32_t off = 0;
    for (size_t i = 0; i < index; ++i) off += tuple.elems[i].storage_size();
    return off;
  }

  void value_node(const Expr& e, const Index& n) {
    const Type& base = type_of(*n.base);
    uint64_t i = constant_of(*n.index);
    if (base.kind == TypeKind::Array) {
      const auto& fa = std::get<FieldAccess>(n.base->node);
      const FieldInfo& fi = probe_.fields.at(n.base.get());
      const Type& elem = base.elems[0];
      uint32_t off = fi.offset + uint32_t(i) * elem.size;
      if (fi.from_ctx) {
        out_.load(uint8_t(elem.size), R0, kCtx, int16_t(off));
      } else {
        field_address(*n.base, fa);
        out_.alu(AluOp::Add, R0, Operand::Imm(int32_t(i * elem.size)));
        read_memory(R0, elem.size, AddrSpace::Kernel, e.loc);
      }
      normalize(R0, elem);
      return;
    }
    value(*n.base);
    out_.alu(AluOp::Add, R0, Operand::Imm(int32_t(i * 8)));
    read_memory(R0, 8, base.space == AddrSpace::User ? AddrSpace::User : AddrSpace::Kernel, e.loc);
  }

  void value_node(const Expr& e, const Cast& n) {
    value(*n.operand);
    normalize(R0, type_of(e));
  }
  void value_node(const Expr& e, const Tuple&) { fail(e.loc, "a tuple is not a number"); }
  void value_node(const Expr& e, const Sizeof& n) {
    out_.mov_imm(R0, n.expr ? type_of(*n.expr).storage_size() : type_of(e).size);
  }
  void value_node(const Expr& e, const Offsetof&) { fail(e.loc, "offsetof() is not supported yet"); }

  // r0 = 1 when two strings are equal in their first `limit` bytes (up to the NUL), else 0.
  void string_compare(const Expr& a, const Expr& b, uint32_t limit, Location loc) {
    const Type& ta = type_of(a);
    const Type& tb = type_of(b);
    int32_t pa = alloc(ta.storage_size(), loc), pb = alloc(tb.storage_size(), loc);
    store(a, {FP, pa});
    store(b, {FP, pb});
    uint32_t n = std::min({ta.size, tb.size, limit});
    auto equal = out_.new_label(), differ = out_.new_label(), done = out_.new_label();
    for (uint32_t i = 0; i < n; ++i) {
      out_.load(1, R1, FP, int16_t(pa + int32_t(i)));
      out_.load(1, R2, FP, int16_t(pb + int32_t(i)));
      out_.jump_if(JmpCond::Ne, R1, Operand::Reg(R2), differ);
      out_.jump_if(JmpCond::Eq, R1, Operand::Imm(0), equal);
    }
    if (n < limit && ta.size != tb.size) {
      // Equal so far and no NUL yet: equal only if the longer one ends here.
      const bool a_longer = ta.size > tb.size;
      out_.load(1, R1, FP, int16_t((a_longer ? pa : pb) + int32_t(n)));
      out_.jump_if(JmpCond::Ne, R1, Operand::Imm(0), differ);
    }
    out_.bind(equal);
    out_.mov_imm(R0, 1);
    out_.jump(done);
    out_.bind(differ);
    out_.mov_imm(R0, 0);
    out_.bind(done);
  }

  // ----- stored values (strings, tuples, stacks, and integers as 8 bytes) -----

  // Writes `e` converted to `target`'s layout (strings padded to the target capacity,
  // tuples element by element).
  void store_as(const Expr& e, Place dst, const Type& target) {
    const Type& t = type_of(e);
    if (target.kind == TypeKind::Tuple && t.kind == TypeKind::Tuple) {
      if (const auto* tuple = std::get_if<Tuple>(&e.node)) {
        uint32_t off = 0;
        for (size_t i = 0; i < tuple->elems.size(); ++i) {
          store_as(*tuple->elems[i], dst.at(int32_t(off)), target.elems[i]);
          off += target.elems[i].storage_size();
        }
        return;
      }
      if (t.storage_size() != target.storage_size()) {
        int32_t tmp = alloc(t.storage_size(), e.loc);
        store(e, {FP, tmp});
        convert_copy({FP, tmp}, t, dst, target);
        return;
      }
    }
    if (target.is_string() && t.is_string() && t.size != target.size) {
      if (t.storage_size() < target.storage_size()) {
        zero(dst.at(int32_t(t.storage_size())), target.storage_size() - t.storage_size());
        store(e, dst);
        return;
      }
      if (t.storage_size() == target.storage_size()) {
        store(e, dst);
        return;
      }
      int32_t tmp = alloc(t.size, e.loc);
      store(e, {FP, tmp});
      copy(dst, FP, tmp, target.size - 1);
      zero(dst.at(int32_t(target.size) - 1), target.storage_size() - target.size + 1);
      return;
    }
    store(e, dst);
  }

  void convert_copy(Place src, const Type& from, Place dst, const Type& to) {
    if (from.kind == TypeKind::Tuple && to.kind == TypeKind::Tuple) {
      uint32_t so = 0, doff = 0;
      for (size_t i = 0; i < from.elems.size(); ++i) {
        convert_copy(src.at(int32_t(so)), from.elems[i], dst.at(int32_t(doff)), to.elems[i]);
        so += from.elems[i].storage_size();
        doff += to.elems[i].storage_size();
      }
      return;
    }
    uint32_t n = std::min(from.storage_size(), to.storage_size());
    if (to.storage_size() > n) zero(dst.at(int32_t(n)), to.storage_size() - n);
    copy(dst, src.base, src.off, n);
  }

  void store(const Expr& e, Place dst) {
    const Type& t = type_of(e);
    Location saved = out_.location();
    out_.at(e.loc);
    if (t.is_int() || t.kind == TypeKind::Pointer || t.kind == TypeKind::Ksym) {
      value(e);
      out_.store(8, dst.base, int16_t(dst.off), R0);
    } else {
      std::visit([&](const auto& node) { store_node(e, node, dst); }, e.node);
    }
    out_.at(saved);
  }

  // Writes the string and its zero padding: all of the storage (keys compare whole).
  void store_literal(const std::string& text, Place dst, uint32_t capacity) {
    capacity = Type::string(capacity).storage_size();
    std::string bytes = text.substr(0, capacity - 1);
    bytes.resize(capacity, '\0');
    uint32_t i = 0;
    for (; i + 4 <= capacity; i += 4) {
      uint32_t word = 0;
      std::memcpy(&word, bytes.data() + i, 4);
      out_.store_imm(4, dst.base, int16_t(dst.off + int32_t(i)), int32_t(word));
    }
    for (; i < capacity; ++i) out_.store_imm(1, dst.base, int16_t(dst.off + int32_t(i)), int8_t(bytes[i]));
  }

  void store_node(const Expr& e, const StrLit& n, Place dst) { store_literal(n.value, dst, type_of(e).size); }

  void store_node(const Expr& e, const Positional& n, Place dst) {
    store_literal(info_.positional.at(n.index - 1), dst, type_of(e).size);
  }

  void store_node(const Expr& e, const Builtin& n, Place dst) {
    const Type& t = type_of(e);
    if (n.name == "comm") {
      address_of(R1, dst);
      out_.mov_imm(R2, 16);
      out_.call(BPF_FUNC_get_current_comm);
    } else if (n.name == "func") {
      store_literal(ProbeContext(probe_).function_name(), dst, t.size);
    } else if (n.name == "probe") {
      store_literal(probe_.name, dst, t.size);
    } else if (n.name == "kstack" || n.name == "ustack") {
      stack_id(t, dst);
    } else {
      fail(e.loc, "'" + n.name + "' cannot be stored here");
    }
  }

  void stack_id(const Type& t, Place dst) {
    out_.mov(R1, kCtx);
    out_.load_map(R2, *(t.user_stack ? maps_.ustack : maps_.kstack));
    out_.mov_imm(R3, t.user_stack ? BPF_F_USER_STACK : 0);
    out_.call(BPF_FUNC_get_stackid);
    out_.store(8, dst.base, int16_t(dst.off), R0);
    if (!t.user_stack) {
      // A kernel stack is the same key whichever process it was taken in.
      out_.store_imm(8, dst.base, int16_t(dst.off + 8), 0);
      return;
    }
    out_.call(BPF_FUNC_get_current_pid_tgid);
    out_.alu(AluOp::Rsh, R0, Operand::Imm(32));
    out_.store(8, dst.base, int16_t(dst.off + 8), R0);
  }

  void store_node(const Expr& e, const MapRef& n, Place dst) {
    const MapInfo& info = *info_.find_map("@" + n.name);
    const Type& t = type_of(e);
    int32_t key = build_key(info, n.keys, e.loc);
    auto missing = out_.new_label(), done = out_.new_label();
    map_lookup(info, key);
    out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), missing);
    copy(dst, R0, 0, t.storage_size());
    out_.jump(done);
    out_.bind(missing);
    zero(dst, t.storage_size());
    out_.bind(done);
  }

  void store_node(const Expr& e, const VarRef& n, Place dst) {
    copy(dst, FP, vars_.at(n.name), type_of(e).storage_size());
  }

  void store_node(const Expr& e, const Call& n, Place dst) {
    const Type& t = type_of(e);
    if (n.name == "str") {
      const Type& arg = type_of(*n.args[0]);
      if (const auto* p = std::get_if<Positional>(&n.args[0]->node); p && p->index > info_.positional.size()) {
        zero(dst, t.storage_size());
        return;
      }
      if (arg.is_string()) {
        store_as(*n.args[0], dst, t);
        return;
      }
      zero(dst, t.storage_size());
      value(*n.args[0]);
      out_.mov(R3, R0);
      address_of(R1, dst);
      out_.mov_imm(R2, t.size);
      out_.call(t.space == AddrSpace::User ? BPF_FUNC_probe_read_user_str : BPF_FUNC_probe_read_kernel_str);
      return;
    }
    if (n.name == "kstack" || n.name == "ustack") {
      stack_id(t, dst);
      return;
    }
    if (n.name == "usym") {
      value(*n.args[0]);
      out_.store(8, dst.base, int16_t(dst.off), R0);
      out_.call(BPF_FUNC_get_current_pid_tgid);
      out_.alu(AluOp::Rsh, R0, Operand::Imm(32));
      out_.store(8, dst.base, int16_t(dst.off + 8), R0);
      return;
    }
    if (n.name == "ntop") {
      inet(e, n, dst);
      return;
    }
    if (n.name == "buf") {
      buffer(n, t, dst);
      return;
    }
    fail(e.loc, n.name + "() cannot be stored here");
  }

  // buf(p, len): {length, bytes}; an array field without a length is copied whole.
  void buffer(const Call& n, const Type& t, Place dst) {
    zero(dst, t.storage_size());
    const Expr& src = *n.args[0];
    const Type& st = type_of(src);
    if (st.kind == TypeKind::Array) {
      const FieldInfo& fi = probe_.fields.at(&src);
      if (fi.from_ctx) {
        out_.mov(R3, kCtx);
        out_.alu(AluOp::Add, R3, Operand::Imm(int32_t(fi.offset)));
      } else {
        field_address(src, std::get<FieldAccess>(src.node));
        out_.mov(R3, R0);
      }
    } else {
      value(src);
      out_.mov(R3, R0);
    }
    int32_t len_slot = alloc(8, out_.location());
    out_.mov_imm(R1, t.size);
    out_.store(8, FP, int16_t(len_slot), R1);
    if (n.args.size() == 2 && !std::holds_alternative<IntLit>(n.args[1]->node)) {
      int32_t src_slot = alloc(8, out_.location());
      out_.store(8, FP, int16_t(src_slot), R3);
      value(*n.args[1]);
      auto keep = out_.new_label(), done = out_.new_label();
      out_.jump_if(JmpCond::Gt, R0, Operand::Imm(int32_t(t.size)), keep);  // longer: the whole buffer
      out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), keep);
      out_.store(8, FP, int16_t(len_slot), R0);
      out_.jump(done);
      out_.bind(keep);
      out_.bind(done);
      out_.load(8, R3, FP, int16_t(src_slot));
    }
    address_of(R1, dst.at(8));
    out_.load(8, R2, FP, int16_t(len_slot));
    out_.call(t.space == AddrSpace::User ? BPF_FUNC_probe_read_user : BPF_FUNC_probe_read_kernel);
    out_.load(8, R1, FP, int16_t(len_slot));
    out_.store(8, dst.base, int16_t(dst.off), R1);
  }

  // ntop([af,] addr): {family u64, 16 address bytes}. An integer is an IPv4 address in
  // network order; an array field is 4 (IPv4) or 16 (IPv6) bytes.
  void inet(const Expr& e, const Call& n, Place dst) {
    const Expr& addr = *n.args.back();
    const Type& at = type_of(addr);
    zero(dst, 24);
    if (at.kind == TypeKind::Array) {
      uint32_t len = std::min<uint32_t>(at.size, 16);
      out_.mov_imm(R1, len == 16 ? 10 : 2);  // AF_INET6 / AF_INET
      out_.store(8, dst.base, int16_t(dst.off), R1);
      const FieldInfo& fi = probe_.fields.at(&addr);
      if (fi.from_ctx) {
        copy(dst.at(8), kCtx, int32_t(fi.offset), len);
      } else {
        field_address(addr, std::get<FieldAccess>(addr.node));
        out_.mov(R3, R0);
        address_of(R1, dst.at(8));
        out_.mov_imm(R2, len);
        out_.call(BPF_FUNC_probe_read_kernel);
      }
    } else {
      value(addr);
      out_.store(4, dst.base, int16_t(dst.off + 8), R0);
      out_.mov_imm(R1, 2);
      out_.store(8, dst.base, int16_t(dst.off), R1);
    }
    if (n.args.size() == 2) {
      value(*n.args[0]);
      out_.store(8, dst.base, int16_t(dst.off), R0);
    }
    (void)e;
  }

  void store_node(const Expr& e, const FieldAccess& n, Place dst) {
    const Type& t = type_of(e);
    const Type& base = type_of(*n.base);
    if (base.kind == TypeKind::Tuple) {
      int32_t tmp = alloc(base.storage_size(), e.loc);
      store(*n.base, {FP, tmp});
      copy(dst, FP, tmp + int32_t(tuple_offset(base, std::stoul(n.field))), t.storage_size());
      return;
    }
    const FieldInfo& fi = probe_.fields.at(&e);
    if (fi.from_ctx && fi.data_loc) {
      zero(dst, t.storage_size());
      out_.load(4, R3, kCtx, int16_t(fi.offset));
      out_.alu(AluOp::And, R3, Operand::Imm(0xffff));
      out_.alu(AluOp::Add, R3, Operand::Reg(kCtx));
      address_of(R1, dst);
      out_.mov_imm(R2, t.size);
      out_.call(BPF_FUNC_probe_read_kernel_str);
      return;
    }
    if (fi.from_ctx) {
      // Tracepoint records may only be read in aligned words: copy with probe_read.
      if (t.storage_size() > t.size) zero(dst.at(int32_t(t.size)), t.storage_size() - t.size);
      address_of(R1, dst);
      out_.mov_imm(R2, t.size);
      out_.mov(R3, kCtx);
      out_.alu(AluOp::Add, R3, Operand::Imm(int32_t(fi.offset)));
      out_.call(BPF_FUNC_probe_read_kernel);
      return;
    }
    if (t.is_string()) zero(dst, t.storage_size());
    field_address(e, n);
    out_.mov(R3, R0);
    address_of(R1, dst);
    out_.mov_imm(R2, t.is_string() ? t.size : t.storage_size());
    out_.call(t.is_string() ? BPF_FUNC_probe_read_kernel_str : BPF_FUNC_probe_read_kernel);
  }

  void store_node(const Expr& e, const Ternary& n, Place dst) {
    const Type& t = type_of(e);
    auto otherwise = out_.new_label(), done = out_.new_label();
    value(*n.cond);
    out_.jump_if(JmpCond::Eq, R0, Operand::Imm(0), otherwise);
    store_as(*n.then, dst, t);
    out_.jump(done);
    out_.bind(otherwise);
    store_as(*n.otherwise, dst, t);
    out_.bind(done);
  }

  void store_node(const Expr& e, const Tuple& n, Place dst) {
    const Type& t = type_of(e);
    uint32_t off = 0;
    for (size_t i = 0; i < n.elems.size(); ++i) {
      store_as(*n.elems[i], dst.at(int32_t(off)), t.elems[i]);
      off += t.elems[i].storage_size();
    }
  }

  template <class Node>
  void store_node(const Expr& e, const Node&, Place) {
    fail(e.loc, "this expression (" + type_name(type_of(e)) + ") cannot be stored yet");
  }

  const Source& source_;
  const ScriptInfo& info_;
  const ConcreteProbe& probe_;
  const MapIndexes& maps_;
  const CodegenOptions& options_;
  Emitter out_;
  Emitter::Label exit_label_ = 0;
  uint32_t frame_ = 0;
  std::map<std::string, int32_t> vars_;
  std::vector<std::pair<Emitter::Label, Emitter::Label>> loops_;  // continue, break targets
  std::optional<target::linux_kernel::KernelSymbols> kernel_symbols_;  // kaddr(): read when first needed
};

std::string program_name(const ConcreteProbe& probe, size_t index) {
  std::string base;
  switch (probe.spec.kind) {
    case ProbeKind::Begin: base = "BEGIN"; break;
    case ProbeKind::End: base = "END"; break;
    default: base = probe.spec.function.empty() ? probe.name.substr(0, probe.name.find(':')) : probe.spec.function;
  }
  for (char& c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  std::string suffix = "_" + std::to_string(index);
  if (base.size() + suffix.size() > 15) base.resize(15 - suffix.size());
  return base + suffix;
}

object::MapDefinition map_definition(std::string name, uint32_t type, uint32_t key, uint32_t value, uint32_t entries) {
  object::MapDefinition d;
  d.name = std::move(name);
  d.section = ".maps";
  d.type = type;
  d.key_size = key;
  d.value_size = value;
  d.max_entries = entries;
  return d;
}

}  // namespace

CompiledScript generate_code(const Source& source, std::shared_ptr<const Program> ast, ScriptInfo info,
                             const CodegenOptions& options) {
  CompiledScript out;
  out.ast = std::move(ast);
  std::vector<object::MapDefinition> maps;
  for (const MapInfo& m : info.maps) {
    uint32_t type = m.single_counter() ? BPF_MAP_TYPE_PERCPU_ARRAY
                    : m.per_cpu()      ? BPF_MAP_TYPE_PERCPU_HASH
                                       : BPF_MAP_TYPE_HASH;
    maps.push_back(map_definition(bpf_map_name(m.name), type, m.key_size(), std::max<uint32_t>(1, m.value_size()),
                                  m.single_counter() ? 1 : options.map_max_entries));
  }
  MapIndexes idx;
  idx.events = maps.size();
  // 256 KiB of events between two reads; a script that sends none gets one page.
  bool any_events = false;
  for (const ConcreteProbe& p : info.probes) any_events = any_events || ProbeCompiler::sends_events(p.probe->body);
  maps.push_back(map_definition("events", BPF_MAP_TYPE_RINGBUF, 0, 0, any_events ? 1u << 18 : 4096));
  uint32_t scratch_size = 8;
  for (const OutputFormat& f : info.formats) scratch_size = std::max(scratch_size, f.record_size);
  scratch_size = std::max<uint32_t>(scratch_size, 24);
  idx.scratch = maps.size();
  maps.push_back(map_definition("scratch", BPF_MAP_TYPE_PERCPU_ARRAY, 4, (scratch_size + 7) / 8 * 8, 1));
  for (bool user : {false, true}) {
    if (!(user ? info.uses_ustack : info.uses_kstack)) continue;
    (user ? idx.ustack : idx.kstack) = maps.size();
    maps.push_back(map_definition(user ? "ustack" : "kstack", BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, 4096));
  }
  std::vector<object::ProgramDefinition> programs;
  for (size_t i = 0; i < info.probes.size(); ++i) {
    const ConcreteProbe& probe = info.probes[i];
    ProbeCompiler compiler(source, info, probe, idx, options);
    CompiledProgram cp;
    cp.probe = i;
    object::ProgramDefinition def;
    def.insns = compiler.compile(cp.locations);
    def.name = program_name(probe, i);
    def.section = probe.section;
    auto sec = object::parse_section_name(probe.section);
    if (!sec) throw SemanticError(source, probe.loc, "internal error: no program type for section " + probe.section);
    def.def = *sec;
    programs.push_back(std::move(def));
    out.programs.push_back(std::move(cp));
  }
  out.events_map = idx.events;
  out.scratch_map = idx.scratch;
  out.kstack_map = idx.kstack;
  out.ustack_map = idx.ustack;
  out.info = std::move(info);
  out.object = std::make_shared<object::BpfObject>(
      object::BpfObject::assemble("script", "GPL", std::move(programs), std::move(maps)));
  return out;
}

}  // namespace bpfkit::lang
