// Tracing programs attached by their SEC() names in the running kernel: a syscall
// tracepoint sees this process's openat calls, a raw and a BTF tracepoint fire, a
// uprobe/uretprobe on a function of this binary counts its calls and sees its return
// values, CPU-clock sampling collects stacks; destroying the links detaches. And the
// sentences for what this kernel cannot do (kprobes, fentry/LSM under lockdown) or
// what does not exist (tracepoints).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "../support/compile_bpf.h"
#include "kernel_test_util.h"
#include "object/bpf_object.h"
#include "target/linux/attach.h"
#include "target/linux/attach_btf.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/elf_symbol_offset.h"
#include "target/linux/linux_target.h"
#include "target/linux/perf_buffer.h"
#include "target/linux/trace_attach.h"
#include "target/target.h"

// What the uprobe test probes: called through a volatile argument so it is neither
// inlined nor specialised.
extern "C" __attribute__((noinline)) int bpfkit_attach_trace_target(int x) {
  asm volatile("" ::: "memory");
  return 2 * x + 1;
}

namespace bpfkit::target::linux_kernel {
namespace {

using test_support::compile_bpf;

// Counter slots of the `counts` map.
enum Slot : uint32_t {
  kOpenat,
  kGetppid,
  kUprobe,
  kUprobeArgSum,
  kUretprobe,
  kUretprobeSum,
  kSamples,
  kStacks
};

constexpr const char* kTraceSource = R"(
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); }
    counts SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32);
         __type(value, char[64]); } last_open SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK_TRACE); __uint(max_entries, 256); __uint(key_size, 4);
         __uint(value_size, 127 * 8); } stacks SEC(".maps");

static __always_inline int ours(void) { return (bpf_get_current_pid_tgid() >> 32) == TARGET_PID; }
static __always_inline void bump(__u32 slot, __u64 by) {
  __u64 *v = bpf_map_lookup_elem(&counts, &slot);
  if (v) __sync_fetch_and_add(v, by);
}

/* tracefs events/syscalls/sys_enter_openat/format */
struct openat_args { __u64 common; __s32 nr; __s32 pad; __u64 dfd; const char *filename; __u64 flags, mode; };

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct openat_args *ctx) {
  if (!ours()) return 0;
  __u32 zero = 0;
  char *name = bpf_map_lookup_elem(&last_open, &zero);
  if (name) bpf_probe_read_user_str(name, 64, ctx->filename);
  bump(0, 1);
  return 0;
}

SEC("raw_tp/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx) {
  if (ours() && ctx->args[1] == NR_GETPPID) bump(1, 1);
  return 0;
}

/* x86-64 struct pt_regs: 21 registers, rax at 10, rdi at 14. */
struct regs { __u64 r[21]; };

SEC("uprobe//proc/self/exe:bpfkit_attach_trace_target")
int on_call(struct regs *ctx) {
  if (!ours()) return 0;
  bump(2, 1);
  bump(3, (__u32)ctx->r[14]);
  return 0;
}

SEC("uretprobe//proc/self/exe:bpfkit_attach_trace_target")
int on_return(struct regs *ctx) {
  if (!ours()) return 0;
  bump(4, 1);
  bump(5, (__u32)ctx->r[10]);
  return 0;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx) {
  if (!ours()) return 0;
  bump(6, 1);
  if (bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK) >= 0) bump(7, 1);
  return 0;
}

SEC("kprobe/do_unlinkat")
int on_unlink(void *ctx) { return 0; }

SEC("ksyscall/openat")
int on_openat_kprobe(void *ctx) { return 0; }

SEC("tracepoint/syscalls/sys_enter_opnat")
int on_misspelt(void *ctx) { return 0; }

SEC("raw_tp/no_such_raw_tracepoint")
int on_missing_raw(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
)";

std::string pid_flags() {
  return "-DTARGET_PID=" + std::to_string(getpid()) + " -DNR_GETPPID=" + std::to_string(SYS_getppid);
}

// The kind of BPF link behind a link fd, as `bpftool link` lists it.
uint32_t link_type(int link_fd) {
  bpf_link_info info{};
  bpf_attr attr{};
  attr.info.bpf_fd = uint32_t(link_fd);
  attr.info.info_len = sizeof(info);
  attr.info.info = reinterpret_cast<uintptr_t>(&info);
  EXPECT_EQ(syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)), 0) << std::strerror(errno);
  return info.type;
}

