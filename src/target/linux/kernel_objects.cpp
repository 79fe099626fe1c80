#include "target/linux/kernel_objects.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace bpfkit::target::linux_kernel {
namespace {

// Newer than the installed <linux/bpf.h> (6.1): the commands are old, but link
// types after STRUCT_OPS and the perf_event/tcx parts of bpf_link_info are not.
constexpr uint32_t kLinkTypePerfEvent = 7;
constexpr uint32_t kBpfFsMagic = 0xcafe4a11;
constexpr uint32_t kPerfEventUprobe = 1, kPerfEventUretprobe = 2, kPerfEventKprobe = 3,
                   kPerfEventKretprobe = 4, kPerfEventTracepoint = 5, kPerfEventEvent = 6;

long sys_bpf(int cmd, bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }
uint64_t ptr_to_u64(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// The kernel's bpf_link_info as of 6.18 (<linux/bpf.h>): 12 bytes of header, then a
// union aligned to 8. Read by offset so that the old installed header is enough.
struct LinkInfoBuffer {
  uint32_t type, id, prog_id, pad;
  uint8_t u[96];
};
static_assert(sizeof(LinkInfoBuffer) == 112);

template <class T>
T read_at(const uint8_t* base, size_t off) {
  T v;
  std::memcpy(&v, base + off, sizeof v);
  return v;
}

void get_info(int fd, void* info, uint32_t size, const char* what) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = uint32_t(fd);
  attr.info.info_len = size;
  attr.info.info = ptr_to_u64(info);
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) != 0) {
    throw BpfError(std::string("BPF_OBJ_GET_INFO_BY_FD on a ") + what + " fd", errno);
  }
}

// /proc/self/fdinfo/FD as key -> value.
std::map<std::string, std::string> fdinfo(int fd) {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = colon + 1;
    while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
    out[line.substr(0, colon)] = line.substr(v);
  }
  return out;
}

uint64_t fdinfo_number(const std::map<std::string, std::string>& info, const std::string& key) {
  auto it = info.find(key);
  if (it == info.end()) return 0;
  return std::strtoull(it->second.c_str(), nullptr, 10);
}

std::string c_string(const char* s, size_t max) { return std::string(s, strnlen(s, max)); }

std::string hex(const uint8_t* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[bytes[i] >> 4];
    s += digits[bytes[i] & 15];
  }
  return s;
}

// Seconds between the epoch and boot, to turn load_time (boot-based) into wall time.
double boot_epoch() {
  timespec real, boot;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  return double(real.tv_sec - boot.tv_sec) + double(real.tv_nsec - boot.tv_nsec) / 1e9;
}

// Name tables in the kernel's enum order, spelled as libbpf/bpftool spell them.
const std::vector<std::string_view>& prog_type_names() {
  static const std::vector<std::string_view> names = {"unspec",
                                                      "socket_filter",
                                                      "kprobe",
                                                      "sched_cls",
                                                      "sched_act",
                                                      "tracepoint",
                                                      "xdp",
                                                      "perf_event",
                                                      "cgroup_skb",
                                                      "cgroup_sock",
                                                      "lwt_in",
                                                      "lwt_out",
                                                      "lwt_xmit",
                                                      "sock_ops",
                                                      "sk_skb",
                                                      "cgroup_device",
                                                      "sk_msg",
                                                      "raw_tracepoint",
                                                      "cgroup_sock_addr",
                                                      "lwt_seg6local",
                                                      "lirc_mode2",
                                                      "sk_reuseport",
                                                      "flow_dissector",
                                                      "cgroup_sysctl",
                                                      "raw_tracepoint_writable",
                                                      "cgroup_sockopt",
                                                      "tracing",
                                                      "struct_ops",
                                                      "ext",
                                                      "lsm",
                                                      "sk_lookup",
                                                      "syscall",
                                                      "netfilter"};
  return names;
}

