// Running one program of a loaded object on the userspace target.
#include <chrono>
#include <cstring>

#include "helpers/runtime_helpers.h"
#include "target/user/user_target.h"

namespace bpfkit::target::user {

UserProgram::UserProgram(UserObject& owner, const object::ProgramDefinition& def, std::vector<isa::RawInsn> insns,
                         std::vector<uint32_t> callbacks, const TargetOptions& options, uint32_t id)
    : owner_(owner), def_(def), program_([&]() -> vm::Program {
        try {
          return vm::Program(std::move(insns), std::move(callbacks));
        } catch (const Error& e) {
          throw TargetError(owner.object().name() + ": program '" + def.name + "': " + e.what());
        }
      }()),
      id_(id) {
  vm::EngineOptions eo;
  eo.checked = options.checked;
  engine_ = options.jit ? vm::make_jit(program_, eo) : vm::make_interpreter(program_, eo);
  if (core::PacketContext::supports(def.def.prog_type)) {
    packet_ = std::make_unique<core::PacketContext>(def.def.prog_type);
  }
  env_.helpers = &helpers::runtime_helpers();
  env_.maps = owner.map_handles();
  env_.on_printk = options.on_printk;
  env_.regions = owner.global_regions();
  env_.track_regions = options.checked;
  env_.trusted_args = !options.checked;  // unchecked runs are of verified programs only
  base_regions_ = env_.regions.size();
}

UserProgram::~UserProgram() = default;

// reset_env and run_with_tail_calls are private and used only here: inlined into
// run_packet/run_context, which run once per packet.
[[gnu::always_inline]] inline void UserProgram::reset_env(uint64_t ctx) {
  // Unchecked runs record no regions: skip the resize call on the per-packet path.
  if (env_.regions.size() != base_regions_) env_.regions.resize(base_regions_);
  env_.abort = false;
  if (!env_.abort_reason.empty()) [[unlikely]] env_.abort_reason.clear();
  env_.tail_call = nullptr;
  env_.tail_call_count = 0;
  env_.ctx = ctx;
}

[[gnu::always_inline]] inline uint64_t UserProgram::run_with_tail_calls(uint64_t ctx) {
  UserProgram* current = this;
  try {
    for (;;) {
      const uint64_t r0 = current->engine_->run(ctx, 0, env_);
      if (!env_.tail_call) [[likely]] return r0;
      // bpf_tail_call stopped the program: continue in the target with the same context.
      current = const_cast<UserProgram*>(static_cast<const UserProgram*>(env_.tail_call));
      env_.tail_call = nullptr;
      env_.abort = false;
    }
  } catch (const std::exception& e) {
    rethrow_located(e, *current);
  }
}

void UserProgram::rethrow_located(const std::exception& e, const UserProgram& where) const {
  std::string msg = owner_.object().name() + ": program '" + where.def_.name + "'";
  if (const auto* rt = dynamic_cast<const vm::RuntimeError*>(&e)) {
    if (const object::SourceLine* line = where.def_.line_of(rt->slot())) {
      msg += " (" + line->file + ":" + std::to_string(line->line) + ": " + line->text + ")";
    }
  }
  throw TargetError(msg + ": " + e.what());
}

void UserProgram::set_task(std::optional<core::TaskIdentity> task) {
  task_ = std::move(task);
  env_.task = task_ ? &*task_ : nullptr;
}

uint32_t UserProgram::run_packet(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in) {
  if (!packet_) [[unlikely]] {
    throw TargetError(owner_.object().name() + ": program '" + def_.name + "' is not a packet program");
  }
  try {
    packet_->reset(packet, ctx_in);
  } catch (const Error& e) {
    throw TargetError(owner_.object().name() + ": program '" + def_.name + "': " + e.what());
  }
  const uint64_t ctx = packet_->ctx();
  reset_env(ctx);
  env_.packet = &packet_->state();
  if (env_.track_regions) packet_->add_regions(env_);
  return uint32_t(run_with_tail_calls(ctx));
}

std::span<const uint8_t> UserProgram::packet_out() const { return packet_->packet_out(); }
const core::PacketState& UserProgram::packet_state() const { return packet_->state(); }

uint64_t UserProgram::run_context(std::span<const uint8_t> ctx) {
  ctx_buffer_.assign(ctx.begin(), ctx.end());
  // An empty buffer still needs an address the program can be given.
  if (ctx_buffer_.empty()) ctx_buffer_.reserve(8);
  const uint64_t addr = reinterpret_cast<uint64_t>(ctx_buffer_.data());
  reset_env(addr);
  env_.packet = nullptr;
  env_.allow(addr, ctx_buffer_.size(), true);
  return run_with_tail_calls(addr);
}

TestRunResult UserProgram::test_run(const TestRunRequest& request) {
  TestRunResult result;
  const uint32_t repeat = request.repeat == 0 ? 1 : request.repeat;
  env_.cpu = request.cpu;
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < repeat; ++i) {
    result.retval = packet_ ? run_packet(request.data_in, request.ctx_in) : uint32_t(run_context(request.ctx_in));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  result.duration_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) / repeat;
  if (packet_) {
    const auto out = packet_->packet_out();
    result.data_out.assign(out.begin(), out.end());
    if (!request.ctx_in.empty()) result.ctx_out = packet_->ctx_out();
  } else {
    result.ctx_out = ctx_buffer_;
  }
  return result;
}

}  // namespace bpfkit::target::user
