// The bpf_conformance data: every test's `-- asm` assembles; printing each program in
// either syntax and assembling it again gives the same bytes; the invalid_* programs
// are rejected with a message in the spirit of the expected one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "conformance_files.h"
#include "isa/assembler.h"
#include "isa/codec.h"
#include "isa/disassembler.h"
#include "isa_test_util.h"

namespace bpfkit::isa {
namespace {

using testdata::show;

std::string print_program(const std::vector<RawInsn>& raw, AsmSyntax syntax) {
  std::string out;
  for (size_t slot = 0; slot < raw.size();) {
    Instruction insn = decode_insn(raw, slot);
    out += format_insn(insn, uint32_t(slot), syntax) + "\n";
    slot += size_t(slot_count(insn));
  }
  return out;
}

TEST(ConformanceAsm, EveryTestAssembles) {
  auto files = testdata::data_files("tests");
  ASSERT_EQ(files.size(), 313u) << "conformance data not found under " << testdata::conformance_dir();
  int with_raw = 0;
  for (const auto& path : files) {
    auto f = testdata::read_data_file(path);
    SCOPED_TRACE(f.name);
    ASSERT_TRUE(f.has("asm"));
    std::vector<RawInsn> raw;
    try {
      raw = assemble(f.text("asm"));
    } catch (const AsmError& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    ASSERT_FALSE(raw.empty());
    if (f.has("raw")) {
      ++with_raw;
      EXPECT_EQ(bytes_from_raw(raw), testdata::raw_bytes(f)) << show(raw);
    }
    // Every program is well formed as a whole: encodings valid, targets inside.
    EXPECT_NO_THROW(decode_program(raw));
  }
  EXPECT_EQ(with_raw, 1);  // lddw.data
}

TEST(ConformanceAsm, BothSyntaxesReassembleToIdenticalBytes) {
  for (const auto& path : testdata::data_files("tests")) {
    auto f = testdata::read_data_file(path);
    SCOPED_TRACE(f.name);
    std::vector<RawInsn> raw;
    try {
      raw = assemble(f.text("asm"));
    } catch (const AsmError& e) {
      continue;  // reported by EveryTestAssembles
    }
    const std::string kernel = print_program(raw, AsmSyntax::Kernel);
    const std::string ubpf = print_program(raw, AsmSyntax::Ubpf);
    EXPECT_EQ(assemble(kernel), raw) << kernel;
    EXPECT_EQ(assemble(ubpf), raw) << ubpf;
    EXPECT_EQ(assemble(disassemble(raw)), raw);
    EXPECT_EQ(assemble(disassemble(raw, AsmSyntax::Ubpf)), raw);
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

TEST(ConformanceAsm, InvalidProgramsAreRejected) {
  auto files = testdata::data_files("negative", "invalid_");
  ASSERT_EQ(files.size(), 11u);
  for (const auto& path : files) {
    auto f = testdata::read_data_file(path);
    SCOPED_TRACE(f.name);
    const std::string text = f.text("asm");
    std::string message;
    try {
      auto raw = assemble(text);
      ADD_FAILURE() << "assembled: " << show(raw);
      continue;
    } catch (const AsmError& e) {
      message = lower(e.what());
    }
    // The expected message's words (minus "invalid") appear in ours. An empty asm section
    // (invalid_unknown_directive: the directive line itself opens a section) has nothing to match.
    std::string hint = f.text("error");
    if (text.find_first_not_of(" \t\n") == std::string::npos) continue;
    std::istringstream words(lower(hint));
    std::string w;
    while (words >> w) {
      if (w == "invalid") continue;
      EXPECT_NE(message.find(w), std::string::npos) << message << " lacks '" << w << "'";
    }
  }
}

}  // namespace
}  // namespace bpfkit::isa
