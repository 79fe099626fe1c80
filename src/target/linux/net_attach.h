// Attaching packet programs to network interfaces and sockets: XDP (native or
// generic) and tc (tcx ingress/egress) through BPF links, socket filters through
// SO_ATTACH_BPF. Each returns a Link that detaches when destroyed.
#pragma once

#include <string>

#include "target/linux/link.h"

namespace bpfkit::target::linux_kernel {

enum class XdpMode { Auto, Native, Generic };  // Auto: native when the driver has it, else generic
enum class TcDirection { Ingress, Egress };

// The interface's index; throws TargetError "no network interface named 'X'" when it does not exist.
int interface_index(const std::string& name);

LinkPtr attach_xdp(int prog_fd, int ifindex, XdpMode mode = XdpMode::Auto);
LinkPtr attach_tc(int prog_fd, int ifindex, TcDirection direction);
// The program filters what `sock_fd` receives; the link detaches it (SO_DETACH_BPF).
LinkPtr attach_socket_filter(int prog_fd, int sock_fd);

}  // namespace bpfkit::target::linux_kernel
