// Fuzzes the maps layer: the input picks a map spec (any sizes and flags) and
// a sequence of operations. Nothing may crash, and simple invariants must hold:
// a successful update is visible to the next lookup, a full walk never reaches
// more than max_entries keys.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "maps/map.h"

namespace {

struct Input {
  const uint8_t* p;
  size_t n;
  uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  uint32_t u32() { return byte() | byte() << 8 | byte() << 16 | uint32_t{byte()} << 24; }
  void fill(std::vector<uint8_t>& out) {
    for (auto& c : out) c = byte();
  }
};

const uint32_t kTypes[] = {
    BPF_MAP_TYPE_ARRAY,    BPF_MAP_TYPE_PERCPU_ARRAY,     BPF_MAP_TYPE_HASH,  BPF_MAP_TYPE_PERCPU_HASH,
    BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH,  BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_QUEUE,
    BPF_MAP_TYPE_STACK,    BPF_MAP_TYPE_BLOOM_FILTER};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  bpfkit::maps::MapSpec spec;
  spec.type = kTypes[in.byte() % std::size(kTypes)];
  spec.key_size = in.byte() % 40;
  spec.value_size = in.byte() % 40;
  spec.max_entries = in.byte() % 64;
  spec.flags = in.u32() & 0x1FFF;
  spec.map_extra = in.byte() % 20;
  std::unique_ptr<bpfkit::maps::Map> map;
  try {
    map = bpfkit::maps::create_map(spec);
  } catch (const bpfkit::maps::MapSpecError&) {
    return 0;
  }
  std::vector<uint8_t> key(map->key_size()), value(map->user_value_size()), out(map->user_value_size());
  std::vector<uint8_t> next(map->key_size());
  while (in.n > 0) {
    uint8_t op = in.byte();
    in.fill(key);
    uint64_t flags = op >> 4;
    void* k = key.empty() ? nullptr : key.data();
    switch (op % 8) {
      case 0:
        in.fill(value);
        if (map->update_user(k, value.data(), flags) == 0 && !map->per_cpu() && map->key_size() > 0 &&
            spec.type != BPF_MAP_TYPE_LPM_TRIE && !(spec.flags & BPF_F_WRONLY)) {
          if (map->lookup_user(k, out.data()) != 0 ||
              std::memcmp(out.data(), value.data(), value.size()) != 0) {
            abort();  // an update that succeeded must be visible
          }
        }
        break;
      case 1:
        in.fill(value);
        map->update(k, value.data(), flags);
        break;
      case 2:
        if (void* p = map->lookup(k)) std::memset(p, op, map->value_size());  // programs write through it
        break;
      case 3:
        map->lookup_user(k, out.data());
        break;
      case 4:
        map->delete_elem(k);
        break;
      case 5: {
        uint32_t steps = 0;
        const void* cur = nullptr;
        std::vector<uint8_t> at(map->key_size());
        while (map->get_next_key(cur, next.data()) == 0) {
          if (++steps > map->max_entries()) abort();  // a walk reaches each key once
          at = next;
          cur = at.data();
        }
        break;
      }
      case 6:
        in.fill(value);
        map->push(value.data(), flags);
        break;
      default:
        if (op & 0x80) {
          map->pop(out.data());
        } else {
          map->peek(out.data());
        }
        break;
    }
  }
  return 0;
}
