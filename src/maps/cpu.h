// CPUs as per-CPU maps see them.
#pragma once

#include <cstdint>

namespace bpfkit::maps {

// Number of possible CPUs (sysconf(_SC_NPROCESSORS_CONF)), computed once.
uint32_t possible_cpus();
// The calling thread's CPU (sched_getcpu()), clamped into [0, possible_cpus()).
uint32_t current_cpu();

inline uint32_t round_up8(uint32_t n) { return (n + 7u) & ~7u; }

}  // namespace bpfkit::maps
