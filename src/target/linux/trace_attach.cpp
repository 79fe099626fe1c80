#include "target/linux/trace_attach.h"

#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "target/linux/attach_btf.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/elf_symbol_offset.h"
#include "target/linux/perf_buffer.h"
#include "target/target.h"

namespace bpfkit::target::linux_kernel {
namespace {

namespace fs = std::filesystem;

long sys_bpf(int cmd, bpf_attr& attr) { return syscall(__NR_bpf, cmd, &attr, sizeof(attr)); }

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// A BPF link fd (raw tracepoint, tracing and LSM links): closing it detaches.
class BpfLink : public Link {
 public:
  BpfLink(UniqueFd fd, std::string description) : fd_(std::move(fd)), description_(std::move(description)) {}
  std::string describe() const override { return description_; }
  int link_fd() const override { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string description_;
};

// A perf event carrying the program: through a BPF_PERF_EVENT link where the kernel has
// them, else through PERF_EVENT_IOC_SET_BPF on the event itself.
class PerfEventLink : public Link {
 public:
  PerfEventLink(UniqueFd perf_fd, UniqueFd link_fd, std::string description)
      : perf_fd_(std::move(perf_fd)), link_fd_(std::move(link_fd)), description_(std::move(description)) {}
  ~PerfEventLink() override {
    link_fd_.reset();  // the link first, so the event never runs a program it no longer owns
    if (perf_fd_) ioctl(perf_fd_.get(), PERF_EVENT_IOC_DISABLE, 0);
  }
  std::string describe() const override { return description_; }
  int link_fd() const override { return link_fd_.get(); }

