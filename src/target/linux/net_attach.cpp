// XDP and tcx through BPF_LINK_CREATE (closing the link fd detaches), socket
// filters through SO_ATTACH_BPF (the link's destructor sends SO_DETACH_BPF).
#include "target/linux/net_attach.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "target/linux/bpf_syscall.h"
#include "target/target.h"

namespace bpfkit::target::linux_kernel {
namespace {

// Attach types newer than the installed <linux/bpf.h> (linux-libc-dev 6.1): tcx
// arrived in Linux 6.6 with these values in enum bpf_attach_type.
constexpr uint32_t kAttachTcxIngress = 46;
constexpr uint32_t kAttachTcxEgress = 47;
// <asm-generic/socket.h> has them; kept here for libcs that do not export them.
#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef SO_DETACH_BPF
#define SO_DETACH_BPF 27
#endif

long sys_bpf(int cmd, bpf_attr& attr) { return syscall(__NR_bpf, cmd, &attr, sizeof(attr)); }

const char* errno_name(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case ENOTSOCK: return "ENOTSOCK";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ERANGE: return "ERANGE";
    case ENOMEM: return "ENOMEM";
    case ENOSPC: return "ENOSPC";
    case 524: return "ENOTSUPP";
    default: return "";
  }
}

std::string errno_text(int err) {
  const char* name = errno_name(err);
  return std::string(err == 524 ? "Operation not supported" : strerror(err)) + " (" +
         (*name ? name : ("errno " + std::to_string(err)).c_str()) + ")";
}

std::string interface_name(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex <= 0 || !if_indextoname(unsigned(ifindex), name)) {
    throw TargetError("no network interface with index " + std::to_string(ifindex) +
                      " in this network namespace");
  }
  return name;
}

struct ProgramInfo {
  bpf_prog_type type = BPF_PROG_TYPE_UNSPEC;
  std::string name;
};

// The program's type and name, so a wrong type gets a sentence that names both
// instead of the kernel's bare EINVAL.
ProgramInfo program_info(int prog_fd, const std::string& where) {
  bpf_prog_info info{};
  bpf_attr attr{};
  attr.info.bpf_fd = uint32_t(prog_fd);
  attr.info.info_len = sizeof(info);
  attr.info.info = reinterpret_cast<uintptr_t>(&info);
  if (prog_fd < 0 || sys_bpf(BPF_OBJ_GET_INFO_BY_FD, attr) < 0) {
    throw TargetError(where + ": fd " + std::to_string(prog_fd) + " is not a loaded BPF program (" +
                      errno_text(prog_fd < 0 ? EBADF : errno) + ")");
  }
  return {static_cast<bpf_prog_type>(info.type),
          std::string(info.name, strnlen(info.name, sizeof(info.name)))};
}

void require_type(const ProgramInfo& info, bpf_prog_type wanted, const std::string& where) {
  if (info.type == wanted) return;
  const std::string who = info.name.empty() ? "the program" : "program '" + info.name + "'";
  throw TargetError(where + ": " + who + " has type " + program_type_name(info.type) + "; only " +
                    program_type_name(wanted) + " programs attach here");
}

// One sentence for a failed attachment: the cases users meet get their cause,
// the rest the errno. `hook` names the program kind with its article ("an XDP").
[[noreturn]] void throw_attach_error(const std::string& where, int err, const std::string& hook) {
  std::string why;
  switch (err) {
    case EPERM:
    case EACCES:
      why = "missing privilege: attaching needs root or CAP_NET_ADMIN (with CAP_BPF)";
      break;
    case EBUSY:
    case EEXIST:
      why = hook + " program is already attached to this interface (possibly in the other mode); "
            "detach it first";
      break;
    case ENODEV:
    case ENXIO:
      why = "the interface went away";
      break;
    case EOPNOTSUPP:
    case 524:
      why = "the interface's driver does not support this mode";
      break;
    case EINVAL:
      why = "the kernel refused the program for this hook (wrong attach type or flags)";
      break;
    default:
      why = "the kernel refused the attachment";
      break;
  }
  throw TargetError(where + ": " + why + " [" + errno_text(err) + "]");
}

// A BPF link: the kernel detaches the program when its last fd closes (links
// created here are never pinned).
class FdLink : public Link {
 public:
  FdLink(UniqueFd fd, std::string description) : fd_(std::move(fd)), description_(std::move(description)) {}
  std::string describe() const override { return description_; }
  int link_fd() const override { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string description_;
};

// Holds a duplicate of the socket, so detaching cannot hit an unrelated socket that
// reused a closed fd number.
class SocketFilterLink : public Link {
 public:
  SocketFilterLink(UniqueFd sock, std::string description)
      : sock_(std::move(sock)), description_(std::move(description)) {}
  ~SocketFilterLink() override {
    int unused = 0;
    // Fails only when something else detached it already: nothing left to undo.
    setsockopt(sock_.get(), SOL_SOCKET, SO_DETACH_BPF, &unused, sizeof(unused));
  }
  std::string describe() const override { return description_; }
  int link_fd() const override { return -1; }

