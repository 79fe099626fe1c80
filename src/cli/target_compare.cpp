#include "cli/target_compare.h"

#include <linux/bpf.h>

#include <iostream>
#include <map>

#include "cli/map_json.h"

namespace bpfkit::cli {

namespace {

using nlohmann::json;

std::string hex(std::span<const uint8_t> bytes, size_t limit = 64) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  if (bytes.size() > limit) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out.empty() ? "(empty)" : out;
}

// The first byte where two buffers differ, described.
std::string first_difference(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  if (i == a.size() || i == b.size()) {
    return "user " + std::to_string(a.size()) + " bytes, linux " + std::to_string(b.size()) + " bytes";
  }
  return "byte " + std::to_string(i) + ": user " + hex(a.subspan(i, 1)) + ", linux " + hex(b.subspan(i, 1));
}

// Maps whose values are kernel objects or addresses: the two targets cannot agree on them.
bool comparable_map(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_RINGBUF:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
    case BPF_MAP_TYPE_STACK_TRACE:
    case BPF_MAP_TYPE_SOCKMAP:
    case BPF_MAP_TYPE_SOCKHASH:
    case BPF_MAP_TYPE_CGROUP_ARRAY:
      return false;
    default:
      return true;
  }
}

std::map<std::string, json> entries_by_key(target::MapHandle& m, const object::Btf* btf) {
  std::map<std::string, json> out;
  for (const json& e : dump_map_json(m, btf)) out[e["key"].dump()] = e.contains("values") ? e["values"] : e["value"];
  return out;
}

}  // namespace

TargetDifferences compare_test_runs(const target::TestRunResult& user, const target::TestRunResult& kernel,
                                    bool compare_ctx, const std::string& label) {
  TargetDifferences out;
  if (user.retval != kernel.retval) {
    out.push_back(label + ": return value: user " + std::to_string(user.retval) + ", linux " +
                  std::to_string(kernel.retval));
  }
  if (user.data_out != kernel.data_out) {
    out.push_back(label + ": output packet: " + first_difference(user.data_out, kernel.data_out));
  }
  if (compare_ctx && user.ctx_out != kernel.ctx_out) {
    out.push_back(label + ": output context: " + first_difference(user.ctx_out, kernel.ctx_out));
  }
  return out;
}

TargetDifferences compare_ring_buffers(target::LoadedObject& user, target::LoadedObject& kernel) {
  TargetDifferences out;
  for (target::MapHandle* um : user.maps()) {
    if (um->definition().type != BPF_MAP_TYPE_RINGBUF) continue;
    target::MapHandle* km = kernel.find_map(um->name());
    if (!km) continue;
    std::vector<std::vector<uint8_t>> ur, kr;
    um->consume_ringbuf([&](std::span<const uint8_t> r) { ur.emplace_back(r.begin(), r.end()); });
    km->consume_ringbuf([&](std::span<const uint8_t> r) { kr.emplace_back(r.begin(), r.end()); });
    const std::string where = "ring buffer '" + um->name() + "'";
    if (ur.size() != kr.size()) {
      out.push_back(where + ": user " + std::to_string(ur.size()) + " records, linux " + std::to_string(kr.size()));
    }
    for (size_t i = 0; i < ur.size() && i < kr.size(); ++i) {
      if (ur[i] != kr[i]) out.push_back(where + " record " + std::to_string(i) + ": " + first_difference(ur[i], kr[i]));
    }
  }
  return out;
}

TargetDifferences compare_maps(target::LoadedObject& user, target::LoadedObject& kernel) {
  TargetDifferences out;
  const object::Btf* btf = user.object().btf().get();
  for (target::MapHandle* um : user.maps()) {
    if (!comparable_map(um->definition().type)) continue;
    target::MapHandle* km = kernel.find_map(um->name());
    if (!km) {
      out.push_back("map '" + um->name() + "': missing on the linux target");
      continue;
    }
    const auto ue = entries_by_key(*um, btf), ke = entries_by_key(*km, btf);
    const std::string where = "map '" + um->name() + "' key ";
    for (const auto& [key, value] : ue) {
      auto it = ke.find(key);
      if (it == ke.end()) {
        out.push_back(where + key + ": only on the user target (" + value.dump() + ")");
      } else if (it->second != value) {
        out.push_back(where + key + ": user " + value.dump() + ", linux " + it->second.dump());
      }
    }
    for (const auto& [key, value] : ke) {
      if (!ue.count(key)) out.push_back(where + key + ": only on the linux target (" + value.dump() + ")");
    }
  }
  return out;
}

int report_differences(const TargetDifferences& differences, size_t limit) {
  if (differences.empty()) {
    std::cout << "targets agree: user and linux gave the same results\n";
    return 0;
  }
  std::cout << "targets differ (" << differences.size() << " difference" << (differences.size() == 1 ? "" : "s")
            << "):\n";
  for (size_t i = 0; i < differences.size() && i < limit; ++i) std::cout << "  " << differences[i] << '\n';
  if (differences.size() > limit) std::cout << "  ... and " << differences.size() - limit << " more\n";
  return 1;
}

}  // namespace bpfkit::cli
