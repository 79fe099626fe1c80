#include "maps/lpm_trie_map.h"

#include <cerrno>
#include <cstring>

#include "maps/cpu.h"

namespace bpfkit::maps {

LpmTrieMap::LpmTrieMap(MapSpec spec) : Map(std::move(spec)) {
  data_size_ = key_size() - 4;
  per_len_.assign(max_prefixlen() + 1, 0);
}

LpmTrieMap::~LpmTrieMap() {
  for (uint8_t* v : all_values_) delete[] v;
}

size_t LpmTrieMap::size() const {
  std::lock_guard guard(mu_);
  return entries_.size();
}

LpmTrieMap::Id LpmTrieMap::id_of(uint32_t prefixlen, const uint8_t* data) const {
  std::string masked(reinterpret_cast<const char*>(data), data_size_);
  uint32_t full = prefixlen / 8;
  uint32_t rest = prefixlen % 8;
  if (full < data_size_) {
    masked[full] = static_cast<char>(rest ? (static_cast<uint8_t>(masked[full]) & (0xFF00u >> rest)) : 0);
    for (uint32_t i = full + 1; i < data_size_; ++i) masked[i] = 0;
  }
  return Id{prefixlen, std::move(masked)};
}

static uint32_t prefixlen_of(const void* key) {
  uint32_t p;
  std::memcpy(&p, key, 4);
  return p;
}

static const uint8_t* data_of(const void* key) { return static_cast<const uint8_t*>(key) + 4; }

LpmTrieMap::Entry* LpmTrieMap::find_longest(const void* key) {
  uint32_t want = prefixlen_of(key);
  if (want > max_prefixlen()) return nullptr;
  for (uint32_t len = want + 1; len-- > 0;) {
    if (per_len_[len] == 0) continue;
    auto it = entries_.find(id_of(len, data_of(key)));
    if (it != entries_.end()) return &it->second;
  }
  return nullptr;
}

uint8_t* LpmTrieMap::alloc_value() {
  if (!free_values_.empty()) {
    uint8_t* v = free_values_.back();
    free_values_.pop_back();
    return v;
  }
  auto* v = new uint8_t[round_up8(value_size())]();
  all_values_.push_back(v);
  return v;
}

void* LpmTrieMap::lookup(const void* key) {
  std::lock_guard guard(mu_);
  Entry* e = find_longest(key);
  return e ? e->value : nullptr;
}

int LpmTrieMap::lookup_user_impl(const void* key, void* value) {
  std::lock_guard guard(mu_);
  Entry* e = find_longest(key);
  if (e == nullptr) return -ENOENT;
  std::memcpy(value, e->value, value_size());
  return 0;
}

int LpmTrieMap::update(const void* key, const void* value, uint64_t flags) {
  if (flags > BPF_EXIST) return -EINVAL;
  uint32_t prefixlen = prefixlen_of(key);
  if (prefixlen > max_prefixlen()) return -EINVAL;
  std::lock_guard guard(mu_);
  Id id = id_of(prefixlen, data_of(key));
  auto it = entries_.find(id);
  if (it != entries_.end()) {
    if (flags == BPF_NOEXIST) return -EEXIST;
    it->second.data.assign(reinterpret_cast<const char*>(data_of(key)), data_size_);
    std::memcpy(it->second.value, value, value_size());
    return 0;
  }
  if (flags == BPF_EXIST) return -ENOENT;
  if (entries_.size() >= max_entries()) return -ENOSPC;  // the trie's "full", unlike hash's E2BIG
  uint8_t* v = alloc_value();
  std::memcpy(v, value, value_size());
  entries_.emplace(std::move(id),
                   Entry{std::string(reinterpret_cast<const char*>(data_of(key)), data_size_), v});
  ++per_len_[prefixlen];
  return 0;
}

int LpmTrieMap::delete_elem(const void* key) {
  uint32_t prefixlen = prefixlen_of(key);
  if (prefixlen > max_prefixlen()) return -EINVAL;
  std::lock_guard guard(mu_);
  auto it = entries_.find(id_of(prefixlen, data_of(key)));
  if (it == entries_.end()) return -ENOENT;
  free_values_.push_back(it->second.value);
  entries_.erase(it);
  --per_len_[prefixlen];
  return 0;
}

int LpmTrieMap::get_next_key(const void* key, void* next_key) {
  std::lock_guard guard(mu_);
  auto it = entries_.begin();
  if (key != nullptr && prefixlen_of(key) <= max_prefixlen()) {
    auto found = entries_.find(id_of(prefixlen_of(key), data_of(key)));
    if (found != entries_.end()) it = std::next(found);
  }
  if (it == entries_.end()) return -ENOENT;
  auto* out = static_cast<uint8_t*>(next_key);
  std::memcpy(out, &it->first.prefixlen, 4);
  std::memcpy(out + 4, it->second.data.data(), data_size_);
  return 0;
}

}  // namespace bpfkit::maps
