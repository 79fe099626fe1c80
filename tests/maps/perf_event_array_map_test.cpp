// The perf event array: output to per-CPU rings, the kernel's errnos, lost
// samples, the raw-record padding libbpf's callback sees, the user-space view.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "maps/map.h"
#include "maps/perf_event_array_map.h"

namespace bpfkit::maps {
namespace {

std::unique_ptr<PerfEventArrayMap> make_pea(uint32_t entries = 4) {
  auto m = create_map(MapSpec{BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, entries, 0, 0, "events"});
  return std::unique_ptr<PerfEventArrayMap>(static_cast<PerfEventArrayMap*>(m.release()));
}

TEST(PerfEventArray, OutputErrnosFollowTheKernel) {
  auto m = make_pea(4);
  uint8_t data[5] = {1, 2, 3, 4, 5};
  EXPECT_EQ(m->output(BPF_F_CURRENT_CPU, data, 5, 1), -ENOENT);  // no event at index 1
  ASSERT_EQ(m->open_ring(1), 0);
  EXPECT_EQ(m->output(BPF_F_CURRENT_CPU, data, 5, 1), 0);
  EXPECT_EQ(m->output(1, data, 5, 1), 0);
  EXPECT_EQ(m->output(1, data, 5, 0), -EOPNOTSUPP);  // the event is bound to CPU 1
  EXPECT_EQ(m->output(4, data, 5, 4), -E2BIG);
  EXPECT_EQ(m->output(BPF_F_CURRENT_CPU, data, 5, 7), -E2BIG);
  EXPECT_EQ(m->output(uint64_t{1} << 32 | 1, data, 5, 1), -EINVAL);
  EXPECT_EQ(m->open_ring(4), -E2BIG);
  std::vector<std::vector<uint8_t>> got;
  EXPECT_EQ(m->consume([&](uint32_t cpu, std::span<const uint8_t> s) {
    EXPECT_EQ(cpu, 1u);
    got.emplace_back(s.begin(), s.end());
  }), 2u);
  ASSERT_EQ(got.size(), 2u);
  // 4 + 5 bytes round up to 16: the sample is 12 bytes, zero padded.
  EXPECT_EQ(got[0], (std::vector<uint8_t>{1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(m->consume({}), 0u) << "drained";
}

TEST(PerfEventArray, FullRingLosesAndCountsInPlace) {
  auto m = make_pea(2);
  ASSERT_EQ(m->open_ring(0, 40), 0);  // room for 39 bytes: two 16-byte records
  uint32_t v = 1;
  EXPECT_EQ(m->output(0, &v, 4, 0), 0);
  v = 2;
  EXPECT_EQ(m->output(0, &v, 4, 0), 0);
  EXPECT_EQ(m->output(0, &v, 4, 0), -ENOSPC);
  EXPECT_EQ(m->output(0, &v, 4, 0), -ENOSPC);
  std::vector<std::string> events;
  m->consume([&](uint32_t, std::span<const uint8_t> s) { events.push_back("s" + std::to_string(s[0])); },
             [&](uint32_t cpu, uint64_t lost) { events.push_back("lost" + std::to_string(lost) + "@" +
                                                                 std::to_string(cpu)); });
  EXPECT_EQ(events, (std::vector<std::string>{"s1", "s2", "lost2@0"}));
  v = 3;
  EXPECT_EQ(m->output(0, &v, 4, 0), 0) << "consuming frees the ring";
}

TEST(PerfEventArray, UserViewStoresEventsAndWalksAsAnArray) {
  auto m = make_pea(3);
  uint32_t k = 2, cpu = 0, out = 0;
  EXPECT_EQ(m->lookup_user(&k, &out), -524);
  EXPECT_EQ(m->update_user(&k, &cpu, BPF_NOEXIST), -EINVAL);
  k = 3;
  EXPECT_EQ(m->update_user(&k, &cpu, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->delete_user(&k), -E2BIG);
  k = 2;
  EXPECT_EQ(m->delete_user(&k), -ENOENT);
  ASSERT_EQ(m->update_user(&k, &cpu, BPF_ANY), 0);  // index 2, bound to CPU 0
  uint8_t x = 9;
  EXPECT_EQ(m->output(2, &x, 1, 0), 0);
  EXPECT_EQ(m->output(2, &x, 1, 2), -EOPNOTSUPP);
  EXPECT_EQ(m->delete_user(&k), 0);
  EXPECT_EQ(m->output(2, &x, 1, 0), -ENOENT);
  EXPECT_EQ(m->lookup(&k), nullptr);
  std::vector<uint32_t> keys;
  const uint32_t* cur = nullptr;
  uint32_t next;
  while (m->get_next_key_user(cur, &next) == 0) {
    keys.push_back(next);
    k = next;
    cur = &k;
  }
  EXPECT_EQ(keys, (std::vector<uint32_t>{0, 1, 2}));
}

}  // namespace
}  // namespace bpfkit::maps