 private:
  UniqueFd perf_fd_;
  UniqueFd link_fd_;
  std::string description_;
};

// perf_event_open's errno as one sentence.
std::string describe_perf_errno(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return std::string(std::strerror(err)) +
             ": perf events need root or CAP_PERFMON (see /proc/sys/kernel/perf_event_paranoid)";
    case ENOENT: return "No such file or directory: the kernel found no such probe point";
    case ESRCH: return "No such process: the process to trace does not exist";
    case EMFILE: return "Too many open files: raise the file descriptor limit (ulimit -n)";
    default: return std::string(std::strerror(err));
  }
}

int perf_event_open(perf_event_attr& attr, int pid, int cpu) {
  attr.size = sizeof(attr);
  return int(syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

// Puts the program on an open perf event and wraps both in a Link.
LinkPtr attach_to_perf_event(int prog_fd, UniqueFd perf_fd, std::string description) {
  bpf_attr attr{};
  attr.link_create.prog_fd = uint32_t(prog_fd);
  attr.link_create.target_fd = uint32_t(perf_fd.get());
  attr.link_create.attach_type = BPF_PERF_EVENT;
  const long link = sys_bpf(BPF_LINK_CREATE, attr);
  if (link >= 0) return std::make_unique<PerfEventLink>(std::move(perf_fd), UniqueFd(int(link)), description);
  const int link_errno = errno;
  // Kernels before 5.15 have no perf links: the event holds the program itself.
  if (link_errno == EINVAL) {
    if (ioctl(perf_fd.get(), PERF_EVENT_IOC_SET_BPF, prog_fd) == 0) {
      if (ioctl(perf_fd.get(), PERF_EVENT_IOC_ENABLE, 0) != 0) {
        throw BpfError("attaching to " + description + " (PERF_EVENT_IOC_ENABLE)", errno);
      }
      return std::make_unique<PerfEventLink>(std::move(perf_fd), UniqueFd(), description);
    }
    throw BpfError("attaching to " + description + " (PERF_EVENT_IOC_SET_BPF)", errno);
  }
  throw BpfError("attaching to " + description + " (BPF_LINK_CREATE)", link_errno);
}

// A dynamic PMU's type and the bit of its config that makes a return probe, from sysfs.
struct ProbePmu {
  int type = -1;
  int retprobe_bit = -1;
};

ProbePmu read_probe_pmu(const std::string& name) {
  ProbePmu pmu;
  const fs::path dir = fs::path("/sys/bus/event_source/devices") / name;
  if (std::ifstream in(dir / "type"); !(in >> pmu.type)) pmu.type = -1;
  if (std::ifstream in(dir / "format" / "retprobe"); in) {
    std::string format;  // "config:0"
    in >> format;
    if (format.starts_with("config:")) pmu.retprobe_bit = std::atoi(format.c_str() + 7);
  }
  return pmu;
}

const ProbePmu& uprobe_pmu() {
  static const ProbePmu pmu = read_probe_pmu("uprobe");
  return pmu;
}

const ProbePmu& kprobe_pmu() {
  static const ProbePmu pmu = read_probe_pmu("kprobe");
  return pmu;
}

uint64_t parse_number(std::string_view text, std::string_view what, std::string_view whole) {
  uint64_t value = 0;
  const bool is_hex = text.starts_with("0x") || text.starts_with("0X");
  std::string_view digits = is_hex ? text.substr(2) : text;
  if (digits.empty())
    throw TargetError("probe target '" + std::string(whole) + "': empty " + std::string(what));
  for (const char c : digits) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (is_hex && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (is_hex && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      throw TargetError("probe target '" + std::string(whole) + "': " + std::string(what) + " '" +
                        std::string(text) + "' is not a number");
    const unsigned base = is_hex ? 16 : 10;
    if (value > (UINT64_MAX - unsigned(d)) / base) {
      throw TargetError("probe target '" + std::string(whole) + "': " + std::string(what) + " is too large");
    }
    value = value * base + unsigned(d);
  }
  return value;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

LinkPtr attach_tracepoint(int prog_fd, const TracepointName& tp) {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = tracepoint_id(tp);
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  // One event on CPU 0 suffices: a tracepoint runs its BPF programs on whichever CPU hits it.
  const int fd = perf_event_open(attr, -1, 0);
  if (fd < 0) {
    throw TargetError("opening a perf event for tracepoint '" + tp.str() +
                      "' failed: " + describe_perf_errno(errno));
  }
  return attach_to_perf_event(prog_fd, UniqueFd(fd), "tracepoint " + tp.str());
}

LinkPtr attach_raw_tracepoint(int prog_fd, const std::string& name) {
  if (name.empty()) throw TargetError("a raw tracepoint needs a name (raw_tp/NAME, e.g. raw_tp/sys_enter)");
  bpf_attr attr{};
  attr.raw_tracepoint.name = reinterpret_cast<uintptr_t>(name.c_str());
  attr.raw_tracepoint.prog_fd = uint32_t(prog_fd);
  const long fd = sys_bpf(BPF_RAW_TRACEPOINT_OPEN, attr);
  if (fd < 0) {
    if (errno == ENOENT) {
      throw TargetError(
          "unknown raw tracepoint '" + name +
          "' (raw tracepoints are named without their category, e.g. sys_enter or sched_switch)");
    }
    throw BpfError("attaching to raw tracepoint '" + name + "' (BPF_RAW_TRACEPOINT_OPEN)", errno);
  }
  return std::make_unique<BpfLink>(UniqueFd(int(fd)), "raw_tracepoint " + name);
}

LinkPtr attach_btf_hook(int prog_fd, const object::SectionDefinition& def) {
  const std::string kind = btf_hook_kind(def);
  if (kind.empty() || kind == "iter" || kind == "lsm_cgroup") {
    throw TargetError("attach_btf_hook: '" + (kind.empty() ? std::string("this section") : kind) +
                      "' is not a tp_btf, fentry, fexit, fmod_ret or lsm hook");
  }
  const std::string description = kind + " " + def.attach_target;
  long fd = -1;
  int err = 0;
  if (kind != "tp_btf") {
    bpf_attr attr{};
    attr.link_create.prog_fd = uint32_t(prog_fd);
    attr.link_create.attach_type = def.expected_attach_type;
    fd = sys_bpf(BPF_LINK_CREATE, attr);
    err = errno;
  }
  // tp_btf, and kernels without LINK_CREATE for tracing: the hook was fixed at load.
  if (fd < 0 && (kind == "tp_btf" || err == EINVAL)) {
    bpf_attr attr{};
    attr.raw_tracepoint.prog_fd = uint32_t(prog_fd);
    fd = sys_bpf(BPF_RAW_TRACEPOINT_OPEN, attr);
    err = errno;
  }
  if (fd < 0) throw BpfError("attaching to " + description, err);
  return std::make_unique<BpfLink>(UniqueFd(int(fd)), description);
}

std::string UprobeTarget::str() const {
  if (symbol.empty()) return path + ":" + hex(offset);
  return path + ":" + symbol + (offset ? "+" + hex(offset) : "");
}

UprobeTarget parse_uprobe_target(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    throw TargetError("uprobe target '" + std::string(text) +
                      "' is not of the form PATH:SYMBOL[+OFFSET] or PATH:OFFSET (e.g. /bin/bash:readline)");
  }
  UprobeTarget t;
  t.path = std::string(text.substr(0, colon));
  std::string_view where = text.substr(colon + 1);
  if (is_digit(where.front())) {
    t.offset = parse_number(where, "offset", text);
    return t;
  }
  const size_t plus = where.rfind('+');
  if (plus != std::string_view::npos) {
    t.offset = parse_number(where.substr(plus + 1), "offset", text);
    where = where.substr(0, plus);
    if (where.empty()) throw TargetError("uprobe target '" + std::string(text) + "': the symbol is empty");
  }
  t.symbol = std::string(where);
  return t;
}

uint64_t uprobe_file_offset(const UprobeTarget& target) {
  const std::string path = resolve_binary_path(target.path);
  if (target.symbol.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      throw TargetError("uprobe target '" + target.str() + "': no such file '" + path + "'");
    }
    return target.offset;
  }
  return elf_symbol_offset(path, target.symbol).file_offset + target.offset;
}

LinkPtr attach_uprobe(int prog_fd, const UprobeTarget& target, bool retprobe, int pid) {
  const std::string kind = retprobe ? "uretprobe" : "uprobe";
  const ProbePmu& pmu = uprobe_pmu();
  if (pmu.type < 0 || (retprobe && pmu.retprobe_bit < 0)) {
    throw TargetError("this kernel has no " + kind +
                      " support (no /sys/bus/event_source/devices/uprobe: CONFIG_UPROBE_EVENTS is off)");
  }
  std::string path = resolve_binary_path(target.path);
  std::error_code ec;
  if (const fs::path absolute = fs::absolute(path, ec); !ec) path = absolute.string();
  const uint64_t offset = uprobe_file_offset(target);
  perf_event_attr attr{};
  attr.type = uint32_t(pmu.type);
  attr.config = retprobe ? uint64_t{1} << pmu.retprobe_bit : 0;
  attr.uprobe_path = reinterpret_cast<uintptr_t>(path.c_str());
  attr.probe_offset = offset;
  std::string description = kind + " " + target.str() + " (file offset " + hex(offset) + ")";
  if (pid >= 0) description += " in pid " + std::to_string(pid);
  // Every process: one event on CPU 0 (uprobes run programs on any CPU); one process: any CPU.
  const int fd = perf_event_open(attr, pid >= 0 ? pid : -1, pid >= 0 ? -1 : 0);
  if (fd < 0)
    throw TargetError("opening a perf event for " + description + " failed: " + describe_perf_errno(errno));
  return attach_to_perf_event(prog_fd, UniqueFd(fd), description);
}

bool kernel_has_kprobes() { return kprobe_pmu().type >= 0; }

std::string no_kprobes_message(std::string_view function, bool syscall) {
  std::string instead =
      "a syscall tracepoint (tracepoint/syscalls/sys_enter_NAME), a raw tracepoint, tp_btf, "
      "fentry/fexit or an LSM hook";
  // A syscall's kprobe has an exact tracepoint equivalent.
  std::string_view name = function;
  for (std::string_view prefix : {"__x64_sys_", "__se_sys_", "__do_sys_", "sys_"}) {
    if (!syscall && name.starts_with(prefix)) {
      name.remove_prefix(prefix.size());
      syscall = true;
      break;
    }
  }
  if (syscall && !name.empty()) {
    instead = "tracepoint/syscalls/sys_enter_" + std::string(name) + " (sys_exit_" + std::string(name) +
              " for the return), a raw tracepoint, tp_btf, fentry/fexit or an LSM hook";
  }
  return "this kernel has no kprobes (CONFIG_KPROBES is off: there is no "
         "/sys/bus/event_source/devices/kprobe); "
         "use " +
         instead + " instead";
}

LinkPtr attach_kprobe(int prog_fd, const std::string& function, uint64_t offset, bool retprobe) {
  const std::string kind = retprobe ? "kretprobe" : "kprobe";
  const std::string section = kind + "/" + function + (offset ? "+" + hex(offset) : "");
  const ProbePmu& pmu = kprobe_pmu();
  if (pmu.type < 0 || (retprobe && pmu.retprobe_bit < 0)) {
    throw TargetError(section + " cannot attach: " + no_kprobes_message(function, false));
  }
  perf_event_attr attr{};
  attr.type = uint32_t(pmu.type);
  attr.config = retprobe ? uint64_t{1} << pmu.retprobe_bit : 0;
  attr.kprobe_func = reinterpret_cast<uintptr_t>(function.c_str());
  attr.probe_offset = offset;
  const int fd = perf_event_open(attr, -1, 0);
  if (fd < 0) {
    const int err = errno;
    if (err == EOPNOTSUPP || err == ENODEV) {
      throw TargetError(section + " cannot attach: " + no_kprobes_message(function, false));
    }
    throw TargetError("opening a perf event for " + section + " failed: " + describe_perf_errno(err));
  }
  return attach_to_perf_event(prog_fd, UniqueFd(fd), kind + " " + function);
}

std::vector<LinkPtr> attach_perf_event(int prog_fd, uint64_t sample_freq, int pid) {
  if (sample_freq == 0) throw TargetError("perf_event sampling needs a frequency above 0 Hz");
  PerfEventSpec spec;
  spec.name = "cpu-clock";
  spec.frequency = true;
  spec.sample = sample_freq;
  return attach_perf_events(prog_fd, spec, pid);
}

std::vector<LinkPtr> attach_perf_events(int prog_fd, const PerfEventSpec& spec, int pid) {
  if (spec.sample == 0) throw TargetError("a perf event needs a sample period or frequency above 0");
  perf_event_attr attr{};
  attr.type = spec.type;
  attr.config = spec.config;
  attr.freq = spec.frequency ? 1 : 0;
  if (spec.frequency) attr.sample_freq = spec.sample;
  else attr.sample_period = spec.sample;
  std::vector<int> cpus;
  if (pid >= 0) {
    cpus.push_back(-1);
  } else {
    for (const uint32_t cpu : online_cpus()) cpus.push_back(int(cpu));
  }
  const std::string rate = spec.frequency ? " at " + std::to_string(spec.sample) + " Hz"
                                          : " every " + std::to_string(spec.sample) + " events";
  std::vector<LinkPtr> links;
  for (const int cpu : cpus) {
    std::string description = "perf_event " + spec.name + rate;
    description += pid >= 0 ? " in pid " + std::to_string(pid) : " on CPU " + std::to_string(cpu);
    const int fd = perf_event_open(attr, pid >= 0 ? pid : -1, cpu);
    if (fd < 0) {
      const int err = errno;
      std::string why = describe_perf_errno(err);
      if (err == EINVAL && spec.frequency) {
        std::ifstream max_in("/proc/sys/kernel/perf_event_max_sample_rate");
        uint64_t max_rate = 0;
        if (max_in >> max_rate && spec.sample > max_rate) {
          why += ": " + std::to_string(spec.sample) +
                 " Hz is above /proc/sys/kernel/perf_event_max_sample_rate (" + std::to_string(max_rate) + ")";
        }
      }
      if ((err == ENOENT || err == EOPNOTSUPP) && spec.type == PERF_TYPE_HARDWARE) {
        why += ": this machine exposes no hardware counter for " + spec.name + " (a virtual machine often has none)";
      }
      throw TargetError("opening a perf event for " + description + " failed: " + why);
    }
    links.push_back(attach_to_perf_event(prog_fd, UniqueFd(fd), description));
  }
  return links;
}

}  // namespace bpfkit::target::linux_kernel
