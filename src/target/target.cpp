#include "target/target.h"

namespace bpfkit::target {

ProgramHandle* LoadedObject::find_program(std::string_view name) {
  for (ProgramHandle* p : programs()) {
    if (p->definition().name == name || p->definition().section == name) return p;
  }
  return nullptr;
}

MapHandle* LoadedObject::find_map(std::string_view name) {
  for (MapHandle* m : maps()) {
    if (m->definition().name == name) return m;
  }
  return nullptr;
}

}  // namespace bpfkit::target
