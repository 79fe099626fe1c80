// The assembler's driver: splits the text into lines, skips llvm-objdump chrome, records
// labels, hands each line to the syntax it is written in, then lays the program out and
// resolves label references into relative offsets.
#include "isa/assembler.h"

#include <limits>

#include "isa/assembler_parse.h"
#include "isa/codec.h"

namespace bpfkit::isa {
namespace {

using asm_detail::Cursor;
using asm_detail::Parsed;
using asm_detail::Target;
using asm_detail::Tok;

bool is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; }
bool is_hex(char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}
size_t skip_blanks(std::string_view s, size_t i) {
  while (i < s.size() && is_blank(s[i])) ++i;
  return i;
}

// What the front of a line holds when it comes from llvm-objdump -d (or from disassemble()).
struct Prefix {
  bool skip_line = false;  // headers and relocation records: nothing to assemble
  size_t start = 0;        // where the instruction text begins
  std::string label;       // "0000000000000000 <func>:" names a function
};

// Recognises "   3:\tb7 00 00 00 01 00 00 00\tr0 = 1": an address (starting with a digit, so
// it cannot be a label) and a colon, then any number of two-digit hex byte tokens.
Prefix objdump_prefix(std::string_view line) {
  Prefix p;
  size_t i = skip_blanks(line, 0);
  const std::string_view rest = line.substr(i);
  if (rest.starts_with("Disassembly of section") || line.find("file format") != std::string_view::npos) {
    p.skip_line = true;
    return p;
  }
  if (i < line.size() && line[i] >= '0' && line[i] <= '9') {
    size_t j = i;
    while (j < line.size() && is_hex(line[j])) ++j;
    if (j < line.size() && line[j] == ':') {
      i = j + 1;
    } else {
      const size_t k = skip_blanks(line, j);
      if (k > j && k < line.size() && line[k] == '<') {
        const size_t close = line.find('>', k);
        if (close != std::string_view::npos && close + 1 < line.size() && line[close + 1] == ':' &&
            skip_blanks(line, close + 2) == line.size() && close > k + 1) {
          p.label = std::string(line.substr(k + 1, close - k - 1));
          p.start = line.size();
          return p;
        }
      }
    }
  }
  for (;;) {
    const size_t k = skip_blanks(line, i);
    if (k + 2 <= line.size() && is_hex(line[k]) && is_hex(line[k + 1]) &&
        (k + 2 == line.size() || is_blank(line[k + 2]))) {
      i = k + 2;
    } else {
      break;
    }
  }
  if (line.substr(skip_blanks(line, i)).starts_with("R_BPF_")) p.skip_line = true;
  p.start = i;
  return p;
}

struct Item {
  Parsed parsed;
  int line = 0;
  uint32_t slot = 0;
};

struct LabelDef {
  uint32_t slot = 0;
  int line = 0;
};

class Assembler {
 public:
  AsmResult run(std::string_view text) {
    int line_no = 0;
    size_t pos = 0;
    for (;;) {
      size_t eol = text.find('\n', pos);
      if (eol == std::string_view::npos) eol = text.size();
      assemble_line(text.substr(pos, eol - pos), ++line_no);
      if (eol == text.size()) break;
      pos = eol + 1;
    }
    if (items_.empty())
      throw AsmError(1, 1, "no instructions: the text holds only blank lines, comments or labels");
    return layout();
  }

 private:
  void define_label(const std::string& name, int line, int col) {
    auto [it, fresh] = labels_.try_emplace(name, LabelDef{slot_, line});
    if (!fresh) {
      throw AsmError(line, col,
                     "label '" + name + "' is already defined on line " + std::to_string(it->second.line));
    }
  }

