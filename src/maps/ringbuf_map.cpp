#include "maps/ringbuf_map.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace bpfkit::maps {

namespace {

constexpr uint32_t kBusyBit = 1u << 31;
constexpr uint32_t kDiscardBit = 1u << 30;
constexpr uint32_t kHeaderSize = 8;
constexpr uint64_t kMaxRecordSize = UINT_MAX / 4;
constexpr int kEnotsupp = 524;
// The kernel's record header holds the page offset of the record from its struct
// bpf_ringbuf: one page of bookkeeping, the consumer page and the producer page
// come before the data.
constexpr uint32_t kMetaPages = 3;

uint64_t record_span(uint32_t len) {
  len &= ~(kBusyBit | kDiscardBit);
  return (uint64_t{len} + kHeaderSize + 7) & ~uint64_t{7};
}

uint32_t load_len(const uint8_t* hdr) {
  return __atomic_load_n(reinterpret_cast<const uint32_t*>(hdr), __ATOMIC_ACQUIRE);
}

// The kernel's producer spinlock: a reservation holds it for a few loads and
// stores, so waiting means spinning; a holder that was preempted (more threads
// than CPUs) is waited for by yielding.
class SpinLock {
 public:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; locked_.load(std::memory_order_relaxed);) {
        if (++spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();
          spins = 0;
        }
      }
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace

struct RingBufMap::State {
  // Fixed after construction.
  uint8_t* data = nullptr;  // `size` bytes, mapped twice in a row so records that wrap stay contiguous
  uint64_t size = 0;
  uint64_t mask = 0;
  // Producers' line.
  alignas(64) SpinLock producer_lock;  // reservations are serialised, as in the kernel
  uint64_t pending_pos = 0;  // oldest record that may still be busy (guarded by producer_lock)
  std::atomic<uint64_t> producer_pos{0};
  // The consumer's line.
  alignas(64) std::atomic<uint64_t> consumer_pos{0};
  std::atomic<uint32_t> waiters{0};  // threads inside wait(): producers wake nobody when 0
  alignas(64) std::mutex consumer_mu;  // one consumer at a time
  std::mutex wait_mu;
  std::condition_variable wait_cv;
  uint64_t wakeups = 0;  // guarded by wait_mu

