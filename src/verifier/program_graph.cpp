#include "verifier/program_graph.h"

#include <linux/bpf.h>

#include <algorithm>
#include <new>
#include <set>
#include <utility>

#include "isa/codec.h"
#include "isa/disassembler.h"

namespace bpfkit::verifier {
namespace {

using isa::Instruction;

// Helpers that run a subprogram passed to them. The kernel forces a state
// checkpoint at such a call: the callback may run any number of times.
bool takes_callback(int32_t helper) {
  switch (helper) {
    case BPF_FUNC_for_each_map_elem:
    case BPF_FUNC_find_vma:
    case BPF_FUNC_loop:
    case BPF_FUNC_user_ringbuf_drain:
    case BPF_FUNC_timer_set_callback:
      return true;
    default:
      return false;
  }
}

std::string describe_slot(const std::vector<std::optional<Instruction>>& insns, size_t slot) {
  std::string s = "insn " + std::to_string(slot);
  if (slot >= insns.size()) return s;
  if (!insns[slot]) return s + " (second slot of an lddw)";
  return s + " (" + isa::format_insn(*insns[slot], uint32_t(slot)) + ")";
}

// Where control goes after `insn` at `slot`: fall-through first, then the jump target.
void successors_of(const Instruction& insn, size_t slot, std::vector<size_t>& out) {
  const int64_t next = int64_t(slot) + 1;
  if (std::holds_alternative<isa::Exit>(insn)) return;
  if (auto* ja = std::get_if<isa::Ja>(&insn)) {
    out.push_back(size_t(next + ja->off));
    return;
  }
  if (auto* j = std::get_if<isa::Jump>(&insn)) {
    out.push_back(size_t(next));
    if (j->off != 0) out.push_back(size_t(next + j->off));
    return;
  }
  out.push_back(slot + size_t(isa::slot_count(insn)));
}

// A local call's or an ld_imm64 func's target slot (may lie outside the program).
std::optional<int64_t> code_reference(const Instruction& insn, size_t slot) {
  if (auto* c = std::get_if<isa::Call>(&insn); c && c->kind == isa::CallKind::Local)
    return int64_t(slot) + 1 + c->imm;
  if (auto* l = std::get_if<isa::LoadImm64>(&insn); l && l->pseudo == isa::Pseudo::Func)
    return int64_t(slot) + 1 + l->imm_lo;
  return std::nullopt;
}

struct Failure {
  GraphError error;
};

class Builder {
 public:
  Builder(std::span<const isa::RawInsn> raw, bool privileged) : raw_(raw), privileged_(privileged) {}

  ProgramGraph build() {
    check_size();
    decode();
    find_subprograms();
    check_subprograms();
    walk_cfg();
    check_reachable();
    check_call_graph();
    check_exits();
    return std::move(g_);
  }

 private:
  [[noreturn]] void fail(RejectKind kind, size_t insn, const std::string& what) const {
    throw Failure{{kind, insn, describe_slot(g_.insns, insn) + ": " + what}};
  }

  // Each instruction's start slot, in order.
  template <typename Fn>
  void for_each_insn(size_t begin, size_t end, Fn&& fn) const {
    for (size_t slot = begin; slot < end; ++slot)
      if (g_.insns[slot]) fn(slot, *g_.insns[slot]);
  }

  std::string subprog_name(size_t index) const {
    if (index == 0) return "the main program";
    return "subprogram " + std::to_string(index) + " (insns " + std::to_string(g_.subprogs[index].start) +
           "-" + std::to_string(g_.subprogs[index].end - 1) + ")";
  }

  // The kernel refuses these at BPF_PROG_LOAD with E2BIG, before verifying anything.
  void check_size() const {
    if (raw_.empty()) throw Failure{{RejectKind::InvalidInstruction, 0, "the program has no instructions"}};
    const size_t limit = privileged_ ? kMaxInsnsPrivileged : kMaxInsnsUnprivileged;
    if (raw_.size() > limit) {
      throw Failure{
          {RejectKind::TooComplex, limit,
           "the program has " + std::to_string(raw_.size()) + " instructions; the kernel loads at most " +
               std::to_string(limit) +
               (privileged_ ? " (BPF_COMPLEXITY_LIMIT_INSNS)" : " without CAP_BPF (BPF_MAXINSNS)")}};
    }
  }

