// The verifier's structure pass: every check (with its kind, instruction and message)
// and the shape of the graph the interpreter walks (subprograms, successors, prune
// points, loop heads, can_exit).
#include "verifier/program_graph.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "isa/assembler.h"

namespace bpfkit::verifier {
namespace {

using isa::RawInsn;

std::variant<ProgramGraph, GraphError> build(std::string_view text, bool privileged = true) {
  return build_program_graph(isa::assemble(text), privileged);
}

// The graph of a program that must pass.
ProgramGraph graph_of(std::string_view text, bool privileged = true) {
  auto result = build(text, privileged);
  if (auto* e = std::get_if<GraphError>(&result)) {
    ADD_FAILURE() << "rejected: " << e->message << "\nprogram:\n" << text;
    return {};
  }
  return std::get<ProgramGraph>(std::move(result));
}

GraphError error_of(std::span<const RawInsn> raw, bool privileged = true) {
  auto result = build_program_graph(raw, privileged);
  if (auto* e = std::get_if<GraphError>(&result)) return *e;
  ADD_FAILURE() << "accepted, expected a rejection";
  return {};
}

GraphError error_of(std::string_view text, bool privileged = true) {
  return error_of(isa::assemble(text), privileged);
}

// Expects a rejection of `kind` at `insn` whose message contains `words`.
#define EXPECT_REJECT(text, privileged, want_kind, want_insn, words)                 \
  do {                                                                               \
    GraphError e_ = error_of(text, privileged);                                      \
    EXPECT_EQ(reject_kind_name(e_.kind), reject_kind_name(want_kind)) << e_.message; \
    EXPECT_EQ(e_.insn, size_t(want_insn)) << e_.message;                             \
    EXPECT_NE(e_.message.find(words), std::string::npos) << e_.message;              \
  } while (0)

std::vector<size_t> flagged(const std::vector<bool>& v) {
  std::vector<size_t> out;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i]) out.push_back(i);
  return out;
}

using Slots = std::vector<size_t>;

// ---- graph shape ----

TEST(ProgramGraph, StraightLine) {
  ProgramGraph g = graph_of("r0 = 0\nr1 = 0x1122334455 ll\nexit");
  ASSERT_EQ(g.size(), 4u);
  EXPECT_TRUE(g.insns[1].has_value());
  EXPECT_FALSE(g.insns[2].has_value());  // the lddw's second slot
  ASSERT_EQ(g.subprogs.size(), 1u);
  EXPECT_EQ(g.subprogs[0].start, 0u);
  EXPECT_EQ(g.subprogs[0].end, 4u);
  EXPECT_EQ(g.subprogs[0].frames, 1u);
  EXPECT_EQ(g.successors(0), Slots{1});
  EXPECT_EQ(g.successors(1), Slots{3});
  EXPECT_EQ(g.successors(2), Slots{});
  EXPECT_EQ(g.successors(3), Slots{});
  EXPECT_EQ(flagged(g.prune_point), Slots{});
  EXPECT_EQ(flagged(g.loop_head), Slots{});
  EXPECT_EQ(flagged(g.can_exit), (Slots{0, 1, 3}));
  EXPECT_EQ(g.describe(0), "insn 0 (r0 = 0)");
  EXPECT_EQ(g.describe(2), "insn 2 (second slot of an lddw)");
}

TEST(ProgramGraph, BranchesAndPrunePoints) {
  ProgramGraph g = graph_of(R"(
    r0 = 0                 # 0
    if r1 > 5 goto +2      # 1 -> 2, 4
    r0 = 1                 # 2
    goto +1                # 3 -> 5
    r0 = 2                 # 4
    call 5                 # 5 (ktime_get_ns)
    exit                   # 6
  )");
  EXPECT_EQ(g.successors(1), (Slots{2, 4}));
  EXPECT_EQ(g.successors(3), Slots{5});
  EXPECT_EQ(g.successors(5), Slots{6});
  // The conditional jump itself, its target, the ja's target, and the slot after the call.
  EXPECT_EQ(flagged(g.prune_point), (Slots{1, 4, 5, 6}));
  EXPECT_EQ(flagged(g.loop_head), Slots{});
  EXPECT_EQ(g.subprogs[0].calls, Slots{});
  EXPECT_FALSE(g.subprogs[0].has_tail_call);
}

