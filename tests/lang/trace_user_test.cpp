// Scripts compiled by bpfkit and run on the userspace target (BEGIN, END and
// interval probes): the whole pipeline from text to printed output, without the kernel.
#include <gtest/gtest.h>

#include <regex>

#include "lang/compile.h"
#include "lang/trace_run.h"
#include "target/target.h"

namespace bpfkit::lang {
namespace {

std::string run_user(const std::string& text, std::vector<std::string> positional = {}, bool json = false,
                     double duration = 0) {
  Source source("test.bt", text);
  CompileOptions co;
  co.kernel_probes = false;
  co.positional = std::move(positional);
  CompiledScript script = compile_script(source, co);
  auto target = target::make_user_target();
  std::string out;
  TraceRunOptions ro;
  ro.on_linux = false;
  ro.json = json;
  ro.duration_s = duration;
  ro.write = [&](std::string_view s) { out += s; };
  run_trace(source, script, *target, ro);
  return out;
}

std::string compile_error(const std::string& text, bool kernel = false) {
  Source source("bad.bt", text);
  CompileOptions co;
  co.kernel_probes = kernel;
  try {
    compile_script(source, co);
  } catch (const SyntaxError& e) {
    return e.what();
  }
  return "(compiled)";
}

TEST(TraceUser, PrintfWithWidthsAndExit) {
  EXPECT_EQ(run_user(R"(BEGIN { printf("%-5d|%5s|%x\n", 42, "ab", 255); exit(); })"),
            "Attaching 1 probe...\n42   |   ab|ff\n\n\n");
}

TEST(TraceUser, ArithmeticAndComparisons) {
  EXPECT_EQ(run_user(R"(BEGIN {
    $a = 7; $b = -3;
    printf("%d %d %d %d %d\n", $a + $b, $a * $b, $a / 2, $a % 4, -$a);
    printf("%d %d %d %d\n", $a > $b, $a == 7, $a != 7, !$a);
    printf("%d %d %d\n", $a & 3, $a | 8, $a << 2);
    printf("%d\n", $a > 5 && $b < 0 ? 100 : 200);
    printf("%d\n", (uint8)300);
    printf("%d\n", (int8)255);
    exit();
  })"),
            "Attaching 1 probe...\n4 -21 3 3 -7\n1 1 0 0\n3 15 28\n100\n44\n-1\n\n\n");
}

TEST(TraceUser, StringsCompareAndStore) {
  EXPECT_EQ(run_user(R"(BEGIN {
    $s = "hello";
    if ($s == "hello") { printf("eq\n"); }
    if ($s != "hellO") { printf("ne\n"); }
    if ($s == "hell") { printf("wrong\n"); }
    if (strncmp($s, "help", 3) == 0) { printf("prefix\n"); }
    @names["x"] = $s;
    printf("%s!\n", @names["x"]);
    exit();
  })"),
            "Attaching 1 probe...\neq\nne\nprefix\nhello!\n\n\n@names[x]: hello\n");
}

TEST(TraceUser, LoopsAndConditions) {
  EXPECT_EQ(run_user(R"(BEGIN {
    $i = 0; $sum = 0;
    while ($i < 10) { $i++; if ($i == 3) { continue; } if ($i > 8) { break; } $sum += $i; }
    unroll(3) { $sum = $sum + 100; }
    printf("%d %d\n", $i, $sum);
    exit();
  })"),
            "Attaching 1 probe...\n9 333\n\n\n");
}

TEST(TraceUser, AggregationsPrintAtExit) {
  std::string out = run_user(R"(BEGIN {
    @c[1] = count(); @c[2] = count(); @c[2] = count();
    @s = sum(5); @s = sum(7);
    @mn = min(9); @mn = min(4); @mn = min(6);
    @mx = max(-2); @mx = max(-8);
    @v = avg(3); @v = avg(4);
    @st = stats(4); @st = stats(8);
    exit();
  })");
  EXPECT_NE(out.find("@c[1]: 1\n@c[2]: 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@s: 12\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@mn: 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@mx: -2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@v: 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@st: count 2, average 6, total 12\n"), std::string::npos) << out;
}

TEST(TraceUser, HistogramBuckets) {
  std::string out = run_user(R"(BEGIN { @h = hist(0); @h = hist(1); @h = hist(5); @h = hist(100); @h = hist(-4);
                                       @l = lhist(7, 0, 100, 10); @l = lhist(250, 0, 100, 10); exit(); })");
  EXPECT_NE(out.find("[4, 8)"), std::string::npos) << out;
  EXPECT_NE(out.find("[64, 128)"), std::string::npos) << out;
  EXPECT_NE(out.find("(..., 0)"), std::string::npos) << out;
  EXPECT_NE(out.find("[0, 10)"), std::string::npos) << out;
  EXPECT_NE(out.find("[100, ...)"), std::string::npos) << out;
}

