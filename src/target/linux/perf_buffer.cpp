#include "target/linux/perf_buffer.h"

#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

#include "target/linux/bpf_map_syscall.h"
#include "target/linux/event_map_info.h"

namespace bpfkit::target::linux_kernel {
namespace {

std::string errno_text(int error_number) { return std::string(std::strerror(error_number)); }

// Copies `n` bytes at ring offset `offset`, continuing at the ring's start when
// they run past its end.
void copy_from_ring(const uint8_t* ring, uint64_t ring_size, uint64_t offset, void* out, size_t n) {
  const size_t first = size_t(std::min<uint64_t>(n, ring_size - offset));
  std::memcpy(out, ring + offset, first);
  if (first < n) std::memcpy(static_cast<uint8_t*>(out) + first, ring, n - first);
}

}  // namespace

std::vector<uint32_t> parse_cpu_list(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::vector<uint32_t> out;
  if (text.empty()) return out;
  auto number = [](std::string_view s, uint32_t& v) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty() && v < (1u << 20);
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    const size_t dash = item.find('-');
    uint32_t lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (!number(item, lo)) return {};
      hi = lo;
    } else if (!number(item.substr(0, dash), lo) || !number(item.substr(dash + 1), hi) || hi < lo) {
      return {};
    }
    for (uint32_t c = lo; c <= hi; ++c) out.push_back(c);
    pos = comma + 1;
  }
  return out;
}

std::vector<uint32_t> online_cpus() {
  static const char* kPath = "/sys/devices/system/cpu/online";
  std::ifstream in(kPath);
  if (!in) throw PerfBufferError(std::string("cannot read ") + kPath + ": " + errno_text(errno));
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  std::vector<uint32_t> cpus = parse_cpu_list(text);
  if (cpus.empty()) throw PerfBufferError(std::string(kPath) + ": unexpected CPU list '" + text + "'");
  return cpus;
}

PerfBuffer::PerfBuffer(int map_fd, PerfSampleCallback on_sample, PerfBufferOptions options)
    : map_fd_(map_fd), on_sample_(std::move(on_sample)), on_lost_(std::move(options.on_lost)) {
  EventMapInfo info;
  try {
    info = query_event_map(map_fd, options.name);
  } catch (const BpfError& e) {
    throw PerfBufferError(std::string("perf buffer: ") + e.what());
  }
  name_ = info.name;
  if (info.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
    throw PerfBufferError("map '" + name_ + "' is a " + event_map_type_name(info.type) +
                          ", not a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY)");
  }
  page_count_ = options.page_count;
  if (page_count_ == 0 || (page_count_ & (page_count_ - 1)) != 0) {
    throw PerfBufferError("perf buffer '" + name_ + "': " + std::to_string(page_count_) +
                          " pages per CPU: the count must be a power of two");
  }
  page_size_ = size_t(sysconf(_SC_PAGESIZE));
  if (options.cpus.empty()) {
    for (uint32_t cpu : online_cpus()) {
      if (cpu < info.max_entries) cpus_.push_back(cpu);
    }
    if (cpus_.empty()) {
      throw PerfBufferError("perf buffer '" + name_ + "': the map has " + std::to_string(info.max_entries) +
                            " entries, none for an online CPU");
    }
  } else {
    for (uint32_t cpu : options.cpus) {
      if (cpu >= info.max_entries) {
        throw PerfBufferError("perf buffer '" + name_ + "': CPU " + std::to_string(cpu) +
                              " is beyond the map's " + std::to_string(info.max_entries) + " entries");
      }
    }
    cpus_ = options.cpus;
  }
  epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_)
    throw PerfBufferError("perf buffer '" + name_ + "': epoll_create1 failed: " + errno_text(errno));
  try {
    for (uint32_t cpu : cpus_) open_cpu(cpu);
  } catch (...) {
    for (CpuRing& r : rings_) close_cpu(r);
    throw;
  }
}

PerfBuffer::~PerfBuffer() {
  for (CpuRing& r : rings_) close_cpu(r);
}

