// A value read back from a BPF map or event, as the output layer prints it: integers
// (signed or unsigned, which decides printing and sorting), text (strings, and ksym/usym
// names, inet addresses and stacks already rendered by the caller), tuples, and buf()
// bytes (printed with \xNN escapes, as bpftrace's %r).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace bpfkit::lang::format {

struct Value;
using Tuple = std::vector<Value>;

// buf() contents: raw bytes, escaped only when printed.
struct Buffer {
  std::string bytes;
  bool operator==(const Buffer&) const = default;
};

// Stacks arrive as bpftrace renders them: "\n" then one line per frame, indented by
// 8 spaces as a value (print, printf %s, map value) and by 4 spaces as a map key.
struct Value {
  std::variant<int64_t, uint64_t, std::string, Tuple, Buffer> v;

  Value() : v(int64_t{0}) {}
  // Any integer type: signed ones become int64_t, unsigned ones uint64_t (as bpftrace
  // widens a value before printing it).
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Value(T x) {  // NOLINT(google-explicit-constructor)
    if constexpr (std::is_signed_v<T>) {
      v = int64_t(x);
    } else {
      v = uint64_t(x);
    }
  }
  Value(std::string s) : v(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  Value(std::string_view s) : v(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Value(const char* s) : v(std::string(s)) {}       // NOLINT(google-explicit-constructor)
  Value(Tuple t) : v(std::move(t)) {}               // NOLINT(google-explicit-constructor)
  Value(Buffer b) : v(std::move(b)) {}              // NOLINT(google-explicit-constructor)

  bool is_integer() const { return v.index() <= 1; }
  // The 64-bit pattern of an integer (0 for other values).
  uint64_t bits() const;
  bool operator==(const Value&) const = default;
};

// How print() and map output show a value: integers in decimal, text as is, tuples as
// "(1, abc, (2, x))", buffers with bytes outside 0x20..0x7e as \xNN.
std::string format_value(const Value& v);

// The JSON form bpftrace -f json uses: numbers bare, text and buffers as escaped strings,
// tuples as arrays without spaces: [1,"abc",[2,"x"]].
std::string json_value(const Value& v);

// buf() bytes as bpftrace's %r shows them: printable ASCII kept, the rest as \xNN.
std::string escape_buffer(std::string_view bytes);

// Ordering bpftrace sorts map entries by value with: integers numerically (int64_t signed,
// uint64_t unsigned), then text and buffers bytewise, tuples element by element.
std::strong_ordering compare_values(const Value& a, const Value& b);

// Ordering bpftrace sorts map keys with: integers by their unsigned 64-bit pattern (so
// negative keys come after positive ones), text bytewise.
std::strong_ordering compare_keys(const Value& a, const Value& b);

}  // namespace bpfkit::lang::format
