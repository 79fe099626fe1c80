// trace_pipe lines split into fields: the kernel's layouts (padded task names,
// the optional tgid column, flags of four or five characters, no irq-info column),
// task names holding dashes and brackets, and text that is not a trace line.
#include "target/linux/trace_pipe_line.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace bpfkit::target::linux_kernel {
namespace {

TEST(TracePipeLine, SplitsAPrintkLineAsTheKernelPadsIt) {
  const auto line =
      parse_trace_line("           curl-4242    [001] d..31  1234.567890: bpf_trace_printk: hello, world\n");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->comm, "curl");
  EXPECT_EQ(line->pid, 4242);
  EXPECT_FALSE(line->tgid);
  EXPECT_EQ(line->cpu, 1u);
  EXPECT_EQ(line->flags, "d..31");
  EXPECT_EQ(line->timestamp_ns, 1234567890000ull);
  EXPECT_EQ(line->event, "bpf_trace_printk");
  EXPECT_EQ(line->message, "hello, world");
}

TEST(TracePipeLine, ReadsTheTgidColumn) {
  auto line =
      parse_trace_line("          <idle>-0       (      0) [000] ..s2.   99.000001: bpf_trace_printk: x");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->comm, "<idle>");
  EXPECT_EQ(line->pid, 0);
  EXPECT_EQ(line->tgid, 0);
  EXPECT_EQ(line->flags, "..s2.");
  EXPECT_EQ(line->timestamp_ns, 99000001000ull);
  line = parse_trace_line("   worker-thread-77 (  70) [003] .... 5.5: bpf_trace_printk: y");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->comm, "worker-thread");
  EXPECT_EQ(line->pid, 77);
  EXPECT_EQ(line->tgid, 70);
  EXPECT_EQ(line->cpu, 3u);
  EXPECT_EQ(line->timestamp_ns, 5500000000ull);
  // "(-------)": the kernel did not record the process.
  line = parse_trace_line("<...>-12 (-------) [001] d..1. 1.000000: bpf_trace_printk: z");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->comm, "<...>");
  EXPECT_FALSE(line->tgid);
}

TEST(TracePipeLine, TaskNamesMayHoldDashesSpacesAndBrackets) {
  auto line = parse_trace_line("  my-app [v2]-900 [001] .... 10.000000: bpf_trace_printk: m");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->comm, "my-app [v2]");
  EXPECT_EQ(line->pid, 900);
  EXPECT_EQ(line->cpu, 1u);
  line = parse_trace_line("  a [7] b-5 [002] .... 1.0: bpf_trace_printk: n");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->comm, "a [7] b");
  EXPECT_EQ(line->cpu, 2u);
}

TEST(TracePipeLine, TheMessageIsKeptVerbatim) {
  auto line = parse_trace_line("p-1 [000] .... 1.000000: bpf_trace_printk:   indented [3] a: b: c\r\n");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->message, "  indented [3] a: b: c");
  line = parse_trace_line("p-1 [000] .... 1.000000: bpf_trace_printk: ");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->event, "bpf_trace_printk");
  EXPECT_EQ(line->message, "");
}

TEST(TracePipeLine, FlagsAndEventMayBeAbsent) {
  // irq-info off: no flags column.
  auto line = parse_trace_line("p-1 [000] 12.345678: bpf_trace_printk: m");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->flags, "");
  EXPECT_EQ(line->timestamp_ns, 12345678000ull);
  EXPECT_EQ(line->event, "bpf_trace_printk");
  // A function tracer's line names no event.
  line = parse_trace_line("p-1 [000] .... 12.345678: do_sys_open <-do_syscall_64");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->event, "");
  EXPECT_EQ(line->message, "do_sys_open <-do_syscall_64");
  // Nanosecond clocks and counters.
  line = parse_trace_line("p-1 [000] .... 3.000000007: e: m");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->timestamp_ns, 3000000007ull);
  line = parse_trace_line("p-1 [000] .... 123456: e: m");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->timestamp_ns, 123456000000000ull);
}

TEST(TracePipeLine, OtherTextIsNotALine) {
  for (const char* text :
       {"", "\n", "hello", "CPU:1 [LOST 12 EVENTS]", "p-1 [000] .... : bpf_trace_printk: m",
        "p-1 [x] .... 1.0: e: m", "p [000] .... 1.0: e: m", "p-1a [000] .... 1.0: e: m",
        "p-1 [000] .... 1.0 e: m", "p-1 [000]", "p-1 [000] ....", "p-1 (x) [000] 1.0: e: m",
        "p-99999999999 [000] .... 1.0: e: m", "p-1 [000] .... 1.0123456789: e: m",
        "p-1 [000] .... 99999999999.0: e: m", "p-1 [0000000] .... 1.0: e: m"}) {
    EXPECT_FALSE(parse_trace_line(text)) << "'" << text << "'";
  }
}

// Every " [N]" is a candidate CPU column: trying them all must not cost the
// square of the line's length (a 400 KB line here would take minutes).
TEST(TracePipeLine, ManyCandidateColumnsInALongLineParseQuickly) {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "x-1 [0] ";
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(parse_trace_line(text));
  const std::string comm = text.substr(0, text.size() - 8) + "x";  // all but the last "-1 [0] "
  text += "1.0: e: m";
  const auto line = parse_trace_line(text);  // the last column is the one that fits
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->comm == comm) << line->comm.size() << " bytes of task name";
  EXPECT_EQ(line->pid, 1);
  EXPECT_EQ(line->flags, "");
  EXPECT_EQ(line->message, "m");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(TracePipeLine, ParsesLostEventLines) {
  const auto lost = parse_trace_lost_line("CPU:1 [LOST 12 EVENTS]\n");
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->cpu, 1u);
  EXPECT_EQ(lost->count, 12u);
  for (const char* text : {"CPU:1 [LOST EVENTS]", "CPU: [LOST 3 EVENTS]", "CPU:1 [LOST 3x EVENTS]", "CPU:1",
                           "cpu:1 [LOST 3 EVENTS]", "CPU:1 [LOST 3 EVENTS] and more"}) {
    EXPECT_FALSE(parse_trace_lost_line(text)) << text;
  }
}

TEST(TracePipeLine, FormatIsReadBackIntoTheSameFields) {
  TraceLine line;
  line.comm = "my-app [v2]";
  line.pid = 900;
  line.tgid = 899;
  line.cpu = 12;
  line.flags = "d..31";
  line.timestamp_ns = 1234000000789ull;
  line.event = "bpf_trace_printk";
  line.message = " spaced: [1] out";
  EXPECT_EQ(format_trace_line(line),
            "my-app [v2]-900 (899) [12] d..31 1234.000000789: bpf_trace_printk:  spaced: [1] out");
  EXPECT_EQ(parse_trace_line(format_trace_line(line)), line);
  line.tgid.reset();
  line.flags.clear();
  line.event.clear();
  line.message = "plain";
  line.timestamp_ns = 5000000;
  EXPECT_EQ(format_trace_line(line), "my-app [v2]-900 [12] 0.005000: plain");
  EXPECT_EQ(parse_trace_line(format_trace_line(line)), line);
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
