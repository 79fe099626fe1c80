// The interpreter's threaded loop (GCC computed goto). It is instantiated twice:
// Checked = false for verified programs, with no runtime checks, and Checked =
// true, which checks every memory access and counts backward jumps and calls.
#include <cstring>
#include <iterator>
#include <sstream>
#include <string>

#include "isa/opcodes.h"
#include "vm/helper_args.h"
#include "vm/interpreter.h"
#include "vm/run_errors.h"
#include "vm/semantics.h"

namespace bpfkit::vm::interp {
namespace {

struct Frame {
  const Op* ret;
  uint64_t saved[4];  // r6-r9 of the caller
};



[[noreturn, gnu::cold, gnu::noinline]] void fail(const Op* ops, const Op* pc, const std::string& what) {
  throw RuntimeError(size_t(pc - ops), what);
}


// The slow path of a checked access: the stack test failed, try env.regions.
[[gnu::noinline]] void check_regions(const Op* ops, const Op* pc, const core::ExecEnv& env, uint64_t addr,
                                     size_t size, bool write, const char* kind, uint8_t base) {
  bool read_only = false;
  for (const core::MemoryRegion& r : env.regions) {
    // addr - begin wraps around when addr < begin, so one comparison covers both ends.
    if (r.size >= size && addr - r.begin <= r.size - size) {
      if (!write || r.writable) return;
      read_only = true;
    }
  }
  fail(ops, pc, run_errors::access(kind, size, base, pc->off, addr,
                                   read_only ? run_errors::AccessFault::ReadOnly : run_errors::AccessFault::Outside));
}

[[noreturn, gnu::cold, gnu::noinline]] void misaligned(const Op* ops, const Op* pc, const char* kind,
                                                      size_t size, uint64_t addr) {
  fail(ops, pc, run_errors::access(kind, size, pc->dst, pc->off, addr, run_errors::AccessFault::Misaligned));
}

[[noreturn, gnu::cold, gnu::noinline]] void budget_exhausted(const Op* ops, const Op* pc, uint64_t budget) {
  fail(ops, pc, run_errors::budget_exhausted(budget));
}

[[noreturn, gnu::cold, gnu::noinline]] void no_helper(const Op* ops, const Op* pc, uint64_t id,
                                                     const core::HelperSpec* spec, int callx_reg) {
  fail(ops, pc, run_errors::missing_helper(id, spec, callx_reg));
}

// A call whose helper was not resolved in advance (callx, no cache). Checked mode checks
// its arguments first (`stack`); a refusal aborts the run, which then stops as for any abort.
template <bool Checked>
uint64_t call_helper(const Op* ops, const Op* pc, core::ExecEnv& env, uint64_t id, const uint64_t* reg,
                     int callx_reg, [[maybe_unused]] HelperStack stack) {
  const core::HelperSpec* spec = nullptr;
  if (id <= uint64_t(INT32_MAX) && env.helpers) spec = env.helpers->find(int32_t(id));
  if (!spec || !spec->fn) [[unlikely]]
    no_helper(ops, pc, id, spec, callx_reg);
  if constexpr (Checked) {
    const uint64_t args[5] = {reg[1], reg[2], reg[3], reg[4], reg[5]};
    if (!check_helper_args(int32_t(id), spec->proto, args, stack, env)) [[unlikely]]
      return 0;
  }
  return spec->fn(reg[1], reg[2], reg[3], reg[4], reg[5], &env);
}

}  // namespace

template <bool Checked>
uint64_t run_ops(const Op* ops, const RunArgs* args, const void* const** labels) {
  // Handler addresses in Code order, generated from the same lists as Code.
  static const void* const kLabels[] = {
#define BPFKIT_LABEL_4(N, _) &&N##64_K, &&N##64_X, &&N##32_K, &&N##32_X,
#define BPFKIT_LABEL_1(N, ...) &&N,
#define BPFKIT_LABEL_ST(S, _) &&ST##S, &&STX##S,
#define BPFKIT_LABEL_AT(N, ...) &&A##N##64, &&A##N##32, &&AF##N##64, &&AF##N##32,
      BPFKIT_INTERP_ALU(BPFKIT_LABEL_4)
      BPFKIT_INTERP_JMP(BPFKIT_LABEL_4)
      BPFKIT_INTERP_LOAD(BPFKIT_LABEL_1)
      BPFKIT_INTERP_STORE(BPFKIT_LABEL_ST)
      BPFKIT_INTERP_ATOMIC(BPFKIT_LABEL_AT)
      BPFKIT_INTERP_OTHER(BPFKIT_LABEL_1)
#undef BPFKIT_LABEL_4
#undef BPFKIT_LABEL_1
#undef BPFKIT_LABEL_ST
#undef BPFKIT_LABEL_AT
  };
  static_assert(std::size(kLabels) == size_t(Code::kCount));
  if (ops == nullptr) {
    *labels = kLabels;
    return 0;
  }

  core::ExecEnv& env = *args->env;
  RunContext& ctx = *args->ctx;
  const core::HelperFn* const helpers = args->helpers;
  Frame frames[kMaxFrames];
  uint64_t reg[isa::kRegCount] = {};
  // The stack area belongs to the run; a callback starts one frame below its caller's.
  const uint64_t stack_top = ctx.stack_top;
  uint64_t stack_lo = args->stack_lo;  // bottom of the current frame
  const size_t base_depth = args->depth;
  size_t depth = base_depth;  // frames below the outermost
  uint64_t budget = ctx.budget;
  // Unverified programs may read stack they never wrote: give them zeros, not host data.
  if constexpr (Checked) std::memset(reinterpret_cast<void*>(stack_lo), 0, kStackSize);
  for (int i = 0; i < 5; ++i) reg[1 + i] = args->r[i];
  reg[10] = stack_lo + kStackSize;
  const Op* pc = ops + args->entry;

#define R(i) reg[i]
#define DISPATCH() goto *pc->handler
#define NEXT()  \
  do {          \
    ++pc;       \
    DISPATCH(); \
  } while (0)
#define SPEND()                                                            \
  do {                                                                     \
    if (budget == 0) [[unlikely]] budget_exhausted(ops, pc, args->budget); \
    --budget;                                                              \
  } while (0)
// Jump to pc + 1 + delta; backward jumps spend budget in checked mode.
#define TAKEN(delta)            \
  do {                          \
    const int32_t d_ = (delta); \
    if constexpr (Checked) {    \
      if (d_ < 0) SPEND();      \
    }                           \
    pc += 1 + d_;               \
    DISPATCH();                 \
  } while (0)
// Checked mode: the fast test is the active stack frames, then env.regions.
#define CHECK(addr, size, write, kind, base)                                  \
  do {                                                                        \
    if constexpr (Checked) {                                                  \
      if ((addr) - stack_lo > stack_top - stack_lo - (size)) [[unlikely]]     \
        check_regions(ops, pc, env, (addr), (size), (write), (kind), (base)); \
    }                                                                         \
  } while (0)
#define ADDR(base) (R(base) + uint64_t(int64_t(pc->off)))
// Before a helper call: where a callback it makes would start.
#define PUBLISH()                                 \
  do {                                            \
    ctx.stack_lo = stack_lo;                      \
    ctx.depth = depth;                            \
    if constexpr (Checked) ctx.budget = budget;   \
  } while (0)

  DISPATCH();

#define BPFKIT_ALU_HANDLERS(N, OP)                                          \
  N##64_K:                                                                  \
  R(pc->dst) = sem::alu64(isa::AluOp::OP, R(pc->dst), sem::imm64(pc->imm)); \
  NEXT();                                                                   \
  N##64_X:                                                                  \
  R(pc->dst) = sem::alu64(isa::AluOp::OP, R(pc->dst), R(pc->src));          \
  NEXT();                                                                   \
  N##32_K:                                                                  \
  R(pc->dst) = sem::alu32(isa::AluOp::OP, R(pc->dst), uint32_t(pc->imm));   \
  NEXT();                                                                   \
  N##32_X:                                                                  \
  R(pc->dst) = sem::alu32(isa::AluOp::OP, R(pc->dst), R(pc->src));          \
  NEXT();
  BPFKIT_INTERP_ALU(BPFKIT_ALU_HANDLERS)
#undef BPFKIT_ALU_HANDLERS

#define BPFKIT_JMP_HANDLERS(N, C)                                                               \
  N##64_K:                                                                                      \
  if (sem::jump_taken(isa::JmpCond::C, false, R(pc->dst), sem::imm64(pc->imm))) TAKEN(pc->off); \
  NEXT();                                                                                       \
  N##64_X:                                                                                      \
  if (sem::jump_taken(isa::JmpCond::C, false, R(pc->dst), R(pc->src))) TAKEN(pc->off);          \
  NEXT();                                                                                       \
  N##32_K:                                                                                      \
  if (sem::jump_taken(isa::JmpCond::C, true, R(pc->dst), uint32_t(pc->imm))) TAKEN(pc->off);    \
  NEXT();                                                                                       \
  N##32_X:                                                                                      \
  if (sem::jump_taken(isa::JmpCond::C, true, R(pc->dst), R(pc->src))) TAKEN(pc->off);           \
  NEXT();
  BPFKIT_INTERP_JMP(BPFKIT_JMP_HANDLERS)
#undef BPFKIT_JMP_HANDLERS

  // Loads go through memcpy: eBPF allows unaligned accesses, and x86 does them in one move.
  // Converting through int64_t sign-extends signed memory types and zero-extends the others.
#define BPFKIT_LOAD_HANDLER(N, T)                                \
  N: {                                                           \
    const uint64_t a = ADDR(pc->src);                            \
    CHECK(a, sizeof(T), false, "load", pc->src);                 \
    T v;                                                         \
    std::memcpy(&v, reinterpret_cast<const void*>(a), sizeof v); \
    R(pc->dst) = uint64_t(int64_t(v));                           \
  }                                                              \
  NEXT();
  BPFKIT_INTERP_LOAD(BPFKIT_LOAD_HANDLER)
#undef BPFKIT_LOAD_HANDLER

#define BPFKIT_STORE_HANDLERS(S, T)                        \
  ST##S: {                                                 \
    const uint64_t a = ADDR(pc->dst);                      \
    CHECK(a, sizeof(T), true, "store", pc->dst);           \
    const T v = T(int64_t(pc->imm));                       \
    std::memcpy(reinterpret_cast<void*>(a), &v, sizeof v); \
  }                                                        \
  NEXT();                                                  \
  STX##S: {                                                \
    const uint64_t a = ADDR(pc->dst);                      \
    CHECK(a, sizeof(T), true, "store", pc->dst);           \
    const T v = T(R(pc->src));                             \
    std::memcpy(reinterpret_cast<void*>(a), &v, sizeof v); \
  }                                                        \
  NEXT();
  BPFKIT_INTERP_STORE(BPFKIT_STORE_HANDLERS)
