// `bpfkit run --target linux OBJ`: attach by section in the real kernel, stream
// events, stop on --duration or SIGINT, detach and print the maps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "../support/compile_bpf.h"
#include "../support/run_command.h"
#include "target/linux/bpf_syscall.h"

namespace {

namespace fs = std::filesystem;
using bpfkit::test_support::run_command;

const std::string kBpfkit = std::string(BPFKIT_BINARY_DIR) + "/bpfkit";
const std::string kExamples = std::string(BPFKIT_BINARY_DIR) + "/examples/";

#define REQUIRE_KERNEL_AND_EXAMPLES()                                                       \
  do {                                                                                      \
    if (!bpfkit::target::linux_kernel::kernel_bpf_available())                              \
      GTEST_SKIP() << "the kernel cannot run BPF here: "                                    \
                   << bpfkit::target::linux_kernel::kernel_bpf_unavailable_reason();        \
    if (!fs::exists(kExamples + "open_counter.bpf.o"))                                      \
      GTEST_SKIP() << "examples were not built (clang missing?)";                           \
  } while (0)

// A command whose output is read as it comes; its pid is known (for signals).
class Streamed {
 public:
  explicit Streamed(const std::string& cmd) {
    pipe_ = popen(("sh -c 'echo pid $$; exec " + cmd + "' 2>&1").c_str(), "r");
    if (pipe_ && std::fscanf(pipe_, "pid %d\n", &pid_) != 1) pid_ = -1;
  }
  ~Streamed() {
    if (pipe_) pclose(pipe_);
  }
  // Reads until a line contains `marker` (true) or the output ends (false).
  bool wait_for(const std::string& marker) {
    char line[4096];
    while (pipe_ && std::fgets(line, sizeof line, pipe_)) {
      output_ += line;
      if (std::string(line).find(marker) != std::string::npos) return true;
    }
    return false;
  }
  // Reads the rest and returns the exit status.
  int finish() {
    wait_for("\x01never\x01");
    const int st = pclose(pipe_);
    pipe_ = nullptr;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  int pid() const { return pid_; }
  const std::string& output() const { return output_; }
  // The JSON document the run prints last (its maps).
  nlohmann::json maps() const {
    const size_t at = output_.find("\n{");
    return at == std::string::npos ? nlohmann::json() : nlohmann::json::parse(output_.substr(at + 1));
  }

 private:
  FILE* pipe_ = nullptr;
  int pid_ = -1;
  std::string output_;
};

uint64_t opens_of(const nlohmann::json& maps, int pid) {
  for (const auto& e : maps.value("opens", nlohmann::json::array()))
    if (e["key"] == pid) return e["value"].get<uint64_t>();
  return 0;
}

TEST(RunLinux, ATracepointProgramCountsThisProcessesOpensExactly) {
  REQUIRE_KERNEL_AND_EXAMPLES();
  Streamed run(kBpfkit + " run --target linux " + kExamples + "open_counter.bpf.o --duration 2 --no-printk");
  ASSERT_TRUE(run.wait_for("running")) << run.output();
  EXPECT_NE(run.output().find("attached: program 'count_openat' (tracepoint/syscalls/sys_enter_openat) to "
                              "tracepoint syscalls:sys_enter_openat"),
            std::string::npos)
      << run.output();
  constexpr int kOpens = 17;
  for (int i = 0; i < kOpens; ++i) {
    const int fd = open("/proc/self/stat", O_RDONLY);
    if (fd >= 0) close(fd);
  }
  ASSERT_EQ(run.finish(), 0) << run.output();
  EXPECT_NE(run.output().find("detached"), std::string::npos) << run.output();
  EXPECT_EQ(opens_of(run.maps(), getpid()), uint64_t(kOpens)) << run.output();
}

TEST(RunLinux, SigintDetachesAndPrintsTheMaps) {
  REQUIRE_KERNEL_AND_EXAMPLES();
  Streamed run(kBpfkit + " run --target linux " + kExamples + "open_counter.bpf.o --no-printk");
  ASSERT_TRUE(run.wait_for("running")) << run.output();
  ASSERT_GT(run.pid(), 0);
  const int fd = open("/proc/self/stat", O_RDONLY);
  if (fd >= 0) close(fd);
  kill(run.pid(), SIGINT);
  ASSERT_EQ(run.finish(), 0) << run.output();
  EXPECT_NE(run.output().find("detached"), std::string::npos) << run.output();
  EXPECT_EQ(opens_of(run.maps(), getpid()), 1u) << run.output();
  // Detached: no link of the program is left in the kernel.
  const auto links = run_command("bpftool link list 2>/dev/null");
  EXPECT_EQ(links.output.find("count_openat"), std::string::npos) << links.output;
}

TEST(RunLinux, SectionsItCannotAttachAreNamedWithTheReason) {
  REQUIRE_KERNEL_AND_EXAMPLES();
  BPFKIT_REQUIRE_BPF_CLANG();
  const std::string obj = bpfkit::test_support::compile_bpf(R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tracepoint/no_such_category/no_such_event") int nothing(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
)");
  ASSERT_FALSE(obj.empty());
  const auto r = run_command(kBpfkit + " run --target linux " + obj + " --duration 0");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("no_such_category"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("attached:"), std::string::npos) << r.output;
}

// Ring buffer records (formatted through BTF) and bpf_printk lines stream while the program is attached.
TEST(RunLinux, StreamsRingBufferRecordsAndPrintk) {
  REQUIRE_KERNEL_AND_EXAMPLES();
  BPFKIT_REQUIRE_BPF_CLANG();
  const std::string obj = bpfkit::test_support::compile_bpf(R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct event { __u32 pid; __u32 seq; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
__u32 seq = 0;
struct event last;  /* a global of the type puts `struct event` into the BTF */
SEC("tracepoint/syscalls/sys_enter_getppid") int on_getppid(void *ctx) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (pid != TARGET_PID) return 0;
  struct event e = {pid, ++seq};
  last = e;
  bpf_ringbuf_output(&events, &e, sizeof(e), 0);
  bpf_printk("getppid by %d, call %d", pid, e.seq);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
)", "-DTARGET_PID=" + std::to_string(getpid()));
  ASSERT_FALSE(obj.empty());
  Streamed run(kBpfkit + " run --target linux " + obj + " --duration 2 --event-type event");
  ASSERT_TRUE(run.wait_for("running")) << run.output();
  for (int i = 0; i < 3; ++i) getppid();
  ASSERT_EQ(run.finish(), 0) << run.output();
  const std::string pid = std::to_string(getpid());
  for (int i = 1; i <= 3; ++i) {
    EXPECT_NE(run.output().find("event events: {\"pid\":" + pid + ",\"seq\":" + std::to_string(i) + "}"),
              std::string::npos)
        << run.output();
  }
  EXPECT_NE(run.output().find("detached; 3 events"), std::string::npos) << run.output();
  // trace_pipe has one reader at a time: another test may hold it.
  if (run.output().find("bpf_printk output will not be shown") == std::string::npos) {
    EXPECT_NE(run.output().find("bpf_trace_printk: getppid by " + pid + ", call 3"), std::string::npos)
        << run.output();
  }
}

// Without privileges the kernel refuses the first map; the user reads one sentence saying what is needed.
TEST(RunLinux, MissingPrivilegesAreOneSentence) {
  REQUIRE_KERNEL_AND_EXAMPLES();
  if (geteuid() != 0 || run_command("command -v setpriv").status != 0) GTEST_SKIP() << "needs root and setpriv";
  const auto r = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + kBpfkit + " run --target linux " +
                             kExamples + "open_counter.bpf.o --duration 0");
  if (r.output.find("Permission denied") != std::string::npos && r.output.find("bpfkit:") == std::string::npos)
    GTEST_SKIP() << "user nobody cannot run the build's bpfkit: " << r.output;
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("map 'opens': BPF_MAP_CREATE failed: Operation not permitted (EPERM): needs root or CAP_BPF"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

// `trace` without privileges falls back to the userspace target: a kernel probe is refused at its
// location, and the user is told why the kernel was not used.
TEST(RunLinux, TraceWithoutPrivilegesSaysWhyTheKernelWasNotUsed) {
  REQUIRE_KERNEL_AND_EXAMPLES();
  if (geteuid() != 0 || run_command("command -v setpriv").status != 0) GTEST_SKIP() << "needs root and setpriv";
  const auto r = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + kBpfkit +
                             " trace -e 'tracepoint:syscalls:sys_enter_openat { }'");
  if (r.output.find("Permission denied") != std::string::npos && r.output.find("error") == std::string::npos)
    GTEST_SKIP() << "user nobody cannot run the build's bpfkit: " << r.output;
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("-e:1:1: error: the userspace target has no hook"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("the kernel target is not usable here (this process cannot load BPF programs"),
            std::string::npos)
      << r.output;
}

// A program the kernel refuses: its verifier log's end and bpfkit's verdict, side by side.
TEST(RunLinux, ARefusedProgramShowsBothVerifiers) {
  REQUIRE_KERNEL_AND_EXAMPLES();
  BPFKIT_REQUIRE_BPF_CLANG();
  const std::string obj = bpfkit::test_support::compile_bpf(R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64); __uint(max_entries, 8); } m SEC(".maps");
SEC("xdp") int no_null_check(struct xdp_md *ctx) {
  __u32 k = 1;
  __u64 *v = bpf_map_lookup_elem(&m, &k);
  return *v ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
)");
  ASSERT_FALSE(obj.empty());
  const auto r = run_command(kBpfkit + " run --target linux " + obj + " --iface lo --duration 0");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("program 'no_null_check' (section xdp): the kernel refused it: "), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("the kernel's verifier log ("), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("invalid mem access 'map_value_or_null'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bpfkit's verifier: insn "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("may be NULL"), std::string::npos) << r.output;
}

}  // namespace
