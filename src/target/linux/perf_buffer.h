// Consuming a BPF_MAP_TYPE_PERF_EVENT_ARRAY from user space, as libbpf's
// perf_buffer does, without libbpf: for every online CPU a software perf event
// (PERF_COUNT_SW_BPF_OUTPUT, raw samples, a wakeup per sample) whose ring of
// 1 + 2^n pages is mmap()ed, its fd stored at the CPU's index of the map (where
// bpf_perf_event_output with BPF_F_CURRENT_CPU writes), and epoll over all of them.
//
// Ordering: data_head is loaded with acquire (the kernel stores it after the
// records), data_tail stored with release once a record has been read, so the
// kernel never overwrites unread bytes (the mapping is writable: no overwrite mode).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/ring_buffer.h"

namespace bpfkit::target::linux_kernel {

// A perf buffer that cannot be set up or read; the message names the map (and CPU).
class PerfBufferError : public Error {
 public:
  using Error::Error;
};

// One PERF_RECORD_SAMPLE's raw data (what the program passed to
// bpf_perf_event_output; the kernel pads it, so it may be up to 7 bytes longer
// than what was passed, and its size is given as the kernel recorded it). Returning
// nonzero stops consumption after this sample.
using PerfSampleCallback = std::function<int(uint32_t cpu, std::span<const uint8_t> data)>;
// A PERF_RECORD_LOST: `count` samples on `cpu` were dropped because the ring was full.
using PerfLostCallback = std::function<void(uint32_t cpu, uint64_t count)>;

struct PerfBufferOptions {
  size_t page_count = 8;     // data pages per CPU: a power of two
  PerfLostCallback on_lost;  // optional; lost() counts in any case
  std::string name;          // for errors; empty: the kernel's name of the map
  // CPUs to open; empty: every online CPU (/sys/devices/system/cpu/online) that
  // the map has an index for.
  std::vector<uint32_t> cpus;
};

class PerfBuffer {
 public:
  // Opens the events and stores their fds in the map. Throws PerfBufferError. The
  // map fd is not owned, and must stay open while the buffer lives: the destructor
  // removes the entries through it.
  PerfBuffer(int map_fd, PerfSampleCallback on_sample, PerfBufferOptions options = {});
  // Removes the fds from the map, unmaps and closes the events.
  ~PerfBuffer();
  PerfBuffer(const PerfBuffer&) = delete;
  PerfBuffer& operator=(const PerfBuffer&) = delete;

  // Waits up to `timeout_ms` (-1: forever) for a wakeup, then reads the CPUs that
  // have data. An interrupted wait (EINTR) returns nothing.
  ConsumeResult poll(int timeout_ms);
  // Reads every CPU's ring without waiting.
  ConsumeResult consume();
  // Reads one CPU's ring (the index in cpus()).
  ConsumeResult consume_buffer(size_t index);

  const std::vector<uint32_t>& cpus() const { return cpus_; }
  uint64_t lost() const { return lost_; }  // samples reported lost so far, all CPUs
  const std::string& name() const { return name_; }
  int epoll_fd() const { return epoll_fd_.get(); }

 private:
  struct CpuRing {
    uint32_t cpu = 0;
    UniqueFd event_fd;
    void* base = nullptr;  // the metadata page, then the data pages
    bool in_map = false;
  };
  void open_cpu(uint32_t cpu);
  void close_cpu(CpuRing& ring);

  int map_fd_;
  std::string name_;
  PerfSampleCallback on_sample_;
  PerfLostCallback on_lost_;
  size_t page_size_ = 0;
  size_t page_count_ = 0;
  UniqueFd epoll_fd_;
  std::vector<CpuRing> rings_;
  std::vector<uint32_t> cpus_;
  std::vector<uint8_t> scratch_;  // a record wrapping the end of the ring, made contiguous
  uint64_t lost_ = 0;
};

// The online CPUs, from /sys/devices/system/cpu/online ("0-3,5"). Throws
// PerfBufferError when the file is unreadable or malformed.
std::vector<uint32_t> online_cpus();
// Parses a CPU list as the kernel prints it ("0-3,5\n"); empty for malformed text.
std::vector<uint32_t> parse_cpu_list(std::string_view text);

}  // namespace bpfkit::target::linux_kernel
