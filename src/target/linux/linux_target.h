// The Linux target's handles beyond the Target interface: the kernel file
// descriptors behind a loaded program or map (for attaching, pinning, bpftool).
#pragma once

#include <string>

#include "target/target.h"

namespace bpfkit::target::linux_kernel {

// BPF_PROG_LOAD refused one program of an object: which one, why in one sentence
// (errno explained), and the kernel verifier's log apart from the message, so that
// a tool can show its end beside bpfkit's own verdict.
class ProgramLoadError : public TargetError {
 public:
  ProgramLoadError(std::string program, const std::string& what, int error_number, std::string log)
      : TargetError(what), program_(std::move(program)), errno_(error_number), log_(std::move(log)) {}
  const std::string& program() const { return program_; }
  int error_number() const { return errno_; }
  const std::string& verifier_log() const { return log_; }

 private:
  std::string program_;
  int errno_;
  std::string log_;
};

// The fd of a program or map loaded by make_linux_target(); -1 for other targets' handles.
int program_fd(const ProgramHandle& program);
int map_fd(const MapHandle& map);
// Why the object's BTF is not in the kernel (it loaded without it), or "" when it is
// or the object has none.
std::string btf_load_error(const LoadedObject& object);
// The fd of the object's BTF in the kernel, -1 without.
int btf_fd(const LoadedObject& object);

}  // namespace bpfkit::target::linux_kernel
