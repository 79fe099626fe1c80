// The examples, run on both targets with the same input: the kernel's answers
// (BPF_PROG_TEST_RUN, or real tracepoint hits from this thread) are the oracle for
// the userspace target's return values, output packets, ring buffer records and maps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/tracepoint_format.h"
#include "hooks/packet_generator.h"
#include "object/bpf_object.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/linux_target.h"
#include "target/linux/trace_pipe.h"
#include "target/target.h"
#include "target/user/user_target.h"

namespace bpfkit::target {
namespace {

std::string example(const std::string& name) { return std::string(BPFKIT_BINARY_DIR) + "/examples/" + name + ".bpf.o"; }

#define REQUIRE_KERNEL_AND_EXAMPLE(name)                                                              \
  do {                                                                                                \
    if (!linux_kernel::kernel_bpf_available())                                                        \
      GTEST_SKIP() << "the kernel cannot run BPF here: " << linux_kernel::kernel_bpf_unavailable_reason(); \
    if (!std::filesystem::exists(example(name)))                                                      \
      GTEST_SKIP() << example(name) << " was not built (clang missing? scripts/install-deps.sh)";      \
  } while (0)

using Entries = std::map<std::vector<uint8_t>, std::vector<uint8_t>>;

Entries read_all(MapHandle& m) {
  Entries out;
  std::vector<uint8_t> key(m.definition().key_size), next(key.size()), value(m.value_buffer_size());
  bool first = true;
  while (m.get_next_key(first ? nullptr : key.data(), next.data()) == 0) {
    first = false;
    key = next;
    if (m.lookup(key.data(), value.data()) == 0) out[key] = value;
  }
  return out;
}

struct BothTargets {
  std::shared_ptr<object::BpfObject> object;
  std::unique_ptr<LoadedObject> user, kernel;

