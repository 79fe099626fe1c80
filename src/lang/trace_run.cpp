#include "lang/trace_run.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "lang/format/json_output.h"
#include "lang/traced_command.h"
#include "lang/value_reader.h"
#include "target/linux/attach.h"
#include "target/linux/linux_target.h"
#include "target/linux/trace_attach.h"

namespace bpfkit::lang {

namespace {

using Clock = std::chrono::steady_clock;
namespace lk = target::linux_kernel;

uint64_t period_ns(const ProbeSpec& spec) {
  uint64_t n = spec.period ? spec.period : 1;
  if (spec.unit == "s") return n * 1000000000ull;
  if (spec.unit == "ms") return n * 1000000ull;
  if (spec.unit == "us") return n * 1000ull;
  if (spec.unit == "hz") return 1000000000ull / n;
  return n;
}

uint64_t frequency_hz(const ProbeSpec& spec) {
  uint64_t ns = period_ns(spec);
  return ns ? std::max<uint64_t>(1, 1000000000ull / ns) : 99;
}

class Runner {
 public:
  Runner(const Source& source, const CompiledScript& script, target::Target& target, const TraceRunOptions& options)
      : source_(source), script_(script), target_(target), options_(options) {}

  int run() {
    load();
    reader_ = std::make_unique<ValueReader>(script_, *loaded_);
    watch_events();
    TracedCommand* command = options_.command;
    attach(command ? command->pid() : options_.pid);
    size_t n = script_.info.probes.size();
    write(options_.json ? format::json_attached_probes(n) : format::text_attached_probes(n));
    // BEGIN's output comes first, as in bpftrace: records the other probes sent while
    // they were being attached are held back until BEGIN has printed.
    std::vector<std::vector<uint8_t>> early;
    events_->consume_ringbuf(
        [&](std::span<const uint8_t> r) { early.emplace_back(r.begin(), r.end()); });
    run_probes(ProbeKind::Begin);
    drain();
    for (const std::vector<uint8_t>& r : early) on_event(r);
    if (command) command->start();
    auto start = Clock::now();
    std::vector<Clock::time_point> next_interval(programs_.size(), start);
    for (size_t i = 0; i < programs_.size(); ++i) {
      const ConcreteProbe& p = script_.info.probes[script_.programs[i].probe];
      if (p.spec.kind == ProbeKind::Interval) next_interval[i] = start + std::chrono::nanoseconds(period_ns(p.spec));
    }
    while (!exit_requested_) {
      drain();
      if (exit_requested_) break;
      if (options_.interrupted && options_.interrupted->load()) break;
      auto now = Clock::now();
      if (options_.duration_s > 0 && now - start >= std::chrono::duration<double>(options_.duration_s)) break;
      if (command && command->exited()) {
        drain();
        break;
      }
      for (size_t i = 0; i < programs_.size() && !exit_requested_; ++i) {
        const ConcreteProbe& p = script_.info.probes[script_.programs[i].probe];
        if (p.spec.kind != ProbeKind::Interval || now < next_interval[i]) continue;
        next_interval[i] += std::chrono::nanoseconds(period_ns(p.spec));
        test_run(i);
        drain();
      }
      wait_for_events(next_interval, start);
    }
    links_.clear();  // detach before END, as bpftrace stops the probes first
    // Events after exit() are dropped, except what END prints.
    exit_requested_ = false;
    ending_ = true;
    run_probes(ProbeKind::End);
    drain();
    print_all_maps();
    return 0;
  }

 private:
  void write(std::string_view text) { options_.write(text); }

