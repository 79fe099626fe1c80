// Event lines other than maps (printf, print of a value, time, join, cat, system, probes
// attached, lost events) and value rendering. Expected text was checked against bpftrace 0.17
// output on this machine, text and -f json.
#include <gtest/gtest.h>

#include "lang/format/json_output.h"
#include "lang/format/value.h"

namespace bpfkit::lang::format {
namespace {

TEST(FormatEvents, Json) {
  EXPECT_EQ(json_attached_probes(1), "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}\n");
  EXPECT_EQ(json_printf_event("a\tb\"c\n"), "{\"type\": \"printf\", \"data\": \"a\\tb\\\"c\\n\"}\n");
  EXPECT_EQ(json_printf_event("5\n"), "{\"type\": \"printf\", \"data\": \"5\\n\"}\n");
  EXPECT_EQ(json_value_event(5), "{\"type\": \"value\", \"data\": 5}\n");
  EXPECT_EQ(json_value_event("str"), "{\"type\": \"value\", \"data\": \"str\"}\n");
  EXPECT_EQ(json_value_event(Tuple{1, "a"}), "{\"type\": \"value\", \"data\": [1,\"a\"]}\n");
  EXPECT_EQ(json_value_event(-3), "{\"type\": \"value\", \"data\": -3}\n");
  EXPECT_EQ(json_value_event(Buffer{std::string("y\x03")}),
            "{\"type\": \"value\", \"data\": \"y\\\\x03\"}\n");
  EXPECT_EQ(json_time_event("11:20\n"), "{\"type\": \"time\", \"data\": \"11:20\\n\"}\n");
  EXPECT_EQ(json_join_event("/bin/echo,a1,b 2"), "{\"type\": \"join\", \"data\": \"/bin/echo,a1,b 2\"}\n");
  EXPECT_EQ(json_cat_event("line1\n"), "{\"type\": \"cat\", \"data\": \"line1\\n\"}\n");
  EXPECT_EQ(json_syscall_event("sys\n"), "{\"type\": \"syscall\", \"data\": \"sys\\n\"}\n");
  EXPECT_EQ(json_lost_events(173), "");  // 0.17 -f json prints nothing for them
  EXPECT_EQ(json_printf_event("<\x01\x1f\x7f\xc3\xa9\xff/\r\t>\n"),
            "{\"type\": \"printf\", \"data\": "
            "\"<\\u0001\\u001f\x7f\\uffffffc3\\uffffffa9\\uffffffff/\\r\\t>\\n\"}\n");
}

TEST(FormatEvents, Text) {
  EXPECT_EQ(text_attached_probes(1), "Attaching 1 probe...\n");
  EXPECT_EQ(text_attached_probes(2), "Attaching 2 probes...\n");
  EXPECT_EQ(text_lost_events(173), "Lost 173 events\n");
  EXPECT_EQ(text_value_event(5), "5\n");
  EXPECT_EQ(text_value_event("str"), "str\n");
  EXPECT_EQ(text_value_event(Tuple{1, "a", -2}), "(1, a, -2)\n");
  EXPECT_EQ(text_value_event(-3), "-3\n");
  EXPECT_EQ(text_value_event(uint64_t(-1)), "18446744073709551615\n");
  EXPECT_EQ(text_value_event(Buffer{"zz\n"}), "zz\\x0a\n");
  EXPECT_EQ(text_value_event("\n        syscall+25\n        0x7ffecca3bfe8\n"),
            "\n        syscall+25\n        0x7ffecca3bfe8\n\n");
  EXPECT_EQ(text_join_event("/bin/echo a1 b 2"), "/bin/echo a1 b 2\n");
}

TEST(FormatEvents, ValuesAndOrdering) {
  EXPECT_EQ(format_value(Tuple{1, "two", -3}), "(1, two, -3)");
  EXPECT_EQ(format_value(Tuple{1, "a", Tuple{2, "b"}, -1}), "(1, a, (2, b), -1)");
  EXPECT_EQ(json_value(Tuple{1, "a", Tuple{2, "b"}}), "[1,\"a\",[2,\"b\"]]");
  EXPECT_EQ(escape_buffer(std::string(" ~\\\"\x7f\x80\x1f\0", 8)), " ~\\\"\\x7f\\x80\\x1f\\x00");
  EXPECT_EQ(json_escape("a\"b\\c\n\b\f\x7f"), "a\\\"b\\\\c\\n\\u0008\\u000c\x7f");
  EXPECT_TRUE(compare_values(-5, 3) < 0);
  EXPECT_TRUE(compare_values(uint64_t(-1), uint64_t(3)) > 0);
  EXPECT_TRUE(compare_values(-1, uint64_t(0)) < 0);
  EXPECT_TRUE(compare_keys(-5, 3) > 0);  // keys compare as unsigned
  EXPECT_TRUE(compare_keys("B", "a") < 0);
  EXPECT_TRUE(compare_keys("a", "ab") < 0);
  EXPECT_TRUE(compare_values(Tuple{1, "b"}, Tuple{1, "c"}) < 0);
  EXPECT_TRUE(compare_values(7, 7) == 0);
  Value i8 = int8_t(-1), u32 = uint32_t(0xffffffff);
  EXPECT_EQ(i8.bits(), ~uint64_t{0});
  EXPECT_EQ(u32.bits(), 0xffffffffu);
}

}  // namespace
}  // namespace bpfkit::lang::format
