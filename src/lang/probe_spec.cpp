#include "lang/probe_spec.h"

#include <linux/perf_event.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>

#include "target/linux/tracefs.h"

namespace bpfkit::lang {
namespace {

struct Provider {
  std::string_view name;
  ProbeKind kind;
};

// Every spelling bpftrace accepts, full names first (suggestions come from those).
constexpr Provider kProviders[] = {
    {"BEGIN", ProbeKind::Begin},
    {"END", ProbeKind::End},
    {"tracepoint", ProbeKind::Tracepoint},
    {"rawtracepoint", ProbeKind::RawTracepoint},
    {"kprobe", ProbeKind::Kprobe},
    {"kretprobe", ProbeKind::Kretprobe},
    {"uprobe", ProbeKind::Uprobe},
    {"uretprobe", ProbeKind::Uretprobe},
    {"usdt", ProbeKind::Usdt},
    {"kfunc", ProbeKind::Fentry},
    {"kretfunc", ProbeKind::Fexit},
    {"fentry", ProbeKind::Fentry},
    {"fexit", ProbeKind::Fexit},
    {"profile", ProbeKind::Profile},
    {"interval", ProbeKind::Interval},
    {"software", ProbeKind::Software},
    {"hardware", ProbeKind::Hardware},
    {"watchpoint", ProbeKind::Watchpoint},
    {"t", ProbeKind::Tracepoint},
    {"rt", ProbeKind::RawTracepoint},
    {"k", ProbeKind::Kprobe},
    {"kr", ProbeKind::Kretprobe},
    {"u", ProbeKind::Uprobe},
    {"ur", ProbeKind::Uretprobe},
    {"U", ProbeKind::Usdt},
    {"f", ProbeKind::Fentry},
    {"fr", ProbeKind::Fexit},
    {"p", ProbeKind::Profile},
    {"i", ProbeKind::Interval},
    {"s", ProbeKind::Software},
    {"h", ProbeKind::Hardware},
    {"w", ProbeKind::Watchpoint},
};
constexpr size_t kFullNames = 18;  // kProviders[0, kFullNames) are the long spellings

// One ':'-separated part of the text: its characters without quotes, where it starts.
struct Part {
  std::string text;
  size_t column = 0;
  bool quoted = false;
};

[[noreturn]] void fail(size_t column, const std::string& message) { throw ProbeSpecError(column, message); }

std::vector<Part> split_parts(std::string_view text, size_t start) {
  std::vector<Part> parts;
  Part cur{"", start, false};
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) fail(i, "the quoted name is not closed; add a '\"' after it");
      cur.text.append(text.substr(i + 1, close - i - 1));
      cur.quoted = true;
      i = close;
    } else if (c == ':') {
      parts.push_back(std::move(cur));
      cur = Part{"", i + 1, false};
    } else if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      fail(i, "a probe cannot contain whitespace or control characters; quote a name that has them");
    } else {
      cur.text.push_back(c);
    }
  }
  parts.push_back(std::move(cur));
  return parts;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// bpftrace's integer forms: 99, 1_000, 0x1f, 1e6. nullopt when `s` is none of them or overflows.
std::optional<uint64_t> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    for (char c : s.substr(2)) {
      const int d = is_digit(c)              ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : -1;
      if (d < 0 || v > (kMax >> 4)) return std::nullopt;
      v = (v << 4) | uint64_t(d);
    }
    return v;
  }
  size_t i = 0;
  bool any = false;
  for (; i < s.size() && (is_digit(s[i]) || (s[i] == '_' && any)); ++i) {
    if (s[i] == '_') continue;
    const uint64_t d = uint64_t(s[i] - '0');
    if (v > (kMax - d) / 10) return std::nullopt;
    v = v * 10 + d;
    any = true;
  }
  if (!any || s[i - 1] == '_') return std::nullopt;
  if (i == s.size()) return v;
  if (s[i] != 'e' && s[i] != 'E') return std::nullopt;
  std::string_view exp = s.substr(i + 1);
  if (exp.empty() || exp.size() > 2 || !std::all_of(exp.begin(), exp.end(), is_digit)) return std::nullopt;
  for (int e = std::stoi(std::string(exp)); e > 0; --e) {
    if (v > kMax / 10) return std::nullopt;
    v *= 10;
  }
  return v;
}

