// Runs conformance `.data` tests through bpfkit's engines, under the suite's
// execution contract: r1 = a private copy of the input memory (0 when there is
// none), r2 = its length, checked mode, and the suite's helper table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/data_file.h"
#include "core/helpers.h"
#include "isa/instruction.h"

namespace bpfkit::conformance {

enum class EngineKind { Interpreter, Jit };

// "interp" or "jit"; throws Error for anything else.
EngineKind parse_engine_kind(std::string_view name);
const char* engine_kind_name(EngineKind kind);

// The standard helpers plus the suite's helper 5: it returns its first argument,
// and when that is 0 it stops the program, which then returns 0.
const core::HelperTable& conformance_helpers();

// Decodes and runs a program under the suite's contract and returns r0. Throws
// bpfkit::Error when decoding, building the engine or running fails.
uint64_t run_program(std::span<const isa::RawInsn> program, std::span<const uint8_t> mem, EngineKind engine);

// The program of a data file: the -- raw section if any, else the assembled -- asm
// section. Throws AsmError, whose line numbers are the file's, or DataFileError.
std::vector<isa::RawInsn> program_of(const DataFile& file);

struct TestOutcome {
  std::string name;       // path relative to the suite directory
  bool negative = false;  // must be rejected (from negative/, or an -- error file without -- result)
  bool ok = false;        // passed (positive) or rejected (negative)
  std::string where;      // name, or name:line[:column] when a line is at fault
  std::string detail;     // why it failed, how it was rejected, or r0
  // A negative test that is well-formed and runs: only a verifier could reject
  // it (e.g. a bitwise operation on the frame pointer). bpfkit has no verifier
  // yet, so such a test is reported but does not fail the suite.
  bool needs_verifier = false;
};

// One test. A positive test passes when r0 equals -- result. A negative one is
// rejected when parsing, assembling, decoding or running fails, or when r0
// differs from its -- result. (A file with an -- error section and no result is
// held to the negative rule wherever it lives.)
TestOutcome run_test_file(const std::filesystem::path& path, const std::string& name, EngineKind engine,
                          bool negative);

struct SuiteOptions {
  EngineKind engine = EngineKind::Interpreter;
  std::string filter;  // run only files whose name contains this
};

struct SuiteReport {
  std::vector<TestOutcome> outcomes;          // in file name order, tests/ before negative/
  int passed = 0, failed = 0;                 // positive tests
  int rejected = 0, accepted = 0;             // negative tests
  int accepted_needing_verifier = 0;          // of `accepted`: see TestOutcome::needs_verifier
  int unused_total = 0, unused_rejected = 0;  // negative/unused-*: reserved fields set
  bool ok() const { return failed == 0 && accepted == accepted_needing_verifier; }
};

// `dir` is either a conformance-data directory (with tests/ and negative/) or a
// directory of .data files (negative when it is named "negative"), or one file.
// Throws Error when it holds no .data file.
SuiteReport run_suite(const std::filesystem::path& dir, const SuiteOptions& options);

}  // namespace bpfkit::conformance
