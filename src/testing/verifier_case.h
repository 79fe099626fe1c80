// The verifier's test corpus: small programs labelled accept or reject-with-reason,
// in text files (tests/verifier/corpus/<topic>.vcase) that both bpfkit's verifier and
// the kernel's (the oracle, tests/kernel) are checked against.
//
// A file holds several cases; each starts with a `===` line naming it:
//
//   # comment lines anywhere outside a program
//   === map value read without a null check
//   type: xdp                          program type (core::find_program_type names)
//   attach: cgroup_inet_egress         optional expected attach type (libbpf name or number)
//   map: hash key=4 value=8 entries=16 optional, repeatable: map 0, 1, ... (`r1 = map_idx(0) ll`)
//   map: array_of_maps key=4 value=4 entries=1 inner=array:4:8:1
//   map: array key=4 value=8 entries=1 flags=rdonly_prog frozen init=0102030405060708
//   privileged: no                     optional (default yes): CAP_BPF without CAP_PERFMON
//   expect: reject null_dereference    or `expect: accept`; the kind is a reject_kind_name
//   kernel-log: invalid mem access     optional: a substring of the kernel's verifier log
//   kernel: accept -- why              only where the kernel's verdict differs from expect
//   ---
//     r1 = map_idx(0) ll
//     exit
//
// The program (up to the next `===`) is assembler text (isa/assembler.h), plus one
// extra line form for encodings the assembler refuses to produce:
//   .raw OPCODE [dst=N] [src=N] [off=N] [imm=N]     one raw slot, fields default 0
// In header lines, `#` after a blank starts a comment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "isa/instruction.h"
#include "verifier/verifier.h"

namespace bpfkit::testgen {

// A malformed corpus file. The message reads "FILE:LINE: what is wrong".
class VerifierCaseError : public Error {
 public:
  VerifierCaseError(std::string_view file, int line, const std::string& what)
      : Error(std::string(file) + ":" + std::to_string(line) + ": " + what), line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

struct VerifierCase {
  std::string file;  // as given to the parser
  int line = 0;      // the `===` line
  std::string name;
  uint32_t prog_type = 0;             // bpf_prog_type
  uint32_t expected_attach_type = 0;  // bpf_attach_type
  std::vector<verifier::MapInfo> maps;
  bool privileged = true;
  bool expect_accept = false;
  verifier::RejectKind expect_kind = verifier::RejectKind::None;  // None when expect_accept
  std::string kernel_log;              // substring the kernel's log must hold ("" = no check)
  std::optional<bool> kernel_accepts;  // set when the kernel's verdict differs from expect
  std::string justification;           // why it differs (required with kernel_accepts)
  std::vector<isa::RawInsn> insns;
  std::vector<int> insn_lines;  // file line of every slot (both slots of an lddw)

  // "FILE:LINE (NAME)", for messages.
  std::string where() const;
  // The verdict the kernel gives: expect_accept unless kernel_accepts says otherwise.
  bool kernel_expected_accept() const { return kernel_accepts.value_or(expect_accept); }
  // What bpfkit's verifier is given for the case (with the runtime helper table);
  // refers to `insns`, so the case must outlive it.
  verifier::VerifyInput verify_input() const;
};

// Parses one corpus file's text. Throws VerifierCaseError naming file:line.
std::vector<VerifierCase> parse_verifier_cases(std::string_view text, std::string_view file);

// Every *.vcase file in `dir` (sorted by name), parsed. Throws VerifierCaseError for a
// bad file and bpfkit::Error when the directory cannot be read.
std::vector<VerifierCase> load_verifier_corpus(const std::string& dir);
// The *.vcase file paths of `dir`, sorted.
std::vector<std::string> verifier_corpus_files(const std::string& dir);
// One file read and parsed.
std::vector<VerifierCase> load_verifier_case_file(const std::string& path);

// Name <-> value tables the format uses (also for messages).
std::optional<uint32_t> attach_type_from_name(std::string_view name);
std::optional<uint32_t> map_type_from_name(std::string_view name);

}  // namespace bpfkit::testgen
