#include "testing/differential.h"

#include <cstdio>
#include <exception>

#include "core/exec_env.h"
#include "isa/codec.h"
#include "isa/disassembler.h"
#include "target/linux/kernel_runner.h"
#include "vm/engine.h"

namespace bpfkit::testgen {
namespace {

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

EngineOutcome run_kernel(std::span<const isa::RawInsn> program, std::span<const uint8_t> memory) {
  EngineOutcome out;
  out.engine = EngineKind::Kernel;
  try {
    target::linux_kernel::KernelVerdict v = target::linux_kernel::run_in_kernel(program, memory);
    out.ran = v.accepted;
    out.r0 = v.r0;
    out.memory = std::move(v.memory);
    out.error = std::move(v.reason);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace

const char* engine_name(EngineKind kind) {
  switch (kind) {
    case EngineKind::Interpreter: return "interpreter";
    case EngineKind::Jit: return "jit";
    case EngineKind::Kernel: return "kernel";
  }
  return "?";
}

EngineOutcome run_engine(EngineKind kind, std::span<const isa::RawInsn> program,
                         std::span<const uint8_t> memory, bool checked) {
  if (kind == EngineKind::Kernel) return run_kernel(program, memory);
  EngineOutcome out;
  out.engine = kind;
  out.memory.assign(memory.begin(), memory.end());
  try {
    vm::Program prog(std::vector<isa::RawInsn>(program.begin(), program.end()));
    vm::EngineOptions options;
    options.checked = checked;
    std::unique_ptr<vm::Engine> engine =
        kind == EngineKind::Jit ? vm::make_jit(prog, options) : vm::make_interpreter(prog, options);
    core::ExecEnv env;
    uint64_t base = out.memory.empty() ? 0 : reinterpret_cast<uint64_t>(out.memory.data());
    if (!out.memory.empty()) env.allow(base, out.memory.size(), true);
    out.r0 = engine->run(base, out.memory.size(), env);
    out.ran = true;
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

DifferentialResult run_differential(std::span<const isa::RawInsn> program, std::span<const uint8_t> memory,
                                    const DifferentialOptions& options) {
  DifferentialResult result;
  if (options.interpreter)
    result.outcomes.push_back(run_engine(EngineKind::Interpreter, program, memory, options.checked));
  if (options.jit) result.outcomes.push_back(run_engine(EngineKind::Jit, program, memory, options.checked));
  if (options.kernel) result.outcomes.push_back(run_kernel(program, memory));
  return result;
}

bool DifferentialResult::all_agree() const {
  for (const EngineOutcome& o : outcomes) {
    if (!o.ran) return false;
    if (o.r0 != outcomes.front().r0 || o.memory != outcomes.front().memory) return false;
  }
  return true;
}

std::string DifferentialResult::describe() const {
  std::string text;
  for (const EngineOutcome& o : outcomes) {
    text += "  ";
    text += engine_name(o.engine);
    text += ": ";
    if (!o.ran) {
      text += "did not run: " + o.error + "\n";
      continue;
    }
    text += "r0 = " + hex64(o.r0);
    const EngineOutcome& first = outcomes.front();
    if (&o != &first && first.ran && o.memory != first.memory) {
      size_t i = 0;
      while (i < o.memory.size() && i < first.memory.size() && o.memory[i] == first.memory[i]) ++i;
      text += ", memory differs from the " + std::string(engine_name(first.engine)) + "'s at byte " +
              std::to_string(i);
      if (i < o.memory.size() && i < first.memory.size()) {
        text += " (" + hex64(o.memory[i]) + " vs " + hex64(first.memory[i]) + ")";
      }
    }
    text += "\n";
  }
  return text;
}

std::string program_listing(std::span<const isa::RawInsn> program) {
  try {
    return isa::disassemble(program);
  } catch (const std::exception&) {
    std::string text;
    for (size_t i = 0; i < program.size(); ++i) {
      const isa::RawInsn& r = program[i];
      char line[96];
      std::snprintf(line, sizeof line, "%4zu: op=0x%02x dst=%u src=%u off=%d imm=%d\n", i, r.opcode,
                    unsigned(r.dst), unsigned(r.src), int(r.off), int(r.imm));
      text += line;
    }
    return text;
  }
}

std::string hex_dump(std::span<const uint8_t> bytes) {
  std::string text;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char b[4];
    std::snprintf(b, sizeof b, "%02x", bytes[i]);
    text += b;
    text += (i % 16 == 15 || i + 1 == bytes.size()) ? "\n" : " ";
  }
  return text;
}

}  // namespace bpfkit::testgen
