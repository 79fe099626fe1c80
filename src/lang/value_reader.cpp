#include "lang/value_reader.h"

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <sys/socket.h>

#include <cstring>

#include "lang/format/histogram.h"
#include "target/linux/stack_format.h"

namespace bpfkit::lang {

namespace {

using format::AggKind;
namespace lk = target::linux_kernel;

uint64_t read_u64(std::span<const uint8_t> bytes, size_t off) {
  uint64_t v = 0;
  if (off + 8 <= bytes.size()) std::memcpy(&v, bytes.data() + off, 8);
  return v;
}

int64_t read_int(const Type& t, std::span<const uint8_t> bytes) {
  uint64_t v = read_u64(bytes, 0);
  if (t.size < 8 && t.is_signed) {
    unsigned shift = 64 - t.size * 8;
    return int64_t(v << shift) >> shift;
  }
  return int64_t(v);
}

}  // namespace

ValueReader::ValueReader(const CompiledScript& script, target::LoadedObject& loaded)
    : script_(script), loaded_(loaded), maps_(loaded.maps()) {}

const lk::KernelSymbols& ValueReader::kernel_symbols() {
  if (!ksyms_) {
    try {
      ksyms_ = lk::KernelSymbols::load();
    } catch (const Error&) {
      ksyms_ = lk::KernelSymbols::parse("");
    }
  }
  return *ksyms_;
}

const lk::UserSymbols& ValueReader::user_symbols(int pid) {
  auto& slot = usyms_[pid];
  if (!slot) {
    try {
      slot = std::make_unique<lk::UserSymbols>(lk::UserSymbols::for_process(pid));
    } catch (const Error&) {
      slot = std::make_unique<lk::UserSymbols>(lk::UserSymbols::from_modules({}));
    }
  }
  return *slot;
}

std::vector<uint64_t> ValueReader::stack_frames(bool user, uint32_t id) {
  std::optional<size_t> index = user ? script_.ustack_map : script_.kstack_map;
  if (!index || int32_t(id) < 0) return {};
  target::MapHandle* map = maps_.at(*index);
  std::vector<uint64_t> ips(map->value_buffer_size() / 8);
  if (map->lookup(&id, ips.data()) != 0) return {};
  return ips;
}

format::Value ValueReader::decode(const Type& type, std::span<const uint8_t> bytes, int stack_indent) {
  format::Value v;
  switch (type.kind) {
    case TypeKind::Int:
      if (type.is_signed) v.v = read_int(type, bytes);
      else v.v = uint64_t(read_int(type, bytes));
      break;
    case TypeKind::Pointer: v.v = read_u64(bytes, 0); break;
    case TypeKind::String: {
      size_t n = 0;
      while (n < bytes.size() && n < type.size && bytes[n] != 0) ++n;
      v.v = std::string(reinterpret_cast<const char*>(bytes.data()), n);
      break;
    }
    case TypeKind::Tuple: {
      format::Tuple elems;
      size_t off = 0;
      for (const Type& e : type.elems) {
        uint32_t size = e.storage_size();
        elems.push_back(decode(e, bytes.subspan(std::min(off, bytes.size()), std::min<size_t>(size, bytes.size() - std::min(off, bytes.size()))), stack_indent));
        off += size;
      }
      v.v = std::move(elems);
      break;
    }
    case TypeKind::Stack: {
      uint32_t id = uint32_t(read_u64(bytes, 0));
      int pid = int(read_u64(bytes, 8));
      std::vector<uint64_t> ips = stack_frames(type.user_stack, id);
      lk::StackMode mode = type.perf_mode ? lk::StackMode::perf : lk::StackMode::bpftrace;
      v.v = type.user_stack ? lk::format_ustack(ips, user_symbols(pid), mode, type.stack_limit, stack_indent)
                            : lk::format_kstack(ips, kernel_symbols(), mode, type.stack_limit, stack_indent);
      break;
    }
    case TypeKind::Ksym: v.v = lk::format_ksym(read_u64(bytes, 0), kernel_symbols()); break;
    case TypeKind::Usym: v.v = lk::format_usym(read_u64(bytes, 0), user_symbols(int(read_u64(bytes, 8)))); break;
    case TypeKind::Inet: {
      uint64_t family = read_u64(bytes, 0);
      char text[INET6_ADDRSTRLEN] = {0};
      if (bytes.size() >= 24) inet_ntop(family == 10 ? AF_INET6 : AF_INET, bytes.data() + 8, text, sizeof(text));
      v.v = std::string(text);
      break;
    }
    case TypeKind::Buffer: {
      uint64_t len = std::min<uint64_t>(read_u64(bytes, 0), type.size);
      len = std::min<uint64_t>(len, bytes.size() > 8 ? bytes.size() - 8 : 0);
      v.v = format::Buffer{std::string(reinterpret_cast<const char*>(bytes.data()) + 8, len)};
      break;
    }
    default: v.v = std::string("?"); break;
  }
  return v;
}

std::vector<std::vector<uint8_t>> ValueReader::keys_of(target::MapHandle& map) {
  std::vector<std::vector<uint8_t>> keys;
  std::vector<uint8_t> key(map.definition().key_size), next(map.definition().key_size);
  const void* prev = nullptr;
  while (map.get_next_key(prev, next.data()) == 0) {
    keys.push_back(next);
    key = next;
    prev = key.data();
    if (keys.size() > map.definition().max_entries + 1u) break;  // a map changing under us
  }
  return keys;
}

format::MapSnapshot ValueReader::snapshot(size_t map_index) {
  const MapInfo& info = script_.info.maps.at(map_index);
  target::MapHandle* map = maps_.at(map_index);
  format::MapSnapshot snap;
  snap.name = info.name;
  snap.kind = info.agg;
  snap.lhist_min = info.lhist_min;
  snap.lhist_max = info.lhist_max;
  snap.lhist_step = info.lhist_step;
  const uint32_t user_key = info.user_key_size();
  const size_t stride = info.per_cpu() ? (info.value_size() + 7) / 8 * 8 : info.value_size();
  std::vector<uint8_t> value(map->value_buffer_size());
  std::map<std::vector<uint8_t>, size_t> entry_of_key;  // histograms: one entry per user key
  // bpfkit's hist() takes the full 64-bit log2 (bpftrace 0.17 stops at 2^31).
  size_t buckets = info.agg == AggKind::Hist ? format::kHistLabelledBuckets
                   : info.agg == AggKind::Lhist
                       ? format::lhist_bucket_count(info.lhist_min, info.lhist_max, info.lhist_step)
                       : 0;
  Type key_type = Type::of_kind(TypeKind::Tuple);
  key_type.elems = info.keys;
  for (const std::vector<uint8_t>& key : keys_of(*map)) {
    if (map->lookup(key.data(), value.data()) != 0) continue;
    std::vector<uint8_t> user(key.begin(), key.begin() + std::min<size_t>(user_key, key.size()));
    auto [it, fresh] = entry_of_key.emplace(user, snap.entries.size());
    if (fresh) {
      format::MapEntry entry;
      if (info.keyed()) {
        format::Value k = decode(key_type, user, 4);
        entry.key = std::get<format::Tuple>(k.v);
      }
      if (buckets) entry.buckets.assign(buckets, 0);
      snap.entries.push_back(std::move(entry));
    }
    format::MapEntry& entry = snap.entries[it->second];
    if (info.agg == AggKind::Plain) {
      entry.value = decode(info.value, value, 8);
      continue;
    }
    // Per-CPU {v0, v1} pairs, combined as the aggregation says.
    size_t cpus = value.size() / stride;
    int64_t total = 0;
    uint64_t count = 0;
    bool seen = false;
    int64_t extreme = 0;
    for (size_t c = 0; c < cpus; ++c) {
      int64_t v0 = int64_t(read_u64(value, c * stride));
      uint64_t v1 = read_u64(value, c * stride + 8);
      total += v0;
      count += v1;
      if ((info.agg == AggKind::Min || info.agg == AggKind::Max) && v1) {
        if (!seen || (info.agg == AggKind::Min ? v0 < extreme : v0 > extreme)) extreme = v0;
        seen = true;
      }
    }
    switch (info.agg) {
      case AggKind::Count: entry.value.v = uint64_t(total); break;
      case AggKind::Sum: entry.value.v = total; break;
      case AggKind::Min:
      case AggKind::Max: entry.value.v = extreme; break;
      case AggKind::Avg:
      case AggKind::Stats:
        entry.count = count;
        entry.total = total;
        entry.value.v = count ? total / int64_t(count) : int64_t(0);
        break;
      case AggKind::Hist:
      case AggKind::Lhist: {
        uint64_t bucket = read_u64(key, user_key);
        if (bucket < entry.buckets.size()) entry.buckets[bucket] += uint64_t(total);
        break;
      }
      case AggKind::Plain: break;
    }
  }
  return snap;
}

void ValueReader::clear(size_t map_index) {
  target::MapHandle* map = maps_.at(map_index);
  if (script_.info.maps.at(map_index).single_counter()) {
    zero(map_index);  // array entries cannot be deleted
    return;
  }
  for (const std::vector<uint8_t>& key : keys_of(*map)) map->delete_elem(key.data());
}

void ValueReader::zero(size_t map_index) {
  target::MapHandle* map = maps_.at(map_index);
  std::vector<uint8_t> zeros(map->value_buffer_size(), 0);
  for (const std::vector<uint8_t>& key : keys_of(*map)) map->update(key.data(), zeros.data(), BPF_EXIST);
}

}  // namespace bpfkit::lang
