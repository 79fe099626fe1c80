// What JIT code and the C++ around it share at run time: the per-run state that
// x86 r12 points to, the table of checked memory accesses, and the C++
// functions the code calls (the slow path of memory checks and callx).
//
// Errors never unwind through JIT code: code that hits one records it here and
// jumps to the exit stub, which restores the native stack pointer saved at
// entry; run() then turns the record into a RuntimeError. JIT code has no unwind
// tables, so helpers must not throw (an exception would end the process); they
// report failures through env.abort and env.abort_reason.
#pragma once

#include "vm/run_errors.h"

#include <cstddef>
#include <cstdint>

#include "core/exec_env.h"
#include "core/helpers.h"

namespace bpfkit::vm::jit {

enum class ErrorKind : uint32_t {
  None,
  Access,       // a checked memory access failed (see AccessFault)
  Budget,       // checked mode: backward jumps and calls exhausted the budget
  CallDepth,    // a bpf-to-bpf call beyond kMaxFrames
  NoHelper,     // call or callx of a helper id the run's table lacks
  Abort,        // a helper set env.abort
  Unsupported,  // lddw pseudo source, legacy packet load or kfunc: needs a loader or the kernel
  FellOff,      // execution ran past the last instruction
  FramePointer,  // an instruction writes the read-only r10
};

using run_errors::AccessFault;

// One checked load, store or atomic, as the slow path and the messages need it.
struct AccessSite {
  uint32_t slot = 0;
  uint8_t size = 0;
  bool write = false;
  bool atomic = false;  // must be naturally aligned
  uint8_t base = 0;     // eBPF register
  int16_t off = 0;
  const char* kind = "";  // "load", "store", "atomic fetch add", ...
};

// Per-run state. JIT code addresses it as [r12 + offsetof(...)], so it stays a
// plain standard-layout struct. run() sets the inputs; the code writes the rest
// before reading it (error details only along with error_kind).
struct RunState {
  // Inputs.
  core::ExecEnv* env;             // the 6th helper argument
  const core::HelperFn* helpers;  // by the program's helper index; null: unknown
  // Checked mode, by the same index: prototypes and ids, for the check of helper arguments.
  const core::HelperProto* protos;
  const int32_t* helper_ids;
  const bool* abort;              // &env->abort
  const AccessSite* sites;
  uint64_t budget;      // checked mode: what is left
  uint64_t may_goto_left;  // may_goto fall-throughs left in this run (callbacks share them)
  uint32_t error_kind;  // ErrorKind; None on entry
  // Checked mode: the env region that last allowed a load (read_*) and a store (write_*),
  // tested inline before the slow path. Empty (length 0) on entry and after helper calls,
  // which may change env.regions.
  uint64_t read_lo, read_len, write_lo, write_len;
  // Written by the code.
  uint32_t error_slot;
  uint64_t saved_rsp;    // native rsp after the entry prologue
  uint64_t stack_top;    // r10 of the outermost frame
  uint64_t call_limit;   // a call from a frame with r10 below this is a 9th frame
  uint64_t callx_id;     // argument of the callx dispatch; checked helper calls: the helper index
  uint64_t error_value;  // faulting address, helper id
  uint32_t error_site;   // AccessSite index
  uint32_t error_fault;  // AccessFault
  // helper_frame: r10 of the latest helper call, written before each in checked mode and in
  // programs with subprograms (a callback's frame is the next one down). callback_rsp:
  // where the innermost callback trampoline resumes after an error; 0 (an input) outside.
  uint64_t helper_frame;
  uint64_t callback_rsp;
};

// What the callback trampoline needs besides r1..r5: the run, the r10 its target's
// prologue moves down from (the helper caller's), and the target function's code.
struct CallbackCall {
  RunState* state;
  uint64_t frame;
  const void* target;
};

// The compiled trampoline: calls call->target with r1..r5 as a bpf-to-bpf call would and
// returns its r0. On an error inside, it returns with the error in call->state->error_kind.
using CallbackEntryFn = uint64_t (*)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                     const CallbackCall* call);

// Signature of the compiled entry point.
using EntryFn = uint64_t (*)(uint64_t r1, uint64_t r2, RunState* state);

// Slow path of a checked access, called from the check stub: [addr, addr+size)
// must lie in the active stack frames (from frame_top - 512 up to the outermost
// frame's top) or in an env region (writable for writes); atomics must be
// aligned. Returns false after recording the error. A region that allows a load
// or store becomes the state's read or write cache.
bool check_access(RunState* state, uint64_t addr, uint64_t site, uint64_t frame_top);

// callx: calls the helper whose id is state->callx_id with r1..r5. An unknown id
// records an error (the code checks error_kind after the call) and returns 0.
uint64_t callx_dispatch(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, RunState* state);

// Checked mode's helper calls: check_helper_args (vm/helper_args.h) on r1..r5 first, with
// the stack from state->helper_frame; a refusal aborts the run (env.abort) and returns 0.
// The helper is state->helpers[state->callx_id] (the code has tested it is there) ...
uint64_t checked_helper_dispatch(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                 RunState* state);
// ... or, for callx, the one whose id is state->callx_id, as callx_dispatch.
uint64_t checked_callx_dispatch(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                RunState* state);

}  // namespace bpfkit::vm::jit
