// `bpfkit trace` beside bpftrace on the same scripts, in one run, alternating the two
// tools so that load on the shared machine hits both alike. A plain program (its own
// main; it links Google Benchmark like every bench/*.cpp but uses none of it):
//
//   1. start -> attached: a trigger thread keeps calling getppid(); the tool runs
//      `sys_enter_getppid /pid == HARNESS/ { printf("hit\n"); exit(); }`. The time from
//      fork() to the "hit" line is an upper bound on start -> probes attached (the
//      trigger period, 100 us, is the slack). The time to the "Attaching" line is
//      printed too (bpftrace prints it before attaching, bpfkit after), and so is the time
//      to start /bin/true in the same loop: on a loaded machine that floor is not small.
//   2. peak RSS (wait4's ru_maxrss) of each of the issue's one-liners run for ~1 s after
//      the "Attaching" line, then SIGINT (the maps are printed, so that counts).
//   3. bytes of the files the tool maps (/proc/PID/maps while it runs): st_size, and the
//      ELF PT_LOAD bytes (what a stripped file would hold; non-ELF files at st_size).
//   4. ns per getppid() in a tight loop (thread CPU time, so preemption is left out; the
//      fastest of 20 batches) with no tracing and with `sys_enter_getppid { @ = count(); }`
//      attached by each tool; added cost = median traced - median baseline. A traced
//      session counts only if the tool's final @ is at least the number of calls timed
//      (so it was attached for all of them). Then, with the kernel's run-time statistics
//      on (BPF_ENABLE_STATS), the program's own ns per run from the tool's fdinfo: the
//      sharper comparison of the generated code, free of the syscall path's noise.
//
// The tools write to a pseudo-terminal, as they do when run by hand, so their stdout is
// line-buffered and a line's arrival time is when it was printed.
#include <dirent.h>
#include <elf.h>
#include <linux/bpf.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bpfkit::bench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double mono_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

void sleep_us(long us) {
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, nullptr);
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string first_line_of_file(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // bpftrace 0.17 always warns about RLIMIT_MEMLOCK; the cause of a failure is elsewhere.
    if (line.empty() || line.find("RLIMIT_MEMLOCK") != std::string::npos) continue;
    return line;
  }
  return "(nothing on stderr)";
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// --- the tools --------------------------------------------------------------------

struct Tool {
  std::string name;
  std::vector<std::string> before;  // argv up to the program text
  std::vector<std::string> after;   // argv after it
  bool available = false;
  std::string why_missing;

  std::vector<std::string> argv(const std::string& program) const {
    std::vector<std::string> a = before;
    a.push_back(program);
    a.insert(a.end(), after.begin(), after.end());
    return a;
  }
};

