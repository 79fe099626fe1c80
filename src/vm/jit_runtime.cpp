// The C++ side of JIT code at run time: the slow path of checked accesses and
// the callx dispatch. Neither may throw: exceptions cannot unwind JIT frames.
#include "vm/engine.h"
#include "vm/helper_args.h"
#include "vm/jit_state.h"

namespace bpfkit::vm::jit {

bool check_access(RunState* state, uint64_t addr, uint64_t site_index, uint64_t frame_top) {
  const AccessSite& site = state->sites[site_index];
  const uint64_t size = site.size;
  // The active frames are contiguous: from the current frame's bottom to the outermost top.
  // addr - begin wraps around when addr < begin, so one comparison covers both ends.
  const uint64_t stack_lo = frame_top - kStackSize;
  bool ok = addr - stack_lo <= state->stack_top - stack_lo - size;
  AccessFault fault = AccessFault::Outside;
  if (!ok) {
    for (const core::MemoryRegion& r : state->env->regions) {
      if (r.size >= size && addr - r.begin <= r.size - size) {
        if (!site.write || r.writable) {
          ok = true;
          if (!site.atomic) {
            (site.write ? state->write_lo : state->read_lo) = r.begin;
            (site.write ? state->write_len : state->read_len) = r.size;
          }
          break;
        }
        fault = AccessFault::ReadOnly;
      }
    }
  }
  if (ok && site.atomic && addr % size != 0) {
    ok = false;
    fault = AccessFault::Misaligned;
  }
  if (ok) return true;
  state->error_kind = uint32_t(ErrorKind::Access);
  state->error_slot = site.slot;
  state->error_value = addr;
  state->error_site = uint32_t(site_index);
  state->error_fault = uint32_t(fault);
  return false;
}

namespace {

// The helper callx names, or nullptr after recording the error.
const core::HelperSpec* callx_helper(RunState* state) {
  const uint64_t id = state->callx_id;
  const core::HelperSpec* spec = nullptr;
  if (id <= uint64_t(INT32_MAX) && state->env->helpers) spec = state->env->helpers->find(int32_t(id));
  if (!spec || !spec->fn) [[unlikely]] {
    state->error_kind = uint32_t(ErrorKind::NoHelper);
    state->error_value = id;
    return nullptr;
  }
  return spec;
}

HelperStack helper_stack(const RunState* state) { return {state->helper_frame - kStackSize, state->stack_top}; }

}  // namespace

uint64_t callx_dispatch(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, RunState* state) {
  const core::HelperSpec* spec = callx_helper(state);
  return spec ? spec->fn(r1, r2, r3, r4, r5, state->env) : 0;
}

uint64_t checked_helper_dispatch(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                 RunState* state) {
  const uint64_t index = state->callx_id;
  const uint64_t args[5] = {r1, r2, r3, r4, r5};
  if (!check_helper_args(state->helper_ids[index], state->protos[index], args, helper_stack(state), *state->env))
    [[unlikely]]
    return 0;
  return state->helpers[index](r1, r2, r3, r4, r5, state->env);
}

uint64_t checked_callx_dispatch(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                RunState* state) {
  const core::HelperSpec* spec = callx_helper(state);
  if (!spec) return 0;
  const uint64_t args[5] = {r1, r2, r3, r4, r5};
  if (!check_helper_args(spec->id, spec->proto, args, helper_stack(state), *state->env)) [[unlikely]]
    return 0;
  return spec->fn(r1, r2, r3, r4, r5, state->env);
}

}  // namespace bpfkit::vm::jit