void busy_for(std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  volatile uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
}

class AttachTrace : public kernel_test::KernelTest {
 protected:
  static void SetUpTestSuite() {
    if (!kernel_bpf_available() || !test_support::have_bpf_clang()) return;
    const std::string path = compile_bpf(kTraceSource, pid_flags());
    if (path.empty()) return;
    object_ = std::make_shared<const object::BpfObject>(object::BpfObject::open(path));
    loaded_ = make_linux_target()->load(object_).release();
  }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
    object_.reset();
  }

  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    BPFKIT_REQUIRE_BPF_CLANG();
    ASSERT_NE(loaded_, nullptr) << "the tracing object did not compile or load";
  }

  static ProgramHandle& program(const std::string& name) {
    ProgramHandle* p = loaded_->find_program(name);
    EXPECT_NE(p, nullptr) << name;
    return *p;
  }
  static std::vector<LinkPtr> attach(const std::string& name, const AttachOptions& options = {}) {
    ProgramHandle& p = program(name);
    return attach_program(program_fd(p), p.definition(), options);
  }
  static std::string attach_error(const std::string& name, const AttachOptions& options = {}) {
    try {
      attach(name, options);
    } catch (const TargetError& e) {
      return e.what();
    }
    return "(attached)";
  }
  static uint64_t count(Slot slot) {
    uint64_t value = 0;
    EXPECT_EQ(loaded_->find_map("counts")->lookup(&slot, &value), 0);
    return value;
  }

  static inline std::shared_ptr<const object::BpfObject> object_;
  static inline LoadedObject* loaded_ = nullptr;
};

TEST_F(AttachTrace, SyscallTracepointSeesThisProcessOpeningAFile) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("bpfkit-attach-" + std::to_string(getpid()))).string();
  std::ofstream(path) << "x";
  std::vector<LinkPtr> links = attach("on_openat");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0]->describe(), "tracepoint syscalls:sys_enter_openat");
  ASSERT_GE(links[0]->link_fd(), 0);
  EXPECT_EQ(link_type(links[0]->link_fd()), uint32_t(BPF_LINK_TYPE_PERF_EVENT));
  const uint64_t before = count(kOpenat);
  for (int i = 0; i < 3; ++i) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  EXPECT_EQ(count(kOpenat) - before, 3u);
  char name[64] = {};
  const uint32_t zero = 0;
  ASSERT_EQ(loaded_->find_map("last_open")->lookup(&zero, name), 0);
  EXPECT_EQ(std::string(name), path);

  links.clear();  // detaches: further opens go unseen
  const uint64_t detached = count(kOpenat);
  close(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(count(kOpenat), detached);
  std::filesystem::remove(path);
}

TEST_F(AttachTrace, RawTracepointFires) {
  std::vector<LinkPtr> links = attach("on_sys_enter");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0]->describe(), "raw_tracepoint sys_enter");
  EXPECT_EQ(link_type(links[0]->link_fd()), uint32_t(BPF_LINK_TYPE_RAW_TRACEPOINT));
  const uint64_t before = count(kGetppid);
  for (int i = 0; i < 5; ++i) syscall(SYS_getppid);
  EXPECT_EQ(count(kGetppid) - before, 5u);
  links.clear();
  syscall(SYS_getppid);
  EXPECT_EQ(count(kGetppid) - before, 5u);
}

