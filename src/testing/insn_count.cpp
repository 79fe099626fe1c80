#include "testing/insn_count.h"

#include <string>

#include "base/error.h"
#include "isa/opcodes.h"
#include "target/linux/program_rewrite.h"
#include "testing/differential.h"

namespace bpfkit::testgen {
namespace {

using isa::RawInsn;
using target::linux_kernel::InsertReach;
using target::linux_kernel::insert_instructions;

constexpr uint8_t kCounter = 9;
constexpr uint8_t kLddw = isa::kClassLd | isa::kModeImm | isa::kSizeDw;

RawInsn alu64(uint8_t op, uint8_t dst, uint8_t src, int32_t imm) {
  RawInsn r;
  r.opcode = uint8_t(isa::kClassAlu64 | op | (src ? isa::kSrcX : isa::kSrcK));
  r.dst = dst;
  r.src = src;
  r.imm = imm;
  return r;
}

}  // namespace

std::vector<RawInsn> instrument_instruction_count(std::span<const RawInsn> program) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < program.size(); ++i) {
    const RawInsn& r = program[i];
    const std::string at = "instruction " + std::to_string(i) + ": ";
    if (r.dst == kCounter || r.src == kCounter) {
      throw Error(at + "uses r9, which counting needs for itself");
    }
    uint8_t cls = isa::opcode_class(r.opcode);
    if ((cls == isa::kClassJmp || cls == isa::kClassJmp32) && isa::opcode_alu_op(r.opcode) == isa::kJmpCall) {
      throw Error(at + "calls; counting supports programs without calls");
    }
    starts.push_back(i);
    if (r.opcode == kLddw) ++i;
  }
  std::vector<RawInsn> out(program.begin(), program.end());
  const RawInsn count = alu64(isa::kAluAdd, kCounter, 0, 1);
  const RawInsn result = alu64(isa::kAluMov, 0, kCounter, 0);
  // Back to front, so the slots still to visit do not move.
  for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
    const bool is_exit = out[*it].opcode == (isa::kClassJmp | isa::kJmpExit);
    std::vector<RawInsn> probe{count};
    if (is_exit) probe.push_back(result);
    out = insert_instructions(out, *it, probe, InsertReach::FallThroughAndJumps);
  }
  const RawInsn zero = alu64(isa::kAluMov, kCounter, 0, 0);
  return insert_instructions(out, 0, std::span<const RawInsn>(&zero, 1), InsertReach::FallThrough);
}

uint64_t count_executed_instructions(std::span<const RawInsn> program, std::span<const uint8_t> memory) {
  std::vector<RawInsn> counting = instrument_instruction_count(program);
  EngineOutcome out = run_engine(EngineKind::Interpreter, counting, memory, /*checked=*/true);
  if (!out.ran) throw Error("counting instructions failed: " + out.error);
  return out.r0;
}

}  // namespace bpfkit::testgen
