// The CPU lists the kernel prints in /sys/devices/system/cpu/{online,possible},
// which the perf buffer reads to open one event per online CPU.
#include <gtest/gtest.h>
#include <unistd.h>

#include "target/linux/perf_buffer.h"

namespace bpfkit::target::linux_kernel {
namespace {

using Cpus = std::vector<uint32_t>;

TEST(CpuList, ParsesRangesAndSingles) {
  EXPECT_EQ(parse_cpu_list("0\n"), (Cpus{0}));
  EXPECT_EQ(parse_cpu_list("0-3\n"), (Cpus{0, 1, 2, 3}));
  EXPECT_EQ(parse_cpu_list("0-1,4,6-7"), (Cpus{0, 1, 4, 6, 7}));
}

TEST(CpuList, MalformedListsAreEmpty) {
  for (const char* text : {"", "\n", "a", "1-", "-1", "3-1", "0,,1", "0,", "1 2", "0-99999999"}) {
    EXPECT_TRUE(parse_cpu_list(text).empty()) << "'" << text << "'";
  }
}

TEST(CpuList, OnlineCpusAreAtMostTheConfiguredOnes) {
  const Cpus cpus = online_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_LE(cpus.size(), size_t(sysconf(_SC_NPROCESSORS_CONF)));
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
