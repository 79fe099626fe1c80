// BPF_MAP_TYPE_STACK_TRACE: stacks stored by id for bpf_get_stackid.
//
// As in the kernel: the key is a u32 stack id; a value is an array of u64
// instruction pointers (or of struct bpf_stack_build_id with
// BPF_F_STACK_BUILD_ID), zero-padded to value_size. get_stackid hashes the
// stack (jhash2 over its 32-bit words, seed 0) into one of n_buckets =
// roundup_pow_of_two(max_entries) buckets; the id is the bucket. At most
// max_entries stacks are stored (the kernel preallocates that many elements):
// a new stack beyond that fails with -ENOMEM until one is deleted.
//
// Programs cannot look the map up (lookup() is nullptr; the verifier allows only
// bpf_get_stackid on it); user space reads a stack by id, deletes it, and walks
// the ids. Updates are refused with -EINVAL, as the kernel does.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "maps/map.h"

namespace bpfkit::maps {

// sysctl kernel.perf_event_max_stack (its default): the deepest stack a map value can hold.
constexpr uint32_t kPerfEventMaxStack = 127;

// The kernel's jhash2 over the 32-bit words of `n` ips, initial value 0.
uint32_t stack_trace_hash(const uint64_t* ips, size_t n);

class StackTraceMap : public Map {
 public:
  explicit StackTraceMap(MapSpec spec);
  ~StackTraceMap() override;

  bool build_id() const { return flags() & BPF_F_STACK_BUILD_ID; }
  uint32_t n_buckets() const { return n_buckets_; }
  // Bytes of one stored frame: 8, or sizeof(bpf_stack_build_id) with BPF_F_STACK_BUILD_ID.
  uint32_t frame_size() const;
  // How many frames the helper captures for `flags`: the frames a value holds plus
  // the ones skipped, at most kPerfEventMaxStack.
  uint32_t capture_depth(uint64_t flags) const;

  // __bpf_get_stackid on `trace` (innermost first, as captured to capture_depth()):
  // the stack id, or -EFAULT (nothing left after skipping), -EEXIST (the bucket
  // holds another stack and BPF_F_REUSE_STACKID is not set), -ENOMEM (max_entries
  // stacks stored). Flags are checked by the helper.
  int64_t get_stackid(std::span<const uint64_t> trace, uint64_t flags);

  void* lookup(const void* key) override;  // always nullptr: not readable by programs
  int update(const void* key, const void* value, uint64_t flags) override;  // -EINVAL
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;

 protected:
  int lookup_user_impl(const void* key, void* value) override;
  int update_user_impl(const void* key, const void* value, uint64_t flags) override;

 private:
  struct Bucket {
    uint32_t hash = 0;
    uint32_t nr = 0;  // frames stored
    std::unique_ptr<uint8_t[]> data;  // value_size bytes
  };

  Bucket* take_free();  // nullptr when max_entries stacks are stored

  uint32_t n_buckets_;
  std::mutex mu_;
  std::vector<Bucket*> buckets_;  // by id
  std::vector<std::unique_ptr<Bucket>> pool_;  // every element allocated so far (at most max_entries)
  std::vector<Bucket*> free_;
};

// BPF_MAP_CREATE's checks for a stack trace map (stack_map_alloc): throws MapSpecError.
void check_stack_trace_spec(const MapSpec& spec);

}  // namespace bpfkit::maps
