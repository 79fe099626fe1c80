#include "maps/stack_trace_map.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace bpfkit::maps {

namespace {

uint32_t rol32(uint32_t w, int s) { return (w << s) | (w >> (32 - s)); }

// Bob Jenkins' lookup3 mixing steps, as the kernel's jhash.h uses them.
void mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c, a ^= rol32(c, 4), c += b;
  b -= a, b ^= rol32(a, 6), a += c;
  c -= b, c ^= rol32(b, 8), b += a;
  a -= c, a ^= rol32(c, 16), c += b;
  b -= a, b ^= rol32(a, 19), a += c;
  c -= b, c ^= rol32(b, 4), b += a;
}

void final_mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b, c -= rol32(b, 14);
  a ^= c, a -= rol32(c, 11);
  b ^= a, b -= rol32(a, 25);
  c ^= b, c -= rol32(b, 16);
  a ^= c, a -= rol32(c, 4);
  b ^= a, b -= rol32(a, 14);
  c ^= b, c -= rol32(b, 24);
}

uint32_t read_key(const void* key) {
  uint32_t k;
  std::memcpy(&k, key, sizeof k);
  return k;
}

uint32_t roundup_pow_of_two(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

[[noreturn]] void refuse(const MapSpec& s, int err, const std::string& why) {
  std::string where = "stack_trace map";
  if (!s.name.empty()) where += " '" + s.name + "'";
  const char* name = err == EINVAL ? "EINVAL" : err == E2BIG ? "E2BIG" : "ENOMEM";
  throw MapSpecError(where + ": " + why + " (the kernel returns " + name + ")", err);
}

}  // namespace

uint32_t stack_trace_hash(const uint64_t* ips, size_t n) {
  // jhash2 over the ips' 32-bit words (x86-64: low word first), initval 0.
  const auto* bytes = reinterpret_cast<const uint8_t*>(ips);
  auto word = [&](size_t i) {
    uint32_t w;
    std::memcpy(&w, bytes + i * 4, 4);
    return w;
  };
  size_t len = n * 2, i = 0;
  uint32_t a, b, c;
  a = b = c = 0xdeadbeef + (uint32_t(len) << 2);
  while (len > 3) {
    a += word(i), b += word(i + 1), c += word(i + 2);
    mix(a, b, c);
    len -= 3;
    i += 3;
  }
  switch (len) {
    case 3: c += word(i + 2); [[fallthrough]];
    case 2: b += word(i + 1); [[fallthrough]];
    case 1:
      a += word(i);
      final_mix(a, b, c);
      break;
    default: break;
  }
  return c;
}

void check_stack_trace_spec(const MapSpec& s) {
  constexpr uint32_t allowed = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_STACK_BUILD_ID;
  if (s.flags & ~allowed) refuse(s, EINVAL, "map_flags may hold only NUMA_NODE, RDONLY, WRONLY and STACK_BUILD_ID");
  if (s.max_entries == 0) refuse(s, EINVAL, "max_entries must not be 0");
  if (s.key_size != 4) refuse(s, EINVAL, "key_size must be 4 (a u32 stack id), not " + std::to_string(s.key_size));
  if (s.value_size < 8 || s.value_size % 8) {
    refuse(s, EINVAL, "value_size must be a non-zero multiple of 8 (u64 ips), not " + std::to_string(s.value_size));
  }
  if (s.flags & BPF_F_STACK_BUILD_ID) {
    constexpr uint32_t frame = sizeof(bpf_stack_build_id);
    if (s.value_size % frame || s.value_size / frame > kPerfEventMaxStack) {
      refuse(s, EINVAL, "with BPF_F_STACK_BUILD_ID value_size must be a multiple of " + std::to_string(frame) +
                            " (struct bpf_stack_build_id) holding at most " +
                            std::to_string(kPerfEventMaxStack) + " frames");
    }
  } else if (s.value_size / 8 > kPerfEventMaxStack) {
    refuse(s, EINVAL, "value_size holds more than " + std::to_string(kPerfEventMaxStack) +
                          " frames (kernel.perf_event_max_stack)");
  }
  if (s.max_entries > (1u << 31)) refuse(s, E2BIG, "max_entries exceeds 2^31");
  const uint64_t bytes = uint64_t{roundup_pow_of_two(s.max_entries)} * 8 +
                         uint64_t{s.max_entries} * (uint64_t{s.value_size} + 16);
  if (bytes > (1ull << 32)) refuse(s, ENOMEM, "the buckets and preallocated stacks would need more than 4 GiB");
}

StackTraceMap::StackTraceMap(MapSpec spec)
    : Map(std::move(spec)), n_buckets_(roundup_pow_of_two(max_entries())), buckets_(n_buckets_, nullptr) {}

StackTraceMap::~StackTraceMap() = default;

uint32_t StackTraceMap::frame_size() const {
  return build_id() ? uint32_t(sizeof(bpf_stack_build_id)) : uint32_t(sizeof(uint64_t));
}

