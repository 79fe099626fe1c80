#include "lang/format/map_output.h"

#include <algorithm>
#include <limits>

#include "lang/format/histogram.h"
#include "lang/format/json_output.h"

namespace bpfkit::lang::format {
namespace {

bool key_less(const MapEntry* a, const MapEntry* b) {
  for (size_t i = 0; i < a->key.size() && i < b->key.size(); ++i) {
    auto c = compare_keys(a->key[i], b->key[i]);
    if (c != std::strong_ordering::equal) return c == std::strong_ordering::less;
  }
  return a->key.size() < b->key.size();
}

uint64_t bucket_total(const MapEntry& e) {
  uint64_t sum = 0;
  for (uint64_t b : e.buckets) sum += b;
  return sum;
}

Value divided(const Value& v, uint64_t div) {
  if (div <= 1) return v;
  if (const auto* i = std::get_if<int64_t>(&v.v)) {
    if (div > uint64_t(std::numeric_limits<int64_t>::max())) return int64_t{0};
    return *i / int64_t(div);
  }
  if (const auto* u = std::get_if<uint64_t>(&v.v)) return *u / div;
  return v;
}

std::string text_key(const MapEntry& e, const char* separator) {
  std::string out;
  for (size_t i = 0; i < e.key.size(); ++i) {
    if (i) out += separator;
    out += format_value(e.key[i]);
  }
  return out;
}

std::string stats_text(const MapEntry& e) {
  return "count " + std::to_string(e.count) + ", average " + std::to_string(map_average(e.count, e.total)) +
         ", total " + std::to_string(e.total);
}

std::string bars(const MapSnapshot& m, const MapEntry& e, uint64_t div) {
  if (m.kind == AggKind::Hist) return format_hist_bars(e.buckets, div, hist_bucket_label);
  return format_hist_bars(e.buckets, div, [&](size_t i) {
    return lhist_bucket_label(i, m.lhist_min, m.lhist_max, m.lhist_step);
  });
}

std::string json_buckets(const MapSnapshot& m, const MapEntry& e, uint64_t div) {
  if (div == 0) div = 1;
  std::string out = "[";
  size_t first = 0, last = 0;
  if (hist_used_range(e.buckets, first, last)) {
    for (size_t i = first; i <= last; ++i) {
      BucketRange r = m.kind == AggKind::Hist ? hist_bucket_range(i)
                                              : lhist_bucket_range(i, m.lhist_min, m.lhist_max, m.lhist_step);
      if (i != first) out += ", ";
      out += "{";
      if (r.has_min) out += "\"min\": " + std::to_string(r.min) + ", ";
      if (r.has_max) out += "\"max\": " + std::to_string(r.max) + ", ";
      out += "\"count\": " + std::to_string(e.buckets[i] / div) + "}";
    }
  }
  return out + "]";
}

}  // namespace

int64_t map_average(uint64_t count, int64_t total) {
  if (count == 0 || count > uint64_t(std::numeric_limits<int64_t>::max())) return 0;
  return total / int64_t(count);  // C++ division truncates toward zero, as bpftrace's
}

std::vector<const MapEntry*> sorted_map_entries(const MapSnapshot& m, size_t top) {
  std::vector<const MapEntry*> out;
  out.reserve(m.entries.size());
  for (const MapEntry& e : m.entries) out.push_back(&e);
  std::stable_sort(out.begin(), out.end(), key_less);
  auto by_value = [](const MapEntry* a, const MapEntry* b) {
    return compare_values(a->value, b->value) == std::strong_ordering::less;
  };
  switch (m.kind) {
    case AggKind::Plain:
    case AggKind::Count:
    case AggKind::Sum:
    case AggKind::Min:
    case AggKind::Max:
      // Maps of text, tuples or buffers stay in key order.
      if (std::all_of(out.begin(), out.end(), [](const MapEntry* e) { return e->value.is_integer(); })) {
        std::stable_sort(out.begin(), out.end(), by_value);
      }
      break;
    case AggKind::Avg:
      std::stable_sort(out.begin(), out.end(), by_value);
      break;
    case AggKind::Stats:
      std::stable_sort(out.begin(), out.end(), [](const MapEntry* a, const MapEntry* b) {
        return map_average(a->count, a->total) < map_average(b->count, b->total);
      });
      return out;  // top is ignored
    case AggKind::Hist:
    case AggKind::Lhist:
      std::stable_sort(out.begin(), out.end(), [](const MapEntry* a, const MapEntry* b) {
        return bucket_total(*a) < bucket_total(*b);
      });
      break;
  }
  if (top && out.size() > top) out.erase(out.begin(), out.end() - std::ptrdiff_t(top));
  return out;
}

std::string format_map_text(const MapSnapshot& m, size_t top, uint64_t div) {
  bool with_average = m.kind == AggKind::Avg || m.kind == AggKind::Stats;
  if (m.entries.empty()) return with_average ? "\n\n" : "\n";
  if (m.kind == AggKind::Stats) top = 0;
  if (m.kind == AggKind::Stats || m.kind == AggKind::Lhist) div = 1;
  std::string out;
  for (const MapEntry* e : sorted_map_entries(m, top)) {
    out += m.name;
    if (!e->key.empty()) out += "[" + text_key(*e, ", ") + "]";
    out += ": ";
    switch (m.kind) {
      case AggKind::Hist:
      case AggKind::Lhist:
        out += "\n" + bars(m, *e, div) + "\n";
        continue;
      case AggKind::Stats:
        out += stats_text(*e);
        break;
      default:
        out += format_value(divided(e->value, div));
        break;
    }
    out += "\n";
  }
  if (with_average) out += "\n";
  return out;
}

std::string format_map_json(const MapSnapshot& m, size_t top, uint64_t div) {
  if (m.entries.empty()) return "";
  if (m.kind == AggKind::Stats) top = 0;
  if (m.kind == AggKind::Stats || m.kind == AggKind::Lhist) div = 1;
  const char* type = "map";
  if (m.kind == AggKind::Avg || m.kind == AggKind::Stats) type = "stats";
  if (m.kind == AggKind::Hist || m.kind == AggKind::Lhist) type = "hist";

  auto json_of = [&](const MapEntry& e) -> std::string {
    switch (m.kind) {
      case AggKind::Hist:
      case AggKind::Lhist:
        return json_buckets(m, e, div);
      case AggKind::Stats:
        return "{\"count\": " + std::to_string(e.count) +
               ", \"average\": " + std::to_string(map_average(e.count, e.total)) +
               ", \"total\": " + std::to_string(e.total) + "}";
      default:
        return json_value(divided(e.value, div));
    }
  };
  std::vector<const MapEntry*> entries = sorted_map_entries(m, top);
  std::string data;
  if (entries.front()->key.empty()) {
    data = json_of(*entries.front());
  } else {
    data = "{";
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) data += ", ";
      data += "\"" + json_escape(text_key(*entries[i], ",")) + "\": " + json_of(*entries[i]);
    }
    data += "}";
  }
  return std::string("{\"type\": \"") + type + "\", \"data\": {\"" + json_escape(m.name) + "\": " + data +
         "}}\n";
}

namespace {

std::vector<const MapSnapshot*> by_name(const std::vector<MapSnapshot>& maps) {
  std::vector<const MapSnapshot*> out;
  for (const MapSnapshot& m : maps) out.push_back(&m);
  std::stable_sort(out.begin(), out.end(),
                   [](const MapSnapshot* a, const MapSnapshot* b) { return a->name < b->name; });
  return out;
}

}  // namespace

std::string format_exit_maps_text(const std::vector<MapSnapshot>& maps) {
  std::string out = "\n\n";
  for (const MapSnapshot* m : by_name(maps)) out += format_map_text(*m);
  return out;
}

std::string format_exit_maps_json(const std::vector<MapSnapshot>& maps) {
  std::string out = "\n\n";
  for (const MapSnapshot* m : by_name(maps)) out += format_map_json(*m);
  return out;
}

}  // namespace bpfkit::lang::format