const std::vector<std::string_view>& map_type_names() {
  static const std::vector<std::string_view> names = {"unspec",
                                                      "hash",
                                                      "array",
                                                      "prog_array",
                                                      "perf_event_array",
                                                      "percpu_hash",
                                                      "percpu_array",
                                                      "stack_trace",
                                                      "cgroup_array",
                                                      "lru_hash",
                                                      "lru_percpu_hash",
                                                      "lpm_trie",
                                                      "array_of_maps",
                                                      "hash_of_maps",
                                                      "devmap",
                                                      "sockmap",
                                                      "cpumap",
                                                      "xskmap",
                                                      "sockhash",
                                                      "cgroup_storage",
                                                      "reuseport_sockarray",
                                                      "percpu_cgroup_storage",
                                                      "queue",
                                                      "stack",
                                                      "sk_storage",
                                                      "devmap_hash",
                                                      "struct_ops",
                                                      "ringbuf",
                                                      "inode_storage",
                                                      "task_storage",
                                                      "bloom_filter",
                                                      "user_ringbuf",
                                                      "cgrp_storage",
                                                      "arena"};
  return names;
}

const std::vector<std::string_view>& link_type_names() {
  static const std::vector<std::string_view> names = {
      "unspec",       "raw_tracepoint", "tracing",      "cgroup",     "iter",      "netns",
      "xdp",          "perf_event",     "kprobe_multi", "struct_ops", "netfilter", "tcx",
      "uprobe_multi", "netkit",         "sockmap"};
  return names;
}

const std::vector<std::string_view>& attach_type_names() {
  static const std::vector<std::string_view> names = {
      "cgroup_inet_ingress", "cgroup_inet_egress", "cgroup_inet_sock_create", "cgroup_sock_ops",
      "sk_skb_stream_parser", "sk_skb_stream_verdict", "cgroup_device", "sk_msg_verdict", "cgroup_inet4_bind",
      "cgroup_inet6_bind", "cgroup_inet4_connect", "cgroup_inet6_connect", "cgroup_inet4_post_bind",
      "cgroup_inet6_post_bind", "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg", "lirc_mode2", "flow_dissector",
      "cgroup_sysctl", "cgroup_udp4_recvmsg", "cgroup_udp6_recvmsg", "cgroup_getsockopt", "cgroup_setsockopt",
      "trace_raw_tp", "trace_fentry", "trace_fexit", "modify_return", "lsm_mac", "trace_iter",
      "cgroup_inet4_getpeername", "cgroup_inet6_getpeername", "cgroup_inet4_getsockname",
      "cgroup_inet6_getsockname", "xdp_devmap", "cgroup_inet_sock_release", "xdp_cpumap", "sk_lookup", "xdp",
      "sk_skb_verdict", "sk_reuseport_select", "sk_reuseport_select_or_migrate", "perf_event",
      "trace_kprobe_multi", "lsm_cgroup",
      // Newer than the installed 6.1 header (44 on):
      "struct_ops", "netfilter", "tcx_ingress", "tcx_egress", "trace_uprobe_multi", "cgroup_unix_connect",
      "cgroup_unix_sendmsg", "cgroup_unix_recvmsg", "cgroup_unix_getpeername", "cgroup_unix_getsockname",
      "netkit_primary", "netkit_peer", "trace_kprobe_session", "trace_uprobe_session"};
  return names;
}

std::string table_name(const std::vector<std::string_view>& table, uint32_t v) {
  if (v < table.size()) return std::string(table[v]);
  return "unknown(" + std::to_string(v) + ")";
}

std::optional<uint32_t> table_lookup(const std::vector<std::string_view>& table, std::string_view name) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i] == name) return uint32_t(i);
  }
  return std::nullopt;
}

bool is_bpffs(const std::string& dir) {
  struct statfs st;
  return statfs(dir.c_str(), &st) == 0 && uint32_t(st.f_type) == kBpfFsMagic;
}

// The pin's directory must be on bpffs. Under /sys/fs/bpf with nothing mounted,
// mount it as bpftool does; otherwise say what to do in one sentence.
void require_bpffs(const std::string& path) {
  namespace fs = std::filesystem;
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (is_bpffs(dir)) return;
  const bool under_default = path.rfind("/sys/fs/bpf/", 0) == 0;
  if (under_default && !is_bpffs("/sys/fs/bpf")) {
    if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0) {
      throw Error("bpffs is not mounted at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf");
    }
    if (is_bpffs(dir)) return;
  }
  if (!fs::exists(dir)) throw Error("cannot pin at " + path + ": directory " + dir + " does not exist");
  throw Error("cannot pin at " + path + ": " + dir + " is not on a bpffs; pin under /sys/fs/bpf");
}