uint32_t StackTraceMap::capture_depth(uint64_t flags) const {
  const uint64_t depth = value_size() / frame_size() + (flags & BPF_F_SKIP_FIELD_MASK);
  return depth > kPerfEventMaxStack ? kPerfEventMaxStack : uint32_t(depth);
}

StackTraceMap::Bucket* StackTraceMap::take_free() {
  if (!free_.empty()) {
    Bucket* b = free_.back();
    free_.pop_back();
    return b;
  }
  if (pool_.size() >= max_entries()) return nullptr;
  auto b = std::make_unique<Bucket>();
  b->data = std::make_unique<uint8_t[]>(value_size());
  pool_.push_back(std::move(b));
  return pool_.back().get();
}

int64_t StackTraceMap::get_stackid(std::span<const uint64_t> trace, uint64_t flags) {
  const uint32_t skip = uint32_t(flags & BPF_F_SKIP_FIELD_MASK);
  if (trace.size() > capture_depth(flags)) trace = trace.first(capture_depth(flags));
  if (trace.size() <= skip) return -EFAULT;  // nothing left after skipping
  const uint32_t nr = uint32_t(trace.size() - skip);
  const uint64_t* ips = trace.data() + skip;
  const uint32_t hash = stack_trace_hash(ips, nr);
  const uint32_t id = hash & (n_buckets_ - 1);

  std::lock_guard lock(mu_);
  Bucket* bucket = buckets_[id];
  const bool hash_matches = bucket && bucket->hash == hash;
  if (hash_matches && (flags & BPF_F_FAST_STACK_CMP)) return id;

  Bucket* fresh = nullptr;
  if (build_id()) {
    // The kernel takes an element first and compares the build-id form. No build
    // ids are read here: every frame is BPF_STACK_BUILD_ID_IP, as get_stack reports.
    fresh = take_free();
    if (!fresh) return -ENOMEM;
    for (uint32_t i = 0; i < nr; ++i) {
      bpf_stack_build_id f{};
      f.status = BPF_STACK_BUILD_ID_IP;
      f.ip = ips[i];
      std::memcpy(fresh->data.get() + i * sizeof f, &f, sizeof f);
    }
    const size_t len = size_t(nr) * sizeof(bpf_stack_build_id);
    if (hash_matches && bucket->nr == nr && std::memcmp(bucket->data.get(), fresh->data.get(), len) == 0) {
      free_.push_back(fresh);
      return id;
    }
    if (bucket && !(flags & BPF_F_REUSE_STACKID)) {
      free_.push_back(fresh);
      return -EEXIST;
    }
  } else {
    const size_t len = size_t(nr) * sizeof(uint64_t);
    if (hash_matches && bucket->nr == nr && std::memcmp(bucket->data.get(), ips, len) == 0) return id;
    if (bucket && !(flags & BPF_F_REUSE_STACKID)) return -EEXIST;
    // Taken before the old stack is released: with every element in use, even a
    // replacement fails, as in the kernel.
    fresh = take_free();
    if (!fresh) return -ENOMEM;
    std::memcpy(fresh->data.get(), ips, len);
  }
  fresh->hash = hash;
  fresh->nr = nr;
  if (bucket) free_.push_back(bucket);
  buckets_[id] = fresh;
  return id;
}

void* StackTraceMap::lookup(const void*) { return nullptr; }

int StackTraceMap::update(const void*, const void*, uint64_t) { return -EINVAL; }

int StackTraceMap::update_user_impl(const void*, const void*, uint64_t) { return -EINVAL; }

int StackTraceMap::delete_elem(const void* key) {
  const uint32_t id = read_key(key);
  if (id >= n_buckets_) return -E2BIG;  // what 6.18 answers for an id past the buckets
  std::lock_guard lock(mu_);
  Bucket* b = buckets_[id];
  if (!b) return -ENOENT;
  buckets_[id] = nullptr;
  free_.push_back(b);
  return 0;
}

int StackTraceMap::get_next_key(const void* key, void* next_key) {
  std::lock_guard lock(mu_);
  uint32_t id = 0;
  if (key) {
    id = read_key(key);
    // An unknown id restarts the walk, as the kernel does.
    id = (id >= n_buckets_ || !buckets_[id]) ? 0 : id + 1;
  }
  while (id < n_buckets_ && !buckets_[id]) ++id;
  if (id >= n_buckets_) return -ENOENT;
  std::memcpy(next_key, &id, sizeof id);
  return 0;
}

int StackTraceMap::lookup_user_impl(const void* key, void* value) {
  const uint32_t id = read_key(key);
  if (id >= n_buckets_) return -ENOENT;
  std::lock_guard lock(mu_);
  const Bucket* b = buckets_[id];
  if (!b) return -ENOENT;
  const size_t len = size_t(b->nr) * frame_size();
  std::memcpy(value, b->data.get(), len);
  std::memset(static_cast<uint8_t*>(value) + len, 0, value_size() - len);
  return 0;
}

}  // namespace bpfkit::maps
