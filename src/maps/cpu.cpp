#include "maps/cpu.h"

#include <sched.h>
#include <unistd.h>

namespace bpfkit::maps {

uint32_t possible_cpus() {
  static const uint32_t n = [] {
    long v = sysconf(_SC_NPROCESSORS_CONF);
    return v > 0 ? static_cast<uint32_t>(v) : 1u;
  }();
  return n;
}

uint32_t current_cpu() {
  int cpu = sched_getcpu();
  if (cpu < 0) return 0;
  return static_cast<uint32_t>(cpu) % possible_cpus();
}

}  // namespace bpfkit::maps
