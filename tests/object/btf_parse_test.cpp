#include <gtest/gtest.h>

#include <algorithm>

#include "btf_builder.h"
#include "object/btf.h"

namespace bpfkit::object {
namespace {

using testing::BtfBuilder;

enum : uint32_t {
  kInt = 1,
  kPtr,
  kArray,
  kStruct,
  kUnion,
  kEnum,
  kFwd,
  kTypedef,
  kVolatile,
  kConst,
  kRestrict,
  kFunc,
  kFuncProto,
  kVar,
  kDatasec,
  kFloat,
  kDeclTag,
  kTypeTag,
  kEnum64
};

// A blob with every kind, used by several tests.
struct Sample {
  BtfBuilder b;
  uint32_t i32, u32, chr, ptr_chr, arr, list_head, ptr_list, node, e, e64, fwd, td, cst, cptr, vol, proto, fn,
      fnptr, var, sec, flt, tag, ttag, ptr_ttag, restr, arr_ptr, ptr_arr;
  Sample() {
    i32 = b.int_type("int", 4, 32, 1);
    u32 = b.int_type("unsigned int", 4, 32, 0);
    chr = b.int_type("char", 1, 8, 2);
    ptr_chr = b.ref(kPtr, chr);
    arr = b.type(0, kArray, 0, false, 0);
    b.u32(u32);
    b.u32(i32);
    b.u32(16);
    // struct list_head { struct list_head *next, *prev; }: a cycle through members is fine.
    list_head = b.type(b.str("list_head"), kStruct, 2, false, 16);
    ptr_list = list_head + 1;
    b.u32(b.str("next"));
    b.u32(ptr_list);
    b.u32(0);
    b.u32(b.str("prev"));
    b.u32(ptr_list);
    b.u32(64);
    b.ref(kPtr, list_head);
    // struct node { unsigned int a: 3; unsigned int b: 5; struct list_head l; } with kind_flag.
    node = b.type(b.str("node"), kStruct, 3, true, 24);
    b.u32(b.str("a"));
    b.u32(u32);
    b.u32((3u << 24) | 0);
    b.u32(b.str("b"));
    b.u32(u32);
    b.u32((5u << 24) | 3);
    b.u32(b.str("l"));
    b.u32(list_head);
    b.u32(64);
    e = b.type(b.str("color"), kEnum, 2, true, 4);
    b.u32(b.str("RED"));
    b.u32(uint32_t(-1));
    b.u32(b.str("BLUE"));
    b.u32(7);
    e64 = b.type(b.str("big"), kEnum64, 1, false, 8);
    b.u32(b.str("HUGE"));
    b.u32(0);
    b.u32(1);
    fwd = b.type(b.str("opaque"), kFwd, 0, true, 0);
    td = b.ref(kTypedef, u32, "u32_t");
    cst = b.ref(kConst, chr);
    cptr = b.ref(kPtr, cst);          // const char *
    vol = b.ref(kVolatile, ptr_chr);  // char * volatile
    proto = b.type(0, kFuncProto, 2, false, i32);
    b.u32(b.str("ctx"));
    b.u32(cptr);
    b.u32(b.str("n"));
    b.u32(td);
    fn = b.type(b.str("handler"), kFunc, 1, false, proto);
    fnptr = b.ref(kPtr, proto);
    var = b.type(b.str("counter"), kVar, 0, false, td);
    b.u32(1);
    sec = b.type(b.str(".data"), kDatasec, 1, false, 4);
    b.u32(var);
    b.u32(0);
    b.u32(4);
    flt = b.type(b.str("double"), kFloat, 0, false, 8);
    tag = b.type(b.str("mytag"), kDeclTag, 0, false, node);
    b.u32(1);
    ttag = b.ref(kTypeTag, i32, "user");
    ptr_ttag = b.ref(kPtr, ttag);
    restr = b.ref(kRestrict, ptr_chr);
    arr_ptr = b.type(0, kArray, 0, false, 0);  // char *[4]
    b.u32(ptr_chr);
    b.u32(i32);
    b.u32(4);
    ptr_arr = b.ref(kPtr, arr);  // unsigned int (*)[16]
  }
};

TEST(Btf, ParsesEveryKind) {
  Sample s;
  auto btf = Btf::parse(s.b.build());
  EXPECT_EQ(btf.type_count(), s.b.count() + 1);
  EXPECT_EQ(btf.type(0).kind, BtfKind::Void);
  const auto& i = btf.type(s.i32);
  EXPECT_EQ(i.kind, BtfKind::Int);
  EXPECT_EQ(i.as<BtfInt>()->bits, 32);
  EXPECT_EQ(i.as<BtfInt>()->encoding, kBtfIntSigned);
  EXPECT_EQ(btf.type(s.chr).as<BtfInt>()->encoding, kBtfIntChar);
  const auto* node = btf.type(s.node).as<BtfComposite>();
  ASSERT_NE(node, nullptr);
  ASSERT_EQ(node->members.size(), 3u);
  EXPECT_EQ(node->members[1].name, "b");
  EXPECT_EQ(node->members[1].bit_offset, 3u);
  EXPECT_EQ(node->members[1].bitfield_size, 5);
  EXPECT_EQ(node->members[2].bit_offset, 64u);
  const auto* en = btf.type(s.e).as<BtfEnum>();
  EXPECT_TRUE(en->is_signed);
  EXPECT_EQ(value_signed(en->values[0]), -1);
  EXPECT_EQ(value_unsigned(btf.type(s.e64).as<BtfEnum>()->values[0]), 1ull << 32);
  EXPECT_TRUE(btf.type(s.fwd).as<BtfFwd>()->is_union);
  EXPECT_EQ(btf.type(s.fn).as<BtfFunc>()->linkage, BtfLinkage::Global);
  EXPECT_EQ(btf.type(s.var).as<BtfVar>()->linkage, BtfLinkage::Global);
  EXPECT_EQ(btf.type(s.sec).as<BtfDatasec>()->vars.at(0).type, s.var);
  EXPECT_EQ(btf.type(s.tag).as<BtfDeclTag>()->component_idx, 1);
  EXPECT_EQ(btf.type(s.flt).size, 8u);
  EXPECT_EQ(btf.type(s.ttag).name, "user");
  EXPECT_EQ(btf.type(s.proto).as<BtfFuncProto>()->params.at(1).name, "n");
  EXPECT_THROW(btf.type(btf.type_count()), BtfError);
}

TEST(Btf, LookupResolveAndSize) {
  Sample s;
  auto btf = Btf::parse(s.b.build());
  EXPECT_EQ(btf.find_by_name("list_head", BtfKind::Struct), s.list_head);
  EXPECT_EQ(btf.find_by_name("list_head", BtfKind::Union), std::nullopt);
  EXPECT_EQ(btf.find_by_name("u32_t"), s.td);
  EXPECT_EQ(btf.resolve(s.td), s.u32);
  EXPECT_EQ(btf.resolve(s.cst), s.chr);
  EXPECT_EQ(btf.resolve(s.ttag), s.i32);
  EXPECT_EQ(btf.size_of(s.arr), 64u);
  EXPECT_EQ(btf.size_of(s.arr_ptr), 32u);
  EXPECT_EQ(btf.size_of(s.td), 4u);
  EXPECT_EQ(btf.size_of(s.node), 24u);
  EXPECT_EQ(btf.size_of(s.var), 4u);
  EXPECT_EQ(btf.size_of(s.fnptr), 8u);
  EXPECT_THROW(btf.size_of(s.fn), BtfError);
  EXPECT_THROW(btf.size_of(s.fwd), BtfError);
  EXPECT_THROW(btf.size_of(0), BtfError);
}

TEST(Btf, TypeNamesAsCSpellsThem) {
  Sample s;
  auto btf = Btf::parse(s.b.build());
  EXPECT_EQ(btf.type_name(0), "void");
  EXPECT_EQ(btf.type_name(s.arr), "unsigned int[16]");
  EXPECT_EQ(btf.type_name(s.ptr_list), "struct list_head *");
  EXPECT_EQ(btf.type_name(s.cptr), "const char *");
  EXPECT_EQ(btf.type_name(s.vol), "char * volatile");
  EXPECT_EQ(btf.type_name(s.restr), "char * restrict");
  EXPECT_EQ(btf.type_name(s.fnptr), "int (*)(const char *, u32_t)");
  EXPECT_EQ(btf.type_name(s.fn), "int handler(const char *ctx, u32_t n)");
  EXPECT_EQ(btf.type_name(s.arr_ptr), "char *[4]");
  EXPECT_EQ(btf.type_name(s.ptr_arr), "unsigned int (*)[16]");
  EXPECT_EQ(btf.type_name(s.e), "enum color");
  EXPECT_EQ(btf.type_name(s.fwd), "union opaque");
  EXPECT_EQ(btf.type_name(s.var), "u32_t counter");
  EXPECT_EQ(btf.type_name(s.ptr_ttag), "int __attribute__((btf_type_tag(\"user\"))) *");
  EXPECT_EQ(btf.declaration(s.fnptr, "cb"), "int (*cb)(const char *ctx, u32_t n)");
  EXPECT_EQ(btf.declaration(s.ptr_arr, "rows"), "unsigned int (*rows)[16]");
}

TEST(Btf, FormatsDefinitions) {
  Sample s;
  auto btf = Btf::parse(s.b.build());
  EXPECT_EQ(btf.format_c(s.list_head),
            "struct list_head {\n\tstruct list_head *next;\n\tstruct list_head *prev;\n};\n");
  EXPECT_EQ(btf.format_c(s.node),
            "struct node {\n\tunsigned int a: 3;\n\tunsigned int b: 5;\n\tstruct list_head l;\n};\n");
  EXPECT_EQ(btf.format_c(s.e), "enum color {\n\tRED = -1,\n\tBLUE = 7,\n};\n");
  EXPECT_EQ(btf.format_c(s.e64), "enum big {\n\tHUGE = 4294967296ULL,\n};\n");
  EXPECT_EQ(btf.format_c(s.td), "typedef unsigned int u32_t;\n");
}

TEST(Btf, SplitBtfContinuesIdsAndStrings) {
  Sample s;
  auto base = std::make_shared<const Btf>(Btf::parse(s.b.build()));
  BtfBuilder m;
  m.strings_.clear();  // split strings start right after the base's
  const uint32_t str_base = base->string_section_size();
  auto name = [&](const std::string& n) { return m.str(n) + str_base; };
  const uint32_t first = base->type_count();
  m.type(name("mod_s"), kStruct, 1, false, 8);
  m.u32(name("head"));
  m.u32(s.ptr_list);
  m.u32(0);
  m.type(0, kPtr, 0, false, first);
  const std::string next = std::string("next") + '\0';
  auto at = std::search(s.b.strings_.begin(), s.b.strings_.end(), next.begin(), next.end());
  m.type(uint32_t(at - s.b.strings_.begin()), kTypedef, 0, false, s.i32);
  auto split = Btf::parse(m.build(), base);
  EXPECT_EQ(split.first_own_id(), first);
  EXPECT_EQ(split.type_count(), first + 3);
  EXPECT_EQ(split.find_by_name("mod_s", BtfKind::Struct), first);
  EXPECT_EQ(split.type_name(first + 1), "struct mod_s *");
  EXPECT_EQ(split.format_c(first), "struct mod_s {\n\tstruct list_head *head;\n};\n");
  EXPECT_EQ(split.type_name(first + 2), "next");  // a typedef named by a base string
  EXPECT_EQ(split.resolve(first + 2), s.i32);
  EXPECT_EQ(split.find_by_name("list_head", BtfKind::Struct), s.list_head);
}

}  // namespace
}  // namespace bpfkit::object
