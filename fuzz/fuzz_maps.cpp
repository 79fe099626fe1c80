// Fuzzes the maps layer: the input picks a map spec (any sizes and flags) and
// a sequence of operations. Nothing may crash, and simple invariants must hold:
// a successful update is visible to the next lookup, a full walk never reaches
// more than max_entries keys, a ring buffer delivers what was submitted, in order.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "maps/fd_array_map.h"
#include "maps/map.h"
#include "maps/perf_event_array_map.h"
#include "maps/ringbuf_map.h"

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
    BPF_MAP_TYPE_STACK,    BPF_MAP_TYPE_BLOOM_FILTER,     BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS,  BPF_MAP_TYPE_HASH_OF_MAPS};

// Ring buffer programs: reserve / submit / discard / output / consume.
void fuzz_ringbuf(bpfkit::maps::RingBufMap& rb, Input& in) {
  std::vector<void*> open;
  uint64_t submitted = 0, delivered = 0;
  std::vector<uint8_t> data(300);
  while (in.n > 0) {
    uint8_t op = in.byte();
    uint64_t size = in.byte() | (op & 0xC0) << 2;
    switch (op % 6) {
      case 0:
        if (void* p = rb.reserve(size, op & 0x20 ? 1 : 0)) {
          std::memset(p, op, size);
          open.push_back(p);
        }
        break;
      case 1:
      case 2:
        if (!open.empty()) {
          size_t i = in.byte() % open.size();
          if (op % 6 == 1) {
            rb.submit(open[i], op >> 4);
            ++submitted;
          } else {
            rb.discard(open[i], op >> 4);
          }
          open.erase(open.begin() + static_cast<long>(i));
        }
        break;
      case 3:
        if (rb.output(data.data(), size % data.size(), op >> 5) == 0) ++submitted;
        break;
      case 4: rb.query(op >> 3); break;
      default:
        delivered += rb.consume([&](std::span<const uint8_t> r) {
          if (r.size() > rb.max_entries()) abort();
        });
        if (delivered > submitted) abort();
        break;
    }
  }
  for (void* p : open) {
    rb.submit(p, 0);
    ++submitted;
  }
  delivered += rb.consume({});
  if (delivered != submitted) abort();  // nothing busy is left: every submitted record comes out
}

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
  if (spec.type == BPF_MAP_TYPE_RINGBUF && (spec.max_entries & 1)) spec.max_entries = 4096u << (spec.max_entries % 3);
  if (spec.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || spec.type == BPF_MAP_TYPE_HASH_OF_MAPS) {
    uint8_t t = in.byte();
    if (t & 1) {
      spec.inner = std::make_shared<const bpfkit::maps::MapSpec>(bpfkit::maps::MapSpec{
          kTypes[(t >> 1) % std::size(kTypes)], 4, 8, 4, 0, 0, ""});
    }
  }
  std::unique_ptr<bpfkit::maps::Map> map;
  try {
    map = bpfkit::maps::create_map(spec);
  } catch (const bpfkit::maps::MapSpecError&) {
    return 0;
  }
  if (auto* rb = dynamic_cast<bpfkit::maps::RingBufMap*>(map.get())) {
    fuzz_ringbuf(*rb, in);
    return 0;
  }
  // Maps of fds resolve ids to: a program (any non-null pointer) or a map like the inner template.
  std::unique_ptr<bpfkit::maps::Map> inner;
  if (spec.inner) inner = bpfkit::maps::create_map(*spec.inner);
  static int program;
  if (auto* pa = dynamic_cast<bpfkit::maps::ProgArrayMap*>(map.get())) {
    pa->set_resolver([](uint32_t id) -> const void* { return id % 2 ? &program : nullptr; });
  }
  if (auto* mm = dynamic_cast<bpfkit::maps::MapOfMaps*>(map.get())) {
    mm->set_resolver([&](uint32_t id) -> const void* { return id % 2 ? inner.get() : nullptr; });
  }
  auto* perf = dynamic_cast<bpfkit::maps::PerfEventArrayMap*>(map.get());
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
            spec.type != BPF_MAP_TYPE_LPM_TRIE && !(spec.flags & BPF_F_WRONLY) &&
            !perf /* user space cannot read a perf event array back (ENOTSUPP, as the kernel) */) {
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
        // Programs write through a value pointer; a map-of-maps lookup gives the inner map
        // handle instead, which no program may write (the helpers grant no access to it).
        if (void* p = map->lookup(k); p && !dynamic_cast<bpfkit::maps::MapOfMaps*>(map.get())) {
          std::memset(p, op, map->value_size());
        }
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
        if (perf) {
          uint32_t cpu = in.byte() % 4;
          if (op & 0x40) perf->open_ring(cpu, 16 + in.byte() * 8);
          perf->output(op & 0x20 ? uint64_t{BPF_F_CURRENT_CPU} : cpu, value.data(), value.size(), in.byte() % 4);
          if (op & 0x10) perf->consume([](uint32_t, std::span<const uint8_t>) {});
        }
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