TEST(ProgramGraph, JumpToNextHasOneSuccessor) {
  ProgramGraph g = graph_of("r0 = 0\nif r1 == 0 goto +0\nexit");
  EXPECT_EQ(g.successors(1), Slots{2});
}

TEST(ProgramGraph, WideJump) {
  ProgramGraph g = graph_of("r0 = 0\nif r1 > 0 goto +1\ngotol +1\nexit\nexit");
  EXPECT_EQ(g.successors(2), Slots{4});
  EXPECT_EQ(flagged(g.prune_point), (Slots{1, 3, 4}));
}

TEST(ProgramGraph, Subprograms) {
  ProgramGraph g = graph_of(R"(
      r1 = 4                 # 0
      r2 = func(cb) ll       # 1-2
      r3 = 0                 # 3
      r4 = 0                 # 4
      call 181               # 5 bpf_loop
      call f                 # 6
      exit                   # 7
    f:
      r1 = 0                 # 8
      call g                 # 9
      call g                 # 10
      call 12                # 11 tail_call
      exit                   # 12
    g:
      r0 = *(u8 *)skb[0]     # 13 (ld_abs)
      exit                   # 14
    cb:
      r0 = 0                 # 15
      exit                   # 16
  )");
  ASSERT_EQ(g.subprogs.size(), 4u);
  const Subprogram &main = g.subprogs[0], &f = g.subprogs[1], &gg = g.subprogs[2], &cb = g.subprogs[3];
  EXPECT_EQ(main.start, 0u);
  EXPECT_EQ(main.end, 8u);
  EXPECT_EQ(f.start, 8u);
  EXPECT_EQ(f.end, 13u);
  EXPECT_EQ(gg.start, 13u);
  EXPECT_EQ(gg.end, 15u);
  EXPECT_EQ(cb.start, 15u);
  EXPECT_EQ(cb.end, 17u);
  EXPECT_EQ(main.calls, Slots{1});
  EXPECT_EQ(main.callbacks, Slots{3});
  EXPECT_EQ(f.calls, Slots{2});  // two calls of g, listed once
  EXPECT_TRUE(f.has_tail_call);
  EXPECT_FALSE(main.has_tail_call);
  EXPECT_TRUE(gg.has_ld_abs);
  EXPECT_FALSE(f.has_ld_abs);
  EXPECT_TRUE(cb.is_callback);
  EXPECT_FALSE(cb.is_called);
  EXPECT_TRUE(f.is_called);
  EXPECT_FALSE(f.is_callback);
  EXPECT_EQ(main.frames, 3u);
  EXPECT_EQ(f.frames, 2u);
  EXPECT_EQ(gg.frames, 1u);
  EXPECT_EQ(cb.frames, 1u);
  EXPECT_EQ(g.subprog_of[7], 0u);
  EXPECT_EQ(g.subprog_of[8], 1u);
  EXPECT_EQ(g.subprog_of[14], 2u);
  EXPECT_EQ(g.subprog_of[16], 3u);
  EXPECT_EQ(g.subprog_at(13), 2u);
  EXPECT_EQ(g.subprog_at(14), std::nullopt);
  EXPECT_EQ(g.callee(1), 3u);
  EXPECT_EQ(g.callee(6), 1u);
  EXPECT_EQ(g.callee(5), std::nullopt);  // a helper call
  EXPECT_EQ(g.callee(0), std::nullopt);
  // A call falls through; the callee is not a successor.
  EXPECT_EQ(g.successors(6), Slots{7});
  EXPECT_EQ(g.successors(1), Slots{3});
  // ld_imm64 func and after it; the bpf_loop call and after it; local calls, after
  // them and their callees' entries.
  EXPECT_EQ(flagged(g.prune_point), (Slots{1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15}));
}

TEST(ProgramGraph, BoundedLoopPrivileged) {
  ProgramGraph g = graph_of(R"(
      r1 = 0        # 0
    loop:
      r1 += 1       # 1
      if r1 < 10 goto loop   # 2
      r0 = 0        # 3
      exit          # 4
  )");
  EXPECT_EQ(flagged(g.loop_head), Slots{1});
  EXPECT_TRUE(g.prune_point[1]);
  EXPECT_EQ(g.successors(2), (Slots{3, 1}));
  EXPECT_EQ(flagged(g.can_exit), (Slots{0, 1, 2, 3, 4}));
}

