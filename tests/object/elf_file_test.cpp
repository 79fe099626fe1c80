#include <cstring>
#include <elf.h>
#include <gtest/gtest.h>

#include "isa/codec.h"
#include "object/elf_file.h"

namespace bpfkit::object {
namespace {

std::vector<isa::RawInsn> sample_insns() {
  return isa::encode_program(std::vector<isa::Instruction>{
      isa::Alu{isa::AluOp::Mov, true, 0, isa::Operand::Imm(7)}, isa::Exit{}});
}

TEST(ElfFile, WrittenObjectReadsBack) {
  auto bytes = write_bpf_object({{"xdp", "pass", sample_insns()}, {"socket", "filter", sample_insns()}});
  auto elf = ElfFile::parse(bytes);
  EXPECT_EQ(elf.machine(), EM_BPF);
  auto progs = elf.program_sections();
  ASSERT_EQ(progs.size(), 2u);
  EXPECT_EQ(progs[0]->name, "xdp");
  EXPECT_EQ(progs[1]->name, "socket");
  auto data = elf.section_data(*progs[0]);
  EXPECT_EQ(isa::raw_from_bytes(data), sample_insns());
  ASSERT_NE(elf.find_section("license"), nullptr);
  bool found = false;
  for (const auto& s : elf.symbols())
    if (s.name == "filter") found = (s.section == progs[1]->index && s.type == STT_FUNC);
  EXPECT_TRUE(found);
}

TEST(ElfFile, RejectsBadMagic) {
  std::vector<uint8_t> bytes(64, 0);
  EXPECT_THROW(ElfFile::parse(bytes), ElfError);
}

// Every truncation of a valid object either parses or fails with an ElfError: never a crash.
TEST(ElfFile, EveryTruncationFailsCleanly) {
  auto bytes = write_bpf_object({{"xdp", "pass", sample_insns()}});
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(n));
    try {
      ElfFile::parse(cut);
    } catch (const ElfError& e) {
      EXPECT_NE(std::string(e.what()).find("ELF byte offset"), std::string::npos);
    }
  }
}

TEST(ElfFile, SectionPastEndNamesItsOffset) {
  auto bytes = write_bpf_object({{"xdp", "pass", sample_insns()}});
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  Elf64_Shdr sh;
  const size_t at = eh.e_shoff + sizeof(Elf64_Shdr);  // section 1: the program
  std::memcpy(&sh, bytes.data() + at, sizeof sh);
  sh.sh_size = 1 << 20;
  std::memcpy(bytes.data() + at, &sh, sizeof sh);
  try {
    ElfFile::parse(bytes);
    FAIL() << "oversized section accepted";
  } catch (const ElfError& e) {
    EXPECT_EQ(e.offset(), sh.sh_offset);
    EXPECT_NE(std::string(e.what()).find("runs past the end"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bpfkit::object
