// printf formats: bpftrace 0.17's conversions, its piecewise printing and the C library's
// rendering. Expected outputs were checked against bpftrace 0.17 output on this machine
// (`bpftrace -e 'BEGIN { printf(...); exit(); }'`); the integer grid is compared with the
// host glibc snprintf, which bpftrace calls for every piece.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>

#include "lang/format/printf_format.h"

namespace bpfkit::lang::format {
namespace {

std::string fmt(std::string_view f, std::vector<Value> args = {}) {
  return format_printf(parse_printf_format(f), args);
}

Value buf(std::string bytes) { return Value(Buffer{std::move(bytes)}); }

TEST(FormatPrintf, IntegersWidthsAndFlags) {
  EXPECT_EQ(fmt("%d|%5d|%-5d|%05d|%x|%X|%o|%u\n", {42, 42, 42, 42, 255, 255, 8, -1}),
            "42|   42|42   |00042|ff|FF|10|4294967295\n");
  EXPECT_EQ(fmt("%lu %ld %llu %lld %hu %hhu %zu %jd\n", {1, 2, 3, 4, 5, 6, 7, 8}), "1 2 3 4 5 6 7 8\n");
  EXPECT_EQ(fmt("%5.3d|%.0d|%p|%10p|%-4c|\n", {7, 0, 0, 255, 65}), "  007||(nil)|      0xff|A   |\n");
  EXPECT_EQ(fmt("%c%c\n", {65, 66}), "AB\n");
  EXPECT_EQ(fmt("%p\n", {4096}), "0x1000\n");
  EXPECT_EQ(fmt("<%05s|%-05s|%05c|%010p|%-010p|%010p|%.2p|%8.2p|%.8p|%5.0d|%05.1d|%-5.3x|%.0o|%.0x|%05o>\n",
                {"ab", "ab", 65, 0x41, 0x41, 0, 0, 0, 0x41, 0, 5, 10, 0, 0, 8}),
            "<   ab|ab   |    A|0x00000041|0x41      |     (nil)|(nil)|   (nil)|0x00000041|     |    5|00a  "
            "|||00010>\n");
  EXPECT_EQ(fmt("<%-05d|%010.3x|%20p|%-lld|%00d>", {65, 65, 65, 65, 65}),
            "<65   |       041|                0x41|65|65>");
}

TEST(FormatPrintf, IntegersArePrintedFromTheirLowBitsWithoutALength) {
  EXPECT_EQ(fmt("%d %u %x %ld %lx\n", {int64_t{1} << 40, int64_t{1} << 40, -1, -1, -1}),
            "0 0 ffffffff -1 ffffffffffffffff\n");
  EXPECT_EQ(fmt("%hd %hhd %hu %hhx\n", {70000, 300, -1, -1}), "4464 44 65535 ff\n");
  // (int32)-1, (int32)-1, (int8)-2 arrive sign-extended, (uint32)0xffffffff zero-extended.
  EXPECT_EQ(fmt("%ld %lu %lx %d %ld\n",
                {int64_t{-1}, int64_t{-1}, int64_t{-2}, uint64_t{0xffffffff}, uint64_t{0xffffffff}}),
            "-1 18446744073709551615 fffffffffffffffe -1 4294967295\n");
  uint64_t all = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(fmt("%lu %ld %d %u\n", {all, all, all, all}), "18446744073709551615 -1 -1 4294967295\n");
  EXPECT_EQ(fmt("<%c%d>\n", {0x141, 1}), "<A1>\n");
}

TEST(FormatPrintf, StringsAndChars) {
  EXPECT_EQ(fmt("%s|%10s|%-10s|%.2s|\n", {"abc", "abc", "abc", "abc"}), "abc|       abc|abc       |ab|\n");
  // %c of 0: the piece ends at the NUL, padding before it stays.
  EXPECT_EQ(fmt("a%cb|%d\n", {0, 5}), "ab|5\n");
  EXPECT_EQ(fmt("<%5c|%-5c|%d>\n", {0, 0, 1}), "<    ||1>\n");
  EXPECT_EQ(fmt("%s|\n", {"\n        syscall+25\n        0x7ffecca3bfe8\n"}),
            "\n        syscall+25\n        0x7ffecca3bfe8\n|\n");
}

TEST(FormatPrintf, PercentSigns) {
  EXPECT_EQ(fmt("%%|%d%%\n", {42}), "%|42%%\n");  // after the last conversion: verbatim
  EXPECT_EQ(fmt("%%\n"), "%%\n");
  EXPECT_EQ(fmt("abc %"), "abc %");
  EXPECT_EQ(fmt("<%%%d>\n", {1}), "<%1>\n");
  // "%%d" is a conversion to bpftrace; the C library prints "%d" and ignores the argument.
  PrintfFormat f = parse_printf_format("%%d|\n");
  ASSERT_EQ(f.conversions.size(), 1u);
  EXPECT_TRUE(f.conversions[0].after_percent);
  EXPECT_EQ(fmt("%%d|\n", {42}), "%d|\n");
  EXPECT_EQ(fmt("<%%d %d>\n", {1, 2}), "<%d 2>\n");
  EXPECT_EQ(fmt("%dms\n", {42}), "42ms\n");
  // Conversions bpftrace does not know, after the last one: printed as written.
  EXPECT_EQ(fmt("%d %i %+d %e\n", {7}), "7 %i %+d %e\n");
}

TEST(FormatPrintf, Buffers) {
  EXPECT_EQ(fmt("<%r>\n", {buf(std::string("ab\tc\x01\xff\0", 7))}), "<ab\\x09c\\x01\\xff\\x00>\n");
  EXPECT_EQ(fmt("<%rx>|<%rh>\n", {buf(std::string("ab\0", 3)), buf(std::string("ab\0", 3))}),
            "<\\x61\\x62\\x00>|<61 62 00>\n");
  EXPECT_EQ(fmt("<%10r>|<%-10rx>|<%.2r>\n", {buf("ab"), buf("ab"), buf("abcd")}), "<%10r>|<%-10rx>|<%.2r>\n");
  EXPECT_EQ(fmt("<%r>\n", {buf(" ~\\\"\x7f\x80")}), "< ~\\\"\\x7f\\x80>\n");
  EXPECT_EQ(fmt("<%r|%rx>\n", {buf("a"), buf("b")}), "<a|\\x62>\n");
  EXPECT_EQ(fmt("<%%r %r>\n", {buf("a"), buf("b")}), "<%s b>\n");
  EXPECT_EQ(fmt("<%r %d>\n", {buf("a"), 5}), "<a 5>\n");
}

TEST(FormatPrintf, AcceptedAndRefusedConversions) {
  // Each written as "<%X>\n" with the argument 65 in bpftrace 0.17.
  struct Case {
    const char* spec;
    const char* out;
  };
  const Case accepted[] = {
      {"d", "65"},   {"u", "65"},    {"x", "41"},     {"X", "41"},     {"o", "101"},   {"c", "A"},
      {"p", "0x41"}, {"hd", "65"},   {"hhd", "65"},   {"hu", "65"},    {"hhu", "65"},  {"hx", "41"},
      {"hhx", "41"}, {"hX", "41"},   {"ho", "101"},   {"hho", "101"},  {"hp", "0x41"}, {"ld", "65"},
      {"lu", "65"},  {"lx", "41"},   {"lX", "41"},    {"lo", "101"},   {"lp", "0x41"}, {"lld", "65"},
      {"llu", "65"}, {"llx", "41"},  {"llX", "41"},   {"llo", "101"},  {"zd", "65"},   {"zu", "65"},
      {"zx", "41"},  {"zX", "41"},   {"zo", "101"},   {"jd", "65"},    {"ju", "65"},   {"jx", "41"},
      {"jX", "41"},  {"jo", "101"},  {"td", "65"},    {"tu", "65"},    {"tx", "41"},   {"tX", "41"},
      {"to", "101"}, {"tp", "0x41"}, {"hhp", "0x41"}, {"llp", "0x41"}, {"zp", "0x41"}, {"jp", "0x41"},
      {"-d", "65"},  {"-x", "41"},   {"00d", "65"}};
  for (const Case& c : accepted) {
    std::string f = std::string("<%") + c.spec + ">\n";
    PrintfFormat parsed = parse_printf_format(f);
    ASSERT_EQ(parsed.conversions.size(), 1u) << f;
    EXPECT_EQ(format_printf(parsed, std::vector<Value>{65}), std::string("<") + c.out + ">\n") << f;
  }
  EXPECT_EQ(parse_printf_format("<%s>").conversions.at(0).kind, ArgKind::String);
  EXPECT_EQ(parse_printf_format("<%5.2s>").conversions.at(0).kind, ArgKind::String);
  EXPECT_EQ(parse_printf_format("<%rh>").conversions.at(0).buffer_style, 'h');
  // bpftrace: "Too many arguments for format string (1 supplied, 0 expected)".
  for (const char* spec :
       {"i",  "e",  "f",  "g",  "n",   "a",   "b",    "hi",  "hc", "hs", "li", "lc", "ls", "lli",
        "zi", "ji", "Lu", "qd", "lhd", "hld", "lllu", "hhc", ".d", "+d", " d", "#x", "q"}) {
    std::string f = std::string("<%") + spec + ">\n";
    EXPECT_TRUE(parse_printf_format(f).conversions.empty()) << f;
  }
}

TEST(FormatPrintf, ConversionFields) {
  PrintfFormat f = parse_printf_format("ab %-010.3llx %s");
  ASSERT_EQ(f.conversions.size(), 2u);
  const Conversion& c = f.conversions[0];
  EXPECT_EQ(c.offset, 3u);
  EXPECT_EQ(c.spec, "%-010.3llx");
  EXPECT_EQ(c.token, "llx");
  EXPECT_EQ(c.letter, 'x');
  EXPECT_EQ(c.kind, ArgKind::Integer);
  EXPECT_TRUE(c.left);
  EXPECT_TRUE(c.zero_pad);
  EXPECT_EQ(c.width, 10);
  EXPECT_EQ(c.precision, 3);
  EXPECT_EQ(c.length, LengthMod::LL);
  EXPECT_EQ(f.literals, (std::vector<std::string>{"ab ", " "}));
  EXPECT_EQ(f.tail, "");
  EXPECT_EQ(f.conversions[1].offset, 14u);
}

TEST(FormatPrintf, ArgumentErrorsAreBpftraceMessages) {
  auto err = [](std::string_view f, std::vector<std::string_view> types) {
    return printf_args_error(parse_printf_format(f), types);
  };
  EXPECT_EQ(err("%d %d\n", {"integer"}),
            "printf: Not enough arguments for format string (1 supplied, 2 expected)");
  EXPECT_EQ(err("%+d|% d|%#x\n", {"integer", "integer", "integer"}),
            "printf: Too many arguments for format string (3 supplied, 0 expected)");
  EXPECT_EQ(err("%d\n", {"integer", "integer", "integer"}),
            "printf: Too many arguments for format string (3 supplied, 1 expected)");
  EXPECT_EQ(err("%%d\n", {}), "printf: Not enough arguments for format string (0 supplied, 1 expected)");
  EXPECT_EQ(err("%s\n", {"integer"}),
            "printf: %s specifier expects a value of type string (integer supplied)");
  EXPECT_EQ(err("%d\n", {"string"}),
            "printf: %d specifier expects a value of type integer (string supplied)");
  EXPECT_EQ(err("<%-5lu>\n", {"tuple"}),
            "printf: %lu specifier expects a value of type integer (tuple supplied)");
  EXPECT_EQ(err("<%10s>\n", {"tuple"}),
            "printf: %s specifier expects a value of type string (tuple supplied)");
  EXPECT_EQ(err("<%hhx>\n", {"tuple"}),
            "printf: %hhx specifier expects a value of type integer (tuple supplied)");
  EXPECT_EQ(err("<%rx>\n", {"tuple"}),
            "printf: %rx specifier expects a value of type buffer (tuple supplied)");
  EXPECT_EQ(err("<%c>\n", {"string"}),
            "printf: %c specifier expects a value of type integer (string supplied)");
  EXPECT_EQ(err("<%p>\n", {"string"}),
            "printf: %p specifier expects a value of type integer (string supplied)");
  EXPECT_EQ(err("<%s>\n", {"buffer"}),
            "printf: %s specifier expects a value of type string (buffer supplied)");
  EXPECT_EQ(err("%d %s\n", {"string", "integer"}),
            "printf: %d specifier expects a value of type integer (string supplied)");
  EXPECT_EQ(err("%d %s %r\n", {"integer", "string", "buffer"}), "");
}

TEST(FormatPrintf, PercentBeforeAConversionThatIsNotOneIsRefused) {
  auto offset_of = [](std::string_view f) -> long {
    try {
      parse_printf_format(f);
    } catch (const FormatError& e) {
      EXPECT_NE(e.message().find("not a conversion"), std::string::npos) << e.what();
      return long(e.offset());
    }
    return -1;
  };
  EXPECT_EQ(offset_of("%i %d"), 0);
  EXPECT_EQ(offset_of("ab %+d %d"), 3);
  EXPECT_EQ(offset_of("50% done: %d"), 2);
  EXPECT_EQ(offset_of("%5%d"), 0);
  EXPECT_EQ(offset_of("%d %i"), -1);  // after the last conversion: verbatim, as bpftrace
  EXPECT_EQ(offset_of("100%%: %d"), -1);
  EXPECT_THROW(parse_printf_format("%999999d"), FormatError);
  EXPECT_THROW(parse_printf_format("%.999999s"), FormatError);
  try {
    parse_printf_format("x %i %d");
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'%i'"), std::string::npos) << e.what();
  }
}

TEST(FormatPrintf, MismatchedOrMissingArgumentsDoNotThrow) {
  EXPECT_EQ(fmt("<%d|%s>", {"abc", 5}), "<abc|5>");
  // Value(...) spelled out: {Tuple{...}} alone would copy-initialise the argument vector itself under clang.
  EXPECT_EQ(fmt("<%5d>", {Value(Tuple{1, "a"})}), "<(1, a)>");
  EXPECT_EQ(fmt("<%r>", {std::string("a\x01")}), "<a\\x01>");
  EXPECT_EQ(fmt("<%d %s>", {}), "<%d %s>");
  EXPECT_EQ(fmt("<%d>", {1, 2, 3}), "<1>");
}

// The host C library is what bpftrace prints each piece with: compare a grid of integer
// conversions (the value passed as bpftrace passes it: a 64-bit integer, read by the C
// library as an int without a length modifier).
TEST(FormatPrintf, IntegerGridMatchesTheCLibrary) {
  const char* flags[] = {"", "-", "0", "-0"};
  const char* widths[] = {"", "1", "5", "12", "25"};
  const char* precisions[] = {"", ".0", ".1", ".5", ".21"};
  const char* lengths[] = {"", "hh", "h", "l", "ll", "z", "j", "t"};
  const char letters[] = {'d', 'u', 'x', 'X', 'o', 'p', 'c'};
  const uint64_t values[] = {0,
                             1,
                             uint64_t(-1),
                             42,
                             0x80,
                             0xff,
                             0x8000,
                             0x7fffffff,
                             0x80000000,
                             uint64_t(1) << 40,
                             uint64_t(std::numeric_limits<int64_t>::min()),
                             uint64_t(std::numeric_limits<int64_t>::max()),
                             0x1234567890abcdefULL};
  int checked = 0;
  for (const char* flag : flags) {
    for (const char* width : widths) {
      for (const char* precision : precisions) {
        for (const char* length : lengths) {
          for (char letter : letters) {
            if (letter == 'c' && (*length || *precision)) continue;  // not a bpftrace conversion / undefined
            std::string spec = std::string("%") + flag + width + precision + length + letter;
            PrintfFormat parsed = parse_printf_format("[" + spec + "]");
            ASSERT_EQ(parsed.conversions.size(), 1u) << spec;
            for (uint64_t v : values) {
              char expected[128];
              bool wide = letter == 'p' || (*length && length[0] != 'h');
              if (letter == 'p') {
                std::snprintf(expected, sizeof expected, ("[" + spec + "]").c_str(),
                              reinterpret_cast<void*>(v));
              } else if (wide) {
                std::snprintf(expected, sizeof expected, ("[" + spec + "]").c_str(), (unsigned long long)v);
              } else {
                std::snprintf(expected, sizeof expected, ("[" + spec + "]").c_str(), (unsigned)(uint32_t)v);
              }
              if (letter == 'c' && (v & 0xff) == 0) continue;  // NUL: covered by StringsAndChars
              EXPECT_EQ(format_printf(parsed, std::vector<Value>{Value(v)}), expected) << spec << " of " << v;
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST(FormatPrintf, StringGridMatchesTheCLibrary) {
  for (const char* flag : {"", "-", "0"}) {
    for (const char* width : {"", "1", "4", "9"}) {
      for (const char* precision : {"", ".0", ".2", ".7"}) {
        for (const char* s : {"", "a", "hello", "hello world"}) {
          std::string spec = std::string("%") + flag + width + precision + "s";
          char expected[64];
          std::snprintf(expected, sizeof expected, ("<" + spec + ">").c_str(), s);
          EXPECT_EQ(fmt("<" + spec + ">", {s}), expected) << spec << " of " << s;
        }
      }
    }
  }
}

}  // namespace
}  // namespace bpfkit::lang::format