void PerfBuffer::open_cpu(uint32_t cpu) {
  const std::string where = "perf buffer '" + name_ + "', CPU " + std::to_string(cpu);
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_BPF_OUTPUT;
  attr.sample_type = PERF_SAMPLE_RAW;
  attr.sample_period = 1;
  attr.wakeup_events = 1;  // a wakeup for every sample
  rings_.push_back({});
  CpuRing& ring = rings_.back();
  ring.cpu = cpu;
  const long fd = syscall(__NR_perf_event_open, &attr, -1, int(cpu), -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw PerfBufferError(where + ": perf_event_open failed: " + errno_text(err) +
                          (err == EACCES || err == EPERM
                               ? " (needs root or CAP_PERFMON, or a lower kernel.perf_event_paranoid)"
                               : ""));
  }
  ring.event_fd.reset(int(fd));
  void* base = mmap(nullptr, page_size_ * (1 + page_count_), PROT_READ | PROT_WRITE, MAP_SHARED, int(fd), 0);
  if (base == MAP_FAILED) {
    const int err = errno;
    throw PerfBufferError(
        where + ": mmap of " + std::to_string(1 + page_count_) + " pages failed: " + errno_text(err) +
        (err == EPERM ? " (over the locked-memory limit, kernel.perf_event_mlock_kb)" : ""));
  }
  ring.base = base;
  if (ioctl(int(fd), PERF_EVENT_IOC_ENABLE, 0) < 0) {
    throw PerfBufferError(where + ": enabling the event failed: " + errno_text(errno));
  }
  const uint32_t key = cpu, value = uint32_t(fd);
  if (const int rc = map_update_elem(map_fd_, &key, &value, BPF_ANY)) {
    throw PerfBufferError(where + ": storing the event's fd in the map failed: " + errno_text(-rc));
  }
  ring.in_map = true;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = rings_.size() - 1;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, int(fd), &ev) < 0) {
    throw PerfBufferError(where + ": epoll_ctl failed: " + errno_text(errno));
  }
}

void PerfBuffer::close_cpu(CpuRing& ring) {
  if (ring.in_map) {
    const uint32_t key = ring.cpu;
    map_delete_elem(map_fd_, &key);  // the map may be gone already: nothing to undo then
    ring.in_map = false;
  }
  if (ring.event_fd) ioctl(ring.event_fd.get(), PERF_EVENT_IOC_DISABLE, 0);
  if (ring.base) munmap(ring.base, page_size_ * (1 + page_count_));
  ring.base = nullptr;
  ring.event_fd.reset();
}

ConsumeResult PerfBuffer::consume_buffer(size_t index) {
  CpuRing& ring = rings_.at(index);
  ConsumeResult result;
  auto* meta = static_cast<perf_event_mmap_page*>(ring.base);
  // data_offset/data_size are set by kernels since 4.1; before, data started at a page.
  const uint64_t data_offset = meta->data_offset ? meta->data_offset : page_size_;
  const uint64_t data_size = meta->data_size ? meta->data_size : page_size_ * page_count_;
  const uint8_t* data = static_cast<const uint8_t*>(ring.base) + data_offset;
  uint64_t tail = __atomic_load_n(&meta->data_tail, __ATOMIC_RELAXED);  // only we write it
  for (bool progressed = true; progressed;) {
    progressed = false;
    const uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    while (tail < head) {
      const uint64_t offset = tail & (data_size - 1);
      perf_event_header header;
      copy_from_ring(data, data_size, offset, &header, sizeof header);
      if (header.size < sizeof header || header.size > head - tail) {
        throw PerfBufferError("perf buffer '" + name_ + "', CPU " + std::to_string(ring.cpu) +
                              ": record at " + std::to_string(tail) + " has size " +
                              std::to_string(header.size) + " with " + std::to_string(head - tail) +
                              " bytes written");
      }
      const uint8_t* record = data + offset;
      if (offset + header.size > data_size) {  // wraps: make it contiguous
        scratch_.resize(header.size);
        copy_from_ring(data, data_size, offset, scratch_.data(), header.size);
        record = scratch_.data();
      }
      int stop = 0;
      if (header.type == PERF_RECORD_SAMPLE && header.size >= sizeof header + sizeof(uint32_t)) {
        uint32_t raw_size;
        std::memcpy(&raw_size, record + sizeof header, sizeof raw_size);
        const size_t room = header.size - sizeof header - sizeof raw_size;
        ++result.records;
        stop = on_sample_(ring.cpu,
                          {record + sizeof header + sizeof raw_size, std::min<size_t>(raw_size, room)});
      } else if (header.type == PERF_RECORD_LOST && header.size >= sizeof header + 2 * sizeof(uint64_t)) {
        uint64_t count;  // after the event id
        std::memcpy(&count, record + sizeof header + sizeof(uint64_t), sizeof count);
        lost_ += count;
        if (on_lost_) on_lost_(ring.cpu, count);
      }
      tail += header.size;
      // After the record has been read: the kernel may now write over it.
      __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
      progressed = true;
      if (stop) {
        result.stopped_by = stop;
        return result;
      }
    }
  }
  return result;
}

ConsumeResult PerfBuffer::consume() {
  return consume_in_turn(rings_.size(), [this](size_t i) { return consume_buffer(i); });
}

ConsumeResult PerfBuffer::poll(int timeout_ms) {
  std::vector<epoll_event> events(rings_.size());
  const int n = epoll_wait(epoll_fd_.get(), events.data(), int(events.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return {};
    throw PerfBufferError("perf buffer '" + name_ + "': epoll_wait failed: " + errno_text(errno));
  }
  // The sources epoll says are ready, in its order.
  return consume_in_turn(size_t(n), [&](size_t i) { return consume_buffer(size_t(events[i].data.u64)); });
}

}  // namespace bpfkit::target::linux_kernel
