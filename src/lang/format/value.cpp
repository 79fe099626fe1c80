#include "lang/format/value.h"

#include <algorithm>

#include "lang/format/json_output.h"

namespace bpfkit::lang::format {

uint64_t Value::bits() const {
  if (const auto* i = std::get_if<int64_t>(&v)) return uint64_t(*i);
  if (const auto* u = std::get_if<uint64_t>(&v)) return *u;
  return 0;
}

std::string escape_buffer(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c <= 0x7e) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string format_value(const Value& value) {
  struct Visitor {
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(uint64_t u) const { return std::to_string(u); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const Buffer& b) const { return escape_buffer(b.bytes); }
    std::string operator()(const Tuple& t) const {
      std::string out = "(";
      for (size_t i = 0; i < t.size(); ++i) {
        if (i) out += ", ";
        out += format_value(t[i]);
      }
      return out + ")";
    }
  };
  return std::visit(Visitor{}, value.v);
}

std::string json_value(const Value& value) {
  struct Visitor {
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(uint64_t u) const { return std::to_string(u); }
    std::string operator()(const std::string& s) const { return "\"" + json_escape(s) + "\""; }
    std::string operator()(const Buffer& b) const {
      return "\"" + json_escape(escape_buffer(b.bytes)) + "\"";
    }
    std::string operator()(const Tuple& t) const {
      std::string out = "[";
      for (size_t i = 0; i < t.size(); ++i) {
        if (i) out += ",";
        out += json_value(t[i]);
      }
      return out + "]";
    }
  };
  return std::visit(Visitor{}, value.v);
}

namespace {

std::strong_ordering compare_text(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0   ? std::strong_ordering::less
         : c > 0 ? std::strong_ordering::greater
                 : std::strong_ordering::equal;
}

// Integers as mathematical numbers, so that a mix of signed and unsigned still orders sensibly.
std::strong_ordering compare_numbers(const Value& a, const Value& b) {
  const auto* ai = std::get_if<int64_t>(&a.v);
  const auto* bi = std::get_if<int64_t>(&b.v);
  if (ai && bi) return *ai <=> *bi;
  if (!ai && !bi) return a.bits() <=> b.bits();
  if (ai) return *ai < 0 ? std::strong_ordering::less : uint64_t(*ai) <=> b.bits();
  return *bi < 0 ? std::strong_ordering::greater : a.bits() <=> uint64_t(*bi);
}

template <typename Scalar>
std::strong_ordering compare_with(const Value& a, const Value& b, Scalar scalar) {
  if (a.is_integer() && b.is_integer()) return scalar(a, b);
  if (a.v.index() != b.v.index()) return a.v.index() <=> b.v.index();
  if (const auto* s = std::get_if<std::string>(&a.v)) return compare_text(*s, std::get<std::string>(b.v));
  if (const auto* buf = std::get_if<Buffer>(&a.v))
    return compare_text(buf->bytes, std::get<Buffer>(b.v).bytes);
  const Tuple& ta = std::get<Tuple>(a.v);
  const Tuple& tb = std::get<Tuple>(b.v);
  for (size_t i = 0; i < ta.size() && i < tb.size(); ++i) {
    auto c = compare_with(ta[i], tb[i], scalar);
    if (c != std::strong_ordering::equal) return c;
  }
  return ta.size() <=> tb.size();
}

}  // namespace

std::strong_ordering compare_values(const Value& a, const Value& b) {
  return compare_with(a, b, compare_numbers);
}

std::strong_ordering compare_keys(const Value& a, const Value& b) {
  return compare_with(a, b, [](const Value& x, const Value& y) { return x.bits() <=> y.bits(); });
}

}  // namespace bpfkit::lang::format
