#include "target/verify_object.h"

namespace bpfkit::target {
namespace {

verifier::MapInfo map_info_of(const object::BpfObject& object, const object::MapDefinition& m) {
  verifier::MapInfo info;
  info.type = m.type;
  info.key_size = m.key_size;
  info.value_size = m.value_size;
  info.max_entries = m.max_entries;
  info.flags = m.flags;
  info.name = m.name;
  if (m.inner && *m.inner < object.maps().size()) {
    info.inner = std::make_shared<verifier::MapInfo>(map_info_of(object, object.maps()[*m.inner]));
  }
  // libbpf freezes read-only global data after filling it: its bytes are known.
  if (m.origin == object::MapOrigin::GlobalData && (m.flags & BPF_F_RDONLY_PROG)) {
    info.frozen = true;
    info.initial_value = m.initial_value;
  }
  return info;
}

}  // namespace

verifier::VerifyInput verify_input_for(const object::BpfObject& object, const object::ProgramDefinition& prog,
                                       const core::HelperTable* helpers) {
  verifier::VerifyInput in;
  in.insns = prog.insns;
  in.prog_type = prog.def.prog_type;
  in.expected_attach_type = prog.def.expected_attach_type;
  in.program_name = prog.name;
  in.helpers = helpers;
  for (const object::MapDefinition& m : object.maps()) in.maps.push_back(map_info_of(object, m));
  for (const object::SourceLine& l : prog.lines) in.lines.push_back({l.insn, l.file, l.text, l.line, l.column});
  return in;
}

verifier::VerifyResult verify_object_program(const object::BpfObject& object, const object::ProgramDefinition& prog,
                                             const verifier::VerifyOptions& options,
                                             const core::HelperTable* helpers) {
  return verifier::verify_program(verify_input_for(object, prog, helpers), options);
}

maps::MapSpec map_spec_of(const verifier::MapInfo& info) {
  maps::MapSpec spec;
  spec.type = info.type;
  spec.key_size = info.key_size;
  spec.value_size = info.value_size;
  spec.max_entries = info.max_entries;
  spec.flags = info.flags;
  spec.name = info.name;
  if (info.inner) spec.inner = std::make_shared<maps::MapSpec>(map_spec_of(*info.inner));
  return spec;
}

}  // namespace bpfkit::target
