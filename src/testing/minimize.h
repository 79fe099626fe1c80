// Shrinking a program on which the engines disagree, for a readable repro.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "isa/instruction.h"
#include "testing/differential.h"

namespace bpfkit::testgen {

// Replaces instructions with `goto +0` one at a time, keeping each replacement
// while every engine still runs and they still disagree, until no replacement
// helps. Slots do not move, so jumps stay valid. lddw, 8-byte stack stores,
// calls and exits are kept: the kernel lets root read uninitialised stack, and a
// repro that reads garbage would show a different difference.
std::vector<isa::RawInsn> minimize_mismatch(std::span<const isa::RawInsn> program,
                                            std::span<const uint8_t> memory,
                                            const DifferentialOptions& engines);

// The listing of a minimized program without its `goto +0` fillers (slot numbers
// and offsets are those of the full program).
std::string minimized_listing(std::span<const isa::RawInsn> program);

}  // namespace bpfkit::testgen
