// Maps as bpftrace 0.17 prints them at exit and on print(@m[, top[, div]]), in text and as
// -f json lines. Checked against bpftrace 0.17:
//
// Order of entries
// - integer values (plain ints, count, sum, min, max) and avg: ascending by value (signed or
//   unsigned as the Value is); stats: ascending by average; hist/lhist: ascending by the sum
//   of their buckets; maps of strings, tuples or buffers: by key. Keys compare element by
//   element, integers by their unsigned 64-bit pattern ([1], [3], [-5], [-1]), text bytewise.
//   Ties among equal values come out in bpftrace's hash-table order, which varies from run
//   to run; here they keep key order (keys are sorted first, then a stable sort by value).
// - top N keeps the last N entries of that order; div divides integer values, averages
//   and the printed hist() counts (bars stay those of the undivided counts); div 0 is 1.
//   lhist() ignores div; stats() ignores both (bpftrace warns).
//
// Text layout
// - "@name[k1, k2]: value\n" per entry (no brackets without a key), strings unquoted,
//   tuples "(1, abc)". An empty map prints "\n".
// - avg and stats: the same lines ("count 2, average -3, total -7" for stats, averages
//   truncated toward zero), then "\n"; an empty one prints "\n\n".
// - hist and lhist: "@name[k]: \n", the bars (hist_bucket_label/lhist_bucket_label, only
//   from the first to the last non-zero bucket), "\n" after each key. An empty map prints
//   "\n"; a zeroed key prints its header and "\n".
// - At exit: "\n\n", then every map in order of name ("@" < "@a" < "@b").
//
// JSON (one line each; an empty map prints nothing)
//   {"type": "map", "data": {"@c": 5}}             {"type": "map", "data": {"@c": {"1": 1, "2,y": 3}}}
//   {"type": "stats", "data": {"@a": 3}}           (avg)
//   {"type": "stats", "data": {"@s": {"count": 2, "average": 1, "total": 3}}}
//   {"type": "hist", "data": {"@h": [{"max": -1, "count": 1}, {"min": 0, "max": 0, "count": 1}]}}
//   keys: format_value of each key joined by "," (no space), JSON-escaped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lang/format/value.h"

namespace bpfkit::lang::format {

enum class AggKind { Plain, Count, Sum, Min, Max, Avg, Stats, Hist, Lhist };

struct MapEntry {
  std::vector<Value> key;         // empty: the map has no key
  Value value;                    // Plain/Count/Sum/Min/Max; Avg: the average (see map_average)
  uint64_t count = 0;             // Stats (and Avg, unused for printing)
  int64_t total = 0;              // Stats (and Avg, unused for printing)
  std::vector<uint64_t> buckets;  // Hist, Lhist: by bucket index
};

struct MapSnapshot {
  std::string name;  // "@x" or "@"
  AggKind kind = AggKind::Plain;
  int64_t lhist_min = 0, lhist_max = 0, lhist_step = 0;
  std::vector<MapEntry> entries;
};

// avg()/stats() average as bpftrace computes it: total / count truncated toward zero,
// 0 when count is 0.
int64_t map_average(uint64_t count, int64_t total);

// The entries in the order bpftrace prints them, after top (stats ignores top).
std::vector<const MapEntry*> sorted_map_entries(const MapSnapshot& m, size_t top = 0);

std::string format_map_text(const MapSnapshot& m, size_t top = 0, uint64_t div = 1);
// One NDJSON line ending in '\n', or "" for an empty map.
std::string format_map_json(const MapSnapshot& m, size_t top = 0, uint64_t div = 1);

// What bpftrace prints when the script ends: "\n\n" then each map by name (text), or each
// map's JSON line (preceded by the same "\n\n", which 0.17 prints in -f json mode too).
std::string format_exit_maps_text(const std::vector<MapSnapshot>& maps);
std::string format_exit_maps_json(const std::vector<MapSnapshot>& maps);

}  // namespace bpfkit::lang::format
