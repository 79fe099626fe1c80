// BTF-shaped JSON for map keys and values: formatting bytes laid out by the host
// compiler (same LP64 little-endian layout as clang -target bpf), parsing JSON back,
// round trips, and the errors that name a JSON path.
#include "object/btf_json.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <map>
#include <set>

#include "../support/btf_json_types.h"

namespace bpfkit::object {
namespace {

using nlohmann::json;

// The C source compiled for BTF; HostValue below mirrors `struct value`.
const std::string kTypes = test_support::btf_json_types(true) + "struct value v;\n";

enum state { ST_IDLE = 0, ST_RUN = 1, ST_DEAD = -1 };
enum color : unsigned { RED = 1, GREEN = 2, BLUE = 4 };
struct addr {
  unsigned char bytes[4];
  unsigned short port;
};
struct HostValue {
  char name[16];
  addr addrs[2];
  unsigned int flags : 3;
  int delta : 5;
  color hue : 4;
  state st;
  union {
    unsigned int word;
    unsigned char raw[4];
  };
  union {
    long l;
    char c[8];
  } named;
  long long neg;
  unsigned long long big;
  void* ptr;
  float f;
  double d;
  bool ok;
  unsigned char bytes[3];
  int cv;
  unsigned __int128 wide;
};
static_assert(sizeof(HostValue) == 112);
static_assert(offsetof(HostValue, wide) == 96);

class BtfJsonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test_support::have_bpf_clang()) btf_ = test_support::compile_btf(kTypes).release();
  }
  static void TearDownTestSuite() {
    delete btf_;
    btf_ = nullptr;
  }
  void SetUp() override {
    BPFKIT_REQUIRE_BPF_CLANG();
    ASSERT_NE(btf_, nullptr);
    value_ = *btf_->find_by_name("value", BtfKind::Struct);
    ASSERT_EQ(btf_->size_of(value_), sizeof(HostValue));
  }
  static std::span<const uint8_t> bytes_of(const HostValue& v) {
    return {reinterpret_cast<const uint8_t*>(&v), sizeof v};
  }
  HostValue sample() const {
    HostValue v;
    memset(&v, 0, sizeof v);  // padding too: round trips compare every byte
    strcpy(v.name, "eth0");
    v.addrs[0] = {{10, 0, 0, 1}, 80};
    v.addrs[1] = {{192, 168, 1, 255}, 65535};
    v.flags = 5;
    v.delta = -3;
    v.hue = BLUE;
    v.st = ST_DEAD;
    v.word = 0x04030201;
    v.named.l = -2;
    v.neg = INT64_MIN;
    v.big = UINT64_MAX;
    v.ptr = reinterpret_cast<void*>(uintptr_t(0xffff888012345678));
    v.f = 1.5f;
    v.d = -0.25;
    v.ok = true;
    v.bytes[0] = 1;
    v.bytes[1] = 0x7f;
    v.bytes[2] = 0xff;
    v.cv = 7;
    v.wide = (unsigned __int128)0x0102030405060708ull << 64 | 0x090a0b0c0d0e0f10ull;
    return v;
  }
  std::string error_of(const json& j, uint32_t type = 0) const {
    try {
      json_to_btf(*btf_, type ? type : value_, j);
    } catch (const BtfJsonError& e) {
      return e.what();
    }
    return "(no error)";
  }
  json sample_json() const { return btf_to_json(*btf_, value_, bytes_of(sample())); }

  static Btf* btf_;
  uint32_t value_ = 0;
};
Btf* BtfJsonTest::btf_ = nullptr;

