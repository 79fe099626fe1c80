#include "maps/redirect_maps.h"

#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "maps/cpu.h"

namespace bpfkit::maps {

namespace {

constexpr uint64_t kMaxMapBytes = 1ull << 32;  // refuse (ENOMEM) rather than exhaust memory
constexpr uint32_t kMaxCpumapQsize = 16384;    // cpu_map_update_elem's sanity limit

uint32_t read_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t roundup_pow_of_two(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// Zero-filled arrays from calloc: large maps cost address space, not touched pages.
template <typename T>
std::unique_ptr<T[], void (*)(void*)> zeroed(const MapSpec& s, size_t n) {
  void* p = std::calloc(n ? n : 1, sizeof(T));
  if (!p) {
    throw MapSpecError(map_type_name(s.type) + " map: cannot allocate " + std::to_string(n) + " entries",
                       ENOMEM);
  }
  return {static_cast<T*>(p), std::free};
}

[[noreturn]] void refuse(const MapSpec& s, int err, const std::string& why) {
  std::string where = map_type_name(s.type) + " map";
  if (!s.name.empty()) where += " '" + s.name + "'";
  const char* name = err == EINVAL ? "EINVAL" : err == E2BIG ? "E2BIG" : "ENOMEM";
  throw MapSpecError(where + ": " + why + " (the kernel returns " + name + ")", err);
}

bool host_has_ifindex(uint32_t ifindex) {
  char name[IF_NAMESIZE];
  return if_indextoname(ifindex, name) != nullptr;
}

// The array-style walk devmap, cpumap and xskmap share: every index, present or not.
int array_next_key(uint32_t max_entries, const void* key, void* next_key) {
  const uint32_t index = key ? read_u32(key) : UINT32_MAX;
  uint32_t next = 0;
  if (index < max_entries) {
    if (index == max_entries - 1) return -ENOENT;
    next = index + 1;
  }
  std::memcpy(next_key, &next, sizeof next);
  return 0;
}

uint32_t load(const uint32_t& field) { return std::atomic_ref(const_cast<uint32_t&>(field)).load(); }
void store(uint32_t& field, uint32_t v) { std::atomic_ref(field).store(v); }

}  // namespace

uint32_t kernel_nr_cpus() {
  static const uint32_t n = [] {
    std::ifstream in("/sys/devices/system/cpu/kernel_max");
    long max = -1;
    if (in >> max && max >= 0) return uint32_t(max + 1);
    return uint32_t(8192);  // x86-64 distribution kernels' NR_CPUS
  }();
  return n;
}

void check_redirect_map_spec(const MapSpec& s) {
  const bool dev = s.type == BPF_MAP_TYPE_DEVMAP || s.type == BPF_MAP_TYPE_DEVMAP_HASH;
  const bool cpu = s.type == BPF_MAP_TYPE_CPUMAP;
  const uint32_t allowed = cpu ? BPF_F_NUMA_NODE : BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY;
  if (s.max_entries == 0) refuse(s, EINVAL, "max_entries must not be 0");
  if (s.key_size != 4) refuse(s, EINVAL, "key_size must be 4, not " + std::to_string(s.key_size));
  if (dev && s.value_size != 4 && s.value_size != sizeof(bpf_devmap_val)) {
    refuse(s, EINVAL, "value_size must be 4 (an ifindex) or 8 (struct bpf_devmap_val), not " +
                          std::to_string(s.value_size));
  }
  if (cpu && s.value_size != 4 && s.value_size != sizeof(bpf_cpumap_val)) {
    refuse(s, EINVAL, "value_size must be 4 (a queue size) or 8 (struct bpf_cpumap_val), not " +
                          std::to_string(s.value_size));
  }
  if (s.type == BPF_MAP_TYPE_XSKMAP && s.value_size != 4) {
    refuse(s, EINVAL, "value_size must be 4 (an AF_XDP socket fd), not " + std::to_string(s.value_size));
  }
  if (s.flags & ~allowed) {
    refuse(s, EINVAL, cpu ? "map_flags may hold only BPF_F_NUMA_NODE"
                          : "map_flags may hold only BPF_F_NUMA_NODE, BPF_F_RDONLY and BPF_F_WRONLY");
  }
  if (s.type == BPF_MAP_TYPE_DEVMAP_HASH && s.max_entries > (1u << 31)) {
    refuse(s, EINVAL, "max_entries exceeds 2^31");
  }
  if (cpu && s.max_entries > kernel_nr_cpus()) {
    refuse(s, E2BIG, "max_entries exceeds the kernel's NR_CPUS (" + std::to_string(kernel_nr_cpus()) + ")");
  }
  const uint64_t slots = s.type == BPF_MAP_TYPE_DEVMAP_HASH ? roundup_pow_of_two(s.max_entries) : s.max_entries;
  if (slots * 8 > kMaxMapBytes) refuse(s, ENOMEM, "the map's table would need more than 4 GiB");
}

// ---- DEVMAP, DEVMAP_HASH ----

struct DevMap::Node {
  uint32_t key = 0;
  Node* next = nullptr;
  bpf_devmap_val val{};
};

namespace {
MapSpec read_only_for_programs(MapSpec s) {
  s.flags |= BPF_F_RDONLY_PROG;  // lookups point into the map, so the kernel forbids program writes
  return s;
}
}  // namespace

DevMap::DevMap(MapSpec spec)
    : RedirectMap(read_only_for_programs(std::move(spec))),
      ifindex_ok_(host_has_ifindex),
      slots_(nullptr, std::free),
      buckets_(nullptr, std::free) {
  if (is_hash()) {
    n_buckets_ = roundup_pow_of_two(max_entries());
    buckets_ = zeroed<Node*>(this->spec(), n_buckets_);
  } else {
    slots_ = zeroed<bpf_devmap_val>(this->spec(), max_entries());
  }
}

DevMap::~DevMap() = default;

void DevMap::set_ifindex_check(IfindexCheck check) {
  std::lock_guard lock(mu_);
  ifindex_ok_ = std::move(check);
}

void DevMap::set_prog_resolver(ProgFdResolver resolve) {
  std::lock_guard lock(mu_);
  resolve_prog_ = std::move(resolve);
}

DevMap::Node* DevMap::find(uint32_t key) const {
  for (Node* n = buckets_[key & (n_buckets_ - 1)]; n; n = n->next) {
    if (n->key == key) return n;
  }
  return nullptr;
}

// __dev_map_alloc_node: the device must exist, a program fd must name a devmap program.
int DevMap::make_value(const void* value, bpf_devmap_val* out) {
  bpf_devmap_val in{};
  std::memcpy(&in, value, value_size());
  if (!ifindex_ok_ || !ifindex_ok_(in.ifindex)) return -EINVAL;
  uint32_t prog_id = 0;
  if (in.bpf_prog.fd > 0) {
    prog_id = resolve_prog_ ? resolve_prog_(in.bpf_prog.fd) : 0;
    if (prog_id == 0) return -EINVAL;
  }
  *out = {};
  out->ifindex = in.ifindex;
  out->bpf_prog.id = prog_id;
  return 0;
}

int DevMap::update(const void* key, const void* value, uint64_t flags) {
  const uint32_t k = read_u32(key);
  bpf_devmap_val in{};
  std::memcpy(&in, value, value_size());
  std::lock_guard lock(mu_);
  if (!is_hash()) {
    if (flags > BPF_EXIST) return -EINVAL;
    if (k >= max_entries()) return -E2BIG;
    if (flags == BPF_NOEXIST) return -EEXIST;  // every index always "exists"
    bpf_devmap_val v{};
    if (in.ifindex == 0) {
      if (in.bpf_prog.fd > 0) return -EINVAL;  // a program needs a device
    } else if (int rc = make_value(value, &v); rc != 0) {
      return rc;
    }
    // ifindex last: a lock-free reader sees the slot present only once it is whole.
    store(slots_[k].ifindex, 0);
    slots_[k].bpf_prog.id = v.bpf_prog.id;
    store(slots_[k].ifindex, v.ifindex);
    return 0;
  }
  if (flags > BPF_EXIST || in.ifindex == 0) return -EINVAL;
  Node* old = find(k);
  if (old && (flags & BPF_NOEXIST)) return -EEXIST;
  bpf_devmap_val v{};
  if (int rc = make_value(value, &v); rc != 0) return rc;
  // BPF_EXIST on a missing key inserts, as the kernel's devmap_hash does.
  if (!old && items_ >= max_entries()) return -E2BIG;
  Node* node;
  if (!free_.empty()) {
    node = free_.back();
    free_.pop_back();
  } else {
    pool_.push_back(std::make_unique<Node>());
    node = pool_.back().get();
  }
  node->key = k;
  node->val = v;
  Node** head = &buckets_[k & (n_buckets_ - 1)];
  if (old) {
    // The kernel unlinks the old entry and adds the new one at the bucket's head.
    for (Node** p = head; *p; p = &(*p)->next) {
      if (*p == old) {
        *p = old->next;
        break;
      }
    }
    free_.push_back(old);
  } else {
    ++items_;
  }
  node->next = *head;
  *head = node;
  return 0;
}

int DevMap::delete_elem(const void* key) {
  const uint32_t k = read_u32(key);
  std::lock_guard lock(mu_);
  if (!is_hash()) {
    if (k >= max_entries()) return -EINVAL;
    store(slots_[k].ifindex, 0);
    return 0;
  }
  for (Node** p = &buckets_[k & (n_buckets_ - 1)]; *p; p = &(*p)->next) {
    if ((*p)->key == k) {
      Node* gone = *p;
      *p = gone->next;
      free_.push_back(gone);
      --items_;
      return 0;
    }
  }
  return -ENOENT;
}

void* DevMap::lookup(const void* key) {
  const uint32_t k = read_u32(key);
  if (!is_hash()) {
    if (k >= max_entries() || load(slots_[k].ifindex) == 0) return nullptr;
    return &slots_[k];
  }
  std::lock_guard lock(mu_);
  Node* n = find(k);
  return n ? &n->val : nullptr;
}

bool DevMap::redirect_lookup(uint32_t key, RedirectTarget* target) {
  const auto* v = static_cast<const bpf_devmap_val*>(lookup(&key));
  if (!v) return false;
  *target = {};
  target->ifindex = load(v->ifindex);
  target->prog_id = v->bpf_prog.id;
  return target->ifindex != 0;
}

std::vector<uint32_t> DevMap::broadcast_ifindexes(uint32_t exclude_ifindex) {
  std::vector<uint32_t> out;
  auto add = [&](uint32_t ifindex) {
    if (ifindex != 0 && ifindex != exclude_ifindex) out.push_back(ifindex);
  };
  std::lock_guard lock(mu_);
  if (!is_hash()) {
    for (uint32_t i = 0; i < max_entries(); ++i) add(load(slots_[i].ifindex));
  } else {
    for (uint32_t b = 0; b < n_buckets_; ++b) {
      for (Node* n = buckets_[b]; n; n = n->next) add(n->val.ifindex);
    }
  }
  return out;
}

int DevMap::get_next_key(const void* key, void* next_key) {
  if (!is_hash()) return array_next_key(max_entries(), key, next_key);
  std::lock_guard lock(mu_);
  uint32_t bucket = 0;
  if (key) {
    const uint32_t k = read_u32(key);
    if (Node* n = find(k)) {
      if (n->next) {
        std::memcpy(next_key, &n->next->key, sizeof(uint32_t));
        return 0;
      }
      bucket = (k & (n_buckets_ - 1)) + 1;
    }
    // A missing key restarts the walk from the first bucket.
  }
  for (; bucket < n_buckets_; ++bucket) {
    if (Node* n = buckets_[bucket]) {
      std::memcpy(next_key, &n->key, sizeof(uint32_t));
      return 0;
    }
  }
  return -ENOENT;
}

// ---- CPUMAP ----

CpuMap::CpuMap(MapSpec spec) : RedirectMap(std::move(spec)), slots_(max_entries()) {}

void CpuMap::set_prog_resolver(ProgFdResolver resolve) {
  std::lock_guard lock(mu_);
  resolve_prog_ = std::move(resolve);
}

int CpuMap::update(const void* key, const void* value, uint64_t flags) {
  const uint32_t cpu = read_u32(key);
  bpf_cpumap_val in{};
  std::memcpy(&in, value, value_size());
  if (flags > BPF_EXIST) return -EINVAL;
  if (cpu >= max_entries()) return -E2BIG;
  if (flags == BPF_NOEXIST) return -EEXIST;
  if (in.qsize > kMaxCpumapQsize) return -EOVERFLOW;
  if (cpu >= possible_cpus()) return -ENODEV;
  std::lock_guard lock(mu_);
  uint32_t prog_id = 0;
  if (in.qsize != 0 && in.bpf_prog.fd > 0) {
    // The kernel's entry allocation fails as a whole when the program does not
    // load, and cpu_map_update_elem reports every such failure as -ENOMEM.
    prog_id = resolve_prog_ ? resolve_prog_(in.bpf_prog.fd) : 0;
    if (prog_id == 0) return -ENOMEM;
  }
  // qsize 0 empties the slot, as the kernel's "same as deleting".
  store(slots_[cpu].qsize, 0);
  slots_[cpu].bpf_prog.id = prog_id;
  store(slots_[cpu].qsize, in.qsize);
  return 0;
}

int CpuMap::delete_elem(const void* key) {
  const uint32_t cpu = read_u32(key);
  if (cpu >= max_entries()) return -EINVAL;
  std::lock_guard lock(mu_);
  store(slots_[cpu].qsize, 0);
  return 0;
}

void* CpuMap::lookup(const void*) { return nullptr; }

int CpuMap::lookup_user_impl(const void* key, void* value) {
  const uint32_t cpu = read_u32(key);
  if (cpu >= max_entries()) return -ENOENT;
  std::lock_guard lock(mu_);
  if (slots_[cpu].qsize == 0) return -ENOENT;
  std::memcpy(value, &slots_[cpu], value_size());
  return 0;
}

bool CpuMap::redirect_lookup(uint32_t key, RedirectTarget* target) {
  if (key >= max_entries() || load(slots_[key].qsize) == 0) return false;
  *target = {};
  target->cpu = key;
  target->prog_id = slots_[key].bpf_prog.id;
  return true;
}

int CpuMap::get_next_key(const void* key, void* next_key) {
  return array_next_key(max_entries(), key, next_key);
}

// ---- XSKMAP ----

XskMap::XskMap(MapSpec spec) : RedirectMap(std::move(spec)), slots_(zeroed<Slot>(this->spec(), max_entries())) {}

int XskMap::update(const void* key, const void* value, uint64_t flags) {
  const uint32_t i = read_u32(key);
  const int32_t fd = int32_t(read_u32(value));
  if (flags > BPF_EXIST) return -EINVAL;
  if (i >= max_entries()) return -E2BIG;
  // sockfd_lookup, then the family: what the kernel checks of the fd.
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return -EBADF;
  if (!S_ISSOCK(st.st_mode)) return -ENOTSOCK;
  int domain = 0;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_XDP) return -EOPNOTSUPP;
  std::lock_guard lock(mu_);
  Slot& s = slots_[i];
  const bool present = load(s.present) != 0;
  if (present && s.dev == uint64_t(st.st_dev) && s.ino == uint64_t(st.st_ino)) return 0;  // the same socket
  if (present && flags == BPF_NOEXIST) return -EEXIST;
  if (!present && flags == BPF_EXIST) return -ENOENT;
  store(s.present, 0);
  s.fd = fd;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.view = {};
  store(s.present, 1);
  return 0;
}

int XskMap::delete_elem(const void* key) {
  const uint32_t i = read_u32(key);
  if (i >= max_entries()) return -EINVAL;
  std::lock_guard lock(mu_);
  store(slots_[i].present, 0);
  return 0;
}

int XskMap::set_queue_id(uint32_t key, uint32_t queue_id) {
  std::lock_guard lock(mu_);
  if (key >= max_entries() || !slots_[key].present) return -ENOENT;
  slots_[key].view.queue_id = queue_id;
  return 0;
}

void* XskMap::lookup(const void* key) {
  const uint32_t i = read_u32(key);
  if (i >= max_entries() || load(slots_[i].present) == 0) return nullptr;
  return &slots_[i].view;
}

int XskMap::lookup_user_impl(const void*, void*) { return -EOPNOTSUPP; }

bool XskMap::redirect_lookup(uint32_t key, RedirectTarget* target) {
  if (key >= max_entries() || load(slots_[key].present) == 0) return false;
  *target = {};
  target->xsk_fd = slots_[key].fd;
  return true;
}

int XskMap::get_next_key(const void* key, void* next_key) {
  return array_next_key(max_entries(), key, next_key);
}

}  // namespace bpfkit::maps
