// eBPF to x86-64 translation: one short, fixed sequence of machine code per
// instruction, with eBPF registers living in x86 registers as in the kernel's JIT.
//
//   r0 rax  r1 rdi  r2 rsi  r3 rdx  r4 rcx  r5 r8  (SysV argument registers: helper
//   r6 rbx  r7 r13  r8 r14  r9 r15  r10 rbp         calls need no shuffling)
//   r12: the RunState; r9: 6th helper argument; r10, r11: scratch
//
// The eBPF stack is one 4 KiB area in the entry stub's native frame: frame k's
// r10 is 512 * k below the outermost one, as in the interpreter. Every function
// (the main program and each bpf-to-bpf callee) is called with x86 `call`, saves
// rbp/rbx/r13-r15 (r10 and r6-r9 of its caller) and moves rbp down one frame.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "vm/engine.h"
#include "vm/jit_state.h"

namespace bpfkit::vm::jit {

bool host_has_bmi2();

struct CodegenOptions {
  bool checked = true;          // EngineOptions::checked: memory checks, budget, zeroed frames
  bool bmi2 = host_has_bmi2();  // shlx/shrx/sarx for shifts by a register
};

struct CompiledProgram {
  std::vector<uint8_t> code;        // entry point at offset 0
  std::vector<int32_t> helper_ids;  // helper index (as the code uses it) -> helper id
  std::vector<AccessSite> sites;    // checked accesses that may reach the slow path
  int passes = 0;                   // emissions until jump sizes settled
  // Programs with subprograms: the code offset of each one's function, by start slot
  // (Program::subprograms() order), and of the callback trampoline (a CallbackEntryFn).
  std::vector<std::pair<uint32_t, uint32_t>> subprogram_offsets;
  size_t callback_entry = 0;
};

// Translates a decoded program. Throws RuntimeError (naming the slot) for
// programs no engine may run, such as one writing the read-only r10.
CompiledProgram compile(const Program& program, const CodegenOptions& options);

}  // namespace bpfkit::vm::jit