struct Kallsyms {
  std::vector<std::pair<uint64_t, std::string>> symbols;  // sorted by address
  uint64_t call_base = 0;
};

const Kallsyms& kallsyms() {
  static const Kallsyms table = [] {
    Kallsyms k;
    std::ifstream in("/proc/kallsyms");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string addr, kind, name;
      if (!(ls >> addr >> kind >> name)) continue;
      const uint64_t a = std::strtoull(addr.c_str(), nullptr, 16);
      if (a == 0) continue;
      if (name == "__bpf_call_base") k.call_base = a;
      k.symbols.emplace_back(a, name);
    }
    std::sort(k.symbols.begin(), k.symbols.end());
    return k;
  }();
  return table;
}

}  // namespace

const char* kernel_object_kind_name(KernelObjectKind kind) {
  switch (kind) {
    case KernelObjectKind::Program: return "program";
    case KernelObjectKind::Map: return "map";
    case KernelObjectKind::Link: return "link";
    case KernelObjectKind::Btf: return "BTF";
  }
  return "object";
}

std::vector<uint32_t> kernel_object_ids(KernelObjectKind kind) {
  static constexpr int kCommands[] = {BPF_PROG_GET_NEXT_ID, BPF_MAP_GET_NEXT_ID, BPF_LINK_GET_NEXT_ID,
                                      BPF_BTF_GET_NEXT_ID};
  std::vector<uint32_t> ids;
  uint32_t id = 0;
  for (;;) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.start_id = id;
    if (sys_bpf(kCommands[int(kind)], &attr) != 0) {
      if (errno == ENOENT) break;
      throw BpfError(std::string("listing ") + kernel_object_kind_name(kind) + " ids", errno);
    }
    id = attr.next_id;
    ids.push_back(id);
  }
  return ids;
}

UniqueFd kernel_object_fd(KernelObjectKind kind, uint32_t id) {
  static constexpr int kCommands[] = {BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID, BPF_LINK_GET_FD_BY_ID,
                                      BPF_BTF_GET_FD_BY_ID};
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  switch (kind) {
    case KernelObjectKind::Program: attr.prog_id = id; break;
    case KernelObjectKind::Map: attr.map_id = id; break;
    case KernelObjectKind::Link: attr.link_id = id; break;
    case KernelObjectKind::Btf: attr.btf_id = id; break;
  }
  const int fd = int(sys_bpf(kCommands[int(kind)], &attr));
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      throw BpfError(
          std::string(kernel_object_kind_name(kind)) + " " + std::to_string(id) + " does not exist", err);
    }
    throw BpfError(std::string("opening ") + kernel_object_kind_name(kind) + " " + std::to_string(id), err);
  }
  return UniqueFd(fd);
}

std::string prog_type_name(uint32_t type) { return table_name(prog_type_names(), type); }
std::string map_type_name(uint32_t type) { return table_name(map_type_names(), type); }
std::string link_type_name(uint32_t type) { return table_name(link_type_names(), type); }
std::string attach_type_name(uint32_t type) { return table_name(attach_type_names(), type); }
std::optional<uint32_t> prog_type_by_name(std::string_view name) {
  return table_lookup(prog_type_names(), name);
}
std::optional<uint32_t> map_type_by_name(std::string_view name) {
  return table_lookup(map_type_names(), name);
}
uint32_t prog_type_count() { return uint32_t(prog_type_names().size()); }
uint32_t map_type_count() { return uint32_t(map_type_names().size()); }

