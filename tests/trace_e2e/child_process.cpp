#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <sstream>

namespace bpfkit::trace_e2e {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// fork + exec in a new process group (so a deadline can kill all it started), with
// stdin from /dev/null and stdout/stderr to the given fds.
pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  // Tracers react to SIGINT; an inherited SIG_IGN would make them unstoppable.
  signal(SIGINT, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  execvp(cargv[0], cargv.data());
  dprintf(2, "cannot run %s: %s\n", cargv[0], strerror(errno));
  _exit(127);
}

bool is_attached_line(const std::string& out) {
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) break;  // only whole lines
    std::string_view line(out.data() + pos, nl - pos);
    if (line.rfind("Attaching ", 0) == 0 || line.find("\"attached_probes\"") != std::string_view::npos)
      return true;
    pos = nl + 1;
  }
  return false;
}

}  // namespace

TracerResult run_tracer(const TracerRun& run) {
  TracerResult r;
  const auto start = Clock::now();
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.err = "pipe() failed";
    return r;
  }
  pid_t pid = spawn(run.argv, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    r.err = "fork() failed";
    close(out_pipe[0]);
    close(err_pipe[0]);
    return r;
  }
  setpgid(pid, pid);  // also from here: no race with the child's own call

  int log_fd = -1;
  if (!run.trigger_log.empty())
    log_fd = open(run.trigger_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) log_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

  r.trigger_status.assign(run.triggers.size(), -1);
  size_t next_trigger = 0;
  pid_t trigger = -1;
  Clock::time_point settle_until{};
  bool settling = false;
  bool exited = false, out_open = true, err_open = true;
  Clock::time_point exited_at{};
  int wstatus = 0;

  auto kill_trigger = [&] {
    if (trigger > 0) {
      kill(-trigger, SIGKILL);
      waitpid(trigger, nullptr, 0);
      trigger = -1;
    }
  };

  for (;;) {
    // Read what is there (up to 20 ms of waiting).
    pollfd fds[2];
    int n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (n > 0) poll(fds, n, 20);
    for (int i = 0; i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      bool is_out = fds[i].fd == out_pipe[0];
      if (got > 0) {
        (is_out ? r.out : r.err).append(buf, size_t(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        (is_out ? out_open : err_open) = false;
      }
    }
    if (n == 0) usleep(20000);

    if (!exited && waitpid(pid, &wstatus, WNOHANG) == pid) {
      exited = true;
      exited_at = Clock::now();
    }
    if (exited && !out_open && !err_open) break;
    // Something the tracer started (-c CMD) may keep the pipes open after it exited.
    if (exited && since(exited_at) > 0.5) break;

    if (!r.attached && is_attached_line(r.out)) {
      r.attached = true;
      r.attach_seconds = since(start);
    }
    // Triggers: one at a time, once attached.
    if (trigger > 0) {
      int ts = 0;
      if (waitpid(trigger, &ts, WNOHANG) == trigger) {
        r.trigger_status[next_trigger - 1] = WIFEXITED(ts) ? WEXITSTATUS(ts) : -1;
        trigger = -1;
        if (next_trigger == run.triggers.size()) {
          settling = true;
          settle_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(run.settle_seconds));
        }
      }
    }
    if (exited) {
      kill_trigger();
    } else if (r.attached && trigger < 0 && next_trigger < run.triggers.size() &&
               since(start) >= r.attach_seconds + run.attach_grace_seconds) {
      trigger = spawn({"/bin/sh", "-c", run.triggers[next_trigger]}, log_fd, log_fd);
      if (trigger > 0) setpgid(trigger, trigger);
      ++next_trigger;
    }
    if (!exited && settling && !r.sent_sigint && Clock::now() >= settle_until) {
      kill(pid, SIGINT);
      r.sent_sigint = true;
    }

    if (since(start) > run.timeout_seconds) {
      kill_trigger();
      if (!exited) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &wstatus, 0);
        exited = true;
      }
      r.timed_out = true;
      // Drain what is left without blocking.
      for (int fd : {out_pipe[0], err_pipe[0]}) {
        fcntl(fd, F_SETFL, O_NONBLOCK);
        char buf[8192];
        ssize_t got;
        while ((got = read(fd, buf, sizeof buf)) > 0)
          (fd == out_pipe[0] ? r.out : r.err).append(buf, size_t(got));
      }
      break;
    }
  }
  kill_trigger();
  kill(-pid, SIGKILL);  // leftovers of -c CMD and the like
  close(out_pipe[0]);
  close(err_pipe[0]);
  close(log_fd);
  if (WIFEXITED(wstatus)) r.exit_status = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) r.signal = WTERMSIG(wstatus);
  r.seconds = since(start);
  return r;
}

std::string TracerResult::describe() const {
  std::ostringstream s;
  s << "exit status " << exit_status;
  if (signal) s << ", killed by signal " << signal;
  if (timed_out) s << ", TIMED OUT (SIGKILLed)";
  s << (attached ? ", attached after " + std::to_string(attach_seconds) + " s" : ", never printed Attaching");
  if (sent_sigint) s << ", stopped with SIGINT";
  for (size_t i = 0; i < trigger_status.size(); ++i)
    s << ", trigger " << i + 1 << " status " << trigger_status[i];
  s << ", " << seconds << " s\n--- stdout ---\n" << out << "--- stderr ---\n" << err << "---";
  return s.str();
}

}  // namespace bpfkit::trace_e2e
