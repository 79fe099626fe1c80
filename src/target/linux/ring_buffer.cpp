#include "target/linux/ring_buffer.h"

#include <linux/bpf.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "target/linux/event_map_info.h"

namespace bpfkit::target::linux_kernel {
namespace {

uint64_t load_acquire(const void* p) {
  return __atomic_load_n(static_cast<const uint64_t*>(p), __ATOMIC_ACQUIRE);
}

std::string errno_text(int error_number) { return std::string(std::strerror(error_number)); }

}  // namespace

RingReader::RingReader(int map_fd, std::string_view name) : map_fd_(map_fd) {
  EventMapInfo info;
  try {
    info = query_event_map(map_fd, name);
  } catch (const BpfError& e) {
    throw RingBufferError(std::string("ring buffer: ") + e.what());
  }
  name_ = info.name;
  if (info.type != BPF_MAP_TYPE_RINGBUF) {
    throw RingBufferError("map '" + name_ + "' is of type " + event_map_type_name(info.type) +
                          ", not a ring buffer (BPF_MAP_TYPE_RINGBUF)");
  }
  size_ = info.max_entries;
  page_ = size_t(sysconf(_SC_PAGESIZE));
  // The kernel guarantees a power of two of at least a page; a consumer relying on
  // the mask below checks anyway rather than reading out of bounds.
  if (size_ < page_ || (size_ & (size_ - 1)) != 0) {
    throw RingBufferError("ring buffer '" + name_ + "': size " + std::to_string(size_) +
                          " is not a power of two of at least a page");
  }
  consumer_ = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (consumer_ == MAP_FAILED) {
    consumer_ = nullptr;
    throw RingBufferError("ring buffer '" + name_ +
                          "': mmap of the consumer page failed: " + errno_text(errno));
  }
  // The producer page, then the data area twice: a record crossing the end of the
  // area reads on into the second copy.
  producer_ = mmap(nullptr, page_ + 2 * size_t(size_), PROT_READ, MAP_SHARED, map_fd, off_t(page_));
  if (producer_ == MAP_FAILED) {
    const int err = errno;
    producer_ = nullptr;
    munmap(consumer_, page_);
    consumer_ = nullptr;
    throw RingBufferError("ring buffer '" + name_ +
                          "': mmap of the producer page and data failed: " + errno_text(err));
  }
}

RingReader::~RingReader() {
  if (producer_) munmap(producer_, page_ + 2 * size_t(size_));
  if (consumer_) munmap(consumer_, page_);
}

uint64_t RingReader::available() const {
  const uint64_t prod = load_acquire(producer_);
  const uint64_t cons = load_acquire(consumer_);
  return prod - cons;
}

ConsumeResult RingReader::consume(const RingRecordCallback& on_record) {
  ConsumeResult result;
  auto* consumer_pos = static_cast<uint64_t*>(consumer_);
  const uint8_t* data = static_cast<const uint8_t*>(producer_) + page_;
  const uint64_t mask = size_ - 1;
  uint64_t cons = __atomic_load_n(consumer_pos, __ATOMIC_RELAXED);  // only we write it
  // Drain, then look at the producer again: a record committed while we were
  // behind it sent no notification (the kernel only wakes a consumer that has
  // caught up), so stopping at the first snapshot could leave it unread.
  for (bool progressed = true; progressed;) {
    progressed = false;
    const uint64_t prod = load_acquire(producer_);
    while (cons < prod) {
      const uint8_t* header = data + (cons & mask);
      const uint32_t len = __atomic_load_n(reinterpret_cast<const uint32_t*>(header), __ATOMIC_ACQUIRE);
      if (len & BPF_RINGBUF_BUSY_BIT) return result;  // reserved, not yet committed
      const uint32_t body = len & ~(uint32_t(BPF_RINGBUF_BUSY_BIT) | BPF_RINGBUF_DISCARD_BIT);
      if (body > size_ - BPF_RINGBUF_HDR_SZ) {
        throw RingBufferError("ring buffer '" + name_ + "': record at position " + std::to_string(cons) +
                              " claims " + std::to_string(body) + " bytes in a " + std::to_string(size_) +
                              "-byte ring");
      }
      cons += (uint64_t(body) + BPF_RINGBUF_HDR_SZ + 7) & ~uint64_t(7);
      int stop = 0;
      if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
        ++result.records;
        stop = on_record(std::span<const uint8_t>(header + BPF_RINGBUF_HDR_SZ, body));
      }
      // Only now may the kernel reuse the record's bytes.
      __atomic_store_n(consumer_pos, cons, __ATOMIC_RELEASE);
      progressed = true;
      if (stop) {
        result.stopped_by = stop;
        return result;
      }
    }
  }
  return result;
}

RingBuffer::RingBuffer() {
  epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_) throw RingBufferError("ring buffer: epoll_create1 failed: " + errno_text(errno));
}

RingBuffer::~RingBuffer() = default;

void RingBuffer::add(int map_fd, RingRecordCallback on_record, std::string_view name) {
  auto reader = std::make_unique<RingReader>(map_fd, name);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = rings_.size();
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, map_fd, &ev) < 0) {
    throw RingBufferError("ring buffer '" + reader->name() + "': epoll_ctl failed: " + errno_text(errno));
  }
  rings_.push_back({std::move(reader), std::move(on_record)});
}

ConsumeResult RingBuffer::consume_ring(size_t index) {
  Ring& r = rings_.at(index);
  return r.reader->consume(r.on_record);
}

ConsumeResult RingBuffer::consume() {
  return consume_in_turn(rings_.size(), [this](size_t i) { return consume_ring(i); });
}

ConsumeResult RingBuffer::poll(int timeout_ms) {
  std::vector<epoll_event> events(rings_.empty() ? 1 : rings_.size());
  const int n = epoll_wait(epoll_fd_.get(), events.data(), int(events.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return {};
    throw RingBufferError("ring buffer: epoll_wait failed: " + errno_text(errno));
  }
  // The sources epoll says are ready, in its order.
  return consume_in_turn(size_t(n), [&](size_t i) { return consume_ring(size_t(events[i].data.u64)); });
}

}  // namespace bpfkit::target::linux_kernel