TEST_F(BtfJsonTest, FormatsEveryKind) {
  const json j = sample_json();
  const json expected = json::parse(R"({
    "name": "eth0",
    "addrs": [{"bytes": [10, 0, 0, 1], "port": 80}, {"bytes": [192, 168, 1, 255], "port": 65535}],
    "flags": 5, "delta": -3, "hue": "BLUE", "st": "ST_DEAD",
    "word": 67305985, "raw": [1, 2, 3, 4],
    "named": {"l": -2, "c": [-2, -1, -1, -1, -1, -1, -1, -1]},
    "neg": -9223372036854775808, "big": 18446744073709551615, "ptr": 18446612682375452280,
    "f": 1.5, "d": -0.25, "ok": true, "bytes": [1, 127, 255], "cv": 7,
    "wide": "0x102030405060708090a0b0c0d0e0f10"
  })");
  EXPECT_EQ(j, expected) << j.dump(2);
}

TEST_F(BtfJsonTest, EnumWithoutMatchingEnumeratorIsANumber) {
  HostValue v = sample();  // memset: padding is zero
  v.hue = color(3);
  v.st = state(7);
  const json j = btf_to_json(*btf_, value_, bytes_of(v));
  EXPECT_EQ(j["hue"], 3);
  EXPECT_EQ(j["st"], 7);
  v.st = state(-5);  // a 32-bit ENUM reads as signed, as bpftool prints it
  EXPECT_EQ(btf_to_json(*btf_, value_, bytes_of(v))["st"], -5);
  EXPECT_EQ(json_to_btf(*btf_, value_, btf_to_json(*btf_, value_, bytes_of(v))),
            std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(&v),
                                 reinterpret_cast<const uint8_t*>(&v) + sizeof v));
}

TEST_F(BtfJsonTest, CharArraysAreStringsOnlyWhenTheyRoundTrip) {
  HostValue v = sample();
  memcpy(v.name, "ab\0x", 4);  // a byte after the terminator: kept as numbers
  json j = btf_to_json(*btf_, value_, bytes_of(v));
  ASSERT_TRUE(j["name"].is_array());
  EXPECT_EQ(j["name"][3], int('x'));
  memset(v.name, 'z', sizeof v.name);  // no terminator at all
  j = btf_to_json(*btf_, value_, bytes_of(v));
  EXPECT_TRUE(j["name"].is_array());
  memset(v.name, 0, sizeof v.name);
  v.name[0] = '\t';  // not printable
  j = btf_to_json(*btf_, value_, bytes_of(v));
  EXPECT_TRUE(j["name"].is_array());
  memset(v.name, 0, sizeof v.name);  // empty string
  j = btf_to_json(*btf_, value_, bytes_of(v));
  EXPECT_EQ(j["name"], "");
}

TEST_F(BtfJsonTest, RoundTrips) {
  const HostValue v = sample();
  const json j = btf_to_json(*btf_, value_, bytes_of(v));
  const auto back = json_to_btf(*btf_, value_, j);
  ASSERT_EQ(back.size(), sizeof v);
  EXPECT_EQ(memcmp(back.data(), &v, sizeof v), 0);
  // Through text, as a user would save and reload it.
  EXPECT_EQ(json_to_btf(*btf_, value_, json::parse(j.dump())), back);
  // Every single-byte change survives a round trip (padding aside).
  // Padding (and the bitfield unit's spare high nibble in 29) is not part of the JSON.
  const std::set<size_t> padding = {29, 30, 31, 76, 77, 78, 79};
  std::vector<uint8_t> bytes(back);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (padding.count(i)) continue;
    bytes[i] = i == 88 ? 0 : bytes[i] ^ 0x5a;  // _Bool holds 0 or 1
    const json k = btf_to_json(*btf_, value_, bytes);
    EXPECT_EQ(json_to_btf(*btf_, value_, k), bytes) << "byte " << i << ": " << k.dump();
    bytes = back;
  }
}