KernelProgramInfo program_info(int fd, const ProgramInfoRequest& request) {
  bpf_prog_info info;
  std::memset(&info, 0, sizeof info);
  get_info(fd, &info, sizeof info, "program");
  KernelProgramInfo out;
  out.id = info.id;
  out.type = info.type;
  out.name = c_string(info.name, sizeof info.name);
  out.tag = hex(info.tag, sizeof info.tag);
  out.gpl_compatible = info.gpl_compatible;
  out.load_time_ns = info.load_time;
  out.loaded_at = int64_t(boot_epoch() + double(info.load_time) / 1e9);
  out.uid = info.created_by_uid;
  out.xlated_size = info.xlated_prog_len;
  out.jited_size = info.jited_prog_len;
  out.btf_id = info.btf_id;
  out.ifindex = info.ifindex;
  out.run_time_ns = info.run_time_ns;
  out.run_count = info.run_cnt;
  out.recursion_misses = info.recursion_misses;
  out.verified_insns = info.verified_insns;
  out.attach_btf_obj_id = info.attach_btf_obj_id;
  out.attach_btf_id = info.attach_btf_id;
  out.memlock = fdinfo_number(fdinfo(fd), "memlock");

  // Second call: the arrays, sized by what the first call reported.
  bpf_prog_info more;
  std::memset(&more, 0, sizeof more);
  out.map_ids.resize(info.nr_map_ids);
  more.nr_map_ids = info.nr_map_ids;
  more.map_ids = ptr_to_u64(out.map_ids.data());
  if (request.instructions) {
    out.xlated.resize(info.xlated_prog_len);
    out.jited.resize(info.jited_prog_len);
    out.jited_ksyms.resize(info.nr_jited_ksyms);
    out.jited_func_lens.resize(info.nr_jited_func_lens);
    more.xlated_prog_len = info.xlated_prog_len;
    more.xlated_prog_insns = ptr_to_u64(out.xlated.data());
    more.jited_prog_len = info.jited_prog_len;
    more.jited_prog_insns = ptr_to_u64(out.jited.data());
    more.nr_jited_ksyms = info.nr_jited_ksyms;
    more.jited_ksyms = ptr_to_u64(out.jited_ksyms.data());
    more.nr_jited_func_lens = info.nr_jited_func_lens;
    more.jited_func_lens = ptr_to_u64(out.jited_func_lens.data());
  }
  if (request.btf_records && info.btf_id) {
    out.func_info.resize(info.nr_func_info);
    out.line_info.resize(info.nr_line_info);
    more.nr_func_info = info.nr_func_info;
    more.func_info_rec_size = sizeof(bpf_func_info);
    more.func_info = ptr_to_u64(out.func_info.data());
    more.nr_line_info = info.nr_line_info;
    more.line_info_rec_size = sizeof(bpf_line_info);
    more.line_info = ptr_to_u64(out.line_info.data());
  }
  get_info(fd, &more, sizeof more, "program");
  // The program cannot change, but a count of zero means the kernel withheld the bytes
  // (e.g. kernel.kptr_restrict hides jited code from non-root).
  out.map_ids.resize(std::min<size_t>(out.map_ids.size(), more.nr_map_ids));
  if (request.instructions) {
    out.xlated.resize(std::min<size_t>(out.xlated.size(), more.xlated_prog_len));
    out.jited.resize(std::min<size_t>(out.jited.size(), more.jited_prog_len));
    out.jited_ksyms.resize(std::min<size_t>(out.jited_ksyms.size(), more.nr_jited_ksyms));
    out.jited_func_lens.resize(std::min<size_t>(out.jited_func_lens.size(), more.nr_jited_func_lens));
  }
  if (request.btf_records && info.btf_id) {
    out.func_info.resize(std::min<size_t>(out.func_info.size(), more.nr_func_info));
    out.line_info.resize(std::min<size_t>(out.line_info.size(), more.nr_line_info));
  }
  return out;
}