  void decode() {
    const size_t n = raw_.size();
    g_.insns.assign(n, std::nullopt);
    for (size_t slot = 0; slot < n;) {
      try {
        g_.insns[slot] = isa::decode_insn(raw_, slot);
      } catch (const Error& e) {
        // "instruction N: why" -> "insn N: why", as every other message reads.
        auto* d = dynamic_cast<const isa::DecodeError*>(&e);
        const size_t at = d ? d->slot() : slot;
        const std::string prefix = "instruction " + std::to_string(at) + ": ";
        std::string why = e.what();
        if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
        throw Failure{{RejectKind::InvalidInstruction, at, "insn " + std::to_string(at) + ": " + why}};
      }
      slot += size_t(isa::slot_count(*g_.insns[slot]));
    }
  }

  // Local-call targets and ld_imm64 func targets start subprograms (the kernel's
  // add_subprog_and_kfunc, in the same order of checks).
  void find_subprograms() {
    const size_t n = g_.size();
    std::set<size_t> starts{0};
    for_each_insn(0, n, [&](size_t slot, const Instruction& insn) {
      auto* call = std::get_if<isa::Call>(&insn);
      const std::optional<int64_t> target = code_reference(insn, slot);
      const bool kfunc = call && call->kind == isa::CallKind::Kfunc;
      if (!target && !kfunc) return;
      if (!privileged_) {
        fail(RejectKind::BadCall, slot,
             std::string(kfunc            ? "kfunc calls"
                         : target && call ? "bpf-to-bpf calls"
                                          : "function pointers") +
                 " need CAP_BPF (kernel: loading/calling other bpf or kernel functions are allowed for "
                 "CAP_BPF and CAP_SYS_ADMIN)");
      }
      if (!target) return;
      const char* what = call ? "call" : "function pointer";
      if (*target < 0 || *target >= int64_t(n)) {
        fail(RejectKind::BadJump, slot,
             std::string(what) + " to invalid destination: target " + std::to_string(*target) +
                 " is outside the program (insns 0-" + std::to_string(n - 1) + ")");
      }
      if (!g_.insns[size_t(*target)]) {
        fail(RejectKind::BadJump, slot,
             std::string(what) + " target " + std::to_string(*target) +
                 " is the middle of the lddw at insn " + std::to_string(*target - 1));
      }
      starts.insert(size_t(*target));
      if (starts.size() > kMaxSubprograms) {
        fail(RejectKind::TooComplex, slot,
             "too many subprograms: more than " + std::to_string(kMaxSubprograms) + " (BPF_MAX_SUBPROGS)");
      }
    });
    for (auto it = starts.begin(); it != starts.end(); ++it) {
      Subprogram sp;
      sp.start = *it;
      sp.end = std::next(it) == starts.end() ? n : *std::next(it);
      g_.subprogs.push_back(std::move(sp));
    }
    g_.subprog_of.assign(n, 0);
    for (size_t i = 0; i < g_.subprogs.size(); ++i)
      std::fill(g_.subprog_of.begin() + long(g_.subprogs[i].start),
                g_.subprog_of.begin() + long(g_.subprogs[i].end), uint32_t(i));
    // Now that every start is known: who calls whom.
    for_each_insn(0, n, [&](size_t slot, const Instruction& insn) {
      const std::optional<int64_t> target = code_reference(insn, slot);
      if (!target) return;
      Subprogram& caller = g_.subprogs[g_.subprog_of[slot]];
      const size_t callee = *g_.subprog_at(size_t(*target));
      if (std::holds_alternative<isa::Call>(insn)) {
        caller.calls.push_back(callee);
        g_.subprogs[callee].is_called = true;
      } else {
        caller.callbacks.push_back(callee);
        g_.subprogs[callee].is_callback = true;
      }
    });
    for (Subprogram& sp : g_.subprogs) {
      for (auto* v : {&sp.calls, &sp.callbacks}) {
        std::sort(v->begin(), v->end());
        v->erase(std::unique(v->begin(), v->end()), v->end());
      }
    }
  }