TEST_F(BtfJsonTest, ParsesLooseShapes) {
  const json j = json::parse(R"({
    "name": [101, 116, 104, 49],
    "addrs": [{"bytes": ["0x0a", "0", 0, "1"], "port": "0x50"}, {"bytes": [1, 2, 3, 4]}],
    "flags": "7", "delta": "-16", "hue": 2, "st": "ST_RUN",
    "raw": [1, 2, 3, 4], "named": {"c": ["a", "b", 0, 0, 0, 0, 0, 0]},
    "ptr": "0x1000", "ok": 1, "f": 2, "wide": "0xffffffffffffffffffffffffffffffff"
  })");
  // A list for char name needs all 16 elements: this one has 4.
  EXPECT_NE(error_of(j).find("value.name: expected 16 elements, got 4"), std::string::npos) << error_of(j);
  json k = j;
  k["name"] = "eth1";
  const auto bytes = json_to_btf(*btf_, value_, k);
  HostValue v;
  memcpy(&v, bytes.data(), sizeof v);
  EXPECT_STREQ(v.name, "eth1");
  EXPECT_EQ(v.addrs[0].bytes[0], 10);
  EXPECT_EQ(v.addrs[0].bytes[3], 1);
  EXPECT_EQ(v.addrs[0].port, 80);
  EXPECT_EQ(v.addrs[1].port, 0);  // left out: zero
  EXPECT_EQ(v.flags, 7u);
  EXPECT_EQ(v.delta, -16);
  EXPECT_EQ(v.hue, GREEN);
  EXPECT_EQ(v.st, ST_RUN);
  EXPECT_EQ(v.word, 0x04030201u);
  EXPECT_EQ(v.named.c[0], 'a');
  EXPECT_EQ(v.named.c[1], 'b');
  EXPECT_EQ(v.ptr, reinterpret_cast<void*>(0x1000));
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.f, 2.0f);
  EXPECT_EQ(v.wide, ~(unsigned __int128)0);
  // Union members that agree may both be given.
  json u = json::object();
  u["word"] = 0x01020304;
  u["raw"] = {4, 3, 2, 1};
  EXPECT_EQ(error_of(u), "(no error)");
}

TEST_F(BtfJsonTest, ErrorsNameThePath) {
  auto expect_error = [&](const char* text, const std::string& message) {
    const std::string e = error_of(json::parse(text));
    EXPECT_NE(e.find(message), std::string::npos) << "for " << text << "\n got: " << e;
  };
  expect_error(R"({"addrs": [{"bytes": [1, 2, 3, 300]}, {}]})",
               "value.addrs[0].bytes[3]: 300 does not fit in u8");
  expect_error(R"({"addrs": [{}, {"port": -1}]})", "value.addrs[1].port: -1 does not fit in u16");
  expect_error(R"({"flags": 8})", "value.flags: 8 does not fit in u3");
  expect_error(R"({"delta": -17})", "value.delta: -17 does not fit in s5");
  expect_error(R"({"delta": 16})", "value.delta: 16 does not fit in s5");
  expect_error(R"({"neg": "0x8000000000000000"})", "value.neg: \"0x8000000000000000\" does not fit in s64");
  expect_error(R"({"big": "0x1ffffffffffffffff"})", "does not fit in u64");
  expect_error(R"({"nope": 1})", "value.nope: struct value has no member 'nope' (name, addrs, flags");
  expect_error(R"({"named": {"x": 1}})", "value.named.x: union {...} has no member 'x'");
  expect_error(R"({"addrs": [{}]})", "value.addrs: expected 2 elements, got 1");
  expect_error(R"({"name": "a string longer than sixteen"})",
               "value.name: string of 28 bytes does not fit in char[16]");
  expect_error(R"({"st": "ST_GONE"})",
               "value.st: \"ST_GONE\" is not an enumerator of enum state (ST_IDLE, ST_RUN, ST_DEAD)");
  expect_error(R"({"hue": 16})", "value.hue: 16 does not fit in enum color (4 bits)");
  expect_error(R"({"port": 1})", "value.port: struct value has no member 'port'");
  expect_error(R"({"addrs": {}})",
               "value.addrs: expected a list of 2 elements for struct addr[2], got object");
  expect_error(R"({"cv": 1.5})", "value.cv: 1.5 is not an integer");
  expect_error(R"({"cv": "12abc"})", "value.cv: \"12abc\" is not a number");
  expect_error(R"({"cv": [1]})", "value.cv: expected a number, got array");
  expect_error(R"({"ok": 2})", "value.ok: 2 is not a bool");
  expect_error(R"({"f": "x"})", "value.f: expected a number, got \"x\"");
  expect_error(R"({"word": 1, "raw": [2, 0, 0, 0]})", "conflicts with another member written to byte 36");
  expect_error(R"([1, 2])", "value: expected an object for struct value, got array");
  // The whole value must have the type's size.
  try {
    btf_to_json(*btf_, value_, std::vector<uint8_t>(111));
    ADD_FAILURE() << "no error";
  } catch (const BtfJsonError& e) {
    EXPECT_EQ(std::string(e.what()), "value: struct value is 112 bytes, got 111");
    EXPECT_EQ(e.path(), "value");
  }
  // Types that hold no value.
  const uint32_t var = *btf_->find_by_name("v", BtfKind::Var);
  EXPECT_NO_THROW(json_to_btf(*btf_, var, json::object()));
  EXPECT_NE(error_of(json(1), btf_->type(var).id).find("expected an object"), std::string::npos);
}

