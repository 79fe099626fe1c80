// The interpreter engine: pre-decodes once, then threads the ops to the
// handlers of the checked or unchecked loop chosen by the options.
#include "vm/interpreter.h"

#include <atomic>
#include <mutex>

namespace bpfkit::vm {
namespace {

// Helper calls resolved against one helper table generation, by slot. It holds
// function pointers, not specs, so that it never points into a table that is gone.
struct HelperCache {
  const core::HelperTable* table = nullptr;
  uint64_t generation = 0;
  std::vector<core::HelperFn> by_slot;
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
  }

  uint64_t run(uint64_t r1, uint64_t r2, core::ExecEnv& env) override {
    const interp::RunArgs args{r1, r2, &env, options_.budget, helper_cache(env.helpers)};
    return options_.checked ? interp::run_ops<true>(ops_.data(), &args, nullptr)
                            : interp::run_ops<false>(ops_.data(), &args, nullptr);
  }

 private:
  // Beyond this many distinct tables (or table changes) runs look helpers up on every call.
  static constexpr size_t kMaxCaches = 16;

  // Resolves helper ids once per table generation, so that a call is one load.
  const core::HelperFn* helper_cache(const core::HelperTable* table) {
    if (table == nullptr || helper_slots_.empty()) return nullptr;
    const uint64_t generation = table->generation();
    const HelperCache* c = cache_.load(std::memory_order_acquire);
    if (c && c->table == table && c->generation == generation) [[likely]]
      return c->by_slot.data();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& known : caches_)
      if (known->table == table && known->generation == generation) {
        cache_.store(known.get(), std::memory_order_release);
        return known->by_slot.data();
      }
    if (caches_.size() >= kMaxCaches) return nullptr;
    auto fresh = std::make_unique<HelperCache>();
    fresh->table = table;
    fresh->generation = generation;
    fresh->by_slot.assign(ops_.size(), nullptr);
    for (uint32_t slot : helper_slots_) {
      const core::HelperSpec* spec = table->find(ops_[slot].imm);
      if (spec) fresh->by_slot[slot] = spec->fn;  // unknown ones take the slow path, which reports them
    }
    cache_.store(fresh.get(), std::memory_order_release);
    caches_.push_back(std::move(fresh));
    return caches_.back()->by_slot.data();
  }

  EngineOptions options_;
  std::vector<interp::Op> ops_;
  std::vector<uint32_t> helper_slots_;
  std::atomic<const HelperCache*> cache_{nullptr};
  std::mutex mu_;
  std::vector<std::unique_ptr<HelperCache>> caches_;  // kept for the engine's life: runs may hold them
};

}  // namespace

std::unique_ptr<Engine> make_interpreter(const Program& program, EngineOptions options) {
  return std::make_unique<Interpreter>(program, options);
}

}  // namespace bpfkit::vm
