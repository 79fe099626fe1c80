// Small builders for interpreter tests: programs are written as typed
// instructions, encoded, decoded and run in checked or unchecked mode.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "isa/codec.h"
#include "vm/engine.h"
#include "program_builders.h"

namespace bpfkit::interp_test {

using namespace isa;

using namespace engine_test;

// Runs in the given mode; env defaults to a fresh one with the standard helpers.
inline uint64_t run(const std::vector<Instruction>& insns, bool checked, uint64_t r1 = 0, uint64_t r2 = 0,
                    core::ExecEnv* env = nullptr, uint64_t budget = 100'000'000) {
  core::ExecEnv local;
  auto engine = vm::make_interpreter(program_of(insns), {checked, budget});
  return engine->run(r1, r2, env ? *env : local);
}

// The message of the RuntimeError a run throws, or "no error" when it returns.
inline std::string run_error(const std::vector<Instruction>& insns, bool checked, uint64_t r1 = 0,
                             uint64_t r2 = 0, core::ExecEnv* env = nullptr, uint64_t budget = 100'000'000) {
  try {
    run(insns, checked, r1, r2, env, budget);
  } catch (const vm::RuntimeError& e) {
    return e.what();
  }
  return "no error";
}

inline std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

inline uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

// Tests that hold in both modes take the mode as parameter.
class BothModes : public ::testing::TestWithParam<bool> {
 protected:
  bool checked() const { return GetParam(); }
};

}  // namespace bpfkit::interp_test
