// The Linux target's handles beyond the Target interface: the kernel file
// descriptors behind a loaded program or map (for attaching, pinning, bpftool).
#pragma once

#include <string>

#include "target/target.h"

namespace bpfkit::target::linux_kernel {

// The fd of a program or map loaded by make_linux_target(); -1 for other targets' handles.
int program_fd(const ProgramHandle& program);
int map_fd(const MapHandle& map);
// Why the object's BTF is not in the kernel (it loaded without it), or "" when it is
// or the object has none.
std::string btf_load_error(const LoadedObject& object);
// The fd of the object's BTF in the kernel, -1 without.
int btf_fd(const LoadedObject& object);

}  // namespace bpfkit::target::linux_kernel