  // The kernel's check_subprogs: jumps stay in their subprogram; each subprogram ends
  // with exit or an unconditional jump, so that none falls into the next.
  void check_subprograms() {
    for (size_t index = 0; index < g_.subprogs.size(); ++index) {
      Subprogram& sp = g_.subprogs[index];
      for_each_insn(sp.start, sp.end, [&](size_t slot, const Instruction& insn) {
        if (auto* c = std::get_if<isa::Call>(&insn);
            c && c->kind == isa::CallKind::Helper && c->imm == BPF_FUNC_tail_call)
          sp.has_tail_call = true;
        if (std::holds_alternative<isa::PacketLoad>(insn)) sp.has_ld_abs = true;
        std::optional<int64_t> target;
        if (auto* j = std::get_if<isa::Jump>(&insn)) target = int64_t(slot) + 1 + j->off;
        if (auto* ja = std::get_if<isa::Ja>(&insn)) target = int64_t(slot) + 1 + ja->off;
        if (target) check_jump(index, slot, *target);
      });
      const size_t last = g_.insns[sp.end - 1] ? sp.end - 1 : sp.end - 2;
      const Instruction& insn = *g_.insns[last];
      if (!std::holds_alternative<isa::Exit>(insn) && !std::holds_alternative<isa::Ja>(insn)) {
        fail(RejectKind::FallThroughEnd, last,
             "last insn is not an exit or jmp: " + subprog_name(index) + " would fall through " +
                 (index + 1 < g_.subprogs.size() ? "into " + subprog_name(index + 1)
                                                 : "off the end of the program"));
      }
    }
  }

  void check_jump(size_t index, size_t slot, int64_t target) const {
    const Subprogram& sp = g_.subprogs[index];
    const std::string head =
        "jump out of range from insn " + std::to_string(slot) + " to " + std::to_string(target);
    if (target < 0 || target >= int64_t(g_.size()))
      fail(RejectKind::BadJump, slot,
           head + ": outside the program (insns 0-" + std::to_string(g_.size() - 1) + ")");
    if (target < int64_t(sp.start) || target >= int64_t(sp.end)) {
      fail(RejectKind::BadJump, slot,
           head + ": from " + subprog_name(index) + " into " + subprog_name(g_.subprog_of[size_t(target)]) +
               " (only calls may enter another subprogram)");
    }
    if (!g_.insns[size_t(target)])
      fail(RejectKind::BadJump, slot,
           "jump into the middle of the lddw at insn " + std::to_string(target - 1));
  }

  // The kernel's check_cfg: a depth-first walk from insn 0 that follows fall-through
  // edges first, then jump targets and callees. Doing it in the kernel's order makes
  // the back-edge reported (and the loop heads) the kernel's.
  enum : uint8_t { kDiscovered = 0x10, kExplored = 0x20, kFallthrough = 1, kBranch = 2 };

  // Follows edge t -> w; true when w is new (the walk descends into it).
  bool push_edge(size_t t, size_t w, uint8_t edge, bool call_edge) {
    if (state_[t] >= (kDiscovered | edge)) return false;  // this edge was followed before
    if (edge == kBranch) g_.prune_point[w] = true;
    if (state_[w] == 0) {
      state_[t] = kDiscovered | edge;
      state_[w] = kDiscovered;
      stack_.push_back(w);
      return true;
    }
    if ((state_[w] & 0xF0) == kDiscovered) {
      // Recursion (a call back into a subprogram on the walk) is the call graph's concern.
      if (call_edge) return false;
      if (!privileged_) {
        fail(RejectKind::InfiniteLoop, t,
             "back-edge from insn " + std::to_string(t) + " to " + std::to_string(w) +
                 ": loops need CAP_BPF (the kernel then bounds them by interpretation)");
      }
      g_.loop_head[w] = true;
      return false;
    }
    state_[t] = kDiscovered | edge;  // forward or cross edge to an explored instruction
    return false;
  }