// One running tool: stdout is a pty (line-buffered, like a terminal), stderr a file.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& err_path) : err_path_(err_path) {
    termios tio{};
    cfmakeraw(&tio);
    int slave = -1;
    if (openpty(&master_, &slave, nullptr, &tio, nullptr) != 0) {
      std::perror("openpty");
      std::exit(2);
    }
    fcntl(master_, F_SETFD, FD_CLOEXEC);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    std::vector<char*> args;
    for (const std::string& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    start_ = mono_now();
    // fork(), not vfork(): exec folds the old address space's peak RSS into ru_maxrss,
    // and a fork()ed copy of this small harness holds only its touched private pages.
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the harness
      // A harness started in the background by a shell has SIGINT ignored: the tools must
      // not inherit that, SIGINT is how they are stopped.
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      dup2(null, 0);
      dup2(slave, 1);
      dup2(err, 2);
      execv(args[0], args.data());
      _exit(127);
    }
    close(slave);
    close(err);
    close(null);
    if (pid_ < 0) {
      std::perror("fork");
      std::exit(2);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  double start() const { return start_; }
  bool eof() const { return eof_; }

  // Reads lines until `deadline` (monotonic seconds), until `on_line` returns true, or
  // until the tool closes its stdout (returns false then). `on_line` gets each line and
  // the time it was read, in seconds since fork().
  bool pump(double deadline, const std::function<bool(const std::string&, double)>& on_line) {
    while (!eof_) {
      double left = deadline - mono_now();
      if (left <= 0) return true;
      pollfd p{master_, POLLIN, 0};
      int r = poll(&p, 1, int(std::ceil(left * 1000)));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;
      char buf[65536];
      ssize_t n = read(master_, buf, sizeof buf);
      double t = mono_now() - start_;
      if (n <= 0) {  // EIO once the tool has closed the pty's slave side
        if (n < 0 && errno == EINTR) continue;
        eof_ = true;
        if (!partial_.empty() && on_line) on_line(partial_, t);
        partial_.clear();
        return false;
      }
      partial_.append(buf, size_t(n));
      bool stop = false;
      size_t pos;
      while ((pos = partial_.find('\n')) != std::string::npos) {
        std::string line = partial_.substr(0, pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        partial_.erase(0, pos + 1);
        if (on_line && on_line(line, t)) stop = true;
      }
      if (stop) return true;
    }
    return false;
  }

  struct Exit {
    bool ok = false;  // exited by itself (status in `status`), not killed by us
    int status = 0;
    rusage usage{};
    double at = 0;  // seconds since fork()
  };
  // Drains output until the tool exits and reaps it. After `timeout` seconds it gets a
  // SIGINT (so that it detaches), and a SIGKILL 5 s later; `ok` is false then.
  Exit finish(double timeout, const std::function<bool(const std::string&, double)>& on_line) {
    Exit e;
    e.ok = true;
    double deadline = mono_now() + timeout;
    bool interrupted = false;
    auto drain = [&](const std::string& l, double t) {
      if (on_line) on_line(l, t);
      return false;
    };
    for (;;) {
      if (!eof_) pump(std::min(deadline, mono_now() + 0.05), drain);
      int status = 0;
      pid_t r = wait4(pid_, &status, WNOHANG, &e.usage);
      if (r == pid_) {
        e.status = status;
        break;
      }
      if (mono_now() >= deadline) {
        e.ok = false;
        if (!interrupted) {
          kill(pid_, SIGINT);
          interrupted = true;
          deadline = mono_now() + 5;
          continue;
        }
        kill(pid_, SIGKILL);
        wait4(pid_, &status, 0, &e.usage);
        e.status = status;
        break;
      }
      if (eof_) sleep_us(2000);
    }
    if (!eof_) pump(mono_now() + 0.5, drain);  // what it wrote just before exiting
    e.at = mono_now() - start_;
    reaped_ = true;
    return e;
  }

  std::string stderr_summary() const { return first_line_of_file(err_path_); }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  double start_ = 0;
  bool eof_ = false;
  bool reaped_ = false;
  std::string partial_;
  std::string err_path_;
};

std::string err_path_for(const std::string& tool) {
  return "/tmp/trace_vs_bpftrace." + std::to_string(getpid()) + "." + tool + ".err";
}

// Runs `argv` to completion with output discarded; true if it exited 0.
bool runs_ok(const std::vector<std::string>& argv, std::string* why) {
  std::string err = err_path_for("probe");
  Child c(argv, err);
  Child::Exit e = c.finish(30, nullptr);
  bool ok = e.ok && WIFEXITED(e.status) && WEXITSTATUS(e.status) == 0;
  if (!ok && why) *why = c.stderr_summary();
  unlink(err.c_str());
  return ok;
}

// --- mapped files -----------------------------------------------------------------

// Bytes of a file's PT_LOAD segments: what is mapped of it, and what a stripped copy
// would keep. Not an ELF file: its size.
uint64_t elf_load_bytes(const std::string& path, uint64_t st_size) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return st_size;
  uint64_t sum = 0;
  Elf64_Ehdr eh{};
  bool elf = pread(fd, &eh, sizeof eh, 0) == ssize_t(sizeof eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
             eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr);
  for (unsigned i = 0; elf && i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (pread(fd, &ph, sizeof ph, off_t(eh.e_phoff + i * sizeof ph)) != ssize_t(sizeof ph)) {
      elf = false;
      break;
    }
    if (ph.p_type == PT_LOAD) sum += ph.p_filesz;
  }
  close(fd);
  return elf ? sum : st_size;
}

struct Mapped {
  bool ok = false;
  uint64_t files = 0;
  uint64_t bytes = 0;       // sum of st_size over distinct files
  uint64_t load_bytes = 0;  // sum of PT_LOAD bytes (non-ELF: st_size)
  uint64_t exe_bytes = 0;
  uint64_t exe_load_bytes = 0;
  std::vector<std::pair<uint64_t, std::string>> largest;  // st_size, path
};

