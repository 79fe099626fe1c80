// The abstract interpreter: walks every path of the program depth first, as the
// kernel's do_check does, carrying a State; stores states at the graph's prune
// points and stops a path whose state is covered by one already proven safe; a
// path that comes back to a loop head in exactly the state it left is an
// infinite loop. Each instruction kind has its transfer function in its own file
// (check_alu.cpp, check_memory.cpp, check_branch.cpp, check_call.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/helpers.h"
#include "core/program_type.h"
#include "verifier/abstract_state.h"
#include "verifier/liveness.h"
#include "verifier/precision.h"
#include "verifier/program_graph.h"
#include "verifier/verifier.h"

namespace bpfkit::verifier {

// Thrown inside the analyzer to stop at the first unsafe instruction.
struct Rejection {
  RejectKind kind;
  std::string message;
};

class Analyzer {
 public:
  Analyzer(const VerifyInput& input, const VerifyOptions& options, const ProgramGraph& graph);
  VerifyResult run();

 private:
  // A stored state at a prune point; `active` counts paths still being explored
  // below it (0: everything after it was proven safe, so it may prune others).
  struct Checkpoint {
    State state;
    uint64_t fingerprint = 0;
    int active = 1;
    Checkpoint* parent = nullptr;
    uint32_t hits = 0, misses = 0;  // how often it pruned / failed to (useless ones are dropped)
    size_t slot = 0;
    uint64_t loop_key = 0;  // the slot and calling context (active_at_)
    // The scalars whose ranges mattered below it (precision.h); all_precise: every one.
    PreciseMarks precise;
    bool all_precise = false;
    // The instructions from the parent's state to this one (walked back by mark_precise;
    // dropped once the checkpoint is done, since no path below it remains).
    History hist;
  };
  // Log level 1: the lines of the current path, shared with the paths it forked.
  struct TrailLine {
    std::string text;
    std::shared_ptr<const TrailLine> prev;
  };
  struct Path {
    State state;
    size_t pc = 0;
    Checkpoint* cp = nullptr;
    std::shared_ptr<const TrailLine> trail;
    uint32_t since_checkpoint = 0;  // instructions since the path stored its last state
    uint32_t jumps_since_checkpoint = 0;  // of them jumps, calls and exits
    History hist;    // instructions since `cp` (precision tracking)
  };

  // --- driver (analyzer.cpp) ---
  void explore();
  // Runs one path until it ends (exit of the main frame, pruned, or impossible).
  void run_path(Path path);
  // True when the path can stop here (a covering checkpoint exists).
  bool visit_prune_point(Path& path);
  // The live registers of each frame of a state at `pc` (caller frames: at their return).
  void live_masks(const State& s, size_t pc, uint16_t* out) const;
  void finish_path(Checkpoint* cp);
  void fork(Path& from, State state, size_t pc, uint32_t insn, bool taken);
  [[noreturn]] void reject(RejectKind kind, const std::string& why);
  std::string format_state(const State& s, size_t pc) const;
  std::string describe_insn(size_t pc) const;
  // "the socket acquired by bpf_sk_lookup_tcp at insn 7 (call 84) (reference id=2) is not released ..."
  std::string describe_reference(const Reference& ref) const;
  uint32_t new_id() { return ++id_gen_; }

  // --- precision tracking (precision.cpp) ---
  // The register's exact range matters here: mark it, and what it came from, precise in
  // the current path's stored states.
  void need_precise(int regno);
  // Marks `need` (scalars of the path's current state) precise back along the path.
  void mark_precise(const Path& path, PreciseMarks need);
  // A path pruned by `by` relies on every precise scalar of `by` (live ones, `live` per frame).
  void propagate_precision(const Checkpoint& by, const Path& path, const uint16_t* live);
  bool backtrack_history(const History& hist, PreciseMarks& need) const;
  bool backtrack_entries(const std::vector<HistEntry>& entries, PreciseMarks& need) const;
  bool take_marks(Checkpoint& cp, PreciseMarks& need);
  void mark_all_precise(Checkpoint* cp);
  // A conditional jump's operands' linked copies (ids id_a, id_b), for the backtracking.
  void record_linked(const State& s, uint32_t id_a, uint32_t id_b);

  // --- one instruction; returns false when the path ends ---
  bool step(Path& path);

  // --- ALU (check_alu.cpp) ---
  void exec_alu(State& s, const isa::Alu& a);
  void exec_neg(State& s, const isa::Neg& n);
  void exec_endian(State& s, const isa::Endian& e);
  void exec_lddw(State& s, const isa::LoadImm64& l);
  void pointer_arith(State& s, int dst, const Reg& ptr, const Reg& scalar, isa::AluOp op, bool ptr_is_src);