  // Follows the next unexplored edge out of t; false when t has none left.
  bool visit(size_t t) {
    const Instruction& insn = *g_.insns[t];
    if (auto* l = std::get_if<isa::LoadImm64>(&insn); l && l->pseudo == isa::Pseudo::Func) {
      if (push_edge(t, t + 2, kFallthrough, false)) return true;
      g_.prune_point[t] = g_.prune_point[t + 2] = true;
      return push_edge(t, size_t(int64_t(t) + 1 + l->imm_lo), kBranch, true);
    }
    if (std::holds_alternative<isa::Exit>(insn)) return false;
    if (auto* c = std::get_if<isa::Call>(&insn)) {
      if (c->kind == isa::CallKind::Helper && takes_callback(c->imm)) g_.prune_point[t] = true;
      if (push_edge(t, t + 1, kFallthrough, false)) return true;
      g_.prune_point[t + 1] = true;
      if (c->kind != isa::CallKind::Local) return false;
      g_.prune_point[t] = true;
      return push_edge(t, size_t(int64_t(t) + 1 + c->imm), kBranch, true);
    }
    if (std::holds_alternative<isa::CallX>(insn)) {
      if (push_edge(t, t + 1, kFallthrough, false)) return true;
      g_.prune_point[t + 1] = true;
      return false;
    }
    if (auto* ja = std::get_if<isa::Ja>(&insn)) {
      const size_t target = size_t(int64_t(t) + 1 + ja->off);
      g_.prune_point[target] = true;
      return push_edge(t, target, kFallthrough, false);
    }
    if (auto* j = std::get_if<isa::Jump>(&insn)) {
      g_.prune_point[t] = true;
      if (push_edge(t, t + 1, kFallthrough, false)) return true;
      return push_edge(t, size_t(int64_t(t) + 1 + j->off), kBranch, false);
    }
    return push_edge(t, t + size_t(isa::slot_count(insn)), kFallthrough, false);
  }

  void walk_cfg() {
    const size_t n = g_.size();
    g_.prune_point.assign(n, false);
    g_.loop_head.assign(n, false);
    state_.assign(n, 0);
    state_[0] = kDiscovered;
    stack_.push_back(0);
    while (!stack_.empty()) {
      const size_t t = stack_.back();
      if (!visit(t)) {
        state_[t] = kExplored;
        stack_.pop_back();
      }
    }
  }

  void check_reachable() const {
    for_each_insn(0, g_.size(), [&](size_t slot, const Instruction&) {
      if (state_[slot] != kExplored)
        fail(RejectKind::Unreachable, slot,
             "unreachable insn " + std::to_string(slot) + ": no path from insn 0 leads here");
    });
  }

  // Calls and callback references between subprograms, with the instruction of each.
  struct CallSite {
    size_t slot, callee;
  };

  // No recursion, and no chain deeper than 8 frames. Callbacks count as calls: the
  // kernel runs them in a new frame (async callbacks, such as timers', do not count
  // there, but which helper receives a function pointer is not known statically).
  void check_call_graph() {
    const size_t count = g_.subprogs.size();
    sites_.assign(count, {});
    for_each_insn(0, g_.size(), [&](size_t slot, const Instruction& insn) {
      if (auto target = code_reference(insn, slot))
        sites_[g_.subprog_of[slot]].push_back({slot, *g_.subprog_at(size_t(*target))});
    });
    color_.assign(count, 0);
    std::vector<CallSite> chain;
    walk_calls(0, chain);
    if (g_.subprogs[0].frames <= kMaxCallFrames) return;
    // Name the call that opens frame 9, and the chain leading to it.
    chain.clear();
    size_t s = 0;
    while (chain.size() < kMaxCallFrames) {
      for (const CallSite& site : sites_[s]) {
        if (g_.subprogs[site.callee].frames + 1 == g_.subprogs[s].frames) {
          chain.push_back(site);
          s = site.callee;
          break;
        }
      }
    }
    fail(RejectKind::CallDepth, chain.back().slot,
         "the call stack of " + std::to_string(kMaxCallFrames + 1) + " frames is too deep (the limit is " +
             std::to_string(kMaxCallFrames) + "): " + chain_text(chain));
  }

  void walk_calls(size_t s, std::vector<CallSite>& chain) {
    color_[s] = 1;
    Subprogram& sp = g_.subprogs[s];
    for (const CallSite& site : sites_[s]) {
      chain.push_back(site);
      if (color_[site.callee] == 1) {
        fail(RejectKind::CallDepth, site.slot,
             "recursive call into " + subprog_name(site.callee) + ", which is already on the call chain " +
                 chain_text(chain) + " (the kernel rejects recursion: the call stack grows past " +
                 std::to_string(kMaxCallFrames) + " frames)");
      }
      if (color_[site.callee] == 0) walk_calls(site.callee, chain);
      chain.pop_back();
      sp.frames = std::max(sp.frames, g_.subprogs[site.callee].frames + 1);
    }
    color_[s] = 2;
  }

  std::string chain_text(const std::vector<CallSite>& chain) const {
    std::string text = "insn 0";
    for (const CallSite& site : chain) {
      const bool callback = std::holds_alternative<isa::LoadImm64>(*g_.insns[site.slot]);
      text += " -> insn " + std::to_string(site.slot) + (callback ? " (callback " : " (call ") +
              std::to_string(g_.subprogs[site.callee].start) + ")";
    }
    return text;
  }

