#include "helpers/printk_format.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "helpers/helper_support.h"

namespace bpfkit::helpers {
namespace {

struct Spec {
  bool left = false, zero = false, plus = false, space = false;
  int width = 0;
};

// Pads `body` to the width with spaces (strings, characters, pointers: the kernel's widen_string).
void append_padded(std::string& out, std::string_view body, const Spec& spec) {
  const size_t pad = spec.width > int(body.size()) ? size_t(spec.width) - body.size() : 0;
  if (!spec.left) out.append(pad, ' ');
  out.append(body);
  if (spec.left) out.append(pad, ' ');
}

// Integers: the same flags as C's printf, whose rendering matches the kernel's number().
void append_number(std::string& out, uint64_t value, int bytes, char conv, const Spec& spec) {
  std::string f = "%";
  if (spec.left) f += '-';
  if (spec.zero) f += '0';
  if (spec.plus) f += '+';
  if (spec.space) f += ' ';
  if (spec.width) f += std::to_string(spec.width);
  f += "ll";
  f += conv == 'i' ? 'd' : conv;
  char buf[96];
  const bool is_signed = conv == 'd' || conv == 'i';
  if (bytes == 4) {
    if (is_signed) {
      snprintf(buf, sizeof buf, f.c_str(), (long long)int32_t(uint32_t(value)));
    } else {
      snprintf(buf, sizeof buf, f.c_str(), (unsigned long long)uint32_t(value));
    }
  } else if (is_signed) {
    snprintf(buf, sizeof buf, f.c_str(), (long long)value);
  } else {
    snprintf(buf, sizeof buf, f.c_str(), (unsigned long long)value);
  }
  out += buf;
}

std::string hex(uint64_t v, int digits) {
  char buf[32];
  snprintf(buf, sizeof buf, "%0*llx", digits, (unsigned long long)v);
  return buf;
}

std::string ipv4(const uint8_t* a, bool padded) {
  char buf[20];
  snprintf(buf, sizeof buf, padded ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
  return buf;
}

// Eight groups of four hex digits, with colons (%pI6) or without (%pi6). The kernel's
// bpf_bprintf_prepare hands vsprintf a copy of the address, so %pI6c prints the
// full form too (its 'c' is swallowed as a modifier).
std::string ipv6(const uint8_t* a, bool colons) {
  std::string s;
  for (int i = 0; i < 8; ++i) {
    if (colons && i) s += ':';
    s += hex(uint16_t(a[2 * i] << 8 | a[2 * i + 1]), 4);
  }
  return s;
}

bool ends_string_spec(char c) { return c == 0 || isspace(uint8_t(c)) || ispunct(uint8_t(c)); }

}  // namespace

int bprintf_format(std::string_view fmt, std::span<const uint64_t> args, size_t max_args, std::string& out) {
  out.clear();
  size_t used = 0;  // bytes of the kernel's argument buffer the arguments so far take
  size_t num_spec = 0;
  auto at = [&](size_t i) -> char { return i < fmt.size() ? fmt[i] : 0; };
  auto arg = [&](size_t n) -> uint64_t { return n < args.size() ? args[n] : 0; };
  auto take_number = [&](size_t bytes) {
    used = (used + 3) & ~size_t(3);
    if (kBprintfBinArgsSize - std::min(used, kBprintfBinArgsSize) < bytes) return false;
    used += bytes;
    return true;
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    const uint8_t c = uint8_t(fmt[i]);
    if (!isascii(c) || (!isprint(c) && !isspace(c))) return -EINVAL;
    if (c != '%') {
      out += char(c);
      continue;
    }
    if (at(i + 1) == '%') {
      out += '%';
      ++i;
      continue;
    }
    if (num_spec >= max_args) return -EINVAL;
    ++i;
    Spec spec;
    for (;; ++i) {
      const char f = at(i);
      if (f == '0')
        spec.zero = true;
      else if (f == '-')
        spec.left = true;
      else if (f == '+')
        spec.plus = true;
      else if (f == ' ')
        spec.space = true;
      else
        break;
    }
    if (at(i) >= '1' && at(i) <= '9') {
      while (at(i) >= '0' && at(i) <= '9') {
        spec.width = std::min(spec.width * 10 + (at(i) - '0'), 4096);
        ++i;
      }
    }
    if (spec.left) spec.zero = false;
    const uint64_t value = arg(num_spec);
    const char conv = at(i);
    if (conv == 'p') {
      const char m = at(i + 1);
      std::string body;
      bool is_string = false;
      char string_kind = 0;
      if (ends_string_spec(m)) {
        if (!take_number(8)) return -ENOSPC;
        body = hex(value, 16);
      } else if ((m == 'k' || m == 'u') && at(i + 2) == 's') {
        i += 2;
        is_string = true;
        string_kind = m;
      } else if (m == 'K' || m == 'x' || m == 's' || m == 'S') {
        if (!take_number(8)) return -ENOSPC;
        body = (m == 'K' || m == 'x') ? hex(value, 16) : "0x" + hex(value, 1);
        ++i;
      } else if (m == 'B') {
        body = "0x" + hex(value, 1);
        if (used + body.size() + 1 > kBprintfBinArgsSize) return -ENOSPC;
        used += body.size() + 1;
        ++i;
      } else if ((m == 'i' || m == 'I') && (at(i + 2) == '4' || at(i + 2) == '6')) {
        const size_t n = at(i + 2) == '4' ? 4 : 16;
        if (kBprintfBinArgsSize - std::min(used, kBprintfBinArgsSize) < n) return -ENOSPC;
        used += n;
        uint8_t ip[16] = {};
        if (detail::read_memory(ip, value, n) != 0) std::memset(ip, 0, sizeof ip);
        body = n == 4 ? ipv4(ip, m == 'i') : ipv6(ip, m == 'I');
        i += 2;
      } else {
        return -EINVAL;
      }
      if (is_string) {
        if (!ends_string_spec(at(i + 1))) return -EINVAL;
        if (used >= kBprintfBinArgsSize) return -ENOSPC;
        char buf[kBprintfBinArgsSize];
        long n = detail::read_string(buf, value, kBprintfBinArgsSize - used);
        if (n < 0) buf[0] = 0, n = 1;
        used += size_t(n);
        (void)string_kind;  // user and kernel strings live in the same address space here
        append_padded(out, buf, spec);
      } else {
        append_padded(out, body, spec);
        // vsprintf swallows the letters and digits after a %p form (its modifiers).
        while (isalnum(uint8_t(at(i + 1)))) ++i;
      }
      ++num_spec;
      continue;
    }
    if (conv == 's') {
      if (!ends_string_spec(at(i + 1))) return -EINVAL;
      if (used >= kBprintfBinArgsSize) return -ENOSPC;
      char buf[kBprintfBinArgsSize];
      long n = detail::read_string(buf, value, kBprintfBinArgsSize - used);
      if (n < 0) buf[0] = 0, n = 1;
      used += size_t(n);
      append_padded(out, buf, spec);
      ++num_spec;
      continue;
    }
    if (conv == 'c') {
      if (used >= kBprintfBinArgsSize) return -ENOSPC;
      ++used;
      const char ch = char(uint8_t(value));
      append_padded(out, std::string_view(&ch, 1), spec);
      ++num_spec;
      continue;
    }
    int bytes = 4;
    if (at(i) == 'l') bytes = 8, ++i;
    if (at(i) == 'l') ++i;
    const char n = at(i);
    if (n != 'i' && n != 'd' && n != 'u' && n != 'x' && n != 'X') return -EINVAL;
    if (!take_number(size_t(bytes))) return -ENOSPC;
    append_number(out, value, bytes, n, spec);
    ++num_spec;
  }
  return 0;
}

}  // namespace bpfkit::helpers
