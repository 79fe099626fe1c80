// libFuzzer target: json_to_btf on arbitrary JSON text against a fixed BTF type
// (every kind the JSON mapping knows). It must either throw BtfJsonError or give
// bytes that format and parse back to the same bytes; btf_to_json on the raw
// input bytes must never crash either.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "object/btf.h"
#include "object/btf_json.h"

namespace {

using bpfkit::object::Btf;

// A small BTF blob writer (the layout of Documentation/bpf/btf.rst).
struct Blob {
  std::vector<uint8_t> types, strings{0};
  uint32_t count = 0;
  void u32(uint32_t v) {
    uint8_t b[4];
    memcpy(b, &v, 4);
    types.insert(types.end(), b, b + 4);
  }
  uint32_t str(const std::string& s) {
    if (s.empty()) return 0;
    const auto off = uint32_t(strings.size());
    strings.insert(strings.end(), s.begin(), s.end());
    strings.push_back(0);
    return off;
  }
  uint32_t type(const std::string& name, uint32_t kind, uint32_t vlen, bool kflag, uint32_t size_or_type) {
    u32(str(name));
    u32((kflag ? 1u << 31 : 0) | kind << 24 | vlen);
    u32(size_or_type);
    return ++count;
  }
  uint32_t integer(const std::string& name, uint32_t size, uint32_t bits, uint32_t encoding) {
    const uint32_t id = type(name, 1, 0, false, size);
    u32(encoding << 24 | bits);
    return id;
  }
  uint32_t array(uint32_t elem, uint32_t index, uint32_t n) {
    const uint32_t id = type("", 3, 0, false, 0);
    u32(elem);
    u32(index);
    u32(n);
    return id;
  }
  void member(const std::string& name, uint32_t type_id, uint32_t bit_offset, uint32_t bitfield = 0) {
    u32(str(name));
    u32(type_id);
    u32(bitfield << 24 | bit_offset);
  }
  std::vector<uint8_t> build() const {
    std::vector<uint8_t> out(24, 0);
    auto put = [&](size_t at, uint32_t v) { memcpy(out.data() + at, &v, 4); };
    out[0] = 0x9f;
    out[1] = 0xeb;
    out[2] = 1;
    put(4, 24);
    put(8, 0);
    put(12, uint32_t(types.size()));
    put(16, uint32_t(types.size()));
    put(20, uint32_t(strings.size()));
    out.insert(out.end(), types.begin(), types.end());
    out.insert(out.end(), strings.begin(), strings.end());
    return out;
  }
};

struct Fixture {
  Btf btf;
  uint32_t value;
};

Fixture make_fixture() {
  Blob b;
  const uint32_t u8 = b.integer("unsigned char", 1, 8, 0);
  const uint32_t chr = b.integer("char", 1, 8, 1);
  const uint32_t s32 = b.integer("int", 4, 32, 1);
  const uint32_t u64 = b.integer("unsigned long long", 8, 64, 0);
  const uint32_t s128 = b.integer("__int128", 16, 128, 1);
  const uint32_t boolean = b.integer("_Bool", 1, 8, 4);
  const uint32_t color = b.type("color", 6, 2, false, 4);
  b.u32(b.str("RED"));
  b.u32(1);
  b.u32(b.str("NEG"));
  b.u32(0xffffffff);
  const uint32_t name = b.array(chr, s32, 8);
  const uint32_t ptr = b.type("", 2, 0, false, 0);
  const uint32_t f32 = b.type("float", 16, 0, false, 4);
  const uint32_t f64 = b.type("double", 16, 0, false, 8);
  const uint32_t u8_t = b.type("u8", 8, 0, false, u8);
  const uint32_t bytes3 = b.array(u8_t, s32, 3);
  const uint32_t anon = b.type("", 5, 2, false, 4);  // union { int w; u8 b[3]; }
  b.member("w", s32, 0);
  b.member("b", bytes3, 0);
  const uint32_t inner = b.type("inner", 4, 3, true, 4);  // struct { int lo:3; enum color hi:4; u8 z; }
  b.member("lo", s32, 0, 3);
  b.member("hi", color, 3, 4);
  b.member("z", u8, 8);
  const uint32_t inners = b.array(inner, s32, 2);
  const uint32_t value = b.type("value", 4, 11, true, 96);
  b.member("name", name, 0);
  b.member("n", s32, 64);
  b.member("", anon, 96);
  b.member("big", u64, 128);
  b.member("wide", s128, 256);
  b.member("flag", boolean, 384);
  b.member("ptr", ptr, 448);
  b.member("f", f32, 512);
  b.member("d", f64, 576);
  b.member("inners", inners, 640);
  b.member("c", color, 704);
  return {Btf::parse(b.build()), value};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fx = make_fixture();
  using bpfkit::object::BtfJsonError;
  // The input as raw value bytes: formatting must not crash.
  if (size == 96) {
    try {
      bpfkit::object::btf_to_json(fx.btf, fx.value, {data, size});
    } catch (const BtfJsonError&) {
    }
  }
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  std::vector<uint8_t> bytes;
  try {
    bytes = bpfkit::object::json_to_btf(fx.btf, fx.value, j);
  } catch (const BtfJsonError&) {
    return 0;
  }
  // What was accepted formats and parses back to the same bytes.
  const nlohmann::json again = bpfkit::object::btf_to_json(fx.btf, fx.value, bytes);
  if (bpfkit::object::json_to_btf(fx.btf, fx.value, again) != bytes) abort();
  try {
    bpfkit::object::json_to_bytes(j, 4);
  } catch (const BtfJsonError&) {
  }
  return 0;
}
