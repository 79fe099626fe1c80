#include "lang/format/histogram.h"

namespace bpfkit::lang::format {
namespace {

constexpr int kBarWidth = 52;

// 2^power with a 1024-power suffix: 1, 2, ..., 512, 1K, 2K, ... 8E.
std::string power_label(size_t power) {
  static const char* kSuffix[] = {"", "K", "M", "G", "T", "P", "E"};
  return std::to_string(uint64_t{1} << (power % 10)) + kSuffix[power / 10];
}

// lhist labels: "0", a whole number of M (1024*1024) or K, else the number.
std::string linear_label(int64_t n) {
  constexpr int64_t kMega = 1024 * 1024;
  if (n != 0 && n % kMega == 0) return std::to_string(n / kMega) + "M";
  if (n != 0 && n % 1024 == 0) return std::to_string(n / 1024) + "K";
  return std::to_string(n);
}

int64_t linear_edge(size_t i, int64_t min, int64_t step) {
  return int64_t(uint64_t(min) + uint64_t(i) * uint64_t(step));  // wraps instead of UB on absurd inputs
}

uint64_t lhist_last(int64_t min, int64_t max, int64_t step) {
  if (step < 1 || max < min) return 1;
  return 1 + (uint64_t(max) - uint64_t(min)) / uint64_t(step);
}

}  // namespace

size_t hist_bucket(int64_t v) {
  if (v < 0) return 0;
  if (v == 0) return 1;
  size_t log2 = 63 - size_t(__builtin_clzll(uint64_t(v)));
  return 2 + (log2 > 31 ? 31 : log2);
}

std::string hist_bucket_label(size_t i) {
  if (i == 0) return "(..., 0)";
  if (i == 1) return "[0]";
  if (i == 2) return "[1]";
  if (i >= kHistLabelledBuckets) return "[?]";
  return "[" + power_label(i - 2) + ", " + power_label(i - 1) + ")";
}

std::vector<std::string> lhist_args_errors(int64_t min, int64_t max, int64_t step) {
  std::vector<std::string> errors;
  __int128 range = __int128(max) - __int128(min);  // may not fit in 64 bits
  std::string range_text;
  unsigned __int128 magnitude = range < 0 ? (unsigned __int128)(-range) : (unsigned __int128)range;
  do {
    range_text.insert(range_text.begin(), char('0' + int(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude);
  if (range < 0) range_text.insert(0, "-");

  if (step < 1) errors.push_back("lhist() step must be >= 1 (" + std::to_string(step) + " provided)");
  if (min < 0)
    errors.push_back("lhist() min must be non-negative (provided min " + std::to_string(min) + ")");
  if (min > max) {
    errors.push_back("lhist() min must be less than max (provided min " + std::to_string(min) + " and max " +
                     std::to_string(max) + ")");
  }
  if (step > range) {
    errors.push_back("lhist() step is too large for the given range (provided step " + std::to_string(step) +
                     " for range " + range_text + ")");
  } else if (step >= 1 && range / step > 1000) {
    errors.push_back("lhist() too many buckets, must be <= 1000 (would need " +
                     std::to_string(int64_t(range / step)) + ")");
  }
  return errors;
}

size_t lhist_bucket_count(int64_t min, int64_t max, int64_t step) {
  return size_t(lhist_last(min, max, step)) + 1;
}

size_t lhist_bucket(int64_t v, int64_t min, int64_t max, int64_t step) {
  if (v < min) return 0;
  if (v > max || step < 1) return size_t(lhist_last(min, max, step));
  return size_t(1 + (uint64_t(v) - uint64_t(min)) / uint64_t(step));
}

std::string lhist_bucket_label(size_t i, int64_t min, int64_t max, int64_t step) {
  if (i == 0) return "(..., " + linear_label(min) + ")";
  if (i >= lhist_last(min, max, step)) return "[" + linear_label(max) + ", ...)";
  return "[" + linear_label(linear_edge(i - 1, min, step)) + ", " + linear_label(linear_edge(i, min, step)) +
         ")";
}

BucketRange hist_bucket_range(size_t i) {
  BucketRange r;
  if (i == 0) {
    r.has_max = true;
    r.max = -1;
    return r;
  }
  r.has_min = r.has_max = true;
  if (i == 1) return r;  // [0, 0]
  // bpftrace 0.17 computes 1 << power in a 32-bit int (with x86's shift count mod 32), so
  // its top bucket [2G, 4G) shows as {"min": -2147483648, "max": 0}.
  r.min = int32_t(uint32_t{1} << ((i - 2) & 31));
  r.max = int32_t((uint32_t{1} << ((i - 1) & 31)) - 1);
  return r;
}

BucketRange lhist_bucket_range(size_t i, int64_t min, int64_t max, int64_t step) {
  BucketRange r;
  if (i == 0) {
    r.has_max = true;
    r.max = int64_t(uint64_t(min) - 1);
  } else if (i >= lhist_last(min, max, step)) {
    r.has_min = true;
    r.min = max;
  } else {
    r.has_min = r.has_max = true;
    r.min = linear_edge(i - 1, min, step);
    r.max = int64_t(uint64_t(linear_edge(i, min, step)) - 1);
  }
  return r;
}

bool hist_used_range(std::span<const uint64_t> buckets, size_t& first, size_t& last) {
  bool any = false;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0) continue;
    if (!any) first = i;
    last = i;
    any = true;
  }
  return any;
}

std::string format_hist_line(const std::string& label, uint64_t count, uint64_t shown, uint64_t largest) {
  // bpftrace: int(count / (float)largest * 52), in single precision.
  int bar = largest ? int(float(count) / float(largest) * float(kBarWidth)) : 0;
  if (bar < 0) bar = 0;
  if (bar > kBarWidth) bar = kBarWidth;
  std::string line = label;
  if (line.size() < 16) line.append(16 - line.size(), ' ');
  std::string number = std::to_string(shown);
  if (number.size() < 8) line.append(8 - number.size(), ' ');
  line += number;
  line += " |";
  line.append(size_t(bar), '@');
  line.append(size_t(kBarWidth - bar), ' ');
  line += "|\n";
  return line;
}

}  // namespace bpfkit::lang::format
