// The `.data` test format of the eBPF conformance suite (bpf_conformance, uBPF):
// sections introduced by `-- NAME` lines, `#` comments.
//
//   -- asm      the program in uBPF assembly syntax
//   -- raw      the program as numbers: one 64-bit slot per line (little-endian
//               fields), or one byte per token (8 tokens per line); wins over asm
//   -- mem      input memory, hex bytes
//   -- result   the expected r0 (0x... hex, or decimal)
//   -- error    the expected rejection; empty means "must be rejected"
//   -- c, -- no register offset   documentation only
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "isa/instruction.h"

namespace bpfkit::conformance {

// A malformed data file. The message reads "FILE:LINE: what is wrong" (or
// "FILE: what" when no single line is at fault).
class DataFileError : public Error {
 public:
  DataFileError(const std::string& file, int line, const std::string& what)
      : Error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what),
        line_(line),
        reason_(what) {}
  int line() const { return line_; }  // 0 when no single line is at fault
  // The message without its location.
  const std::string& reason() const { return reason_; }

 private:
  int line_;
  std::string reason_;
};

struct DataFile {
  std::string name;  // as given to the parser, used in every message

  // The -- asm section with comments removed. Lines outside the section are
  // blank, so an assembler's line numbers are the file's line numbers.
  std::optional<std::string> asm_text;
  std::optional<std::vector<isa::RawInsn>> raw;
  std::optional<std::vector<uint8_t>> mem;
  std::optional<uint64_t> result;
  std::optional<std::string> error;  // the expected rejection, "" when not stated
};

// Parses a whole file. Throws DataFileError for unknown or repeated sections,
// text outside sections, malformed numbers, and files with no program.
DataFile parse_data_file(std::string_view text, const std::string& name);

// Reads and parses; the name in messages is the path as given.
DataFile read_data_file(const std::filesystem::path& path);

}  // namespace bpfkit::conformance
