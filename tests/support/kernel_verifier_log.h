// Parses the register states out of a Linux verifier log (BPF_LOG_LEVEL2), for
// tests comparing bpfkit's abstract values with the kernel's.
//
// The kernel prints, after each instruction, the registers it touched: either on
// the instruction's line ("3: (07) r1 += 3   ; R1=scalar(...)") or, when other
// output came between, on a line of its own ("4: R1=..."; the number is then the
// next instruction's, the state still the last instruction's). Popping a branch
// prints "from 5 to 9: R0=... R1=..." with every register.
#pragma once

#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace bpfkit::testsupport {

struct LoggedState {
  bool from_branch = false;  // a "from X to Y:" line
  int insn = -1;             // the instruction the state follows (X for a branch)
  int target = -1;           // Y for a branch
  std::map<int, std::string> regs;  // register -> value, id and precision marks removed
};

// Removes what bpfkit's scalar printing leaves out: the precision mark "P" and
// "id=N" / "id=N+off" entries.
inline std::string normalize_logged_value(std::string v) {
  if (!v.empty() && v[0] == 'P') v.erase(0, 1);
  static const std::regex id_re("id=\\d+([+-]\\d+)?,?");
  v = std::regex_replace(v, id_re, "");
  if (v.size() >= 2 && v[v.size() - 2] == ',' && v.back() == ')') v.erase(v.size() - 2, 1);
  return v;
}

// "R1=scalar(a,var_off=(0x0; 0xff)) R2=5" -> {1: ..., 2: "5"}; values may hold
// spaces inside parentheses.
inline std::map<int, std::string> parse_logged_regs(const std::string& text) {
  std::map<int, std::string> regs;
  size_t i = 0;
  while ((i = text.find('R', i)) != std::string::npos) {
    if (i > 0 && text[i - 1] != ' ') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i + 1 || j >= text.size() || text[j] != '=') {
      i = j;
      continue;
    }
    const int reg = std::atoi(text.substr(i + 1, j - i - 1).c_str());
    size_t k = j + 1;
    int depth = 0;
    while (k < text.size() && !(depth == 0 && text[k] == ' ')) {
      if (text[k] == '(') ++depth;
      if (text[k] == ')') --depth;
      ++k;
    }
    regs[reg] = normalize_logged_value(text.substr(j + 1, k - j - 1));
    i = k;
  }
  return regs;
}

inline std::vector<LoggedState> parse_verifier_log(const std::string& log) {
  static const std::regex insn_re("^(\\d+): \\([0-9a-f]{2}\\) (.*)$");
  static const std::regex state_re("^(\\d+): (R\\d+=.*)$");
  static const std::regex from_re("^from (\\d+) to (\\d+)[^:]*: (.*)$");
  std::vector<LoggedState> out;
  int last_insn = -1;
  std::istringstream in(log);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, from_re)) {
      LoggedState s;
      s.from_branch = true;
      s.insn = std::stoi(m[1]);
      s.target = std::stoi(m[2]);
      s.regs = parse_logged_regs(" " + m[3].str());
      out.push_back(std::move(s));
      last_insn = -1;
    } else if (std::regex_match(line, m, insn_re)) {
      last_insn = std::stoi(m[1]);
      const std::string rest = m[2];
      const size_t semi = rest.find("; R");
      if (semi != std::string::npos) {
        LoggedState s;
        s.insn = last_insn;
        s.regs = parse_logged_regs(rest.substr(semi + 1));
        out.push_back(std::move(s));
      }
    } else if (std::regex_match(line, m, state_re)) {
      if (last_insn < 0) continue;  // the initial state
      LoggedState s;
      s.insn = last_insn;
      s.regs = parse_logged_regs(" " + m[2].str());
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace bpfkit::testsupport
