// hist() and lhist() buckets: the index rule the generated BPF code computes (tests compare
// the code generator against these functions), bucket labels and the ASCII bars bpftrace
// 0.17 prints. Checked against bpftrace 0.17:
// - hist: 0 for v < 0 "(..., 0)", 1 for 0 "[0]", 2 for 1 "[1]", then 2 + floor(log2 v)
//   "[2, 4)", "[4, 8)" ... -- but 0.17's log2 only looks at 32 bits: every v >= 2^31 lands
//   in index 33, "[2G, 4G)" (hist(1 << 40) prints there): its BPF log2 tries shifts of 16, 8,
//   4, 2 and 1 only (not 32), so the sum of shifts stops at 31. Labels: K M G T P E powers of 1024.
// - lhist(v, min, max, step): 0 for v < min, the last index 1 + (max-min)/step for v > max,
//   else 1 + (v-min)/step. When max-min is not a multiple of step the last bucket is
//   labelled "[max, ...)" yet also holds [min + step*((max-min)/step), max) (lhist(9, 0, 10, 3)
//   prints under "[10, ...)"). Labels use K and M only when the number divides evenly.
// - a bar is floor(count / (float)largest * 52) '@'s, computed in float as bpftrace does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bpfkit::lang::format {

// Indices hist_bucket can return: 0..33. hist_bucket_label also names 34..64, the buckets
// up to [4E, 8E) of the 64-bit log2 of later bpftrace versions.
constexpr size_t kHistBuckets = 34;
constexpr size_t kHistLabelledBuckets = 65;

size_t hist_bucket(int64_t v);
// "(..., 0)", "[0]", "[1]", "[2, 4)", "[1K, 2K)", "[2G, 4G)", "[4E, 8E)".
std::string hist_bucket_label(size_t i);

// bpftrace's lhist() argument checks: none when fine, else all its messages in its order, e.g.
// "lhist() step must be >= 1 (0 provided)", "lhist() min must be non-negative (provided min -1)",
// "lhist() min must be less than max (provided min 10 and max 5)",
// "lhist() step is too large for the given range (provided step 20 for range 10)",
// "lhist() too many buckets, must be <= 1000 (would need 100000)".
std::vector<std::string> lhist_args_errors(int64_t min, int64_t max, int64_t step);
// (max - min) / step + 2: the below-min bucket, one per whole step, the last one.
size_t lhist_bucket_count(int64_t min, int64_t max, int64_t step);
size_t lhist_bucket(int64_t v, int64_t min, int64_t max, int64_t step);
// "(..., 0)", "[0, 5)", "[1K, 2K)", "[10, ...)".
std::string lhist_bucket_label(size_t i, int64_t min, int64_t max, int64_t step);

// The range a bucket covers as bpftrace -f json shows it: {"max": -1, "count": n},
// {"min": 0, "max": 0, ...}, {"min": 10, "count": n} (open ends are left out). hist ranges
// are computed in 32-bit ints as 0.17 does: [2G, 4G) is {"min": -2147483648, "max": 0}.
struct BucketRange {
  bool has_min = false, has_max = false;
  int64_t min = 0, max = 0;
};
BucketRange hist_bucket_range(size_t i);
BucketRange lhist_bucket_range(size_t i, int64_t min, int64_t max, int64_t step);

// The first and last non-zero bucket; false when every bucket is 0 (nothing is printed).
bool hist_used_range(std::span<const uint64_t> buckets, size_t& first, size_t& last);

// One histogram's bar lines from the first to the last non-zero bucket: the label left
// aligned in 16 columns, the count (divided by div) right aligned in 8, " |", the bar
// padded to 52, "|". label(i) names bucket i.
template <typename Label>
std::string format_hist_bars(std::span<const uint64_t> buckets, uint64_t div, Label label);
std::string format_hist_line(const std::string& label, uint64_t count, uint64_t shown, uint64_t largest);

template <typename Label>
std::string format_hist_bars(std::span<const uint64_t> buckets, uint64_t div, Label label) {
  size_t first = 0, last = 0;
  if (!hist_used_range(buckets, first, last)) return "";
  uint64_t largest = 0;
  for (uint64_t b : buckets) largest = b > largest ? b : largest;
  if (div == 0) div = 1;
  std::string out;
  for (size_t i = first; i <= last; ++i)
    out += format_hist_line(label(i), buckets[i], buckets[i] / div, largest);
  return out;
}

}  // namespace bpfkit::lang::format