TEST_F(AttachTrace, UprobeAndUretprobeCountCallsAndSeeReturnValues) {
  AttachOptions options;
  options.pid = getpid();
  std::vector<LinkPtr> entry = attach("on_call", options);
  std::vector<LinkPtr> exit = attach("on_return", options);
  ASSERT_EQ(entry.size(), 1u);
  ASSERT_EQ(exit.size(), 1u);
  EXPECT_NE(entry[0]->describe().find("uprobe /proc/self/exe:bpfkit_attach_trace_target"), std::string::npos)
      << entry[0]->describe();
  EXPECT_NE(exit[0]->describe().find("uretprobe"), std::string::npos) << exit[0]->describe();
  const uint64_t calls = count(kUprobe), args = count(kUprobeArgSum);
  const uint64_t returns = count(kUretprobe), results = count(kUretprobeSum);
  constexpr int kCalls = 7;
  uint64_t arg_sum = 0, result_sum = 0;
  for (int i = 0; i < kCalls; ++i) {
    volatile int arg = i;  // no constant-propagated clone of the target
    result_sum += uint64_t(bpfkit_attach_trace_target(arg));
    arg_sum += uint64_t(i);
  }
  EXPECT_EQ(count(kUprobe) - calls, uint64_t(kCalls));
  EXPECT_EQ(count(kUprobeArgSum) - args, arg_sum);
  EXPECT_EQ(count(kUretprobe) - returns, uint64_t(kCalls));
  EXPECT_EQ(count(kUretprobeSum) - results, result_sum);

  entry.clear();
  exit.clear();
  volatile int x = 3;
  bpfkit_attach_trace_target(x);
  EXPECT_EQ(count(kUprobe) - calls, uint64_t(kCalls));
  EXPECT_EQ(count(kUretprobe) - returns, uint64_t(kCalls));
}

// A probe by file offset ("PATH:0x1234") lands where the symbol would: with both attached,
// every call is counted twice.
TEST_F(AttachTrace, UprobeByFileOffsetHitsTheSameInstruction) {
  AttachOptions options;
  options.pid = getpid();
  std::vector<LinkPtr> by_symbol = attach("on_call", options);
  const uint64_t offset = elf_symbol_offset("/proc/self/exe", "bpfkit_attach_trace_target").file_offset;
  UprobeTarget by_offset;
  by_offset.path = "/proc/self/exe";
  by_offset.offset = offset;
  LinkPtr link = attach_uprobe(program_fd(program("on_call")), by_offset, false, getpid());
  EXPECT_NE(link->describe().find("file offset"), std::string::npos) << link->describe();
  const uint64_t before = count(kUprobe);
  volatile int arg = 5;
  bpfkit_attach_trace_target(arg);
  bpfkit_attach_trace_target(arg);
  EXPECT_EQ(count(kUprobe) - before, 4u);
}

TEST_F(AttachTrace, PerfEventSamplingCollectsStacks) {
  AttachOptions options;
  options.sample_freq = 1000;
  std::vector<LinkPtr> links = attach("on_sample", options);
  EXPECT_EQ(links.size(), online_cpus().size());
  for (const LinkPtr& l : links) EXPECT_EQ(link_type(l->link_fd()), uint32_t(BPF_LINK_TYPE_PERF_EVENT));
  const uint64_t before = count(kSamples);
  busy_for(std::chrono::milliseconds(200));
  EXPECT_GT(count(kSamples) - before, 20u);  // ~200 expected at 1000 Hz
  EXPECT_GT(count(kStacks), 0u);
  MapHandle* stacks = loaded_->find_map("stacks");
  uint32_t key = 0;
  EXPECT_EQ(stacks->get_next_key(nullptr, &key), 0) << "no stack in the stack trace map";

  links.clear();
  const uint64_t detached = count(kSamples);
  busy_for(std::chrono::milliseconds(30));
  EXPECT_EQ(count(kSamples), detached);
}

// With a pid, one event follows the process across CPUs.
TEST_F(AttachTrace, PerfEventSamplingOfOneProcess) {
  AttachOptions options;
  options.sample_freq = 1000;
  options.pid = getpid();
  std::vector<LinkPtr> links = attach("on_sample", options);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_NE(links[0]->describe().find("in pid " + std::to_string(getpid())), std::string::npos);
  const uint64_t before = count(kSamples);
  busy_for(std::chrono::milliseconds(100));
  EXPECT_GT(count(kSamples) - before, 10u);
  options.sample_freq = 0;
  EXPECT_NE(attach_error("on_sample", options).find("needs a frequency above 0 Hz"), std::string::npos);
}

