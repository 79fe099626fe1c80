// The event consumers against the real kernel: programs run by BPF_PROG_TEST_RUN
// write ring buffer records, perf samples and bpf_printk lines; the consumers must
// hand over every one exactly once, in order, with its bytes, through ring wraps,
// discards and overflows.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/compile_bpf.h"
#include "kernel_test_util.h"
#include "object/bpf_object.h"
#include "target/linux/linux_target.h"
#include "target/linux/perf_buffer.h"
#include "target/linux/ring_buffer.h"
#include "target/linux/trace_pipe.h"
#include "target/target.h"

namespace bpfkit::target {
namespace {

using linux_kernel::ConsumeResult;
using linux_kernel::PerfBuffer;
using linux_kernel::PerfBufferError;
using linux_kernel::PerfBufferOptions;
using linux_kernel::RingBuffer;
using linux_kernel::RingBufferError;
using linux_kernel::RingReader;

// Every record carries its sequence number, then bytes (seq + i) & 0xff, and is
// 12 + (seq & 7) * 9 bytes long, so records of different sizes straddle the end of
// the ring at different offsets. state[0]: next seq; [1]: ring buffer failures;
// [2]: perf output failures; [3]: the printk marker.
constexpr const char* kSource = R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } ring SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } ring2 SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, 4);
  __uint(value_size, 4);
} perf SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} state SEC(".maps");

static __always_inline __u64 *slot(__u32 i) { return bpf_map_lookup_elem(&state, &i); }

static __always_inline __u32 fill(__u8 *buf, __u64 seq) {
  __builtin_memcpy(buf, &seq, 8);
  for (int i = 8; i < 80; i++) buf[i] = (__u8)(seq + i);
  return 12 + (__u32)(seq & 7) * 9;  // at most 75
}

SEC("xdp") int ring_output(struct xdp_md *ctx) {
  __u64 *seq = slot(0), *failed = slot(1);
  __u8 buf[80];
  if (!seq || !failed) return XDP_ABORTED;
  __u32 len = fill(buf, *seq);
  *seq += 1;
  if (bpf_ringbuf_output(&ring, buf, len, 0)) __sync_fetch_and_add(failed, 1);
  return XDP_PASS;
}

// Records of 24 bytes in ring2; every third (seq % 3 == 0) is discarded.
SEC("xdp") int ring_reserve(struct xdp_md *ctx) {
  __u64 *seq = slot(0), *failed = slot(1);
  if (!seq || !failed) return XDP_ABORTED;
  __u64 s = *seq;
  *seq += 1;
  __u8 *rec = bpf_ringbuf_reserve(&ring2, 24, 0);
  if (!rec) {
    __sync_fetch_and_add(failed, 1);
    return XDP_PASS;
  }
  __builtin_memcpy(rec, &s, 8);
  for (int i = 8; i < 24; i++) rec[i] = (__u8)(s + i);
  if (s % 3 == 0)
    bpf_ringbuf_discard(rec, 0);
  else
    bpf_ringbuf_submit(rec, 0);
  return XDP_PASS;
}

SEC("xdp") int perf_output(struct xdp_md *ctx) {
  __u64 *seq = slot(0), *failed = slot(2);
  __u8 buf[80];
  if (!seq || !failed) return XDP_ABORTED;
  __u32 len = fill(buf, *seq);
  *seq += 1;
  if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, buf, len)) __sync_fetch_and_add(failed, 1);
  return XDP_PASS;
}

SEC("xdp") int printk(struct xdp_md *ctx) {
  __u64 *marker = slot(3);
  if (!marker) return XDP_ABORTED;
  bpf_printk("bpfkit events test marker %llu", *marker);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
)";

std::vector<uint8_t> expected_record(uint64_t seq, size_t len) {
  std::vector<uint8_t> out(len);
  std::memcpy(out.data(), &seq, 8);
  for (size_t i = 8; i < len; ++i) out[i] = uint8_t(seq + i);
  return out;
}

size_t expected_len(uint64_t seq) { return 12 + size_t(seq & 7) * 9; }

uint64_t seq_of(std::span<const uint8_t> record) {
  uint64_t seq = 0;
  if (record.size() >= 8) std::memcpy(&seq, record.data(), 8);
  return seq;
}

// Pins this thread to the CPU it is on for the scope, so that every run of a test
// writes to the same per-CPU perf ring; restores the previous affinity.
class PinToCpu {
 public:
  PinToCpu() {
    sched_getaffinity(0, sizeof old_, &old_);
    cpu_ = uint32_t(sched_getcpu());
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu_, &one);
    sched_setaffinity(0, sizeof one, &one);
  }
  ~PinToCpu() { sched_setaffinity(0, sizeof old_, &old_); }
  uint32_t cpu() const { return cpu_; }

 private:
  cpu_set_t old_;
  uint32_t cpu_;
};