  void assemble_line(std::string_view line, int line_no) {
    Prefix prefix = objdump_prefix(line);
    if (prefix.skip_line) return;
    if (!prefix.label.empty()) {
      // A symbol header of llvm-objdump: informative, so a repeated one (every section
      // starts with its own <.text>-like name) keeps the first definition.
      labels_.try_emplace(prefix.label, LabelDef{slot_, line_no});
      return;
    }
    Cursor c(asm_detail::lex_line(line, prefix.start, line_no), line_no);
    // Labels: "name:" before the instruction (or alone on the line).
    while (c.peek().kind == Tok::Ident && c.is_punct(":", 1)) {
      if (c.at_reg()) c.fail_here("'" + std::string(c.peek().text) + "' is a register and cannot be a label");
      define_label(std::string(c.peek().text), line_no, c.peek().col);
      c.next();
      c.next();
    }
    if (c.at_end()) return;
    Parsed p = asm_detail::is_kernel_syntax(c) ? asm_detail::parse_kernel(c) : asm_detail::parse_ubpf(c);
    if (!c.at_end()) c.fail_here("unexpected " + Cursor::describe(c.peek()) + " after the instruction");
    if (std::holds_alternative<Exit>(p.insn) && !first_exit_) first_exit_ = slot_;
    items_.push_back({std::move(p), line_no, slot_});
    slot_ += uint32_t(slot_count(items_.back().parsed.insn));
  }

  // The slot a label names; `exit` without such a label is the first exit instruction.
  uint32_t resolve(const Target& t, int line) const {
    if (auto it = labels_.find(t.label); it != labels_.end()) return it->second.slot;
    if (t.label == "exit" && first_exit_) return *first_exit_;
    throw AsmError(line, t.col, "label '" + t.label + "' is never defined");
  }

  void patch(Item& item) {
    const Target& t = *item.parsed.target;
    const int64_t rel = int64_t(resolve(t, item.line)) - (int64_t(item.slot) + 1);
    auto out_of_range = [&](const char* field, const char* hint) {
      throw AsmError(
          item.line, t.col,
          "label '" + t.label + "' is " + std::to_string(rel) + " slots away, beyond the " + field + hint);
    };
    const bool fits16 =
        rel >= std::numeric_limits<int16_t>::min() && rel <= std::numeric_limits<int16_t>::max();
    const bool fits32 =
        rel >= std::numeric_limits<int32_t>::min() && rel <= std::numeric_limits<int32_t>::max();
    Instruction& insn = item.parsed.insn;
    if (auto* j = std::get_if<Jump>(&insn)) {
      if (!fits16) out_of_range("16-bit offset of conditional jumps", " (-32768 to 32767)");
      j->off = int16_t(rel);
    } else if (auto* ja = std::get_if<Ja>(&insn)) {
      if (ja->wide ? !fits32 : !fits16)
        out_of_range(ja->wide ? "32-bit offset of gotol" : "16-bit offset of goto",
                     ja->wide ? "" : " (use gotol / ja32 for longer jumps)");
      ja->off = int32_t(rel);
    } else if (auto* call = std::get_if<Call>(&insn)) {
      if (!fits32) out_of_range("32-bit offset of calls", "");
      call->imm = int32_t(rel);
    } else if (auto* l = std::get_if<LoadImm64>(&insn)) {
      if (!fits32) out_of_range("32-bit offset of function pointers", "");
      l->imm_lo = int32_t(rel);
    }
  }

  AsmResult layout() {
    AsmResult r;
    r.insns.reserve(slot_);
    r.slot_lines.reserve(slot_);
    for (Item& item : items_) {
      if (item.parsed.target) patch(item);
      encode_insn(item.parsed.insn, r.insns);
      r.slot_lines.resize(r.insns.size(), item.line);
    }
    for (const auto& [name, def] : labels_) r.labels.emplace(name, def.slot);
    return r;
  }

  std::vector<Item> items_;
  std::map<std::string, LabelDef, std::less<>> labels_;
  std::optional<uint32_t> first_exit_;
  uint32_t slot_ = 0;
};

}  // namespace

AsmResult assemble_program(std::string_view text) { return Assembler().run(text); }

std::vector<RawInsn> assemble(std::string_view text) { return assemble_program(text).insns; }

}  // namespace bpfkit::isa
