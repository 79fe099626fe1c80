// hist()/lhist() bucket rules, labels and bars. Expected text was checked against bpftrace
// 0.17 output on this machine (`bpftrace -e 'BEGIN { @h = hist(...); ...; exit(); }'`).
#include <gtest/gtest.h>

#include <limits>

#include "lang/format/histogram.h"
#include "lang/format/map_output.h"

namespace bpfkit::lang::format {
namespace {

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();

TEST(FormatHist, BucketOfAValue) {
  EXPECT_EQ(hist_bucket(kI64Min), 0u);
  EXPECT_EQ(hist_bucket(-5), 0u);
  EXPECT_EQ(hist_bucket(-1), 0u);
  EXPECT_EQ(hist_bucket(0), 1u);
  EXPECT_EQ(hist_bucket(1), 2u);
  EXPECT_EQ(hist_bucket(2), 3u);
  EXPECT_EQ(hist_bucket(3), 3u);
  EXPECT_EQ(hist_bucket(4), 4u);
  EXPECT_EQ(hist_bucket(1023), 11u);
  EXPECT_EQ(hist_bucket(1024), 12u);
  EXPECT_EQ(hist_bucket(1 << 20), 22u);
  EXPECT_EQ(hist_bucket((int64_t{1} << 31) - 1), 32u);
  // bpftrace 0.17 puts everything from 2^31 up into [2G, 4G): hist(1 << 40), hist(1 << 62),
  // hist(0x7fffffffffffffff) all print there.
  EXPECT_EQ(hist_bucket(int64_t{1} << 31), 33u);
  EXPECT_EQ(hist_bucket(int64_t{1} << 32), 33u);
  EXPECT_EQ(hist_bucket((int64_t{1} << 32) + 5), 33u);
  EXPECT_EQ(hist_bucket(int64_t{1} << 40), 33u);
  EXPECT_EQ(hist_bucket(int64_t{1} << 62), 33u);
  EXPECT_EQ(hist_bucket(kI64Max), 33u);
  EXPECT_LT(hist_bucket(kI64Max), kHistBuckets);
  for (int64_t v = 1; v < 5000; ++v) {
    size_t i = hist_bucket(v);
    BucketRange r = hist_bucket_range(i);
    EXPECT_TRUE(v >= r.min && v <= r.max) << v;
  }
}

TEST(FormatHist, Labels) {
  EXPECT_EQ(hist_bucket_label(0), "(..., 0)");
  EXPECT_EQ(hist_bucket_label(1), "[0]");
  EXPECT_EQ(hist_bucket_label(2), "[1]");
  EXPECT_EQ(hist_bucket_label(3), "[2, 4)");
  EXPECT_EQ(hist_bucket_label(11), "[512, 1K)");
  EXPECT_EQ(hist_bucket_label(12), "[1K, 2K)");
  EXPECT_EQ(hist_bucket_label(20), "[256K, 512K)");
  EXPECT_EQ(hist_bucket_label(21), "[512K, 1M)");
  EXPECT_EQ(hist_bucket_label(22), "[1M, 2M)");
  EXPECT_EQ(hist_bucket_label(31), "[512M, 1G)");
  EXPECT_EQ(hist_bucket_label(32), "[1G, 2G)");
  EXPECT_EQ(hist_bucket_label(33), "[2G, 4G)");
  // Beyond what 0.17's hist() reaches (the same scheme as its K/M/G labels).
  EXPECT_EQ(hist_bucket_label(42), "[1T, 2T)");
  EXPECT_EQ(hist_bucket_label(52), "[1P, 2P)");
  EXPECT_EQ(hist_bucket_label(62), "[1E, 2E)");
  EXPECT_EQ(hist_bucket_label(64), "[4E, 8E)");
}

TEST(FormatHist, LinearBuckets) {
  // lhist(v, 0, 10, 3): bpftrace prints 9 (and 10, 11) under "[10, ...)".
  struct {
    int64_t v;
    size_t bucket;
  } step3[] = {{-1, 0}, {0, 1}, {2, 1}, {3, 2}, {8, 3}, {9, 4}, {10, 4}, {11, 4}, {kI64Max, 4}, {kI64Min, 0}};
  for (auto c : step3) EXPECT_EQ(lhist_bucket(c.v, 0, 10, 3), c.bucket) << c.v;
  EXPECT_EQ(lhist_bucket_count(0, 10, 3), 5u);
  EXPECT_EQ(lhist_bucket_label(0, 0, 10, 3), "(..., 0)");
  EXPECT_EQ(lhist_bucket_label(1, 0, 10, 3), "[0, 3)");
  EXPECT_EQ(lhist_bucket_label(3, 0, 10, 3), "[6, 9)");
  EXPECT_EQ(lhist_bucket_label(4, 0, 10, 3), "[10, ...)");
  struct {
    int64_t v;
    size_t bucket;
  } step5[] = {{-1, 0}, {0, 1}, {4, 1}, {5, 2}, {9, 2}, {10, 3}, {11, 3}};
  for (auto c : step5) EXPECT_EQ(lhist_bucket(c.v, 0, 10, 5), c.bucket) << c.v;
  EXPECT_EQ(lhist_bucket_count(0, 10, 5), 4u);
  EXPECT_EQ(lhist_bucket(511, 512, 2048, 512), 0u);
  EXPECT_EQ(lhist_bucket(512, 512, 2048, 512), 1u);
  EXPECT_EQ(lhist_bucket(1536, 512, 2048, 512), 3u);
  EXPECT_EQ(lhist_bucket(2048, 512, 2048, 512), 4u);
  EXPECT_EQ(lhist_bucket_label(2, 512, 2048, 512), "[1K, 1536)");
  EXPECT_EQ(lhist_bucket_label(0, 1000, 5000, 1000), "(..., 1000)");
  EXPECT_EQ(lhist_bucket_label(1, 0, 3145728, 1048576), "[0, 1M)");
  EXPECT_EQ(lhist_bucket_label(3, 0, 3145728, 1048576), "[2M, 3M)");
  EXPECT_EQ(lhist_bucket(1073741824, 0, 1073741824, 536870912), 3u);
  EXPECT_EQ(lhist_bucket_label(2, 0, 1073741824, 536870912), "[512M, 1024M)");
  EXPECT_EQ(lhist_bucket_label(3, 0, 1073741824, 536870912), "[1024M, ...)");
}

TEST(FormatHist, LinearArgumentChecksAreBpftraceMessages) {
  using V = std::vector<std::string>;
  EXPECT_EQ(lhist_args_errors(0, 10, 3), V{});
  EXPECT_EQ(lhist_args_errors(0, 1000, 1), V{});
  EXPECT_EQ(lhist_args_errors(-10, 10, 5), V{"lhist() min must be non-negative (provided min -10)"});
  EXPECT_EQ(lhist_args_errors(10, 10, 5),
            V{"lhist() step is too large for the given range (provided step 5 for range 0)"});
  EXPECT_EQ(lhist_args_errors(0, 10, 0), V{"lhist() step must be >= 1 (0 provided)"});
  EXPECT_EQ(lhist_args_errors(0, 10, 20),
            V{"lhist() step is too large for the given range (provided step 20 for range 10)"});
  EXPECT_EQ(lhist_args_errors(10, 5, 1),
            (V{"lhist() min must be less than max (provided min 10 and max 5)",
               "lhist() step is too large for the given range (provided step 1 for range -5)"}));
  EXPECT_EQ(lhist_args_errors(-1, 10, 20),
            (V{"lhist() min must be non-negative (provided min -1)",
               "lhist() step is too large for the given range (provided step 20 for range 11)"}));
  EXPECT_EQ(lhist_args_errors(0, 100000, 1),
            V{"lhist() too many buckets, must be <= 1000 (would need 100000)"});
  EXPECT_EQ(lhist_args_errors(0, 1001, 1), V{"lhist() too many buckets, must be <= 1000 (would need 1001)"});
  EXPECT_EQ(lhist_args_errors(-5, -1, 0), (V{"lhist() step must be >= 1 (0 provided)",
                                             "lhist() min must be non-negative (provided min -5)"}));
  EXPECT_EQ(lhist_args_errors(10, 10, 0), V{"lhist() step must be >= 1 (0 provided)"});
  EXPECT_EQ(lhist_args_errors(20, 10, 0),
            (V{"lhist() step must be >= 1 (0 provided)",
               "lhist() min must be less than max (provided min 20 and max 10)",
               "lhist() step is too large for the given range (provided step 0 for range -10)"}));
  EXPECT_EQ(lhist_args_errors(0, 0, 1),
            V{"lhist() step is too large for the given range (provided step 1 for range 0)"});
  // Extremes (not from bpftrace): the range is computed without overflow.
  EXPECT_EQ(
      lhist_args_errors(kI64Max, kI64Min, 1).back(),
      "lhist() step is too large for the given range (provided step 1 for range -18446744073709551615)");
  EXPECT_EQ(lhist_args_errors(0, kI64Max, kI64Max), V{});
}

MapSnapshot hist_of(std::vector<int64_t> values) {
  MapEntry e;
  e.buckets.assign(kHistBuckets, 0);
  for (int64_t v : values) ++e.buckets[hist_bucket(v)];
  return MapSnapshot{"@h", AggKind::Hist, 0, 0, 0, {e}};
}

MapSnapshot lhist_of(std::vector<int64_t> values, int64_t min, int64_t max, int64_t step) {
  MapEntry e;
  e.buckets.assign(lhist_bucket_count(min, max, step), 0);
  for (int64_t v : values) ++e.buckets[lhist_bucket(v, min, max, step)];
  return MapSnapshot{"@l", AggKind::Lhist, min, max, step, {e}};
}

TEST(FormatHist, TextOfAHistogram) {
  // @h = hist(-5); hist(0) x2; hist(1); hist(2); hist(3); hist(1023); hist(1024); hist(1 << 20)
  EXPECT_EQ(format_map_text(hist_of({-5, 0, 0, 1, 2, 3, 1023, 1024, 1 << 20})),
            "@h: \n"
            "(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "[0]                    2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "[4, 8)                 0 |                                                    |\n"
            "[8, 16)                0 |                                                    |\n"
            "[16, 32)               0 |                                                    |\n"
            "[32, 64)               0 |                                                    |\n"
            "[64, 128)              0 |                                                    |\n"
            "[128, 256)             0 |                                                    |\n"
            "[256, 512)             0 |                                                    |\n"
            "[512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "[2K, 4K)               0 |                                                    |\n"
            "[4K, 8K)               0 |                                                    |\n"
            "[8K, 16K)              0 |                                                    |\n"
            "[16K, 32K)             0 |                                                    |\n"
            "[32K, 64K)             0 |                                                    |\n"
            "[64K, 128K)            0 |                                                    |\n"
            "[128K, 256K)           0 |                                                    |\n"
            "[256K, 512K)           0 |                                                    |\n"
            "[512K, 1M)             0 |                                                    |\n"
            "[1M, 2M)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "\n");
  EXPECT_EQ(format_map_text(hist_of({1 << 29, 1 << 30, int64_t{1} << 40, int64_t{1} << 49, int64_t{1} << 50,
                                     int64_t{1} << 59, int64_t{1} << 60, kI64Max})),
            "@h: \n"
            "[512M, 1G)             1 |@@@@@@@@                                            |\n"
            "[1G, 2G)               1 |@@@@@@@@                                            |\n"
            "[2G, 4G)               6 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  EXPECT_EQ(format_map_text(hist_of({-1})),
            "@h: \n"
            "(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
}

TEST(FormatHist, BarsAreComputedInSinglePrecision) {
  // 15 of 26: float gives 30 '@' where double arithmetic would give 29; bpftrace prints 30.
  std::vector<int64_t> values(15, 1);
  values.insert(values.end(), 26, 2);
  EXPECT_EQ(format_map_text(hist_of(values)),
            "@h: \n"
            "[1]                   15 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@                      |\n"
            "[2, 4)                26 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  // print(@h, 0, 10): the counts are divided, the bars are not.
  EXPECT_EQ(format_map_text(hist_of(values), 0, 10),
            "@h: \n"
            "[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@                      |\n"
            "[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  std::vector<int64_t> one_in_52(52, 2);
  one_in_52.push_back(1);
  EXPECT_EQ(format_map_text(hist_of(one_in_52)),
            "@h: \n"
            "[1]                    1 |@                                                   |\n"
            "[2, 4)                52 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
}

TEST(FormatHist, TextOfLinearHistograms) {
  EXPECT_EQ(format_map_text(lhist_of({-1, 0, 2, 3, 8, 9, 9, 10, 10, 10, 11, 11, 11, 11}, 0, 10, 3)),
            "@l: \n"
            "(..., 0)               1 |@@@@@                                               |\n"
            "[0, 3)                 2 |@@@@@@@@@@@                                         |\n"
            "[3, 6)                 1 |@@@@@                                               |\n"
            "[6, 9)                 1 |@@@@@                                               |\n"
            "[10, ...)              9 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  EXPECT_EQ(format_map_text(lhist_of({-1, 0, 4, 5, 9, 10, 10, 11}, 0, 10, 5)),
            "@l: \n"
            "(..., 0)               1 |@@@@@@@@@@@@@@@@@                                   |\n"
            "[0, 5)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@                  |\n"
            "[5, 10)                2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@                  |\n"
            "[10, ...)              3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  EXPECT_EQ(format_map_text(lhist_of({0, 5000}, 0, 4096, 1024)),
            "@l: \n"
            "[0, 1K)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "[1K, 2K)               0 |                                                    |\n"
            "[2K, 3K)               0 |                                                    |\n"
            "[3K, 4K)               0 |                                                    |\n"
            "[4K, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  EXPECT_EQ(format_map_text(lhist_of({1000, 6000}, 1000, 5000, 1000)),
            "@l: \n"
            "[1000, 2000)           1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "[2000, 3000)           0 |                                                    |\n"
            "[3000, 4000)           0 |                                                    |\n"
            "[4000, 5000)           0 |                                                    |\n"
            "[5000, ...)            1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  EXPECT_EQ(format_map_text(lhist_of({0, 3145728}, 0, 3145728, 1048576)),
            "@l: \n"
            "[0, 1M)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "[1M, 2M)               0 |                                                    |\n"
            "[2M, 3M)               0 |                                                    |\n"
            "[3M, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  // The empty last bucket [2K, ...) is trimmed.
  EXPECT_EQ(format_map_text(lhist_of({1536, 1}, 512, 2048, 512)),
            "@l: \n"
            "(..., 512)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "[512, 1K)              0 |                                                    |\n"
            "[1K, 1536)             0 |                                                    |\n"
            "[1536, 2K)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  EXPECT_EQ(format_map_text(lhist_of({1073741824}, 0, 1073741824, 536870912)),
            "@l: \n"
            "[1024M, ...)           1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
  // Labels wider than the 16 columns push the count right.
  EXPECT_EQ(format_map_text(lhist_of({1000000, 1}, 999999, 1000010, 1)),
            "@l: \n"
            "(..., 999999)          1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "[999999, 1000000)       0 |                                                    |\n"
            "[1000000, 1000001)       1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "\n");
}

}  // namespace
}  // namespace bpfkit::lang::format