KernelMapInfo map_info(int fd) {
  bpf_map_info info;
  std::memset(&info, 0, sizeof info);
  get_info(fd, &info, sizeof info, "map");
  KernelMapInfo out;
  out.id = info.id;
  out.type = info.type;
  out.name = c_string(info.name, sizeof info.name);
  out.key_size = info.key_size;
  out.value_size = info.value_size;
  out.max_entries = info.max_entries;
  out.flags = info.map_flags;
  out.btf_id = info.btf_id;
  out.btf_key_type_id = info.btf_key_type_id;
  out.btf_value_type_id = info.btf_value_type_id;
  out.btf_vmlinux_value_type_id = info.btf_vmlinux_value_type_id;
  out.map_extra = info.map_extra;
  out.ifindex = info.ifindex;
  const auto fi = fdinfo(fd);
  out.memlock = fdinfo_number(fi, "memlock");
  out.frozen = fdinfo_number(fi, "frozen") != 0;
  return out;
}

KernelLinkInfo link_info(int fd) {
  char name[512] = {};
  LinkInfoBuffer buf;
  std::memset(&buf, 0, sizeof buf);
  get_info(fd, &buf, sizeof buf, "link");
  // Links that report a name take a buffer: ask again with one.
  auto with_name = [&](size_t ptr_off, size_t len_off) {
    LinkInfoBuffer again;
    std::memset(&again, 0, sizeof again);
    const uint64_t p = ptr_to_u64(name);
    const uint32_t len = sizeof name;
    std::memcpy(again.u + ptr_off, &p, 8);
    std::memcpy(again.u + len_off, &len, 4);
    if (buf.type == kLinkTypePerfEvent) std::memcpy(again.u, buf.u, 4);  // keep the event type
    get_info(fd, &again, sizeof again, "link");
    buf = again;
    return c_string(name, sizeof name);
  };
  KernelLinkInfo out;
  out.id = buf.id;
  out.type = buf.type;
  out.prog_id = buf.prog_id;
  const uint8_t* u = buf.u;
  switch (buf.type) {
    case BPF_LINK_TYPE_RAW_TRACEPOINT: out.tp_name = with_name(0, 8); break;
    case BPF_LINK_TYPE_TRACING:
      out.attach_type = read_at<uint32_t>(u, 0);
      out.has_attach_type = true;
      out.target_obj_id = read_at<uint32_t>(u, 4);
      out.target_btf_id = read_at<uint32_t>(u, 8);
      break;
    case BPF_LINK_TYPE_CGROUP:
      out.cgroup_id = read_at<uint64_t>(u, 0);
      out.attach_type = read_at<uint32_t>(u, 8);
      out.has_attach_type = true;
      break;
    case BPF_LINK_TYPE_ITER:
      out.iter_target = with_name(0, 8);
      out.map_id = read_at<uint32_t>(u, 16);
      break;
    case BPF_LINK_TYPE_NETNS:
      out.netns_ino = read_at<uint32_t>(u, 0);
      out.attach_type = read_at<uint32_t>(u, 4);
      out.has_attach_type = true;
      break;
    case BPF_LINK_TYPE_XDP: out.ifindex = read_at<uint32_t>(u, 0); break;
    case BPF_LINK_TYPE_STRUCT_OPS: out.map_id = read_at<uint32_t>(u, 0); break;
    case kLinkTypePerfEvent: {
      // u: type, pad, then the per-event union at offset 8.
      out.perf_event_type = read_at<uint32_t>(u, 0);
      switch (out.perf_event_type) {
        case kPerfEventUprobe:
        case kPerfEventUretprobe:
          out.perf_name = with_name(8, 16);
          out.perf_offset = read_at<uint32_t>(u, 20);
          out.perf_cookie = read_at<uint64_t>(u, 24);
          break;
        case kPerfEventKprobe:
        case kPerfEventKretprobe:
          out.perf_name = with_name(8, 16);
          out.perf_offset = read_at<uint32_t>(u, 20);
          out.perf_addr = read_at<uint64_t>(u, 24);
          out.perf_cookie = read_at<uint64_t>(u, 40);
          break;
        case kPerfEventTracepoint:
          out.perf_name = with_name(8, 16);
          out.perf_cookie = read_at<uint64_t>(u, 24);
          break;
        case kPerfEventEvent:
          out.perf_config = read_at<uint64_t>(u, 8);
          out.perf_config_type = read_at<uint32_t>(u, 16);
          out.perf_cookie = read_at<uint64_t>(u, 24);
          break;
      }
      break;
    }
    case 11:  // tcx
    case 13:  // netkit
      out.ifindex = read_at<uint32_t>(u, 0);
      out.attach_type = read_at<uint32_t>(u, 4);
      out.has_attach_type = true;
      break;
    case 14:  // sockmap
      out.map_id = read_at<uint32_t>(u, 0);
      out.attach_type = read_at<uint32_t>(u, 4);
      out.has_attach_type = true;
      break;
    default: break;
  }
  return out;
}

