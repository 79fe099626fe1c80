// Verifying a program of a BPF object: what the verifier needs (maps, program
// type, line info) taken from the object, as BPF_PROG_LOAD would receive it.
#pragma once

#include "maps/map.h"
#include "object/bpf_object.h"
#include "verifier/verifier.h"

namespace bpfkit::target {

// The verifier's input for `prog` of `object`. The input refers to prog.insns:
// keep `prog` alive while it is used. `helpers`: the table the program will run with.
verifier::VerifyInput verify_input_for(const object::BpfObject& object, const object::ProgramDefinition& prog,
                                       const core::HelperTable* helpers = nullptr);

verifier::VerifyResult verify_object_program(const object::BpfObject& object, const object::ProgramDefinition& prog,
                                             const verifier::VerifyOptions& options = {},
                                             const core::HelperTable* helpers = nullptr);

// The map a verifier's MapInfo describes, as maps::create_map / linux_kernel::map_create
// take it (the inner map's shape included), for tests and benchmarks that build both.
maps::MapSpec map_spec_of(const verifier::MapInfo& info);

}  // namespace bpfkit::target