#undef BPFKIT_STORE_HANDLERS

  // Atomics: the address must be writable and, in checked mode, naturally aligned.
#define ATOMIC_PTR(T, kind)                                                       \
  const uint64_t a = ADDR(pc->dst);                                               \
  CHECK(a, sizeof(T), true, kind, pc->dst);                                       \
  if constexpr (Checked) {                                                        \
    if (a % sizeof(T) != 0) [[unlikely]] misaligned(ops, pc, kind, sizeof(T), a); \
  }                                                                               \
  T* const p = reinterpret_cast<T*>(a);
#define BPFKIT_ATOMIC_HANDLERS(N, NAME, FN)                     \
  A##N##64: {                                                   \
    ATOMIC_PTR(uint64_t, "atomic " NAME)                        \
    FN(p, R(pc->src), __ATOMIC_SEQ_CST);                        \
  }                                                             \
  NEXT();                                                       \
  A##N##32: {                                                   \
    ATOMIC_PTR(uint32_t, "atomic " NAME)                        \
    FN(p, uint32_t(R(pc->src)), __ATOMIC_SEQ_CST);              \
  }                                                             \
  NEXT();                                                       \
  AF##N##64: {                                                  \
    ATOMIC_PTR(uint64_t, "atomic fetch " NAME)                  \
    R(pc->src) = FN(p, R(pc->src), __ATOMIC_SEQ_CST);           \
  }                                                             \
  NEXT();                                                       \
  AF##N##32: {                                                  \
    ATOMIC_PTR(uint32_t, "atomic fetch " NAME)                  \
    R(pc->src) = FN(p, uint32_t(R(pc->src)), __ATOMIC_SEQ_CST); \
  }                                                             \
  NEXT();
  BPFKIT_INTERP_ATOMIC(BPFKIT_ATOMIC_HANDLERS)
