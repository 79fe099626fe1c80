// The two execution engines (interpreter and x86-64 JIT) behind one interface.
//
// Execution contract (RFC 9669 and the kernel): r1 and r2 are the arguments, r10
// points to the top of a 512-byte stack frame, up to 8 frames of bpf-to-bpf
// calls each get their own frame, r6-r9 survive calls, r1-r5 are undefined after
// a call, the result is r0 at the outermost exit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "core/exec_env.h"
#include "isa/codec.h"

namespace bpfkit::vm {

inline constexpr size_t kStackSize = 512;  // per frame
inline constexpr size_t kMaxFrames = 8;

// A run that stopped on an error, naming the instruction (slot index).
class RuntimeError : public Error {
 public:
  RuntimeError(size_t slot, const std::string& what)
      : Error("instruction " + std::to_string(slot) + ": " + what), slot_(slot) {}
  size_t slot() const { return slot_; }

 private:
  size_t slot_;
};

// A decoded program ready to run: raw slots plus typed instructions.
class Program {
 public:
  // `callbacks` names extra subprogram starts: the targets of lddw func that a loader
  // rewrote into plain immediates. Throws isa::DecodeError for one that is no instruction.
  explicit Program(std::vector<isa::RawInsn> raw, std::vector<uint32_t> callbacks = {});
  const std::vector<isa::RawInsn>& raw() const { return raw_; }
  const std::vector<isa::DecodedInsn>& insns() const { return insns_; }
  // Where subprograms start, sorted: bpf-to-bpf call targets, lddw func targets and
  // `callbacks`. These are the only slots ExecEnv::call_subprogram accepts.
  const std::vector<uint32_t>& subprograms() const { return subprograms_; }

 private:
  std::vector<isa::RawInsn> raw_;
  std::vector<isa::DecodedInsn> insns_;
  std::vector<uint32_t> subprograms_;
};

struct EngineOptions {
  // Checked mode, for programs no verifier has proven safe: every memory access
  // is checked against the stack and env.regions, and backward jumps plus calls
  // are counted against `budget` so that no program runs forever.
  bool checked = true;
  uint64_t budget = 100'000'000;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Runs the program once with r1, r2 as given. Throws RuntimeError.
  virtual uint64_t run(uint64_t r1, uint64_t r2, core::ExecEnv& env) = 0;
};

std::unique_ptr<Engine> make_interpreter(const Program& program, EngineOptions options = {});
std::unique_ptr<Engine> make_jit(const Program& program, EngineOptions options = {});

}  // namespace bpfkit::vm