uint64_t number_part(const Part& p, const std::string& what, const std::string& example) {
  if (p.text.empty()) fail(p.column, what + " is missing; write a number such as " + example);
  const std::optional<uint64_t> v = parse_number(p.text);
  if (!v) {
    fail(p.column, "'" + p.text + "' is not a valid " + what +
                       "; write a decimal or 0x-prefixed hexadecimal number such as " + example);
  }
  return *v;
}

bool wild(const Part& p) { return !p.quoted && p.text.find('*') != std::string::npos; }

// "func" or "func+OFF": splits the offset off `p`.
void function_with_offset(const Part& p, ProbeSpec& spec, bool offset_allowed) {
  spec.literal = p.quoted;
  const size_t plus = p.quoted ? std::string::npos : p.text.rfind('+');
  spec.function = p.text.substr(0, plus);
  if (plus == std::string::npos) return;
  const size_t col = p.column + plus;
  if (!offset_allowed) {
    fail(col, std::string("a ") + probe_kind_name(spec.kind) +
                  " fires on return and cannot take an offset; remove '+" + p.text.substr(plus + 1) + "'");
  }
  if (spec.function.empty()) fail(p.column, "the function before '+' is missing; write FUNCTION+OFFSET");
  if (wild(p)) fail(col, "an offset cannot follow a wildcard; name one function before '+'");
  spec.offset = number_part(Part{p.text.substr(plus + 1), col + 1, false}, "offset", "0x10");
}

void require_name(const Part& p, const std::string& what, const std::string& example) {
  if (p.text.empty()) fail(p.column, "the " + what + " is missing; write it as in " + example);
}

// The parts after the provider must number within [min, max]; the message shows the form.
void check_arity(std::string_view text, const std::vector<Part>& parts, size_t min, size_t max,
                 const std::string& provider, const std::string& form) {
  if (parts.size() < min) {
    fail(text.size(), provider + " needs " + std::to_string(min) + (min == max ? "" : " or more") + " part" +
                          (min == 1 ? "" : "s") + " after the probe type; write " + form);
  }
  if (parts.size() > max) {
    fail(parts[max].column - 1, "too many ':'-separated parts for " + provider + "; write " + form);
  }
}

}  // namespace

const char* probe_kind_name(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::Begin:
      return "BEGIN";
    case ProbeKind::End:
      return "END";
    case ProbeKind::Tracepoint:
      return "tracepoint";
    case ProbeKind::RawTracepoint:
      return "rawtracepoint";
    case ProbeKind::Kprobe:
      return "kprobe";
    case ProbeKind::Kretprobe:
      return "kretprobe";
    case ProbeKind::Uprobe:
      return "uprobe";
    case ProbeKind::Uretprobe:
      return "uretprobe";
    case ProbeKind::Usdt:
      return "usdt";
    case ProbeKind::Fentry:
      return "kfunc";
    case ProbeKind::Fexit:
      return "kretfunc";
    case ProbeKind::Profile:
      return "profile";
    case ProbeKind::Interval:
      return "interval";
    case ProbeKind::Software:
      return "software";
    case ProbeKind::Hardware:
      return "hardware";
    case ProbeKind::Watchpoint:
      return "watchpoint";
  }
  return "?";
}

