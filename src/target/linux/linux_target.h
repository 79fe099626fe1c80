// The Linux target's handles beyond the Target interface: the kernel file
// descriptors behind a loaded program or map (for attaching, pinning, bpftool).
#pragma once

#include "target/target.h"

namespace bpfkit::target::linux_kernel {

// The fd of a program or map loaded by make_linux_target(); -1 for other targets' handles.
int program_fd(const ProgramHandle& program);
int map_fd(const MapHandle& map);

}  // namespace bpfkit::target::linux_kernel
