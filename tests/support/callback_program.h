// Shared by the callback tests (tests/vm/callback_test.cpp with test helpers,
// tests/helpers/callback_helpers_test.cpp with bpf_loop and bpf_for_each_map_elem):
// programs whose callbacks are named by label, loaded as a loader loads them, and the
// main function most of them share.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isa/assembler.h"
#include "isa/codec.h"
#include "vm/engine.h"

namespace bpfkit::test_support {

// Assembles `text` and does what a loader does with `rX = func(label) ll`: the lddw gets
// the callback's slot as a plain immediate, and the Program learns where callbacks start.
inline vm::Program callback_program(std::string_view text) {
  std::vector<isa::RawInsn> raw = isa::assemble(text);
  std::vector<uint32_t> callbacks;
  for (size_t i = 0; i + 1 < raw.size(); ++i) {
    if (raw[i].opcode != (BPF_LD | BPF_IMM | BPF_DW)) continue;
    if (isa::Pseudo(raw[i].src) == isa::Pseudo::Func) {
      const uint32_t slot = uint32_t(int64_t(i) + 1 + raw[i].imm);
      callbacks.push_back(slot);
      raw[i].src = 0;
      raw[i].imm = int32_t(slot);
      raw[i + 1].imm = 0;
    }
    ++i;
  }
  return vm::Program(std::move(raw), std::move(callbacks));
}

// The main function of a callback program: a u64 at r10 - 8 starts at 0 and is the
// callbacks' context; it calls helper `helper` with r1 = `r1` (an assembler operand, e.g.
// "100" or "0x1234 ll"), r2 = the callback at label `cb`, r3 = r10 - 8 and r4 = 0, and
// returns (the helper's r0 << `shift`) | the u64. The callback's text follows it.
inline std::string call_with_stack_ctx(int32_t helper, const std::string& r1, int shift = 32,
                                       const std::string& cb = "cb") {
  return "    *(u64 *)(r10 - 8) = 0\n    r1 = " + r1 + "\n    r2 = func(" + cb + ") ll\n" +
         "    r3 = r10\n    r3 += -8\n    r4 = 0\n    call " + std::to_string(helper) + "\n" +
         "    r1 = *(u64 *)(r10 - 8)\n    r0 <<= " + std::to_string(shift) + "\n    r0 |= r1\n    exit\n";
}

}  // namespace bpfkit::test_support