class EventsKernelTest : public kernel_test::KernelTest {
 protected:
  static void SetUpTestSuite() {
    if (!linux_kernel::kernel_bpf_available() || !test_support::have_bpf_clang()) return;
    const std::string path = test_support::compile_bpf(kSource);
    if (!path.empty()) object_ = std::make_shared<object::BpfObject>(object::BpfObject::open(path));
  }
  static void TearDownTestSuite() { object_.reset(); }

  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    BPFKIT_REQUIRE_BPF_CLANG();
    ASSERT_TRUE(object_) << "the test program did not compile";
    loaded_ = make_linux_target()->load(object_);
  }

  int map(const char* name) {
    MapHandle* m = loaded_->find_map(name);
    EXPECT_NE(m, nullptr) << name;
    return m ? linux_kernel::map_fd(*m) : -1;
  }
  uint64_t state(uint32_t index) {
    uint64_t value = 0;
    EXPECT_EQ(loaded_->find_map("state")->lookup(&index, &value), 0);
    return value;
  }
  void set_state(uint32_t index, uint64_t value) {
    ASSERT_EQ(loaded_->find_map("state")->update(&index, &value, BPF_ANY), 0);
  }
  void run(const char* program, uint32_t repeat) {
    TestRunRequest request;
    request.data_in.assign(64, 0);  // XDP needs at least an Ethernet header
    request.repeat = repeat;
    ProgramHandle* p = loaded_->find_program(program);
    ASSERT_NE(p, nullptr) << program;
    ASSERT_EQ(p->test_run(request).retval, uint32_t(XDP_PASS)) << program;
  }

  static std::shared_ptr<object::BpfObject> object_;
  std::unique_ptr<LoadedObject> loaded_;
};

std::shared_ptr<object::BpfObject> EventsKernelTest::object_;

TEST_F(EventsKernelTest, RingBufferDeliversEveryRecordOnceInOrderThroughManyWraps) {
  std::vector<std::vector<uint8_t>> got;
  RingBuffer rb;
  rb.add(map("ring"), [&](std::span<const uint8_t> r) {
    got.emplace_back(r.begin(), r.end());
    return 0;
  });
  EXPECT_EQ(rb.ring(0).name(), "ring");
  EXPECT_EQ(rb.ring(0).size(), 4096u);
  // 40 records (about 2.3 KiB) at a time into a 4 KiB ring, 60 times: about 33
  // trips round the ring, records straddling its end at varying offsets.
  constexpr uint32_t kBatch = 40, kBatches = 60;
  for (uint32_t b = 0; b < kBatches; ++b) {
    run("ring_output", kBatch);
    const ConsumeResult r = b % 2 ? rb.poll(1000) : rb.consume();  // both paths
    EXPECT_EQ(r.records, kBatch) << "batch " << b;
    EXPECT_EQ(r.stopped_by, 0);
  }
  EXPECT_EQ(state(1), 0u) << "the ring overflowed";
  ASSERT_EQ(got.size(), size_t(kBatch) * kBatches);
  for (uint64_t seq = 0; seq < got.size(); ++seq) {
    ASSERT_EQ(got[seq], expected_record(seq, expected_len(seq))) << "record " << seq;
  }
  EXPECT_EQ(rb.consume().records, 0u) << "nothing is delivered twice";
  EXPECT_EQ(rb.ring(0).available(), 0u);
}

TEST_F(EventsKernelTest, DiscardedRecordsAreSkipped) {
  std::vector<uint64_t> seqs;
  RingBuffer rb;
  rb.add(map("ring2"), [&](std::span<const uint8_t> r) {
    EXPECT_EQ(std::vector<uint8_t>(r.begin(), r.end()), expected_record(seq_of(r), 24));
    seqs.push_back(seq_of(r));
    return 0;
  });
  for (int b = 0; b < 20; ++b) {  // 30 records of 32 bytes a batch: 600 through a 4 KiB ring
    run("ring_reserve", 30);
    rb.consume();
  }
  EXPECT_EQ(state(1), 0u);
  std::vector<uint64_t> want;
  for (uint64_t s = 0; s < 600; ++s) {
    if (s % 3) want.push_back(s);
  }
  EXPECT_EQ(seqs, want);
}

TEST_F(EventsKernelTest, EachRingGoesToItsOwnCallback) {
  size_t first = 0, second = 0;
  RingBuffer rb;
  rb.add(map("ring"), [&](std::span<const uint8_t>) { return ++first, 0; });
  rb.add(map("ring2"), [&](std::span<const uint8_t>) { return ++second, 0; });
  run("ring_output", 5);
  run("ring_reserve", 6);  // seqs 5..10: 6 and 9 discarded
  EXPECT_EQ(rb.consume().records, 9u);
  EXPECT_EQ(first, 5u);
  EXPECT_EQ(second, 4u);
}

