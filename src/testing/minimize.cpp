#include "testing/minimize.h"

#include <sstream>
#include <string>

#include "isa/opcodes.h"

namespace bpfkit::testgen {
namespace {

using isa::RawInsn;

constexpr uint8_t kLddw = isa::kClassLd | isa::kModeImm | isa::kSizeDw;
constexpr uint8_t kJa = isa::kClassJmp | isa::kJmpJa;

RawInsn nop() {
  RawInsn r;
  r.opcode = kJa;
  return r;
}

bool is_nop(const RawInsn& r) { return r == nop(); }

bool must_keep(const RawInsn& r) {
  const uint8_t cls = isa::opcode_class(r.opcode);
  if (r.opcode == kLddw) return true;
  if ((cls == isa::kClassJmp || cls == isa::kClassJmp32) &&
      (isa::opcode_alu_op(r.opcode) == isa::kJmpCall || isa::opcode_alu_op(r.opcode) == isa::kJmpExit)) {
    return true;
  }
  const bool stack_store = (cls == isa::kClassSt || cls == isa::kClassStx) &&
                           isa::opcode_mode(r.opcode) == isa::kModeMem && r.dst == isa::kFramePointer;
  return stack_store && isa::opcode_size(r.opcode) == isa::kSizeDw;
}

bool still_fails(std::span<const RawInsn> program, std::span<const uint8_t> memory,
                 const DifferentialOptions& engines) {
  DifferentialResult r = run_differential(program, memory, engines);
  for (const EngineOutcome& o : r.outcomes) {
    if (!o.ran) return false;
  }
  return !r.all_agree();
}

}  // namespace

std::vector<RawInsn> minimize_mismatch(std::span<const RawInsn> program, std::span<const uint8_t> memory,
                                       const DifferentialOptions& engines) {
  std::vector<RawInsn> best(program.begin(), program.end());
  if (!still_fails(best, memory, engines)) return best;
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < best.size(); ++i) {
      const RawInsn insn = best[i];
      if (insn.opcode == kLddw) {
        ++i;
        continue;
      }
      if (must_keep(insn) || is_nop(insn)) continue;
      best[i] = nop();
      if (still_fails(best, memory, engines)) {
        changed = true;
      } else {
        best[i] = insn;
      }
    }
  }
  return best;
}

std::string minimized_listing(std::span<const RawInsn> program) {
  std::istringstream in(program_listing(program));
  std::string line, out;
  while (std::getline(in, line)) {
    // Listing lines read "  SLOT:<blank>TEXT"; drop the fillers.
    size_t colon = line.find(':');
    size_t text = colon == std::string::npos ? colon : line.find_first_not_of(" \t", colon + 1);
    if (text != std::string::npos && line.compare(text, std::string::npos, "goto +0") == 0) continue;
    out += line + "\n";
  }
  return out;
}

}  // namespace bpfkit::testgen