  // Sleeps until the kernel's ring buffer has records (epoll on its fd), the next
  // interval probe is due, or 100 ms pass (to notice the -c command's end); the
  // userspace target's ring buffer has no fd, so there it polls every 2 ms.
  void wait_for_events(const std::vector<Clock::time_point>& next_interval, Clock::time_point start) {
    if (epoll_fd_ < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return;
    }
    auto now = Clock::now();
    auto until = now + std::chrono::milliseconds(100);
    for (size_t i = 0; i < programs_.size(); ++i) {
      if (script_.info.probes[script_.programs[i].probe].spec.kind == ProbeKind::Interval) {
        until = std::min(until, next_interval[i]);
      }
    }
    if (options_.duration_s > 0) {
      until = std::min(until, start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options_.duration_s)));
    }
    int timeout_ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count());
    epoll_event ev{};
    epoll_wait(epoll_fd_, &ev, 1, std::max(0, timeout_ms));  // EINTR (Ctrl-C) returns early too
  }

  void watch_events() {
    if (!options_.on_linux) return;
    int fd = lk::map_fd(*events_);
    if (fd < 0) return;
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    if (epoll_fd_ >= 0 && epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(epoll_fd_);
      epoll_fd_ = -1;
    }
  }

  void load() {
    try {
      loaded_ = target_.load(script_.object);
    } catch (const lk::ProgramLoadError& err) {
      report_rejection("the kernel's verifier", err.program(), err.verifier_log(), err.what());
    } catch (const target::TargetError& err) {
      // bpfkit's own verifier (userspace target): "program 'P' ... insn N (...): why".
      std::string what = err.what();
      size_t p = what.find("program '"), q = p == std::string::npos ? p : what.find('\'', p + 9);
      size_t insn = what.find(": insn ");
      if (q == std::string::npos || insn == std::string::npos) throw;
      std::string program = what.substr(p + 9, q - p - 9);
      size_t digits = insn + 7, end = digits;
      while (end < what.size() && std::isdigit(static_cast<unsigned char>(what[end]))) ++end;
      size_t eol = what.find('\n', insn);
      std::string line = what.substr(insn + 2, eol == std::string::npos ? std::string::npos : eol - insn - 2);
      size_t colon = line.find("): ");
      std::string reason = colon == std::string::npos ? line : line.substr(colon + 3);
      report_rejection("bpfkit's verifier", program, what.substr(digits, end - digits) + ": (insn)\n" + reason, reason);
    }
    programs_ = loaded_->programs();
    events_ = loaded_->maps().at(script_.events_map);  // looked up once: drain() runs at every wake-up
  }

  [[noreturn]] void report_rejection(const std::string& who, const std::string& program, const std::string& log,
                                     const std::string& what) {
    const auto& programs = script_.object->programs();
    for (size_t i = 0; i < programs.size(); ++i) {
      if (programs[i].name != program) continue;
      const auto& locs = script_.programs[i].locations;
      std::optional<size_t> insn = rejected_instruction(log);
      std::string reason = why_refused(log);
      if (reason.empty()) reason = what;
      Location loc = insn && *insn < locs.size() ? locs[*insn] : script_.info.probes[script_.programs[i].probe].loc;
      if (log.empty()) {
        // Refused before verification (permissions, lockdown, a missing attach target).
        throw SemanticError(source_, loc, "cannot load this probe: " + what);
      }
      throw SemanticError(source_, loc,
                          who + " refused the code bpfkit generated for this" +
                              (insn ? " (instruction " + std::to_string(*insn) + ")" : std::string()) + ": " + reason);
    }
    throw target::TargetError(what);
  }

  // The kernel log's sentence saying why: its last line that is neither an
  // instruction, a register state dump nor the closing statistics.
  static std::string why_refused(const std::string& log) {
    static const char* kSkip[] = {"old state", "cur state", "processed ", "verification time", "stack depth",
                                  "from ", "last_idx", "regs=", "parent ", "mark_precise", "Func#", "func#", "R"};
    std::istringstream lines(log);
    std::string line, last;
    while (std::getline(lines, line)) {
      if (line.empty() || std::isdigit(static_cast<unsigned char>(line[0])) || line[0] == ';' || line[0] == ' ') continue;
      bool skip = false;
      for (const char* prefix : kSkip) skip = skip || line.rfind(prefix, 0) == 0;
      if (!skip) last = line;
    }
    return last;
  }

  void attach(int pid) {
    for (size_t i = 0; i < programs_.size(); ++i) {
      const ConcreteProbe& p = script_.info.probes[script_.programs[i].probe];
      ProbeKind k = p.spec.kind;
      if (k == ProbeKind::Begin || k == ProbeKind::End || k == ProbeKind::Interval) continue;
      if (!options_.on_linux) throw target::TargetError("the userspace target cannot attach " + p.name);
      lk::AttachOptions o;
      o.pid = pid;
      if (k == ProbeKind::Profile) o.sample_freq = frequency_hz(p.spec);
      const object::ProgramDefinition& def = programs_[i]->definition();
      try {
        if (k == ProbeKind::Software || k == ProbeKind::Hardware) {
          const PerfEventInfo* event = find_perf_event(k, p.spec.function);
          if (!event) throw target::TargetError("no perf event named '" + p.spec.function + "'");
          lk::PerfEventSpec spec;
          spec.type = k == ProbeKind::Software ? 1 : 0;  // PERF_TYPE_SOFTWARE / PERF_TYPE_HARDWARE
          spec.config = event->config;
          spec.sample = p.spec.period ? p.spec.period : event->default_period;
          spec.name = event->name;
          for (auto& link : lk::attach_perf_events(lk::program_fd(*programs_[i]), spec, pid)) {
            links_.push_back(std::move(link));
          }
          continue;
        }
        for (auto& link : lk::attach_program(lk::program_fd(*programs_[i]), def, o)) links_.push_back(std::move(link));
      } catch (const target::TargetError& err) {
        throw SemanticError(source_, p.loc, std::string("cannot attach ") + p.name + ": " + err.what());
      }
    }
  }

  void test_run(size_t i) {
    target::TestRunRequest req;
    // A raw tracepoint's context: room for its arguments (none are read).
    req.ctx_in.assign(8, 0);
    programs_[i]->test_run(req);
  }

  void run_probes(ProbeKind kind) {
    for (size_t i = 0; i < programs_.size(); ++i) {
      if (script_.info.probes[script_.programs[i].probe].spec.kind == kind) test_run(i);
    }
  }

  void drain() {
    events_->consume_ringbuf([&](std::span<const uint8_t> record) { on_event(record); });
  }

  void on_event(std::span<const uint8_t> record) {
    if (record.size() < 8 || exit_requested_) return;
    uint64_t head = 0;
    std::memcpy(&head, record.data(), 8);
    auto kind = EventKind(uint32_t(head));
    uint32_t id = uint32_t(head >> 32);
    switch (kind) {
      case EventKind::Exit: exit_requested_ = !ending_; return;
      case EventKind::Printf:
      case EventKind::System:
      case EventKind::Cat: {
        if (id >= script_.info.formats.size()) return;
        const OutputFormat& f = script_.info.formats[id];
        std::vector<format::Value> args;
        for (size_t i = 0; i < f.args.size(); ++i) {
          uint32_t off = f.offsets[i], size = f.args[i].storage_size();
          if (off + size > record.size()) return;
          args.push_back(reader_->decode(f.args[i], record.subspan(off, size)));
        }
        std::string text = format::format_printf(f.printf, args);
        if (kind == EventKind::Printf) emit(text, format::json_printf_event);
        else if (kind == EventKind::System) run_system(text);
        else cat_file(text);
        return;
      }
      case EventKind::Time: {
        if (id >= script_.info.formats.size()) return;
        char buf[256];
        std::time_t now = std::time(nullptr);
        std::tm tm{};
        localtime_r(&now, &tm);
        size_t n = std::strftime(buf, sizeof(buf), script_.info.formats[id].text.c_str(), &tm);
        emit(std::string(buf, n), format::json_time_event);
        return;
      }
      case EventKind::Join: {
        if (id >= script_.info.formats.size()) return;
        std::string out;
        for (uint32_t i = 0; i < kJoinMax; ++i) {
          size_t off = 8 + size_t(i) * kJoinStringSize;
          if (off + kJoinStringSize > record.size()) break;
          const char* s = reinterpret_cast<const char*>(record.data() + off);
          size_t len = strnlen(s, kJoinStringSize);
          if (len == 0) break;
          if (i) out += script_.info.formats[id].text;
          out.append(s, len);
        }
        if (options_.json) write(format::json_join_event(out));
        else write(format::text_join_event(out));
        return;
      }
      case EventKind::PrintValue: {
        if (id >= script_.info.formats.size()) return;
        const OutputFormat& f = script_.info.formats[id];
        uint32_t size = f.args[0].storage_size();
        if (8 + size > record.size()) return;
        format::Value v = reader_->decode(f.args[0], record.subspan(8, size));
        write(options_.json ? format::json_value_event(v) : format::text_value_event(v));
        return;
      }
      case EventKind::PrintMap: {
        if (id >= script_.info.maps.size() || record.size() < 24) return;
        uint64_t top = 0, div = 1;
        std::memcpy(&top, record.data() + 8, 8);
        std::memcpy(&div, record.data() + 16, 8);
        print_map(id, top, div ? div : 1);
        return;
      }
      case EventKind::ClearMap:
        if (id < script_.info.maps.size()) reader_->clear(id);
        return;
      case EventKind::ZeroMap:
        if (id < script_.info.maps.size()) reader_->zero(id);
        return;
    }
  }

  // Text mode prints the text as is; -f json wraps it in its event line.
  void emit(const std::string& text, std::string (*json)(std::string_view)) {
    write(options_.json ? json(text) : text);
  }

  void run_system(const std::string& command) {
    FILE* p = popen(command.c_str(), "r");
    if (!p) return;
    char buf[4096];
    size_t n;
    std::string out;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    pclose(p);
    emit(out, format::json_syscall_event);
  }

  void cat_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      write("ERROR: failed to open file '" + path + "': " + std::strerror(errno) + "\n");
      return;
    }
    std::ostringstream s;
    s << in.rdbuf();
    emit(s.str(), format::json_cat_event);
  }

  void print_map(size_t index, uint64_t top, uint64_t div) {
    format::MapSnapshot snap = reader_->snapshot(index);
    write(options_.json ? format::format_map_json(snap, top, div) : format::format_map_text(snap, top, div));
  }

  void print_all_maps() {
    std::vector<format::MapSnapshot> maps;
    for (size_t i = 0; i < script_.info.maps.size(); ++i) maps.push_back(reader_->snapshot(i));
    write(options_.json ? format::format_exit_maps_json(maps) : format::format_exit_maps_text(maps));
  }

  const Source& source_;
  const CompiledScript& script_;
  target::Target& target_;
  const TraceRunOptions& options_;
  std::unique_ptr<target::LoadedObject> loaded_;
  std::vector<target::ProgramHandle*> programs_;
  target::MapHandle* events_ = nullptr;
  std::unique_ptr<ValueReader> reader_;
  std::vector<lk::LinkPtr> links_;
  bool exit_requested_ = false;
  bool ending_ = false;
  int epoll_fd_ = -1;

 public:
  ~Runner() {
    if (epoll_fd_ >= 0) close(epoll_fd_);
  }
};

}  // namespace

std::optional<size_t> rejected_instruction(std::string_view log) {
  std::optional<size_t> last;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    std::string_view line = log.substr(pos, end - pos);
    size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
    if (digits > 0 && digits + 1 < line.size() && line[digits] == ':' && line[digits + 1] == ' ') {
      last = std::stoul(std::string(line.substr(0, digits)));
    }
    pos = end + 1;
  }
  return last;
}

int run_trace(const Source& source, const CompiledScript& script, target::Target& target,
              const TraceRunOptions& options) {
  Runner runner(source, script, target, options);
  return runner.run();
}

}  // namespace bpfkit::lang
