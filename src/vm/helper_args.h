// Checked mode's check of the pointers a program gives a helper, made by both engines
// before every helper call (never in unchecked mode). An unverified program could pass
// any address as a key, value or buffer; the helper would then read or write host
// memory. The helper's prototype in the table (core::ArgKind) says what each argument
// is and how big; the check holds it against the memory the run may access: the active
// stack frames and env.regions, as for the program's own loads and stores.
#pragma once

#include <cstdint>

#include "core/exec_env.h"
#include "core/helpers.h"

namespace bpfkit::vm {

// The stack a helper argument may point into: [lo, top), the calling frame's bottom up to
// the outermost frame's top.
struct HelperStack {
  uint64_t lo = 0;
  uint64_t top = 0;
};

// Checks r1..r5 (`args`) of a call to helper `id` against its prototype. When one is bad,
// stops the run as a failing helper does (env.abort, and env.abort_reason naming the
// helper, the argument number, its address and size) and returns false. Never throws.
//
// Per kind: PtrToMapKey/PtrToMapValue: key_size/value_size bytes of the preceding map
// argument (read); PtrToUninitMapValue: value_size bytes (written); PtrToMem(OrNull) and
// PtrToUninitMem: as many bytes as the following ConstSize(OrZero) argument (NULL or any
// pointer goes with size 0), uninit memory written; PtrToConstStr: a NUL before the end
// of its memory; PtrToCtx: the run's context (env.ctx); PtrToStack(OrNull): on the stack;
// PtrToAllocMem: writable memory. A map argument that is not one of env.maps stops the
// checks of that call: the helper refuses it before it looks at any other argument.
bool check_helper_args(int32_t id, const core::HelperProto& proto, const uint64_t (&args)[5],
                       HelperStack stack, core::ExecEnv& env) noexcept;

}  // namespace bpfkit::vm
