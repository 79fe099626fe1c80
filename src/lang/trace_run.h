// Runs a compiled script on a target, as bpftrace runs one: load every program,
// attach the kernel probes (Linux target), run BEGIN, stream the events the probes
// send (printf, time, join, print, clear, exit, ...) until exit(), Ctrl-C, the
// traced command's end or the duration, then run END and print every map. Links
// are detached on every way out.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/codegen.h"
#include "lang/source.h"
#include "lang/traced_command.h"
#include "target/target.h"

namespace bpfkit::lang {

struct TraceRunOptions {
  bool json = false;     // -f json: bpftrace's NDJSON
  bool on_linux = true;    // the target is the kernel (attach probes); false: the userspace target
  int pid = -1;          // -p: uprobes and profile of one process
  TracedCommand* command = nullptr;  // -c: started once attached; the trace stops when it exits
  double duration_s = 0;             // stop after this long (0: until exit() / Ctrl-C)
  std::function<void(std::string_view)> write;  // stdout
  const std::atomic<bool>* interrupted = nullptr;  // set by a SIGINT/SIGTERM handler
};

// Returns the exit status (0, or 1 when the traced command could not start). Throws
// SemanticError when the kernel's verifier refuses a probe (located at the script line
// that produced the refused instruction) and TargetError for other load/attach failures.
int run_trace(const Source& source, const CompiledScript& script, target::Target& target,
              const TraceRunOptions& options);

// The script location of the instruction a kernel verifier log ends on ("12: (85) call ..."),
// or std::nullopt when the log names none.
std::optional<size_t> rejected_instruction(std::string_view verifier_log);

}  // namespace bpfkit::lang
