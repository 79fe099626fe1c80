// The JIT engine: compiles once into W^X memory, then each run fills a RunState,
// calls the entry point and turns a recorded error into a RuntimeError with the
// interpreter's wording.
#include "vm/jit.h"
#include "vm/run_errors.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "isa/opcodes.h"
#include "vm/callback_scope.h"
#include "vm/jit_memory.h"
#include "vm/jit_state.h"

namespace bpfkit::vm {
namespace {

using run_errors::AccessFault;
using jit::ErrorKind;




// The helper table of one HelperTable generation, by the program's helper index.
struct HelperBinding {
  const core::HelperTable* table = nullptr;
  uint64_t generation = 0;
  std::vector<core::HelperFn> fns;
  std::vector<core::HelperProto> protos;  // values, never pointers into the table
};

class JitEngine;

// One run, as ExecEnv::engine shows it to call_subprogram.
struct JitRun {
  const JitEngine* engine;
  jit::RunState* state;
  // The first error a callback stopped with (the run reports it in place of the abort
  // that it causes in the helper's caller): the RunState's error fields, copied.
  bool failed = false;
  uint32_t error_kind = 0, error_slot = 0, error_site = 0, error_fault = 0;
  uint64_t error_value = 0;
};

uint64_t jit_call_subprogram(core::ExecEnv* env, size_t slot, uint64_t r1, uint64_t r2, uint64_t r3,
                             uint64_t r4, uint64_t r5);

class JitEngine final : public Engine {
 public:
  JitEngine(const Program& program, EngineOptions options, jit::CodegenOptions codegen)
      : options_(options), insns_(program.insns()) {
    codegen.checked = options.checked;
    jit::CompiledProgram compiled = jit::compile(program, codegen);
    helper_ids_ = std::move(compiled.helper_ids);
    sites_ = std::move(compiled.sites);
    memory_ = jit::ExecutableMemory(compiled.code);
    entry_ = reinterpret_cast<jit::EntryFn>(const_cast<uint8_t*>(memory_.data()));
    for (const auto& [slot, offset] : compiled.subprogram_offsets)
      subprograms_.emplace_back(slot, memory_.data() + offset);
    if (!subprograms_.empty())
      callback_entry_ =
          reinterpret_cast<jit::CallbackEntryFn>(const_cast<uint8_t*>(memory_.data() + compiled.callback_entry));
  }

  uint64_t run(uint64_t r1, uint64_t r2, core::ExecEnv& env) override {
    jit::RunState state;  // the code initialises the rest
    state.env = &env;
    state.helpers = nullptr;
    state.protos = nullptr;
    state.helper_ids = helper_ids_.data();
    if (!helper_ids_.empty()) {
      const HelperBinding& binding = bind_helpers(env.helpers);
      state.helpers = binding.fns.data();
      state.protos = binding.protos.data();
    }
    state.abort = &env.abort;
    state.sites = sites_.data();
    state.budget = options_.budget;
    state.may_goto_left = isa::kMayGotoBudget;
    state.error_kind = uint32_t(ErrorKind::None);
    state.read_len = state.write_len = 0;
    state.callback_rsp = 0;
    JitRun run{this, &state};
    const CallbackScope scope(env, &jit_call_subprogram, &run);
    const uint64_t r0 = entry_(r1, r2, &state);
    if (state.error_kind != uint32_t(ErrorKind::None)) [[unlikely]] {
      if (run.failed) {  // report the callback's error where it happened
        state.error_kind = run.error_kind;
        state.error_slot = run.error_slot;
        state.error_site = run.error_site;
        state.error_fault = run.error_fault;
        state.error_value = run.error_value;
      }
      return fail(state, env);
    }
    return r0;
  }

  // Runs the subprogram at `slot` for a helper; see ExecEnv::call_subprogram. Never throws.
  uint64_t call_subprogram(JitRun& run, core::ExecEnv& env, size_t slot, const uint64_t (&args)[5]) const {
    jit::RunState& state = *run.state;
    if (run.failed) {  // an earlier callback failed: the run is over
      env.abort = true;
      return 0;
    }
    auto it = std::lower_bound(subprograms_.begin(), subprograms_.end(), slot,
                               [](const auto& entry, size_t s) { return entry.first < s; });
    // Refusals name the helper call that asked (the run fails there, with this reason).
    std::string refusal;
    if (it == subprograms_.end() || it->first != slot)
      refusal = run_errors::not_a_subprogram(slot);
    else if (state.helper_frame < state.call_limit)
      refusal = run_errors::call_depth_exceeded();
    else if (options_.checked && state.budget == 0)
      refusal = run_errors::budget_exhausted(options_.budget);
    if (!refusal.empty()) {
      env.abort = true;
      env.abort_reason = std::move(refusal);
      return 0;
    }
    if (options_.checked) --state.budget;  // a callback costs what a call does
    // The callback's own helper calls overwrite it; its caller's helper may call again.
    const uint64_t frame = state.helper_frame;
    const jit::CallbackCall call{&state, frame, it->second};
    const uint64_t r0 = callback_entry_(args[0], args[1], args[2], args[3], args[4], &call);
    state.helper_frame = frame;
    if (state.error_kind != uint32_t(ErrorKind::None)) {
      if (!run.failed) {
        run.failed = true;
        run.error_kind = state.error_kind;
        run.error_slot = state.error_slot;
        run.error_site = state.error_site;
        run.error_fault = state.error_fault;
        run.error_value = state.error_value;
      }
      // The helper's caller checks env.abort when the helper returns, then reports the error above.
      state.error_kind = uint32_t(ErrorKind::None);
      env.abort = true;
      return 0;
    }
    return r0;
  }

