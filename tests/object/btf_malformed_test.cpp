// Bad BTF is a BtfError naming the byte offset (and type id where one applies).
#include <gtest/gtest.h>

#include <cstring>

#include "btf_builder.h"
#include "object/btf.h"

namespace bpfkit::object {
namespace {

using testing::BtfBuilder;

// Runs parse and returns the error it must throw.
BtfError parse_error(const std::vector<uint8_t>& bytes) {
  try {
    auto btf = Btf::parse(bytes);
  } catch (const BtfError& e) {
    return e;
  }
  ADD_FAILURE() << "parse accepted bad BTF";
  return BtfError(0, 0, "none");
}

std::vector<uint8_t> small_valid() {
  BtfBuilder b;
  uint32_t i = b.int_type("int", 4, 32, 1);
  b.ref(2, i);
  b.ref(8, i, "myint");
  return b.build();
}

TEST(BtfMalformed, TruncatedHeader) {
  auto bytes = small_valid();
  for (size_t n = 0; n < 24; ++n) {
    auto e = parse_error(std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(n)));
    EXPECT_EQ(e.offset(), n);
    EXPECT_NE(std::string(e.what()).find("truncated header"), std::string::npos);
  }
}

TEST(BtfMalformed, EveryTruncationAndByteFlipFailsCleanly) {
  auto bytes = small_valid();
  ASSERT_NO_THROW(Btf::parse(bytes));
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(n));
    EXPECT_THROW(Btf::parse(cut), BtfError) << n;
  }
  for (size_t at = 0; at < bytes.size(); ++at)
    for (uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      auto mod = bytes;
      mod[at] = v;
      try {
        auto btf = Btf::parse(mod);
        for (uint32_t id = 0; id < btf.type_count(); ++id) {
          btf.type_name(id);
          btf.format_c(id);
          try {
            btf.size_of(id);
          } catch (const BtfError&) {
          }
        }
      } catch (const BtfError&) {
      }
    }
}

TEST(BtfMalformed, BadMagicAndVersion) {
  auto bytes = small_valid();
  auto m = bytes;
  m[0] = 0;
  EXPECT_EQ(parse_error(m).offset(), 0u);
  m = bytes;
  m[2] = 2;
  EXPECT_EQ(parse_error(m).offset(), 2u);
}

TEST(BtfMalformed, StringOffsetOutOfRange) {
  BtfBuilder b;
  b.type(9999, 1, 0, false, 4);
  b.u32(32);
  auto e = parse_error(b.build());
  EXPECT_EQ(e.type_id(), 1u);
  EXPECT_EQ(e.offset(), 24u);
  EXPECT_NE(std::string(e.what()).find("name offset 9999"), std::string::npos);
}

TEST(BtfMalformed, StringSectionNotTerminated) {
  auto bytes = small_valid();
  bytes.back() = 'x';
  EXPECT_EQ(parse_error(bytes).offset(), bytes.size() - 1);
}

TEST(BtfMalformed, TypeIdOutOfRange) {
  BtfBuilder b;
  b.int_type("int", 4, 32, 1);
  b.ref(2, 77);  // PTR to a type that does not exist
  auto e = parse_error(b.build());
  EXPECT_EQ(e.type_id(), 2u);
  EXPECT_EQ(e.offset(), 24u + 16 + 8);
  EXPECT_NE(std::string(e.what()).find("type id 77"), std::string::npos);
}

TEST(BtfMalformed, MemberTypeOutOfRange) {
  BtfBuilder b;
  b.type(b.str("s"), 4, 1, false, 4);
  b.u32(b.str("m"));
  b.u32(5);
  b.u32(0);
  auto e = parse_error(b.build());
  EXPECT_EQ(e.type_id(), 1u);
  EXPECT_EQ(e.offset(), 24u + 12 + 4);
}

TEST(BtfMalformed, TypedefLoop) {
  BtfBuilder b;
  b.ref(8, 2, "a");
  b.ref(10, 3);
  b.ref(8, 1, "c");
  auto e = parse_error(b.build());
  EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos);
  EXPECT_GE(e.type_id(), 1u);
  EXPECT_LE(e.type_id(), 3u);
}

TEST(BtfMalformed, SelfPointerLoop) {
  BtfBuilder b;
  b.ref(2, 1);  // PTR to itself
  auto e = parse_error(b.build());
  EXPECT_EQ(e.type_id(), 1u);
  EXPECT_EQ(e.offset(), 24u);
}