 private:
  UniqueFd sock_;
  std::string description_;
};

long link_create(int prog_fd, int ifindex, uint32_t attach_type, uint32_t flags) {
  bpf_attr attr{};
  attr.link_create.prog_fd = uint32_t(prog_fd);
  attr.link_create.target_ifindex = uint32_t(ifindex);
  attr.link_create.attach_type = attach_type;
  attr.link_create.flags = flags;
  return sys_bpf(BPF_LINK_CREATE, attr);
}

const char* mode_name(XdpMode mode) {
  switch (mode) {
    case XdpMode::Native: return "native";
    case XdpMode::Generic: return "generic";
    default: return "auto";
  }
}

}  // namespace

int interface_index(const std::string& name) {
  const unsigned index = name.empty() || name.size() >= IF_NAMESIZE ? 0 : if_nametoindex(name.c_str());
  if (index == 0) throw TargetError("no network interface named '" + name + "'");
  return int(index);
}

LinkPtr attach_xdp(int prog_fd, int ifindex, XdpMode mode) {
  const std::string ifname = interface_name(ifindex);
  const std::string where = std::string("XDP on '") + ifname + "'";
  require_type(program_info(prog_fd, where), BPF_PROG_TYPE_XDP, where);

  auto attach = [&](XdpMode m) {
    const uint32_t flags = m == XdpMode::Native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    return link_create(prog_fd, ifindex, BPF_XDP, flags);
  };
  auto made = [&](long fd, XdpMode m) {
    return std::make_unique<FdLink>(UniqueFd(int(fd)), "xdp on " + ifname + " (" + mode_name(m) + ")");
  };
  if (mode != XdpMode::Auto) {
    const long fd = attach(mode);
    if (fd < 0) throw_attach_error(where + " (" + mode_name(mode) + ")", errno, "an XDP");
    return made(fd, mode);
  }
  // Auto: native first; generic when the driver has no native XDP or refuses this
  // program (MTU, queues). Conflicts and privilege errors would recur: report them.
  const long native = attach(XdpMode::Native);
  if (native >= 0) return made(native, XdpMode::Native);
  const int native_errno = errno;
  if (native_errno == EPERM || native_errno == EACCES || native_errno == EBUSY || native_errno == EEXIST ||
      native_errno == EBADF || native_errno == ENODEV) {
    throw_attach_error(where, native_errno, "an XDP");
  }
  const long generic = attach(XdpMode::Generic);
  if (generic >= 0) return made(generic, XdpMode::Generic);
  const int generic_errno = errno;
  throw_attach_error(where + " (native mode failed with " + errno_text(native_errno) + ", then generic)",
                     generic_errno, "an XDP");
}

LinkPtr attach_tc(int prog_fd, int ifindex, TcDirection direction) {
  const std::string ifname = interface_name(ifindex);
  const char* dir = direction == TcDirection::Ingress ? "ingress" : "egress";
  const std::string where = std::string("tc ") + dir + " on '" + ifname + "'";
  require_type(program_info(prog_fd, where), BPF_PROG_TYPE_SCHED_CLS, where);
  const long fd = link_create(prog_fd, ifindex,
                              direction == TcDirection::Ingress ? kAttachTcxIngress : kAttachTcxEgress, 0);
  if (fd < 0) {
    const int err = errno;
    // A kernel before 6.6 has no tcx: say so rather than "invalid argument".
    if (err == EINVAL) {
      throw TargetError(where + ": the kernel refused a tcx link (tcx needs Linux 6.6 or later) [" +
                        errno_text(err) + "]");
    }
    throw_attach_error(where, err, "a tc");
  }
  return std::make_unique<FdLink>(UniqueFd(int(fd)), std::string("tcx ") + dir + " on " + ifname);
}

LinkPtr attach_socket_filter(int prog_fd, int sock_fd) {
  const std::string where = "socket filter on fd " + std::to_string(sock_fd);
  require_type(program_info(prog_fd, where), BPF_PROG_TYPE_SOCKET_FILTER, where);
  UniqueFd sock(fcntl(sock_fd, F_DUPFD_CLOEXEC, 0));
  if (!sock) throw TargetError(where + ": not an open file descriptor [" + errno_text(errno) + "]");
  if (setsockopt(sock.get(), SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) != 0) {
    const int err = errno;
    if (err == ENOTSOCK) throw TargetError(where + ": the fd is not a socket [" + errno_text(err) + "]");
    if (err == EPERM || err == EACCES) throw_attach_error(where, err, "a socket filter");
    throw TargetError(where + ": the kernel refused the filter [" + errno_text(err) + "]");
  }
  return std::make_unique<SocketFilterLink>(std::move(sock), where);
}

}  // namespace bpfkit::target::linux_kernel
