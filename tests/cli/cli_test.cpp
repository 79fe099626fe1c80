// End-to-end tests of the bpfkit executable: asm, disasm and run, and the
// disassembler checked against llvm-objdump on clang-compiled objects.
#include <gtest/gtest.h>

#include "../support/run_command.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace {

const std::string kBpfkit = BPFKIT_BINARY_DIR "/bpfkit";
const std::string kSource = BPFKIT_SOURCE_DIR;

using Output = bpfkit::test_support::CommandResult;

Output run(const std::string& cmd) { return bpfkit::test_support::run_command(cmd); }

std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("bpfkit-cli-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

void write_text(const std::filesystem::path& p, const std::string& s) { std::ofstream(p) << s; }

TEST(Cli, FibonacciExampleOnBothEngines) {
  auto dir = temp_dir();
  auto obj = (dir / "fib.o").string();
  auto a = run(kBpfkit + " asm " + kSource + "/examples/fibonacci.s -o " + obj);
  ASSERT_EQ(a.status, 0) << a.output;
  for (const char* engine : {"interp", "jit"}) {
    auto r = run(kBpfkit + " run " + obj + " --engine " + engine);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("r0 = 0x27f80ddaa1ba7878 (2880067194370816120)"), std::string::npos) << r.output;
  }
}

TEST(Cli, ChecksumExampleReadsMemory) {
  const std::string header = "\"45 00 00 1c 00 00 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02\"";
  for (const char* engine : {"interp", "jit"}) {
    auto r = run(kBpfkit + " run " + kSource + "/examples/checksum.s --engine " + engine + " --mem " + header);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("r0 = 0x26cf (9935)"), std::string::npos) << r.output;
    // Odd length: the last byte is padded with zero.
    r = run(kBpfkit + " run " + kSource + "/examples/checksum.s --engine " + engine + " --mem '01 02 03 04 05'");
    EXPECT_NE(r.output.find("r0 = 0xf6f9"), std::string::npos) << r.output;
  }
}

TEST(Cli, OutOfBoundsAccessNamesTheInstruction) {
  auto dir = temp_dir();
  write_text(dir / "oob.s", "r2 = 8\nr0 = *(u64 *)(r1 + 16)\nexit\n");
  for (const char* engine : {"interp", "jit"}) {
    auto r = run(kBpfkit + " run " + (dir / "oob.s").string() + " --engine " + engine + " --mem '00 01 02 03'");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("instruction 1"), std::string::npos) << r.output;
  }
}

TEST(Cli, AssemblyErrorHasLineAndColumn) {
  auto dir = temp_dir();
  write_text(dir / "bad.s", "r0 = 1\nr11 = 2\nexit\n");
  auto r = run(kBpfkit + " asm " + (dir / "bad.s").string());
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(std::regex_search(r.output, std::regex("bad\\.s:2:[0-9]+: "))) << r.output;
}

