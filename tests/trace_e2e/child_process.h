// Runs a tracer (bpfkit trace or bpftrace) the way a person does: start it, wait until
// it says its probes are attached, run the trigger commands, give the events a moment,
// press Ctrl-C (SIGINT) — and never hang: past the deadline everything is SIGKILLed.
#pragma once

#include <string>
#include <vector>

namespace bpfkit::trace_e2e {

struct TracerRun {
  std::vector<std::string> argv;
  std::vector<std::string> triggers;  // /bin/sh -c commands, run in turn once attached
  std::string trigger_log;            // file receiving the triggers' stdout and stderr
  double settle_seconds = 0.3;        // after the last trigger, before SIGINT
  // From "Attaching" to the first trigger: bpftrace prints the line before it attaches.
  double attach_grace_seconds = 0;
  double timeout_seconds = 10;  // hard limit for everything
};

struct TracerResult {
  std::string out;       // stdout
  std::string err;       // stderr
  int exit_status = -1;  // when it exited normally
  int signal = 0;        // when a signal ended it
  bool attached = false;
  bool sent_sigint = false;
  bool timed_out = false;           // SIGKILLed at the deadline
  std::vector<int> trigger_status;  // each trigger's exit status (-1: killed or not run)
  double seconds = 0;               // wall time
  double attach_seconds = -1;       // start to "Attaching"
  std::string describe() const;     // a summary for failure messages
};

TracerResult run_tracer(const TracerRun& run);

}  // namespace bpfkit::trace_e2e
