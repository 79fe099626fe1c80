// BPF_MAP_TYPE_LPM_TRIE: keys are struct bpf_lpm_trie_key_u8 (u32 prefixlen,
// then data_size bytes, most significant bit first); lookup returns the value
// of the longest stored prefix that matches the key's first prefixlen bits.
//
// Stored as an ordered map from (prefixlen, masked data) plus a count per
// prefix length: a lookup probes only the lengths in use, longest first.
// Iteration order (get_next_key) is longer prefixes first, then by data
// ascending. The kernel walks its trie in post-order, which also yields more
// specific prefixes before the prefixes that contain them, but its exact order
// differs; the same set of keys is reached. As the kernel does, a key that is
// not stored restarts the iteration, and the data returned is the data of the
// last update of that prefix (bits beyond the prefix included).
// Value memory of deleted entries is kept for reuse, so pointers from lookup()
// stay valid memory.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "maps/map.h"

namespace bpfkit::maps {

class LpmTrieMap : public Map {
 public:
  explicit LpmTrieMap(MapSpec spec);
  ~LpmTrieMap() override;

  void* lookup(const void* key) override;
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;
  int lookup_user_impl(const void* key, void* value) override;

  uint32_t max_prefixlen() const { return data_size_ * 8; }
  size_t size() const;

 private:
  struct Id {
    uint32_t prefixlen;
    std::string masked;
  };
  struct Order {
    bool operator()(const Id& a, const Id& b) const {
      if (a.prefixlen != b.prefixlen) return a.prefixlen > b.prefixlen;
      return a.masked < b.masked;
    }
  };
  struct Entry {
    std::string data;  // as last given by update
    uint8_t* value;
  };

  Id id_of(uint32_t prefixlen, const uint8_t* data) const;
  Entry* find_longest(const void* key);
  uint8_t* alloc_value();

  uint32_t data_size_;
  mutable std::mutex mu_;
  std::map<Id, Entry, Order> entries_;
  std::vector<uint32_t> per_len_;  // entries per prefix length
  std::vector<uint8_t*> all_values_;
  std::vector<uint8_t*> free_values_;
};

}  // namespace bpfkit::maps
