// Consuming BPF ring buffer maps (BPF_MAP_TYPE_RINGBUF) from user space, as
// libbpf's ring_buffer does, without libbpf: the consumer page is mapped read-write
// (we publish how far we have read), the producer page and the data area read-only,
// the data area twice in a row so that a record wrapping the end is contiguous.
// epoll on the map fds wakes the consumer when the kernel notifies it.
//
// Ordering: the producer position and each record's header are loaded with acquire
// (the kernel publishes them with release after writing the record), the consumer
// position is stored with release after the record has been read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {

// A ring buffer that cannot be consumed (not a ring buffer map, mmap or epoll
// failed, a corrupt record header). The message names the map.
class RingBufferError : public Error {
 public:
  using Error::Error;
};

// Called with each committed, non-discarded record. Returning nonzero stops
// consumption after this record (it counts as consumed), like libbpf's callbacks.
using RingRecordCallback = std::function<int(std::span<const uint8_t> record)>;

// What one poll() or consume() did.
struct ConsumeResult {
  size_t records = 0;  // records delivered to callbacks
  int stopped_by = 0;  // the nonzero value a callback returned, 0 when none stopped
};

// Consumes sources 0..count-1 in turn (`consume_one(i)`), stopping at the first whose
// callback asked to stop; shared by the ring buffer and perf buffer consumers.
template <class ConsumeOne>
ConsumeResult consume_in_turn(size_t count, ConsumeOne consume_one) {
  ConsumeResult total;
  for (size_t i = 0; i < count; ++i) {
    const ConsumeResult r = consume_one(i);
    total.records += r.records;
    if (r.stopped_by) {
      total.stopped_by = r.stopped_by;
      break;
    }
  }
  return total;
}

// One ring buffer map, mmap()ed. Not thread-safe: one consumer thread per ring.
class RingReader {
 public:
  // `name` is used in errors; empty: the kernel's name of the map. Throws RingBufferError.
  // The fd is not owned: the mappings keep the map alive after it is closed.
  explicit RingReader(int map_fd, std::string_view name = {});
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  // Delivers every record committed so far (and any committed while draining);
  // stops at a record still being written (busy) or when the callback says so.
  ConsumeResult consume(const RingRecordCallback& on_record);
  // Bytes between the consumer and the producer positions (records not yet read,
  // including headers, discarded and busy ones).
  uint64_t available() const;
  uint32_t size() const { return size_; }  // of the data area
  const std::string& name() const { return name_; }
  int map_fd() const { return map_fd_; }

 private:
  std::string name_;
  int map_fd_;
  uint32_t size_ = 0;
  size_t page_ = 0;
  void* consumer_ = nullptr;  // one page, rw: consumer_pos
  void* producer_ = nullptr;  // one page (producer_pos) + data area twice, ro
};

// Several ring buffers behind one epoll fd, each with its callback.
class RingBuffer {
 public:
  RingBuffer();
  ~RingBuffer();
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;

  // Adds a ring buffer map; its records go to `on_record`. Throws RingBufferError.
  void add(int map_fd, RingRecordCallback on_record, std::string_view name = {});
  // Waits up to `timeout_ms` (-1: forever, 0: not at all) for a notification, then
  // consumes the rings that have data. An interrupted wait (EINTR) returns nothing.
  ConsumeResult poll(int timeout_ms);
  // Consumes every ring without waiting.
  ConsumeResult consume();
  // Consumes one ring (in add() order) without waiting.
  ConsumeResult consume_ring(size_t index);

  size_t ring_count() const { return rings_.size(); }
  RingReader& ring(size_t index) { return *rings_.at(index).reader; }
  // For callers that wait on several sources in their own epoll/poll loop.
  int epoll_fd() const { return epoll_fd_.get(); }

 private:
  struct Ring {
    std::unique_ptr<RingReader> reader;
    RingRecordCallback on_record;
  };
  UniqueFd epoll_fd_;
  std::vector<Ring> rings_;
};

}  // namespace bpfkit::target::linux_kernel
