// What the helper implementations share: the argument list every helper has, the
// check that a map argument is one of the run's maps, safe reads of program-given
// addresses, and the registration functions each theme file provides.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/exec_env.h"
#include "core/helpers.h"
#include "maps/map.h"

namespace bpfkit::helpers::detail {

#define BPFKIT_HELPER_ARGS uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, core::ExecEnv* env
#define BPFKIT_HELPER_UNUSED (void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)env

// Stops the run with an error naming the helper (never throws: the JIT has no unwind tables).
inline void abort_run(core::ExecEnv* env, std::string_view helper, std::string_view why) {
  env->abort = true;
  env->abort_reason = "bpf_" + std::string(helper) + ": " + std::string(why);
}

// The Map* a program passed in `reg`, or nullptr after aborting the run when it is
// not one of env->maps (an unverified program could pass any number).
maps::Map* map_arg_checked(core::ExecEnv* env, uint64_t reg, std::string_view helper);
inline maps::Map* map_arg(core::ExecEnv* env, uint64_t reg, std::string_view helper) {
  if (env->trusted_args) [[likely]] return reinterpret_cast<maps::Map*>(reg);  // the verifier proved it
  return map_arg_checked(env, reg, helper);
}

// Copies `size` bytes from `addr` in this process without faulting: 0 or -EFAULT.
int read_memory(void* dst, uint64_t addr, size_t size);
// Copies a NUL-terminated string of at most size - 1 characters plus the NUL to
// dst (size >= 1), as strncpy_from_kernel_nofault: the length including the NUL
// (size when truncated), or -EFAULT when a byte before the end cannot be read.
long read_string(char* dst, uint64_t addr, size_t size);

// The task the program runs for: env->task, or the calling thread.
const core::TaskIdentity& current_task(core::ExecEnv* env);

// Registration, one per theme file.
void add_map_helpers(core::HelperTable& table);
void add_time_helpers(core::HelperTable& table);
void add_task_helpers(core::HelperTable& table);
void add_print_helpers(core::HelperTable& table);
void add_probe_helpers(core::HelperTable& table);
void add_packet_helpers(core::HelperTable& table);
void add_checksum_helpers(core::HelperTable& table);
void add_ringbuf_helpers(core::HelperTable& table);
void add_callback_helpers(core::HelperTable& table);
void add_socket_helpers(core::HelperTable& table);

// Shorthand for prototypes.
using core::ArgKind;
using core::RetKind;
inline core::HelperProto proto(RetKind ret, std::initializer_list<ArgKind> args = {}) {
  core::HelperProto p;
  p.ret = ret;
  size_t i = 0;
  for (ArgKind a : args) p.args[i++] = a;
  return p;
}

}  // namespace bpfkit::helpers::detail
