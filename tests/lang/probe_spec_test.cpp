// Probe specifications: every provider and alias bpftrace accepts, numbers and units,
// canonical spelling, wildcards, and errors located at the column where the text is wrong.
#include "lang/probe_spec.h"

#include <gtest/gtest.h>

#include <random>

namespace bpfkit::lang {
namespace {

// "column: message" of the error parse_probe_spec throws, or "no error".
std::string error_of(std::string_view text) {
  try {
    parse_probe_spec(text);
  } catch (const ProbeSpecError& e) {
    return std::to_string(e.column_offset()) + ": " + e.message();
  }
  return "no error";
}

size_t error_column(std::string_view text) {
  try {
    parse_probe_spec(text);
  } catch (const ProbeSpecError& e) {
    return e.column_offset();
  }
  ADD_FAILURE() << "no error for '" << text << "'";
  return SIZE_MAX;
}

TEST(ProbeSpecParse, BeginEnd) {
  EXPECT_EQ(parse_probe_spec("BEGIN").kind, ProbeKind::Begin);
  EXPECT_EQ(parse_probe_spec("END").kind, ProbeKind::End);
  EXPECT_EQ(parse_probe_spec("BEGIN").canonical(), "BEGIN");
  EXPECT_EQ(error_column("BEGIN:x"), 5u);
  EXPECT_NE(error_of("END:x").find("takes no arguments"), std::string::npos);
}

TEST(ProbeSpecParse, TracepointAndAlias) {
  for (const char* text : {"tracepoint:syscalls:sys_enter_openat", "t:syscalls:sys_enter_openat"}) {
    const ProbeSpec s = parse_probe_spec(text);
    EXPECT_EQ(s.kind, ProbeKind::Tracepoint);
    EXPECT_EQ(s.target, "syscalls");
    EXPECT_EQ(s.function, "sys_enter_openat");
    EXPECT_FALSE(s.has_wildcard());
    EXPECT_EQ(s.canonical(), "tracepoint:syscalls:sys_enter_openat");
  }
  EXPECT_TRUE(parse_probe_spec("tracepoint:sched:sched*").has_wildcard());
  EXPECT_TRUE(parse_probe_spec("tracepoint:syscalls:sys_enter_*").has_wildcard());
  EXPECT_TRUE(parse_probe_spec("t:*:sys_enter_openat").has_wildcard());
}

TEST(ProbeSpecParse, TracepointMissingParts) {
  // The error points past the text when a part is missing, at the extra ':' when there are too many.
  EXPECT_EQ(error_column("tracepoint:sched"), 16u);
  EXPECT_EQ(error_column("tracepoint"), 10u);
  EXPECT_EQ(error_column("tracepoint:sched:sched_switch:x"), 29u);
  EXPECT_EQ(error_column("tracepoint::sched_switch"), 11u);
  EXPECT_EQ(error_column("tracepoint:sched:"), 17u);
  EXPECT_NE(error_of("tracepoint:sched").find("tracepoint:CATEGORY:EVENT"), std::string::npos);
}

TEST(ProbeSpecParse, UnknownProviderSuggestsTheClosest) {
  EXPECT_EQ(error_of("tracepiont:sched:x"), "0: unknown probe type 'tracepiont'; did you mean 'tracepoint'?");
  EXPECT_NE(error_of("kprob:f").find("did you mean 'kprobe'"), std::string::npos);
  EXPECT_NE(error_of("Uprobe:/bin/sh:main").find("did you mean 'uprobe'"), std::string::npos);
  EXPECT_NE(error_of("kretfnc:f").find("did you mean 'kretfunc'"), std::string::npos);
  EXPECT_NE(error_of("zzzzzzzzzz:f").find("use one of BEGIN"), std::string::npos);
  EXPECT_EQ(error_column("  bogus:x"), 2u);
  EXPECT_EQ(error_column(":x"), 0u);
  EXPECT_NE(error_of("t*:a:b").find("wildcard"), std::string::npos);
  EXPECT_EQ(error_column(""), 0u);
}

TEST(ProbeSpecParse, KernelFunctionsBothSpellings) {
  for (const char* text : {"kfunc:vfs_read", "fentry:vfs_read", "f:vfs_read"}) {
    const ProbeSpec s = parse_probe_spec(text);
    EXPECT_EQ(s.kind, ProbeKind::Fentry) << text;
    EXPECT_EQ(s.function, "vfs_read");
    EXPECT_EQ(s.target, "");
    EXPECT_EQ(s.canonical(), "kfunc:vfs_read");
  }
  for (const char* text : {"kretfunc:vfs_read", "fexit:vfs_read", "fr:vfs_read"}) {
    EXPECT_EQ(parse_probe_spec(text).kind, ProbeKind::Fexit) << text;
  }
  const ProbeSpec m = parse_probe_spec("kfunc:vmlinux:vfs_read");
  EXPECT_EQ(m.target, "vmlinux");
  EXPECT_EQ(m.canonical(), "kfunc:vmlinux:vfs_read");
  EXPECT_TRUE(parse_probe_spec("fentry:vfs_*").has_wildcard());
  EXPECT_EQ(error_column("kfunc:a:b:c"), 9u);
  // The message shows the form in the spelling the user wrote.
  EXPECT_NE(error_of("fexit:").find("fexit:FUNCTION"), std::string::npos);
}

TEST(ProbeSpecParse, KprobesWithOffsetsAndModules) {
  ProbeSpec k = parse_probe_spec("kprobe:vfs_read+16");
  EXPECT_EQ(k.kind, ProbeKind::Kprobe);
  EXPECT_EQ(k.function, "vfs_read");
  EXPECT_EQ(k.offset, 16u);
  EXPECT_EQ(k.canonical(), "kprobe:vfs_read+16");
  EXPECT_EQ(parse_probe_spec("k:vfs_read+0x10").offset, 16u);
  EXPECT_EQ(parse_probe_spec("kr:vfs_read").kind, ProbeKind::Kretprobe);
  EXPECT_EQ(parse_probe_spec("kprobe:nf_tables:nft_do_chain").target, "nf_tables");
  EXPECT_EQ(error_column("kretprobe:vfs_read+4"), 18u);
  EXPECT_EQ(error_column("kprobe:vfs_read+zz"), 16u);
  EXPECT_EQ(error_column("kprobe:vfs_*+4"), 12u);
  EXPECT_EQ(error_column("kprobe:+4"), 7u);
}

TEST(ProbeSpecParse, Uprobes) {
  ProbeSpec u = parse_probe_spec("uprobe:/bin/bash:readline");
  EXPECT_EQ(u.kind, ProbeKind::Uprobe);
  EXPECT_EQ(u.target, "/bin/bash");
  EXPECT_EQ(u.function, "readline");
  EXPECT_EQ(u.canonical(), "uprobe:/bin/bash:readline");
  ProbeSpec off = parse_probe_spec("u:/bin/bash:readline+4");
  EXPECT_EQ(off.offset, 4u);
  EXPECT_EQ(off.canonical(), "uprobe:/bin/bash:readline+4");
  ProbeSpec addr = parse_probe_spec("uprobe:/bin/bash:0x1234");
  EXPECT_EQ(addr.function, "");
  EXPECT_EQ(addr.offset, 0x1234u);
  EXPECT_EQ(addr.canonical(), "uprobe:/bin/bash:4660");
  EXPECT_EQ(parse_probe_spec("ur:bash:readline").kind, ProbeKind::Uretprobe);
  EXPECT_EQ(parse_probe_spec("uretprobe:/bin/bash:0x10").offset, 16u);
  // C++ names keep their "::", quoted or not; a quoted name is taken literally.
  EXPECT_EQ(parse_probe_spec("uprobe:/bin/x:ns::f").function, "ns::f");
  EXPECT_EQ(parse_probe_spec("uprobe:/bin/x:\"ns::f*\"").function, "ns::f*");
  EXPECT_FALSE(parse_probe_spec("uprobe:/bin/x:\"ns::f*\"").has_wildcard());
  EXPECT_TRUE(parse_probe_spec("uprobe:/bin/bash:read*").has_wildcard());
  EXPECT_EQ(error_column("uprobe:/bin/bash"), 16u);
  EXPECT_EQ(error_column("uprobe:/bin/*:f"), 7u);
  EXPECT_EQ(error_column("uretprobe:/bin/bash:readline+4"), 28u);
  EXPECT_EQ(error_column("uprobe:/bin/bash:0x12zz"), 17u);
  EXPECT_EQ(error_column("uprobe:/bin/bash:\"f"), 17u);
  EXPECT_EQ(error_column("uprobe:/bin/bash:read line"), 21u);
  EXPECT_EQ(parse_probe_spec("uprobe:/bin/x:\"a b\"").function, "a b");
  // An offset of 0 is printed only where the function's own '+' needs it.
  EXPECT_EQ(parse_probe_spec("uprobe:/bin/x:\"operator+\"").canonical(), "uprobe:/bin/x:operator++0");
}

TEST(ProbeSpecParse, Usdt) {
  ProbeSpec a = parse_probe_spec("usdt:/usr/bin/python3:python:function__entry");
  EXPECT_EQ(a.kind, ProbeKind::Usdt);
  EXPECT_EQ(a.target, "/usr/bin/python3");
  EXPECT_EQ(a.usdt_provider, "python");
  EXPECT_EQ(a.function, "function__entry");
  EXPECT_EQ(a.canonical(), "usdt:/usr/bin/python3:python:function__entry");
  ProbeSpec b = parse_probe_spec("U:/usr/bin/python3:gc__start");
  EXPECT_EQ(b.usdt_provider, "");
  EXPECT_EQ(b.canonical(), "usdt:/usr/bin/python3:gc__start");
  EXPECT_EQ(error_column("usdt:/x"), 7u);
}

TEST(ProbeSpecParse, RawTracepoints) {
  for (const char* text : {"rawtracepoint:sched_switch", "rt:sched_switch"}) {
    const ProbeSpec s = parse_probe_spec(text);
    EXPECT_EQ(s.kind, ProbeKind::RawTracepoint);
    EXPECT_EQ(s.function, "sched_switch");
    EXPECT_EQ(s.canonical(), "rawtracepoint:sched_switch");
  }
  EXPECT_EQ(parse_probe_spec("rawtracepoint:vmlinux:sched_switch").target, "vmlinux");
  EXPECT_EQ(error_column("rawtracepoint"), 13u);
}

TEST(ProbeSpecParse, ProfileAndIntervalUnits) {
  ProbeSpec p = parse_probe_spec("profile:hz:99");
  EXPECT_EQ(p.kind, ProbeKind::Profile);
  EXPECT_EQ(p.unit, "hz");
  EXPECT_EQ(p.period, 99u);
  EXPECT_EQ(p.canonical(), "profile:hz:99");
  EXPECT_EQ(parse_probe_spec("p:s:1").unit, "s");
  ProbeSpec i = parse_probe_spec("interval:ms:100");
  EXPECT_EQ(i.kind, ProbeKind::Interval);
  EXPECT_EQ(i.period, 100u);
  EXPECT_EQ(parse_probe_spec("i:us:250").unit, "us");
  EXPECT_EQ(parse_probe_spec("interval:hz:2").unit, "hz");
  // bpftrace's integer spellings.
  EXPECT_EQ(parse_probe_spec("interval:s:0x10").period, 16u);
  EXPECT_EQ(parse_probe_spec("interval:s:1e3").period, 1000u);
  EXPECT_EQ(parse_probe_spec("interval:ms:1_000").period, 1000u);

  EXPECT_EQ(error_of("profile:ns:1"),
            "8: 'ns' is not a unit of profile; use hz, s, ms or us, as in profile:hz:99");
  EXPECT_EQ(error_column("profile:99"), 10u);
  EXPECT_EQ(error_column("profile:hz:abc"), 11u);
  EXPECT_EQ(error_column("interval:s:"), 11u);
  EXPECT_EQ(error_column("interval:s:0"), 11u);
  EXPECT_EQ(error_column("interval:s:1_"), 11u);
  EXPECT_EQ(error_column("interval:s:99999999999999999999999"), 11u);
  EXPECT_EQ(error_column("interval::1"), 9u);
  EXPECT_EQ(error_column("profile:hz:99:1"), 13u);
}

TEST(ProbeSpecParse, SoftwareAndHardwareEvents) {
  ProbeSpec c = parse_probe_spec("software:cpu-clock:1000");
  EXPECT_EQ(c.kind, ProbeKind::Software);
  EXPECT_EQ(c.function, "cpu-clock");
  EXPECT_EQ(c.period, 1000u);
  EXPECT_EQ(c.canonical(), "software:cpu-clock:1000");
  ProbeSpec f = parse_probe_spec("s:faults:1");
  EXPECT_EQ(f.function, "faults");
  EXPECT_EQ(f.period, 1u);
  // Without a count the event's default applies.
  EXPECT_EQ(parse_probe_spec("software:page-faults").period, 100u);
  EXPECT_EQ(parse_probe_spec("software:cs").period, 1000u);
  EXPECT_EQ(parse_probe_spec("h:cache-misses").period, 1000000u);
  EXPECT_EQ(parse_probe_spec("hardware:cycles:100").kind, ProbeKind::Hardware);
  EXPECT_EQ(error_of("software:cpu-clok:1"),
            "9: 'cpu-clok' is not a software event; did you mean 'cpu-clock'?");
  EXPECT_NE(error_of("software:zzzzzzzzzzzzzz").find("use one of alignment-faults"), std::string::npos);
  EXPECT_EQ(error_column("software:faults:x"), 16u);
  EXPECT_TRUE(parse_probe_spec("software:*").has_wildcard());
  ASSERT_NE(find_perf_event(ProbeKind::Software, "cpu"), nullptr);
  EXPECT_STREQ(find_perf_event(ProbeKind::Software, "cpu")->name, "cpu-clock");
  EXPECT_EQ(find_perf_event(ProbeKind::Hardware, "cpu"), nullptr);
}

TEST(ProbeSpecParse, Watchpoints) {
  ProbeSpec w = parse_probe_spec("watchpoint:0x1234:8:rw");
  EXPECT_EQ(w.kind, ProbeKind::Watchpoint);
  EXPECT_EQ(w.offset, 0x1234u);
  EXPECT_EQ(w.length, 8u);
  EXPECT_EQ(w.mode, "rw");
  EXPECT_EQ(w.canonical(), "watchpoint:4660:8:rw");
  EXPECT_EQ(error_column("watchpoint:0x1234:3:rw"), 18u);
  EXPECT_EQ(error_column("watchpoint:0x1234:8:rr"), 20u);
  EXPECT_EQ(error_column("w:0x1234:8:q"), 11u);
}

TEST(ProbeSpecParse, KindNamesRoundTrip) {
  for (const char* name :
       {"tracepoint", "rawtracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt", "kfunc",
        "kretfunc", "profile", "interval", "software", "hardware", "watchpoint"}) {
    const auto kind = probe_kind_from_name(name);
    ASSERT_TRUE(kind) << name;
    EXPECT_STREQ(probe_kind_name(*kind), name);
  }
  EXPECT_EQ(probe_kind_from_name("fentry"), ProbeKind::Fentry);
  EXPECT_EQ(probe_kind_from_name("nope"), std::nullopt);
}

TEST(ProbeSpecWildcard, Matching) {
  EXPECT_TRUE(wildcard_match("sched*", "sched_switch"));
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("*switch", "sched_switch"));
  EXPECT_TRUE(wildcard_match("s*_*h", "sched_switch"));
  EXPECT_TRUE(wildcard_match("tracepoint:*", "tracepoint:sched:sched_switch"));
  EXPECT_FALSE(wildcard_match("sched*", "xsched"));
  EXPECT_FALSE(wildcard_match("sched", "sched_switch"));
  EXPECT_FALSE(wildcard_match("*a*b", "aXbY"));
  EXPECT_TRUE(wildcard_match("**a**", "bab"));
}

// Canonical text parses back to the same spec (for the spellings canonical() uses).
TEST(ProbeSpecParse, CanonicalRoundTrips) {
  for (const char* text :
       {"tracepoint:sched:sched_switch", "kfunc:vmlinux:vfs_read", "kretfunc:vfs_read", "kprobe:vfs_read+16",
        "uprobe:/bin/bash:readline+4", "uprobe:/bin/bash:0x10", "usdt:/usr/bin/python3:python:line",
        "profile:hz:99", "interval:ms:5", "software:faults:1", "hardware:cycles:1000", "watchpoint:0x10:4:w",
        "rawtracepoint:sched_switch", "BEGIN"}) {
    const ProbeSpec s = parse_probe_spec(text);
    EXPECT_EQ(parse_probe_spec(s.canonical()), s) << text << " -> " << s.canonical();
  }
}

// Random text never crashes and every error points inside (or just past) the text.
TEST(ProbeSpecParse, RandomTextErrorsStayInBounds) {
  std::mt19937 rng(6);
  const std::string alphabet = "tkuprfisUhw:*+\"0x19_es/abcz BEGIN";
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    const int n = int(rng() % 24);
    for (int j = 0; j < n; ++j) text += alphabet[rng() % alphabet.size()];
    try {
      const ProbeSpec s = parse_probe_spec(text);
      (void)s.canonical();
    } catch (const ProbeSpecError& e) {
      ASSERT_LE(e.column_offset(), text.size()) << text;
      ASSERT_FALSE(e.message().empty());
    }
  }
}

}  // namespace
}  // namespace bpfkit::lang
