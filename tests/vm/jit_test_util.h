// Builders for JIT tests: programs are typed instructions, encoded and decoded
// like any program, then run by the JIT in checked or unchecked mode.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

#include "isa/codec.h"
#include "vm/engine.h"
#include "program_builders.h"
#include "vm/jit.h"

namespace bpfkit::jit_test {

using namespace isa;

using namespace engine_test;

struct RunConfig {
  bool checked = true;
  uint64_t r1 = 0, r2 = 0;
  core::ExecEnv* env = nullptr;
  uint64_t budget = 100'000'000;
  bool bmi2 = vm::jit::host_has_bmi2();
};

inline uint64_t run_jit(const std::vector<Instruction>& insns, const RunConfig& c = {}) {
  core::ExecEnv local;
  vm::jit::CodegenOptions codegen;
  codegen.bmi2 = c.bmi2;
  auto engine = vm::make_jit(program_of(insns), {c.checked, c.budget}, codegen);
  return engine->run(c.r1, c.r2, c.env ? *c.env : local);
}

// The message of the RuntimeError a run (or the compilation) throws, or "no error".
inline std::string jit_error(const std::vector<Instruction>& insns, const RunConfig& c = {}) {
  try {
    run_jit(insns, c);
  } catch (const vm::RuntimeError& e) {
    return e.what();
  }
  return "no error";
}

// The same with the interpreter, for differential tests.
inline uint64_t run_interp(const std::vector<Instruction>& insns, const RunConfig& c = {}) {
  core::ExecEnv local;
  auto engine = vm::make_interpreter(program_of(insns), {c.checked, c.budget});
  return engine->run(c.r1, c.r2, c.env ? *c.env : local);
}

inline std::string interp_error(const std::vector<Instruction>& insns, const RunConfig& c = {}) {
  try {
    run_interp(insns, c);
  } catch (const vm::RuntimeError& e) {
    return e.what();
  }
  return "no error";
}

// A message with every "(0x...)" address replaced, for comparing engines whose stacks differ.
inline std::string without_addresses(const std::string& s) {
  return std::regex_replace(s, std::regex("\\(0x[0-9a-f]+\\)"), "(ADDR)");
}

}  // namespace bpfkit::jit_test

namespace bpfkit::jit_test {

// r0-r9 after a program fragment, plus the stack slot [r10-88] (a flag the fragment may set).
struct Snapshot {
  std::array<uint64_t, 11> v{};
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const Snapshot& s) {
  os << std::hex;
  for (size_t i = 0; i < s.v.size(); ++i)
    os << (i < 10 ? " r" + std::to_string(i) : std::string(" flag")) << "=0x" << s.v[i];
  return os << std::dec;
}

// Sets r0-r9 to `init` and the flag to 0, runs `body`, then copies every register and the
// flag into a buffer the program may write. The body must leave r10 and the flag slot alone
// (except for setting the flag) and must not jump outside itself.
inline std::vector<Instruction> snapshot_program(const std::vector<Instruction>& body,
                                                 const std::array<uint64_t, 10>& init, uint64_t* out) {
  std::vector<Instruction> p;
  p.push_back(st(8, 10, -88, 0));
  for (uint8_t r = 0; r < 10; ++r) p.push_back(lddw(r, init[r]));
  p.insert(p.end(), body.begin(), body.end());
  for (uint8_t r = 0; r < 10; ++r) p.push_back(stx(8, 10, int16_t(-8 * (r + 1)), r));
  p.push_back(lddw(1, uint64_t(reinterpret_cast<uintptr_t>(out))));
  for (int16_t i = 0; i < 11; ++i) {
    p.push_back(ldx(8, 2, 10, int16_t(-8 * (i + 1))));
    p.push_back(stx(8, 1, int16_t(8 * i), 2));
  }
  p.push_back(mov(0, 0));
  p.push_back(exit_insn());
  return p;
}

inline Snapshot run_snapshot(const std::vector<Instruction>& body, const std::array<uint64_t, 10>& init,
                             RunConfig c = {}) {
  Snapshot s;
  core::ExecEnv env;
  if (c.env) env.regions = c.env->regions;  // regions the body needs
  env.allow(uint64_t(reinterpret_cast<uintptr_t>(s.v.data())), sizeof s.v, true);
  c.env = &env;
  run_jit(snapshot_program(body, init, s.v.data()), c);
  return s;
}

}  // namespace bpfkit::jit_test
