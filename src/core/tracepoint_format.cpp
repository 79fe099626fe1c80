// Tracefs format files: "name:", "ID:", "format:", one "field:DECL; offset:N; size:N;
// signed:N;" line per field (common fields first, a blank line, the event's own), then
// "print fmt:" whose text (possibly spanning lines) is not needed here.
#include "core/tracepoint_format.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

namespace bpfkit::core {
namespace {

class LineError : public Error {
 public:
  LineError(size_t line, const std::string& what)
      : Error("tracepoint format line " + std::to_string(line) + ": " + what) {}
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool parse_u32(std::string_view s, uint32_t* out) {
  s = trim(s);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// "offset:24" -> 24, checking the key.
uint32_t keyed_number(std::string_view part, std::string_view key, size_t line) {
  part = trim(part);
  if (!starts_with(part, key) || part.size() <= key.size() || part[key.size()] != ':') {
    throw LineError(line, "expected '" + std::string(key) + ":N', found '" + std::string(part) + "'");
  }
  uint32_t v = 0;
  if (!parse_u32(part.substr(key.size() + 1), &v)) {
    throw LineError(line, "'" + std::string(key) + "' is not a number: '" + std::string(part) + "'");
  }
  return v;
}

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// "const char * filename", "char prev_comm[16]", "__data_loc char[] name", "unsigned long args[]".
void parse_declaration(std::string_view decl, TracepointField& f, size_t line) {
  decl = trim(decl);
  for (auto [prefix, flag] : {std::pair{std::string_view("__data_loc "), &f.data_loc},
                              std::pair{std::string_view("__rel_loc "), &f.rel_loc}}) {
    if (starts_with(decl, prefix)) {
      *flag = true;
      decl = trim(decl.substr(prefix.size()));
    }
  }
  // Array dimensions after the name ("comm[16]"); for __data_loc they follow the type ("char[] name").
  std::string dims;
  uint64_t count = 1;
  bool is_array = false;
  while (!decl.empty() && decl.back() == ']') {
    size_t open = decl.rfind('[');
    if (open == std::string_view::npos) throw LineError(line, "unbalanced ']' in '" + std::string(decl) + "'");
    std::string_view len = decl.substr(open + 1, decl.size() - open - 2);
    uint32_t n = 0;
    if (len.empty()) {
      count = 0;  // a flexible array: its length is the record's business
    } else if (parse_u32(len, &n)) {
      count *= n;
    } else {
      count = 0;  // a symbolic length the format did not expand
    }
    dims = std::string(decl.substr(open)) + dims;
    is_array = true;
    decl = trim(decl.substr(0, open));
  }
  size_t name_end = decl.size();
  size_t name_begin = name_end;
  while (name_begin > 0 && is_ident_char(decl[name_begin - 1])) --name_begin;
  if (name_begin == name_end) throw LineError(line, "no field name in '" + std::string(decl) + "'");
  f.name = std::string(decl.substr(name_begin));
  std::string_view type = trim(decl.substr(0, name_begin));
  if (type.empty() && !f.data_loc && !f.rel_loc) {
    throw LineError(line, "field '" + f.name + "' has no type");
  }
  if (f.data_loc || f.rel_loc) {
    // "__data_loc char[] name": the brackets belong to the type, before the name.
    std::string t(type);
    f.type = t;
    f.array_len = 0;
    if (is_array) throw LineError(line, "__data_loc field '" + f.name + "' has dimensions after its name");
    if (f.type.empty()) throw LineError(line, "__data_loc field '" + f.name + "' has no type");
    return;
  }
  f.type = std::string(type) + dims;
  f.array_len = is_array ? uint32_t(std::min<uint64_t>(count, UINT32_MAX)) : 0;
}

TracepointField parse_field(std::string_view body, size_t line) {
  // body: "field:DECL;\toffset:N;\tsize:N;\tsigned:N;"
  std::vector<std::string_view> parts;
  while (!body.empty()) {
    size_t semi = body.find(';');
    if (semi == std::string_view::npos) {
      if (!trim(body).empty()) throw LineError(line, "'" + std::string(trim(body)) + "' does not end with ';'");
      break;
    }
    parts.push_back(body.substr(0, semi));
    body.remove_prefix(semi + 1);
  }
  if (parts.size() < 3) throw LineError(line, "a field needs 'field:', 'offset:' and 'size:' parts");
  std::string_view decl = trim(parts[0]);
  if (!starts_with(decl, "field:")) throw LineError(line, "expected 'field:', found '" + std::string(decl) + "'");
  TracepointField f;
  parse_declaration(decl.substr(6), f, line);
  f.offset = keyed_number(parts[1], "offset", line);
  f.size = keyed_number(parts[2], "size", line);
  if (parts.size() >= 4) {
    uint32_t s = keyed_number(parts[3], "signed", line);
    if (s > 1) throw LineError(line, "'signed' must be 0 or 1, not " + std::to_string(s));
    f.is_signed = s == 1;
  }
  for (size_t i = 4; i < parts.size(); ++i) {
    if (!trim(parts[i]).empty()) throw LineError(line, "unexpected '" + std::string(trim(parts[i])) + "'");
  }
  if (uint64_t(f.offset) + f.size > UINT32_MAX) throw LineError(line, "field '" + f.name + "' ends past 4 GiB");
  if ((f.data_loc || f.rel_loc) && f.size != 4) {
    throw LineError(line, "__data_loc field '" + f.name + "' must be 4 bytes, not " + std::to_string(f.size));
  }
  f.common = starts_with(f.name, "common_");
  return f;
}

}  // namespace

uint32_t TracepointFormat::size() const {
  uint32_t end = 0;
  for (const TracepointField& f : fields) end = std::max(end, f.offset + f.size);
  return end;
}

const TracepointField* TracepointFormat::find(std::string_view field) const {
  for (const TracepointField& f : fields) {
    if (f.name == field) return &f;
  }
  return nullptr;
}

TracepointFormat parse_tracepoint_format(std::string_view text, std::string category, std::string name) {
  TracepointFormat fmt;
  fmt.category = std::move(category);
  fmt.name = std::move(name);
  bool in_format = false, have_id = false;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    if (starts_with(line, "print fmt:")) break;  // the rest is the print format, possibly many lines
    if (starts_with(line, "name:")) {
      std::string n(trim(line.substr(5)));
      if (n.empty()) throw LineError(line_no, "'name:' without a name");
      if (fmt.name.empty()) fmt.name = n;
      continue;
    }
    if (starts_with(line, "ID:")) {
      if (!parse_u32(line.substr(3), &fmt.id)) {
        throw LineError(line_no, "'ID:' is not a number: '" + std::string(trim(line.substr(3))) + "'");
      }
      have_id = true;
      continue;
    }
    if (line == "format:") {
      in_format = true;
      continue;
    }
    if (starts_with(line, "field:")) {
      if (!in_format) throw LineError(line_no, "a field before the 'format:' line");
      TracepointField f = parse_field(line, line_no);
      if (fmt.find(f.name)) throw LineError(line_no, "field '" + f.name + "' appears twice");
      fmt.fields.push_back(std::move(f));
      continue;
    }
    throw LineError(line_no, "unexpected text '" + std::string(line.substr(0, 60)) + "'");
  }
  if (!in_format) throw Error("tracepoint format: no 'format:' section");
  if (!have_id) throw Error("tracepoint format: no 'ID:' line");
  return fmt;
}

std::optional<std::string> tracefs_root() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  struct stat st;
  for (const char* root : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    if (stat((std::string(root) + "/events").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return std::string(root);
  }
  // Not mounted: mount it where current kernels expect it (needs root).
  if (stat("/sys/kernel/tracing", &st) == 0 && S_ISDIR(st.st_mode) &&
      mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0 &&
      stat("/sys/kernel/tracing/events", &st) == 0) {
    return std::string("/sys/kernel/tracing");
  }
  return std::nullopt;
}

TracepointFormat load_tracepoint_format(std::string_view tracepoint) {
  size_t sep = tracepoint.find_first_of(":/");
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == tracepoint.size()) {
    throw Error("tracepoint '" + std::string(tracepoint) + "': expected 'category/name' or 'category:name'");
  }
  std::string category(tracepoint.substr(0, sep)), name(tracepoint.substr(sep + 1));
  for (const std::string* part : {&category, &name}) {
    if (*part == "." || *part == ".." || part->find_first_of("/:") != std::string::npos) {
      throw Error("tracepoint '" + std::string(tracepoint) + "': '" + *part + "' is not a category or event name");
    }
  }
  std::optional<std::string> root = tracefs_root();
  if (!root) {
    throw Error("tracepoint '" + std::string(tracepoint) +
                "': tracefs is not mounted and cannot be mounted (mount -t tracefs nodev /sys/kernel/tracing as root)");
  }
  const std::string path = *root + "/events/" + category + "/" + name + "/format";
  std::ifstream in(path);
  if (!in) {
    throw Error(path + ": cannot read (" + std::strerror(errno) + "); is '" + category + ":" + name +
                "' a tracepoint of this kernel?");
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return parse_tracepoint_format(text.str(), category, name);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace bpfkit::core