TEST_F(BtfJsonTest, KeyNameInMessages) {
  const uint32_t u16 = *btf_->find_by_name("unsigned short", BtfKind::Int);
  try {
    json_to_btf(*btf_, u16, json(70000), "key");
    ADD_FAILURE() << "no error";
  } catch (const BtfJsonError& e) {
    EXPECT_EQ(std::string(e.what()), "key: 70000 does not fit in u16");
  }
  EXPECT_EQ(json_to_btf(*btf_, u16, json(0x1234), "key"), (std::vector<uint8_t>{0x34, 0x12}));
  EXPECT_EQ(btf_to_json(*btf_, u16, std::vector<uint8_t>{0x34, 0x12}), 0x1234);
}

TEST(BytesJson, HexListLikeBpftool) {
  const std::vector<uint8_t> bytes = {0x0a, 0x00, 0xff, 0x7f};
  const json j = bytes_to_json(bytes);
  EXPECT_EQ(j, json::parse(R"(["0x0a", "0x00", "0xff", "0x7f"])"));
  EXPECT_EQ(json_to_bytes(j, 4), bytes);
  EXPECT_EQ(json_to_bytes(json::parse("[10, 0, 255, \"127\"]"), 4), bytes);
  EXPECT_EQ(json_to_bytes(json("0a00ff7f"), 4), bytes);
  EXPECT_EQ(json_to_bytes(json("0x0a00ff7f"), 4), bytes);
  EXPECT_EQ(bytes_to_json({}), json::array());
  auto error = [](const json& j, size_t size) {
    try {
      json_to_bytes(j, size, "key");
    } catch (const BtfJsonError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error(j, 5), "key: expected 5 bytes, got 4");
  EXPECT_EQ(error(json::parse("[1, 256]"), 2), "key[1]: 256 does not fit in a byte");
  EXPECT_EQ(error(json::parse("[1, -1]"), 2), "key[1]: -1 does not fit in a byte");
  EXPECT_EQ(error(json::parse("[1, \"zz\"]"), 2), "key[1]: \"zz\" is not a number");
  EXPECT_EQ(error(json::parse("[1, null]"), 2), "key[1]: expected a byte, got null");
  EXPECT_EQ(error(json("0a0"), 2), "key: expected 2 bytes (4 hex digits), got 3 digits");
  EXPECT_EQ(error(json("0g00"), 2), "key: '0g' is not a hex byte");
  EXPECT_EQ(error(json(3), 1), "key: expected a list of bytes, got number");
}

}  // namespace
}  // namespace bpfkit::object
