#include "target/linux/attach.h"

#include <linux/bpf.h>

#include <functional>
#include <string_view>
#include <variant>

#include "target/linux/attach_btf.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/trace_attach.h"
#include "target/linux/tracefs.h"
#include "target/target.h"

namespace bpfkit::target::linux_kernel {
namespace {

// What attaching a section takes: the steps, or why it cannot be done.
using Attacher = std::function<std::vector<LinkPtr>(int prog_fd)>;
using Plan = std::variant<std::string, Attacher>;

std::vector<LinkPtr> one(LinkPtr link) {
  std::vector<LinkPtr> links;
  links.push_back(std::move(link));
  return links;
}

// "uprobe.s//bin/bash:readline" -> "uprobe.s": the part libbpf's table matched.
std::string_view section_prefix(std::string_view section) { return section.substr(0, section.find('/')); }

bool is_cgroup_type(uint32_t type) {
  switch (type) {
    case BPF_PROG_TYPE_CGROUP_SKB:
    case BPF_PROG_TYPE_CGROUP_SOCK:
    case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
    case BPF_PROG_TYPE_CGROUP_DEVICE:
    case BPF_PROG_TYPE_CGROUP_SYSCTL:
    case BPF_PROG_TYPE_CGROUP_SOCKOPT:
    case BPF_PROG_TYPE_SOCK_OPS: return true;
    default: return false;
  }
}

// "FUNC" or "FUNC+OFFSET" of a kprobe section.
std::pair<std::string, uint64_t> split_function_offset(const std::string& target) {
  const size_t plus = target.rfind('+');
  if (plus == std::string::npos) return {target, 0};
  // Reuses the uprobe parser's number rules: "f+0x10" reads like "PATH:f+0x10".
  const UprobeTarget t = parse_uprobe_target("kernel:" + target);  // "probe target 'kernel:f+x'" on errors
  return {t.symbol, t.offset};
}

Plan plan_kprobe(const object::ProgramDefinition& program, const AttachOptions& options) {
  const std::string_view prefix = section_prefix(program.section);
  const object::SectionDefinition& def = program.def;
  const bool retprobe = def.retprobe;
  if (prefix.starts_with("uprobe") || prefix.starts_with("uretprobe")) {
    if (prefix.find(".multi") != std::string_view::npos ||
        prefix.find(".session") != std::string_view::npos) {
      return "'" + std::string(prefix) +
             "' sections (uprobe_multi links) are not supported yet: use uprobe/PATH:SYMBOL";
    }
    if (def.attach_target.empty()) {
      return "a '" + std::string(prefix) + "' section names no probe point: write " + std::string(prefix) +
             "/PATH:SYMBOL (e.g. " + std::string(prefix) + "//bin/bash:readline)";
    }
    UprobeTarget target;
    try {
      target = parse_uprobe_target(def.attach_target);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    const int pid = options.pid;
    return Attacher(
        [target, retprobe, pid](int fd) { return one(attach_uprobe(fd, target, retprobe, pid)); });
  }
  if (prefix == "usdt" || prefix == "usdt.s")
    return std::string("USDT probes are not supported yet: use uprobe/PATH:SYMBOL");
  const bool syscall = prefix == "ksyscall" || prefix == "kretsyscall";
  if (!kernel_has_kprobes()) return no_kprobes_message(def.attach_target, syscall);
  if (prefix.find(".multi") != std::string_view::npos || prefix.find(".session") != std::string_view::npos) {
    return "'" + std::string(prefix) +
           "' sections (kprobe_multi links) are not supported yet: use kprobe/FUNCTION";
  }
  if (def.attach_target.empty()) {
    return "a '" + std::string(prefix) + "' section names no function: write " + std::string(prefix) +
           "/FUNCTION";
  }
  std::string function;
  uint64_t offset = 0;
  if (syscall) {
    function = "__x64_sys_" + def.attach_target;  // the x86-64 syscall wrapper, as libbpf picks it
  } else {
    try {
      std::tie(function, offset) = split_function_offset(def.attach_target);
    } catch (const Error& e) {
      return std::string(e.what());
    }
  }
  return Attacher(
      [function, offset, retprobe](int fd) { return one(attach_kprobe(fd, function, offset, retprobe)); });
}

Plan plan_network(const object::ProgramDefinition& program, const AttachOptions& options) {
  const object::SectionDefinition& def = program.def;
  const std::string_view prefix = section_prefix(program.section);
  if (def.prog_type == BPF_PROG_TYPE_XDP) {
    if (def.expected_attach_type == BPF_XDP_DEVMAP || def.expected_attach_type == BPF_XDP_CPUMAP) {
      return "'" + program.section +
             "' programs run from a devmap or cpumap entry, not attached to an interface";
    }
    if (options.iface.empty())
      return std::string("an XDP program needs a network interface to attach to (--iface)");
    const std::string iface = options.iface;
    const XdpMode mode = options.xdp_mode;
    return Attacher([iface, mode](int fd) { return one(attach_xdp(fd, interface_index(iface), mode)); });
  }
  // SCHED_CLS: the direction comes from the section.
  std::optional<TcDirection> direction;
  if (program.section == "tc/ingress" || program.section == "tcx/ingress") direction = TcDirection::Ingress;
  if (program.section == "tc/egress" || program.section == "tcx/egress") direction = TcDirection::Egress;
  if (prefix == "netkit") return std::string("netkit programs are not supported yet");
  if (!direction) {
    return "a '" + program.section +
           "' section says no direction: name it tc/ingress or tc/egress "
           "(or tcx/ingress, tcx/egress) to attach it";
  }
  if (options.iface.empty())
    return std::string("a tc program needs a network interface to attach to (--iface)");
  const std::string iface = options.iface;
  const TcDirection dir = *direction;
  return Attacher([iface, dir](int fd) { return one(attach_tc(fd, interface_index(iface), dir)); });
}

Plan plan(const object::ProgramDefinition& program, const AttachOptions& options) {
  const object::SectionDefinition& def = program.def;
  const std::string_view prefix = section_prefix(program.section);
  switch (def.prog_type) {
    case BPF_PROG_TYPE_KPROBE: return plan_kprobe(program, options);
    case BPF_PROG_TYPE_TRACEPOINT: {
      if (def.attach_target.empty()) {
        return "a '" + std::string(prefix) + "' section names no tracepoint: write " + std::string(prefix) +
               "/CATEGORY/NAME (e.g. tracepoint/syscalls/sys_enter_openat)";
      }
      TracepointName tp;
      try {
        tp = parse_tracepoint_name(def.attach_target);
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return Attacher([tp](int fd) { return one(attach_tracepoint(fd, tp)); });
    }
    case BPF_PROG_TYPE_RAW_TRACEPOINT:
    case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: {
      if (def.attach_target.empty()) {
        return "a '" + std::string(prefix) + "' section names no tracepoint: write " + std::string(prefix) +
               "/NAME (e.g. raw_tp/sys_enter)";
      }
      const std::string name = def.attach_target;
      return Attacher([name](int fd) { return one(attach_raw_tracepoint(fd, name)); });
    }
    case BPF_PROG_TYPE_TRACING:
    case BPF_PROG_TYPE_LSM: {
      const std::string kind = btf_hook_kind(def);
      if (kind == "iter") {
        return std::string("iter programs run when their iterator is read, which bpfkit does not do yet");
      }
      if (kind == "lsm_cgroup")
        return std::string("lsm_cgroup programs attach to a cgroup, which bpfkit does not do yet");
      if (kind.empty()) return "'" + program.section + "' programs cannot be auto-attached";
      if (def.attach_target.empty()) {
        return "a '" + kind + "' section names no hook: write " + kind + "/NAME";
      }
      return Attacher([def](int fd) { return one(attach_btf_hook(fd, def)); });
    }
    case BPF_PROG_TYPE_PERF_EVENT: {
      const uint64_t freq = options.sample_freq;
      const int pid = options.pid;
      return Attacher([freq, pid](int fd) { return attach_perf_event(fd, freq, pid); });
    }
    case BPF_PROG_TYPE_XDP:
    case BPF_PROG_TYPE_SCHED_CLS: return plan_network(program, options);
    case BPF_PROG_TYPE_SOCKET_FILTER:
      return std::string(
          "socket filters attach to a socket the caller opens, which a section name cannot say");
    case BPF_PROG_TYPE_EXT:
      return std::string("freplace programs need the program they replace, which bpfkit does not support");
    default: break;
  }
  if (is_cgroup_type(def.prog_type)) {
    return "'" + program.section + "' programs attach to a cgroup, which bpfkit does not do by section yet";
  }
  return "'" + program.section + "' programs (" +
         program_type_name(static_cast<bpf_prog_type>(def.prog_type)) +
         ") are not auto-attached: they attach to a socket, map or device the caller chooses";
}

std::string where(const object::ProgramDefinition& program) {
  return "program '" + program.name + "' (section '" + program.section + "')";
}

}  // namespace

std::optional<std::string> attach_unavailable_reason(const object::ProgramDefinition& program,
                                                     const AttachOptions& options) {
  Plan p = plan(program, options);
  if (const std::string* reason = std::get_if<std::string>(&p)) return *reason;
  return std::nullopt;
}

std::vector<LinkPtr> attach_program(int prog_fd, const object::ProgramDefinition& program,
                                    const AttachOptions& options) {
  Plan p = plan(program, options);
  if (const std::string* reason = std::get_if<std::string>(&p)) {
    throw TargetError(where(program) + " cannot be attached: " + *reason);
  }
  try {
    return std::get<Attacher>(p)(prog_fd);
  } catch (const Error& e) {
    throw TargetError(where(program) + ": " + e.what());
  }
}

}  // namespace bpfkit::target::linux_kernel
