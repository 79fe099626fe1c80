// The ring buffer's program and consumer views: record layout, capacity
// accounting, ordering, discard, wrap-around, wakeups, and many producers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "maps/map.h"
#include "maps/ringbuf_map.h"

namespace bpfkit::maps {
namespace {

std::unique_ptr<RingBufMap> make_ring(uint32_t size = 4096) {
  auto m = create_map(MapSpec{BPF_MAP_TYPE_RINGBUF, 0, 0, size, 0, 0, "rb"});
  return std::unique_ptr<RingBufMap>(static_cast<RingBufMap*>(m.release()));
}

uint32_t header_len(const void* sample) {
  uint32_t len;
  std::memcpy(&len, static_cast<const uint8_t*>(sample) - 8, 4);
  return len;
}

std::vector<std::vector<uint8_t>> drain(RingBufMap& rb) {
  std::vector<std::vector<uint8_t>> out;
  rb.consume([&](std::span<const uint8_t> r) { out.emplace_back(r.begin(), r.end()); });
  return out;
}

TEST(RingBuf, HeaderCarriesLengthBusyAndDiscardBits) {
  auto rb = make_ring();
  void* a = rb->reserve(5, 0);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(header_len(a), 5u | (1u << 31));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 8, 0u);
  EXPECT_TRUE(rb->owns(a));
  EXPECT_FALSE(rb->owns(static_cast<uint8_t*>(a) + 1));
  // Records are rounded up to 8 bytes plus the 8-byte header.
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 16u);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 16u);
  EXPECT_EQ(rb->query(BPF_RB_RING_SIZE), 4096u);
  EXPECT_EQ(rb->query(99), 0u);
  rb->submit(a, 0);
  EXPECT_EQ(header_len(a), 5u);
  void* b = rb->reserve(3, 0);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(static_cast<uint8_t*>(b) - static_cast<uint8_t*>(a), 16);
  rb->discard(b, 0);
  EXPECT_EQ(header_len(b), 3u | (1u << 30));
}

TEST(RingBuf, ConsumeDeliversInOrderSkipsDiscardedStopsAtBusy) {
  auto rb = make_ring();
  uint8_t x[3] = {1, 2, 3};
  ASSERT_EQ(rb->output(x, 3, 0), 0);
  auto* a = static_cast<uint8_t*>(rb->reserve(4, 0));
  auto* b = static_cast<uint8_t*>(rb->reserve(4, 0));
  auto* c = static_cast<uint8_t*>(rb->reserve(4, 0));
  ASSERT_TRUE(a && b && c);
  std::memcpy(a, "aaaa", 4);
  std::memcpy(c, "cccc", 4);
  rb->submit(c, 0);
  rb->discard(b, 0);
  auto got = drain(*rb);  // stops at a, still busy
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 16u);
  rb->submit(a, 0);
  got = drain(*rb);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(std::string(got[0].begin(), got[0].end()), "aaaa");
  EXPECT_EQ(std::string(got[1].begin(), got[1].end()), "cccc");
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), rb->query(BPF_RB_PROD_POS));
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 0u);
}

TEST(RingBuf, FullRingRefusesAndNeverFillsCompletely) {
  auto rb = make_ring(4096);
  // 4096 - 8 bytes is the most that can be outstanding.
  void* big = rb->reserve(4096 - 16, 0);  // 4088 bytes with its header
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(rb->reserve(0, 0), nullptr);  // 8 more would make 4096: refused
  uint8_t x = 0;
  EXPECT_EQ(rb->output(&x, 1, 0), -EAGAIN);
  rb->submit(big, 0);
  EXPECT_EQ(rb->reserve(1, 0), nullptr);  // submitted but not consumed: still no room
  EXPECT_EQ(drain(*rb).size(), 1u);
  EXPECT_NE(rb->reserve(1, 0), nullptr) << "consuming frees the space";
}

TEST(RingBuf, SizeAndFlagLimits) {
  auto rb = make_ring(4096);
  EXPECT_EQ(rb->reserve(4096, 0), nullptr);  // larger than the ring with its header
  EXPECT_EQ(rb->reserve(uint64_t{1} << 40, 0), nullptr);
  EXPECT_EQ(rb->reserve(8, 1), nullptr);  // reserve takes no flags
  uint8_t x[8] = {};
  EXPECT_EQ(rb->output(x, 8, 4), -EINVAL);
  EXPECT_EQ(rb->output(x, 8, BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP), 0);
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 16u);
}

TEST(RingBuf, RecordsThatWrapAreContiguous) {
  auto rb = make_ring(4096);
  std::vector<uint8_t> pattern(1000);
  uint64_t total = 0;
  for (int round = 0; round < 40; ++round) {
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + round);
    ASSERT_EQ(rb->output(pattern.data(), pattern.size(), 0), 0) << round;
    total += 1008;
    auto got = drain(*rb);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0], pattern) << "round " << round << " at position " << total - 1008;
  }
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), total);  // positions grow past the ring size
}

TEST(RingBuf, ElementCommandsAreNotSupported) {
  auto rb = make_ring();
  uint8_t v = 0;
  EXPECT_EQ(rb->lookup(nullptr), nullptr);
  EXPECT_EQ(rb->lookup_user(nullptr, &v), -524);
  EXPECT_EQ(rb->update_user(nullptr, &v, 0), -524);
  EXPECT_EQ(rb->delete_user(nullptr), -524);
  EXPECT_EQ(rb->get_next_key_user(nullptr, &v), -524);
}