Mapped mapped_files(pid_t pid) {
  Mapped m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::set<std::pair<dev_t, ino_t>> seen;
  std::string line;
  while (std::getline(in, line)) {
    size_t slash = line.find('/');
    if (slash == std::string::npos) continue;  // anonymous, [heap], [stack], ...
    std::string path = line.substr(slash);
    const std::string deleted = " (deleted)";
    size_t cut = path.size() - std::min(path.size(), deleted.size());
    if (path.compare(cut, std::string::npos, deleted) == 0) path.resize(cut);
    struct stat st{};
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (!seen.insert({st.st_dev, st.st_ino}).second) continue;
    m.ok = true;
    ++m.files;
    m.bytes += uint64_t(st.st_size);
    m.load_bytes += elf_load_bytes(path, uint64_t(st.st_size));
    m.largest.push_back({uint64_t(st.st_size), path});
  }
  char exe[4096];
  ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    struct stat st{};
    if (stat(exe, &st) == 0) {
      m.exe_bytes = uint64_t(st.st_size);
      m.exe_load_bytes = elf_load_bytes(exe, m.exe_bytes);
    }
  }
  std::sort(m.largest.rbegin(), m.largest.rend());
  if (m.largest.size() > 4) m.largest.resize(4);
  return m;
}

// --- background activity ------------------------------------------------------------

