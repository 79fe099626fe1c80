// The interpreter engine: pre-decodes once, then threads the ops to the
// handlers of the checked or unchecked loop chosen by the options.
#include "vm/interpreter.h"

#include <atomic>
#include <mutex>
#include <string>

#include "isa/opcodes.h"
#include "vm/callback_scope.h"
#include "vm/run_errors.h"

namespace bpfkit::vm {
namespace {

// Helper calls resolved against one helper table generation, by slot. It holds
// function pointers and prototypes, not specs, so that it never points into a table that is gone.
struct HelperCache {
  const core::HelperTable* table = nullptr;
  uint64_t generation = 0;
  std::vector<core::HelperFn> by_slot;
  std::vector<core::HelperProto> protos;  // by slot
};

class Interpreter final : public Engine {
 public:
  Interpreter(const Program& program, EngineOptions options) : options_(options) {
    interp::Decoded d = interp::predecode(program);
    const void* const* labels = nullptr;
    if (options_.checked)
      interp::run_ops<true>(nullptr, nullptr, &labels);
    else
      interp::run_ops<false>(nullptr, nullptr, &labels);
    for (size_t i = 0; i < d.ops.size(); ++i) {
      d.ops[i].handler = labels[size_t(d.codes[i])];
      if (d.codes[i] == interp::Code::CALL_HELPER) helper_slots_.push_back(uint32_t(i));
    }
    ops_ = std::move(d.ops);
    callbacks_.assign(ops_.size(), false);
    for (uint32_t slot : program.subprograms()) callbacks_[slot] = true;
  }

  uint64_t run(uint64_t r1, uint64_t r2, core::ExecEnv& env) override {
    alignas(16) uint8_t stack[kStackSize * kMaxFrames];
    interp::RunContext ctx;
    interp::RunArgs args;
    ctx.ops = ops_.data();
    ctx.args = &args;
    ctx.callbacks = &callbacks_;
    ctx.checked = options_.checked;
    ctx.stack_top = uint64_t(stack) + sizeof stack;
    ctx.budget = options_.budget;
    ctx.may_goto_left = isa::kMayGotoBudget;
    args.r[0] = r1;
    args.r[1] = r2;
    args.env = &env;
    args.budget = options_.budget;
    if (const HelperCache* cache = helper_cache(env.helpers)) {
      args.helpers = cache->by_slot.data();
      args.protos = cache->protos.data();
    }
    args.ctx = &ctx;
    args.stack_lo = ctx.stack_top - kStackSize;
    const CallbackScope scope(env, &interp::call_subprogram, &ctx);
    return options_.checked ? interp::run_ops<true>(ops_.data(), &args, nullptr)
                            : interp::run_ops<false>(ops_.data(), &args, nullptr);
  }

 private:
  // Beyond this many distinct tables (or table changes) runs look helpers up on every call.
  static constexpr size_t kMaxCaches = 16;

  // Resolves helper ids once per table generation, so that a call is one load.
  const HelperCache* helper_cache(const core::HelperTable* table) {
    if (table == nullptr || helper_slots_.empty()) return nullptr;
    const uint64_t generation = table->generation();
    const HelperCache* c = cache_.load(std::memory_order_acquire);
    if (c && c->table == table && c->generation == generation) [[likely]]
      return c;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& known : caches_)
      if (known->table == table && known->generation == generation) {
        cache_.store(known.get(), std::memory_order_release);
        return known.get();
      }
    if (caches_.size() >= kMaxCaches) return nullptr;
    auto fresh = std::make_unique<HelperCache>();
    fresh->table = table;
    fresh->generation = generation;
    fresh->by_slot.assign(ops_.size(), nullptr);
    fresh->protos.assign(ops_.size(), core::HelperProto{});
    for (uint32_t slot : helper_slots_) {
      const core::HelperSpec* spec = table->find(ops_[slot].imm);
      if (!spec) continue;  // unknown ones take the slow path, which reports them
      fresh->by_slot[slot] = spec->fn;
      fresh->protos[slot] = spec->proto;
    }
    cache_.store(fresh.get(), std::memory_order_release);
    caches_.push_back(std::move(fresh));
    return caches_.back().get();
  }

  EngineOptions options_;
  std::vector<interp::Op> ops_;
  std::vector<uint32_t> helper_slots_;
  std::vector<bool> callbacks_;  // by slot: a subprogram starts there
  std::atomic<const HelperCache*> cache_{nullptr};
  std::mutex mu_;
  std::vector<std::unique_ptr<HelperCache>> caches_;  // kept for the engine's life: runs may hold them
};

}  // namespace

namespace interp {

uint64_t call_subprogram(core::ExecEnv* env, size_t slot, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                         uint64_t r5) {
  RunContext& ctx = *static_cast<RunContext*>(env->engine);
  try {
    if (ctx.failed) {  // an earlier callback failed: the run is over
      env->abort = true;
      return 0;
    }
    // Refusals name the helper call that asked (the run fails there, with this reason).
    std::string refusal;
    if (slot >= ctx.callbacks->size() || !(*ctx.callbacks)[slot])
      refusal = run_errors::not_a_subprogram(slot);
    else if (ctx.depth + 1 >= kMaxFrames)
      refusal = run_errors::call_depth_exceeded();
    else if (ctx.checked && ctx.budget == 0)
      refusal = run_errors::budget_exhausted(ctx.args->budget);
    if (!refusal.empty()) {
      env->abort = true;
      env->abort_reason = std::move(refusal);
      return 0;
    }
    if (ctx.checked) --ctx.budget;  // a callback costs what a call does
    // The callback's own helper calls move these; its caller's helper may call again.
    const size_t depth = ctx.depth;
    const uint64_t stack_lo = ctx.stack_lo;
    RunArgs args = *ctx.args;
    args.r[0] = r1, args.r[1] = r2, args.r[2] = r3, args.r[3] = r4, args.r[4] = r5;
    args.entry = uint32_t(slot);
    args.depth = depth + 1;
    args.stack_lo = stack_lo - kStackSize;
    uint64_t r0 = 0;
    try {
      r0 = ctx.checked ? run_ops<true>(ctx.ops, &args, nullptr) : run_ops<false>(ctx.ops, &args, nullptr);
    } catch (const RuntimeError& e) {
      // Kept for the run to rethrow once the helper returns: helpers must not see exceptions.
      if (!ctx.failed) ctx.failed.emplace(e);
      env->abort = true;
    }
    ctx.depth = depth;
    ctx.stack_lo = stack_lo;
    return r0;
  } catch (...) {  // out of memory for a message
    env->abort = true;
    return 0;
  }
}

}  // namespace interp

std::unique_ptr<Engine> make_interpreter(const Program& program, EngineOptions options) {
  return std::make_unique<Interpreter>(program, options);
}

}  // namespace bpfkit::vm
