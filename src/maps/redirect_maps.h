// The maps bpf_redirect_map sends XDP frames through, with the kernel's value
// layouts, create-time checks and element semantics:
//  - BPF_MAP_TYPE_DEVMAP (array) and BPF_MAP_TYPE_DEVMAP_HASH: a u32 ifindex, or a
//    struct bpf_devmap_val (ifindex + a second-stage XDP program's fd, read back
//    as its id). The ifindex must name a network device (the kernel's
//    dev_get_by_index: -EINVAL otherwise). The kernel marks devmaps
//    BPF_F_RDONLY_PROG: programs may look an entry up but not write it.
//  - BPF_MAP_TYPE_CPUMAP: a u32 queue size, or a struct bpf_cpumap_val (qsize +
//    program fd/id), indexed by a possible CPU. Programs cannot look it up.
//  - BPF_MAP_TYPE_XSKMAP: user space writes an AF_XDP socket's fd (checked as the
//    kernel checks it: -EBADF, -ENOTSOCK, -EOPNOTSUPP for another family) and
//    cannot read it back (-EOPNOTSUPP); programs look an entry up as a struct
//    bpf_xdp_sock (queue_id).
//
// On the userspace target no frame leaves the process: a redirect records where
// the frame would go (see redirect_lookup) and the second-stage programs of
// devmap/cpumap entries are not run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "maps/map.h"

namespace bpfkit::maps {

// What a redirect map entry sends a frame to.
struct RedirectTarget {
  uint32_t ifindex = 0;   // devmap: the device
  uint32_t cpu = 0;       // cpumap: the CPU (the key)
  int32_t xsk_fd = -1;    // xskmap: the socket's fd as user space wrote it
  uint32_t prog_id = 0;   // devmap/cpumap: the entry's second-stage program, 0 for none
};

// Resolves the program fd of a bpf_devmap_val / bpf_cpumap_val update: the
// program's id, or 0 when the fd names no XDP program made for this map
// (expected_attach_type BPF_XDP_DEVMAP / BPF_XDP_CPUMAP). Without one, any fd is
// refused: -EINVAL for a devmap, -ENOMEM for a cpumap (the kernel's answers).
using ProgFdResolver = std::function<uint32_t(int32_t fd)>;
// Whether an ifindex names a network device. The default asks this host (if_indextoname).
using IfindexCheck = std::function<bool(uint32_t ifindex)>;

class RedirectMap : public Map {
 public:
  using Map::Map;
  // Flags bpf_redirect_map accepts besides the fallback action in the low two bits.
  virtual uint64_t redirect_flags_allowed() const { return 0; }
  // The entry bpf_redirect_map(map, key, ...) sends to; false when there is none.
  virtual bool redirect_lookup(uint32_t key, RedirectTarget* target) = 0;
};

class DevMap : public RedirectMap {
 public:
  explicit DevMap(MapSpec spec);  // DEVMAP or DEVMAP_HASH; adds BPF_F_RDONLY_PROG as the kernel does
  ~DevMap() override;

  void set_ifindex_check(IfindexCheck check);
  void set_prog_resolver(ProgFdResolver resolve);
  bool is_hash() const { return type() == BPF_MAP_TYPE_DEVMAP_HASH; }

  uint64_t redirect_flags_allowed() const override { return BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS; }
  bool redirect_lookup(uint32_t key, RedirectTarget* target) override;
  // BPF_F_BROADCAST: the devices a frame goes to, in the kernel's order (index
  // order; for the hash, bucket order), skipping `exclude_ifindex` (0: none). The
  // kernel also skips the ingress device's upper devices (bonds, bridges): not here.
  std::vector<uint32_t> broadcast_ifindexes(uint32_t exclude_ifindex = 0);

  void* lookup(const void* key) override;  // the entry's bpf_devmap_val (read-only for programs)
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;

 private:
  struct Node;
  int make_value(const void* value, bpf_devmap_val* out);  // the checks of __dev_map_alloc_node
  Node* find(uint32_t key) const;                         // hash only; mu_ held

  std::mutex mu_;
  IfindexCheck ifindex_ok_;
  ProgFdResolver resolve_prog_;
  // DEVMAP: one slot per index, present while its ifindex is not 0.
  std::unique_ptr<bpf_devmap_val[], void (*)(void*)> slots_;
  // DEVMAP_HASH: buckets of nodes (newest first); nodes are recycled, never freed,
  // so a pointer a program holds stays valid.
  uint32_t n_buckets_ = 0;
  uint32_t items_ = 0;
  std::unique_ptr<Node*[], void (*)(void*)> buckets_;
  std::vector<std::unique_ptr<Node>> pool_;
  std::vector<Node*> free_;
};

class CpuMap : public RedirectMap {
 public:
  explicit CpuMap(MapSpec spec);
  void set_prog_resolver(ProgFdResolver resolve);

  bool redirect_lookup(uint32_t key, RedirectTarget* target) override;

  void* lookup(const void* key) override;  // nullptr: programs cannot read a cpumap
  int update(const void* key, const void* value, uint64_t flags) override;
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;

 protected:
  int lookup_user_impl(const void* key, void* value) override;

 private:
  std::mutex mu_;
  ProgFdResolver resolve_prog_;
  std::vector<bpf_cpumap_val> slots_;  // present while qsize is not 0
};

class XskMap : public RedirectMap {
 public:
  explicit XskMap(MapSpec spec);

  bool redirect_lookup(uint32_t key, RedirectTarget* target) override;
  // The queue id programs read through a looked-up entry (bpf_xdp_sock.queue_id).
  // The kernel knows the socket's bound queue; here the owner of the socket tells
  // (0 until then). -ENOENT when the slot is empty.
  int set_queue_id(uint32_t key, uint32_t queue_id);

  void* lookup(const void* key) override;  // the entry's struct bpf_xdp_sock, or nullptr
  int update(const void* key, const void* value, uint64_t flags) override;  // value: the socket fd (u32)
  int delete_elem(const void* key) override;
  int get_next_key(const void* key, void* next_key) override;

 protected:
  int lookup_user_impl(const void* key, void* value) override;  // -EOPNOTSUPP, as the kernel

 private:
  // All-zero is an empty slot (the array comes from calloc).
  struct Slot {
    bpf_xdp_sock view;  // what a program reads; first, so lookup() can point at it
    uint32_t present;
    int32_t fd;
    uint64_t dev, ino;  // the socket's identity: the same socket again is not a conflict
  };
  std::mutex mu_;
  std::unique_ptr<Slot[], void (*)(void*)> slots_;
};

// BPF_MAP_CREATE's checks for devmap, devmap_hash, cpumap and xskmap: throws MapSpecError.
void check_redirect_map_spec(const MapSpec& spec);

// The kernel's NR_CPUS (from /sys/devices/system/cpu/kernel_max): a cpumap's max_entries limit.
uint32_t kernel_nr_cpus();

}  // namespace bpfkit::maps
