#include "verifier/analyzer.h"

#include <algorithm>

#include "isa/disassembler.h"
#include "verifier/map_reference.h"

namespace bpfkit::verifier {

Analyzer::Analyzer(const VerifyInput& input, const VerifyOptions& options, const ProgramGraph& graph)
    : in_(input), opt_(options), g_(graph), live_(compute_live_registers(graph)) {
  type_ = core::find_program_type(input.prog_type);
  helpers_ = input.helpers ? input.helpers : &core::HelperTable::standard();
  maps_ = input.maps;
  // Inner-map shapes get indices after the program's own maps.
  for (size_t i = 0; i < input.maps.size(); ++i) {
    if (input.maps[i].inner) maps_.push_back(*input.maps[i].inner);
  }
  for (const MapInfo& m : maps_) map_names_.push_back(m.name.empty() ? "map" : m.name);
  done_.resize(graph.size());
  active_main_.resize(graph.size());
  precision_ = options.precision == VerifyOptions::Precision::Track;
  for (const auto& insn : graph.insns) {
    if (!insn) continue;
    const auto* j = std::get_if<isa::Jump>(&*insn);
    const auto* l = std::get_if<isa::LoadImm64>(&*insn);
    if ((j && j->cond == isa::JmpCond::MayGoto) || (l && l->pseudo == isa::Pseudo::Func)) precision_ = false;
  }
}

std::string Analyzer::describe_insn(size_t pc) const { return g_.describe(pc); }

const Reg& Analyzer::read_reg(const State& s, int regno, const std::string& what) {
  const Reg& r = s.reg(regno);
  if (r.type != RegType::NotInit) return r;
  const RegType was = r.released;
  if (was == RegType::Packet || was == RegType::PacketMeta || was == RegType::PacketEnd) {
    reject(RejectKind::UninitRegister, what + " held a packet pointer, which a helper that moves packet data "
                                              "invalidated: load data and data_end again and compare them");
  }
  if (was == RegType::Socket || was == RegType::SockCommon) {
    reject(RejectKind::ReferenceInvalid,
           what + " refers to a socket that was already released (bpf_sk_release)");
  }
  if (r.released != RegType::NotInit) {
    reject(RejectKind::ReferenceInvalid, what + " refers to a record that was already submitted or discarded");
  }
  reject(RejectKind::UninitRegister, what + " is read before it is written");
}

void Analyzer::reject(RejectKind kind, const std::string& why) {
  std::string msg = describe_insn(pc_) + ": " + why;
  // The last line-info entry at or before the instruction (lines are sorted by insn).
  auto after = std::upper_bound(in_.lines.begin(), in_.lines.end(), pc_,
                                [](size_t pc, const SourceLocation& l) { return pc < l.insn; });
  if (after != in_.lines.begin() && !std::prev(after)->file.empty()) {
    const SourceLocation& l = *std::prev(after);
    msg += "\n  at " + l.file + ":" + std::to_string(l.line) + (l.text.empty() ? "" : ": " + l.text);
  }
  if (cur_ != nullptr) msg += "\n  path: " + describe_path(cur_->path);
  if (opt_.log_level == 1 && cur_path_ != nullptr) {
    std::vector<const TrailLine*> lines;
    for (const TrailLine* t = cur_path_->trail.get(); t != nullptr; t = t->prev.get()) lines.push_back(t);
    for (size_t i = lines.size(); i-- > 0;) log_ += lines[i]->text;
  }
  throw Rejection{kind, msg};
}

std::string Analyzer::format_state(const State& s, size_t pc) const {
  std::string line = describe_insn(pc) + " ;";
  for (size_t f = 0; f < s.frames.size(); ++f) {
    const Frame& fr = s.frames[f];
    if (s.frames.size() > 1) line += " [frame " + std::to_string(f) + "]";
    for (int r = 0; r < kRegCount; ++r) {
      if (fr.regs[r].type == RegType::NotInit) continue;
      line += " R" + std::to_string(r) + "=" + fr.regs[r].to_string(map_names_);
    }
    for (size_t i = 0; i < fr.slots.size(); ++i) {
      const StackSlot& sl = fr.slots[i];
      const int32_t off = -int32_t(8 * (i + 1));
      if (sl.bytes[0] == StackByte::Spill) {
        line += " fp" + std::to_string(off) + "=" + sl.spill.to_string(map_names_);
        continue;
      }
      std::string marks;
      bool any = false;
      for (int b = 7; b >= 0; --b) {
        const char c = "?mzr"[int(sl.bytes[b])];
        marks += c;
        any |= sl.bytes[b] != StackByte::Invalid;
      }
      if (any) line += " fp" + std::to_string(off) + "=" + marks;
    }
  }
  return line + "\n";
}

void Analyzer::fork(Path& from, State state, size_t pc, uint32_t insn, bool taken) {
  state.path = std::make_shared<const PathStep>(PathStep{insn, taken, state.path});
  if (from.cp) ++from.cp->active;
  pending_.push_back(Path{std::move(state), pc, from.cp, from.trail});
  // The counts since the last stored state carry over: a loop that forks every iteration
  // still stores states (and so finds its repeats).
  pending_.back().since_checkpoint = from.since_checkpoint;
  pending_.back().jumps_since_checkpoint = from.jumps_since_checkpoint;
  if (precision_) {
    from.hist.freeze();
    pending_.back().hist = from.hist;
    pending_.back().hist.push(cur_entry_);  // the forking instruction, as both paths ran it
  }
}

namespace {
// States are stored at most this often along a path (the kernel's heuristic), so a
// long loop does not keep one state per iteration.
constexpr uint32_t kCheckpointEvery = 8;
// Inside a loop (a state stored at the same instruction is still being explored: the path
// came around), iterations rarely prune one another, so states are stored only after this
// many instructions or jumps (the kernel's heuristic for looping states).
constexpr uint32_t kLoopCheckpointInsns = 100;
constexpr uint32_t kLoopCheckpointJumps = 20;
// A path's instruction history (precision tracking) is walked back by every use that
// needs precision: a state is stored at least this often to keep the walks short (the
// kernel's jmp_history limit).
constexpr size_t kMaxHistory = 128;
uint64_t active_key(size_t slot, uint64_t fingerprint) { return fingerprint * 0x9E3779B97F4A7C15ull + slot; }
// An instruction in one calling context: a subprogram called again from elsewhere is not a loop.
uint64_t loop_key(size_t slot, const State& s) {
  if (s.frames.size() <= 1) return slot;
  return uint64_t(slot) << 32 ^ uint64_t(s.frames.size()) << 24 ^ s.cur().callsite;
}
}  // namespace

uint32_t& Analyzer::active_count(uint64_t key) {
  return key < active_main_.size() ? active_main_[key] : active_at_[key];
}

void Analyzer::finish_path(Checkpoint* cp) {
  while (cp != nullptr && --cp->active == 0) {
    auto [lo, hi] = active_.equal_range(active_key(cp->slot, cp->fingerprint));
    for (auto it = lo; it != hi; ++it) {
      if (it->second == cp) {
        active_.erase(it);
        break;
      }
    }
    done_[cp->slot].push_back(cp);
    --active_count(cp->loop_key);
    live_memory_ -= cp->hist.size * sizeof(HistEntry);
    cp->hist.clear();
    cp = cp->parent;
  }
}

void Analyzer::live_masks(const State& s, size_t pc, uint16_t* out) const {
  const size_t n = s.frames.size();
  for (size_t f = 0; f + 1 < n; ++f) {
    // A caller resumes after the call: a bpf-to-bpf return then sets R0 and clears
    // R1-R5; a callback's caller already holds the helper's R0 and cleared R1-R5.
    const Frame& callee = s.frames[f + 1];
    const size_t resume = size_t(callee.callsite) + 1;
    uint16_t m = resume < live_.size() ? live_[resume] : kAllRegisters;
    if (!callee.in_callback) m &= uint16_t(~0x3fu);
    out[f] = uint16_t(m | 1u << 10);
  }
  out[n - 1] = pc < live_.size() ? live_[pc] : kAllRegisters;
}

bool Analyzer::visit_prune_point(Path& path) {
  auto& done = done_[path.pc];
  path.state.clear_singular_scalar_ids();
  uint16_t masks[kMaxCallFrames + 1];
  const bool use_masks = !path.state.frames.empty() && path.state.frames.size() <= kMaxCallFrames + 1;
  if (use_masks && !done.empty()) live_masks(path.state, path.pc, masks);
  for (size_t i = 0; i < done.size(); ++i) {
    Checkpoint& cp = *done[i];
    static const PreciseMarks kNone;
    const PreciseMarks* precise = precision_ && !cp.all_precise ? &cp.precise : nullptr;
    if (opt_.precision == VerifyOptions::Precision::IgnoreForTesting) precise = &kNone;
    if (cp.state.covers(path.state, use_masks ? masks : nullptr, precise)) {
      ++cp.hits;
      // What cp's continuation needed precisely, this path's states need too.
      propagate_precision(cp, path, use_masks ? masks : nullptr);
      return true;
    }
    // A finished state that keeps failing to prune only costs time (the kernel's
    // miss_cnt); nothing refers to it any more, so it can go.
    if (++cp.misses > cp.hits * 3 + 3) {
      live_memory_ -= cp.state.memory_bytes();
      --live_states_;
      cp.state = State{};
      done[i] = done.back();
      done.pop_back();
      --i;
    }
  }
  // A may_goto loop ends at run time, so the verifier needs an invariant, not the
  // last iteration: this path's earlier visit here prunes it when it covers the state
  // (the kernel's may_goto_depth rule); otherwise go on from the two widened together.
  const auto* jump = std::get_if<isa::Jump>(&*g_.insns[path.pc]);
  const bool may_goto = jump != nullptr && jump->cond == isa::JmpCond::MayGoto;
  if (may_goto) {
    for (Checkpoint* earlier = path.cp; earlier != nullptr; earlier = earlier->parent) {
      if (earlier->slot != path.pc) continue;
      if (earlier->state.covers(path.state)) {
        ++earlier->hits;
        return true;
      }
      path.state = widen_state(earlier->state, path.state);
      break;
    }
  }
  // The fingerprint is only needed to look for an infinite loop or to store a state.
  const uint64_t lkey = loop_key(path.pc, path.state);
  const bool looping = lkey < active_main_.size() ? active_main_[lkey] != 0
                                                  : active_at_.count(lkey) != 0 && active_at_[lkey] != 0;
  const bool store = path.cp == nullptr || may_goto || path.hist.size >= kMaxHistory ||
                     (looping ? path.since_checkpoint >= kLoopCheckpointInsns ||
                                    path.jumps_since_checkpoint >= kLoopCheckpointJumps
                              : path.since_checkpoint >= kCheckpointEvery);
  if (!store && !g_.loop_head[path.pc]) return false;
  const uint64_t fp = path.state.fingerprint();
  if (g_.loop_head[path.pc]) {
    auto [lo, hi] = active_.equal_range(active_key(path.pc, fp));
    for (auto it = lo; it != hi; ++it) {
      if (it->second->slot == path.pc && it->second->state.same_as(path.state)) {
        pc_ = path.pc;
        cur_ = &path.state;
        cur_path_ = &path;
        reject(RejectKind::InfiniteLoop, "infinite loop detected: the path came back to insn " +
                                             std::to_string(path.pc) + " in the state it left it");
      }
    }
  }
  if (!store) return false;
  auto cp = std::make_unique<Checkpoint>();
  cp->state = path.state;
  cp->fingerprint = fp;
  cp->parent = path.cp;
  cp->slot = path.pc;
  cp->hist = std::move(path.hist);
  path.hist.clear();
  // The path moves from its old checkpoint to the new one, which counts as one
  // active child of the old: the old checkpoint's count is unchanged.
  path.cp = cp.get();
  path.since_checkpoint = 0;
  path.jumps_since_checkpoint = 0;
  cp->loop_key = lkey;
  ++active_count(lkey);
  ++stats_.states_total;
  ++live_states_;
  stats_.states_peak = std::max(stats_.states_peak, live_states_);
  live_memory_ += cp->state.memory_bytes() + cp->hist.size * sizeof(HistEntry);
  stats_.peak_memory_bytes = std::max(stats_.peak_memory_bytes, live_memory_);
  active_.emplace(active_key(path.pc, fp), cp.get());
  storage_.push_back(std::move(cp));
  return false;
}

void Analyzer::run_path(Path path) {
  for (;;) {
    if (path.pc >= g_.size() || !g_.insns[path.pc]) {
      pc_ = std::min(path.pc, g_.size() - 1);
      reject(RejectKind::BadJump, "the path left the program");
    }
    if (g_.prune_point[path.pc] && visit_prune_point(path)) {
      finish_path(path.cp);
      return;
    }
    ++path.since_checkpoint;
    if (g_.insns[path.pc]) {
      const isa::Instruction& insn = *g_.insns[path.pc];
      if (std::holds_alternative<isa::Jump>(insn) || std::holds_alternative<isa::Ja>(insn) ||
          std::holds_alternative<isa::Call>(insn) || std::holds_alternative<isa::Exit>(insn)) {
        ++path.jumps_since_checkpoint;
      }
    }
    if (++stats_.insns_processed > opt_.insn_limit) {
      pc_ = path.pc;
      cur_ = &path.state;
      reject(RejectKind::TooComplex, "BPF program is too large: processed " +
                                         std::to_string(opt_.insn_limit) + " instructions without finishing");
    }
    if (opt_.log_level >= 2) log_ += format_state(path.state, path.pc);
    if (opt_.log_level == 1) {
      path.trail = std::make_shared<const TrailLine>(TrailLine{format_state(path.state, path.pc), path.trail});
    }
    if (precision_) {
      cur_entry_ = HistEntry{uint32_t(path.pc), 0, -1, 0, uint8_t(path.state.frames.size() - 1)};
    }
    if (!step(path)) {
      finish_path(path.cp);
      return;
    }
    if (precision_) path.hist.push(cur_entry_);
  }
}

bool Analyzer::step(Path& path) {
  pc_ = path.pc;
  cur_ = &path.state;
  cur_path_ = &path;
  State& s = path.state;
  const isa::Instruction& insn = *g_.insns[path.pc];
  const size_t next = path.pc + size_t(isa::slot_count(insn));
  if (const auto* a = std::get_if<isa::Alu>(&insn)) {
    exec_alu(s, *a);
  } else if (const auto* n = std::get_if<isa::Neg>(&insn)) {
    exec_neg(s, *n);
  } else if (const auto* e = std::get_if<isa::Endian>(&insn)) {
    exec_endian(s, *e);
  } else if (const auto* l = std::get_if<isa::Load>(&insn)) {
    exec_load(s, *l);
  } else if (const auto* st = std::get_if<isa::Store>(&insn)) {
    exec_store(s, *st);
  } else if (const auto* at = std::get_if<isa::Atomic>(&insn)) {
    exec_atomic(s, *at);
  } else if (const auto* ld = std::get_if<isa::LoadImm64>(&insn)) {
    exec_lddw(s, *ld);
  } else if (const auto* pl = std::get_if<isa::PacketLoad>(&insn)) {
    exec_packet_load(s, *pl);
  } else if (const auto* j = std::get_if<isa::Jump>(&insn)) {
    exec_jump(path, *j);
    return true;
  } else if (const auto* ja = std::get_if<isa::Ja>(&insn)) {
    path.pc = size_t(int64_t(path.pc) + 1 + ja->off);
    return true;
  } else if (const auto* c = std::get_if<isa::Call>(&insn)) {
    if (c->kind == isa::CallKind::Local) {
      exec_local_call(path, *c);
      return true;
    }
    if (c->kind == isa::CallKind::Kfunc) reject(RejectKind::Unsupported, "kfunc calls are not supported yet");
    exec_helper_call(path, *c);
    return true;
  } else if (std::holds_alternative<isa::CallX>(insn)) {
    reject(RejectKind::InvalidInstruction, "callx (an indirect call) is not allowed");
  } else if (std::holds_alternative<isa::Exit>(insn)) {
    return exec_exit(path);
  }
  path.pc = next;
  return true;
}

void Analyzer::explore() {
  State init;
  Frame main;
  main.subprog = 0;
  if (!in_.bare_memory) {
    main.regs[1] = Reg::pointer(RegType::Ctx);
  } else {
    main.regs[1] = Reg::scalar(ScalarValue::constant(0));
    if (*in_.bare_memory > 0) {
      main.regs[1] = Reg::pointer(RegType::Mem);
      main.regs[1].mem_size = *in_.bare_memory;
    }
    main.regs[2] = Reg::scalar(ScalarValue::constant(*in_.bare_memory));
  }
  main.regs[10] = Reg::pointer(RegType::Stack);
  main.regs[10].frame = 0;
  init.frames.push_back(std::move(main));
  pending_.push_back(Path{std::move(init), 0, nullptr});
  while (!pending_.empty()) {
    Path p = std::move(pending_.back());
    pending_.pop_back();
    run_path(std::move(p));
  }
}

VerifyResult Analyzer::run() {
  start_ = std::chrono::steady_clock::now();
  VerifyResult result;
  try {
    if (type_ == nullptr) {
      throw Rejection{RejectKind::Unsupported,
                      "program type " + std::to_string(in_.prog_type) + " is not known to bpfkit"};
    }
    explore();
    result.ok = true;
  } catch (const Rejection& r) {
    result.ok = false;
    result.kind = r.kind;
    result.insn = pc_;
    result.message = r.message;
  }
  stats_.time_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - start_).count());
  result.stats = stats_;
  if (!result.ok) {
    log_ += result.message + "\n";
  }
  log_ += "processed " + std::to_string(stats_.insns_processed) + " insns, " +
          std::to_string(stats_.states_total) + " states (peak " + std::to_string(stats_.states_peak) + ")\n";
  result.log = std::move(log_);
  return result;
}

VerifyResult verify_program(const VerifyInput& input, const VerifyOptions& options) {
  // `privileged: false` is CAP_BPF without CAP_PERFMON: loops and bpf-to-bpf calls stay allowed.
  auto built = build_program_graph(input.insns, true);
  if (auto* err = std::get_if<GraphError>(&built)) {
    VerifyResult r;
    r.kind = err->kind;
    r.insn = err->insn;
    r.message = err->message;
    r.log = err->message + "\n";
    return r;
  }
  const ProgramGraph& graph = std::get<ProgramGraph>(built);
  // Map references are resolved at load, unreachable ones too (see map_reference.h).
  for (size_t slot = 0; slot < graph.insns.size(); ++slot) {
    const auto* l = graph.insns[slot] ? std::get_if<isa::LoadImm64>(&*graph.insns[slot]) : nullptr;
    if (!l) continue;
    if (auto problem = check_map_reference(input, *l)) {
      VerifyResult r;
      r.kind = problem->kind;
      r.insn = slot;
      r.message = "insn " + std::to_string(slot) + ": " + problem->message;
      r.log = r.message + "\n";
      return r;
    }
  }
  Analyzer analyzer(input, options, graph);
  return analyzer.run();
}

}  // namespace bpfkit::verifier
