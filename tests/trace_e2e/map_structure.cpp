#include "map_structure.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace bpfkit::trace_e2e {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

bool is_frame_line(const std::string& line) { return line.size() > 2 && line[0] == ' ' && line[1] == ' '; }

// Key elements: stacks (runs of indented lines) become one element each; the rest is
// split at top-level commas.
std::vector<std::string> key_shape(const std::string& key) {
  static const std::regex kInt("^-?[0-9]+$");
  std::string flat;  // stacks replaced by \x01
  bool in_stack = false;
  for (auto& line : split_lines(key)) {
    if (is_frame_line(line)) {
      if (!in_stack) flat += '\x01';
      in_stack = true;
      continue;
    }
    in_stack = false;
    flat += line;
  }
  std::vector<std::string> shape;
  if (key.empty()) return shape;
  std::string cur;
  int depth = 0;
  auto push = [&] {
    std::string e = trim(cur);
    if (e == "\x01")
      shape.push_back("stack");
    else if (e.empty())
      shape.push_back("any");
    else if (std::regex_match(e, kInt))
      shape.push_back("int");
    else
      shape.push_back("str");
    cur.clear();
  };
  for (char c : flat) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      push();
    } else {
      cur += c;
    }
  }
  push();
  return shape;
}

std::string value_kind(const std::string& value) {
  static const std::regex kInt("^-?[0-9]+$");
  static const std::regex kStats("^count -?[0-9]+, average -?[0-9]+, total -?[0-9]+$");
  std::string v = trim(value);
  if (std::regex_match(v, kInt)) return "int";
  if (std::regex_match(v, kStats)) return "stats";
  if (v.size() >= 2 && v.front() == '(' && v.back() == ')') return "tuple";
  return "str";
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

}  // namespace

std::vector<MapEntry> parse_map_output(const std::string& out) {
  static const std::regex kHead(R"(^(@[A-Za-z0-9_]*)(\[|: ?)(.*)$)");
  static const std::regex kBucket(R"(^([\[(][^\])]*[\])])\s+([0-9]+)\s+\|[@ ]*\|\s*$)");
  auto lines = split_lines(out);
  std::vector<MapEntry> entries;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, kHead)) continue;
    MapEntry e;
    e.map = m[1];
    std::string value;
    if (m[2] == "[") {
      // The key ends at "]:" — on this line or, for keys holding stacks, a later one.
      std::string key = m[3];
      for (;;) {
        size_t close = key.rfind("]:");
        if (close != std::string::npos && (close + 2 == key.size() || key[close + 2] == ' ')) {
          value = key.substr(close + 2);
          key.resize(close);
          break;
        }
        if (i + 1 >= lines.size()) break;
        key += "\n" + lines[++i];
      }
      e.key = key;
      e.shape = key_shape(key);
    } else {
      value = m[3];
    }
    if (trim(value).empty()) {
      // A histogram: bucket lines until a blank line.
      while (i + 1 < lines.size()) {
        std::smatch b;
        if (!std::regex_match(lines[i + 1], b, kBucket)) break;
        e.buckets.push_back(b[1]);
        ++i;
      }
      e.value_kind = e.buckets.empty() ? "str" : "hist";
    } else {
      e.value_kind = value_kind(value);
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

std::vector<std::string> compare_map_structure(const std::vector<MapEntry>& ours,
                                               const std::vector<MapEntry>& peer, bool keys, bool buckets) {
  struct Summary {
    std::map<std::vector<std::string>, int> shapes;
    std::set<std::string> kinds;
    std::map<std::string, std::vector<std::string>> buckets_by_key;
  };
  auto summarize = [](const std::vector<MapEntry>& entries) {
    std::map<std::string, Summary> maps;
    for (auto& e : entries) {
      auto& s = maps[e.map];
      s.shapes[e.shape]++;
      s.kinds.insert(e.value_kind);
      s.buckets_by_key[e.key] = e.buckets;
    }
    return maps;
  };
  // The usual shape of a map's keys; "any" (an empty element) matches every kind.
  auto usual_shape = [](const Summary& s) {
    std::vector<std::string> best;
    int best_n = -1;
    for (auto& [shape, n] : s.shapes) {
      int weight = n * 2 + (std::find(shape.begin(), shape.end(), "any") == shape.end());
      if (weight > best_n) best = shape, best_n = weight;
    }
    return best;
  };
  auto a = summarize(ours), b = summarize(peer);
  std::vector<std::string> diffs;
  for (auto& [name, s] : a)
    if (!b.count(name)) diffs.push_back("map " + name + " is printed by bpfkit only");
  for (auto& [name, s] : b)
    if (!a.count(name)) diffs.push_back("map " + name + " is printed by bpftrace only");
  for (auto& [name, sa] : a) {
    if (!b.count(name)) continue;
    const Summary& sb = b.at(name);
    auto ka = usual_shape(sa), kb = usual_shape(sb);
    bool same = ka.size() == kb.size();
    for (size_t i = 0; same && i < ka.size(); ++i) same = ka[i] == kb[i] || ka[i] == "any" || kb[i] == "any";
    if (!same)
      diffs.push_back("map " + name + ": key shape [" + join(ka) + "] (bpfkit) vs [" + join(kb) +
                      "] (bpftrace)");
    if (sa.kinds != sb.kinds) {
      diffs.push_back("map " + name + ": values are " + join({sa.kinds.begin(), sa.kinds.end()}) +
                      " (bpfkit) vs " + join({sb.kinds.begin(), sb.kinds.end()}) + " (bpftrace)");
    }
    if (keys) {
      for (auto& [k, _] : sa.buckets_by_key)
        if (!sb.buckets_by_key.count(k))
          diffs.push_back("map " + name + ": key [" + k + "] only in bpfkit's output");
      for (auto& [k, _] : sb.buckets_by_key)
        if (!sa.buckets_by_key.count(k))
          diffs.push_back("map " + name + ": key [" + k + "] only in bpftrace's output");
    }
    if (buckets) {
      for (auto& [k, ba] : sa.buckets_by_key) {
        auto it = sb.buckets_by_key.find(k);
        if (it == sb.buckets_by_key.end() || it->second == ba) continue;
        diffs.push_back("map " + name + "[" + k + "]: buckets {" + join(ba) + "} (bpfkit) vs {" +
                        join(it->second) + "} (bpftrace)");
      }
    }
  }
  return diffs;
}

}  // namespace bpfkit::trace_e2e