TEST_F(AttachTrace, KprobeSectionsSayTheKernelHasNoKprobes) {
  if (kernel_has_kprobes()) {
    // A kernel with kprobes attaches them like uprobes.
    EXPECT_EQ(attach("on_unlink").size(), 1u);
    return;
  }
  const std::string error = attach_error("on_unlink");
  EXPECT_NE(
      error.find("program 'on_unlink' (section 'kprobe/do_unlinkat') cannot be attached: this kernel has no "
                 "kprobes"),
      std::string::npos)
      << error;
  EXPECT_NE(error.find("fentry/fexit"), std::string::npos) << error;
  const std::string syscall_error = attach_error("on_openat_kprobe");
  EXPECT_NE(syscall_error.find("tracepoint/syscalls/sys_enter_openat"), std::string::npos) << syscall_error;
  EXPECT_THROW(attach_kprobe(program_fd(program("on_unlink")), "do_unlinkat", 0, false), TargetError);
}

TEST_F(AttachTrace, UnknownTracepointsAreNamed) {
  const std::string error = attach_error("on_misspelt");
  EXPECT_NE(
      error.find("program 'on_misspelt' (section 'tracepoint/syscalls/sys_enter_opnat'): unknown tracepoint "
                 "'syscalls:sys_enter_opnat'"),
      std::string::npos)
      << error;
  EXPECT_NE(error.find("did you mean 'syscalls:sys_enter_openat'"), std::string::npos) << error;
  EXPECT_NE(attach_error("on_missing_raw").find("unknown raw tracepoint 'no_such_raw_tracepoint'"),
            std::string::npos);
  try {
    tracepoint_id(parse_tracepoint_name("sycalls/sys_enter_openat"));
    ADD_FAILURE() << "no error";
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'syscalls:sys_enter_openat'"), std::string::npos)
        << e.what();
  }
  EXPECT_GT(tracepoint_id(parse_tracepoint_name("syscalls:sys_enter_openat")), 0u);
}

TEST_F(AttachTrace, UprobeOnAMissingSymbolOrFileIsNamed) {
  UprobeTarget target = parse_uprobe_target("/proc/self/exe:bpfkit_no_such_function");
  try {
    attach_uprobe(program_fd(program("on_call")), target, false);
    ADD_FAILURE() << "no error";
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("no symbol named 'bpfkit_no_such_function'"), std::string::npos)
        << e.what();
  }
  target = parse_uprobe_target("/no/such/binary:main");
  try {
    attach_uprobe(program_fd(program("on_call")), target, true);
    ADD_FAILURE() << "no error";
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("'/no/such/binary': No such file"), std::string::npos) << e.what();
  }
}

// BTF-typed hooks: one object per program, as an object with a refused program does not load.
constexpr const char* kBtfHookPrologue = R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); }
    hits SEC(".maps");

static __always_inline void hit(void) {
  __u32 zero = 0;
  __u64 *v = bpf_map_lookup_elem(&hits, &zero);
  if (v) __sync_fetch_and_add(v, 1);
}
char LICENSE[] SEC("license") = "GPL";
)";

/* btf_trace_sys_enter: (void *, struct pt_regs *regs, long id) -> ctx[0] regs, ctx[1] id */
constexpr const char* kTpBtfProgram = R"(
SEC("tp_btf/sys_enter")
int on_btf_sys_enter(__u64 *ctx) {
  if ((bpf_get_current_pid_tgid() >> 32) == TARGET_PID && ctx[1] == NR_GETPPID) hit();
  return 0;
}
)";

constexpr const char* kFentryProgram = R"(
SEC("fentry/do_unlinkat")
int on_unlinkat(__u64 *ctx) { hit(); return 0; }
)";

constexpr const char* kLsmProgram = R"(
SEC("lsm/file_open")
int on_file_open(__u64 *ctx) { hit(); return 0; }
)";

class AttachBtfHooks : public kernel_test::KernelTest {
 protected:
  static void SetUpTestSuite() {
    if (!kernel_bpf_available() || !test_support::have_bpf_clang()) return;
    for (const char* program : {kTpBtfProgram, kFentryProgram, kLsmProgram}) {
      paths_.push_back(compile_bpf(std::string(kBtfHookPrologue) + program, pid_flags()));
    }
  }
  static void TearDownTestSuite() { paths_.clear(); }
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    BPFKIT_REQUIRE_BPF_CLANG();
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "the kernel has no BTF";
    ASSERT_EQ(paths_.size(), 3u);
    for (const std::string& p : paths_) ASSERT_FALSE(p.empty()) << "a BTF hook program did not compile";
  }
  static std::unique_ptr<LoadedObject> load(size_t index) {
    return make_linux_target()->load(
        std::make_shared<const object::BpfObject>(object::BpfObject::open(paths_.at(index))));
  }
  static inline std::vector<std::string> paths_;
};

