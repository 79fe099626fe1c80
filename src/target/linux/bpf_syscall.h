// The raw bpf(2) system call: loading programs and running them with
// BPF_PROG_TEST_RUN. No libbpf; the kernel's own ABI from <linux/bpf.h>.
//
// (The namespace is not `linux`: GNU C++ predefines `linux` as a macro.)
#pragma once

#include <cstdint>
#include <linux/bpf.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "isa/instruction.h"

namespace bpfkit::target::linux_kernel {

// Owns one file descriptor; closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A failed bpf(2) command: what was attempted, errno explained in one
// sentence, and the verifier log when the kernel produced one.
class BpfError : public Error {
 public:
  BpfError(const std::string& what, int error_number, std::string verifier_log = {});
  int error_number() const { return errno_; }
  const std::string& verifier_log() const { return log_; }

 private:
  int errno_;
  std::string log_;
};

// One clear sentence for an errno that bpf(2) returned, e.g. EPERM ->
// "Operation not permitted (EPERM): needs root or CAP_BPF ...".
std::string describe_bpf_errno(int error_number);

// A human name of a program type, for messages ("XDP", "socket filter", ...).
std::string program_type_name(bpf_prog_type type);

struct LoadOptions {
  std::string_view license = "GPL";
  uint32_t log_level = 0;       // 0: ask for a log only when the load fails
  std::string_view name;        // up to 15 characters are kept
  uint32_t prog_flags = 0;
  uint32_t expected_attach_type = 0;
  std::string* log = nullptr;   // receives the verifier log when log_level > 0
  // tp_btf / fentry / fexit / lsm / iter: the hook's BTF type id (in vmlinux unless
  // attach_btf_obj_fd names a module's BTF).
  uint32_t attach_btf_id = 0;
  int attach_btf_obj_fd = -1;
  // The object's BTF (BPF_BTF_LOAD) and the func_info / line_info records that refer
  // to it, so the kernel's log and `prog dump` show source lines and function names.
  int prog_btf_fd = -1;
  std::span<const bpf_func_info> func_info;
  std::span<const bpf_line_info> line_info;
};

// Loads a program. On failure throws BpfError with the verifier log: when no log
// was asked for, the load is retried once with log_level 1 to obtain it.
UniqueFd load_program(bpf_prog_type type, std::span<const isa::RawInsn> insns,
                      const LoadOptions& options = {});
inline UniqueFd load_program(bpf_prog_type type, std::span<const isa::RawInsn> insns,
                             std::string_view license, uint32_t log_level = 0) {
  LoadOptions options;
  options.license = license;
  options.log_level = log_level;
  return load_program(type, insns, options);
}

struct TestRunResult {
  uint32_t retval = 0;
  uint32_t duration_ns = 0;  // the kernel's average over `repeat` runs
  std::vector<uint8_t> data_out;
};

// Runs a loaded program on `data_in` with BPF_PROG_TEST_RUN, `repeat` times.
TestRunResult test_run_program(int prog_fd, std::span<const uint8_t> data_in, uint32_t repeat = 1);

// Whether this process can load and test-run an XDP program (root or CAP_BPF +
// CAP_NET_ADMIN, bpf(2) present). The answer is computed once.
bool kernel_bpf_available();
// Why not, in one sentence (empty when available).
const std::string& kernel_bpf_unavailable_reason();

}  // namespace bpfkit::target::linux_kernel
