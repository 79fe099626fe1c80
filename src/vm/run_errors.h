// The wording of every error a run can stop with, shared by the interpreter and
// the JIT so that both engines report the same failure in the same words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/helpers.h"
#include "isa/instruction.h"

namespace bpfkit::vm::run_errors {

enum class AccessFault : uint32_t { Outside, ReadOnly, Misaligned };

std::string hex(uint64_t v);
// "r1+16", "r10-8", "r2".
std::string reg_offset(uint8_t reg, int16_t off);

// "load of 8 bytes at r1+16 (0x...) is outside every region the program may access".
std::string access(const char* kind, size_t size, uint8_t base, int16_t off, uint64_t addr, AccessFault fault);
std::string budget_exhausted(uint64_t budget);
std::string call_depth_exceeded();
// ExecEnv::call_subprogram with a slot no subprogram starts at.
std::string not_a_subprogram(size_t slot);
// `callx_reg` < 0 for a plain call.
std::string missing_helper(uint64_t id, const core::HelperSpec* spec, int callx_reg);
std::string lddw_needs_loader(isa::Pseudo pseudo);
std::string kfunc_unavailable(int32_t btf_id);
std::string packet_load_unavailable();
std::string fell_off_end();
std::string frame_pointer_written();

}  // namespace bpfkit::vm::run_errors