TEST(Cli, BadMemoryHexNamesTheColumn) {
  auto r = run(kBpfkit + " run " + kSource + "/examples/checksum.s --mem '01 0g'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("'g' at column 5 is not a hex digit"), std::string::npos) << r.output;
  r = run(kBpfkit + " run " + kSource + "/examples/checksum.s --mem '01 0'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("odd number of hex digits"), std::string::npos) << r.output;
}

TEST(Cli, MalformedElfNamesTheOffset) {
  auto dir = temp_dir();
  auto obj = (dir / "cut.o").string();
  ASSERT_EQ(run(kBpfkit + " asm " + kSource + "/examples/fibonacci.s -o " + obj).status, 0);
  std::filesystem::resize_file(obj, 100);  // headers promise sections past the end
  auto r = run(kBpfkit + " disasm " + obj);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("ELF byte offset"), std::string::npos) << r.output;
}

TEST(Cli, TruncatedBytecodeIsReported) {
  auto dir = temp_dir();
  std::ofstream(dir / "trunc.bin", std::ios::binary).write("\xb7\x00\x00\x00\x01\x00\x00\x00\x95\x00", 10);
  auto r = run(kBpfkit + " disasm " + (dir / "trunc.bin").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
}

// The instruction text of llvm-objdump and of bpfkit for the same object, one
// instruction per line, with the differences that are spelling only removed:
// llvm-objdump's label annotations, and its `call -N` for bpf-to-bpf calls,
// which bpfkit prints as `call pc-N` to tell them from helper calls.
std::vector<std::string> instruction_lines(const std::string& listing, bool from_llvm) {
  std::vector<std::string> out;
  std::istringstream in(listing);
  std::string line;
  const std::regex insn(R"(^\s*\d+:\s+(?:[0-9a-f]{2} )*\s*(.*?)\s*$)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, insn)) continue;
    std::string text = m[1];
    if (text == "<unknown>") {  // llvm-objdump 14 cannot print 32-bit atomics (LLVM 15 can)
      out.push_back(text);
      continue;
    }
    text = std::regex_replace(text, std::regex(R"(\s*<[^<>]*>$)"), "");
    if (!from_llvm) text = std::regex_replace(text, std::regex(R"(^call pc([+-]))"), "call $1");
    text = std::regex_replace(text, std::regex(R"(^call \+)"), "call ");
    out.push_back(text);
  }
  return out;
}

TEST(Cli, DisassemblyMatchesLlvmObjdump) {
  if (system("command -v clang >/dev/null && command -v llvm-objdump >/dev/null") != 0)
    GTEST_SKIP() << "clang and llvm-objdump are not installed (scripts/install-deps.sh installs them)";
  auto dir = temp_dir();
  auto obj = (dir / "many_ops.o").string();
  auto c = run("clang -O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c " + kSource +
               "/tests/cli/data/many_ops.bpf.c -o " + obj);
  ASSERT_EQ(c.status, 0) << c.output;
  for (const char* section : {"xdp", "socket", ".text"}) {
    auto ours = run(kBpfkit + " disasm " + obj + " --section " + section);
    ASSERT_EQ(ours.status, 0) << ours.output;
    auto llvm = run("llvm-objdump -d --no-show-raw-insn --section=" + std::string(section) + " " + obj);
    ASSERT_EQ(llvm.status, 0) << llvm.output;
    auto a = instruction_lines(ours.output, false), b = instruction_lines(llvm.output, true);
    ASSERT_GT(b.size(), 3u) << llvm.output;
    ASSERT_EQ(a.size(), b.size()) << ours.output << "\n---\n" << llvm.output;
    for (size_t i = 0; i < a.size(); ++i)
      if (b[i] != "<unknown>") {
        EXPECT_EQ(a[i], b[i]) << "instruction line " << i << " of " << section;
      }
  }
}

// What llvm-objdump prints, bpfkit assembles back into the very same bytes.
TEST(Cli, AssemblingLlvmObjdumpOutputGivesTheSameBytes) {
  if (system("command -v clang >/dev/null && command -v llvm-objdump >/dev/null") != 0)
    GTEST_SKIP() << "clang and llvm-objdump are not installed (scripts/install-deps.sh installs them)";
  auto dir = temp_dir();
  auto obj = (dir / "many_ops2.o").string();
  ASSERT_EQ(run("clang -O2 -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c " + kSource +
                "/tests/cli/data/many_ops.bpf.c -o " + obj).status, 0);
  auto listing = run("llvm-objdump -d --no-show-raw-insn --section=xdp " + obj);
  auto ours = instruction_lines(run(kBpfkit + " disasm --section=xdp " + obj).output, false);
  auto theirs = instruction_lines(listing.output, true);
  ASSERT_EQ(ours.size(), theirs.size());
  std::string text;
  size_t unknown = 0;
  for (size_t i = 0; i < theirs.size(); ++i) {
    // llvm-objdump 14 prints bpf-to-bpf calls like helper calls; they are the only `call -N` here.
    std::string l = std::regex_replace(theirs[i], std::regex(R"(^call (-\d+)$)"), "call pc$1");
    if (l == "<unknown>") l = ours[i], ++unknown;  // what LLVM 14 cannot print, bpfkit's own text stands in
    text += l + "\n";
  }
  EXPECT_LT(unknown, theirs.size() / 10);
  write_text(dir / "xdp.s", text);
  auto a = run(kBpfkit + " asm " + (dir / "xdp.s").string() + " -o " + (dir / "xdp.bin").string());
  ASSERT_EQ(a.status, 0) << a.output;
  ASSERT_EQ(run("llvm-objcopy -O binary --only-section=xdp " + obj + " " + (dir / "xdp.ref").string()).status, 0);
  std::ifstream x(dir / "xdp.bin", std::ios::binary), y(dir / "xdp.ref", std::ios::binary);
  std::string xs((std::istreambuf_iterator<char>(x)), {}), ys((std::istreambuf_iterator<char>(y)), {});
  EXPECT_EQ(xs.size(), ys.size());
  EXPECT_TRUE(xs == ys) << "assembled bytes differ from clang's";
}

}  // namespace