TEST(BtfMalformed, OverlongChain) {
  BtfBuilder b;
  uint32_t prev = b.int_type("int", 4, 32, 1);
  for (int i = 0; i < 300; ++i) prev = b.ref(10, prev);
  auto e = parse_error(b.build());
  EXPECT_NE(std::string(e.what()).find("deeper"), std::string::npos);
}

// Found by fuzz_btf: an id of 0xffffffff must not hide the references after it.
TEST(BtfMalformed, AllOnesTypeIdIsOutOfRange) {
  BtfBuilder b;
  b.int_type("int", 4, 32, 1);
  b.type(0, 13, 2, false, 1);  // FUNC_PROTO (0xffffffff, ptr-to-self)
  b.u32(0);
  b.u32(0xffffffff);
  b.u32(0);
  b.u32(3);
  b.ref(2, 2);
  auto e = parse_error(b.build());
  EXPECT_EQ(e.type_id(), 2u);
  EXPECT_NE(std::string(e.what()).find("4294967295"), std::string::npos);
}

TEST(BtfMalformed, HugeVlen) {
  BtfBuilder b;
  b.type(b.str("s"), 4, 0xffff, false, 4);  // 65535 members, none present
  b.u32(0);
  b.u32(0);
  b.u32(0);
  auto e = parse_error(b.build());
  EXPECT_EQ(e.type_id(), 1u);
  EXPECT_EQ(e.offset(), 24u);
  EXPECT_NE(std::string(e.what()).find("vlen 65535"), std::string::npos);
}

TEST(BtfMalformed, UnknownKindAndBadInt) {
  BtfBuilder b;
  b.type(0, 25, 0, false, 0);
  auto e = parse_error(b.build());
  EXPECT_EQ(e.offset(), 24u + 4);
  BtfBuilder c;
  c.int_type("int", 4, 64, 1);  // 64 bits in 4 bytes
  EXPECT_EQ(parse_error(c.build()).type_id(), 1u);
}

TEST(BtfMalformed, BitfieldPastStructEnd) {
  BtfBuilder b;
  uint32_t i = b.int_type("int", 4, 32, 1);
  b.type(b.str("s"), 4, 1, true, 4);
  b.u32(b.str("f"));
  b.u32(i);
  b.u32((8u << 24) | 30);
  auto e = parse_error(b.build());
  EXPECT_EQ(e.type_id(), 2u);
  EXPECT_EQ(e.offset(), 24u + 16 + 12 + 8);
}

TEST(BtfMalformed, FuncMustReferToProto) {
  BtfBuilder b;
  uint32_t i = b.int_type("int", 4, 32, 1);
  b.type(b.str("f"), 12, 0, false, i);
  EXPECT_EQ(parse_error(b.build()).type_id(), 2u);
}

TEST(BtfMalformed, DeclTagOnFuncWithBadProto) {
  BtfBuilder b;
  uint32_t i = b.int_type("int", 4, 32, 1);
  b.type(b.str("t"), 17, 0, false, 3);  // DECL_TAG on param 0 of the FUNC below
  b.u32(0);
  b.type(b.str("f"), 12, 0, false, i);  // FUNC whose "proto" is an INT
  EXPECT_EQ(parse_error(b.build()).type_id(), 2u);
}

TEST(BtfMalformed, SectionsOutOfBounds) {
  auto bytes = small_valid();
  uint32_t big = 1 << 20;
  std::memcpy(bytes.data() + 12, &big, 4);  // type_len
  EXPECT_EQ(parse_error(bytes).offset(), 8u);
  bytes = small_valid();
  std::memcpy(bytes.data() + 20, &big, 4);  // str_len
  EXPECT_EQ(parse_error(bytes).offset(), 16u);
}

TEST(BtfMalformed, ExponentialNameIsAnErrorNotAHang) {
  // proto_k(proto_{k-1} *, proto_{k-1} *): the name doubles at each level.
  BtfBuilder b;
  uint32_t prev = b.int_type("int", 4, 32, 1);
  for (int k = 0; k < 40; ++k) {
    uint32_t ptr = b.ref(2, prev);
    prev = b.type(0, 13, 2, false, prev == 1 ? 1 : 1);
    b.u32(0);
    b.u32(ptr);
    b.u32(0);
    b.u32(ptr);
  }
  auto btf = Btf::parse(b.build());
  EXPECT_THROW(btf.type_name(prev), BtfError);
}

}  // namespace
}  // namespace bpfkit::object
