// The verifier's structure pass: what the kernel's check_subprogs and check_cfg do
// before abstract interpretation. It decodes every slot, splits the program into
// subprograms (at local-call targets and ld_imm64 func targets), checks that jumps
// stay inside their subprogram and that no subprogram falls off its end, walks the
// control-flow graph depth first as the kernel does (back-edges, unreachable code),
// checks the static call graph (recursion, more than 8 frames) and rejects
// subprograms from whose entry no path returns.
//
// The abstract interpreter walks the resulting graph: it stores and compares states
// at prune points, iterates loops from loop heads, and may reject a path as soon as
// it enters a slot whose can_exit is false (every path from there loops forever).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "isa/instruction.h"
#include "verifier/verifier.h"

namespace bpfkit::verifier {

// The kernel's limits on a program's shape.
inline constexpr size_t kMaxInsnsPrivileged = 1'000'000;  // BPF_COMPLEXITY_LIMIT_INSNS
inline constexpr size_t kMaxInsnsUnprivileged = 4096;     // BPF_MAXINSNS
inline constexpr size_t kMaxSubprograms = 256;            // BPF_MAX_SUBPROGS
inline constexpr size_t kMaxCallFrames = 8;               // MAX_CALL_FRAMES

struct Subprogram {
  size_t start = 0, end = 0;      // [start, end) in slots
  bool is_callback = false;       // target of an ld_imm64 Pseudo::Func (bpf_loop etc.)
  bool is_called = false;         // target of a bpf-to-bpf call
  std::vector<size_t> calls;      // subprogram indices it calls (bpf-to-bpf), sorted, unique
  std::vector<size_t> callbacks;  // subprogram indices whose address it loads, sorted, unique
  bool has_tail_call = false;     // calls bpf_tail_call
  bool has_ld_abs = false;        // uses legacy packet loads (BPF_ABS / BPF_IND)
  uint32_t frames = 1;            // deepest chain of frames from here down (1: calls nothing)
};

struct ProgramGraph {
  std::vector<std::optional<isa::Instruction>> insns;  // per slot; nullopt on an lddw's second slot
  std::vector<Subprogram> subprogs;                    // subprogs[0] is the main program
  std::vector<uint32_t> subprog_of;                    // slot -> subprogram index
  // Where the interpreter should store/compare states, as the kernel marks them:
  // jump targets, conditional jumps, the slot after every call, local calls and
  // callback-taking helper calls, subprogram entries reached by calls.
  std::vector<bool> prune_point;
  // Targets of back-edges in the kernel's depth-first order (bounded loops are the
  // interpreter's job).
  std::vector<bool> loop_head;
  // Some path from this slot reaches an exit of its subprogram (calls assumed to
  // return). False inside loops with no way out: entering one never terminates.
  std::vector<bool> can_exit;

  // Fall-through and jump targets, in that order (a call falls through; exit has none).
  std::vector<size_t> successors(size_t slot) const;
  size_t size() const { return insns.size(); }

  // The subprogram that starts at `slot`, if one does.
  std::optional<size_t> subprog_at(size_t slot) const;
  // For a local call or an ld_imm64 func at `slot`: the subprogram it names.
  std::optional<size_t> callee(size_t slot) const;
  // "insn 5 (r0 = 1)", for messages.
  std::string describe(size_t slot) const;
};

struct GraphError {
  RejectKind kind = RejectKind::None;
  size_t insn = 0;
  std::string message;  // "insn 3 (goto -1): back-edge from insn 3 to 3 ..."
};

// Never throws. `privileged`: CAP_BPF. Back-edges are then allowed (bounded loops)
// and bpf-to-bpf calls and kfuncs may be used; otherwise both are rejected, and the
// instruction limit is 4096 instead of 1,000,000, as in the kernel.
std::variant<ProgramGraph, GraphError> build_program_graph(std::span<const isa::RawInsn> insns,
                                                           bool privileged);

}  // namespace bpfkit::verifier
