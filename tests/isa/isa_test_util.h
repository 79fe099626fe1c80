// Small helpers shared by the ISA tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "isa/assembler.h"
#include "isa/instruction.h"

namespace bpfkit::isa::testdata {

inline RawInsn R(uint8_t op, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  RawInsn r;
  r.opcode = op;
  r.dst = dst;
  r.src = src;
  r.off = off;
  r.imm = imm;
  return r;
}

inline std::string show(const RawInsn& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "{op 0x%02x dst %d src %d off %d imm %d}", r.opcode, r.dst, r.src, r.off,
                r.imm);
  return buf;
}

inline std::string show(const std::vector<RawInsn>& v) {
  std::string s;
  for (const auto& r : v) s += show(r) + " ";
  return s;
}

// Assembles `text` and compares with `want`; on failure the message shows both.
inline ::testing::AssertionResult assembles_to(const std::string& text, const std::vector<RawInsn>& want) {
  std::vector<RawInsn> got;
  try {
    got = assemble(text);
  } catch (const AsmError& e) {
    return ::testing::AssertionFailure() << "'" << text << "' failed: " << e.what();
  }
  if (got == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "'" << text << "'\n  got  " << show(got) << "\n  want " << show(want);
}

// The AsmError message for `text`, or "" (with a test failure) when it assembles.
inline std::string asm_error(const std::string& text) {
  try {
    assemble(text);
  } catch (const AsmError& e) {
    return e.what();
  }
  ADD_FAILURE() << "'" << text << "' assembled without error";
  return "";
}

}  // namespace bpfkit::isa::testdata
