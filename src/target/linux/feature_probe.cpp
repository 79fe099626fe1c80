#include "target/linux/feature_probe.h"

#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>

#include "core/helpers.h"
#include "isa/instruction.h"
#include "object/btf.h"
#include "target/linux/kernel_objects.h"

namespace bpfkit::target::linux_kernel {
namespace {

// Newer than the installed <linux/bpf.h> (6.1).
constexpr uint32_t kProgTypeNetfilter = 32;
constexpr uint32_t kAttachNetfilter = 45;
constexpr uint32_t kMapTypeCgrpStorage = 32, kMapTypeArena = 33;
constexpr uint32_t kMapFlagMmapable = 1u << 10;
constexpr int kEnotsupp = 524;  // the kernel-internal ENOTSUPP some paths return

long sys_bpf(int cmd, bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }
uint64_t ptr_to_u64(const void* p) { return reinterpret_cast<uintptr_t>(p); }

isa::RawInsn insn(uint8_t opcode, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  isa::RawInsn r;
  r.opcode = opcode;
  r.dst = dst & 15;
  r.src = src & 15;
  r.off = off;
  r.imm = imm;
  return r;
}
const isa::RawInsn kMovR0Zero = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
const isa::RawInsn kExit = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

struct Attempt {
  int err = 0;  // 0: loaded
  std::string log;
};

// How a program of each type must be loaded to pass the checks before the verifier.
struct ProgSetup {
  uint32_t expected_attach_type = 0;
  uint32_t prog_flags = 0;
  uint32_t attach_btf_id = 0;
};

ProgSetup setup_for(uint32_t type) {
  ProgSetup s;
  switch (type) {
    case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: s.expected_attach_type = BPF_CGROUP_INET4_CONNECT; break;
    case BPF_PROG_TYPE_SK_LOOKUP: s.expected_attach_type = BPF_SK_LOOKUP; break;
    case BPF_PROG_TYPE_CGROUP_SOCKOPT: s.expected_attach_type = BPF_CGROUP_GETSOCKOPT; break;
    case BPF_PROG_TYPE_SYSCALL: s.prog_flags = BPF_F_SLEEPABLE; break;
    case kProgTypeNetfilter: s.expected_attach_type = kAttachNetfilter; break;
    // These need a BTF target: id 1 is no function, and the verifier saying so (or
    // struct_ops saying it is no struct_ops type) proves the type is there.
    case BPF_PROG_TYPE_TRACING:
      s.expected_attach_type = BPF_TRACE_FENTRY;
      s.attach_btf_id = 1;
      break;
    case BPF_PROG_TYPE_LSM:
      s.expected_attach_type = BPF_LSM_MAC;
      s.attach_btf_id = 1;
      break;
    case BPF_PROG_TYPE_EXT: s.attach_btf_id = 1; break;
    case BPF_PROG_TYPE_STRUCT_OPS: s.attach_btf_id = 1; break;
    default: break;
  }
  return s;
}

Attempt try_load(uint32_t type, const std::vector<isa::RawInsn>& insns, bool want_log) {
  const ProgSetup s = setup_for(type);
  static const char kLicense[] = "GPL";
  std::vector<char> log(want_log ? 8192 : 0);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.insns = ptr_to_u64(insns.data());
  attr.insn_cnt = uint32_t(insns.size());
  attr.license = ptr_to_u64(kLicense);
  attr.expected_attach_type = s.expected_attach_type;
  attr.prog_flags = s.prog_flags;
  attr.attach_btf_id = s.attach_btf_id;
  if (want_log) {
    attr.log_level = 1;
    attr.log_buf = ptr_to_u64(log.data());
    attr.log_size = uint32_t(log.size());
  }
  Attempt a;
  const int fd = int(sys_bpf(BPF_PROG_LOAD, &attr));
  if (fd >= 0) {
    close(fd);
  } else {
    a.err = errno;
  }
  if (want_log) a.log.assign(log.data(), strnlen(log.data(), log.size()));
  return a;
}

std::string errno_name(int err) {
  switch (err) {
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case E2BIG: return "E2BIG";
    case ENOMEM: return "ENOMEM";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case kEnotsupp: return "ENOTSUPP";
    default: return "errno " + std::to_string(err);
  }
}

FeatureEntry probe_prog_type(uint32_t type) {
  FeatureEntry e;
  e.type = type;
  e.name = prog_type_name(type);
  const Attempt a = try_load(type, {kMovR0Zero, kExit}, true);
  if (a.err == 0) {
    e.supported = true;
    return e;
  }
  const ProgSetup s = setup_for(type);
  if (s.attach_btf_id) {
    // The verifier got as far as resolving the BTF target: the type exists.
    if (a.log.find("is not a function") != std::string::npos ||
        a.log.find("attach_btf_id") != std::string::npos ||
        a.log.find("Cannot replace kernel functions") != std::string::npos ||  // ext without a target
        (type == BPF_PROG_TYPE_STRUCT_OPS && a.err == kEnotsupp)) {
      e.supported = true;
      return e;
    }
  }
  e.reason = errno_name(a.err);
  if (a.err == EPERM && s.attach_btf_id)
    e.reason += ": refused (kernel lockdown or missing CAP_BPF/CAP_PERFMON)";
  if (a.err == EINVAL && a.log.empty()) e.reason += ": the kernel does not know this program type";
  if (!a.log.empty()) {
    std::string last = a.log;
    while (!last.empty() && last.back() == '\n') last.pop_back();
    if (size_t nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
    e.reason += ": " + last;
  }
  return e;
}

// A tiny BTF with one type, `int` (id 1), for the storage maps that require BTF.
std::vector<uint8_t> int_btf() {
  const char strings[] = "\0int";
  std::vector<uint8_t> b;
  auto put32 = [&](uint32_t v) {
    b.insert(b.end(), reinterpret_cast<uint8_t*>(&v), reinterpret_cast<uint8_t*>(&v) + 4);
  };
  // btf_header: magic 0xeB9F, version 1, flags 0, hdr_len 24, type_off, type_len, str_off, str_len.
  b.push_back(0x9f);
  b.push_back(0xeb);
  b.push_back(1);
  b.push_back(0);
  put32(24);
  put32(0);
  put32(16);
  put32(16);
  put32(sizeof strings);
  put32(1);                // name_off: "int"
  put32(1u << 24);         // kind INT, vlen 0
  put32(4);                // size
  put32((1u << 24) | 32);  // signed, 32 bits
  b.insert(b.end(), strings, strings + sizeof strings);
  return b;
}

int load_int_btf() {
  static const std::vector<uint8_t> blob = int_btf();
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.btf = ptr_to_u64(blob.data());
  attr.btf_size = uint32_t(blob.size());
  return int(sys_bpf(BPF_BTF_LOAD, &attr));
}

int create_map(bpf_attr& attr) {
  const int fd = int(sys_bpf(BPF_MAP_CREATE, &attr));
  return fd >= 0 ? fd : -errno;
}

FeatureEntry probe_map_type(uint32_t type) {
  FeatureEntry e;
  e.type = type;
  e.name = map_type_name(type);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_type = type;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  UniqueFd inner, btf;
  bool expect_enotsupp = false;
  switch (type) {
    case BPF_MAP_TYPE_LPM_TRIE:
      attr.key_size = 8;
      attr.map_flags = BPF_F_NO_PREALLOC;
      break;
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
    case BPF_MAP_TYPE_BLOOM_FILTER: attr.key_size = 0; break;
    case BPF_MAP_TYPE_RINGBUF:
    case BPF_MAP_TYPE_USER_RINGBUF:
      attr.key_size = attr.value_size = 0;
      attr.max_entries = uint32_t(sysconf(_SC_PAGESIZE));
      break;
    case BPF_MAP_TYPE_STACK_TRACE: attr.value_size = 8; break;
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_HASH_OF_MAPS: {
      bpf_attr in;
      std::memset(&in, 0, sizeof in);
      in.map_type = BPF_MAP_TYPE_ARRAY;
      in.key_size = in.value_size = 4;
      in.max_entries = 1;
      const int fd = create_map(in);
      if (fd >= 0) inner.reset(fd);
      attr.inner_map_fd = uint32_t(inner.get());
      break;
    }
    case BPF_MAP_TYPE_CGROUP_STORAGE:
    case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
      attr.key_size = sizeof(bpf_cgroup_storage_key);
      attr.max_entries = 0;
      break;
    case BPF_MAP_TYPE_SK_STORAGE:
    case BPF_MAP_TYPE_INODE_STORAGE:
    case BPF_MAP_TYPE_TASK_STORAGE:
    case kMapTypeCgrpStorage: {
      const int fd = load_int_btf();
      if (fd >= 0) btf.reset(fd);
      attr.max_entries = 0;
      attr.map_flags = BPF_F_NO_PREALLOC;
      attr.btf_fd = uint32_t(btf.get());
      attr.btf_key_type_id = 1;
      attr.btf_value_type_id = 1;
      break;
    }
    case BPF_MAP_TYPE_STRUCT_OPS:
      // No struct_ops type has BTF id 1: the kernel answers ENOTSUPP once it knows the map type.
      attr.btf_vmlinux_value_type_id = 1;
      expect_enotsupp = true;
      break;
    case kMapTypeArena:
      attr.key_size = attr.value_size = 0;
      attr.map_flags = kMapFlagMmapable;
      break;
    default: break;
  }
  const int fd = create_map(attr);
  if (fd >= 0) {
    close(fd);
    e.supported = true;
  } else if (expect_enotsupp && (-fd == kEnotsupp || -fd == EOPNOTSUPP)) {
    e.supported = true;
  } else {
    e.reason = errno_name(-fd);
    if (-fd == EINVAL) e.reason += ": the kernel refused this map type";
  }
  return e;
}

bool path_exists(const char* p) {
  struct stat st;
  return stat(p, &st) == 0;
}

int read_int_file(const char* p) {
  std::ifstream in(p);
  int v = -1;
  if (in >> v) return v;
  return -1;
}

}  // namespace

const std::vector<FeatureEntry>& probe_program_types() {
  static const std::vector<FeatureEntry> entries = [] {
    std::vector<FeatureEntry> out;
    for (uint32_t t = 1; t < prog_type_count(); ++t) out.push_back(probe_prog_type(t));
    return out;
  }();
  return entries;
}

const std::vector<FeatureEntry>& probe_map_types() {
  static const std::vector<FeatureEntry> entries = [] {
    std::vector<FeatureEntry> out;
    for (uint32_t t = 1; t < map_type_count(); ++t) out.push_back(probe_map_type(t));
    return out;
  }();
  return entries;
}

const std::vector<std::pair<int32_t, std::string>>& kernel_helper_names() {
  static const std::vector<std::pair<int32_t, std::string>> names = [] {
    std::vector<std::pair<int32_t, std::string>> out;
    try {
      const object::Btf btf = object::Btf::load_vmlinux();
      if (auto id = btf.find_by_name("bpf_func_id", object::BtfKind::Enum)) {
        if (const auto* e = btf.type(*id).as<object::BtfEnum>()) {
          for (const auto& v : e->values) {
            std::string_view n = v.name;
            if (n.rfind("BPF_FUNC_", 0) != 0 || n == "BPF_FUNC_unspec") continue;
            out.emplace_back(int32_t(value_signed(v)), "bpf_" + std::string(n.substr(9)));
          }
        }
      }
    } catch (const Error&) {
      out.clear();
    }
    if (out.empty()) {
      for (const auto& [id, spec] : core::HelperTable::standard().all())
        out.emplace_back(id, "bpf_" + spec.name);
    }
    return out;
  }();
  return names;
}

const HelperSupport& probe_helpers(uint32_t prog_type) {
  static std::mutex lock;
  static std::map<uint32_t, HelperSupport> cache;
  std::lock_guard<std::mutex> guard(lock);
  auto it = cache.find(prog_type);
  if (it != cache.end()) return it->second;
  HelperSupport h;
  h.prog_type = prog_type;
  h.prog_type_name = prog_type_name(prog_type);
  bool type_ok = false;
  for (const auto& e : probe_program_types()) {
    if (e.type == prog_type) type_ok = e.supported;
  }
  // Types that need a BTF target cannot load a probe program here.
  if (type_ok && setup_for(prog_type).attach_btf_id == 0) {
    for (const auto& [id, name] : kernel_helper_names()) {
      const Attempt a = try_load(prog_type, {insn(BPF_JMP | BPF_CALL, 0, 0, 0, id), kMovR0Zero, kExit}, true);
      if (a.err == 0) {
        h.helpers.push_back(name);
        continue;
      }
      // Rejections of the helper itself; anything else (its arguments) means the type may call it.
      if (a.log.find("unknown func") != std::string::npos ||
          a.log.find("invalid func") != std::string::npos ||
          a.log.find("cannot use helper") != std::string::npos ||
          a.log.find("cannot call GPL-restricted") != std::string::npos) {
        continue;
      }
      h.helpers.push_back(name);
    }
  }
  return cache.emplace(prog_type, std::move(h)).first->second;
}

const KernelFacts& probe_kernel_facts() {
  static const KernelFacts facts = [] {
    KernelFacts f;
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    f.bpf_syscall = !(sys_bpf(BPF_PROG_GET_NEXT_ID, &attr) != 0 && errno == ENOSYS);
    f.jit_enable = read_int_file("/proc/sys/net/core/bpf_jit_enable");
    f.jit_harden = read_int_file("/proc/sys/net/core/bpf_jit_harden");
    f.jit_kallsyms = read_int_file("/proc/sys/net/core/bpf_jit_kallsyms");
    f.unprivileged_bpf_disabled = read_int_file("/proc/sys/kernel/unprivileged_bpf_disabled");
    f.vmlinux_btf = path_exists("/sys/kernel/btf/vmlinux");
    const char* tracefs =
        path_exists("/sys/kernel/tracing/events") ? "/sys/kernel/tracing" : "/sys/kernel/debug/tracing";
    f.tracefs = path_exists((std::string(tracefs) + "/events").c_str());
    f.kprobe_events = path_exists((std::string(tracefs) + "/kprobe_events").c_str()) ||
                      path_exists("/sys/bus/event_source/devices/kprobe");
    f.uprobe_events = path_exists((std::string(tracefs) + "/uprobe_events").c_str()) ||
                      path_exists("/sys/bus/event_source/devices/uprobe");
    struct statfs st;
    f.bpffs = statfs("/sys/fs/bpf", &st) == 0 && uint32_t(st.f_type) == 0xcafe4a11;
    // ISA and verifier features, each one small socket filter.
    const uint32_t sf = BPF_PROG_TYPE_SOCKET_FILTER;
    f.v2_isa = try_load(sf, {kMovR0Zero, insn(BPF_JMP | BPF_JLT | BPF_K, 0, 0, 0, 1), kExit}, false).err == 0;
    f.v3_isa =
        try_load(sf, {kMovR0Zero, insn(BPF_JMP32 | BPF_JLT | BPF_K, 0, 0, 0, 1), kExit}, false).err == 0;
    // movsx (off 8 on MOV): cpu v4.
    f.v4_isa =
        try_load(sf, {kMovR0Zero, insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 0, 8, 0), kExit}, false).err == 0;
    f.bounded_loops = try_load(sf,
                               {kMovR0Zero, insn(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 1),
                                insn(BPF_JMP | BPF_JLT | BPF_K, 0, 0, -2, 4), kMovR0Zero, kExit},
                               false)
                          .err == 0;
    std::vector<isa::RawInsn> big(4097, kMovR0Zero);
    big.push_back(kExit);
    f.large_insn_limit = try_load(sf, big, false).err == 0;
    return f;
  }();
  return facts;
}

}  // namespace bpfkit::target::linux_kernel
