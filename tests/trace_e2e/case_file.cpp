#include "case_file.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

namespace bpfkit::trace_e2e {

namespace fs = std::filesystem;

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t') {
      if (in_word) out.push_back(word);
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string::npos) throw std::runtime_error("unterminated ' in: " + text);
      word += text.substr(i + 1, end - i - 1);
      in_word = true;
      i = end;
    } else if (c == '"') {
      in_word = true;
      for (++i;; ++i) {
        if (i >= text.size()) throw std::runtime_error("unterminated \" in: " + text);
        if (text[i] == '"') break;
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        word += text[i];
      }
    } else {
      if (c == '\\' && i + 1 < text.size()) c = text[++i];
      word += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(word);
  return out;
}

namespace {

std::string gtest_name(const std::string& file, const std::string& name) {
  std::string out = fs::path(file).stem().string() + "_";
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

double parse_seconds(const std::string& v, const std::string& where) {
  try {
    size_t used = 0;
    double d = std::stod(v, &used);
    if (used != v.size() || d < 0) throw std::invalid_argument(v);
    return d;
  } catch (const std::exception&) {
    throw std::runtime_error(where + "'" + v + "' is not a number of seconds");
  }
}

void apply(TraceCase& c, const std::string& key, const std::string& value, const std::string& where,
           const fs::path& dir) {
  static const std::set<std::string> kRequirements = {"kernel", "root",    "bpftrace", "block-io",  "cc",
                                                      "bash",   "python3", "script",   "no-kprobes"};
  if (key == "PROG") {
    c.prog_lines.push_back(value);
  } else if (key == "SCRIPT") {
    c.script = (dir / value).lexically_normal().string();
  } else if (key == "TOOL") {
    c.tool = value;
  } else if (key == "ARGS") {
    for (auto& w : split_words(value)) c.args.push_back(w);
  } else if (key == "TARGET") {
    if (value != "user" && value != "linux" && value != "auto")
      throw std::runtime_error(where + "TARGET is user, linux or auto, not '" + value + "'");
    c.target = value;
  } else if (key == "AFTER") {
    c.after.push_back(value);
  } else if (key == "WAIT") {
    c.wait = parse_seconds(value, where);
  } else if (key == "TIMEOUT") {
    c.timeout = parse_seconds(value, where);
  } else if (key == "EXPECT") {
    c.expect.push_back(value);
  } else if (key == "EXPECT_FIRST") {
    c.expect_first = value;
  } else if (key == "EXPECT_NOT") {
    c.expect_not.push_back(value);
  } else if (key == "EXPECT_ERR") {
    c.expect_err.push_back(value);
  } else if (key == "EXPECT_ERR_NOT") {
    c.expect_err_not.push_back(value);
  } else if (key == "EXPECT_JSON") {
    c.expect_json.push_back(value);
  } else if (key == "EXPECT_EXIT") {
    c.expect_exit = value;
  } else if (key == "REQUIRES") {
    for (auto& w : split_words(value)) {
      if (!kRequirements.count(w)) throw std::runtime_error(where + "unknown requirement '" + w + "'");
      c.requirements.push_back(w);
    }
  } else if (key == "PEER") {
    c.peer = true;
    for (auto& w : split_words(value)) {
      if (w == "keys") {
        c.peer_keys = true;
      } else if (w == "buckets") {
        c.peer_buckets = true;
      } else {
        throw std::runtime_error(where + "PEER takes 'keys' and/or 'buckets', not '" + w + "'");
      }
    }
  } else {
    throw std::runtime_error(where + "unknown key '" + key + "'");
  }
}

}  // namespace

std::vector<TraceCase> parse_case_file(const std::string& path) {
  std::vector<TraceCase> cases;
  std::ifstream in(path);
  if (!in) {
    TraceCase c;
    c.file = path;
    c.name = "unreadable";
    c.test_name = gtest_name(path, c.name);
    c.parse_error = path + ": cannot read the file";
    cases.push_back(c);
    return cases;
  }
  const fs::path dir = fs::path(path).parent_path();
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t key_end = line.find_first_of(" \t", start);
    std::string key = line.substr(start, key_end == std::string::npos ? std::string::npos : key_end - start);
    std::string value;
    if (key_end != std::string::npos) {
      size_t v = line.find_first_not_of(" \t", key_end);
      if (v != std::string::npos) value = line.substr(v);
    }
    const std::string where = path + ":" + std::to_string(lineno) + ": ";
    if (key == "NAME") {
      TraceCase c;
      c.file = path;
      c.line = lineno;
      c.name = value;
      c.test_name = gtest_name(path, value);
      if (value.empty()) c.parse_error = where + "NAME needs a value";
      cases.push_back(c);
      continue;
    }
    if (cases.empty()) {
      TraceCase c;
      c.file = path;
      c.line = lineno;
      c.name = "line " + std::to_string(lineno);
      c.test_name = gtest_name(path, c.name);
      c.parse_error = where + "'" + key + "' before the first NAME";
      cases.push_back(c);
      continue;
    }
    TraceCase& c = cases.back();
    if (!c.parse_error.empty()) continue;
    try {
      apply(c, key, value, where, dir);
    } catch (const std::exception& e) {
      c.parse_error = e.what();
    }
  }
  for (auto& c : cases) {
    if (!c.parse_error.empty()) continue;
    const std::string where = path + ":" + std::to_string(c.line) + ": case '" + c.name + "': ";
    int sources = !c.prog_lines.empty() + !c.script.empty() + !c.tool.empty();
    if (sources > 1 || (sources == 0 && c.args.empty()))
      c.parse_error = where + "needs one of PROG, SCRIPT or TOOL (or only ARGS, e.g. -l PATTERN)";
    else if (c.expect.empty() && c.expect_err.empty() && c.expect_json.empty())
      c.parse_error = where +
                      "needs at least one EXPECT, EXPECT_ERR or EXPECT_JSON (a case that cannot fail "
                      "tests nothing)";
    else if (c.peer && !c.tool.empty())
      c.parse_error = where + "PEER needs PROG or SCRIPT (bpftrace has no tools by name)";
  }
  return cases;
}

std::vector<TraceCase> load_case_dir(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<TraceCase> all;
  std::map<std::string, int> seen;
  for (auto& f : files) {
    for (auto& c : parse_case_file(f)) {
      // Two cases with the same name would make gtest refuse the whole suite.
      if (int n = seen[c.test_name]++; n > 0) c.test_name += "_" + std::to_string(n + 1);
      all.push_back(std::move(c));
    }
  }
  return all;
}

}  // namespace bpfkit::trace_e2e
