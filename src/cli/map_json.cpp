#include "cli/map_json.h"

#include <linux/bpf.h>

#include <cstring>

#include "hooks/packet_generator.h"
#include "maps/cpu.h"
#include "object/btf_json.h"

namespace bpfkit::cli {

namespace {

using nlohmann::json;

bool is_per_cpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

json format_bytes(const object::Btf* btf, uint32_t type_id, std::span<const uint8_t> bytes) {
  if (btf && type_id) return object::btf_to_json(*btf, type_id, bytes);
  // Without BTF, integers of the usual sizes read better as numbers than as bytes.
  if (bytes.size() == 4 || bytes.size() == 8) {
    uint64_t v = 0;
    std::memcpy(&v, bytes.data(), bytes.size());
    return v;
  }
  return object::bytes_to_json(bytes);
}

std::vector<uint8_t> parse_bytes(const object::Btf* btf, uint32_t type_id, size_t size, const json& j,
                                 const std::string& where) {
  try {
    if (j.is_number_integer() && (size == 1 || size == 2 || size == 4 || size == 8) && !(btf && type_id)) {
      const uint64_t v = j.is_number_unsigned() ? j.get<uint64_t>() : uint64_t(j.get<int64_t>());
      std::vector<uint8_t> out(size);
      std::memcpy(out.data(), &v, size);
      return out;
    }
    if (j.is_array() && (!(btf && type_id) || (!j.empty() && j[0].is_string() && j[0].get<std::string>().rfind("0x", 0) == 0))) {
      return object::json_to_bytes(j, size);
    }
    if (btf && type_id) {
      std::vector<uint8_t> out = object::json_to_btf(*btf, type_id, j);
      if (out.size() != size) {
        throw Error("the BTF type is " + std::to_string(out.size()) + " bytes, the map's are " + std::to_string(size));
      }
      return out;
    }
    return object::json_to_bytes(j, size);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  } catch (const json::exception& e) {
    throw Error(where + ": " + e.what());
  }
}

// "10.1.0.0/16" as an LPM trie key: prefix length (host order u32), then the address bytes.
std::optional<std::vector<uint8_t>> lpm_key_from_cidr(const target::MapHandle& map, const json& key) {
  if (map.definition().type != BPF_MAP_TYPE_LPM_TRIE || !key.is_string() || map.definition().key_size != 8) {
    return std::nullopt;
  }
  const hooks::Ipv4Prefix p = hooks::parse_ipv4_prefix(key.get<std::string>());
  std::vector<uint8_t> out(8);
  const uint32_t len = p.len;
  std::memcpy(out.data(), &len, 4);
  for (int i = 0; i < 4; ++i) out[4 + i] = uint8_t(p.addr >> (24 - 8 * i));
  return out;
}

}  // namespace

json dump_map_json(target::MapHandle& map, const object::Btf* btf) {
  const object::MapDefinition& d = map.definition();
  json entries = json::array();
  if (d.type == BPF_MAP_TYPE_RINGBUF || d.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) return entries;
  std::vector<uint8_t> key(d.key_size), next(d.key_size), value(map.value_buffer_size());
  const bool per_cpu = is_per_cpu(d.type);
  const size_t stride = maps::round_up8(d.value_size);
  bool first = true;
  // Bounded: a map that changes underneath us cannot loop forever.
  for (size_t n = 0; n <= size_t(d.max_entries); ++n) {
    if (map.get_next_key(first ? nullptr : key.data(), next.data()) != 0) break;
    first = false;
    key = next;
    if (map.lookup(key.data(), value.data()) != 0) continue;
    json e;
    e["key"] = format_bytes(btf, d.btf_key_type_id, key);
    if (per_cpu) {
      json values = json::array();
      for (size_t cpu = 0; cpu * stride < value.size(); ++cpu) {
        values.push_back({{"cpu", cpu},
                          {"value", format_bytes(btf, d.btf_value_type_id, {value.data() + cpu * stride, d.value_size})}});
      }
      e["values"] = std::move(values);
    } else {
      e["value"] = format_bytes(btf, d.btf_value_type_id, value);
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

size_t fill_map_json(target::MapHandle& map, const object::Btf* btf, const json& doc, const std::string& source) {
  const object::MapDefinition& d = map.definition();
  std::vector<std::pair<json, json>> items;
  if (doc.is_array()) {
    for (size_t i = 0; i < doc.size(); ++i) {
      const json& e = doc[i];
      if (!e.is_object() || !e.contains("key") || !(e.contains("value") || d.value_size == 0)) {
        throw Error(source + ": entry " + std::to_string(i) + ": expected {\"key\": ..., \"value\": ...}");
      }
      items.emplace_back(e["key"], e.value("value", json()));
    }
  } else if (doc.is_object()) {
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      json key;
      try {
        key = json::parse(it.key());  // "3" -> 3
      } catch (const json::exception&) {
        key = it.key();  // "10.0.0.0/8"
      }
      items.emplace_back(key, it.value());
    }
  } else {
    throw Error(source + ": expected a list of {\"key\": ..., \"value\": ...} or an object");
  }
  const bool per_cpu = is_per_cpu(d.type);
  const size_t stride = maps::round_up8(d.value_size);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where = source + ": entry " + std::to_string(i);
    std::vector<uint8_t> key;
    try {
      if (auto cidr = lpm_key_from_cidr(map, items[i].first)) key = *cidr;
    } catch (const Error& e) {
      throw Error(where + ": key: " + e.what());
    }
    if (key.empty()) key = parse_bytes(btf, d.btf_key_type_id, d.key_size, items[i].first, where + ": key");
    std::vector<uint8_t> one = parse_bytes(btf, d.btf_value_type_id, d.value_size, items[i].second, where + ": value");
    std::vector<uint8_t> value(map.value_buffer_size());
    if (per_cpu) {
      for (size_t off = 0; off + d.value_size <= value.size(); off += stride) std::memcpy(&value[off], one.data(), one.size());
    } else {
      value = one;
    }
    if (int rc = map.update(key.data(), value.data(), BPF_ANY); rc != 0) {
      throw Error(where + ": map '" + d.name + "' refused the update: " + std::strerror(-rc));
    }
  }
  return items.size();
}

}  // namespace bpfkit::cli
