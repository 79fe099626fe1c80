// bpfkit map: the kernel's maps, as `bpftool map` shows and edits them.
#include <linux/bpf.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/kernel_tool.h"
#include "maps/cpu.h"
#include "object/btf_json.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/kernel_objects.h"

namespace bpfkit::cli {
namespace {

namespace lk = target::linux_kernel;
// ordered: keys print in bpftool's order (id, type, name, ...).
using json = nlohmann::ordered_json;

// Newer than the installed <linux/bpf.h> (6.1).
constexpr uint32_t kMapTypeCgrpStorage = 32, kMapTypeArena = 33;

bool is_per_cpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

// Map types whose elements user space cannot list with GET_NEXT_KEY + LOOKUP.
bool dumpable(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_RINGBUF:
    case BPF_MAP_TYPE_USER_RINGBUF:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
    case BPF_MAP_TYPE_BLOOM_FILTER:
    case BPF_MAP_TYPE_STRUCT_OPS:
    case BPF_MAP_TYPE_SK_STORAGE:
    case BPF_MAP_TYPE_INODE_STORAGE:
    case BPF_MAP_TYPE_TASK_STORAGE:
    case kMapTypeCgrpStorage:
    case kMapTypeArena: return false;
    default: return true;
  }
}

json map_json(const lk::KernelMapInfo& m) {
  json j;
  j["id"] = m.id;
  j["type"] = lk::map_type_name(m.type);
  if (!m.name.empty()) j["name"] = m.name;
  j["flags"] = m.flags;
  j["bytes_key"] = m.key_size;
  j["bytes_value"] = m.value_size;
  j["max_entries"] = m.max_entries;
  j["bytes_memlock"] = m.memlock;
  j["frozen"] = m.frozen ? 1 : 0;
  if (m.btf_id) j["btf_id"] = m.btf_id;
  if (m.btf_vmlinux_value_type_id) j["btf_vmlinux_value_type_id"] = m.btf_vmlinux_value_type_id;
  return j;
}

void print_map_plain(const lk::KernelMapInfo& m) {
  char flags[16];
  std::snprintf(flags, sizeof flags, "0x%x", m.flags);
  std::cout << m.id << ": " << lk::map_type_name(m.type) << "  ";
  if (!m.name.empty()) std::cout << "name " << m.name << "  ";
  std::cout << "flags " << flags << "\n";
  std::cout << "\tkey " << m.key_size << "B  value " << m.value_size << "B  max_entries " << m.max_entries
            << "  memlock " << m.memlock << "B\n";
  if (m.btf_id || m.frozen) {
    std::cout << "\t";
    if (m.btf_id) std::cout << "btf_id " << m.btf_id;
    if (m.frozen) std::cout << (m.btf_id ? "  " : "") << "frozen";
    std::cout << "\n";
  }
}

// A map opened for element commands, with its BTF when it has one.
struct OpenMap {
  lk::UniqueFd fd;
  lk::KernelMapInfo info;
  std::shared_ptr<const object::Btf> btf;
  size_t value_buffer_size() const {
    return is_per_cpu(info.type) ? size_t(maps::round_up8(info.value_size)) * kernel_possible_cpus()
                                 : info.value_size;
  }
  const object::Btf* key_btf() const { return info.btf_key_type_id ? btf.get() : nullptr; }
  const object::Btf* value_btf() const { return info.btf_value_type_id ? btf.get() : nullptr; }
};

OpenMap open_map(Words& words) {
  auto fds = select_objects(lk::KernelObjectKind::Map, words, true);
  OpenMap m;
  m.fd = std::move(fds[0]);
  m.info = lk::map_info(m.fd.get());
  if (m.info.btf_id && (m.info.btf_key_type_id || m.info.btf_value_type_id)) {
    try {
      m.btf = lk::kernel_btf_by_id(m.info.btf_id);
    } catch (const Error& e) {
      std::cerr << "bpfkit: map " << m.info.id << ": its BTF " << m.info.btf_id << " is unreadable ("
                << e.what() << "): printing bytes\n";
    }
  }
  return m;
}

std::string map_label(const OpenMap& m) {
  return "map " + std::to_string(m.info.id) + (m.info.name.empty() ? "" : " (" + m.info.name + ")");
}

json ordered(const nlohmann::json& j) { return json::parse(j.dump()); }

// Formatted with BTF when the map has it; bpftool's hex list otherwise.
json format(const object::Btf* btf, uint32_t type_id, std::span<const uint8_t> bytes, const char* root) {
  if (btf && type_id) {
    try {
      return ordered(object::btf_to_json(*btf, type_id, bytes, root));
    } catch (const Error&) {
      // A BTF type that does not match the map's sizes: fall back to bytes.
    }
  }
  return ordered(object::bytes_to_json(bytes));
}

// One entry in bpftool's JSON shape: raw bytes, and "formatted" when there is BTF.
json entry_json(const OpenMap& m, const std::vector<uint8_t>& key, const std::vector<uint8_t>& value,
                bool with_raw) {
  const bool per_cpu = is_per_cpu(m.info.type);
  const size_t stride = maps::round_up8(m.info.value_size);
  const bool has_btf = m.btf != nullptr;
  json raw, formatted;
  raw["key"] = ordered(object::bytes_to_json(key));
  if (has_btf) formatted["key"] = format(m.key_btf(), m.info.btf_key_type_id, key, "key");
  if (per_cpu) {
    raw["values"] = json::array();
    formatted["values"] = json::array();
    for (size_t cpu = 0; (cpu + 1) * stride <= value.size(); ++cpu) {
      std::span<const uint8_t> one(value.data() + cpu * stride, m.info.value_size);
      raw["values"].push_back({{"cpu", cpu}, {"value", ordered(object::bytes_to_json(one))}});
      if (has_btf) {
        formatted["values"].push_back(
            {{"cpu", cpu}, {"value", format(m.value_btf(), m.info.btf_value_type_id, one, "value")}});
      }
    }
  } else {
    raw["value"] = ordered(object::bytes_to_json(value));
    if (has_btf) formatted["value"] = format(m.value_btf(), m.info.btf_value_type_id, value, "value");
  }
  if (!with_raw) return formatted;
  if (has_btf) raw["formatted"] = std::move(formatted);
  return raw;
}

// bpftool's plain layout: bytes in groups of 8, and key and value on lines of their
// own when either is long (or the map is per-CPU).
std::string grouped(const std::vector<uint8_t>& bytes) {
  std::string s;
  for (size_t i = 0; i < bytes.size(); i += 8) {
    std::vector<uint8_t> part(bytes.begin() + i, bytes.begin() + std::min(bytes.size(), i + 8));
    s += (i == 0 ? "" : i % 16 == 0 ? "\n" : "  ") + hex_bytes(part);
  }
  return s;
}

void print_entry_plain(const OpenMap& m, const std::vector<uint8_t>& key, const std::vector<uint8_t>& value) {
  if (is_per_cpu(m.info.type)) {
    std::cout << "key:\n" << grouped(key) << "\n";
    const size_t stride = maps::round_up8(m.info.value_size);
    for (size_t cpu = 0; (cpu + 1) * stride <= value.size(); ++cpu) {
      std::vector<uint8_t> one(value.begin() + cpu * stride,
                               value.begin() + cpu * stride + m.info.value_size);
      char head[32];
      std::snprintf(head, sizeof head, "value (CPU %02zu): ", cpu);
      std::cout << head << grouped(one) << "\n";
    }
  } else if (m.info.key_size > 16 || m.info.value_size > 16) {
    std::cout << "key:\n" << grouped(key) << "\nvalue:\n" << grouped(value) << "\n";
  } else {
    std::cout << "key: " << grouped(key) << "  value: " << grouped(value) << "\n";
  }
}

int run_show(Words& words, const ToolOptions& o) {
  const bool one = selects_one(words);
  auto fds = select_objects(lk::KernelObjectKind::Map, words, false);
  words.expect_end("map show");
  json all = json::array();
  for (const auto& fd : fds) {
    const auto info = lk::map_info(fd.get());
    if (o.json) {
      all.push_back(map_json(info));
    } else {
      print_map_plain(info);
    }
  }
  if (o.json) print_json(one && all.size() == 1 ? all[0] : all, o);
  return 0;
}

int run_dump(Words& words, const ToolOptions& o) {
  OpenMap m = open_map(words);
  words.expect_end("map dump");
  if (!dumpable(m.info.type)) {
    throw Error(map_label(m) + ": a " + lk::map_type_name(m.info.type) + " map has no elements to list");
  }
  std::vector<uint8_t> key(m.info.key_size), next(m.info.key_size), value(m.value_buffer_size());
  json all = json::array();
  size_t found = 0;
  bool first = true;
  // Bounded: a map changing underneath cannot keep us here forever.
  for (uint64_t n = 0; n <= uint64_t(m.info.max_entries); ++n) {
    const int rc = lk::map_get_next_key(m.fd.get(), first ? nullptr : key.data(), next.data());
    if (rc == -ENOENT) break;
    if (rc != 0) throw Error(map_label(m) + ": listing keys: " + std::strerror(-rc));
    first = false;
    key = next;
    const int lr = lk::map_lookup_elem(m.fd.get(), key.data(), value.data());
    if (lr == -ENOENT) continue;  // deleted between the two calls
    if (lr != 0) {
      if (!o.json) std::cout << "key: " << hex_bytes(key) << "  value: <" << std::strerror(-lr) << ">\n";
      continue;
    }
    ++found;
    if (o.json) {
      all.push_back(entry_json(m, key, value, true));
    } else if (m.btf) {
      all.push_back(entry_json(m, key, value, false));
    } else {
      print_entry_plain(m, key, value);
    }
  }
  if (o.json) {
    print_json(all, o);
  } else if (m.btf) {
    std::cout << all.dump(4) << "\n";
  } else {
    std::cout << "Found " << found << " element" << (found == 1 ? "" : "s") << "\n";
  }
  return 0;
}

std::vector<uint8_t> parse_key(Words& words, const OpenMap& m, const char* stop) {
  const std::string w = words.next("key");
  if (w != "key")
    throw Error("expected key at word " + std::to_string(words.position() - 1) + ", found '" + w + "'");
  return parse_data(words, m.info.key_size, m.key_btf(), m.info.btf_key_type_id, "key", stop);
}

int run_lookup(Words& words, const ToolOptions& o) {
  OpenMap m = open_map(words);
  std::vector<uint8_t> key = parse_key(words, m, "");
  words.expect_end("map lookup");
  std::vector<uint8_t> value(m.value_buffer_size());
  const int rc = lk::map_lookup_elem(m.fd.get(), key.empty() ? nullptr : key.data(), value.data());
  if (rc == -ENOENT) throw Error(map_label(m) + ": no element with key " + hex_bytes(key));
  if (rc != 0) throw Error(map_label(m) + ": lookup failed: " + std::strerror(-rc));
  if (o.json) {
    print_json(entry_json(m, key, value, true), o);
  } else if (m.btf) {
    std::cout << entry_json(m, key, value, false).dump(4) << "\n";
  } else {
    print_entry_plain(m, key, value);
  }
  return 0;
}

int run_update(Words& words) {
  OpenMap m = open_map(words);
  std::vector<uint8_t> key = parse_key(words, m, "value");
  const std::string w = words.next("value");
  if (w != "value")
    throw Error("expected value at word " + std::to_string(words.position() - 1) + ", found '" + w + "'");
  std::vector<uint8_t> one =
      parse_data(words, m.info.value_size, m.value_btf(), m.info.btf_value_type_id, "value", "");
  uint64_t flags = BPF_ANY;
  if (!words.done()) {
    const std::string f = words.next("any, exist or noexist");
    if (f == "exist") {
      flags = BPF_EXIST;
    } else if (f == "noexist") {
      flags = BPF_NOEXIST;
    } else if (f != "any") {
      throw Error("map update: expected any, exist or noexist, found '" + f + "'");
    }
  }
  words.expect_end("map update");
  std::vector<uint8_t> value(m.value_buffer_size());
  if (is_per_cpu(m.info.type)) {
    // One value given: every CPU gets it, as bpftool does.
    const size_t stride = maps::round_up8(m.info.value_size);
    for (size_t off = 0; off + stride <= value.size(); off += stride)
      std::memcpy(&value[off], one.data(), one.size());
  } else {
    value = one;
  }
  const int rc = lk::map_update_elem(m.fd.get(), key.data(), value.data(), flags);
  if (rc != 0) throw Error(map_label(m) + ": update failed: " + std::strerror(-rc));
  return 0;
}

int run_delete(Words& words) {
  OpenMap m = open_map(words);
  std::vector<uint8_t> key = parse_key(words, m, "");
  words.expect_end("map delete");
  const int rc = lk::map_delete_elem(m.fd.get(), key.data());
  if (rc == -ENOENT) throw Error(map_label(m) + ": no element with key " + hex_bytes(key));
  if (rc != 0) throw Error(map_label(m) + ": delete failed: " + std::strerror(-rc));
  return 0;
}

int run_pin(Words& words) {
  auto fds = select_objects(lk::KernelObjectKind::Map, words, true);
  const std::string path = words.next("a path under /sys/fs/bpf");
  words.expect_end("map pin");
  lk::pin_object(fds[0].get(), path);
  return 0;
}

struct MapOptions {
  std::vector<std::string> words;
  ToolOptions tool;
};

int run_map(MapOptions& o) {
  Words words(o.words);
  const std::string verb = words.done() ? "list" : words.next("a verb");
  const std::set<std::string> verbs = {"list", "show", "dump", "lookup", "update", "delete", "pin"};
  if (verbs.count(verb)) require_kernel_bpf();
  if (verb == "list" || verb == "show") return run_show(words, o.tool);
  if (verb == "dump") return run_dump(words, o.tool);
  if (verb == "lookup") return run_lookup(words, o.tool);
  if (verb == "update") return run_update(words);
  if (verb == "delete") return run_delete(words);
  if (verb == "pin") return run_pin(words);
  throw Error("map: unknown verb '" + verb + "' (list, show, dump, lookup, update, delete, pin)");
}

CommandRegistration reg("map", [](CLI::App& app) {
  app.description(
      "The kernel's BPF maps, as `bpftool map` shows and edits them (needs root):\n"
      "  bpfkit map list|show [MAP]\n"
      "  bpfkit map dump MAP                      entries; with BTF, keys and values formatted as bpftool "
      "does\n"
      "  bpfkit map lookup MAP key DATA\n"
      "  bpfkit map update MAP key DATA value DATA [any|exist|noexist]\n"
      "  bpfkit map delete MAP key DATA\n"
      "  bpfkit map pin MAP PATH\n"
      "MAP is id N, name NAME or pinned PATH. DATA is one number per byte (0x01 0 0 0), hex bytes\n"
      "(hex 01 00 00 00), or for maps with BTF JSON shaped by the type (json '{\"port\": 80}', or one word: "
      "7).\n"
      "Per-CPU maps take one value and store it on every CPU. -j prints JSON with bpftool's key names.");
  auto o = std::make_shared<MapOptions>();
  app.add_option("words", o->words, "verb and its arguments, as bpftool takes them");
  app.add_flag("-j,--json", o->tool.json, "JSON output (bpftool's keys)");
  app.add_flag("-p,--pretty", o->tool.pretty, "indented JSON (implies --json)");
  return [o] {
    if (o->tool.pretty) o->tool.json = true;
    return run_map(*o);
  };
});

}  // namespace
}  // namespace bpfkit::cli
