#include "target/linux/trace_pipe_line.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace bpfkit::target::linux_kernel {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// A decimal of 1..max_digits digits, the whole of `s`.
template <typename T>
bool parse_decimal(std::string_view s, size_t max_digits, T& out) {
  if (s.empty() || s.size() > max_digits) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// "comm-pid" or "comm-pid   (  tgid)" before the CPU column (leading spaces already
// gone). Scans back from the end over digits only, so that trying many candidate
// columns in one long line stays linear; `comm` is what is left in front.
bool parse_task(std::string_view prefix, TraceLine& out, std::string_view& comm) {
  size_t end = prefix.size();
  while (end > 0 && prefix[end - 1] == ' ') --end;
  out.tgid.reset();
  if (end > 0 && prefix[end - 1] == ')') {
    size_t open = end - 1;
    while (open > 0 && (prefix[open - 1] == ' ' || prefix[open - 1] == '-' || is_digit(prefix[open - 1])))
      --open;
    if (open == 0 || prefix[open - 1] != '(') return false;
    const std::string_view inner = trim_spaces(prefix.substr(open, end - 1 - open));
    if (!inner.empty() && inner.find_first_not_of('-') == std::string_view::npos) {
      // "(-------)": the kernel did not record the process of this task.
    } else {
      int32_t tgid = 0;
      if (!parse_decimal(inner, 10, tgid)) return false;
      out.tgid = tgid;
    }
    end = open - 1;
    while (end > 0 && prefix[end - 1] == ' ') --end;
  }
  size_t digits = end;
  while (digits > 0 && is_digit(prefix[digits - 1])) --digits;
  if (digits == 0 || prefix[digits - 1] != '-') return false;
  if (!parse_decimal(prefix.substr(digits, end - digits), 10, out.pid)) return false;
  comm = prefix.substr(0, digits - 1);
  return true;
}

// "sec[.frac]:" at the start of `s`: the nanoseconds, and `s` advanced past the colon.
bool parse_timestamp(std::string_view& s, uint64_t& ns) {
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  uint64_t seconds = 0;
  if (!parse_decimal(s.substr(0, i), 10, seconds)) return false;
  uint64_t fraction = 0;
  size_t j = i;
  if (j < s.size() && s[j] == '.') {
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j;
    const std::string_view digits = s.substr(i + 1, j - i - 1);
    if (!parse_decimal(digits, 9, fraction)) return false;
    for (size_t k = digits.size(); k < 9; ++k) fraction *= 10;
  }
  if (j >= s.size() || s[j] != ':') return false;
  ns = seconds * 1000000000ull + fraction;
  s.remove_prefix(j + 1);
  return true;
}

// After the CPU column: "flags timestamp: event: message" (flags may be absent).
bool parse_rest(std::string_view s, TraceLine& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  out.flags.clear();
  if (!parse_timestamp(s, out.timestamp_ns)) {
    const size_t space = s.find(' ');
    if (s.empty() || space == std::string_view::npos) return false;
    out.flags = std::string(s.substr(0, space));
    s.remove_prefix(space);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (!parse_timestamp(s, out.timestamp_ns)) return false;
  }
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  size_t w = 0;
  while (w < s.size() && is_word(s[w])) ++w;
  out.event.clear();
  if (w > 0 && w < s.size() && s[w] == ':' && (w + 1 == s.size() || s[w + 1] == ' ')) {
    out.event = std::string(s.substr(0, w));
    s.remove_prefix(std::min(w + 2, s.size()));
  }
  out.message = std::string(s);
  return true;
}

}  // namespace

std::optional<TraceLine> parse_trace_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);  // the task name's padding
  // The CPU column " [NNN]" is the anchor. The task name before it may itself hold
  // brackets, so every candidate is tried, leftmost first, until the whole line fits.
  TraceLine out;
  for (size_t open = line.find(" ["); open != std::string_view::npos; open = line.find(" [", open + 1)) {
    size_t close = open + 2;
    while (close < line.size() && is_digit(line[close])) ++close;
    if (close >= line.size() || line[close] != ']') continue;
    std::string_view comm;
    if (!parse_decimal(line.substr(open + 2, close - open - 2), 6, out.cpu)) continue;
    if (!parse_task(line.substr(0, open), out, comm)) continue;
    if (!parse_rest(line.substr(close + 1), out)) continue;
    out.comm = std::string(comm);
    return out;
  }
  return std::nullopt;
}

std::optional<TraceLostLine> parse_trace_lost_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  constexpr std::string_view kCpu = "CPU:", kLost = " [LOST ", kEnd = " EVENTS]";
  if (line.substr(0, kCpu.size()) != kCpu) return std::nullopt;
  line.remove_prefix(kCpu.size());
  const size_t lost = line.find(kLost);
  if (lost == std::string_view::npos || line.size() < kEnd.size() ||
      line.substr(line.size() - kEnd.size()) != kEnd || lost + kLost.size() > line.size() - kEnd.size()) {
    return std::nullopt;
  }
  TraceLostLine out;
  if (!parse_decimal(line.substr(0, lost), 6, out.cpu)) return std::nullopt;
  const std::string_view count =
      line.substr(lost + kLost.size(), line.size() - kEnd.size() - lost - kLost.size());
  if (!parse_decimal(count, 20, out.count)) return std::nullopt;
  return out;
}

std::string format_trace_line(const TraceLine& line) {
  std::string out = line.comm + "-" + std::to_string(line.pid);
  if (line.tgid) out += " (" + std::to_string(*line.tgid) + ")";
  out += " [" + std::to_string(line.cpu) + "] ";
  if (!line.flags.empty()) out += line.flags + " ";
  const uint64_t fraction = line.timestamp_ns % 1000000000ull;
  char ts[40];
  if (fraction % 1000 == 0) {
    std::snprintf(ts, sizeof ts, "%llu.%06llu",
                  static_cast<unsigned long long>(line.timestamp_ns / 1000000000ull),
                  static_cast<unsigned long long>(fraction / 1000));
  } else {
    std::snprintf(ts, sizeof ts, "%llu.%09llu",
                  static_cast<unsigned long long>(line.timestamp_ns / 1000000000ull),
                  static_cast<unsigned long long>(fraction));
  }
  out += ts;
  out += ": ";
  if (!line.event.empty()) out += line.event + ": ";
  out += line.message;
  return out;
}

}  // namespace bpfkit::target::linux_kernel
