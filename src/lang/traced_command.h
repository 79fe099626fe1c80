// The command of `trace -c CMD`: started before the script is compiled (its pid is
// the `cpid` builtin), held until the probes are attached, then let go; the trace ends
// when it exits. Run through /bin/sh -c 'exec CMD' so quoting works and the pid stays.
#pragma once

#include <string>

namespace bpfkit::lang {

class TracedCommand {
 public:
  explicit TracedCommand(const std::string& command);
  ~TracedCommand();  // kills and reaps the command if it still runs
  TracedCommand(const TracedCommand&) = delete;
  TracedCommand& operator=(const TracedCommand&) = delete;

  int pid() const { return pid_; }
  void start();   // lets it exec
  bool exited();  // reaped already or now

 private:
  int go_[2] = {-1, -1};
  int pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

}  // namespace bpfkit::lang