KernelBtfInfo btf_info(int fd) {
  bpf_btf_info info;
  std::memset(&info, 0, sizeof info);
  get_info(fd, &info, sizeof info, "BTF");
  KernelBtfInfo out;
  out.id = info.id;
  out.blob.resize(info.btf_size);
  char name[256] = {};
  bpf_btf_info more;
  std::memset(&more, 0, sizeof more);
  more.btf = ptr_to_u64(out.blob.data());
  more.btf_size = info.btf_size;
  more.name = ptr_to_u64(name);
  more.name_len = sizeof name;
  get_info(fd, &more, sizeof more, "BTF");
  out.blob.resize(std::min(out.blob.size(), size_t(more.btf_size)));
  out.name = c_string(name, sizeof name);
  out.kernel_btf = more.kernel_btf;
  return out;
}

std::shared_ptr<const object::Btf> kernel_btf_by_id(uint32_t id) {
  UniqueFd fd = kernel_object_fd(KernelObjectKind::Btf, id);
  KernelBtfInfo info = btf_info(fd.get());
  if (info.kernel_btf && info.name != "vmlinux") {
    // A module's BTF continues vmlinux's ids and strings.
    static std::shared_ptr<const object::Btf> vmlinux;
    static std::mutex lock;
    std::lock_guard<std::mutex> guard(lock);
    if (!vmlinux) vmlinux = std::make_shared<const object::Btf>(object::Btf::load_vmlinux());
    return std::make_shared<const object::Btf>(object::Btf::parse(info.blob, vmlinux));
  }
  return std::make_shared<const object::Btf>(object::Btf::parse(info.blob));
}

std::string kernel_symbol_at(uint64_t address) {
  const auto& syms = kallsyms().symbols;
  auto it = std::lower_bound(syms.begin(), syms.end(), address,
                             [](const auto& s, uint64_t a) { return s.first < a; });
  if (it == syms.end() || it->first != address) return "";
  return it->second;
}

uint64_t kernel_bpf_call_base() { return kallsyms().call_base; }

void pin_object(int fd, const std::string& path) {
  require_bpffs(path);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.pathname = ptr_to_u64(path.c_str());
  attr.bpf_fd = uint32_t(fd);
  if (sys_bpf(BPF_OBJ_PIN, &attr) != 0) {
    const int err = errno;
    if (err == EEXIST) throw BpfError("pinning at " + path + ": the path already exists", err);
    throw BpfError("pinning at " + path, err);
  }
}

UniqueFd pinned_object(const std::string& path) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.pathname = ptr_to_u64(path.c_str());
  const int fd = int(sys_bpf(BPF_OBJ_GET, &attr));
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw BpfError("nothing is pinned at " + path, err);
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (err == EINVAL && !is_bpffs(dir.empty() ? "." : dir)) {
      throw Error(path + " is not on a bpffs (pins live under /sys/fs/bpf)");
    }
    throw BpfError("opening the pin " + path, err);
  }
  return UniqueFd(fd);
}

KernelObjectKind pinned_object_kind(int fd) {
  char target[128] = {};
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
  const std::string kind = n > 0 ? std::string(target, size_t(n)) : "";
  if (kind.find("bpf-prog") != std::string::npos) return KernelObjectKind::Program;
  if (kind.find("bpf-map") != std::string::npos) return KernelObjectKind::Map;
  if (kind.find("bpf_link") != std::string::npos || kind.find("bpf-link") != std::string::npos) {
    return KernelObjectKind::Link;
  }
  return KernelObjectKind::Btf;
}

}  // namespace bpfkit::target::linux_kernel