TEST(ProgramGraph, NestedLoopsHaveTwoHeads) {
  ProgramGraph g = graph_of(R"(
      r1 = 0            # 0
    outer:
      r2 = 0            # 1
    inner:
      r2 += 1           # 2
      if r2 < 3 goto inner   # 3
      r1 += 1           # 4
      if r1 < 3 goto outer   # 5
      r0 = 0            # 6
      exit              # 7
  )");
  EXPECT_EQ(flagged(g.loop_head), (Slots{1, 2}));
}

TEST(ProgramGraph, LoopWithoutExitInDeadCodeIsLeftToTheInterpreter) {
  // The kernel never reaches insn 2 (r0 is 0), so it accepts; statically it is a loop
  // that never exits: can_exit says so for the interpreter.
  ProgramGraph g = graph_of(R"(
      r0 = 0              # 0
      if r0 == 0 goto +1  # 1
      goto -1             # 2
      exit                # 3
  )");
  EXPECT_EQ(flagged(g.loop_head), Slots{2});
  EXPECT_EQ(flagged(g.can_exit), (Slots{0, 1, 3}));
}

TEST(ProgramGraph, LastInsnMayBeAnUnconditionalJump) {
  ProgramGraph g = graph_of(R"(
      r0 = 0              # 0
      if r1 > 0 goto +1   # 1
      exit                # 2
      goto -2             # 3
  )");
  EXPECT_EQ(g.successors(3), Slots{2});
}

// ---- rejections ----

TEST(ProgramGraphReject, EmptyProgram) {
  GraphError e = error_of(std::vector<RawInsn>{});
  EXPECT_EQ(e.kind, RejectKind::InvalidInstruction);
  EXPECT_NE(e.message.find("no instructions"), std::string::npos);
}

std::vector<RawInsn> movs_then_exit(size_t count) {
  std::vector<RawInsn> raw = isa::assemble("r0 = 0");
  raw.resize(count, raw[0]);
  raw.back() = isa::assemble("exit")[0];
  return raw;
}

TEST(ProgramGraphReject, SizeLimits) {
  EXPECT_TRUE(std::holds_alternative<ProgramGraph>(build_program_graph(movs_then_exit(4096), false)));
  GraphError e = error_of(movs_then_exit(4097), false);
  EXPECT_EQ(e.kind, RejectKind::TooComplex);
  EXPECT_EQ(e.insn, 4096u);
  EXPECT_NE(e.message.find("4097 instructions"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("BPF_MAXINSNS"), std::string::npos) << e.message;
  EXPECT_TRUE(std::holds_alternative<ProgramGraph>(build_program_graph(movs_then_exit(4097), true)));

  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(
      std::holds_alternative<ProgramGraph>(build_program_graph(movs_then_exit(kMaxInsnsPrivileged), true)));
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_LT(ms.count(), 3000) << "a 1M-insn program took " << ms.count() << " ms";
  e = error_of(movs_then_exit(kMaxInsnsPrivileged + 1), true);
  EXPECT_EQ(e.kind, RejectKind::TooComplex);
  EXPECT_NE(e.message.find("BPF_COMPLEXITY_LIMIT_INSNS"), std::string::npos) << e.message;
}

TEST(ProgramGraphReject, DecodeErrors) {
  std::vector<RawInsn> raw = isa::assemble("r0 = 0\nr0 = 0\nexit");
  raw[1].opcode = 0xff;
  GraphError e = error_of(raw);
  EXPECT_EQ(e.kind, RejectKind::InvalidInstruction);
  EXPECT_EQ(e.insn, 1u);
  EXPECT_EQ(e.message.rfind("insn 1: opcode 0xff", 0), 0u) << e.message;

  raw = isa::assemble("r0 = 0\nr1 = 0x100000000 ll");
  raw.pop_back();  // an lddw cut in half
  e = error_of(raw);
  EXPECT_EQ(e.kind, RejectKind::InvalidInstruction);
  EXPECT_EQ(e.insn, 1u);
}

TEST(ProgramGraphReject, JumpOutOfTheProgram) {
  EXPECT_REJECT("r0 = 0\nif r0 == 0 goto +5\nexit", true, RejectKind::BadJump, 1,
                "insn 1 (if r0 == 0 goto +5): jump out of range from insn 1 to 7");
  EXPECT_REJECT("r0 = 0\ngoto -3\nexit", true, RejectKind::BadJump, 1, "jump out of range from insn 1 to -1");
  EXPECT_REJECT("r0 = 0\ngotol +100000\nexit", true, RejectKind::BadJump, 1, "from insn 1 to 100002");
}

TEST(ProgramGraphReject, JumpIntoTheSecondSlot) {
  EXPECT_REJECT(R"(
      r0 = 0                 # 0
      if r0 == 0 goto +1     # 1 -> 3
      r1 = 0x1122334455 ll   # 2-3
      exit                   # 4
      )",
                true, RejectKind::BadJump, 1, "jump into the middle of the lddw at insn 2");
}

