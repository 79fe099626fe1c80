// `bpfkit run --target linux OBJ` without input: load the object into the kernel,
// attach every program by its SEC name as libbpf's auto-attach does, stream
// bpf_printk lines and ring/perf buffer records until Ctrl-C, SIGTERM or
// --duration, then detach and print the maps.
#include <linux/bpf.h>
#include <signal.h>
#include <sys/epoll.h>

#include <chrono>
#include <cstdio>
#include <csignal>
#include <iostream>
#include <optional>

#include "cli/linux_load.h"
#include "cli/record_format.h"
#include "cli/run_object.h"
#include "target/linux/attach.h"
#include "target/linux/linux_target.h"
#include "target/linux/perf_buffer.h"
#include "target/linux/ring_buffer.h"
#include "target/linux/trace_pipe.h"

namespace bpfkit::cli {

namespace {

namespace lk = target::linux_kernel;

volatile sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

// SIGINT / SIGTERM end the run (the wait returns with EINTR); the previous handlers
// come back when the run ends.
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

lk::AttachOptions attach_options(const ObjectRunOptions& o) {
  lk::AttachOptions a;
  a.iface = o.iface;
  a.pid = o.pid;
  a.sample_freq = o.sample_freq;
  if (o.xdp_mode == "native") a.xdp_mode = lk::XdpMode::Native;
  if (o.xdp_mode == "generic") a.xdp_mode = lk::XdpMode::Generic;
  return a;
}

// Every event source of the object, waited on together.
class EventStreams {
 public:
  EventStreams(target::LoadedObject& loaded, const ObjectRunOptions& o) : formatter_(loaded.object(), o.event_type) {
    for (target::MapHandle* m : loaded.maps()) {
      const uint32_t type = m->definition().type;
      const std::string name = m->name();
      if (type == BPF_MAP_TYPE_RINGBUF) {
        if (!rings_) rings_.emplace();
        rings_->add(lk::map_fd(*m), [this, name](std::span<const uint8_t> r) {
          std::cout << "event " << name << ": " << formatter_.format(r) << '\n';
          ++events_;
          return 0;
        }, name);
        watch(rings_->epoll_fd());
      } else if (type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
        perf_.push_back(std::make_unique<lk::PerfBuffer>(
            lk::map_fd(*m), [this, name](uint32_t cpu, std::span<const uint8_t> r) {
              std::cout << "event " << name << " (cpu " << cpu << "): " << formatter_.format(r) << '\n';
              ++events_;
              return 0;
            }));
        watch(perf_.back()->epoll_fd());
      }
    }
    if (!o.no_printk) {
      try {
        lk::TracePipeOptions tpo;
        trace_.emplace(tpo);
        watch(trace_->fd());
      } catch (const lk::TracePipeError& e) {
        std::cerr << "bpfkit: bpf_printk output will not be shown: " << e.what() << '\n';
      }
    }
  }

  // Waits up to `timeout_ms` for any source, then delivers what is there.
  void wait(int timeout_ms) {
    epoll_event ev[8];
    if (epoll_.valid()) epoll_wait(epoll_.get(), ev, 8, timeout_ms);
    drain();
  }
  void drain() {
    if (rings_) rings_->consume();
    for (auto& p : perf_) p->consume();
    if (trace_) {
      trace_->poll(0, [this](const lk::TraceLine& l) {
        std::cout << l.comm << '-' << l.pid << " [" << l.cpu << "] bpf_trace_printk: " << l.message << '\n';
        ++printk_;
      });
    }
    std::cout.flush();
  }
  uint64_t events() const { return events_; }
  uint64_t printk_lines() const { return printk_; }
  uint64_t lost() const {
    uint64_t n = trace_ ? trace_->lost_events() : 0;
    for (auto& p : perf_) n += p->lost();
    return n;
  }

 private:
  void watch(int fd) {
    if (!epoll_.valid()) epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  }

  RecordFormatter formatter_;
  lk::UniqueFd epoll_;
  std::optional<lk::RingBuffer> rings_;
  std::vector<std::unique_ptr<lk::PerfBuffer>> perf_;
  std::optional<lk::TracePipe> trace_;
  uint64_t events_ = 0, printk_ = 0;
};

}  // namespace

int run_object_attached(const ObjectRunOptions& o) {
  auto obj = open_object(o.input);
  target::TargetOptions topts;
  topts.log_level = o.log_level;
  auto loaded = load_on_linux(obj, topts);
  if (const std::string w = lk::btf_load_error(*loaded); !w.empty()) std::cerr << "bpfkit: warning: " << w << '\n';
  fill_maps(*loaded, o.map_fills);

  const lk::AttachOptions aopts = attach_options(o);
  std::vector<lk::LinkPtr> links;
  for (target::ProgramHandle* p : loaded->programs()) {
    const object::ProgramDefinition& def = p->definition();
    if (!o.prog.empty() && def.name != o.prog && def.section != o.prog) continue;
    const std::string what = "program '" + def.name + "' (" + def.section + ")";
    if (auto why = lk::attach_unavailable_reason(def, aopts)) {
      // Naming one program makes its attachment required; otherwise skip it, as libbpf's auto-attach does.
      if (!o.prog.empty()) throw Error(o.input + ": " + what + ": " + *why);
      std::cout << "not attached: " << what << ": " << *why << '\n';
      continue;
    }
    for (lk::LinkPtr& l : lk::attach_program(lk::program_fd(*p), def, aopts)) {
      std::cout << "attached: " << what << " to " << l->describe() << '\n';
      links.push_back(std::move(l));
    }
  }
  if (links.empty()) throw Error(o.input + ": no program could be attached (see above)");

  EventStreams streams(*loaded, o);
  StopSignals signals;
  std::cout << (o.duration >= 0 ? "running for " + format_seconds(o.duration) : std::string("running"))
            << " (Ctrl-C to stop)" << std::endl;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.duration < 0 ? 0 : o.duration);
  while (!g_stop) {
    int timeout = 200;
    if (o.duration >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      timeout = int(std::min<int64_t>(timeout, left.count()));
    }
    streams.wait(timeout);
  }
  links.clear();  // detach before the last drain: nothing new arrives after it
  streams.drain();
  std::cout << "detached; " << streams.events() << " events, " << streams.printk_lines() << " bpf_printk lines";
  if (streams.lost()) std::cout << ", " << streams.lost() << " lost";
  std::cout << '\n' << dump_maps_json(*loaded).dump(2) << '\n';
  return 0;
}

}  // namespace bpfkit::cli
