#include "conformance/data_file.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bpfkit::conformance {
namespace {

enum class Section { None, Asm, Raw, Mem, Result, Error, Ignored };

std::string_view trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\f\v");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\f\v");
  return s.substr(b, e - b + 1);
}

std::string_view strip_comment(std::string_view line) {
  const size_t hash = line.find('#');
  return hash == std::string_view::npos ? line : line.substr(0, hash);
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// Parses an unsigned number: hex with a 0x prefix (or when `hex`), decimal otherwise.
std::optional<uint64_t> parse_number(std::string_view t, bool hex) {
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    t.remove_prefix(2);
    hex = true;
  }
  if (t.empty()) return std::nullopt;
  const unsigned base = hex ? 16 : 10;
  uint64_t v = 0;
  for (char c : t) {
    const int d = digit_value(c);
    if (d >= int(base)) return std::nullopt;
    if (v > (UINT64_MAX - uint64_t(d)) / base) return std::nullopt;  // overflow
    v = v * base + uint64_t(d);
  }
  return v;
}

struct Parser {
  const std::string& name;
  DataFile out;
  Section section = Section::None;
  int section_line = 0;
  std::string asm_text;
  std::vector<uint8_t> raw_bytes;
  std::vector<uint8_t> mem;
  std::vector<std::string> error_lines;
  std::vector<std::string> seen;

  [[noreturn]] void fail(int line, const std::string& what) const { throw DataFileError(name, line, what); }

  void start(std::string_view title, int line) {
    finish();
    std::string t(trim(title));
    Section s;
    if (t == "asm")
      s = Section::Asm;
    else if (t == "raw")
      s = Section::Raw;
    else if (t == "mem")
      s = Section::Mem;
    else if (t == "result")
      s = Section::Result;
    else if (t == "error")
      s = Section::Error;
    else if (t == "c" || t == "no register offset")
      s = Section::Ignored;
    else
      fail(line,
           "unknown section '-- " + t + "' (known: asm, raw, mem, result, error, c, no register offset)");
    for (const std::string& other : seen)
      if (other == t) fail(line, "section '-- " + t + "' appears twice");
    seen.push_back(t);
    section = s;
    section_line = line;
    if (s == Section::Asm) out.asm_text.emplace();
    if (s == Section::Raw) out.raw.emplace();
    if (s == Section::Mem) out.mem.emplace();
    if (s == Section::Error) out.error.emplace();
  }

  void content(std::string_view full_line, int line) {
    const std::string_view text = trim(strip_comment(full_line));
    switch (section) {
      case Section::None:
        if (!text.empty())
          fail(line, "'" + std::string(text) + "' is outside any section (sections start with '-- ')");
        return;
      case Section::Ignored: return;
      case Section::Asm: asm_text += std::string(strip_comment(full_line)); return;
      case Section::Error:
        if (!text.empty()) error_lines.emplace_back(text);
        return;
      case Section::Result: {
        if (text.empty()) return;
        const auto toks = tokens(text);
        if (toks.size() != 1 || out.result) fail(line, "-- result holds one number, the expected r0");
        const auto v = parse_number(toks[0], false);
        if (!v) fail(line, "'" + std::string(toks[0]) + "' is not a 64-bit number (0x... for hex)");
        out.result = *v;
        return;
      }
      case Section::Mem:
        for (std::string_view t : tokens(text)) {
          const auto v = parse_number(t, true);
          if (!v || *v > 0xff) fail(line, "'" + std::string(t) + "' in -- mem is not a hex byte");
          mem.push_back(uint8_t(*v));
        }
        return;
      case Section::Raw: {
        const auto toks = tokens(text);
        if (toks.size() == 1) {  // one whole slot
          const auto v = parse_number(toks[0], false);
          if (!v) fail(line, "'" + std::string(toks[0]) + "' is not a 64-bit instruction (0x... for hex)");
          if (raw_bytes.size() % 8 != 0) fail(line, "a whole instruction follows an incomplete one");
          for (int i = 0; i < 8; ++i) raw_bytes.push_back(uint8_t(*v >> (8 * i)));
          return;
        }
        for (std::string_view t : toks) {  // one byte per token
          const auto v = parse_number(t, true);
          if (!v || *v > 0xff) fail(line, "'" + std::string(t) + "' in -- raw is not a hex byte");
          raw_bytes.push_back(uint8_t(*v));
        }
        return;
      }
    }
  }

  // Closes the current section.
  void finish() {
    if (section == Section::Raw) {
      if (raw_bytes.size() % 8 != 0)
        fail(section_line, "-- raw holds " + std::to_string(raw_bytes.size()) +
                               " bytes, not a whole number of 8-byte instructions");
      std::vector<isa::RawInsn> slots(raw_bytes.size() / 8);
      if (!slots.empty()) std::memcpy(slots.data(), raw_bytes.data(), raw_bytes.size());
      out.raw = std::move(slots);
    }
    if (section == Section::Mem) out.mem = mem;
    if (section == Section::Error) {
      std::string e;
      for (const std::string& l : error_lines) e += (e.empty() ? "" : "\n") + l;
      out.error = e;
    }
    if (section == Section::Result && !out.result) fail(section_line, "-- result is empty");
  }

  void asm_line_break() {
    // Every file line becomes one asm_text line, so assembler line numbers match the file.
    asm_text += '\n';
  }
};

}  // namespace

DataFile parse_data_file(std::string_view text, const std::string& name) {
  Parser p{name};
  p.out.name = name;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view t = trim(line);
    if (t.starts_with("--"))
      p.start(t.substr(2), line_no);
    else
      p.content(line, line_no);
    p.asm_line_break();
  }
  p.finish();
  if (p.out.asm_text) p.out.asm_text = p.asm_text;
  if (p.out.raw && p.out.raw->empty()) throw DataFileError(name, 0, "-- raw holds no instructions");
  if (!p.out.asm_text && !p.out.raw)
    throw DataFileError(name, 0, "no -- asm or -- raw section: the file holds no program");
  return p.out;
}

DataFile read_data_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataFileError(path.string(), 0, "cannot open: " + std::string(std::strerror(errno)));
  std::ostringstream s;
  s << in.rdbuf();
  return parse_data_file(s.str(), path.string());
}

}  // namespace bpfkit::conformance