const std::vector<PerfEventInfo>& software_events() {
  static const std::vector<PerfEventInfo> events = {
      {"alignment-faults", "", PERF_COUNT_SW_ALIGNMENT_FAULTS, 1},
      {"bpf-output", "", PERF_COUNT_SW_BPF_OUTPUT, 1},
      {"context-switches", "cs", PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
      {"cpu-clock", "cpu", PERF_COUNT_SW_CPU_CLOCK, 1000000},
      {"cpu-migrations", "", PERF_COUNT_SW_CPU_MIGRATIONS, 1},
      {"dummy", "", PERF_COUNT_SW_DUMMY, 1},
      {"emulation-faults", "", PERF_COUNT_SW_EMULATION_FAULTS, 1},
      {"major-faults", "", PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1},
      {"minor-faults", "", PERF_COUNT_SW_PAGE_FAULTS_MIN, 100},
      {"page-faults", "faults", PERF_COUNT_SW_PAGE_FAULTS, 100},
      {"task-clock", "", PERF_COUNT_SW_TASK_CLOCK, 1000000},
  };
  return events;
}

const std::vector<PerfEventInfo>& hardware_events() {
  static const std::vector<PerfEventInfo> events = {
      {"backend-stalls", "", PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000},
      {"branch-instructions", "branches", PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
      {"branch-misses", "", PERF_COUNT_HW_BRANCH_MISSES, 100000},
      {"bus-cycles", "", PERF_COUNT_HW_BUS_CYCLES, 100000},
      {"cache-misses", "", PERF_COUNT_HW_CACHE_MISSES, 1000000},
      {"cache-references", "", PERF_COUNT_HW_CACHE_REFERENCES, 1000000},
      {"cpu-cycles", "cycles", PERF_COUNT_HW_CPU_CYCLES, 1000000},
      {"frontend-stalls", "", PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000},
      {"instructions", "", PERF_COUNT_HW_INSTRUCTIONS, 1000000},
      {"ref-cycles", "", PERF_COUNT_HW_REF_CPU_CYCLES, 1000000},
  };
  return events;
}

std::optional<ProbeKind> probe_kind_from_name(std::string_view provider) {
  for (const Provider& p : kProviders) {
    if (p.name == provider) return p.kind;
  }
  return std::nullopt;
}

const PerfEventInfo* find_perf_event(ProbeKind kind, std::string_view name) {
  const auto& table = kind == ProbeKind::Software ? software_events() : hardware_events();
  if (kind != ProbeKind::Software && kind != ProbeKind::Hardware) return nullptr;
  for (const PerfEventInfo& e : table) {
    if (name == e.name || (*e.alias && name == e.alias)) return &e;
  }
  return nullptr;
}

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Greedy match with backtracking to the last '*': linear for the patterns people write.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ProbeSpec::has_wildcard() const {
  auto w = [](const std::string& s) { return s.find('*') != std::string::npos; };
  switch (kind) {
    case ProbeKind::Tracepoint:
    case ProbeKind::RawTracepoint:
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe:
    case ProbeKind::Fentry:
    case ProbeKind::Fexit:
      return w(target) || (!literal && w(function));
    case ProbeKind::Uprobe:
    case ProbeKind::Uretprobe:
    case ProbeKind::Software:
    case ProbeKind::Hardware:
      return !literal && w(function);
    case ProbeKind::Usdt:
      return w(function) || w(usdt_provider);
    default:
      return false;
  }
}

std::string ProbeSpec::canonical() const {
  const std::string kind_name = probe_kind_name(kind);
  auto with_module = [&](const std::string& name) { return target.empty() ? name : target + ":" + name; };
  // "+0" only where the function itself has a '+' and the text would otherwise read differently.
  const bool show_offset = offset != 0 || function.find('+') != std::string::npos;
  const std::string off = show_offset ? "+" + std::to_string(offset) : "";
  switch (kind) {
    case ProbeKind::Begin:
    case ProbeKind::End:
      return kind_name;
    case ProbeKind::Tracepoint:
      return kind_name + ":" + target + ":" + function;
    case ProbeKind::RawTracepoint:
    case ProbeKind::Fentry:
    case ProbeKind::Fexit:
      return kind_name + ":" + with_module(function);
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe:
      return kind_name + ":" + with_module(function) + off;
    case ProbeKind::Uprobe:
    case ProbeKind::Uretprobe:
      return kind_name + ":" + target + ":" + (function.empty() ? std::to_string(offset) : function + off);
    case ProbeKind::Usdt:
      return kind_name + ":" + target + ":" + (usdt_provider.empty() ? "" : usdt_provider + ":") + function;
    case ProbeKind::Profile:
    case ProbeKind::Interval:
      return kind_name + ":" + unit + ":" + std::to_string(period);
    case ProbeKind::Software:
    case ProbeKind::Hardware:
      return kind_name + ":" + function + ":" + std::to_string(period);
    case ProbeKind::Watchpoint:
      return kind_name + ":" + std::to_string(offset) + ":" + std::to_string(length) + ":" + mode;
  }
  return kind_name;
}

ProbeSpec parse_probe_spec(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size() && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  size_t end = text.size();
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  text = text.substr(0, end);
  if (begin == text.size())
    fail(0, "the probe is empty; write one such as tracepoint:syscalls:sys_enter_openat");

  const size_t colon = text.find(':', begin);
  const std::string_view provider =
      text.substr(begin, colon == std::string_view::npos ? colon : colon - begin);
  ProbeSpec spec;
  const Provider* found = nullptr;
  for (const Provider& p : kProviders) {
    if (p.name == provider) found = &p;
  }
  if (!found) {
    if (provider.empty())
      fail(begin, "the probe type is missing before ':'; write one such as tracepoint or kfunc");
    if (provider.find('*') != std::string_view::npos) {
      fail(begin, "the probe type '" + std::string(provider) +
                      "' cannot contain a wildcard; name one such as tracepoint");
    }
    // Case-insensitive distance to the long names, so "Tracepoint" and "tracepiont" both land.
    std::string lower(provider);
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    std::string_view best;
    size_t best_distance = SIZE_MAX;
    for (size_t i = 0; i < kFullNames; ++i) {
      std::string name(kProviders[i].name);
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      const size_t d = target::linux_kernel::edit_distance(lower, name);
      if (d < best_distance) {
        best_distance = d;
        best = kProviders[i].name;
      }
    }
    std::string message = "unknown probe type '" + std::string(provider) + "'";
    if (best_distance <= std::max<size_t>(2, provider.size() / 3)) {
      message += "; did you mean '" + std::string(best) + "'?";
    } else {
      message +=
          "; use one of BEGIN, END, tracepoint, rawtracepoint, kprobe, kretprobe, uprobe, uretprobe, usdt, "
          "kfunc, kretfunc, profile, interval, software, hardware or watchpoint";
    }
    fail(begin, message);
  }
  spec.kind = found->kind;
  const std::string kind_name =
      provider == "fentry" || provider == "fexit" ? std::string(provider) : probe_kind_name(spec.kind);
  std::vector<Part> parts;
  if (colon != std::string_view::npos) parts = split_parts(text, colon + 1);

  switch (spec.kind) {
    case ProbeKind::Begin:
    case ProbeKind::End:
      if (!parts.empty()) fail(colon, kind_name + " takes no arguments; write '" + kind_name + "' alone");
      break;

    case ProbeKind::Tracepoint: {
      const std::string form = "tracepoint:CATEGORY:EVENT, e.g. tracepoint:syscalls:sys_enter_openat";
      check_arity(text, parts, 2, 2, "tracepoint", form);
      require_name(parts[0], "tracepoint category", form);
      require_name(parts[1], "tracepoint event name", form);
      spec.target = parts[0].text;
      spec.function = parts[1].text;
      break;
    }

    case ProbeKind::RawTracepoint: {
      const std::string form = "rawtracepoint:EVENT, e.g. rawtracepoint:sched_switch";
      check_arity(text, parts, 1, 2, "rawtracepoint", form);
      for (const Part& p : parts) require_name(p, "raw tracepoint name", form);
      if (parts.size() == 2) spec.target = parts[0].text;
      spec.function = parts.back().text;
      break;
    }

    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe: {
      const std::string form = kind_name + ":FUNCTION, e.g. " + kind_name + ":vfs_read";
      check_arity(text, parts, 1, 2, kind_name, form);
      if (parts.size() == 2) {
        require_name(parts[0], "kernel module", form);
        spec.target = parts[0].text;
      }
      require_name(parts.back(), "kernel function", form);
      function_with_offset(parts.back(), spec, spec.kind == ProbeKind::Kprobe);
      break;
    }

    case ProbeKind::Uprobe:
    case ProbeKind::Uretprobe: {
      const std::string form = kind_name + ":BINARY:FUNCTION, e.g. " + kind_name + ":/bin/bash:readline";
      check_arity(text, parts, 2, SIZE_MAX, kind_name, form);
      require_name(parts[0], "binary", form);
      if (wild(parts[0])) fail(parts[0].column, "the binary cannot contain a wildcard; name one file");
      spec.target = parts[0].text;
      // C++ names keep their "::": everything after the binary is the function.
      Part fn = parts[1];
      for (size_t i = 2; i < parts.size(); ++i) {
        fn.text += ":" + parts[i].text;
        fn.quoted = fn.quoted || parts[i].quoted;
      }
      require_name(fn, "function or address", form);
      if (!fn.quoted && is_digit(fn.text[0])) {
        spec.offset = number_part(fn, "address", "0x1234");
      } else {
        function_with_offset(fn, spec, spec.kind == ProbeKind::Uprobe);
      }
      break;
    }

    case ProbeKind::Usdt: {
      const std::string form =
          "usdt:BINARY:[PROVIDER:]PROBE, e.g. usdt:/usr/bin/python3:python:function__entry";
      check_arity(text, parts, 2, 3, "usdt", form);
      for (const Part& p : parts) require_name(p, "usdt binary, provider or probe name", form);
      if (wild(parts[0])) fail(parts[0].column, "the binary cannot contain a wildcard; name one file");
      spec.target = parts[0].text;
      if (parts.size() == 3) spec.usdt_provider = parts[1].text;
      spec.function = parts.back().text;
      break;
    }

    case ProbeKind::Fentry:
    case ProbeKind::Fexit: {
      const std::string form =
          kind_name + ":FUNCTION or " + kind_name + ":MODULE:FUNCTION, e.g. " + kind_name + ":vfs_read";
      check_arity(text, parts, 1, 2, kind_name, form);
      for (const Part& p : parts) require_name(p, "kernel module or function", form);
      if (parts.size() == 2) spec.target = parts[0].text;
      spec.function = parts.back().text;
      break;
    }

    case ProbeKind::Profile:
    case ProbeKind::Interval: {
      const std::string form = kind_name + ":UNIT:COUNT with UNIT one of hz, s, ms, us, e.g. " + kind_name +
                               (spec.kind == ProbeKind::Profile ? ":hz:99" : ":s:1");
      check_arity(text, parts, 2, 2, kind_name, form);
      const Part& unit = parts[0];
      if (unit.text != "hz" && unit.text != "s" && unit.text != "ms" && unit.text != "us") {
        fail(unit.column, (unit.text.empty() ? std::string("the unit is missing")
                                             : "'" + unit.text + "' is not a unit of " + kind_name) +
                              "; use hz, s, ms or us, as in " + form.substr(form.rfind("e.g. ") + 5));
      }
      spec.unit = unit.text;
      spec.period = number_part(parts[1], unit.text == "hz" ? "frequency" : "period", "99");
      if (spec.period == 0) fail(parts[1].column, "the " + kind_name + " count must be at least 1");
      break;
    }

    case ProbeKind::Software:
    case ProbeKind::Hardware: {
      const std::string example =
          spec.kind == ProbeKind::Software ? "software:faults:100" : "hardware:cache-misses:1000000";
      const std::string form = kind_name + ":EVENT[:COUNT], e.g. " + example;
      check_arity(text, parts, 1, 2, kind_name, form);
      require_name(parts[0], kind_name + " event", form);
      spec.function = parts[0].text;
      const PerfEventInfo* event = find_perf_event(spec.kind, spec.function);
      if (!event && !wild(parts[0])) {
        const auto& table = spec.kind == ProbeKind::Software ? software_events() : hardware_events();
        std::string best;
        size_t best_distance = SIZE_MAX;
        std::string all;
        for (const PerfEventInfo& e : table) {
          const size_t d = target::linux_kernel::edit_distance(spec.function, e.name);
          if (d < best_distance) best_distance = d, best = e.name;
          all += (all.empty() ? "" : ", ") + std::string(e.name);
        }
        fail(parts[0].column,
             "'" + spec.function + "' is not a " + kind_name + " event; " +
                 (best_distance <= 3 ? "did you mean '" + best + "'?" : "use one of " + all));
      }
      if (parts.size() == 2) {
        spec.period = number_part(parts[1], "count", "100");
        if (spec.period == 0) fail(parts[1].column, "the " + kind_name + " count must be at least 1");
      } else if (event) {
        spec.period = event->default_period;
      }
      break;
    }

    case ProbeKind::Watchpoint: {
      const std::string form = "watchpoint:ADDRESS:LENGTH:MODE, e.g. watchpoint:0x10000000:8:rw";
      check_arity(text, parts, 3, 3, "watchpoint", form);
      spec.offset = number_part(parts[0], "address", "0x10000000");
      spec.length = number_part(parts[1], "length", "8");
      if (spec.length != 1 && spec.length != 2 && spec.length != 4 && spec.length != 8) {
        fail(parts[1].column, "a watchpoint covers 1, 2, 4 or 8 bytes, not " + parts[1].text);
      }
      const std::string& mode = parts[2].text;
      bool ok = !mode.empty() && mode.size() <= 3;
      for (size_t i = 0; ok && i < mode.size(); ++i) {
        ok = std::string_view("rwx").find(mode[i]) != std::string_view::npos &&
             mode.find(mode[i]) == i;  // no letter twice
      }
      if (!ok)
        fail(parts[2].column,
             "the watchpoint mode '" + mode + "' is not valid; use r, w, x or a mix such as rw");
      spec.mode = mode;
      break;
    }
  }
  return spec;
}

}  // namespace bpfkit::lang
