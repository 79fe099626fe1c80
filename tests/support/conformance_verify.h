// The conformance suite's programs as the verifier sees them: each positive test's
// program under the suite's contract (r1 = LEN bytes of memory, r2 = LEN, the
// suite's helpers), and the programs bpfkit's verifier refuses, with the reason.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "conformance/data_file.h"
#include "conformance/runner.h"
#include "verifier/verifier.h"

namespace bpfkit::conformance_verify {

struct Program {
  std::string name;  // the file's stem
  std::vector<isa::RawInsn> insns;
  std::vector<uint8_t> memory;
  bool calls_helpers = false;  // helper ids mean something else in the kernel
};

struct Refusal {
  std::string kind;    // reject_kind_name
  std::string reason;  // why no sound verifier accepts it (the kernel refuses it too)
};

// Programs that read what no path wrote or otherwise break a rule: refused by
// bpfkit and by the kernel for the same reason.
inline constexpr const char* kShift =
    "a shift by an immediate outside [0, width) is undefined; the kernel refuses it (\"invalid shift\")";
inline const std::map<std::string, Refusal> kRejected = {
    {"arsh32-imm-high", {"invalid_instruction", kShift}},
    {"arsh32-imm-neg", {"invalid_instruction", kShift}},
    {"arsh64-imm-high", {"invalid_instruction", kShift}},
    {"arsh64-imm-neg", {"invalid_instruction", kShift}},
    {"callx", {"invalid_instruction", "the kernel has no indirect calls (\"unknown opcode 8d\")"}},
    {"lsh32-imm-high", {"invalid_instruction", kShift}},
    {"lsh32-imm-neg", {"invalid_instruction", kShift}},
    {"lsh64-imm-high", {"invalid_instruction", kShift}},
    {"lsh64-imm-neg", {"invalid_instruction", kShift}},
    {"rsh32-imm-high", {"invalid_instruction", kShift}},
    {"rsh32-imm-neg", {"invalid_instruction", kShift}},
    {"rsh64-imm-high", {"invalid_instruction", kShift}},
    {"rsh64-imm-neg", {"invalid_instruction", kShift}},
};

inline std::filesystem::path tests_dir() {
  namespace fs = std::filesystem;
  const fs::path root = std::getenv("BPFKIT_CONFORMANCE_DIR")
                            ? fs::path(std::getenv("BPFKIT_CONFORMANCE_DIR"))
                            : fs::path(BPFKIT_SOURCE_DIR) / ".." / "shared" / "conformance-data";
  return fs::is_directory(root / "tests") ? root / "tests" : root;
}

// Every test with an expected result (negative tests are refused by the decoder).
inline std::vector<Program> load_programs() {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  if (fs::is_directory(tests_dir()))
    for (const auto& e : fs::directory_iterator(tests_dir()))
      if (e.path().extension() == ".data") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Program> out;
  for (const fs::path& f : files) {
    const conformance::DataFile df = conformance::read_data_file(f);
    if (!df.result) continue;
    Program p{f.stem().string(), conformance::program_of(df), df.mem.value_or(std::vector<uint8_t>{})};
    for (size_t i = 0; i < p.insns.size(); ++i) {
      const isa::RawInsn& r = p.insns[i];
      if ((r.opcode == (BPF_JMP | BPF_CALL) && r.src == 0) || r.opcode == (BPF_JMP | BPF_CALL | BPF_X))
        p.calls_helpers = true;
      if (r.opcode == (BPF_LD | BPF_IMM | BPF_DW)) ++i;
    }
    out.push_back(std::move(p));
  }
  return out;
}

inline verifier::VerifyResult verify(const Program& p) {
  verifier::VerifyInput in;
  in.insns = p.insns;
  in.prog_type = BPF_PROG_TYPE_XDP;  // what the kernel harness loads it as
  in.bare_memory = uint32_t(p.memory.size());
  in.program_name = p.name;
  in.helpers = &conformance::conformance_helpers();
  return verifier::verify_program(in);
}

}  // namespace bpfkit::conformance_verify