#undef BPFKIT_ATOMIC_HANDLERS

XCHG64: {
  ATOMIC_PTR(uint64_t, "atomic xchg")
  R(pc->src) = __atomic_exchange_n(p, R(pc->src), __ATOMIC_SEQ_CST);
}
  NEXT();
XCHG32: {
  ATOMIC_PTR(uint32_t, "atomic xchg")
  R(pc->src) = __atomic_exchange_n(p, uint32_t(R(pc->src)), __ATOMIC_SEQ_CST);
}
  NEXT();
  // cmpxchg: compare with r0, store src on equality, r0 receives the old value either way.
CMPXCHG64: {
  ATOMIC_PTR(uint64_t, "atomic cmpxchg")
  uint64_t expected = R(0);
  __atomic_compare_exchange_n(p, &expected, R(pc->src), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  R(0) = expected;
}
  NEXT();
CMPXCHG32: {
  ATOMIC_PTR(uint32_t, "atomic cmpxchg")
  uint32_t expected = uint32_t(R(0));
  __atomic_compare_exchange_n(p, &expected, uint32_t(R(pc->src)), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  R(0) = expected;
}
  NEXT();
#undef ATOMIC_PTR

NEG64:
  R(pc->dst) = sem::neg(true, R(pc->dst));
  NEXT();
NEG32:
  R(pc->dst) = sem::neg(false, R(pc->dst));
  NEXT();
LE16:
  R(pc->dst) = uint16_t(R(pc->dst));
  NEXT();
LE32:
  R(pc->dst) = uint32_t(R(pc->dst));
  NEXT();
LE64:
  NEXT();
BE16:
  R(pc->dst) = sem::bswap16(uint16_t(R(pc->dst)));
  NEXT();
BE32:
  R(pc->dst) = sem::bswap32(uint32_t(R(pc->dst)));
  NEXT();
BE64:
  R(pc->dst) = sem::bswap64(R(pc->dst));
  NEXT();

LDDW:
  R(pc->dst) = uint64_t(uint32_t(pc->imm)) | (uint64_t(uint32_t(pc[1].imm)) << 32);
  pc += 2;
  DISPATCH();
LDDW_PSEUDO:
  fail(ops, pc, run_errors::lddw_needs_loader(isa::Pseudo(pc->src)));
LDDW_SECOND:
  fail(ops, pc, "execution reached the second slot of an lddw");
PACKET_LOAD:
  fail(ops, pc, run_errors::packet_load_unavailable());

JA:
  TAKEN(pc->imm);
FP_WRITE:
  fail(ops, pc, run_errors::frame_pointer_written());
MAY_GOTO:
  if (ctx.may_goto_left == 0) TAKEN(pc->off);
  --ctx.may_goto_left;
  NEXT();

CALL_LOCAL:
  if constexpr (Checked) SPEND();
  if (depth + 1 >= kMaxFrames) [[unlikely]]
    fail(ops, pc, run_errors::call_depth_exceeded());
  frames[depth] = Frame{pc + 1, {R(6), R(7), R(8), R(9)}};
  ++depth;
  stack_lo -= kStackSize;
  R(10) = stack_lo + kStackSize;
  if constexpr (Checked) std::memset(reinterpret_cast<void*>(stack_lo), 0, kStackSize);
  pc += 1 + pc->imm;
  DISPATCH();

CALL_HELPER:
  if constexpr (Checked) SPEND();
  PUBLISH();
  if (const core::HelperFn fn = helpers ? helpers[pc - ops] : nullptr) [[likely]] {
    if constexpr (Checked) {
      const uint64_t a[5] = {R(1), R(2), R(3), R(4), R(5)};
      if (!check_helper_args(pc->imm, args->protos[pc - ops], a, {stack_lo, stack_top}, env)) [[unlikely]] {
        R(0) = 0;
        goto after_helper;
      }
    }
    R(0) = fn(R(1), R(2), R(3), R(4), R(5), &env);
  } else {
    R(0) = call_helper<Checked>(ops, pc, env, uint64_t(int64_t(pc->imm)), reg, -1, {stack_lo, stack_top});
  }
  goto after_helper;
CALLX:
  if constexpr (Checked) SPEND();
  PUBLISH();
  R(0) = call_helper<Checked>(ops, pc, env, R(pc->src), reg, pc->src, {stack_lo, stack_top});
after_helper:
  if constexpr (Checked) budget = ctx.budget;  // callbacks spent some
  if (env.abort) [[unlikely]] {
    if (ctx.failed) throw RuntimeError(*ctx.failed);  // a callback's error, at its instruction
    if (!env.abort_reason.empty()) fail(ops, pc, env.abort_reason);
    return 0;
  }
  NEXT();
CALL_KFUNC:
  fail(ops, pc, run_errors::kfunc_unavailable(pc->imm));

EXIT:
  if (depth == base_depth) {
    if constexpr (Checked) ctx.budget = budget;  // what a callback leaves to its caller
    return R(0);
  }
  --depth;
  R(6) = frames[depth].saved[0];
  R(7) = frames[depth].saved[1];
  R(8) = frames[depth].saved[2];
  R(9) = frames[depth].saved[3];
  stack_lo += kStackSize;
  R(10) = stack_lo + kStackSize;
  pc = frames[depth].ret;
  DISPATCH();

FELL_OFF:
  fail(ops, pc, run_errors::fell_off_end());

#undef R
#undef DISPATCH
#undef NEXT
#undef SPEND
#undef TAKEN
#undef CHECK
#undef ADDR
#undef PUBLISH
}

template uint64_t run_ops<false>(const Op*, const RunArgs*, const void* const**);
template uint64_t run_ops<true>(const Op*, const RunArgs*, const void* const**);

}  // namespace bpfkit::vm::interp
