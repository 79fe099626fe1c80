// An attachment of a loaded program to a kernel hook (a BPF link, or a perf event
// or socket holding the program where the kernel has no link for the hook).
// Destroying it detaches the program, so an exit path cannot leave a hook behind.
#pragma once

#include <memory>
#include <string>

namespace bpfkit::target::linux_kernel {

class Link {
 public:
  virtual ~Link() = default;
  // What the program is attached to, for messages and listings:
  // "tracepoint syscalls:sys_enter_openat", "xdp on veth0 (native)", "uprobe /bin/bash:readline".
  virtual std::string describe() const = 0;
  // The BPF link's fd, or -1 when the attachment is not a BPF link (perf event ioctl, socket option).
  virtual int link_fd() const = 0;
};

using LinkPtr = std::unique_ptr<Link>;

}  // namespace bpfkit::target::linux_kernel
