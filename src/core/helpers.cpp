#include "core/helpers.h"

#include <ctime>
#include <linux/bpf.h>
#include <random>
#include <sched.h>
#include <unistd.h>

#include "core/exec_env.h"

namespace bpfkit::core {
namespace {

uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

uint64_t ktime_get_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, ExecEnv*) {
  return clock_ns(CLOCK_MONOTONIC);
}
uint64_t ktime_get_boot_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, ExecEnv*) {
  return clock_ns(CLOCK_BOOTTIME);
}
uint64_t get_prandom_u32(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, ExecEnv*) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return uint32_t(rng());
}
uint64_t get_smp_processor_id(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, ExecEnv*) {
  int cpu = sched_getcpu();
  return cpu < 0 ? 0 : uint64_t(cpu);
}
// As the kernel packs it: tgid (process id) in the high half, pid (thread id) low.
uint64_t get_current_pid_tgid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, ExecEnv*) {
  return (uint64_t(uint32_t(getpid())) << 32) | uint32_t(gettid());
}
uint64_t get_current_uid_gid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, ExecEnv*) {
  return (uint64_t(getgid()) << 32) | getuid();
}

HelperTable build_standard() {
  HelperTable t;
  const HelperProto no_args{RetKind::Integer, {}};
  t.add({BPF_FUNC_ktime_get_ns, "ktime_get_ns", no_args, ktime_get_ns});
  t.add({BPF_FUNC_ktime_get_boot_ns, "ktime_get_boot_ns", no_args, ktime_get_boot_ns});
  t.add({BPF_FUNC_get_prandom_u32, "get_prandom_u32", no_args, get_prandom_u32});
  t.add({BPF_FUNC_get_smp_processor_id, "get_smp_processor_id", no_args, get_smp_processor_id});
  t.add({BPF_FUNC_get_current_pid_tgid, "get_current_pid_tgid", no_args, get_current_pid_tgid});
  t.add({BPF_FUNC_get_current_uid_gid, "get_current_uid_gid", no_args, get_current_uid_gid});
  return t;
}

}  // namespace

const HelperTable& HelperTable::standard() {
  static const HelperTable table = build_standard();
  return table;
}

}  // namespace bpfkit::core