  // Which slots some path leads from to an exit. A subprogram whose entry has none
  // never returns; the kernel finds that while interpreting ("infinite loop detected",
  // or the complexity limit when the loop changes state).
  void check_exits() {
    const size_t n = g_.size();
    std::vector<size_t> pred_count(n + 1, 0), succ;
    for_each_insn(0, n, [&](size_t slot, const Instruction& insn) {
      succ.clear();
      successors_of(insn, slot, succ);
      for (size_t w : succ) ++pred_count[w + 1];
    });
    for (size_t i = 0; i < n; ++i) pred_count[i + 1] += pred_count[i];
    std::vector<size_t> preds(pred_count[n]), fill(pred_count.begin(), pred_count.end() - 1);
    for_each_insn(0, n, [&](size_t slot, const Instruction& insn) {
      succ.clear();
      successors_of(insn, slot, succ);
      for (size_t w : succ) preds[fill[w]++] = slot;
    });
    g_.can_exit.assign(n, false);
    std::vector<size_t> work;
    for_each_insn(0, n, [&](size_t slot, const Instruction& insn) {
      if (std::holds_alternative<isa::Exit>(insn)) {
        g_.can_exit[slot] = true;
        work.push_back(slot);
      }
    });
    while (!work.empty()) {
      const size_t w = work.back();
      work.pop_back();
      for (size_t i = pred_count[w]; i < pred_count[w + 1]; ++i) {
        if (!g_.can_exit[preds[i]]) {
          g_.can_exit[preds[i]] = true;
          work.push_back(preds[i]);
        }
      }
    }
    for (size_t index = 0; index < g_.subprogs.size(); ++index) {
      const size_t start = g_.subprogs[index].start;
      if (g_.can_exit[start]) continue;
      // Every successor of a slot that cannot exit cannot either: follow any until one repeats.
      std::vector<bool> seen(n, false);
      size_t slot = start;
      while (!seen[slot]) {
        seen[slot] = true;
        succ.clear();
        successors_of(*g_.insns[slot], slot, succ);
        slot = succ.front();
      }
      fail(RejectKind::InfiniteLoop, slot,
           "infinite loop detected at insn " + std::to_string(slot) +
               ": no path from it, nor from the entry of " + subprog_name(index) + " (insn " +
               std::to_string(start) + "), reaches an exit");
    }
  }

  std::span<const isa::RawInsn> raw_;
  bool privileged_;
  ProgramGraph g_;
  std::vector<uint8_t> state_;
  std::vector<size_t> stack_;
  std::vector<std::vector<CallSite>> sites_;
  std::vector<uint8_t> color_;
};

}  // namespace

std::vector<size_t> ProgramGraph::successors(size_t slot) const {
  std::vector<size_t> out;
  if (slot < insns.size() && insns[slot]) successors_of(*insns[slot], slot, out);
  return out;
}

std::optional<size_t> ProgramGraph::subprog_at(size_t slot) const {
  auto it = std::lower_bound(subprogs.begin(), subprogs.end(), slot,
                             [](const Subprogram& sp, size_t s) { return sp.start < s; });
  if (it == subprogs.end() || it->start != slot) return std::nullopt;
  return size_t(it - subprogs.begin());
}

std::optional<size_t> ProgramGraph::callee(size_t slot) const {
  if (slot >= insns.size() || !insns[slot]) return std::nullopt;
  std::optional<int64_t> target = code_reference(*insns[slot], slot);
  if (!target || *target < 0) return std::nullopt;
  return subprog_at(size_t(*target));
}

std::string ProgramGraph::describe(size_t slot) const { return describe_slot(insns, slot); }

std::variant<ProgramGraph, GraphError> build_program_graph(std::span<const isa::RawInsn> insns,
                                                           bool privileged) {
  try {
    return Builder(insns, privileged).build();
  } catch (const Failure& f) {
    return f.error;
  } catch (const std::bad_alloc&) {
    return GraphError{RejectKind::TooComplex, 0, "out of memory while building the program graph"};
  } catch (const std::exception& e) {
    return GraphError{RejectKind::Unsupported, 0,
                      std::string("internal error in the program graph: ") + e.what()};
  }
}

}  // namespace bpfkit::verifier