  // --- memory (check_memory.cpp) ---
  // The register an instruction reads, after refusing one that holds nothing: never
  // written, or a reference already released. `what` names it ("R3", "map_lookup_elem
  // argument 1 (R1)").
  const Reg& read_reg(const State& s, int regno, const std::string& what);
  const Reg& read_reg(const State& s, int regno) { return read_reg(s, regno, "R" + std::to_string(regno)); }
  void sync_linked_scalars(State& s, int regno);
  void check_unprivileged_pointer(const Reg& p, int regno);
  void check_ordered_access(const State& s, int regno, int32_t off, uint32_t size, bool load);
  void exec_load(State& s, const isa::Load& l);
  void exec_store(State& s, const isa::Store& st);
  void exec_atomic(State& s, const isa::Atomic& a);
  void exec_packet_load(State& s, const isa::PacketLoad& p);
  enum class Access { Read, Write, ReadWrite };
  // Checks a `size`-byte access at reg + off; for reads into a register, returns what is read.
  Reg check_mem_access(State& s, int regno, int32_t off, uint32_t size, Access access, bool sign_extend,
                       const Reg* stored);
  // A helper's memory argument: [reg + 0, reg + size) readable (and initialised) or writable.
  void check_helper_mem(State& s, int regno, uint64_t min_size, uint64_t max_size, Access access, int argno);
  Reg stack_read(State& s, const Reg& base, int regno, int32_t off, uint32_t size, bool sign_extend);
  void stack_write(State& s, const Reg& base, int regno, int32_t off, uint32_t size, const Reg* value);
  void check_bounded_region(const Reg& base, int regno, int32_t off, uint64_t size, uint64_t region_size,
                            const char* what);
  bool packet_writable() const;

  // --- branches (check_branch.cpp) ---
  // Returns false when the path ends (only one successor that is impossible never happens).
  void exec_jump(Path& path, const isa::Jump& j);
  void mark_null_check(State& s, uint32_t id, bool is_null);
  bool refine_packet_compare(State& taken, State& fallthrough, const isa::Jump& j);

  // --- calls (check_call.cpp) ---
  void exec_helper_call(Path& path, const isa::Call& c);
  void exec_local_call(Path& path, const isa::Call& c);
  void enter_callback(Path& path, uint32_t subprog, const Reg& ctx_arg, uint32_t ret_min, uint32_t ret_max);
  // Exit: returns false when the main frame's exit ends the path.
  bool exec_exit(Path& path);
  void check_return_code(const State& s);
  void invalidate_packet_pointers(State& s);
  void check_stack_limits(const State& s);

  const VerifyInput& in_;
  const VerifyOptions& opt_;
  const ProgramGraph& g_;
  std::vector<uint16_t> live_;  // registers possibly read later, per slot (liveness.h)
  const core::ProgramTypeInfo* type_;
  const core::HelperTable* helpers_;
  std::vector<MapInfo> maps_;  // the input's maps, then inner-map shapes
  std::vector<std::string> map_names_;
  // Finished checkpoints per slot (they may prune); checkpoints still being explored
  // below, by slot and fingerprint (a path meeting one of them again loops forever).
  std::vector<std::vector<Checkpoint*>> done_;
  std::unordered_multimap<uint64_t, Checkpoint*> active_;
  // Checkpoints still being explored below, per slot and calling context (loop_key): the
  // main frame's by slot, the others' hashed.
  std::vector<uint32_t> active_main_;
  std::unordered_map<uint64_t, uint32_t> active_at_;
  uint32_t& active_count(uint64_t key);
  std::vector<std::unique_ptr<Checkpoint>> storage_;
  std::vector<Path> pending_;
  size_t pc_ = 0;  // the instruction being checked (for messages)
  const State* cur_ = nullptr;  // the state at pc_ (for the path in messages)
  const Path* cur_path_ = nullptr;
  uint32_t id_gen_ = 0;
  // Precision tracking is on unless the program has loops verified by widening (may_goto)
  // or callbacks, whose states are not derived instruction by instruction; then every
  // scalar is compared by range, as before.
  bool precision_ = true;
  HistEntry cur_entry_;  // the instruction being checked, as its path's history will hold it
  std::vector<std::vector<LinkedLoc>> linked_sets_;
  int store_src_reg_ = -1;  // the register a store writes (-1: an immediate or none)
  uint64_t stats_precise_fallbacks_ = 0;
  VerifyStats stats_;
  uint64_t live_states_ = 0;
  uint64_t live_memory_ = 0;
  std::string log_;
  std::chrono::steady_clock::time_point start_;
};

// Facts about helpers the verifier needs beyond their prototypes (helper_facts.cpp).
// Whether the helper may move packet data (pointers into the packet become invalid).
bool helper_changes_packet_data(int32_t id);
// Whether `map_type` may be passed to helper `id` (check_map_func_compatibility).
bool helper_accepts_map(int32_t id, uint32_t map_type);
// Whether a `size`-byte load at `off` of struct bpf_sock is allowed through a socket pointer
// (bpf_sock_is_valid_access; `common`: a sock_common, bpf_sock_common_is_valid_access). Sets
// `field` to the field's name when `off` lies in one (socket_fields.cpp).
bool sock_access_ok(bool common, int64_t off, uint32_t size, std::string* field);
// Callback-taking helpers: which argument is the callback and the range its R0 must lie in.
struct CallbackInfo {
  int func_arg = -1;  // 0-based argument index of the callback, -1: none
  int ctx_arg = -1;   // the argument passed on as the callback's context
  uint32_t ret_min = 0, ret_max = 1;
};
CallbackInfo helper_callback(int32_t id);
// Helpers the kernel gives only to programs loaded with CAP_PERFMON (bpf_base_func_proto).
bool helper_needs_perfmon(int32_t id);

}  // namespace bpfkit::verifier
