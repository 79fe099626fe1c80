#include "target/linux/bpf_syscall.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/syscall.h>
#include <unistd.h>

namespace bpfkit::target::linux_kernel {
namespace {

// The verifier log of a failed load: large enough for most rejections; when it is
// not, the kernel (6.4+) keeps the end of the log, which names the reason.
constexpr size_t kFailureLogSize = 4u << 20;
constexpr size_t kRequestedLogSize = 16u << 20;

long sys_bpf(int cmd, bpf_attr* attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

uint64_t ptr_to_u64(const void* p) { return reinterpret_cast<uintptr_t>(p); }

std::string trim_log(const std::vector<char>& buf) {
  std::string log(buf.data(), strnlen(buf.data(), buf.size()));
  while (!log.empty() && (log.back() == '\n' || log.back() == '\0')) log.pop_back();
  return log;
}

struct LoadAttempt {
  int fd = -1;
  int err = 0;
  std::string log;
};

LoadAttempt try_load(bpf_prog_type type, std::span<const isa::RawInsn> insns, const LoadOptions& options,
                     uint32_t log_level, size_t log_size) {
  std::string license(options.license);
  std::vector<char> log_buf(log_level ? log_size : 0);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = type;
  attr.insn_cnt = uint32_t(insns.size());
  attr.insns = ptr_to_u64(insns.data());
  attr.license = ptr_to_u64(license.c_str());
  attr.prog_flags = options.prog_flags;
  attr.expected_attach_type = options.expected_attach_type;
  attr.attach_btf_id = options.attach_btf_id;
  if (options.attach_btf_obj_fd >= 0) attr.attach_btf_obj_fd = uint32_t(options.attach_btf_obj_fd);
  if (options.prog_btf_fd >= 0) {
    attr.prog_btf_fd = uint32_t(options.prog_btf_fd);
    if (!options.func_info.empty()) {
      attr.func_info_rec_size = sizeof(bpf_func_info);
      attr.func_info_cnt = uint32_t(options.func_info.size());
      attr.func_info = ptr_to_u64(options.func_info.data());
    }
    if (!options.line_info.empty()) {
      attr.line_info_rec_size = sizeof(bpf_line_info);
      attr.line_info_cnt = uint32_t(options.line_info.size());
      attr.line_info = ptr_to_u64(options.line_info.data());
    }
  }
  size_t name_len = std::min(options.name.size(), sizeof(attr.prog_name) - 1);
  if (name_len) std::memcpy(attr.prog_name, options.name.data(), name_len);
  if (log_level) {
    attr.log_level = log_level;
    attr.log_size = uint32_t(log_buf.size());
    attr.log_buf = ptr_to_u64(log_buf.data());
  }
  LoadAttempt result;
  result.fd = int(sys_bpf(BPF_PROG_LOAD, &attr));
  if (result.fd < 0) result.err = errno;
  if (log_level) result.log = trim_log(log_buf);
  return result;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

BpfError::BpfError(const std::string& what, int error_number, std::string verifier_log)
    : Error(what + ": " + describe_bpf_errno(error_number) +
            (verifier_log.empty() ? std::string() : "\nverifier log:\n" + verifier_log)),
      errno_(error_number),
      log_(std::move(verifier_log)) {}

std::string describe_bpf_errno(int err) {
  std::string name;
  std::string why;
  switch (err) {
    case EPERM:
      name = "EPERM";
      why = "needs root or CAP_BPF (plus CAP_NET_ADMIN or CAP_PERFMON for some program types), "
            "or kernel lockdown forbids it";
      break;
    case EACCES:
      name = "EACCES";
      why = "the verifier rejected the program";
      break;
    case EINVAL:
      name = "EINVAL";
      why = "the kernel found the program or its attributes invalid";
      break;
    case E2BIG:
      name = "E2BIG";
      why = "the program or an attribute is too large for this kernel";
      break;
    case ENOSPC:
      name = "ENOSPC";
      why = "a buffer (verifier log or output data) was too small";
      break;
    case ENOMEM:
      name = "ENOMEM";
      why = "the kernel ran out of memory (or the locked-memory limit was hit)";
      break;
    case ENOSYS:
      name = "ENOSYS";
      why = "this kernel has no bpf(2) system call";
      break;
    case EFAULT:
      name = "EFAULT";
      why = "the kernel could not read or write a buffer it was given";
      break;
    case EBADF:
      name = "EBADF";
      why = "a file descriptor is not a BPF object";
      break;
    case ENOTSUP:
    case 524:  // ENOTSUPP, kernel-internal but returned by bpf(2)
      name = err == ENOTSUP ? "ENOTSUP" : "ENOTSUPP";
      why = "this kernel does not support the operation for this program type";
      break;
    default:
      name = "errno " + std::to_string(err);
      why = "bpf(2) failed";
      break;
  }
  const char* text = err == 524 ? "Operation not supported" : strerror(err);
  return std::string(text) + " (" + name + "): " + why;
}

std::string program_type_name(bpf_prog_type type) {
  switch (type) {
    case BPF_PROG_TYPE_SOCKET_FILTER: return "socket filter";
    case BPF_PROG_TYPE_KPROBE: return "kprobe";
    case BPF_PROG_TYPE_SCHED_CLS: return "tc classifier";
    case BPF_PROG_TYPE_SCHED_ACT: return "tc action";
    case BPF_PROG_TYPE_TRACEPOINT: return "tracepoint";
    case BPF_PROG_TYPE_XDP: return "XDP";
    case BPF_PROG_TYPE_PERF_EVENT: return "perf event";
    case BPF_PROG_TYPE_RAW_TRACEPOINT: return "raw tracepoint";
    case BPF_PROG_TYPE_TRACING: return "tracing";
    case BPF_PROG_TYPE_LSM: return "LSM";
    default: return "type " + std::to_string(int(type));
  }
}

UniqueFd load_program(bpf_prog_type type, std::span<const isa::RawInsn> insns, const LoadOptions& options) {
  LoadAttempt first = try_load(type, insns, options, options.log_level,
                               options.log_level ? kRequestedLogSize : 0);
  if (options.log) *options.log = first.log;
  if (first.fd >= 0) return UniqueFd(first.fd);

  std::string log = first.log;
  if (options.log_level == 0 && first.err != ENOSYS) {
    LoadAttempt retry = try_load(type, insns, options, 1, kFailureLogSize);
    if (retry.fd >= 0) {
      // Accepted on the second attempt (should not happen); keep it.
      return UniqueFd(retry.fd);
    }
    log = retry.log;
  }
  throw BpfError("loading a program (" + program_type_name(type) + ", " + std::to_string(insns.size()) +
                     " instructions) failed",
                 first.err, std::move(log));
}

TestRunResult test_run_program(int prog_fd, std::span<const uint8_t> data_in, uint32_t repeat) {
  TestRunResult result;
  // Room for programs that grow the packet (XDP adjust_tail); the kernel says how much it used.
  result.data_out.resize(data_in.size() + 4096);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.test.prog_fd = uint32_t(prog_fd);
  attr.test.data_in = ptr_to_u64(data_in.data());
  attr.test.data_size_in = uint32_t(data_in.size());
  attr.test.data_out = ptr_to_u64(result.data_out.data());
  attr.test.data_size_out = uint32_t(result.data_out.size());
  attr.test.repeat = repeat;
  if (sys_bpf(BPF_PROG_TEST_RUN, &attr) < 0) {
    int err = errno;
    throw BpfError("BPF_PROG_TEST_RUN of program fd " + std::to_string(prog_fd) + " on " +
                       std::to_string(data_in.size()) + " bytes failed",
                   err);
  }
  result.retval = attr.test.retval;
  result.duration_ns = attr.test.duration;
  result.data_out.resize(std::min<size_t>(attr.test.data_size_out, result.data_out.size()));
  return result;
}

namespace {

struct Availability {
  bool ok = false;
  std::string reason;
};

Availability probe_kernel() {
  Availability a;
  // r0 = XDP_PASS; exit
  const isa::RawInsn prog[] = {
      {uint8_t(BPF_ALU64 | BPF_MOV | BPF_K), 0, 0, 0, XDP_PASS},
      {uint8_t(BPF_JMP | BPF_EXIT), 0, 0, 0, 0},
  };
  try {
    UniqueFd fd = load_program(BPF_PROG_TYPE_XDP, prog, LoadOptions{.name = "bpfkit_probe"});
    const uint8_t packet[64] = {};
    TestRunResult r = test_run_program(fd.get(), packet, 1);
    if (r.retval != XDP_PASS) {
      a.reason = "the kernel ran a probe XDP program but returned " + std::to_string(r.retval) +
                 " instead of XDP_PASS";
      return a;
    }
    a.ok = true;
  } catch (const BpfError& e) {
    a.reason = "this process cannot load BPF programs into the kernel: " +
               describe_bpf_errno(e.error_number()) + "; run as root to use the kernel";
  }
  return a;
}

const Availability& availability() {
  static const Availability a = probe_kernel();
  return a;
}

}  // namespace

bool kernel_bpf_available() { return availability().ok; }
const std::string& kernel_bpf_unavailable_reason() { return availability().reason; }

}  // namespace bpfkit::target::linux_kernel