TEST(ProgramGraphReject, CallTargets) {
  EXPECT_REJECT("call pc+10\nexit", true, RejectKind::BadJump, 0, "call to invalid destination: target 11");
  EXPECT_REJECT("r0 = 0\ncall pc-3\nexit", true, RejectKind::BadJump, 1, "target -1 is outside the program");
  EXPECT_REJECT("r1 = func(+9) ll\nr0 = 0\nexit", true, RejectKind::BadJump, 0,
                "function pointer to invalid destination");
  EXPECT_REJECT("call pc+2\nexit\nr1 = 0x1122334455 ll\nr0 = 0\nexit", true, RejectKind::BadJump, 0,
                "call target 3 is the middle of the lddw at insn 2");
}

TEST(ProgramGraphReject, JumpAcrossSubprograms) {
  EXPECT_REJECT(R"(
      call f                 # 0
      if r0 > 0 goto +2      # 1 -> 4, inside f
      exit                   # 2
    f:
      r0 = 0                 # 3
      exit                   # 4
      )",
                true, RejectKind::BadJump, 1,
                "jump out of range from insn 1 to 4: from the main program into subprogram 1 (insns 3-4)");
  EXPECT_REJECT(R"(
      call f                 # 0
      exit                   # 1
    f:
      r0 = 0                 # 2
      if r0 > 0 goto -3      # 3 -> 1, back in main
      exit                   # 4
      )",
                true, RejectKind::BadJump, 3, "jump out of range from insn 3 to 1");
}

TEST(ProgramGraphReject, LastInsnFallsThrough) {
  EXPECT_REJECT(R"(
      call f       # 0
      r0 = 1       # 1: main falls into f
    f:
      r0 = 0       # 2
      exit         # 3
      )",
                true, RejectKind::FallThroughEnd, 1,
                "last insn is not an exit or jmp: the main program would fall through into subprogram 1");
  EXPECT_REJECT("r0 = 0", true, RejectKind::FallThroughEnd, 0, "off the end of the program");
  EXPECT_REJECT("r0 = 0\nif r0 == 0 goto -2", true, RejectKind::FallThroughEnd, 1, "last insn");
  EXPECT_REJECT("r0 = 0\nr1 = 0x1122334455 ll", true, RejectKind::FallThroughEnd, 1, "last insn");
  EXPECT_REJECT("r0 = 0\ncall 5", true, RejectKind::FallThroughEnd, 1, "last insn");
  EXPECT_REJECT("call f\nexit\nf:\nr0 = 0\ncall 5", true, RejectKind::FallThroughEnd, 3,
                "subprogram 1 (insns 2-3) would fall through off the end");
}

TEST(ProgramGraphReject, Unreachable) {
  EXPECT_REJECT("r0 = 0\nexit\nr0 = 1\nexit", true, RejectKind::Unreachable, 2, "unreachable insn 2");
  EXPECT_REJECT("r0 = 0\ngoto +1\nr0 = 1\nexit", true, RejectKind::Unreachable, 2, "unreachable insn 2");
  // Code after an exit that references a subprogram: the reference is unreachable first.
  EXPECT_REJECT("r0 = 0\nexit\ncall f\nexit\nf:\nr0 = 0\nexit", true, RejectKind::Unreachable, 2,
                "unreachable insn 2");
}

TEST(ProgramGraphReject, UnprivilegedCalls) {
  EXPECT_REJECT("call f\nexit\nf:\nr0 = 0\nexit", false, RejectKind::BadCall, 0,
                "bpf-to-bpf calls need CAP_BPF");
  EXPECT_REJECT("r2 = func(cb) ll\nr0 = 0\nexit\ncb:\nr0 = 0\nexit", false, RejectKind::BadCall, 0,
                "function pointers need CAP_BPF");
  EXPECT_REJECT("call kfunc(1234)\nexit", false, RejectKind::BadCall, 0, "kfunc calls need CAP_BPF");
  ProgramGraph g = graph_of("call kfunc(1234)\nexit");
  EXPECT_EQ(g.subprogs.size(), 1u);
  EXPECT_EQ(flagged(g.prune_point), Slots{1});
}