  uint8_t* at(uint64_t pos) const { return data + (pos & mask); }
  // Whether the record at the consumer position is committed (submitted or discarded).
  bool record_ready() const {
    uint64_t cons = consumer_pos.load(std::memory_order_acquire);
    if (cons >= producer_pos.load(std::memory_order_acquire)) return false;
    return (load_len(at(cons)) & kBusyBit) == 0;
  }
  void wake() {
    {
      std::lock_guard guard(wait_mu);
      ++wakeups;
    }
    wait_cv.notify_all();
  }
};

RingBufMap::RingBufMap(MapSpec spec) : Map(std::move(spec)), state_(new State) {
  State& s = *state_;
  s.size = max_entries();
  s.mask = s.size - 1;
  // Map one memfd twice, back to back, as the kernel maps the data pages twice.
  int fd = memfd_create("bpfkit-ringbuf", MFD_CLOEXEC);
  void* area = MAP_FAILED;
  if (fd >= 0 && ftruncate(fd, static_cast<off_t>(s.size)) == 0) {
    area = mmap(nullptr, 2 * s.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area != MAP_FAILED) {
      auto* base = static_cast<uint8_t*>(area);
      // Populated now, as the kernel allocates a ring's pages when it creates the
      // map: producers then never take a page fault.
      int how = MAP_SHARED | MAP_FIXED | MAP_POPULATE;
      bool ok = mmap(base, s.size, PROT_READ | PROT_WRITE, how, fd, 0) != MAP_FAILED &&
                mmap(base + s.size, s.size, PROT_READ | PROT_WRITE, how, fd, 0) != MAP_FAILED;
      if (!ok) {
        munmap(area, 2 * s.size);
        area = MAP_FAILED;
      }
    }
  }
  if (fd >= 0) close(fd);
  if (area == MAP_FAILED) {
    delete state_;
    throw MapSpecError("ringbuf map '" + name() + "': cannot map " + std::to_string(s.size) +
                           " bytes of ring memory: " + strerror(errno),
                       ENOMEM);
  }
  s.data = static_cast<uint8_t*>(area);
  // Write every page once through both mappings: a populated shared mapping still
  // takes a fault (or, in a VM, an exit) on the first store to each page, which
  // would otherwise land on a producer's reserve().
  for (uint64_t off = 0; off < 2 * s.size; off += 4096) {
    *reinterpret_cast<volatile uint8_t*>(s.data + off) = 0;
  }
}

RingBufMap::~RingBufMap() {
  munmap(state_->data, 2 * state_->size);
  delete state_;
}

// The syscall's element commands on a ring buffer all end in the map's ENOTSUPP.
void* RingBufMap::lookup(const void*) { return nullptr; }
int RingBufMap::update(const void*, const void*, uint64_t) { return -kEnotsupp; }
int RingBufMap::delete_elem(const void*) { return -kEnotsupp; }
int RingBufMap::get_next_key(const void*, void*) { return -kEnotsupp; }
int RingBufMap::lookup_user_impl(const void*, void*) { return -kEnotsupp; }

void* RingBufMap::reserve(uint64_t size, uint64_t flags) {
  if (flags != 0) return nullptr;
  State& s = *state_;
  if (size > kMaxRecordSize) return nullptr;
  uint64_t len = (size + kHeaderSize + 7) & ~uint64_t{7};
  if (len > s.size) return nullptr;
  uint64_t cons = s.consumer_pos.load(std::memory_order_acquire);
  std::lock_guard guard(s.producer_lock);
  uint64_t prod = s.producer_pos.load(std::memory_order_relaxed);
  uint64_t pend = s.pending_pos;
  // Skip over records committed since the last reservation.
  while (pend < prod) {
    uint32_t hlen = load_len(s.at(pend));
    if (hlen & kBusyBit) break;
    pend += record_span(hlen);
  }
  s.pending_pos = pend;
  uint64_t new_prod = prod + len;
  // The producer may run at most size - 1 bytes ahead of the consumer and of the
  // oldest busy record (so a ring never fills completely, as the kernel's).
  if (new_prod - cons > s.mask || new_prod - pend > s.mask) return nullptr;
  uint8_t* hdr = s.at(prod);
  uint32_t pg_off = static_cast<uint32_t>(((prod & s.mask) >> 12) + kMetaPages);
  std::memcpy(hdr + 4, &pg_off, 4);
  __atomic_store_n(reinterpret_cast<uint32_t*>(hdr), static_cast<uint32_t>(size) | kBusyBit, __ATOMIC_RELAXED);
  s.producer_pos.store(new_prod, std::memory_order_release);
  return hdr + kHeaderSize;
}

void RingBufMap::submit(void* sample, uint64_t flags) { commit(sample, flags, false); }
void RingBufMap::discard(void* sample, uint64_t flags) { commit(sample, flags, true); }

void RingBufMap::commit(void* sample, uint64_t flags, bool discard) {
  State& s = *state_;
  if (!owns(sample)) return;
  auto* hdr = static_cast<uint8_t*>(sample) - kHeaderSize;
  auto* len = reinterpret_cast<uint32_t*>(hdr);
  uint32_t old_len = __atomic_load_n(len, __ATOMIC_RELAXED);
  if (!(old_len & kBusyBit)) return;  // committed twice: the verifier forbids it; ignore rather than corrupt
  uint32_t new_len = old_len ^ kBusyBit;
  if (discard) new_len |= kDiscardBit;
  // Only this record's owner writes its header now: a release store publishes
  // the data with it, no read-modify-write needed.
  __atomic_store_n(len, new_len, __ATOMIC_RELEASE);
  if ((flags & (BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) == BPF_RB_NO_WAKEUP) return;
  // Wake a consumer that waits for exactly this record, as the kernel does. The
  // fence pairs with wait()'s: either this sees the consumer's position and its
  // waiter count, or the consumer sees this record committed.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  uint64_t rec = static_cast<uint64_t>(hdr - s.data) & s.mask;
  uint64_t cons = s.consumer_pos.load(std::memory_order_relaxed) & s.mask;
  if (!(flags & BPF_RB_FORCE_WAKEUP) && cons != rec) return;
  if (s.waiters.load(std::memory_order_relaxed) != 0) s.wake();
}

int RingBufMap::output(const void* data, uint64_t size, uint64_t flags) {
  if (flags & ~uint64_t{BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP}) return -EINVAL;
  void* rec = reserve(size, 0);
  if (rec == nullptr) return -EAGAIN;
  std::memcpy(rec, data, size);
  commit(rec, flags, false);
  return 0;
}

uint64_t RingBufMap::query(uint64_t flags) const {
  const State& s = *state_;
  switch (flags) {
    case BPF_RB_AVAIL_DATA:
      return s.producer_pos.load(std::memory_order_acquire) - s.consumer_pos.load(std::memory_order_acquire);
    case BPF_RB_RING_SIZE: return s.size;
    case BPF_RB_CONS_POS: return s.consumer_pos.load(std::memory_order_acquire);
    case BPF_RB_PROD_POS: return s.producer_pos.load(std::memory_order_acquire);
    default: return 0;
  }
}

size_t RingBufMap::consume(const RecordFn& on_record) {
  State& s = *state_;
  std::lock_guard guard(s.consumer_mu);
  size_t delivered = 0;
  uint64_t cons = s.consumer_pos.load(std::memory_order_acquire);
  for (;;) {
    uint64_t prod = s.producer_pos.load(std::memory_order_acquire);
    if (cons >= prod) break;
    const uint8_t* hdr = s.at(cons);
    uint32_t len = load_len(hdr);
    if (len & kBusyBit) break;  // not committed yet: records are delivered in order
    cons += record_span(len);
    if (!(len & kDiscardBit)) {
      ++delivered;
      if (on_record) on_record(std::span<const uint8_t>(hdr + kHeaderSize, len));
    }
    s.consumer_pos.store(cons, std::memory_order_release);
  }
  return delivered;
}

bool RingBufMap::wait(int timeout_ms) {
  State& s = *state_;
  if (s.record_ready()) return true;
  s.waiters.fetch_add(1, std::memory_order_relaxed);
  // Pairs with commit()'s fence (see there): no wakeup is lost between the
  // consumer's last position store and its going to sleep.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  {
    std::unique_lock lock(s.wait_mu);
    uint64_t seen = s.wakeups;
    auto woken = [&] { return s.wakeups != seen || s.record_ready(); };
    if (timeout_ms < 0) {
      s.wait_cv.wait(lock, woken);
    } else {
      s.wait_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), woken);
    }
  }
  s.waiters.fetch_sub(1, std::memory_order_relaxed);
  return s.record_ready();
}

bool RingBufMap::owns(const void* p) const {
  // A sample starts right after a record header, which lies in the first mapping, 8-aligned.
  auto b = reinterpret_cast<uintptr_t>(p) - kHeaderSize;
  auto begin = reinterpret_cast<uintptr_t>(state_->data);
  return b >= begin && b < begin + state_->size && (b - begin) % 8 == 0;
}

}  // namespace bpfkit::maps