  explicit BothTargets(const std::string& path) : object(std::make_shared<object::BpfObject>(object::BpfObject::open(path))) {}
  void load() {
    user = make_user_target()->load(object);
    kernel = make_linux_target()->load(object);
  }
  // Every map (ring buffers aside) holds the same entries on both targets.
  void expect_same_maps() {
    for (MapHandle* um : user->maps()) {
      if (um->definition().type == BPF_MAP_TYPE_RINGBUF) continue;
      MapHandle* km = kernel->find_map(um->name());
      ASSERT_NE(km, nullptr) << um->name();
      EXPECT_EQ(read_all(*um), read_all(*km)) << "map " << um->name() << " differs between the targets";
    }
  }
};

std::vector<uint8_t> lpm_key(const std::string& cidr) {
  const hooks::Ipv4Prefix p = hooks::parse_ipv4_prefix(cidr);
  std::vector<uint8_t> key(8);
  const uint32_t len = p.len;
  std::memcpy(key.data(), &len, 4);
  for (int i = 0; i < 4; ++i) key[4 + i] = uint8_t(p.addr >> (24 - 8 * i));
  return key;
}

TEST(ExamplesKernel, XdpBlocklistGivesTheKernelsVerdictsPacketsAndMaps) {
  REQUIRE_KERNEL_AND_EXAMPLE("xdp_blocklist");
  BothTargets t(example("xdp_blocklist"));
  t.load();
  for (LoadedObject* side : {t.user.get(), t.kernel.get()}) {
    MapHandle* blocklist = side->find_map("blocklist");
    ASSERT_NE(blocklist, nullptr);
    for (const char* cidr : {"203.0.113.0/24", "192.168.0.0/17", "10.13.0.0/16", "10.200.0.0/13", "198.51.100.7/32"}) {
      const uint64_t zero = 0;
      ASSERT_EQ(blocklist->update(lpm_key(cidr).data(), &zero, BPF_ANY), 0) << cidr;
    }
  }
  ProgramHandle* up = t.user->find_program("xdp_blocklist");
  ProgramHandle* kp = t.kernel->find_program("xdp_blocklist");
  ASSERT_TRUE(up && kp);
  std::map<uint32_t, int> verdicts;
  size_t compared = 0;
  for (const hooks::CapturedPacket& p : hooks::generate_traffic({42, 3000})) {
    TestRunRequest req;
    req.data_in = p.data;
    TestRunResult k;
    try {
      k = kp->test_run(req);
    } catch (const linux_kernel::BpfError& e) {
      // The kernel refuses frames shorter than an Ethernet header; so must we.
      EXPECT_THROW(up->test_run(req), Error) << "the kernel refused a " << p.data.size() << "-byte packet: " << e.what();
      continue;
    }
    const TestRunResult u = up->test_run(req);
    ASSERT_EQ(u.retval, k.retval) << "packet of " << p.data.size() << " bytes";
    ASSERT_EQ(u.data_out, k.data_out);
    ++verdicts[k.retval];
    ++compared;
  }
  EXPECT_GT(compared, 2900u);
  EXPECT_GT(verdicts[XDP_DROP], 100) << "the blocklist should drop part of the generated traffic";
  EXPECT_GT(verdicts[XDP_PASS], 100);
  t.expect_same_maps();
}

TEST(ExamplesKernel, RingbufEventsProducesTheKernelsRecords) {
  REQUIRE_KERNEL_AND_EXAMPLE("ringbuf_events");
  BothTargets t(example("ringbuf_events"));
  t.load();
  ProgramHandle* up = t.user->find_program("xdp_events");
  ProgramHandle* kp = t.kernel->find_program("xdp_events");
  ASSERT_TRUE(up && kp);
  std::vector<std::vector<uint8_t>> user_records, kernel_records;
  for (const hooks::CapturedPacket& p : hooks::generate_traffic({7, 400})) {
    if (p.data.size() < 14) continue;
    TestRunRequest req;
    req.data_in = p.data;
    ASSERT_EQ(up->test_run(req).retval, kp->test_run(req).retval);
  }
  t.user->find_map("events")->consume_ringbuf([&](auto r) { user_records.emplace_back(r.begin(), r.end()); });
  t.kernel->find_map("events")->consume_ringbuf([&](auto r) { kernel_records.emplace_back(r.begin(), r.end()); });
  EXPECT_GT(kernel_records.size(), 300u);
  EXPECT_EQ(user_records, kernel_records);
  t.expect_same_maps();
}

// Attaches a loaded tracepoint program to the calling thread only, so that exactly
// the syscalls this test makes reach it.
class ThreadTracepoint {
 public:
  ThreadTracepoint(const std::string& tracepoint, int prog_fd) {
    const core::TracepointFormat format = core::load_tracepoint_format(tracepoint);
    perf_event_attr attr{};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof(attr);
    attr.config = format.id;
    attr.sample_period = 1;
    fd_ = int(syscall(__NR_perf_event_open, &attr, 0 /* this thread */, -1, -1, PERF_FLAG_FD_CLOEXEC));
    if (fd_ < 0) throw Error("perf_event_open(" + tracepoint + "): " + std::strerror(errno));
    if (ioctl(fd_, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0 || ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0) < 0) {
      throw Error("attaching to " + tracepoint + ": " + std::strerror(errno));
    }
  }
  ~ThreadTracepoint() { close(fd_); }

