// libFuzzer target: any bytes that decode into a program must run to a result or
// a located RuntimeError in checked mode — never a crash or an access outside
// the granted memory — and the interpreter and the JIT must agree.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "isa/codec.h"
#include "isa/opcodes.h"
#include "vm/engine.h"

namespace {

using namespace bpfkit;

struct Outcome {
  bool ok = false;
  uint64_t r0 = 0;
  uint8_t mem[64];
};

// The program's memory is one static buffer for both engines, so r1 is the same
// address in both runs; it is not on the host stack, whose layout differs per engine.
uint8_t g_mem[64];

// Whether the program uses r10's value itself (not as a load/store base): then
// r0, memory and branch outcomes may hold or depend on a stack address, which
// legitimately differs between the engines.
bool uses_frame_pointer_value(const vm::Program& program) {
  auto is_fp = [](const isa::Operand& o) { return !o.is_imm && o.reg == isa::kFramePointer; };
  for (const auto& d : program.insns()) {
    if (auto* a = std::get_if<isa::Alu>(&d.insn); a && is_fp(a->src)) return true;
    if (auto* j = std::get_if<isa::Jump>(&d.insn); j && (j->dst == isa::kFramePointer || is_fp(j->src)))
      return true;
    if (auto* s = std::get_if<isa::Store>(&d.insn); s && is_fp(s->value)) return true;
    if (auto* at = std::get_if<isa::Atomic>(&d.insn); at && at->src == isa::kFramePointer) return true;
    if (auto* c = std::get_if<isa::CallX>(&d.insn); c && c->reg == isa::kFramePointer) return true;
  }
  return false;
}

Outcome run_engine(bool jit, const vm::Program& program, const core::HelperTable& helpers) {
  Outcome out;
  for (size_t i = 0; i < sizeof g_mem; ++i) g_mem[i] = uint8_t(i * 7);
  core::ExecEnv env;
  env.helpers = &helpers;
  env.allow(reinterpret_cast<uint64_t>(g_mem), sizeof g_mem, true);
  vm::EngineOptions options{.checked = true, .budget = 2000};
  try {
    auto engine = jit ? vm::make_jit(program, options) : vm::make_interpreter(program, options);
    out.r0 = engine->run(reinterpret_cast<uint64_t>(g_mem), sizeof g_mem, env);
    out.ok = true;
  } catch (const Error&) {
  }
  std::memcpy(out.mem, g_mem, sizeof g_mem);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size = std::min<size_t>(size - size % 8, 8 * 512);
  std::optional<vm::Program> program;
  try {
    program.emplace(isa::raw_from_bytes({data, size}));
  } catch (const Error&) {
    return 0;
  }
  static const core::HelperTable no_helpers;  // helpers are nondeterministic; calls must fail cleanly
  Outcome a = run_engine(false, *program, no_helpers);
  Outcome b = run_engine(true, *program, no_helpers);
  if (uses_frame_pointer_value(*program)) return 0;
  if (a.ok != b.ok || (a.ok && (a.r0 != b.r0 || std::memcmp(a.mem, b.mem, sizeof a.mem) != 0))) __builtin_trap();
  return 0;
}
