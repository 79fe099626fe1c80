// The interpreter's internal form: each typed instruction pre-decoded into one
// 16-byte Op holding the address of its handler (direct threading), its
// registers and its immediate fields. Ops are indexed by raw slot, so a jump
// offset from the instruction is also the Op offset, an lddw's second Op
// carries the upper immediate, and `pc - ops` is the slot an error names.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/exec_env.h"
#include "vm/engine.h"

namespace bpfkit::vm::interp {

// Handler lists. Each ALU and jump entry expands to four handlers:
// NAME64_K, NAME64_X, NAME32_K, NAME32_X (width, immediate or register operand).
#define BPFKIT_INTERP_ALU(X)                                                                      \
  X(ADD, Add) X(SUB, Sub) X(MUL, Mul) X(DIV, Div) X(SDIV, SDiv) X(OR, Or) X(AND, And) X(LSH, Lsh) \
  X(RSH, Rsh) X(MOD, Mod) X(SMOD, SMod) X(XOR, Xor) X(MOV, Mov) X(ARSH, Arsh) X(MOVSX8, MovSx8)   \
  X(MOVSX16, MovSx16) X(MOVSX32, MovSx32)

#define BPFKIT_INTERP_JMP(X)                                                                    \
  X(JEQ, Eq) X(JGT, Gt) X(JGE, Ge) X(JSET, Set) X(JNE, Ne) X(JSGT, Sgt) X(JSGE, Sge) X(JLT, Lt) \
  X(JLE, Le) X(JSLT, Slt) X(JSLE, Sle)

// Loads: name, memory type (a signed type sign-extends).
#define BPFKIT_INTERP_LOAD(X)                                                              \
  X(LDXB, uint8_t) X(LDXH, uint16_t) X(LDXW, uint32_t) X(LDXDW, uint64_t) X(LDXSB, int8_t) \
  X(LDXSH, int16_t) X(LDXSW, int32_t)

// Stores: size suffix, memory type. Expands to ST<suffix> (immediate) and STX<suffix>.
#define BPFKIT_INTERP_STORE(X) X(B, uint8_t) X(H, uint16_t) X(W, uint32_t) X(DW, uint64_t)

// Read-modify-write atomics: name, name in messages, GCC builtin. Each expands to
// A<name>64, A<name>32, AF<name>64, AF<name>32 (AF: with fetch).
#define BPFKIT_INTERP_ATOMIC(X)                                                                      \
  X(ADD, "add", __atomic_fetch_add) X(OR, "or", __atomic_fetch_or) X(AND, "and", __atomic_fetch_and) \
  X(XOR, "xor", __atomic_fetch_xor)

// Everything else, one handler each.
#define BPFKIT_INTERP_OTHER(X)                                                          \
  X(NEG64) X(NEG32) X(LE16) X(LE32) X(LE64) X(BE16) X(BE32) X(BE64) X(XCHG64) X(XCHG32) \
  X(CMPXCHG64) X(CMPXCHG32) X(LDDW) X(LDDW_PSEUDO) X(LDDW_SECOND) X(PACKET_LOAD) X(JA)  \
  X(MAY_GOTO) X(FP_WRITE) X(CALL_LOCAL) X(CALL_HELPER) X(CALL_KFUNC) X(CALLX) X(EXIT) X(FELL_OFF)

enum class Code : uint16_t {
#define BPFKIT_CODE_4(N, _) N##64_K, N##64_X, N##32_K, N##32_X,
#define BPFKIT_CODE_1(N, ...) N,
#define BPFKIT_CODE_ST(S, _) ST##S, STX##S,
#define BPFKIT_CODE_AT(N, ...) A##N##64, A##N##32, AF##N##64, AF##N##32,
  BPFKIT_INTERP_ALU(BPFKIT_CODE_4)
  BPFKIT_INTERP_JMP(BPFKIT_CODE_4)
  BPFKIT_INTERP_LOAD(BPFKIT_CODE_1)
  BPFKIT_INTERP_STORE(BPFKIT_CODE_ST)
  BPFKIT_INTERP_ATOMIC(BPFKIT_CODE_AT)
  BPFKIT_INTERP_OTHER(BPFKIT_CODE_1)
#undef BPFKIT_CODE_4
#undef BPFKIT_CODE_1
#undef BPFKIT_CODE_ST
#undef BPFKIT_CODE_AT
  kCount
};

struct Op {
  const void* handler = nullptr;  // label address inside run_ops<Checked>
  uint8_t dst = 0;
  uint8_t src = 0;
  int16_t off = 0;  // memory offset or conditional jump offset (in slots)
  int32_t imm = 0;  // immediate, helper id, ja/call offset, lddw low half (high half: next Op)
};
static_assert(sizeof(Op) == 16);

// One pre-decoded program: codes (kept for diagnostics and tests) and threaded ops.
struct Decoded {
  std::vector<Code> codes;  // per slot, plus the final FELL_OFF sentinel
  std::vector<Op> ops;      // same length; handler left null until threaded
};

// Maps the typed program to codes and operands. Instructions no engine can run
// (writes to the read-only r10) become handlers that fail when reached.
Decoded predecode(const Program& program);

struct RunArgs;

// One run of the program, as helpers calling back into it see it (ExecEnv::engine
// points here during Engine::run). The loop publishes where it is before each
// helper call, so that a callback gets the next frame down and the rest of the budget.
struct RunContext {
  const Op* ops = nullptr;
  const RunArgs* args = nullptr;
  const std::vector<bool>* callbacks = nullptr;  // by slot: a subprogram starts there
  bool checked = false;
  uint64_t stack_top = 0;  // r10 of the outermost frame; the area holds kMaxFrames frames below it
  // At the latest helper call: the calling frame's bottom and depth, and the budget left.
  uint64_t stack_lo = 0;
  size_t depth = 0;
  uint64_t budget = 0;
  // may_goto fall-throughs left in this run (callbacks share them).
  uint64_t may_goto_left = 0;
  // The first error a callback stopped with: the run rethrows it when the helper returns.
  // (An optional, not an exception_ptr, whose destructor each run would call out of line.)
  std::optional<RuntimeError> failed;
};

// Per-run inputs and the state a run needs beyond its registers.
struct RunArgs {
  uint64_t r[5] = {};  // r1..r5 at entry (the main function gets r1 and r2)
  core::ExecEnv* env = nullptr;
  uint64_t budget = 0;  // checked mode: backward jumps plus calls allowed (the total, for messages)
  // The function of the helper each `call` slot names, resolved in env->helpers
  // (null: look it up); null altogether when there is no cache.
  const core::HelperFn* helpers = nullptr;
  // Beside `helpers`, their prototypes (checked mode checks the arguments with them).
  const core::HelperProto* protos = nullptr;
  RunContext* ctx = nullptr;
  // Where the code starts: slot, frame depth and that frame's bottom (0, 0 and the
  // outermost frame for the main function; the budget comes from ctx->budget).
  uint32_t entry = 0;
  size_t depth = 0;
  uint64_t stack_lo = 0;
};

// ExecEnv::call_subprogram while the interpreter runs. Never throws.
uint64_t call_subprogram(core::ExecEnv* env, size_t slot, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                         uint64_t r5);

// The threaded loop. With ops == nullptr it returns nothing and stores the
// table of handler addresses (indexed by Code) into *labels.
template <bool Checked>
uint64_t run_ops(const Op* ops, const RunArgs* args, const void* const** labels);

}  // namespace bpfkit::vm::interp
