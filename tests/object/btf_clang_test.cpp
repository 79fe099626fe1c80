// BTF and .BTF.ext of clang-compiled BPF objects, checked against the C source we
// wrote and against bpftool's dump of the same object.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "btf_raw.h"
#include "object/btf.h"
#include "object/btf_ext.h"
#include "object/elf_file.h"

namespace bpfkit::object {
namespace {

namespace fs = std::filesystem;

const char* kSource = R"(#define SEC(n) __attribute__((section(n), used))
struct pkt_meta {
  unsigned int flags: 3;
  unsigned int kind: 5;
  unsigned short port;
  long stamp;
  const char *name;
  int (*hook)(void *ctx, long n);
  unsigned char addr[16];
};
enum verdict { V_DROP = 1, V_PASS = 2, V_BIG = -3 };
typedef unsigned long long u64_t;
struct xdp_md { unsigned int data; unsigned int data_end; };
int __attribute__((btf_decl_tag("hot"))) hits = 3;
struct pkt_meta last_meta;

static __attribute__((noinline)) enum verdict classify(struct pkt_meta *m) {
  return m->kind > 3 ? V_PASS : V_DROP;
}

SEC("xdp") int xdp_count(struct xdp_md *ctx) {
  struct pkt_meta *m = &last_meta;
  unsigned int len = __builtin_preserve_access_index(ctx->data_end) - ctx->data;
  hits += len > 64;
  return classify(m) + (u64_t)len;
}
)";

struct Compiled {
  fs::path dir, object;
};

// Compiles kSource with clang; an empty path when clang is missing.
Compiled compile() {
  if (std::system("clang --version >/dev/null 2>&1") != 0) return {};
  Compiled c;
  c.dir = fs::temp_directory_path() / ("bpfkit_btf_" + std::to_string(getpid()));
  fs::create_directories(c.dir);
  std::ofstream(c.dir / "prog.bpf.c") << kSource;
  c.object = c.dir / "prog.bpf.o";
  const std::string cmd = "clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c " +
                          (c.dir / "prog.bpf.c").string() + " -o " + c.object.string() + " 2>&1";
  const std::string out = testing::run(cmd);
  if (!fs::exists(c.object)) ADD_FAILURE() << "clang failed: " << out;
  return c;
}

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class BtfClang : public ::testing::Test {
 protected:
  void SetUp() override {
    c_ = compile();
    if (c_.object.empty()) GTEST_SKIP() << "clang is not installed";
    ASSERT_TRUE(fs::exists(c_.object));
    elf_ = std::make_unique<ElfFile>(ElfFile::parse(read_file(c_.object)));
    const ElfSection* btf = elf_->find_section(".BTF");
    ASSERT_NE(btf, nullptr);
    btf_ = std::make_unique<Btf>(Btf::parse(elf_->section_data(*btf)));
  }
  void TearDown() override {
    if (!c_.dir.empty()) fs::remove_all(c_.dir);
  }
  Compiled c_;
  std::unique_ptr<ElfFile> elf_;
  std::unique_ptr<Btf> btf_;
};

TEST_F(BtfClang, TypesMatchTheSource) {
  const Btf& btf = *btf_;
  auto meta = btf.find_by_name("pkt_meta", BtfKind::Struct);
  ASSERT_TRUE(meta);
  EXPECT_EQ(btf.size_of(*meta), 48u);
  const auto& members = btf.type(*meta).as<BtfComposite>()->members;
  ASSERT_EQ(members.size(), 7u);
  EXPECT_TRUE(btf.type(*meta).kind_flag);  // bitfields present
  EXPECT_EQ(members[1].name, "kind");
  EXPECT_EQ(members[1].bit_offset, 3u);
  EXPECT_EQ(members[1].bitfield_size, 5);
  EXPECT_EQ(members[2].bit_offset, 16u);
  EXPECT_EQ(members[3].bit_offset, 64u);
  EXPECT_EQ(btf.type_name(members[4].type), "const char *");
  EXPECT_EQ(btf.type_name(members[5].type), "int (*)(void *, long)");
  EXPECT_EQ(btf.type_name(members[6].type), "unsigned char[16]");
  EXPECT_EQ(
      btf.format_c(*meta),
      "struct pkt_meta {\n\tunsigned int flags: 3;\n\tunsigned int kind: 5;\n\tunsigned short port;\n"
      "\tlong stamp;\n\tconst char *name;\n\tint (*hook)(void *, long);\n\tunsigned char addr[16];\n};\n");
  auto verdict = btf.find_by_name("verdict", BtfKind::Enum);
  ASSERT_TRUE(verdict);
  // clang 14 leaves kind_flag clear on signed enums, so -3 is stored as 4294967293.
  const auto* ev = btf.type(*verdict).as<BtfEnum>();
  ASSERT_EQ(ev->values.size(), 3u);
  EXPECT_EQ(int32_t(ev->values[2].raw), -3);
  if (testing::have_bpftool()) {
    // bpftool prints both definitions the same way.
    const std::string c = testing::run("bpftool btf dump file " + c_.object.string() + " format c");
    struct Def {
      const char* head;
      uint32_t id;
    };
    for (const Def& d : {Def{"enum verdict {", *verdict}, Def{"struct pkt_meta {", *meta}}) {
      const char* head = d.head;
      const size_t at = c.find(std::string("\n") + head);
      ASSERT_NE(at, std::string::npos) << head;
      const std::string want = c.substr(at + 1, c.find("\n};\n", at) + 4 - at - 1);
      std::optional<uint32_t> id = d.id;
      ASSERT_TRUE(id) << head;
      EXPECT_EQ(btf.format_c(*id), want);
    }
  }

  auto prog = btf.find_by_name("xdp_count", BtfKind::Func);
  ASSERT_TRUE(prog);
  EXPECT_EQ(btf.type(*prog).as<BtfFunc>()->linkage, BtfLinkage::Global);
  EXPECT_EQ(btf.type_name(*prog), "int xdp_count(struct xdp_md *ctx)");
  auto sub = btf.find_by_name("classify", BtfKind::Func);
  ASSERT_TRUE(sub);
  EXPECT_EQ(btf.type(*sub).as<BtfFunc>()->linkage, BtfLinkage::Static);

  auto hits = btf.find_by_name("hits", BtfKind::Var);
  ASSERT_TRUE(hits);
  EXPECT_EQ(btf.type_name(*hits), "int hits");
  bool tagged = false;
  for (uint32_t id = 1; id < btf.type_count(); ++id) {
    const auto& t = btf.type(id);
    if (t.kind == BtfKind::DeclTag && t.type == *hits) tagged = (t.name == "hot");
  }
  EXPECT_TRUE(tagged);
  auto data = btf.find_by_name(".data", BtfKind::Datasec);
  ASSERT_TRUE(data);
  ASSERT_EQ(btf.type(*data).as<BtfDatasec>()->vars.size(), 1u);
  EXPECT_EQ(btf.type(*data).as<BtfDatasec>()->vars[0].type, *hits);
}

TEST_F(BtfClang, ExtHasFuncLineAndCoreInfo) {
  const ElfSection* ext_sec = elf_->find_section(".BTF.ext");
  ASSERT_NE(ext_sec, nullptr);
  auto ext = BtfExt::parse(elf_->section_data(*ext_sec), *btf_);
  bool saw_xdp_func = false, saw_classify = false;
  for (const auto& sec : ext.func_info())
    for (const auto& f : sec.records) {
      const auto name = btf_->type(f.type_id).name;
      if (sec.name == "xdp" && name == "xdp_count") saw_xdp_func = f.insn_off == 0;
      if (name == "classify") saw_classify = true;
    }
  EXPECT_TRUE(saw_xdp_func);
  EXPECT_TRUE(saw_classify);

  bool saw_line = false;
  for (const auto& sec : ext.line_info())
    for (const auto& l : sec.records) {
      EXPECT_NE(l.file_name.find("prog.bpf.c"), std::string::npos);
      if (l.line.find("hits += len > 64;") != std::string::npos) {
        saw_line = true;
        EXPECT_EQ(sec.name, "xdp");
        EXPECT_EQ(l.line_num, 24u);  // line in kSource
        EXPECT_GT(l.column, 0u);
      }
    }
  EXPECT_TRUE(saw_line);

  ASSERT_FALSE(ext.core_relos().empty());
  const auto& relo = ext.core_relos()[0];
  EXPECT_EQ(relo.name, "xdp");
  ASSERT_FALSE(relo.records.empty());
  EXPECT_EQ(btf_->type(relo.records[0].type_id).name, "xdp_md");
  EXPECT_EQ(relo.records[0].access, "0:1");  // ctx->data_end
  EXPECT_EQ(relo.records[0].kind, 0u);       // BPF_CORE_FIELD_BYTE_OFFSET
}

TEST_F(BtfClang, MatchesBpftoolRawDump) {
  if (!testing::have_bpftool()) GTEST_SKIP() << "bpftool is not installed";
  const size_t lines = testing::expect_raw_matches(
      *btf_, testing::run("bpftool btf dump file " + c_.object.string() + " format raw"));
  EXPECT_GT(lines, 20u);
}

TEST_F(BtfClang, ExtTruncationsFailCleanly) {
  const ElfSection* ext_sec = elf_->find_section(".BTF.ext");
  ASSERT_NE(ext_sec, nullptr);
  auto bytes = elf_->section_data(*ext_sec);
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      BtfExt::parse(bytes.first(n), *btf_);
    } catch (const BtfError& e) {
      EXPECT_NE(std::string(e.what()).find("BTF byte offset"), std::string::npos);
    }
  }
  // A string offset past the .BTF strings: the line_info file name of the first record.
  std::vector<uint8_t> bad(bytes.begin(), bytes.end());
  uint32_t hdr_len, line_off;
  std::memcpy(&hdr_len, bad.data() + 4, 4);
  std::memcpy(&line_off, bad.data() + 16, 4);
  const size_t file_name_at = hdr_len + line_off + 4 + 8 + 4;
  uint32_t huge = 0x00ffffff;
  std::memcpy(bad.data() + file_name_at, &huge, 4);
  try {
    BtfExt::parse(bad, *btf_);
    ADD_FAILURE() << "accepted a bad string offset";
  } catch (const BtfError& e) {
    EXPECT_EQ(e.offset(), file_name_at);
  }
}

}  // namespace
}  // namespace bpfkit::object