TEST_F(EventsKernelTest, ACallbackStopsConsumptionAndTheRestComesNextTime) {
  std::vector<uint64_t> seqs;
  RingBuffer rb;
  rb.add(map("ring"), [&](std::span<const uint8_t> r) {
    seqs.push_back(seq_of(r));
    return seqs.size() == 3 ? 7 : 0;
  });
  run("ring_output", 10);
  const ConsumeResult first = rb.consume();
  EXPECT_EQ(first.records, 3u);
  EXPECT_EQ(first.stopped_by, 7);
  const ConsumeResult rest = rb.poll(0);  // level-triggered: data is still there
  EXPECT_EQ(rest.records, 7u);
  EXPECT_EQ(rest.stopped_by, 0);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(EventsKernelTest, PollWakesAConsumerThreadWhileAProducerRuns) {
  RingBuffer rb;
  std::vector<uint64_t> seqs;
  bool bytes_ok = true;
  rb.add(map("ring"), [&](std::span<const uint8_t> r) {
    const uint64_t s = seq_of(r);
    bytes_ok = bytes_ok && std::vector<uint8_t>(r.begin(), r.end()) == expected_record(s, expected_len(s));
    seqs.push_back(s);
    return 0;
  });
  constexpr uint64_t kRuns = 3000;
  std::atomic<bool> done{false};
  size_t polled = 0;  // delivered by poll(): only after epoll reported the ring ready
  std::thread consumer([&] {
    while (!done.load()) polled += rb.poll(50).records;
    rb.consume();
  });
  for (uint64_t i = 0; i < kRuns; ++i) run("ring_output", 1);
  done = true;
  consumer.join();
  // The consumer may fall behind a 4 KiB ring: what the program could not write it
  // counted; everything it wrote arrives once, in order.
  EXPECT_EQ(seqs.size() + state(1), kRuns);
  EXPECT_GT(polled, 0u) << "epoll never reported the ring ready";
  EXPECT_TRUE(bytes_ok);
  for (size_t i = 1; i < seqs.size(); ++i) ASSERT_LT(seqs[i - 1], seqs[i]) << "at " << i;
}

TEST_F(EventsKernelTest, RingBufferRefusesOtherMapsNamingThem) {
  try {
    RingReader reader(map("state"));
    FAIL() << "an array map was accepted";
  } catch (const RingBufferError& e) {
    EXPECT_NE(std::string(e.what()).find("'state'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a ring buffer"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RingReader(-1, "nothing"), RingBufferError);
  try {
    PerfBuffer pb(map("ring"), [](uint32_t, std::span<const uint8_t>) { return 0; });
    FAIL() << "a ring buffer was accepted as a perf event array";
  } catch (const PerfBufferError& e) {
    EXPECT_NE(std::string(e.what()).find("'ring' is a ring buffer"), std::string::npos) << e.what();
  }
  PerfBufferOptions three_pages;
  three_pages.page_count = 3;
  EXPECT_THROW(PerfBuffer(
                   map("perf"), [](uint32_t, std::span<const uint8_t>) { return 0; }, three_pages),
               PerfBufferError);
}

TEST_F(EventsKernelTest, PerfBufferDeliversEverySampleInOrderThroughWraps) {
  PinToCpu pin;
  std::vector<uint64_t> seqs;
  PerfBufferOptions options;
  options.page_count = 1;  // a 4 KiB ring per CPU
  PerfBuffer pb(
      map("perf"),
      [&](uint32_t cpu, std::span<const uint8_t> data) {
        const uint64_t s = seq_of(data);
        const size_t len = expected_len(s);
        EXPECT_EQ(cpu, pin.cpu());
        // The kernel pads the raw data to keep records 8-byte aligned.
        EXPECT_GE(data.size(), len);
        EXPECT_LT(data.size(), len + 8);
        EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.begin() + std::min(len, data.size())),
                  expected_record(s, len));
        seqs.push_back(s);
        return 0;
      },
      options);
  ASSERT_FALSE(pb.cpus().empty());
  for (int b = 0; b < 50; ++b) {  // 40 samples of about 64 bytes at a time
    run("perf_output", 40);
    EXPECT_EQ((b % 2 ? pb.poll(1000) : pb.consume()).records, 40u) << "batch " << b;
  }
  EXPECT_EQ(state(2), 0u);
  EXPECT_EQ(pb.lost(), 0u);
  ASSERT_EQ(seqs.size(), 2000u);
  for (uint64_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i);
}

TEST_F(EventsKernelTest, PerfBufferCountsLostSamples) {
  PinToCpu pin;
  size_t samples = 0;
  uint64_t lost_reported = 0;
  PerfBufferOptions options;
  options.page_count = 1;
  options.on_lost = [&](uint32_t cpu, uint64_t count) {
    EXPECT_EQ(cpu, pin.cpu());
    lost_reported += count;
  };
  PerfBuffer pb(
      map("perf"), [&](uint32_t, std::span<const uint8_t>) { return ++samples, 0; }, options);
  run("perf_output", 400);  // about 25 KiB into 4 KiB, nobody reading
  const uint64_t failed = state(2);
  EXPECT_GT(failed, 0u);
  pb.consume();
  // The kernel reports the loss with the next sample that fits.
  run("perf_output", 1);
  pb.consume();
  EXPECT_EQ(lost_reported, failed);
  EXPECT_EQ(pb.lost(), failed);
  EXPECT_EQ(samples + failed, 401u);
}

TEST_F(EventsKernelTest, PerfBufferRemovesItsEventsFromTheMap) {
  {
    PinToCpu pin;
    PerfBuffer pb(map("perf"), [](uint32_t, std::span<const uint8_t>) { return 0; });
    run("perf_output", 3);
    EXPECT_EQ(pb.consume().records, 3u);
  }
  // Without the buffer the map has no event for the CPU: the output fails (-ENOENT).
  run("perf_output", 3);
  EXPECT_EQ(state(2), 3u);
}

std::string own_comm() {
  std::ifstream in("/proc/self/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

// trace_pipe admits one reader at a time: another test (or a user's `cat`) may hold
// it for a while. Waits up to 5 s for it; nullptr (and the reason) when it stays busy.
std::unique_ptr<linux_kernel::TracePipe> open_trace_pipe(const linux_kernel::TracePipeOptions& options,
                                                         std::string& why_not) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    try {
      return std::make_unique<linux_kernel::TracePipe>(options);
    } catch (const linux_kernel::TracePipeError& e) {
      why_not = e.what();
      if (e.error_number() != EBUSY || std::chrono::steady_clock::now() > deadline) return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TEST_F(EventsKernelTest, TracePipeSeesAPrintkWithAUniqueMarker) {
  linux_kernel::TracePipeOptions options;
  options.pid = int32_t(getpid());
  std::string why_not;
  auto pipe = open_trace_pipe(options, why_not);
  if (!pipe) GTEST_SKIP() << why_not;
  const uint64_t marker =
      uint64_t(getpid()) * 1000003u ^ uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  set_state(3, marker);
  const std::string want = "bpfkit events test marker " + std::to_string(marker);
  // The trace buffer is shared by the whole machine and may drop lines when full, so
  // the program prints again until a line is seen.
  std::optional<linux_kernel::TraceLine> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    run("printk", 1);
    pipe->poll(200, [&](const linux_kernel::TraceLine& line) {
      EXPECT_TRUE(line.pid == getpid() || line.tgid == getpid()) << "the pid filter let through " << line.pid;
      if (line.message == want) seen = line;
    });
  }
  ASSERT_TRUE(seen) << "no trace_pipe line '" << want << "' within 5 s";
  EXPECT_EQ(seen->event, "bpf_trace_printk");
  EXPECT_EQ(seen->pid, getpid());
  // The kernel shows "<...>" when it has not recorded the task's name.
  if (seen->comm != "<...>") {
    EXPECT_EQ(seen->comm, own_comm().substr(0, 15));
  }
  EXPECT_EQ(linux_kernel::parse_trace_line(linux_kernel::format_trace_line(*seen)), seen);
  EXPECT_LT(seen->cpu, uint32_t(sysconf(_SC_NPROCESSORS_CONF)));
  EXPECT_GT(seen->timestamp_ns, 0u);
}

TEST_F(EventsKernelTest, TracePipeFiltersOtherPids) {
  linux_kernel::TracePipeOptions options;
  options.pid = 1;  // init prints nothing through bpf_printk
  std::string why_not;
  auto pipe = open_trace_pipe(options, why_not);
  if (!pipe) GTEST_SKIP() << why_not;
  set_state(3, 42);
  run("printk", 3);
  size_t delivered = 0;
  for (int i = 0; i < 3; ++i) {
    delivered += pipe->poll(50, [&](const linux_kernel::TraceLine& line) {
      ADD_FAILURE() << "delivered a line of pid " << line.pid << ": " << line.message;
    });
  }
  EXPECT_EQ(delivered, 0u);
}

}  // namespace
}  // namespace bpfkit::target