TEST(TraceUser, MapsReadBackAndDelete) {
  EXPECT_EQ(run_user(R"(BEGIN {
    @start[1] = 100; @start[2] = 250;
    $d = @start[2] - @start[1];
    delete(@start[1]);
    delete(@start, 2);
    @left = @start[1] + 1;
    @x++; @x++; @x += 5;
    printf("%d %d\n", $d, @x);
    exit();
  })"),
            "Attaching 1 probe...\n150 7\n\n\n@left: 1\n\n@x: 7\n");  // @start is empty: "\n"
}

TEST(TraceUser, TuplesAndPositionals) {
  EXPECT_EQ(run_user(R"(BEGIN { $t = (1, "two", $1); @m[$t.1, $2] = $t.0 + $t.2; printf("%s %d %d\n", $t.1, $#, $t.2); exit(); })",
                     {"5", "key"}),
            "Attaching 1 probe...\ntwo 2 5\n\n\n@m[two, key]: 6\n");
}

TEST(TraceUser, EndRunsAfterExitAndPrintPrintsNow) {
  EXPECT_EQ(run_user(R"(BEGIN { @n = 3; print(@n); clear(@n); exit(); } END { printf("end %d\n", @n); })"),
            "Attaching 2 probes...\n@n: 3\nend 0\n\n\n\n");  // as bpftrace 0.17: cleared @n prints "\n"
}

TEST(TraceUser, IntervalFiresUntilExit) {
  std::string out = run_user(R"(interval:ms:10 { @ticks++; if (@ticks == 3) { exit(); } })");
  EXPECT_NE(out.find("@ticks: 3\n"), std::string::npos) << out;
}

TEST(TraceUser, JsonOutput) {
  std::string out = run_user(R"(BEGIN { @a[1, "x"] = count(); printf("hi %d\n", 3); exit(); })", {}, true);
  EXPECT_NE(out.find(R"({"type": "attached_probes", "data": {"probes": 1}})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"type": "printf", "data": "hi 3\n"})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"type": "map", "data": {"@a": {"1,x": 1}}})"), std::string::npos) << out;
}

TEST(TraceUser, ErrorsAreLocated) {
  EXPECT_EQ(compile_error("BEGIN { printf(\"%d\\n\", $nope); }"),
            "bad.bt:1:24: error: $nope is used before it is assigned\n"
            "BEGIN { printf(\"%d\\n\", $nope); }\n"
            "                       ^~~~~\n");
  EXPECT_NE(compile_error("BEGIN { @a[1] = count(); @a[\"x\"] = count(); }").find("@a's key 1 is int64"),
            std::string::npos);
  EXPECT_NE(compile_error("BEGIN { @a = count(); @a = sum(1); }").find("@a is count()"), std::string::npos);
  EXPECT_NE(compile_error("BEGIN { printf(\"%d %d\\n\", 1); }").find("2 conversion(s) but 1 argument(s)"),
            std::string::npos);
  EXPECT_NE(compile_error("BEGIN { printf(\"%d\\n\", \"str\"); }").find("wants an integer"), std::string::npos);
  EXPECT_NE(compile_error("BEGIN { $x = nosuch(1); }").find("unknown function nosuch()"), std::string::npos);
  EXPECT_NE(compile_error("BEGIN { printf(\"%d\\n\", retval); }").find("retval is only known"), std::string::npos);
  EXPECT_NE(compile_error("tracepoint:syscalls:sys_enter_openat { }").find("userspace target has no hook"),
            std::string::npos);
  EXPECT_NE(compile_error("BEGIN { system(\"ls\"); }").find("needs --unsafe"), std::string::npos);
  EXPECT_NE(compile_error("BEGIN { $s = \"a\"; $s = 1; }").find("cannot be assigned"), std::string::npos);
  EXPECT_NE(compile_error("BEGIN { break; }").find("break outside a loop"), std::string::npos);
}

TEST(TraceUser, TooMuchStackIsAnError) {
  std::string err = compile_error(R"(BEGIN { $a = str(0); $b = str(0); $c = str(0); $d = str(0); $e = str(0);
                                          $f = str(0); $g = str(0); $h = str(0); $i = str(0); })");
  EXPECT_NE(err.find("more than 512 bytes of BPF stack"), std::string::npos) << err;
}

}  // namespace
}  // namespace bpfkit::lang
