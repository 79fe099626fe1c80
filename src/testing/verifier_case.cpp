// The corpus format of the verifier's tests (see verifier_case.h): a line-based
// header per case, then assembler text.
#include "testing/verifier_case.h"

#include <linux/bpf.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <type_traits>

#include "core/program_type.h"
#include "helpers/runtime_helpers.h"
#include "isa/assembler.h"
#include "maps/map.h"

namespace bpfkit::testgen {
namespace {

std::string_view trim(std::string_view s) {
  const auto blank = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// Header lines: `#` after a blank (or at the start) begins a comment.
std::string_view strip_comment(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) return trim(s.substr(0, i));
  }
  return trim(s);
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

// A decimal, 0x-hex or negative number that fits in T.
template <typename T>
std::optional<T> parse_number(std::string_view s) {
  bool neg = false;
  if (!s.empty() && s.front() == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  if (neg) {
    if (!std::is_signed_v<T> || v > uint64_t(std::numeric_limits<T>::max()) + 1) return std::nullopt;
    return T(-int64_t(v));
  }
  if (v > uint64_t(std::numeric_limits<T>::max())) return std::nullopt;
  return T(v);
}

struct MapFlagName {
  std::string_view name;
  uint32_t flag;
};
constexpr MapFlagName kMapFlags[] = {
    {"no_prealloc", BPF_F_NO_PREALLOC}, {"rdonly", BPF_F_RDONLY},
    {"wronly", BPF_F_WRONLY},           {"rdonly_prog", BPF_F_RDONLY_PROG},
    {"wronly_prog", BPF_F_WRONLY_PROG}, {"mmapable", BPF_F_MMAPABLE},
    {"zero_seed", BPF_F_ZERO_SEED},     {"no_common_lru", BPF_F_NO_COMMON_LRU}};

struct AttachName {
  std::string_view name;
  uint32_t type;
};
// libbpf's names for the attach types a corpus case may need.
constexpr AttachName kAttachTypes[] = {
    {"cgroup_inet_ingress", BPF_CGROUP_INET_INGRESS},
    {"cgroup_inet_egress", BPF_CGROUP_INET_EGRESS},
    {"cgroup_inet_sock_create", BPF_CGROUP_INET_SOCK_CREATE},
    {"cgroup_sock_ops", BPF_CGROUP_SOCK_OPS},
    {"sk_skb_stream_parser", BPF_SK_SKB_STREAM_PARSER},
    {"sk_skb_stream_verdict", BPF_SK_SKB_STREAM_VERDICT},
    {"cgroup_device", BPF_CGROUP_DEVICE},
    {"sk_msg_verdict", BPF_SK_MSG_VERDICT},
    {"cgroup_inet4_bind", BPF_CGROUP_INET4_BIND},
    {"cgroup_inet6_bind", BPF_CGROUP_INET6_BIND},
    {"cgroup_inet4_connect", BPF_CGROUP_INET4_CONNECT},
    {"cgroup_inet6_connect", BPF_CGROUP_INET6_CONNECT},
    {"flow_dissector", BPF_FLOW_DISSECTOR},
    {"cgroup_sysctl", BPF_CGROUP_SYSCTL},
    {"cgroup_getsockopt", BPF_CGROUP_GETSOCKOPT},
    {"cgroup_setsockopt", BPF_CGROUP_SETSOCKOPT},
    {"trace_raw_tp", BPF_TRACE_RAW_TP},
    {"trace_fentry", BPF_TRACE_FENTRY},
    {"trace_fexit", BPF_TRACE_FEXIT},
    {"modify_return", BPF_MODIFY_RETURN},
    {"lsm_mac", BPF_LSM_MAC},
    {"trace_iter", BPF_TRACE_ITER},
    {"xdp_devmap", BPF_XDP_DEVMAP},
    {"xdp_cpumap", BPF_XDP_CPUMAP},
    {"sk_lookup", BPF_SK_LOOKUP},
    {"xdp", BPF_XDP},
    {"perf_event", BPF_PERF_EVENT},
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : text_(text), file_(file) {}

  std::vector<VerifierCase> run() {
    size_t pos = 0;
    int line_no = 0;
    while (pos <= text_.size()) {
      size_t eol = text_.find('\n', pos);
      if (eol == std::string_view::npos) eol = text_.size();
      line(text_.substr(pos, eol - pos), ++line_no);
      pos = eol + 1;
    }
    finish_case(line_no);
    return std::move(cases_);
  }

 private:
  enum class State { Outside, Header, Body };

  [[noreturn]] void fail(int line, const std::string& what) const {
    throw VerifierCaseError(file_, line, what);
  }

  void line(std::string_view raw, int line_no) {
    if (raw.starts_with("===")) {
      finish_case(line_no);
      start_case(trim(raw.substr(3)), line_no);
      return;
    }
    switch (state_) {
      case State::Outside: {
        std::string_view s = strip_comment(raw);
        if (!s.empty()) fail(line_no, "expected a case header '=== NAME' before '" + std::string(s) + "'");
        return;
      }
      case State::Header:
        header_line(raw, line_no);
        return;
      case State::Body:
        body_.push_back({std::string(raw), line_no});
        return;
    }
  }

  void start_case(std::string_view name, int line_no) {
    if (name.empty()) fail(line_no, "a case needs a name after '==='");
    for (const VerifierCase& c : cases_) {
      if (c.name == name) {
        fail(line_no,
             "case '" + std::string(name) + "' is already defined on line " + std::to_string(c.line));
      }
    }
    cur_ = VerifierCase{};
    cur_.file = std::string(file_);
    cur_.line = line_no;
    cur_.name = std::string(name);
    seen_.clear();
    have_expect_ = have_type_ = false;
    body_.clear();
    state_ = State::Header;
  }

  void once(std::string_view key, int line_no) {
    auto [it, fresh] = seen_.try_emplace(std::string(key), line_no);
    if (!fresh)
      fail(line_no, "'" + std::string(key) + ":' is already given on line " + std::to_string(it->second));
  }

  void header_line(std::string_view raw, int line_no) {
    std::string_view s = strip_comment(raw);
    if (s.empty()) return;
    if (s == "---") {
      if (!have_type_) fail(line_no, "case '" + cur_.name + "' has no 'type:' line");
      if (!have_expect_) fail(line_no, "case '" + cur_.name + "' has no 'expect:' line");
      state_ = State::Body;
      body_line_ = line_no + 1;
      return;
    }
    const size_t colon = s.find(':');
    if (colon == std::string_view::npos) {
      fail(line_no, "expected 'key: value' or '---' before the program, found '" + std::string(s) + "'");
    }
    const std::string_view key = trim(s.substr(0, colon));
    const std::string_view value = trim(s.substr(colon + 1));
    if (key == "type") {
      once(key, line_no);
      const core::ProgramTypeInfo* info = core::find_program_type(value);
      if (!info) fail(line_no, "unknown program type '" + std::string(value) + "'");
      cur_.prog_type = info->type;
      have_type_ = true;
    } else if (key == "attach") {
      once(key, line_no);
      auto t = attach_type_from_name(value);
      if (!t) fail(line_no, "unknown attach type '" + std::string(value) + "'");
      cur_.expected_attach_type = *t;
    } else if (key == "map") {
      cur_.maps.push_back(parse_map(value, line_no));
    } else if (key == "privileged") {
      once(key, line_no);
      cur_.privileged = parse_yes_no(value, line_no);
    } else if (key == "expect") {
      once(key, line_no);
      parse_expect(value, line_no);
      have_expect_ = true;
    } else if (key == "kernel-log") {
      once(key, line_no);
      if (value.empty()) fail(line_no, "'kernel-log:' needs the text the kernel's log must contain");
      cur_.kernel_log = std::string(value);
    } else if (key == "kernel") {
      once(key, line_no);
      parse_kernel(value, line_no);
    } else {
      fail(line_no, "unknown key '" + std::string(key) +
                        "' (known: type, attach, map, privileged, expect, kernel-log, kernel)");
    }
  }

  bool parse_yes_no(std::string_view v, int line_no) const {
    if (v == "yes" || v == "true") return true;
    if (v == "no" || v == "false") return false;
    fail(line_no, "expected yes or no, found '" + std::string(v) + "'");
  }

  void parse_expect(std::string_view v, int line_no) {
    const auto words = split_words(v);
    if (words.size() == 1 && words[0] == "accept") {
      cur_.expect_accept = true;
      return;
    }
    if (words.size() == 2 && words[0] == "reject") {
      const verifier::RejectKind kind = verifier::reject_kind_from_name(words[1]);
      if (kind == verifier::RejectKind::None) {
        fail(line_no, "unknown rejection kind '" + std::string(words[1]) + "' (see reject_kind.cpp)");
      }
      cur_.expect_accept = false;
      cur_.expect_kind = kind;
      return;
    }
    fail(line_no, "expected 'accept' or 'reject KIND', found '" + std::string(v) + "'");
  }

  // kernel: accept -- the kernel's precision ends here, the program is safe because ...
  void parse_kernel(std::string_view v, int line_no) {
    const size_t dash = v.find("--");
    if (dash == std::string_view::npos || trim(v.substr(dash + 2)).empty()) {
      fail(line_no, "'kernel:' needs a justification: 'kernel: accept -- why' or 'kernel: reject -- why'");
    }
    const std::string_view verdict = trim(v.substr(0, dash));
    if (verdict == "accept") {
      cur_.kernel_accepts = true;
    } else if (verdict == "reject") {
      cur_.kernel_accepts = false;
    } else {
      fail(line_no, "expected 'accept' or 'reject' before '--', found '" + std::string(verdict) + "'");
    }
    cur_.justification = std::string(trim(v.substr(dash + 2)));
  }

  uint32_t map_type(std::string_view name, int line_no) const {
    auto t = map_type_from_name(name);
    if (!t) fail(line_no, "unknown map type '" + std::string(name) + "'");
    return *t;
  }

  uint32_t number(std::string_view v, std::string_view what, int line_no) const {
    auto n = parse_number<uint32_t>(v);
    if (!n) fail(line_no, "bad " + std::string(what) + " '" + std::string(v) + "'");
    return *n;
  }

  // map: TYPE key=N value=N entries=N [flags=a|b] [inner=TYPE:K:V:N] [name=S] [frozen] [init=HEX]
  verifier::MapInfo parse_map(std::string_view v, int line_no) const {
    const auto words = split_words(v);
    if (words.empty()) fail(line_no, "'map:' needs a map type");
    verifier::MapInfo m;
    m.type = map_type(words[0], line_no);
    bool have_init = false;
    for (size_t i = 1; i < words.size(); ++i) {
      const std::string_view w = words[i];
      if (w == "frozen") {
        m.frozen = true;
        continue;
      }
      const size_t eq = w.find('=');
      if (eq == std::string_view::npos)
        fail(line_no, "expected key=value in the map, found '" + std::string(w) + "'");
      const std::string_view k = w.substr(0, eq), val = w.substr(eq + 1);
      if (k == "key") {
        m.key_size = number(val, "key size", line_no);
      } else if (k == "value") {
        m.value_size = number(val, "value size", line_no);
      } else if (k == "entries") {
        m.max_entries = number(val, "max_entries", line_no);
      } else if (k == "name") {
        m.name = std::string(val);
      } else if (k == "flags") {
        m.flags = parse_flags(val, line_no);
      } else if (k == "inner") {
        m.inner = parse_inner(val, line_no);
      } else if (k == "init") {
        m.initial_value = parse_hex(val, line_no);
        have_init = true;
      } else {
        fail(line_no, "unknown map attribute '" + std::string(k) +
                          "' (known: key, value, entries, flags, inner, name, init, frozen)");
      }
    }
    const bool in_out = m.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || m.type == BPF_MAP_TYPE_HASH_OF_MAPS;
    if (in_out && !m.inner) fail(line_no, "a map of maps needs inner=TYPE:KEY:VALUE:ENTRIES");
    if (!in_out && m.inner) fail(line_no, "inner= is only for array_of_maps and hash_of_maps");
    if (have_init) {
      if (m.type != BPF_MAP_TYPE_ARRAY) fail(line_no, "init= is only for array maps (element 0)");
      if (m.initial_value.size() > m.value_size) {
        fail(line_no, "init= holds " + std::to_string(m.initial_value.size()) +
                          " bytes, more than value=" + std::to_string(m.value_size));
      }
    }
    if (m.frozen) m.initial_value.resize(m.value_size, 0);
    return m;
  }

  uint32_t parse_flags(std::string_view v, int line_no) const {
    uint32_t flags = 0;
    while (!v.empty()) {
      const size_t bar = v.find('|');
      const std::string_view f = v.substr(0, bar);
      bool known = false;
      for (const auto& k : kMapFlags) {
        if (k.name == f) {
          flags |= k.flag;
          known = true;
        }
      }
      if (!known) {
        auto n = parse_number<uint32_t>(f);
        if (!n) fail(line_no, "unknown map flag '" + std::string(f) + "'");
        flags |= *n;
      }
      if (bar == std::string_view::npos) break;
      v.remove_prefix(bar + 1);
    }
    return flags;
  }

  std::shared_ptr<const verifier::MapInfo> parse_inner(std::string_view v, int line_no) const {
    std::vector<std::string_view> parts;
    while (true) {
      const size_t c = v.find(':');
      parts.push_back(v.substr(0, c));
      if (c == std::string_view::npos) break;
      v.remove_prefix(c + 1);
    }
    if (parts.size() != 4) fail(line_no, "inner= takes TYPE:KEY:VALUE:ENTRIES, e.g. inner=array:4:8:1");
    auto inner = std::make_shared<verifier::MapInfo>();
    inner->type = map_type(parts[0], line_no);
    inner->key_size = number(parts[1], "inner key size", line_no);
    inner->value_size = number(parts[2], "inner value size", line_no);
    inner->max_entries = number(parts[3], "inner max_entries", line_no);
    return inner;
  }

  std::vector<uint8_t> parse_hex(std::string_view v, int line_no) const {
    if (v.starts_with("0x")) v.remove_prefix(2);
    if (v.size() % 2) fail(line_no, "init= needs whole bytes (an even number of hex digits)");
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < v.size(); i += 2) {
      auto b = parse_number<uint8_t>(std::string("0x") + std::string(v.substr(i, 2)));
      if (!b) fail(line_no, "init= holds a non-hex digit in '" + std::string(v.substr(i, 2)) + "'");
      bytes.push_back(*b);
    }
    return bytes;
  }

  // `.raw OPCODE dst=N src=N off=N imm=N`: a slot the assembler would refuse.
  isa::RawInsn parse_raw(std::string_view s, int line_no) const {
    const auto words = split_words(s);
    if (words.size() < 2) fail(line_no, ".raw needs an opcode: .raw 0x8d dst=0 src=0 off=0 imm=0");
    isa::RawInsn r;
    auto op = parse_number<uint8_t>(words[1]);
    if (!op) fail(line_no, "bad .raw opcode '" + std::string(words[1]) + "'");
    r.opcode = *op;
    for (size_t i = 2; i < words.size(); ++i) {
      const std::string_view w = words[i];
      if (w.starts_with("#")) break;
      const size_t eq = w.find('=');
      const std::string_view k = w.substr(0, eq);
      const std::string_view val = eq == std::string_view::npos ? std::string_view() : w.substr(eq + 1);
      if (k == "dst" || k == "src") {
        auto n = parse_number<uint8_t>(val);
        if (!n || *n > 15) fail(line_no, ".raw " + std::string(k) + " must be 0-15");
        if (k == "dst") {  // bit-fields: no conditional lvalue (clang refuses one)
          r.dst = *n & 0xf;
        } else {
          r.src = *n & 0xf;
        }
      } else if (k == "off") {
        auto n = parse_number<int16_t>(val);
        if (!n) fail(line_no, ".raw off must fit in 16 signed bits");
        r.off = *n;
      } else if (k == "imm") {
        auto n = parse_number<int32_t>(val);
        if (!n) {
          auto u = parse_number<uint32_t>(val);
          if (!u) fail(line_no, ".raw imm must fit in 32 bits");
          n = int32_t(*u);
        }
        r.imm = *n;
      } else {
        fail(line_no, "unknown .raw field '" + std::string(w) + "' (known: dst=, src=, off=, imm=)");
      }
    }
    return r;
  }

  void finish_case(int line_no) {
    if (state_ == State::Outside) return;
    if (state_ == State::Header) {
      fail(line_no, "case '" + cur_.name + "' (line " + std::to_string(cur_.line) +
                        ") has no '---' line before its program");
    }
    // Raw lines become one-slot placeholders, replaced once the text is laid out.
    std::string text;
    std::map<int, isa::RawInsn> raw_at;  // body-relative line -> slot
    for (size_t i = 0; i < body_.size(); ++i) {
      const int rel = int(i) + 1;
      const std::string_view t = trim(body_[i].text);
      if (t.starts_with(".raw")) {
        // (A label goes on a line of its own before a .raw line.)
        raw_at[rel] = parse_raw(t, body_[i].line);
        text += "r0 = 0";
      } else {
        text += body_[i].text;
      }
      text += '\n';
    }
    isa::AsmResult r;
    try {
      r = isa::assemble_program(text);
    } catch (const isa::AsmError& e) {
      const int line =
          e.line() >= 1 && size_t(e.line()) <= body_.size() ? body_[e.line() - 1].line : body_line_;
      fail(line, "column " + std::to_string(e.column()) + ": " + e.reason());
    }
    cur_.insns = std::move(r.insns);
    cur_.insn_lines.resize(cur_.insns.size());
    for (size_t slot = 0; slot < cur_.insns.size(); ++slot) {
      const int rel = r.slot_lines[slot];
      cur_.insn_lines[slot] = body_[rel - 1].line;
      if (auto it = raw_at.find(rel); it != raw_at.end()) cur_.insns[slot] = it->second;
    }
    if (cur_.kernel_accepts && *cur_.kernel_accepts == cur_.expect_accept) {
      fail(cur_.line, "case '" + cur_.name +
                          "': 'kernel:' repeats the expected verdict; give it only where "
                          "the kernel disagrees");
    }
    cases_.push_back(std::move(cur_));
    state_ = State::Outside;
  }

  struct BodyLine {
    std::string text;
    int line = 0;
  };

  std::string_view text_, file_;
  State state_ = State::Outside;
  VerifierCase cur_;
  std::map<std::string, int> seen_;
  bool have_type_ = false, have_expect_ = false;
  std::vector<BodyLine> body_;
  int body_line_ = 0;
  std::vector<VerifierCase> cases_;
};

}  // namespace

std::string VerifierCase::where() const { return file + ":" + std::to_string(line) + " (" + name + ")"; }

std::optional<uint32_t> attach_type_from_name(std::string_view name) {
  for (const auto& a : kAttachTypes) {
    if (a.name == name) return a.type;
  }
  return parse_number<uint32_t>(name);
}

std::optional<uint32_t> map_type_from_name(std::string_view name) {
  for (uint32_t t = 1; t < 64; ++t) {
    if (maps::map_type_name(t) == name) return t;
  }
  auto n = parse_number<uint32_t>(name);
  if (n && *n > 0) return n;
  return std::nullopt;
}

std::vector<VerifierCase> parse_verifier_cases(std::string_view text, std::string_view file) {
  return Parser(text, file).run();
}

std::vector<std::string> verifier_corpus_files(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) throw Error(dir + ": cannot read the corpus directory: " + ec.message());
  std::vector<std::string> files;
  for (const auto& entry : it) {
    if (entry.is_regular_file() && entry.path().extension() == ".vcase")
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<VerifierCase> load_verifier_case_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the corpus file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_verifier_cases(ss.str(), path);
}

std::vector<VerifierCase> load_verifier_corpus(const std::string& dir) {
  std::vector<VerifierCase> all;
  for (const std::string& f : verifier_corpus_files(dir)) {
    auto cases = load_verifier_case_file(f);
    for (auto& c : cases) all.push_back(std::move(c));
  }
  return all;
}

verifier::VerifyInput VerifierCase::verify_input() const {
  verifier::VerifyInput in;
  in.insns = insns;
  in.prog_type = prog_type;
  in.expected_attach_type = expected_attach_type;
  in.maps = maps;
  in.privileged = privileged;
  in.program_name = name;
  in.helpers = &helpers::runtime_helpers();
  return in;
}

}  // namespace bpfkit::testgen