// Calls getppid() every `period_us` (and, with `files`, opens and reads a file) until
// stopped, so that every probe in the scripts has events to see.
class Trigger {
 public:
  Trigger(long period_us, bool files) {
    thread_ = std::thread([this, period_us, files] {
      char buf[256];
      while (!stop_.load(std::memory_order_relaxed)) {
        syscall(SYS_getppid);
        if (files) {
          int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
          if (fd >= 0) {
            if (read(fd, buf, sizeof buf) < 0) buf[0] = 0;
            close(fd);
          }
        }
        sleep_us(period_us);
      }
    });
  }
  ~Trigger() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// --- the measurements ---------------------------------------------------------------

struct Options {
  int attach_runs = 11;
  int rss_runs = 3;
  int cost_rounds = 5;
  long cost_calls = 25000;  // per batch (getppid() takes ~1 us on this VM)
  int cost_batches = 20;
  double run_seconds = 1.0;
  bool verbose = false;
  std::set<std::string> only;  // attach, rss, cost; empty: all
};

struct OneLiner {
  const char* name;
  const char* program;
};

const OneLiner kOneLiners[] = {
    {"opens (printf)",
     R"(tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); })"},
    {"syscalls by comm", "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }"},
    {"read latency hist",
     "tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; } "
     "tracepoint:syscalls:sys_exit_read /@start[tid]/ "
     "{ @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }"},
    {"profile:hz:99 kstack", "profile:hz:99 { @[kstack] = count(); }"},
    {"sched:sched* counts", "tracepoint:sched:sched* { @[probe] = count(); }"},
};
constexpr size_t kOneLinerCount = sizeof kOneLiners / sizeof kOneLiners[0];

// Samples per tool (index 0 bpftrace, 1 bpfkit) of one metric.
struct Samples {
  std::vector<double> v[2];
  std::string failure[2];
  bool broken[2] = {false, false};  // a failure that would repeat: the tool is not run again
};

void note_failure(Samples& s, int t, const std::string& what, bool broken = true) {
  if (s.failure[t].empty()) s.failure[t] = what;
  s.broken[t] = s.broken[t] || broken;
}

// fork() -> /bin/true reaped, in ms: what starting any process costs here and now.
double spawn_true_ms(double* rss_mb = nullptr) {
  std::string err = err_path_for("true");
  Child c({"/bin/true"}, err);
  Child::Exit e = c.finish(10, nullptr);
  unlink(err.c_str());
  if (rss_mb) *rss_mb = double(e.usage.ru_maxrss) * 1024 / 1e6;
  return e.ok ? e.at * 1e3 : kNaN;
}

// 1. start -> first event, start -> "Attaching" line, start -> exit; /bin/true in the same loop.
void measure_attach(const Tool* tools, const Options& o, Samples& first_event, Samples& attaching_line,
                    Samples& exited, std::vector<double>& spawn_floor) {
  const std::string program = "tracepoint:syscalls:sys_enter_getppid /pid == " + std::to_string(getpid()) +
                              R"(/ { printf("hit\n"); exit(); })";
  Trigger trigger(100, false);
  for (int run = 0; run < o.attach_runs; ++run) {
    spawn_floor.push_back(spawn_true_ms());
    for (int k = 0; k < 2; ++k) {
      int t = (run % 2) ? 1 - k : k;  // alternate which tool goes first
      if (!tools[t].available || first_event.broken[t]) continue;
      std::string err = err_path_for(tools[t].name);
      Child c(tools[t].argv(program), err);
      double hit = kNaN, attaching = kNaN;
      c.pump(mono_now() + 20, [&](const std::string& line, double at) {
        if (starts_with(line, "Attaching") && std::isnan(attaching)) attaching = at;
        if (line == "hit") {
          hit = at;
          return true;
        }
        return false;
      });
      Child::Exit e = c.finish(5, nullptr);
      if (std::isnan(hit)) {
        note_failure(first_event, t, "no event within 20 s: " + c.stderr_summary());
      } else {
        first_event.v[t].push_back(hit * 1e3);
        attaching_line.v[t].push_back(attaching * 1e3);
        if (e.ok) {
          exited.v[t].push_back(e.at * 1e3);
        } else {
          note_failure(exited, t, "did not exit within 5 s of exit(): stopped by SIGINT", false);
        }
      }
      if (o.verbose) {
        std::printf("  attach run %d %-8s: Attaching %.1f ms, first event %.1f ms, exit %.1f ms\n", run,
                    tools[t].name.c_str(), attaching * 1e3, hit * 1e3, e.at * 1e3);
      }
      unlink(err.c_str());
    }
  }
}

struct RssResult {
  Samples rss_mb[kOneLinerCount];
  Samples attaching_ms[kOneLinerCount];
  Mapped mapped[2];  // the largest seen per tool
};

// 2 and 3. Each one-liner for ~1 s after its "Attaching" line, then SIGINT.
void measure_rss(const Tool* tools, const Options& o, RssResult& r) {
  Trigger trigger(1000, true);
  for (int run = 0; run < o.rss_runs; ++run) {
    for (size_t i = 0; i < kOneLinerCount; ++i) {
      for (int k = 0; k < 2; ++k) {
        int t = ((run + int(i)) % 2) ? 1 - k : k;
        // A tool that failed a one-liner once is not made to fail it again.
        if (!tools[t].available || r.rss_mb[i].broken[t]) continue;
        std::string err = err_path_for(tools[t].name);
        Child c(tools[t].argv(kOneLiners[i].program), err);
        double attaching = kNaN;
        c.pump(mono_now() + 30, [&](const std::string& line, double at) {
          if (!starts_with(line, "Attaching")) return false;
          attaching = at;
          return true;
        });
        if (std::isnan(attaching)) {
          c.finish(5, nullptr);
          note_failure(r.rss_mb[i], t, "no \"Attaching\" line: " + c.stderr_summary());
          unlink(err.c_str());
          continue;
        }
        double attached_at = c.start() + attaching;
        c.pump(attached_at + 0.3, nullptr);
        Mapped m = mapped_files(c.pid());
        if (m.bytes > r.mapped[t].bytes) r.mapped[t] = m;
        c.pump(attached_at + o.run_seconds, nullptr);
        kill(c.pid(), SIGINT);
        uint64_t lines = 0;
        Child::Exit e = c.finish(10, [&](const std::string&, double) { return ++lines, false; });
        if (!e.ok) {
          note_failure(r.rss_mb[i], t, "did not exit within 10 s of SIGINT: " + c.stderr_summary());
        } else {
          // The peak is the peak however the tool ended; an unclean end is still reported.
          r.rss_mb[i].v[t].push_back(double(e.usage.ru_maxrss) * 1024 / 1e6);
          r.attaching_ms[i].v[t].push_back(attaching * 1e3);
          if (!WIFEXITED(e.status) || WEXITSTATUS(e.status) != 0) {
            note_failure(r.rss_mb[i], t, describe_status(e.status) + " after SIGINT: " + c.stderr_summary(),
                         false);
          }
        }
        if (o.verbose) {
          std::printf("  rss run %d %-22s %-8s: Attaching %.1f ms, peak RSS %.1f MB, %lu lines at exit\n",
                      run, kOneLiners[i].name, tools[t].name.c_str(), attaching * 1e3,
                      double(e.usage.ru_maxrss) * 1024 / 1e6, (unsigned long)lines);
        }
        unlink(err.c_str());
      }
    }
  }
}

// ns per getppid() (thread CPU time) over `batches` batches of `calls`: the fastest batch.
// Other tasks only ever add to a batch (cache and TLB misses after preemption, interrupts),
// so the lower envelope is the figure that repeats on a loaded machine.
double getppid_ns(long calls, int batches) {
  std::vector<double> per_call;
  for (int b = 0; b < batches; ++b) {
    double t0 = thread_cpu_ns();
    for (long i = 0; i < calls; ++i) syscall(SYS_getppid);
    per_call.push_back((thread_cpu_ns() - t0) / double(calls));
  }
  return *std::min_element(per_call.begin(), per_call.end());
}

// Run time and run count of the tracepoint programs a process holds, from its bpf-prog
// fds' fdinfo; the kernel counts them only while run-time statistics are on.
struct ProgStats {
  uint64_t run_ns = 0, runs = 0;
};

ProgStats tracepoint_prog_stats(pid_t pid) {
  ProgStats total;
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = opendir(dir.c_str());
  if (!d) return total;
  while (dirent* ent = readdir(d)) {
    if (ent->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + ent->d_name);
    std::string line;
    int64_t type = -1;
    ProgStats one;
    while (std::getline(in, line)) {
      auto field = [&](const char* key) { return std::strtoull(line.c_str() + strlen(key), nullptr, 10); };
      if (starts_with(line, "prog_type:")) type = int64_t(field("prog_type:"));
      else if (starts_with(line, "run_time_ns:")) one.run_ns = field("run_time_ns:");
      else if (starts_with(line, "run_cnt:")) one.runs = field("run_cnt:");
    }
    if (type == BPF_PROG_TYPE_TRACEPOINT) {
      total.run_ns += one.run_ns;
      total.runs += one.runs;
    }
  }
  closedir(d);
  return total;
}

// The kernel's BPF run-time statistics, on while this lives. BPF_ENABLE_STATS gives an
// fd (reference-counted by the kernel), so nobody else's setting is changed.
class RunTimeStats {
 public:
  RunTimeStats() {
    bpf_attr attr{};
    attr.enable_stats.type = BPF_STATS_RUN_TIME;
    fd_ = int(syscall(SYS_bpf, BPF_ENABLE_STATS, &attr, sizeof attr));
  }
  ~RunTimeStats() {
    if (fd_ >= 0) close(fd_);
  }
  RunTimeStats(const RunTimeStats&) = delete;
  RunTimeStats& operator=(const RunTimeStats&) = delete;
  bool on() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct CostResult {
  std::vector<double> base_ns;
  Samples traced_ns;
  Samples prog_ns;  // the program's own run time per event (bpf_stats), after the timed loop
  std::vector<double> round_ratio;  // bpfkit traced / bpftrace traced, per round with both
};

// 4. The counting probe: rounds of (baseline, tool A, baseline, tool B), A and B alternating.
void measure_cost(const Tool* tools, const Options& o, CostResult& r) {
  const std::string program = "tracepoint:syscalls:sys_enter_getppid { @ = count(); }";
  for (int round = 0; round < o.cost_rounds; ++round) {
    double traced_in_round[2] = {kNaN, kNaN};
    for (int k = 0; k < 2; ++k) {
      int t = (round % 2) ? 1 - k : k;
      double base = getppid_ns(o.cost_calls, o.cost_batches);
      r.base_ns.push_back(base);
      if (!tools[t].available || r.traced_ns.broken[t]) continue;
      std::string err = err_path_for(tools[t].name);
      Child c(tools[t].argv(program), err);
      double attaching = kNaN;
      c.pump(mono_now() + 30, [&](const std::string& line, double at) {
        if (!starts_with(line, "Attaching")) return false;
        attaching = at;
        return true;
      });
      if (std::isnan(attaching)) {
        c.finish(5, nullptr);
        note_failure(r.traced_ns, t, "no \"Attaching\" line: " + c.stderr_summary());
        unlink(err.c_str());
        continue;
      }
      // bpftrace prints "Attaching" before it attaches: give both tools the same settling time.
      c.pump(c.start() + attaching + 0.3, nullptr);
      getppid_ns(o.cost_calls, 2);  // warm-up
      double traced = getppid_ns(o.cost_calls, o.cost_batches);
      // Then the program alone: stats cost two clock reads per run, so not in the timed loop.
      double prog = kNaN;
      double measured = double(o.cost_calls) * o.cost_batches;  // calls since the timed loop began
      {
        ProgStats before = tracepoint_prog_stats(c.pid());
        RunTimeStats stats;
        if (stats.on()) {
          getppid_ns(o.cost_calls, 4);
          measured += double(o.cost_calls) * 4;
          ProgStats after = tracepoint_prog_stats(c.pid());
          if (after.runs > before.runs) {
            prog = double(after.run_ns - before.run_ns) / double(after.runs - before.runs);
          }
        }
      }
      kill(c.pid(), SIGINT);
      double count = kNaN;
      Child::Exit e = c.finish(10, [&](const std::string& line, double) {
        if (starts_with(line, "@: ")) count = std::strtod(line.c_str() + 3, nullptr);
        return false;
      });
      if (!e.ok || std::isnan(count)) {
        note_failure(r.traced_ns, t, "no \"@: N\" at exit: " + c.stderr_summary());
      } else if (count < measured) {
        note_failure(r.traced_ns, t, "attached late (some sessions discarded)", false);
      } else {
        r.traced_ns.v[t].push_back(traced);
        traced_in_round[t] = traced;
        if (std::isnan(prog)) {
          note_failure(r.prog_ns, t, "no run-time statistics (BPF_ENABLE_STATS, or no program fd)");
        } else {
          r.prog_ns.v[t].push_back(prog);
        }
      }
      if (o.verbose) {
        std::printf("  cost round %d %-8s: baseline %.1f ns, traced %.1f ns, program %.1f ns, @ = %.0f "
                    "(calls since the timed loop %.0f)\n",
                    round, tools[t].name.c_str(), base, traced, prog, count, measured);
      }
      unlink(err.c_str());
    }
    if (!std::isnan(traced_in_round[0]) && !std::isnan(traced_in_round[1])) {
      r.round_ratio.push_back(traced_in_round[1] / traced_in_round[0]);
    }
  }
}

// --- the table ----------------------------------------------------------------------

std::string fmt(double v, int decimals = 1) {
  if (std::isnan(v)) return "-";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

void row(const std::string& metric, double a, double b, const std::string& note = "", int decimals = 1) {
  std::string ratio = (std::isnan(a) || std::isnan(b) || a == 0) ? "-" : fmt(b / a, 3);
  std::printf("%-48s %12s %12s %8s  %s\n", metric.c_str(), fmt(a, decimals).c_str(), fmt(b, decimals).c_str(),
              ratio.c_str(), note.c_str());
}

void row(const std::string& metric, const Samples& s, const std::string& note = "", int decimals = 1) {
  row(metric, median(s.v[0]), median(s.v[1]), note, decimals);
}

std::string goal(bool known, bool met) { return !known ? "unknown" : met ? "met" : "NOT met"; }

void print_failures(const char* metric, const Samples& s, const Tool* tools) {
  for (int t = 0; t < 2; ++t) {
    if (!s.failure[t].empty()) {
      std::printf("  ! %s, %s: %s\n", metric, tools[t].name.c_str(), s.failure[t].c_str());
    }
  }
}

void usage() {
  std::fprintf(stderr,
               "usage: trace_vs_bpftrace [--bpfkit PATH] [--bpftrace PATH] [--bpfkit-arg ARG]...\n"
               "         [--attach-runs N] [--rss-runs N] [--cost-rounds N] [--cost-calls N]\n"
               "         [--only attach,rss,cost] [--verbose]\n");
  std::exit(2);
}

int run(int argc, char** argv) {
  Options o;
  Tool tools[2];
  tools[0].name = "bpftrace";
  tools[1].name = "bpfkit";
  std::string bpftrace_path = "/usr/bin/bpftrace", bpfkit_path;
  std::vector<std::string> bpfkit_args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--bpfkit") bpfkit_path = value();
    else if (a == "--bpftrace") bpftrace_path = value();
    else if (a == "--bpfkit-arg") bpfkit_args.push_back(value());
    else if (a == "--attach-runs") o.attach_runs = std::atoi(value().c_str());
    else if (a == "--rss-runs") o.rss_runs = std::atoi(value().c_str());
    else if (a == "--cost-rounds") o.cost_rounds = std::atoi(value().c_str());
    else if (a == "--cost-calls") o.cost_calls = std::atol(value().c_str());
    else if (a == "--verbose") o.verbose = true;
    else if (a == "--only") {
      std::stringstream ss(value());
      std::string part;
      while (std::getline(ss, part, ',')) o.only.insert(part);
    } else usage();
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "trace_vs_bpftrace: needs root (both tools load BPF programs)\n");
    return 1;
  }
  auto wanted = [&](const char* m) { return o.only.empty() || o.only.count(m); };

