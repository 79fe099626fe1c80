#include "target/linux/trace_pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "target/linux/tracefs.h"
#include "target/target.h"

namespace bpfkit::target::linux_kernel {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// A poll() reads at most this much, so a flood of output cannot hold the caller.
constexpr size_t kReadLimit = 1024 * 1024;
// A "line" longer than this without a newline is not trace_pipe output: cut it.
constexpr size_t kMaxLine = 64 * 1024;

}  // namespace

TracePipe::TracePipe(TracePipeOptions options) : options_(std::move(options)) {
  if (options_.path.empty()) {
    try {
      path_ = tracefs_path() + "/trace_pipe";
    } catch (const TargetError& e) {
      throw TracePipeError(std::string("cannot read bpf_printk output: ") + e.what());
    }
  } else {
    path_ = options_.path;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.busy_wait_ms);
  fd_.reset(open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  while (!fd_ && errno == EBUSY && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fd_.reset(open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  }
  if (!fd_) {
    const int err = errno;
    const char* hint = err == EACCES || err == EPERM ? " (reading it needs root)"
                       : err == EBUSY
                           ? " (another process is reading it: the kernel allows one reader at a time)"
                           : "";
    throw TracePipeError("cannot open " + path_ + " to read bpf_printk output: " + std::strerror(err) + hint,
                         err);
  }
}

void TracePipe::deliver(std::string_view line, const std::function<void(const TraceLine&)>& on_line,
                        size_t& delivered) {
  if (line.empty()) return;
  std::optional<TraceLine> parsed = parse_trace_line(line);
  if (!parsed) {
    if (const auto lost = parse_trace_lost_line(line)) {
      lost_events_ += lost->count;
    } else {
      ++unparsed_lines_;
    }
    return;
  }
  if (options_.printk_only && parsed->event != "bpf_trace_printk") return;
  if (options_.pid && parsed->pid != *options_.pid && parsed->tgid != options_.pid) return;
  ++delivered;
  on_line(*parsed);
}

size_t TracePipe::poll(int timeout_ms, const std::function<void(const TraceLine&)>& on_line) {
  pollfd p{fd_.get(), POLLIN, 0};
  const int ready = ::poll(&p, 1, timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) return 0;
    throw TracePipeError("waiting on " + path_ + " failed: " + std::strerror(errno), errno);
  }
  size_t delivered = 0;
  if (ready == 0) return 0;
  char buf[kReadChunk];
  for (size_t total = 0; total < kReadLimit;) {
    const ssize_t n = read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      throw TracePipeError("reading " + path_ + " failed: " + std::strerror(errno), errno);
    }
    if (n == 0) break;
    total += size_t(n);
    pending_.append(buf, size_t(n));
    // Complete lines leave pending_ before any is delivered: a callback that throws
    // loses the rest of this read, not the stream's line boundaries.
    const size_t end = pending_.rfind('\n');
    std::string lines;
    if (end != std::string::npos) {
      lines = pending_.substr(0, end + 1);
      pending_.erase(0, end + 1);
    }
    if (pending_.size() > kMaxLine) {
      lines += pending_ + "\n";
      pending_.clear();
    }
    size_t start = 0;
    for (size_t nl = lines.find('\n'); nl != std::string::npos; nl = lines.find('\n', start)) {
      deliver(std::string_view(lines).substr(start, nl - start), on_line, delivered);
      start = nl + 1;
    }
  }
  return delivered;
}

}  // namespace bpfkit::target::linux_kernel
