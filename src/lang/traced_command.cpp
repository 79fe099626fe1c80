#include "lang/traced_command.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "target/target.h"

namespace bpfkit::lang {

TracedCommand::TracedCommand(const std::string& command) {
  if (pipe(go_) != 0) throw target::TargetError("cannot start '" + command + "': " + std::strerror(errno));
  pid_ = fork();
  if (pid_ < 0) throw target::TargetError("cannot start '" + command + "': " + std::strerror(errno));
  if (pid_ == 0) {
    close(go_[1]);
    char byte;
    if (read(go_[0], &byte, 1) != 1) _exit(127);  // the tracer went away before attaching
    close(go_[0]);
    std::string exec = "exec " + command;
    execl("/bin/sh", "sh", "-c", exec.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "bpfkit trace: cannot run /bin/sh: %s\n", std::strerror(errno));
    _exit(127);
  }
  close(go_[0]);
  go_[0] = -1;
}

TracedCommand::~TracedCommand() {
  if (go_[1] >= 0) close(go_[1]);
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

void TracedCommand::start() {
  if (go_[1] < 0) return;
  char byte = 1;
  if (write(go_[1], &byte, 1) != 1) {
    // The child is gone; exited() reports it.
  }
  close(go_[1]);
  go_[1] = -1;
}

bool TracedCommand::exited() {
  if (!exited_ && waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
  return exited_;
}

}  // namespace bpfkit::lang