TEST(RingBuf, WaitWakesOnSubmitAndTimesOut) {
  auto rb = make_ring();
  EXPECT_FALSE(rb->wait(10));
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    uint32_t v = 7;
    rb->output(&v, 4, 0);
  });
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(rb->wait(5000));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
  producer.join();
  EXPECT_TRUE(rb->wait(0)) << "data already there: no wait";
  EXPECT_EQ(drain(*rb).size(), 1u);
}

TEST(RingBuf, ManyProducersOneConsumerLoseNothing) {
  auto rb = make_ring(1 << 16);
  constexpr uint32_t kPerThread = 20000;
  std::atomic<int> running{2};
  auto produce = [&](uint32_t tag) {
    for (uint32_t i = 0; i < kPerThread;) {
      auto* p = static_cast<uint32_t*>(rb->reserve(8, 0));
      if (p == nullptr) {
        std::this_thread::yield();
        continue;
      }
      p[0] = tag;
      p[1] = i++;
      rb->submit(p, 0);
    }
    --running;
  };
  std::thread a(produce, 1), b(produce, 2);
  uint32_t next[3] = {0, 0, 0};
  bool in_order = true;
  while (running > 0 || rb->query(BPF_RB_AVAIL_DATA) > 0) {
    rb->wait(1);
    rb->consume([&](std::span<const uint8_t> r) {
      uint32_t v[2];
      std::memcpy(v, r.data(), 8);
      if (v[0] < 1 || v[0] > 2 || v[1] != next[v[0]]) in_order = false;
      if (v[0] >= 1 && v[0] <= 2) next[v[0]] = v[1] + 1;
    });
  }
  a.join();
  b.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(next[1], kPerThread);
  EXPECT_EQ(next[2], kPerThread);
}

// Two producers racing with no consumer: every reservation gets its own space,
// records are laid end to end, and a consumer afterwards gets exactly the
// submitted ones (not the discarded ones) in each producer's order.
TEST(RingBuf, TwoProducersWithoutConsumerLoseAndOverlapNothing) {
  constexpr uint32_t kPerThread = 30000;
  auto rb = make_ring(1 << 22);  // room for every record: 2 * 30000 * 24 bytes
  auto produce = [&](uint32_t tag) {
    for (uint32_t i = 0; i < kPerThread; ++i) {
      if (i % 3 == 2) {
        uint32_t v[3] = {tag, i, ~i};
        ASSERT_EQ(rb->output(v, sizeof(v), BPF_RB_NO_WAKEUP), 0);
        continue;
      }
      auto* p = static_cast<uint32_t*>(rb->reserve(12, 0));
      ASSERT_NE(p, nullptr);
      p[0] = tag;
      p[1] = i;
      p[2] = ~i;
      if (i % 3 == 1) {
        rb->discard(p, 0);
      } else {
        rb->submit(p, 0);
      }
    }
  };
  std::thread a(produce, 1), b(produce, 2);
  a.join();
  b.join();
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 2u * kPerThread * 24);
  uint32_t next[3] = {0, 0, 0};
  size_t bad = 0;
  size_t got = rb->consume([&](std::span<const uint8_t> r) {
    uint32_t v[3];
    if (r.size() != sizeof(v)) {
      ++bad;
      return;
    }
    std::memcpy(v, r.data(), sizeof(v));
    if (v[0] < 1 || v[0] > 2 || v[2] != ~v[1] || v[1] % 3 == 1 || v[1] < next[v[0]]) {
      ++bad;
      return;
    }
    next[v[0]] = v[1] + 1;
  });
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(got, 2u * (kPerThread - kPerThread / 3));
  EXPECT_EQ(next[1], kPerThread);
  EXPECT_EQ(next[2], kPerThread);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 0u);
}

// A consumer that sleeps until woken, record after record: each default-flag
// submit of the record it waits for must wake it (a lost wakeup shows as a wait
// that times out).
TEST(RingBuf, EveryRecordAtTheConsumerPositionWakesTheConsumer) {
  constexpr uint32_t kRecords = 2000;
  auto rb = make_ring();
  std::atomic<uint32_t> consumed{0};
  std::atomic<uint32_t> timeouts{0};
  std::thread consumer([&] {
    while (consumed < kRecords && timeouts < 3) {  // a few lost wakeups are enough to tell
      // A wait that lasts its whole timeout slept through its record (wait()
      // still reports the record then: it checks once more at the end).
      auto t0 = std::chrono::steady_clock::now();
      bool ready = rb->wait(1000);
      if (!ready || std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(900)) ++timeouts;
      consumed += static_cast<uint32_t>(rb->consume(nullptr));
    }
  });
  for (uint32_t i = 0; i < kRecords && timeouts < 3; ++i) {
    // Let the consumer catch up (and go back to sleep) before each record.
    while (consumed < i && timeouts < 3) std::this_thread::yield();
    ASSERT_EQ(rb->output(&i, sizeof(i), 0), 0);
  }
  consumer.join();
  EXPECT_EQ(consumed, kRecords);
  EXPECT_EQ(timeouts, 0u);
}

}  // namespace
}  // namespace bpfkit::maps