  tools[0].before = {bpftrace_path, "-e"};
  tools[1].before = {bpfkit_path, "trace", "-e"};
  tools[1].after = bpfkit_args;
  std::string why;
  if (access(bpftrace_path.c_str(), X_OK) != 0) {
    tools[0].why_missing = bpftrace_path + " is not installed";
  } else if (!runs_ok({bpftrace_path, "--version"}, &why)) {
    tools[0].why_missing = "`bpftrace --version` failed: " + why;
  } else {
    tools[0].available = true;
  }
  if (bpfkit_path.empty() || access(bpfkit_path.c_str(), X_OK) != 0) {
    tools[1].why_missing = "no bpfkit binary (--bpfkit PATH)";
  } else if (!runs_ok({bpfkit_path, "trace", "--help"}, &why)) {
    tools[1].why_missing = "`bpfkit trace --help` failed (no trace command yet?): " + why;
  } else {
    tools[1].available = true;
  }
  for (const Tool& t : tools) {
    if (!t.available) std::printf("skipping %s: %s\n", t.name.c_str(), t.why_missing.c_str());
  }
  if (!tools[0].available && !tools[1].available) return 1;

  utsname u{};
  uname(&u);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("trace_vs_bpftrace: kernel %s, %ld CPUs, load average %.2f; bpftrace %s, bpfkit %s\n",
              u.release, sysconf(_SC_NPROCESSORS_ONLN), load[0], bpftrace_path.c_str(),
              bpfkit_path.empty() ? "-" : bpfkit_path.c_str());
  std::fflush(stdout);