 private:
  int fd_;
};

TEST(ExamplesKernel, OpenCounterCountsLikeTheKernel) {
  REQUIRE_KERNEL_AND_EXAMPLE("open_counter");
  if (!core::tracefs_root()) GTEST_SKIP() << "tracefs is not available";
  BothTargets t(example("open_counter"));
  t.load();
  constexpr int kOpens = 25;
  {
    ThreadTracepoint attach("syscalls/sys_enter_openat", linux_kernel::program_fd(*t.kernel->find_program("count_openat")));
    for (int i = 0; i < kOpens; ++i) {
      int fd = open("/proc/self/stat", O_RDONLY);
      if (fd >= 0) close(fd);
    }
  }
  // The same events on the userspace target: this process, kOpens times.
  auto* prog = dynamic_cast<user::UserProgram*>(t.user->find_program("count_openat"));
  ASSERT_NE(prog, nullptr);
  core::TaskIdentity me = core::TaskIdentity::current();
  prog->set_task(me);
  std::vector<uint8_t> ctx(64, 0);
  for (int i = 0; i < kOpens; ++i) EXPECT_EQ(prog->run_context(ctx), 0u);
  const uint32_t tgid = uint32_t(getpid());
  uint64_t user_count = 0, kernel_count = 0;
  ASSERT_EQ(t.user->find_map("opens")->lookup(&tgid, &user_count), 0);
  ASSERT_EQ(t.kernel->find_map("opens")->lookup(&tgid, &kernel_count), 0);
  EXPECT_EQ(kernel_count, uint64_t(kOpens));
  EXPECT_EQ(user_count, kernel_count);
  t.expect_same_maps();
}

TEST(ExamplesKernel, HelloPrintsWhatTheKernelPrints) {
  REQUIRE_KERNEL_AND_EXAMPLE("hello");
  auto root = core::tracefs_root();
  if (!root) GTEST_SKIP() << "tracefs is not available";
  BothTargets t(example("hello"));
  const uint32_t me = uint32_t(getpid());
  // Set `target_tgid` in .rodata (which also holds the format string), at its DATASEC offset.
  const object::MapDefinition* rodata = t.object->find_map("hello.rodata");
  ASSERT_NE(rodata, nullptr);
  std::vector<uint8_t> bytes = rodata->initial_value;
  const object::Btf& btf = *t.object->btf();
  const auto* sec = btf.type(*btf.find_by_name(".rodata", object::BtfKind::Datasec)).as<object::BtfDatasec>();
  bool found = false;
  for (const auto& v : sec->vars) {
    if (btf.type(v.type).name == "target_tgid") std::memcpy(&bytes[v.offset], &me, 4), found = true;
  }
  ASSERT_TRUE(found);
  ASSERT_TRUE(t.object->set_initial_value("hello.rodata", bytes));
  std::vector<std::string> user_lines;
  TargetOptions opts;
  opts.on_printk = [&](std::string_view line) { user_lines.emplace_back(line); };
  t.user = make_user_target(opts)->load(t.object);
  t.kernel = make_linux_target()->load(t.object);

  // trace_pipe, opened before the write: lines are consumed by whoever reads them, and the kernel admits one
  // reader at a time, so holding it keeps other tests (which wait for it) from taking this test's line.
  linux_kernel::TracePipeOptions pipe_options;
  pipe_options.pid = int32_t(me);
  pipe_options.busy_wait_ms = 10'000;
  linux_kernel::TracePipe pipe(pipe_options);
  {
    ThreadTracepoint attach("syscalls/sys_enter_write", linux_kernel::program_fd(*t.kernel->find_program("hello")));
    int fd = open("/dev/null", O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "hello!", 6), 6);
    close(fd);
  }
  std::string kernel_line;
  for (int i = 0; i < 20 && kernel_line.empty(); ++i) {
    pipe.poll(100, [&](const linux_kernel::TraceLine& l) { kernel_line = l.message; });
  }
  ASSERT_FALSE(kernel_line.empty()) << "no line from the kernel in " << pipe.path();

  // The same write on the userspace target: fd, count as the kernel saw them.
  auto* prog = dynamic_cast<user::UserProgram*>(t.user->find_program("hello"));
  prog->set_task(core::TaskIdentity::current());
  std::vector<uint8_t> ctx(48, 0);
  const int32_t nr = SYS_write;
  const uint64_t dev_null_fd = std::stoul(kernel_line.substr(kernel_line.rfind(' ') + 1)), count = 6;
  std::memcpy(&ctx[8], &nr, 4);
  std::memcpy(&ctx[16], &dev_null_fd, 8);
  std::memcpy(&ctx[32], &count, 8);
  prog->run_context(ctx);
  ASSERT_EQ(user_lines.size(), 1u);
  EXPECT_EQ(user_lines[0], kernel_line);
  t.expect_same_maps();
}

}  // namespace
}  // namespace bpfkit::target