TEST(ProgramGraphReject, BackEdgeUnprivileged) {
  const char* loop = R"(
      r1 = 0        # 0
    loop:
      r1 += 1       # 1
      if r1 < 10 goto loop   # 2
      r0 = 0        # 3
      exit          # 4
  )";
  EXPECT_REJECT(loop, false, RejectKind::InfiniteLoop, 2, "back-edge from insn 2 to 1");
  // The kernel's walk follows fall-through first: the back-edge it meets first is 4 -> 1, not 3 -> 1.
  EXPECT_REJECT(R"(
      r0 = 0              # 0
    head:
      if r0 > 7 goto +3   # 1 -> 5
      r0 += 1             # 2
      if r0 > 3 goto -3   # 3 -> 1
      goto -4             # 4 -> 1
      exit                # 5
  )",
                false, RejectKind::InfiniteLoop, 4, "back-edge from insn 4 to 1");
  // A backward goto that closes no cycle is not a back-edge.
  ProgramGraph g = graph_of("r0 = 0\ngoto +1\nexit\ngoto -2", false);
  EXPECT_EQ(flagged(g.loop_head), Slots{});
}

TEST(ProgramGraphReject, InfiniteLoops) {
  EXPECT_REJECT("r0 = 0\ngoto -1", true, RejectKind::InfiniteLoop, 1, "infinite loop detected at insn 1");
  EXPECT_REJECT("r0 = 0\nl:\nr0 += 1\ngoto l", true, RejectKind::InfiniteLoop, 1,
                "no path from it, nor from the entry of the main program");
  // Two loops, neither leaving: the first the entry runs into.
  EXPECT_REJECT(R"(
      r0 = 0              # 0
    a:
      if r0 > 3 goto b    # 1 -> 3
      goto a              # 2
    b:
      r0 += 1             # 3
      goto b              # 4 -> 3
  )",
                true, RejectKind::InfiniteLoop, 1, "infinite loop detected at insn 1");
  EXPECT_REJECT(R"(
      call f         # 0
      exit           # 1
    f:
      r0 = 0         # 2
      goto -1        # 3
  )",
                true, RejectKind::InfiniteLoop, 3, "entry of subprogram 1 (insns 2-3) (insn 2)");
}

TEST(ProgramGraphReject, Recursion) {
  EXPECT_REJECT(R"(
      call f       # 0
      exit         # 1
    f:
      r0 = 0       # 2
      call f       # 3
      exit         # 4
  )",
                true, RejectKind::CallDepth, 3, "recursive call into subprogram 1");
  EXPECT_REJECT(R"(
      call f       # 0
      exit         # 1
    f:
      call g       # 2
      exit         # 3
    g:
      call f       # 4
      exit         # 5
  )",
                true, RejectKind::CallDepth, 4,
                "insn 0 -> insn 0 (call 2) -> insn 2 (call 4) -> insn 4 (call 2)");
  // Calling main again.
  EXPECT_REJECT("r0 = 0\ncall pc-2\nexit", true, RejectKind::CallDepth, 1,
                "recursive call into the main program");
  // A callback that passes itself to bpf_loop again.
  EXPECT_REJECT(R"(
      r1 = 1
      r2 = func(cb) ll
      r3 = 0
      r4 = 0
      call 181
      exit
    cb:
      r1 = 1
      r2 = func(cb) ll
      r3 = 0
      r4 = 0
      call 181
      r0 = 0
      exit
  )",
                true, RejectKind::CallDepth, 8, "(callback 7)");
}

// main -> f1 -> ... -> f{calls}: calls + 1 frames.
std::string call_chain(int calls) {
  std::string text = "call f1\nexit\n";
  for (int i = 1; i <= calls; ++i) {
    text += "f" + std::to_string(i) + ":\n";
    if (i < calls)
      text += "call f" + std::to_string(i + 1) + "\n";
    else
      text += "r0 = 0\n";
    text += "exit\n";
  }
  return text;
}

TEST(ProgramGraphReject, CallDepth) {
  ProgramGraph g = graph_of(call_chain(7));
  EXPECT_EQ(g.subprogs.size(), 8u);
  EXPECT_EQ(g.subprogs[0].frames, 8u);
  // The 8th nested call (insn 14, in f7) opens frame 9.
  EXPECT_REJECT(call_chain(8), true, RejectKind::CallDepth, 14, "the call stack of 9 frames is too deep");
  EXPECT_REJECT(call_chain(20), true, RejectKind::CallDepth, 14, "the call stack of 9 frames is too deep");
}

