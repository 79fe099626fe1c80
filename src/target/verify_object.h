// Verifying a program of a BPF object: what the verifier needs (maps, program
// type, line info) taken from the object, as BPF_PROG_LOAD would receive it.
#pragma once

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

}  // namespace bpfkit::target
