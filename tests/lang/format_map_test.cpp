// Map output at exit and on print(@m, top, div), text and -f json. Every expected string was
// checked against bpftrace 0.17 output on this machine (BEGIN probes filling maps, then
// exit() or print()); where bpftrace's order depends on its hash table (ties between equal
// values) the test says so and expects key order.
#include <gtest/gtest.h>

#include <limits>

#include "lang/format/histogram.h"
#include "lang/format/map_output.h"

namespace bpfkit::lang::format {
namespace {

MapEntry plain(std::vector<Value> key, Value value) {
  MapEntry e;
  e.key = std::move(key);
  e.value = std::move(value);
  return e;
}

MapEntry stats(std::vector<Value> key, std::vector<int64_t> values) {
  MapEntry e;
  e.key = std::move(key);
  for (int64_t v : values) {
    ++e.count;
    e.total += v;
  }
  e.value = map_average(e.count, e.total);
  return e;
}

MapEntry hist(std::vector<Value> key, std::vector<int64_t> values) {
  MapEntry e;
  e.key = std::move(key);
  e.buckets.assign(kHistBuckets, 0);
  for (int64_t v : values) ++e.buckets[hist_bucket(v)];
  return e;
}

MapSnapshot map(std::string name, AggKind kind, std::vector<MapEntry> entries) {
  MapSnapshot m;
  m.name = std::move(name);
  m.kind = kind;
  m.entries = std::move(entries);
  return m;
}

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

TEST(FormatMap, ValuesWithoutKeysAtExit) {
  // @a = 5; @ = 3; @s = "str"; @t = (1, "two", -3); @neg = -7; @c = count() twice
  std::vector<MapSnapshot> maps = {
      map("@a", AggKind::Plain, {plain({}, 5)}),
      map("@", AggKind::Plain, {plain({}, 3)}),
      map("@s", AggKind::Plain, {plain({}, "str")}),
      map("@t", AggKind::Plain, {plain({}, Tuple{1, "two", -3})}),
      map("@neg", AggKind::Plain, {plain({}, -7)}),
      map("@c", AggKind::Count, {plain({}, uint64_t{2})}),
  };
  EXPECT_EQ(format_exit_maps_text(maps), "\n\n@: 3\n@a: 5\n@c: 2\n@neg: -7\n@s: str\n@t: (1, two, -3)\n");
  EXPECT_EQ(format_exit_maps_json(maps),
            "\n\n"
            "{\"type\": \"map\", \"data\": {\"@\": 3}}\n"
            "{\"type\": \"map\", \"data\": {\"@a\": 5}}\n"
            "{\"type\": \"map\", \"data\": {\"@c\": 2}}\n"
            "{\"type\": \"map\", \"data\": {\"@neg\": -7}}\n"
            "{\"type\": \"map\", \"data\": {\"@s\": \"str\"}}\n"
            "{\"type\": \"map\", \"data\": {\"@t\": [1,\"two\",-3]}}\n");
  EXPECT_EQ(format_exit_maps_text({}), "\n\n");  // BEGIN { exit(); }
  EXPECT_EQ(format_map_text(map("@t", AggKind::Plain, {plain({}, Tuple{1, "a", Tuple{2, "b"}, -1})})),
            "@t: (1, a, (2, b), -1)\n");
}

TEST(FormatMap, IntegerValuesSortAscendingSignedOrUnsigned) {
  EXPECT_EQ(format_map_text(map("@v", AggKind::Plain, {plain({1}, -5), plain({2}, 3), plain({3}, 0)})),
            "@v[1]: -5\n@v[3]: 0\n@v[2]: 3\n");
  EXPECT_EQ(format_map_text(map("@w", AggKind::Sum, {plain({1}, -5), plain({2}, 3), plain({3}, 0)})),
            "@w[1]: -5\n@w[3]: 0\n@w[2]: 3\n");
  EXPECT_EQ(format_map_text(map("@u", AggKind::Plain,
                                {plain({1}, kU64Max), plain({2}, uint64_t{3}), plain({3}, uint64_t{0})})),
            "@u[3]: 0\n@u[2]: 3\n@u[1]: 18446744073709551615\n");
  EXPECT_EQ(format_map_text(map("@r", AggKind::Min, {plain({1}, 3), plain({2}, -4), plain({3}, 0)})),
            "@r[2]: -4\n@r[3]: 0\n@r[1]: 3\n");
  // bpftrace printed "@y[c]: 0 / @y[a]: 1 / @y[b]: 1"; the a/b tie is hash order there, key order here.
  EXPECT_EQ(format_map_text(map("@y", AggKind::Plain, {plain({"b"}, 1), plain({"a"}, 1), plain({"c"}, 0)})),
            "@y[c]: 0\n@y[a]: 1\n@y[b]: 1\n");
  // @x[3] = 1; @x[1] = 30; @x[2] = 2; @x[-5] = 2: bpftrace printed -5 before 2 in one run (hash order).
  EXPECT_EQ(format_map_text(
                map("@x", AggKind::Plain, {plain({3}, 1), plain({1}, 30), plain({2}, 2), plain({-5}, 2)})),
            "@x[3]: 1\n@x[2]: 2\n@x[-5]: 2\n@x[1]: 30\n");
}

TEST(FormatMap, TextTupleAndBufferValuesSortByKey) {
  EXPECT_EQ(
      format_map_text(map("@s", AggKind::Plain, {plain({"b"}, "x"), plain({"a"}, "y"), plain({"c"}, "a")})),
      "@s[a]: y\n@s[b]: x\n@s[c]: a\n");
  EXPECT_EQ(
      format_map_text(map("@t", AggKind::Plain,
                          {plain({2}, Tuple{0, "z"}), plain({3}, Tuple{1, "a"}), plain({1}, Tuple{1, "b"})})),
      "@t[1]: (1, b)\n@t[2]: (0, z)\n@t[3]: (1, a)\n");
  EXPECT_EQ(format_map_text(map("@b", AggKind::Plain, {plain({}, Buffer{std::string("a\x01", 2)})})),
            "@b: a\\x01\n");
  EXPECT_EQ(format_map_text(map("@c", AggKind::Plain, {plain({Buffer{"k"}}, 1)})), "@c[k]: 1\n");
  EXPECT_EQ(format_map_text(map("@e", AggKind::Plain, {plain({}, "")})), "@e: \n");
}

TEST(FormatMap, KeysSortUnsignedThenBytewise) {
  // Hist maps sort by total, which ties here: the order is bpftrace's key order (same in
  // every run): [1] [3] [-5] [-1]; "" "B" "a" "ab" "b"; [1, a] [1, b] [2, a] [-2, z].
  auto headers = [](const MapSnapshot& m) {
    std::string out;
    for (const MapEntry* e : sorted_map_entries(m)) {
      std::string text = format_map_text(MapSnapshot{m.name, m.kind, 0, 0, 0, {*e}});
      out += text.substr(0, text.find('\n')) + " ";
    }
    return out;
  };
  EXPECT_EQ(
      headers(map("@h", AggKind::Hist, {hist({3}, {1}), hist({-5}, {1}), hist({1}, {1}), hist({-1}, {1})})),
      "@h[1]:  @h[3]:  @h[-5]:  @h[-1]:  ");
  EXPECT_EQ(headers(map(
                "@g", AggKind::Hist,
                {hist({"b"}, {1}), hist({"a"}, {1}), hist({"ab"}, {1}), hist({"B"}, {1}), hist({""}, {1})})),
            "@g[]:  @g[B]:  @g[a]:  @g[ab]:  @g[b]:  ");
  EXPECT_EQ(
      headers(map("@m", AggKind::Hist,
                  {hist({2, "a"}, {1}), hist({1, "b"}, {1}), hist({1, "a"}, {1}), hist({-2, "z"}, {1})})),
      "@m[1, a]:  @m[1, b]:  @m[2, a]:  @m[-2, z]:  ");
}

TEST(FormatMap, HistogramMapsSortByTotalWithABlankLineAfterEachKey) {
  // @w[1] = hist(1); @w[2] = hist(3) twice
  EXPECT_EQ(format_map_text(map("@w", AggKind::Hist, {hist({2}, {3, 3}), hist({1}, {1})})),
            "@w[1]: \n"
            "[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n"
            "@w[2]: \n"
            "[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  // print(@h, 2) with @h[1] = hist(1); @h[2] = hist(1) twice; @h[3] = hist(0)
  EXPECT_EQ(format_map_text(map("@h", AggKind::Hist, {hist({1}, {1}), hist({2}, {1, 1}), hist({3}, {0})}), 2),
            "@h[3]: \n"
            "[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n"
            "@h[2]: \n"
            "[1]                    2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
}

TEST(FormatMap, TopAndDiv) {
  MapSnapshot c = map("@c", AggKind::Plain, {plain({1}, 5), plain({2}, 25), plain({3}, 15), plain({4}, 1)});
  EXPECT_EQ(format_map_text(c, 2), "@c[3]: 15\n@c[2]: 25\n");
  EXPECT_EQ(format_map_text(c, 0, 10), "@c[4]: 0\n@c[1]: 0\n@c[3]: 1\n@c[2]: 2\n");
  EXPECT_EQ(format_map_text(c, 3, 10), "@c[1]: 0\n@c[3]: 1\n@c[2]: 2\n");
  EXPECT_EQ(format_map_text(c, 10), "@c[4]: 1\n@c[1]: 5\n@c[3]: 15\n@c[2]: 25\n");
  EXPECT_EQ(format_map_text(c, 0, 0), "@c[4]: 1\n@c[1]: 5\n@c[3]: 15\n@c[2]: 25\n");  // div 0: undivided
  EXPECT_EQ(format_map_text(map("@s", AggKind::Sum, {plain({}, -25)}), 0, 10), "@s: -2\n");
  EXPECT_EQ(format_map_text(map("@o", AggKind::Max, {plain({}, 25)}), 0, 10), "@o: 2\n");
  EXPECT_EQ(format_map_text(map("@s", AggKind::Plain, {plain({"a"}, "x")}), 0, 2), "@s[a]: x\n");
  EXPECT_EQ(format_map_json(map("@c", AggKind::Plain, {plain({1}, 3), plain({2}, 25), plain({3}, 7)}), 2, 10),
            "{\"type\": \"map\", \"data\": {\"@c\": {\"3\": 0, \"2\": 2}}}\n");
  EXPECT_EQ(format_map_json(map("@h", AggKind::Hist, {hist({1}, {1}), hist({2}, {1, 1})}), 1, 2),
            "{\"type\": \"hist\", \"data\": {\"@h\": {\"2\": [{\"min\": 1, \"max\": 1, \"count\": 1}]}}}\n");
}

TEST(FormatMap, LinearHistogramsIgnoreDiv) {
  // @l[1] = lhist(5, 0, 10, 5) x3; @l[2] = lhist(1, 0, 10, 5); @l[3] = lhist(1, 0, 10, 5) x2; print(@l, 2, 2)
  auto entry = [](int64_t key, std::vector<int64_t> values) {
    MapEntry e;
    e.key = {key};
    e.buckets.assign(lhist_bucket_count(0, 10, 5), 0);
    for (int64_t v : values) ++e.buckets[lhist_bucket(v, 0, 10, 5)];
    return e;
  };
  MapSnapshot l = map("@l", AggKind::Lhist, {entry(1, {5, 5, 5}), entry(2, {1}), entry(3, {1, 1})});
  l.lhist_min = 0, l.lhist_max = 10, l.lhist_step = 5;
  EXPECT_EQ(format_map_text(l, 2, 2),
            "@l[3]: \n"
            "[0, 5)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n"
            "@l[1]: \n"
            "[5, 10)                3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  l.entries.erase(l.entries.begin() + 2);
  EXPECT_EQ(format_map_json(l, 1, 2),
            "{\"type\": \"hist\", \"data\": {\"@l\": {\"1\": [{\"min\": 5, \"max\": 9, \"count\": 3}]}}}\n");
}

TEST(FormatMap, AveragesTruncateTowardZero) {
  EXPECT_EQ(map_average(2, -7), -3);
  EXPECT_EQ(map_average(2, 7), 3);
  EXPECT_EQ(map_average(4, 7), 1);
  EXPECT_EQ(map_average(0, 0), 0);
  std::vector<MapSnapshot> maps = {
      map("@a", AggKind::Avg, {stats({}, {5})}),
      map("@b", AggKind::Avg, {stats({}, {-5})}),
      map("@c", AggKind::Avg, {stats({}, {-7, 0})}),
      map("@d", AggKind::Avg, {stats({}, {7, 0})}),
      map("@e", AggKind::Avg, {stats({1}, {10}), stats({2}, {2}), stats({3}, {-10})}),
  };
  EXPECT_EQ(format_exit_maps_text(maps),
            "\n\n@a: 5\n\n@b: -5\n\n@c: -3\n\n@d: 3\n\n@e[3]: -10\n@e[2]: 2\n@e[1]: 10\n\n");
  EXPECT_EQ(format_map_text(map("@a", AggKind::Avg, {stats({}, {25})}), 0, 10), "@a: 2\n\n");
  EXPECT_EQ(format_map_text(map("@b", AggKind::Avg, {stats({1}, {3}), stats({2}, {5}), stats({3}, {1})}), 2),
            "@b[1]: 3\n@b[2]: 5\n\n");
}

TEST(FormatMap, StatsSortByAverageAndIgnoreTopAndDiv) {
  MapSnapshot s =
      map("@s", AggKind::Stats,
          {stats({1}, {10}), stats({2}, {2, 2, 2}), stats({3}, {-7, 0}), stats({4}, {5, 5, 5, 5})});
  EXPECT_EQ(format_map_text(s),
            "@s[3]: count 2, average -3, total -7\n"
            "@s[2]: count 3, average 2, total 6\n"
            "@s[4]: count 4, average 5, total 20\n"
            "@s[1]: count 1, average 10, total 10\n"
            "\n");
  EXPECT_EQ(format_map_text(s, 1, 10), format_map_text(s));
  EXPECT_EQ(format_map_text(map("@s", AggKind::Stats, {stats({}, {25, 26})}), 0, 10),
            "@s: count 2, average 25, total 51\n\n");
  EXPECT_EQ(format_map_text(map("@t", AggKind::Stats, {stats({}, {-3, -4})})),
            "@t: count 2, average -3, total -7\n\n");
  EXPECT_EQ(format_map_text(map("@u", AggKind::Stats, {stats({}, {1, 2, 2, 2})})),
            "@u: count 4, average 1, total 7\n\n");
}

TEST(FormatMap, EmptyAndZeroedMaps) {
  // clear(@m) then print(@m) / exit
  for (AggKind kind : {AggKind::Plain, AggKind::Count, AggKind::Sum, AggKind::Min, AggKind::Max,
                       AggKind::Hist, AggKind::Lhist}) {
    EXPECT_EQ(format_map_text(map("@e", kind, {})), "\n");
    EXPECT_EQ(format_map_json(map("@e", kind, {})), "");
  }
  EXPECT_EQ(format_map_text(map("@e", AggKind::Avg, {})), "\n\n");
  EXPECT_EQ(format_map_text(map("@e", AggKind::Stats, {})), "\n\n");
  EXPECT_EQ(format_map_json(map("@e", AggKind::Stats, {})), "");
  // zero(@m) then print(@m)
  EXPECT_EQ(format_map_text(map("@h", AggKind::Hist, {hist({}, {})})), "@h: \n\n");
  EXPECT_EQ(format_map_text(map("@h2", AggKind::Hist, {hist({1}, {}), hist({2}, {})})),
            "@h2[1]: \n\n@h2[2]: \n\n");
  EXPECT_EQ(format_map_text(map("@st", AggKind::Stats, {stats({}, {})})),
            "@st: count 0, average 0, total 0\n\n");
  EXPECT_EQ(format_map_text(map("@st2", AggKind::Stats, {stats({1}, {}), stats({2}, {})})),
            "@st2[1]: count 0, average 0, total 0\n@st2[2]: count 0, average 0, total 0\n\n");
  EXPECT_EQ(format_map_text(map("@c", AggKind::Count, {plain({1}, uint64_t{0}), plain({2}, uint64_t{0})})),
            "@c[1]: 0\n@c[2]: 0\n");
  MapSnapshot l = map("@l", AggKind::Lhist, {MapEntry{}});
  l.lhist_min = 0, l.lhist_max = 10, l.lhist_step = 1;
  l.entries[0].buckets.assign(lhist_bucket_count(0, 10, 1), 0);
  EXPECT_EQ(format_map_text(l), "@l: \n\n");
  EXPECT_EQ(format_map_text(map("@a", AggKind::Avg, {stats({}, {})})), "@a: 0\n\n");
  EXPECT_EQ(format_map_json(map("@hz", AggKind::Hist, {hist({1}, {})})),
            "{\"type\": \"hist\", \"data\": {\"@hz\": {\"1\": []}}}\n");
  EXPECT_EQ(format_map_json(map("@z", AggKind::Hist, {hist({}, {})})),
            "{\"type\": \"hist\", \"data\": {\"@z\": []}}\n");
  EXPECT_EQ(format_map_json(map("@a", AggKind::Avg, {stats({}, {})})),
            "{\"type\": \"stats\", \"data\": {\"@a\": 0}}\n");
  EXPECT_EQ(format_map_json(map("@sz", AggKind::Stats, {stats({}, {})})),
            "{\"type\": \"stats\", \"data\": {\"@sz\": {\"count\": 0, \"average\": 0, \"total\": 0}}}\n");
  // A cleared map among others at exit: one blank line (avg/stats: two).
  EXPECT_EQ(format_exit_maps_text({map("@a", AggKind::Avg, {}), map("@b", AggKind::Avg, {}),
                                   map("@h", AggKind::Hist, {}), map("@s", AggKind::Stats, {})}),
            std::string(2 + 2 + 2 + 1 + 2, '\n'));
}

TEST(FormatMap, Stacks) {
  // @k[ustack(2), 5] = count(); @s = ustack(3); @t = (1, ustack(2)): key stacks are indented
  // by 4, value stacks by 8 (rendered by the caller).
  const std::string key_stack = "\n    syscall+25\n    0x7ffecca3bfe8\n";
  const std::string value_stack = "\n        syscall+25\n        0x7ffecca3bfe8\n        0x564143d57a60\n";
  const std::string tuple_stack = "\n        syscall+25\n        0x7ffecca3bfe8\n";
  EXPECT_EQ(format_map_text(map("@k", AggKind::Count, {plain({key_stack, 5}, uint64_t{1})})),
            "@k[\n    syscall+25\n    0x7ffecca3bfe8\n, 5]: 1\n");
  EXPECT_EQ(format_map_text(map("@s", AggKind::Plain, {plain({}, value_stack)})),
            "@s: \n        syscall+25\n        0x7ffecca3bfe8\n        0x564143d57a60\n\n");
  EXPECT_EQ(format_map_text(map("@t", AggKind::Plain, {plain({}, Tuple{1, tuple_stack})})),
            "@t: (1, \n        syscall+25\n        0x7ffecca3bfe8\n)\n");
  EXPECT_EQ(
      format_map_json(map("@k", AggKind::Count, {plain({key_stack, 5}, uint64_t{1})})),
      "{\"type\": \"map\", \"data\": {\"@k\": {\"\\n    syscall+25\\n    0x7ffecca3bfe8\\n,5\": 1}}}\n");
  EXPECT_EQ(
      format_map_json(map("@t", AggKind::Plain, {plain({}, Tuple{1, tuple_stack})})),
      "{\"type\": \"map\", \"data\": {\"@t\": [1,\"\\n        syscall+25\\n        0x7ffecca3bfe8\\n\"]}}\n");
}

TEST(FormatMap, JsonMaps) {
  EXPECT_EQ(format_map_json(map("@c", AggKind::Count, {plain({2}, uint64_t{2}), plain({1}, uint64_t{1})})),
            "{\"type\": \"map\", \"data\": {\"@c\": {\"1\": 1, \"2\": 2}}}\n");
  EXPECT_EQ(format_map_json(map("@m", AggKind::Plain, {plain({1, "x"}, 5), plain({2, "y"}, -3)})),
            "{\"type\": \"map\", \"data\": {\"@m\": {\"2,y\": -3, \"1,x\": 5}}}\n");
  EXPECT_EQ(format_map_json(map("@s", AggKind::Plain, {plain({"a\"b\\c\n"}, "v\"al")})),
            "{\"type\": \"map\", \"data\": {\"@s\": {\"a\\\"b\\\\c\\n\": \"v\\\"al\"}}}\n");
  EXPECT_EQ(format_map_json(map("@t", AggKind::Plain, {plain({1}, Tuple{1, "a", Tuple{2, "b"}})})),
            "{\"type\": \"map\", \"data\": {\"@t\": {\"1\": [1,\"a\",[2,\"b\"]]}}}\n");
  EXPECT_EQ(format_map_json(map("@z", AggKind::Plain, {plain({}, 0)})),
            "{\"type\": \"map\", \"data\": {\"@z\": 0}}\n");
  EXPECT_EQ(format_map_json(map("@mn", AggKind::Min, {plain({}, -3)})),
            "{\"type\": \"map\", \"data\": {\"@mn\": -3}}\n");
  EXPECT_EQ(format_map_json(map("@a", AggKind::Avg, {stats({}, {7, 0})})),
            "{\"type\": \"stats\", \"data\": {\"@a\": 3}}\n");
  EXPECT_EQ(format_map_json(map("@ak", AggKind::Avg, {stats({"x"}, {3})})),
            "{\"type\": \"stats\", \"data\": {\"@ak\": {\"x\": 3}}}\n");
  EXPECT_EQ(format_map_json(map("@sk", AggKind::Stats, {stats({1}, {3}), stats({2}, {1})})),
            "{\"type\": \"stats\", \"data\": {\"@sk\": {\"2\": {\"count\": 1, \"average\": 1, \"total\": 1}, "
            "\"1\": {\"count\": 1, \"average\": 3, \"total\": 3}}}}\n");
  EXPECT_EQ(format_map_json(map("@st", AggKind::Stats, {stats({}, {5, -2})})),
            "{\"type\": \"stats\", \"data\": {\"@st\": {\"count\": 2, \"average\": 1, \"total\": 3}}}\n");
  EXPECT_EQ(format_map_json(map("@b", AggKind::Plain, {plain({}, Buffer{"a\x01\""})})),
            "{\"type\": \"map\", \"data\": {\"@b\": \"a\\\\x01\\\"\"}}\n");
  EXPECT_EQ(format_map_json(map("@c", AggKind::Plain, {plain({Buffer{"k\x02"}}, 1)})),
            "{\"type\": \"map\", \"data\": {\"@c\": {\"k\\\\x02\": 1}}}\n");
  EXPECT_EQ(format_map_json(map("@n", AggKind::Plain, {plain({-3}, -4)})),
            "{\"type\": \"map\", \"data\": {\"@n\": {\"-3\": -4}}}\n");
  EXPECT_EQ(format_map_json(map("@t", AggKind::Plain, {plain({}, Tuple{1, "q\"x", Buffer{"z"}})})),
            "{\"type\": \"map\", \"data\": {\"@t\": [1,\"q\\\"x\",\"z\"]}}\n");
  EXPECT_EQ(format_map_json(map("@u", AggKind::Plain, {plain({}, kU64Max)})),
            "{\"type\": \"map\", \"data\": {\"@u\": 18446744073709551615}}\n");
  // A comm of "zq\b\f\x01" and UTF-8 bytes, as bpftrace 0.17 escapes them.
  EXPECT_EQ(format_map_json(map("@c", AggKind::Count, {plain({"zq\b\f\x01\xc3\x83\xc2\xa9"}, uint64_t{1})})),
            "{\"type\": \"map\", \"data\": {\"@c\": "
            "{\"zq\\u0008\\u000c\\u0001\\uffffffc3\\uffffff83\\uffffffc2\\uffffffa9\": 1}}}\n");
}

TEST(FormatMap, JsonHistograms) {
  // @h = hist(5); hist(0); hist(-1); hist(1); hist(1500)
  EXPECT_EQ(
      format_map_json(map("@h", AggKind::Hist, {hist({}, {5, 0, -1, 1, 1500})})),
      "{\"type\": \"hist\", \"data\": {\"@h\": [{\"max\": -1, \"count\": 1}, {\"min\": 0, \"max\": 0, "
      "\"count\": 1}, {\"min\": 1, \"max\": 1, \"count\": 1}, {\"min\": 2, \"max\": 3, \"count\": 0}, "
      "{\"min\": 4, \"max\": 7, \"count\": 1}, {\"min\": 8, \"max\": 15, \"count\": 0}, {\"min\": 16, "
      "\"max\": 31, \"count\": 0}, {\"min\": 32, \"max\": 63, \"count\": 0}, {\"min\": 64, \"max\": 127, "
      "\"count\": 0}, {\"min\": 128, \"max\": 255, \"count\": 0}, {\"min\": 256, \"max\": 511, \"count\": "
      "0}, {\"min\": 512, \"max\": 1023, \"count\": 0}, {\"min\": 1024, \"max\": 2047, \"count\": 1}]}}\n");
  EXPECT_EQ(format_map_json(map("@k", AggKind::Hist, {hist({2}, {3}), hist({1}, {2})})),
            "{\"type\": \"hist\", \"data\": {\"@k\": {\"1\": [{\"min\": 2, \"max\": 3, \"count\": 1}], "
            "\"2\": [{\"min\": 2, \"max\": 3, \"count\": 1}]}}}\n");
  MapSnapshot l = map("@l", AggKind::Lhist, {MapEntry{}});
  l.lhist_min = 0, l.lhist_max = 10, l.lhist_step = 5;
  l.entries[0].buckets.assign(lhist_bucket_count(0, 10, 5), 0);
  for (int64_t v : {5, 11, -1}) ++l.entries[0].buckets[lhist_bucket(v, 0, 10, 5)];
  EXPECT_EQ(format_map_json(l),
            "{\"type\": \"hist\", \"data\": {\"@l\": [{\"max\": -1, \"count\": 1}, {\"min\": 0, \"max\": 4, "
            "\"count\": 0}, {\"min\": 5, \"max\": 9, \"count\": 1}, {\"min\": 10, \"count\": 1}]}}\n");
  MapSnapshot l2 = map("@l2", AggKind::Lhist, {MapEntry{}});
  l2.lhist_min = 1024, l2.lhist_max = 4096, l2.lhist_step = 1024;
  l2.entries[0].buckets.assign(lhist_bucket_count(1024, 4096, 1024), 0);
  ++l2.entries[0].buckets[lhist_bucket(1500, 1024, 4096, 1024)];
  EXPECT_EQ(format_map_json(l2),
            "{\"type\": \"hist\", \"data\": {\"@l2\": [{\"min\": 1024, \"max\": 2047, \"count\": 1}]}}\n");
  // The top 0.17 bucket, whose range bpftrace computes in 32-bit ints.
  EXPECT_EQ(format_map_json(map("@g", AggKind::Hist, {hist({}, {int64_t{1} << 62})})),
            "{\"type\": \"hist\", \"data\": {\"@g\": [{\"min\": -2147483648, \"max\": 0, \"count\": 1}]}}\n");
  EXPECT_EQ(format_map_json(map("@g", AggKind::Hist, {hist({}, {1 << 30})})),
            "{\"type\": \"hist\", \"data\": {\"@g\": [{\"min\": 1073741824, \"max\": 2147483647, \"count\": "
            "1}]}}\n");
}

}  // namespace
}  // namespace bpfkit::lang::format
