// `bpfkit run --target linux OBJ`: attach by section in the real kernel, stream
// events, stop on --duration or SIGINT, detach and print the maps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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
