// Reading bpf_printk output: tracefs' trace_pipe, opened non-blocking and waited on
// with poll(2), split into lines and parsed (trace_pipe_line.h). Reading trace_pipe
// consumes what it returns, and the kernel lets one reader at a time open it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/error.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/trace_pipe_line.h"

namespace bpfkit::target::linux_kernel {

// trace_pipe cannot be opened or read; one sentence saying why and what to do.
class TracePipeError : public Error {
 public:
  explicit TracePipeError(const std::string& what, int error_number = 0)
      : Error(what), errno_(error_number) {}
  // The errno of the failed call (EBUSY: another process is reading trace_pipe), or 0.
  int error_number() const { return errno_; }

 private:
  int errno_;
};

struct TracePipeOptions {
  // Only lines of this task or process (the line's pid, or its tgid when shown).
  std::optional<int32_t> pid;
  // Only bpf_trace_printk lines (bpf_printk, bpf_trace_vprintk); false: every line
  // that parses (other trace events enabled in tracefs too).
  bool printk_only = true;
  // The file to read; empty: trace_pipe in tracefs (mounted when it is not).
  std::string path;
  // While another process holds trace_pipe (the kernel admits one reader), keep trying
  // to open it this long before giving up with EBUSY.
  int busy_wait_ms = 0;
};

class TracePipe {
 public:
  // Opens trace_pipe. Throws TracePipeError (no tracefs, not root...).
  explicit TracePipe(TracePipeOptions options = {});

  // Waits up to `timeout_ms` (-1: forever, 0: not at all) for output, reads what
  // there is, and delivers every complete line that passes the filters. Returns how
  // many lines were delivered. An interrupted wait (EINTR) returns 0.
  size_t poll(int timeout_ms, const std::function<void(const TraceLine&)>& on_line);

  // Events the kernel dropped because its trace buffer was full ("[LOST N EVENTS]").
  uint64_t lost_events() const { return lost_events_; }
  // Lines that did not parse (other tracers' formats); they are not delivered.
  uint64_t unparsed_lines() const { return unparsed_lines_; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

 private:
  void deliver(std::string_view line, const std::function<void(const TraceLine&)>& on_line,
               size_t& delivered);

  TracePipeOptions options_;
  std::string path_;
  UniqueFd fd_;
  std::string pending_;  // a line not yet ended by a newline
  uint64_t lost_events_ = 0;
  uint64_t unparsed_lines_ = 0;
};

}  // namespace bpfkit::target::linux_kernel
