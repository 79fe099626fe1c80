// Clocks, randomness and the CPU number: bpf_ktime_get_ns (CLOCK_MONOTONIC),
// _boot_ns (CLOCK_BOOTTIME), _coarse_ns (CLOCK_MONOTONIC_COARSE), bpf_jiffies64,
// bpf_get_prandom_u32, bpf_get_smp_processor_id.
#include <linux/bpf.h>

#include <ctime>
#include <random>

#include "helpers/helper_support.h"

namespace bpfkit::helpers::detail {
namespace {

// Debian's kernels tick at CONFIG_HZ=250; user space cannot read the kernel's
// jiffies counter, so it is derived from the same clock as the kernel's.
constexpr uint64_t kHz = 250;
// The kernel starts jiffies 5 minutes before wrapping a u32 (INITIAL_JIFFIES).
constexpr uint64_t kInitialJiffies = uint64_t(uint32_t(-300 * int64_t(kHz)));

uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

uint64_t ktime_get_ns(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  return clock_ns(CLOCK_MONOTONIC);
}
uint64_t ktime_get_boot_ns(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  return clock_ns(CLOCK_BOOTTIME);
}
uint64_t ktime_get_coarse_ns(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  return clock_ns(CLOCK_MONOTONIC_COARSE);
}
uint64_t jiffies64(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  return kInitialJiffies + clock_ns(CLOCK_MONOTONIC_COARSE) / (1'000'000'000ull / kHz);
}
uint64_t get_prandom_u32(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  thread_local std::mt19937 rng{std::random_device{}()};
  return uint32_t(rng());
}
uint64_t get_smp_processor_id(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  return env ? env->cpu : 0;
}

}  // namespace

void add_time_helpers(core::HelperTable& t) {
  const core::HelperProto none = proto(RetKind::Integer);
  t.add({BPF_FUNC_ktime_get_ns, "ktime_get_ns", none, ktime_get_ns});
  t.add({BPF_FUNC_ktime_get_boot_ns, "ktime_get_boot_ns", none, ktime_get_boot_ns});
  t.add({BPF_FUNC_ktime_get_coarse_ns, "ktime_get_coarse_ns", none, ktime_get_coarse_ns});
  t.add({BPF_FUNC_jiffies64, "jiffies64", none, jiffies64});
  t.add({BPF_FUNC_get_prandom_u32, "get_prandom_u32", none, get_prandom_u32});
  t.add({BPF_FUNC_get_smp_processor_id, "get_smp_processor_id", none, get_smp_processor_id});
}

}  // namespace bpfkit::helpers::detail
