// The kernel's rewrite of narrow context loads, for the userspace target. A __sk_buff
// field such as protocol is a u32 in the UAPI but a __be16 in the kernel's sk_buff; the
// kernel's convert_ctx_access turns a narrow load of it into a load of the whole kernel
// field, so that a load at least as wide as the kernel field reads the field whatever
// its offset inside the u32 (a u16 load at protocol+2 reads the protocol, not 0; a u8
// load anywhere in pkt_type reads pkt_type). PacketContext stores each field as a plain
// u32, which gives the same answer for every other narrow load; these loads are moved to
// the field's start, where they read the same value the kernel's do.
#pragma once

#include <cstdint>
#include <vector>

#include "isa/instruction.h"

namespace bpfkit::target::user {

// Rewrites, in place, the narrow loads from the context of a `prog_type` program whose
// field has a narrower kernel field (core::CtxField::kernel_size) no wider than the load.
// Loads count as context loads when their base register holds the unmodified context on
// every path (r1 at entry, copies, spills to and fills from the stack, arguments of
// bpf-to-bpf calls), as the kernel's verifier requires of context accesses. `callbacks`
// are the slots where callbacks start (their r1 is no context). Returns the rewritten
// slots. A program that does not decode is left alone (the engine reports it).
std::vector<uint32_t> rewrite_narrow_ctx_loads(std::vector<isa::RawInsn>& insns, uint32_t prog_type,
                                               const std::vector<uint32_t>& callbacks);

}  // namespace bpfkit::target::user
