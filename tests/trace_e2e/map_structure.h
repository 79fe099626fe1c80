// Reads the maps a tracer prints at exit (bpftrace's text layout) into their structure —
// map names, key shapes, value kinds, histogram bucket labels — so that bpfkit's output
// can be compared with bpftrace's for the same program even though the counts differ.
//
//   @name: 5                        no key, int value
//   @name[a, 1]: 5                  key (str, int)
//   @name[k]: count 3, average 4, total 12     stats
//   @name[k]: (1, x)                tuple value
//   @name[k]:                       followed by "[4K, 8K)   7 |@@@   |" lines: a histogram
//   @[                              a key holding stacks: indented frame lines
//       func+12
//   , comm]: 3
#pragma once

#include <string>
#include <vector>

namespace bpfkit::trace_e2e {

struct MapEntry {
  std::string map;                   // "@name" ("@" for the anonymous map)
  std::string key;                   // the key text as printed, stacks included ("" without key)
  std::vector<std::string> shape;    // per key element: "int", "str", "stack" or "any" (empty)
  std::string value_kind;            // "int", "str", "tuple", "stats", "hist"
  std::vector<std::string> buckets;  // histogram bucket labels, in order
};

std::vector<MapEntry> parse_map_output(const std::string& out);

// Differences between two outputs' structure, each one sentence ("" when none). `keys`:
// also the same keys in every map; `buckets`: also the same bucket labels per key.
std::vector<std::string> compare_map_structure(const std::vector<MapEntry>& ours,
                                               const std::vector<MapEntry>& peer, bool keys, bool buckets);

}  // namespace bpfkit::trace_e2e