TEST_F(AttachBtfHooks, ResolvesRealVmlinuxIds) {
  const auto btf = vmlinux_btf();
  auto id_of = [](const char* section) {
    return resolve_attach_btf_id(*object::parse_section_name(section));
  };
  const uint32_t unlinkat = id_of("fentry/do_unlinkat");
  ASSERT_NE(unlinkat, 0u);
  EXPECT_EQ(btf->type(unlinkat).name, "do_unlinkat");
  EXPECT_EQ(btf->type(unlinkat).kind, object::BtfKind::Func);
  EXPECT_EQ(id_of("fexit/do_unlinkat"), unlinkat);
  const uint32_t file_open = id_of("lsm/file_open");
  EXPECT_EQ(btf->type(file_open).name, "bpf_lsm_file_open");
  EXPECT_EQ(btf->type(file_open).kind, object::BtfKind::Func);
  const uint32_t sched_switch = id_of("tp_btf/sched_switch");
  EXPECT_EQ(btf->type(sched_switch).name, "btf_trace_sched_switch");
  EXPECT_EQ(btf->type(sched_switch).kind, object::BtfKind::Typedef);
  EXPECT_EQ(btf->type(id_of("iter/task")).name, "bpf_iter_task");
  EXPECT_EQ(id_of("xdp"), 0u);
  EXPECT_EQ(id_of("tracepoint/syscalls/sys_enter_openat"), 0u);
  try {
    id_of("fentry/do_unlinkatt");
    ADD_FAILURE() << "no error";
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("the kernel has no function 'do_unlinkatt'"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("did you mean 'do_unlinkat'"), std::string::npos) << e.what();
  }
  try {
    id_of("lsm/no_such_hook");
    ADD_FAILURE() << "no error";
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("no LSM hook 'no_such_hook' (no FUNC bpf_lsm_no_such_hook"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(AttachBtfHooks, BtfTracepointFires) {
  std::unique_ptr<LoadedObject> loaded = load(0);
  ProgramHandle* p = loaded->find_program("on_btf_sys_enter");
  ASSERT_NE(p, nullptr);
  std::vector<LinkPtr> links = attach_program(program_fd(*p), p->definition(), {});
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0]->describe(), "tp_btf sys_enter");
  MapHandle* hits = loaded->find_map("hits");
  const uint32_t zero = 0;
  uint64_t before = 0, after = 0;
  ASSERT_EQ(hits->lookup(&zero, &before), 0);
  for (int i = 0; i < 4; ++i) syscall(SYS_getppid);
  ASSERT_EQ(hits->lookup(&zero, &after), 0);
  EXPECT_EQ(after - before, 4u);
  links.clear();
  syscall(SYS_getppid);
  ASSERT_EQ(hits->lookup(&zero, &before), 0);
  EXPECT_EQ(before, after);
}

// fentry and LSM programs are refused at load on kernels in lockdown; the load error
// explains the refusal in one sentence. Where they load, they attach.
TEST_F(AttachBtfHooks, FentryAndLsmLoadsExplainTheRefusal) {
  for (size_t index : {1, 2}) {
    const std::string kind = index == 1 ? "fentry" : "lsm";
    try {
      std::unique_ptr<LoadedObject> loaded = load(index);
      ProgramHandle* p = loaded->programs().at(0);
      std::vector<LinkPtr> links = attach_program(program_fd(*p), p->definition(), {});
      EXPECT_EQ(links.size(), 1u) << kind;
    } catch (const ProgramLoadError& e) {
      ASSERT_EQ(e.error_number(), EPERM) << e.what();
      const std::string message = e.what();
      const std::string refusal = "this kernel refuses " + kind + " programs even to root (EPERM: kernel lockdown";
      EXPECT_NE(message.find(refusal), std::string::npos) << message;
      EXPECT_NE(message.find("attach with tp_btf or a syscall tracepoint instead"), std::string::npos)
          << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  EXPECT_EQ(explain_load_refusal(*object::parse_section_name("xdp"), EPERM), "");
  EXPECT_EQ(explain_load_refusal(*object::parse_section_name("fentry/do_unlinkat"), EINVAL), "");
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