TEST(ProgramGraphReject, TooManySubprograms) {
  auto program = [](int functions) {
    std::string text;
    for (int i = 0; i < functions; ++i) text += "call f" + std::to_string(i) + "\n";
    text += "exit\n";
    for (int i = 0; i < functions; ++i) text += "f" + std::to_string(i) + ":\nr0 = 0\nexit\n";
    return text;
  };
  EXPECT_EQ(graph_of(program(255)).subprogs.size(), 256u);
  EXPECT_REJECT(program(256), true, RejectKind::TooComplex, 255, "too many subprograms");
}

// ---- never throws, and what passes is well formed ----

// Random programs from instructions that decode, with jumps and calls to anywhere near.
std::vector<RawInsn> random_program(std::mt19937& rng) {
  const size_t n = 1 + rng() % 24;
  std::vector<RawInsn> raw;
  auto offset = [&] { return int(rng() % 9) - 4; };
  while (raw.size() < n) {
    switch (rng() % 9) {
      case 0:
        raw.push_back({BPF_JMP | BPF_EXIT, 0, 0, 0, 0});
        break;
      case 1:
        raw.push_back({BPF_JMP | BPF_JA, 0, 0, int16_t(offset()), 0});
        break;
      case 2:
        raw.push_back({BPF_JMP | BPF_JGT | BPF_K, 1, 0, int16_t(offset()), 3});
        break;
      case 3:
        raw.push_back({BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, offset()});
        break;
      case 4:
        raw.push_back({BPF_JMP | BPF_CALL, 0, 0, 0, 5});
        break;
      case 5:
        raw.push_back({BPF_LD | BPF_IMM | BPF_DW, 2, uint8_t(rng() % 2 ? BPF_PSEUDO_FUNC : 0), 0, offset()});
        raw.push_back({0, 0, 0, 0, 0});
        break;
      default:
        raw.push_back({BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1});
        break;
    }
  }
  return raw;
}

void expect_well_formed(const ProgramGraph& g) {
  ASSERT_FALSE(g.subprogs.empty());
  ASSERT_EQ(g.subprogs[0].start, 0u);
  ASSERT_EQ(g.subprog_of.size(), g.size());
  for (size_t i = 0; i < g.subprogs.size(); ++i) {
    const Subprogram& sp = g.subprogs[i];
    ASSERT_LT(sp.start, sp.end);
    ASSERT_EQ(sp.end, i + 1 < g.subprogs.size() ? g.subprogs[i + 1].start : g.size());
    ASSERT_TRUE(g.insns[sp.start].has_value());
    ASSERT_LE(sp.frames, kMaxCallFrames);
    ASSERT_TRUE(g.can_exit[sp.start]) << "subprogram " << i << " never returns";
  }
  for (size_t slot = 0; slot < g.size(); ++slot) {
    if (!g.insns[slot]) continue;
    for (size_t w : g.successors(slot)) {
      ASSERT_LT(w, g.size());
      ASSERT_TRUE(g.insns[w].has_value())
          << "successor " << w << " of " << slot << " is an lddw's second slot";
      ASSERT_EQ(g.subprog_of[w], g.subprog_of[slot]) << slot << " -> " << w;
    }
  }
}

TEST(ProgramGraph, RandomProgramsGiveAVerdict) {
  std::mt19937 rng(20240614);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::vector<RawInsn> raw = random_program(rng);
    for (bool privileged : {true, false}) {
      auto result = build_program_graph(raw, privileged);
      if (auto* g = std::get_if<ProgramGraph>(&result)) {
        ++accepted;
        expect_well_formed(*g);
        if (::testing::Test::HasFatalFailure()) return;
      } else {
        const GraphError& e = std::get<GraphError>(result);
        ASSERT_NE(e.kind, RejectKind::None);
        ASSERT_NE(e.kind, RejectKind::Unsupported) << e.message;
        ASSERT_LT(e.insn, raw.size()) << e.message;
        ASSERT_EQ(e.message.rfind("insn " + std::to_string(e.insn), 0), 0u) << e.message;
      }
    }
  }
  EXPECT_GT(accepted, 200);  // the generator must reach the accepting paths too
}

}  // namespace
}  // namespace bpfkit::verifier
