// An lddw's map reference (map_idx, map_value and their fd forms) checked against
// the program's maps. The kernel resolves every such reference when the program is
// loaded (resolve_pseudo_ldimm64), before any path is explored, so a bad one is
// refused even in code no path reaches: the verifier checks them all up front too.
#pragma once

#include <optional>
#include <string>

#include "isa/instruction.h"
#include "verifier/verifier.h"

namespace bpfkit::verifier {

struct MapReferenceProblem {
  RejectKind kind;
  std::string message;
};

// nullopt when `l` is no map reference or a valid one.
std::optional<MapReferenceProblem> check_map_reference(const VerifyInput& input, const isa::LoadImm64& l);

}  // namespace bpfkit::verifier