  std::span<const uint8_t> code() const { return {memory_.data(), memory_.size()}; }

 private:
  // Helper ids resolve once per table generation; runs then index a plain array.
  const HelperBinding& bind_helpers(const core::HelperTable* table) {
    const uint64_t generation = table ? table->generation() : 0;
    const HelperBinding* b = last_binding_.load(std::memory_order_acquire);
    if (b && b->table == table && b->generation == generation) [[likely]]
      return *b;
    std::lock_guard lock(bindings_mu_);
    for (const auto& known : bindings_)
      if (known->table == table && known->generation == generation) {
        last_binding_.store(known.get(), std::memory_order_release);
        return *known;
      }
    auto fresh = std::make_unique<HelperBinding>();
    fresh->table = table;
    fresh->generation = generation;
    for (int32_t id : helper_ids_) {
      const core::HelperSpec* spec = table ? table->find(id) : nullptr;
      fresh->fns.push_back(spec ? spec->fn : nullptr);
      fresh->protos.push_back(spec ? spec->proto : core::HelperProto{});
    }
    bindings_.push_back(std::move(fresh));
    last_binding_.store(bindings_.back().get(), std::memory_order_release);
    return *bindings_.back();
  }

  const isa::Instruction* insn_at(uint32_t slot) const {
    auto it = std::lower_bound(insns_.begin(), insns_.end(), slot,
                               [](const isa::DecodedInsn& d, uint32_t s) { return d.slot < s; });
    return it != insns_.end() && it->slot == slot ? &it->insn : nullptr;
  }

  // Turns the recorded error into the interpreter's RuntimeError (or r0 = 0 for a plain abort).
  uint64_t fail(const jit::RunState& state, core::ExecEnv& env) const {
    const uint32_t slot = state.error_slot;
    const isa::Instruction* insn = insn_at(slot);
    switch (ErrorKind(state.error_kind)) {
      case ErrorKind::Access: {
        const jit::AccessSite& site = sites_.at(state.error_site);
        throw RuntimeError(slot, run_errors::access(site.kind, site.size, site.base, site.off, state.error_value,
                                                    AccessFault(state.error_fault)));
      }
      case ErrorKind::Budget: throw RuntimeError(slot, run_errors::budget_exhausted(options_.budget));
      case ErrorKind::CallDepth: throw RuntimeError(slot, run_errors::call_depth_exceeded());
      case ErrorKind::NoHelper: {
        int callx_reg = -1;
        uint64_t id = 0;
        if (auto* cx = insn ? std::get_if<isa::CallX>(insn) : nullptr) {
          callx_reg = cx->reg;
          id = state.error_value;
        } else if (auto* c = insn ? std::get_if<isa::Call>(insn) : nullptr) {
          id = uint64_t(int64_t(c->imm));
        }
        const core::HelperSpec* spec = nullptr;
        if (id <= uint64_t(INT32_MAX) && env.helpers) spec = env.helpers->find(int32_t(id));
        throw RuntimeError(slot, run_errors::missing_helper(id, spec, callx_reg));
      }
      case ErrorKind::Abort:
        if (!env.abort_reason.empty()) throw RuntimeError(slot, env.abort_reason);
        return 0;
      case ErrorKind::Unsupported:
        if (auto* l = insn ? std::get_if<isa::LoadImm64>(insn) : nullptr)
          throw RuntimeError(slot, run_errors::lddw_needs_loader(l->pseudo));
        if (auto* c = insn ? std::get_if<isa::Call>(insn) : nullptr)
          throw RuntimeError(slot, run_errors::kfunc_unavailable(c->imm));
        throw RuntimeError(slot, run_errors::packet_load_unavailable());
      case ErrorKind::FellOff: throw RuntimeError(slot, run_errors::fell_off_end());
      case ErrorKind::FramePointer: throw RuntimeError(slot, run_errors::frame_pointer_written());
      case ErrorKind::None: break;
    }
    throw RuntimeError(slot, "JIT: unknown error record " + std::to_string(state.error_kind));
  }

  EngineOptions options_;
  std::vector<isa::DecodedInsn> insns_;
  std::vector<int32_t> helper_ids_;
  std::vector<jit::AccessSite> sites_;
  jit::ExecutableMemory memory_;
  jit::EntryFn entry_ = nullptr;
  std::vector<std::pair<uint32_t, const void*>> subprograms_;  // start slot -> function code, sorted
  jit::CallbackEntryFn callback_entry_ = nullptr;

  std::atomic<const HelperBinding*> last_binding_{nullptr};
  std::mutex bindings_mu_;
  std::vector<std::unique_ptr<HelperBinding>> bindings_;
};

uint64_t jit_call_subprogram(core::ExecEnv* env, size_t slot, uint64_t r1, uint64_t r2, uint64_t r3,
                             uint64_t r4, uint64_t r5) {
  JitRun& run = *static_cast<JitRun*>(env->engine);
  try {
    return run.engine->call_subprogram(run, *env, slot, {r1, r2, r3, r4, r5});
  } catch (...) {  // out of memory for a message: helpers called from JIT code must not see exceptions
    env->abort = true;
    return 0;
  }
}

}  // namespace

std::unique_ptr<Engine> make_jit(const Program& program, EngineOptions options, jit::CodegenOptions codegen) {
  return std::make_unique<JitEngine>(program, options, codegen);
}

std::unique_ptr<Engine> make_jit(const Program& program, EngineOptions options) {
  return make_jit(program, options, jit::CodegenOptions{});
}

std::span<const uint8_t> jit_machine_code(const Engine& engine) {
  if (auto* j = dynamic_cast<const JitEngine*>(&engine)) return j->code();
  return {};
}

}  // namespace bpfkit::vm
