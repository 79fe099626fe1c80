// The eBPF assembler: text to raw slots, in two syntaxes that may be mixed line by line.
//  - kernel / llvm-objdump: `r0 = 1`, `w1 += w2`, `if r1 > 5 goto +2`, `*(u64 *)(r10 - 8) = r1`;
//  - uBPF / conformance:    `mov %r0, 1`, `add32 %r1, %r2`, `jgt %r1, 5, label`, `stxdw [%r10-8], %r1`.
// Labels (`name:`), comments (`#`, `//`, `;`) and llvm-objdump -d lines (address and hex bytes
// in front of the instruction) are accepted. Errors carry the line and column.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "isa/instruction.h"

namespace bpfkit::isa {

// Malformed assembly text. The message reads "LINE:COL: what is wrong".
class AsmError : public Error {
 public:
  AsmError(int line, int column, const std::string& what)
      : Error(std::to_string(line) + ":" + std::to_string(column) + ": " + what),
        line_(line),
        column_(column),
        what_(what) {}
  int line() const { return line_; }      // 1-based
  int column() const { return column_; }  // 1-based, in bytes
  // The message without its location.
  const std::string& reason() const { return what_; }

 private:
  int line_, column_;
  std::string what_;
};

struct AsmResult {
  std::vector<RawInsn> insns;
  // Source line (1-based) of every slot; both slots of an lddw carry its line.
  std::vector<int> slot_lines;
  // Every label and the slot it names.
  std::map<std::string, uint32_t, std::less<>> labels;
};

// Assembles a whole program. Throws AsmError for any mistake, and when the text holds
// no instruction at all. Jump and call targets are not checked against the program's
// bounds (decode_program does that), so fragments assemble too.
AsmResult assemble_program(std::string_view text);

// assemble_program(text).insns.
std::vector<RawInsn> assemble(std::string_view text);

}  // namespace bpfkit::isa