  // The floor under ru_maxrss: a fork()ed copy of this harness exec'ing /bin/true.
  double floor_mb = kNaN;
  spawn_true_ms(&floor_mb);

  Samples first_event, attaching_line, exited;
  std::vector<double> spawn_floor;
  RssResult rss;
  CostResult cost;
  double t0 = mono_now();
  if (wanted("attach")) measure_attach(tools, o, first_event, attaching_line, exited, spawn_floor);
  double t1 = mono_now();
  if (wanted("rss")) measure_rss(tools, o, rss);
  double t2 = mono_now();
  if (wanted("cost")) measure_cost(tools, o, cost);
  double t3 = mono_now();

  std::printf("\nmedians; ratio = bpfkit / bpftrace (below 1: bpfkit smaller or faster); MB = 10^6 bytes\n");
  std::printf("%-48s %12s %12s %8s  %s\n", "metric", "bpftrace", "bpfkit", "ratio", "goal (bpfkit)");
  std::printf("%s\n", std::string(100, '-').c_str());
  double attach_goal = median(first_event.v[1]);
  if (wanted("attach")) {
    std::printf("getppid printf probe that exits (%d runs each, %.0f s):\n", o.attach_runs, t1 - t0);
    row("  start -> first event, ms (attach upper bound)", first_event,
        "attached within 20 ms: " + goal(!std::isnan(attach_goal), attach_goal <= 20));
    double attaching_goal = median(attaching_line.v[1]);
    row("  start -> \"Attaching\" line, ms", attaching_line,
        "(bpftrace prints it before attaching, bpfkit after): " +
            goal(!std::isnan(attaching_goal), attaching_goal <= 20));
    row("  start -> exit after the event, ms", exited);
    double spawn = median(spawn_floor);
    std::printf("%-48s %12s %12s %8s  %s\n", "  (fork -> /bin/true reaped, ms)", fmt(spawn).c_str(),
                fmt(spawn).c_str(), "", "(starting any process, measured in the same loop)");
  }
  double worst_rss = kNaN;
  if (wanted("rss")) {
    std::printf("one-liners run %.1f s after \"Attaching\", then SIGINT (%d runs each, %.0f s):\n",
                o.run_seconds, o.rss_runs, t2 - t1);
    for (size_t i = 0; i < kOneLinerCount; ++i) {
      row(std::string("  peak RSS, MB: ") + kOneLiners[i].name, rss.rss_mb[i]);
      double m = median(rss.rss_mb[i].v[1]);
      if (!std::isnan(m)) worst_rss = std::isnan(worst_rss) ? m : std::max(worst_rss, m);
    }
    bool all = true;
    for (size_t i = 0; i < kOneLinerCount; ++i) all = all && !rss.rss_mb[i].v[1].empty();
    std::printf("%-48s %12s %12s %8s  under 10 MB RSS: %s\n", "  (largest bpfkit median)", "",
                fmt(worst_rss).c_str(), "",
                all ? goal(true, worst_rss < 10).c_str() : "unknown (not every one-liner ran)");
    for (size_t i = 0; i < kOneLinerCount; ++i) {
      row(std::string("  start -> \"Attaching\", ms: ") + kOneLiners[i].name, rss.attaching_ms[i]);
    }
    auto mb = [](uint64_t b, bool ok) { return ok ? double(b) / 1e6 : kNaN; };
    const Mapped& a = rss.mapped[0];
    const Mapped& b = rss.mapped[1];
    row("  mapped files, MB (sum of st_size)", mb(a.bytes, a.ok), mb(b.bytes, b.ok));
    row("  mapped files, MB (ELF PT_LOAD bytes)", mb(a.load_bytes, a.ok), mb(b.load_bytes, b.ok));
    row("  mapped files, count", a.ok ? double(a.files) : kNaN, b.ok ? double(b.files) : kNaN, "", 0);
    row("  executable alone, MB (st_size)", mb(a.exe_bytes, a.ok), mb(b.exe_bytes, b.ok));
    double exe_load = mb(b.exe_load_bytes, b.ok);
    row("  executable alone, MB (PT_LOAD, as stripped)", mb(a.exe_load_bytes, a.ok), exe_load,
        "one binary under 10 MB: " + goal(b.ok, exe_load < 10));
  }
  if (wanted("cost")) {
    std::printf("getppid() with `sys_enter_getppid { @ = count(); }` (%d rounds x %d x %ld calls, %.0f s):\n",
                o.cost_rounds, o.cost_batches, o.cost_calls, t3 - t2);
    double base = median(cost.base_ns);
    std::printf("%-48s %12s %12s %8s  %s\n", "  ns per getppid(), no tracing", fmt(base).c_str(),
                fmt(base).c_str(), "", "(one baseline, measured before each session)");
    row("  ns per getppid(), probe attached", cost.traced_ns);
    // Baselines drift by ~10% between minutes here: the added cost is taken between
    // medians (all baselines, each tool's sessions), not within a round.
    double a = median(cost.traced_ns.v[0]) - base, b = median(cost.traced_ns.v[1]) - base;
    std::string spread;
    if (!cost.round_ratio.empty()) {
      auto [lo, hi] = std::minmax_element(cost.round_ratio.begin(), cost.round_ratio.end());
      spread = " (per-round attached-time ratios " + fmt(*lo, 2) + "-" + fmt(*hi, 2) + ")";
      if (b > a && *lo <= 1.0) spread += ", within the rounds' spread";
    }
    row("  added ns per syscall", a, b,
        "no worse than bpftrace: " + goal(!std::isnan(a) && !std::isnan(b), b <= a) + spread);
    double pa = median(cost.prog_ns.v[0]), pb = median(cost.prog_ns.v[1]);
    row("  the BPF program alone, ns per run (bpf_stats)", pa, pb,
        "program no slower than bpftrace's: " + goal(!std::isnan(pa) && !std::isnan(pb), pb <= pa));
  }
  std::printf("%s\n", std::string(100, '-').c_str());
  std::printf("notes: ru_maxrss cannot go below the exec'ing copy of this harness "
              "(/bin/true spawned the same way: %.1f MB).\n", floor_mb);
  for (int t = 0; t < 2; ++t) {
    if (!tools[t].available) {
      std::printf("  %s skipped: %s\n", tools[t].name.c_str(), tools[t].why_missing.c_str());
    }
  }
  print_failures("start -> first event", first_event, tools);
  print_failures("exit after the event", exited, tools);
  for (size_t i = 0; i < kOneLinerCount; ++i) print_failures(kOneLiners[i].name, rss.rss_mb[i], tools);
  print_failures("counting probe", cost.traced_ns, tools);
  print_failures("counting probe's run time", cost.prog_ns, tools);
  if (o.verbose) {
    for (int t = 0; t < 2; ++t) {
      for (const auto& [size, path] : rss.mapped[t].largest) {
        std::printf("  %s maps %s (%.1f MB)\n", tools[t].name.c_str(), path.c_str(), double(size) / 1e6);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace bpfkit::bench

int main(int argc, char** argv) { return bpfkit::bench::run(argc, argv); }
