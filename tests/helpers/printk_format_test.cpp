// The format engine of bpf_trace_printk / bpf_snprintf: what the kernel accepts and
// how it renders it.
#include "helpers/printk_format.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace bpfkit::helpers {
namespace {

uint64_t ptr(const void* p) { return reinterpret_cast<uint64_t>(p); }

std::string fmt(std::string_view f, std::vector<uint64_t> args = {}, size_t max_args = 3) {
  args.resize(std::max(args.size(), max_args));
  std::string out;
  int err = bprintf_format(f, args, max_args, out);
  return err < 0 ? "error " + std::to_string(err) : out;
}

TEST(PrintkFormat, PlainText) {
  EXPECT_EQ(fmt("hello, world\n"), "hello, world\n");
  EXPECT_EQ(fmt("tab\there"), "tab\there");
  EXPECT_EQ(fmt("100%%"), "100%");
}

TEST(PrintkFormat, IntegersAre32BitsUnlessL) {
  EXPECT_EQ(fmt("%d", {uint64_t(-5)}), "-5");
  EXPECT_EQ(fmt("%i", {0x100000005ull}), "5");
  EXPECT_EQ(fmt("%u", {0xffffffffull}), "4294967295");
  EXPECT_EQ(fmt("%u", {uint64_t(-1)}), "4294967295");
  EXPECT_EQ(fmt("%ld", {uint64_t(-1)}), "-1");
  EXPECT_EQ(fmt("%lld %llu", {uint64_t(-2), uint64_t(-2)}), "-2 18446744073709551614");
  EXPECT_EQ(fmt("%lu", {0x123456789ull}), "4886718345");
  EXPECT_EQ(fmt("%x %X %llx", {255, 255, 0x123456789abull}), "ff FF 123456789ab");
  EXPECT_EQ(fmt("%lx", {0xdeadbeefcafeull}), "deadbeefcafe");
}

TEST(PrintkFormat, FlagsAndWidth) {
  EXPECT_EQ(fmt("%5d|%-5d|%05d", {42, 42, 42}), "   42|42   |00042");
  EXPECT_EQ(fmt("%+d|% d|%+d", {5, 5, uint64_t(-5)}), "+5| 5|-5");
  EXPECT_EQ(fmt("%08x", {0xbeef}), "0000beef");
  EXPECT_EQ(fmt("%-05d|", {7}), "7    |");
  EXPECT_EQ(fmt("%3c|%-3c|", {'a', 'b'}), "  a|b  |");
}

TEST(PrintkFormat, CharactersAndStrings) {
  const char s[] = "abc";
  EXPECT_EQ(fmt("%c%c", {'h', 'i'}), "hi");
  EXPECT_EQ(fmt("[%s]", {ptr(s)}), "[abc]");
  EXPECT_EQ(fmt("[%5s][%-5s]", {ptr(s), ptr(s)}), "[  abc][abc  ]");
  EXPECT_EQ(fmt("%pks %pus", {ptr(s), ptr(s)}), "abc abc");
  // An unreadable string prints as nothing, as the kernel's does.
  EXPECT_EQ(fmt("[%s]", {8}), "[]");
}

TEST(PrintkFormat, Pointers) {
  EXPECT_EQ(fmt("%p", {0x1234}), "0000000000001234");
  EXPECT_EQ(fmt("%px %pK", {0xabc, 0xdef}), "0000000000000abc 0000000000000def");
  EXPECT_EQ(fmt("%ps", {0xabc}), "0xabc");
  // vsprintf takes the letters after a %p form as its modifiers.
  EXPECT_EQ(fmt("%pKxyz!", {0x1}), "0000000000000001!");
}

TEST(PrintkFormat, IpAddresses) {
  const uint8_t v4[4] = {192, 168, 1, 2};
  const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(fmt("%pI4", {ptr(v4)}), "192.168.1.2");
  EXPECT_EQ(fmt("%pi4", {ptr(v4)}), "192.168.001.002");
  EXPECT_EQ(fmt("%pI6", {ptr(v6)}), "2001:0db8:0000:0000:0000:0000:0000:0001");
  EXPECT_EQ(fmt("%pi6", {ptr(v6)}), "20010db8000000000000000000000001");
  // The kernel prints %pI6c uncompressed (vsprintf sees a copy); the 'c' is swallowed.
  EXPECT_EQ(fmt("%pI6c|", {ptr(v6)}), "2001:0db8:0000:0000:0000:0000:0000:0001|");
  // An unreadable address prints as zeros.
  EXPECT_EQ(fmt("%pI4", {16}), "0.0.0.0");
}

TEST(PrintkFormat, RefusesWhatTheKernelRefuses) {
  const std::string einval = "error " + std::to_string(-EINVAL);
  for (const char* bad : {"%f", "%.2d", "%hd", "%n", "%q", "%sx", "%pZ", "%pI5", "%lf", "100%", "%lld%",
                          "\x01", "caf\xc3\xa9", "%d %d %d %d", "%z", "%#x", "%5"}) {
    EXPECT_EQ(fmt(bad, {1, 2, 3, 4}), einval) << bad;
  }
  // More specifiers than the array form passed arguments.
  EXPECT_EQ(fmt("%d %d", {1}, 1), einval);
  EXPECT_EQ(fmt("%d", {}, 0), einval);
  EXPECT_EQ(fmt("%d %d %d %d", {1, 2, 3, 4}, 12), "1 2 3 4");
}

TEST(PrintkFormat, ArgumentBufferIs512Bytes) {
  const std::string s(400, 'x');
  // The second string gets what is left of the buffer: 111 bytes, its NUL included.
  EXPECT_EQ(fmt("%s%s", {ptr(s.c_str()), ptr(s.c_str())}), s + std::string(110, 'x'));
  EXPECT_EQ(fmt("%s%s%d", {ptr(s.c_str()), ptr(s.c_str()), 1}), "error " + std::to_string(-ENOSPC));
}

}  // namespace
}  // namespace bpfkit::helpers
