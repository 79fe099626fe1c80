// Rewriting raw programs while keeping their control flow intact: inserting
// instructions shifts every relative reference (jumps, gotol, bpf-to-bpf calls,
// lddw of a subprogram address) that crosses the insertion point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "isa/instruction.h"

namespace bpfkit::target::linux_kernel {

// Where the relative reference of the instruction at `slot` points (a slot index,
// which may lie outside the program), or nullopt when it has none.
std::optional<int64_t> relative_target(std::span<const isa::RawInsn> prog, size_t slot);

// Sets the relative reference of the instruction at `slot` to `target`. Throws
// Error (naming the slot) when the offset does not fit its field.
void set_relative_target(std::vector<isa::RawInsn>& prog, size_t slot, int64_t target);

// Whether `slot` is the second half of an lddw.
bool is_lddw_tail(std::span<const isa::RawInsn> prog, size_t slot);

// Who reaches code inserted before an instruction: only the instruction before
// it, falling through (the default: a prologue, an epilogue), or also every
// jump and call that targeted that instruction (instrumentation that must run
// whenever the instruction does).
enum class InsertReach { FallThrough, FallThroughAndJumps };

// Inserts `insns` before slot `pos` (0 <= pos <= size). References of the existing
// instructions to slots after pos follow the instruction they pointed to; those
// to pos itself do too, unless `reach` says they enter the inserted code. `insns`
// is copied verbatim (its own offsets are relative to where it lands). Throws
// Error when `pos` splits an lddw or a shifted offset no longer fits.
std::vector<isa::RawInsn> insert_instructions(std::span<const isa::RawInsn> prog, size_t pos,
                                              std::span<const isa::RawInsn> insns,
                                              InsertReach reach = InsertReach::FallThrough);

// The first slot of every function: 0 and each target of a bpf-to-bpf call or of an
// lddw of a subprogram address, sorted and unique.
std::vector<size_t> function_starts(std::span<const isa::RawInsn> prog);

}  // namespace bpfkit::target::linux_kernel
