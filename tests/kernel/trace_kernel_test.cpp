// bpfkit's tracing language on the real kernel: scripts compiled by bpfkit (no LLVM),
// loaded and attached on the Linux target, triggered by this test, output checked
// exactly where the test controls the events.
#include <fcntl.h>
#include <link.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <thread>

#include "kernel_test_util.h"
#include "lang/compile.h"
#include "lang/trace_run.h"
#include "target/target.h"

extern "C" __attribute__((noinline)) int bpfkit_trace_uprobe_target(int x) {
  asm volatile("" ::: "memory");
  return 3 * x + 1;
}

namespace bpfkit::lang {
namespace {

class TraceKernel : public kernel_test::KernelTest {
 protected:
  // Runs `text` until `trigger` (called once the probes are attached) returns and the
  // events are in, or until the script exits by itself.
  std::string trace(const std::string& text, const std::function<void()>& trigger = {},
                    std::vector<std::string> positional = {}) {
    Source source("test.bt", text);
    CompileOptions co;
    co.positional = std::move(positional);
    CompiledScript script = compile_script(source, co);
    auto target = target::make_linux_target();
    std::mutex mu;
    std::condition_variable cv;
    bool attached = false;
    std::string out;
    std::atomic<bool> stop{false};
    TraceRunOptions ro;
    ro.write = [&](std::string_view s) {
      std::lock_guard<std::mutex> lock(mu);
      out += s;
      if (out.find("Attaching") != std::string::npos) attached = true;
      cv.notify_all();
    };
    ro.interrupted = &stop;
    ro.duration_s = 20;  // a safety net; the tests stop it much sooner
    std::exception_ptr failure;
    std::thread runner([&] {
      try {
        run_trace(source, script, *target, ro);
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu);
      attached = true;
      cv.notify_all();
    });
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return attached; });
    }
    if (trigger && !failure) trigger();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop = true;
    runner.join();
    if (failure) std::rethrow_exception(failure);
    return out;
  }
};

TEST_F(TraceKernel, OpenatFilenamesAndCountsAreExact) {
  const std::string path = "/tmp/bpfkit-trace-test-" + std::to_string(getpid());
  std::string out = trace(
      "tracepoint:syscalls:sys_enter_openat /pid == $1/ { @opens[str(args->filename)] = count(); "
      "if (str(args->filename) == \"" + path + "\") { printf(\"open %s by %s\\n\", str(args->filename), comm); } }",
      [&] {
        for (int i = 0; i < 7; ++i) close(open(path.c_str(), O_RDONLY | O_CREAT, 0600));
      },
      {std::to_string(getpid())});
  unlink(path.c_str());
  EXPECT_NE(out.find("@opens[" + path + "]: 7\n"), std::string::npos) << out;
  EXPECT_NE(out.find("open " + path + " by bpfkit_kernel_"), std::string::npos) << out;
}

TEST_F(TraceKernel, UprobeArgumentsAndReturnValues) {
  std::string out = trace(
      "uprobe:/proc/self/exe:bpfkit_trace_uprobe_target /pid == $1/ { @calls = count(); @args = sum(arg0); "
      "@byarg[arg0] = count(); } "
      "uretprobe:/proc/self/exe:bpfkit_trace_uprobe_target /pid == $1/ { @ret = sum(retval); @last = retval; "
      "printf(\"%s returned %d at %lu\\n\", func, retval, uaddr(\"bpfkit_trace_uprobe_target\")); }",
      [] {
        volatile int sink = 0;
        for (int i = 1; i <= 5; ++i) sink = sink + bpfkit_trace_uprobe_target(i);
      },
      {std::to_string(getpid())});
  EXPECT_NE(out.find("@calls: 5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@args: 15\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@ret: 50\n"), std::string::npos) << out;  // sum of 3i+1 for i = 1..5
  EXPECT_NE(out.find("@last: 16\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@byarg[3]: 1\n"), std::string::npos) << out;
  // uaddr(): the symbol's address in the ELF file, i.e. the run-time address less the load bias.
  uintptr_t bias = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        *static_cast<uintptr_t*>(data) = info->dlpi_addr;
        return 1;  // the first entry is the executable
      },
      &bias);
  const uintptr_t vaddr = reinterpret_cast<uintptr_t>(&bpfkit_trace_uprobe_target) - bias;
  EXPECT_NE(out.find("bpfkit_trace_uprobe_target returned 4 at " + std::to_string(vaddr) + "\n"), std::string::npos)
      << out;
}

TEST_F(TraceKernel, BufOfUserMemory) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string out = trace(
      "tracepoint:syscalls:sys_enter_write /pid == $1 && args->fd == $2/ { printf(\"%r|%rx\\n\", "
      "buf(args->buf, args->count), buf(args->buf, 2)); } ",
      [&] {
        const char data[] = "ab\x01\n";
        if (write(fds[1], data, 4) != 4) ADD_FAILURE() << "write";
      },
      {std::to_string(getpid()), std::to_string(fds[1])});
  close(fds[0]);
  close(fds[1]);
  EXPECT_NE(out.find("ab\\x01\\x0a|\\x61\\x62\n"), std::string::npos) << out;
}

TEST_F(TraceKernel, SyscallLatencyHistogram) {
  std::string out = trace(
      "tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @start[tid] = nsecs; } "
      "tracepoint:syscalls:sys_exit_getppid /pid == $1 && @start[tid]/ { @ns = hist(nsecs - @start[tid]); "
      "@n = count(); delete(@start[tid]); }",
      [] {
        for (int i = 0; i < 100; ++i) getppid();
      },
      {std::to_string(getpid())});
  EXPECT_NE(out.find("@n: 100\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@ns: \n["), std::string::npos) << out;
  // The bucket counts add up to the calls.
  std::regex bucket(R"(\n\[[^\]\)]*[\]\)]\s+(\d+) \|)");
  uint64_t total = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), bucket); it != std::sregex_iterator(); ++it) {
    total += std::stoull((*it)[1]);
  }
  EXPECT_EQ(total, 100u) << out;
}

TEST_F(TraceKernel, WildcardTracepointsAndProbeBuiltin) {
  std::string out = trace("tracepoint:sched:sched_process_* { @[probe] = count(); }", [] {
    for (int i = 0; i < 3; ++i) {
      pid_t child = fork();
      if (child == 0) _exit(0);
      waitpid(child, nullptr, 0);
    }
  });
  EXPECT_NE(out.find("Attaching "), std::string::npos);
  EXPECT_NE(out.find("@[tracepoint:sched:sched_process_fork]: "), std::string::npos) << out;
  EXPECT_NE(out.find("@[tracepoint:sched:sched_process_exit]: "), std::string::npos) << out;
}

TEST_F(TraceKernel, ProfileKernelStacksAndCurtask) {
  std::string out = trace(
      "profile:hz:999 /pid == $1/ { @[kstack] = count(); @ppid = curtask->real_parent->tgid; }",
      [] {
        // Time in the kernel: reads of /dev/zero.
        int fd = open("/dev/zero", O_RDONLY);
        char buf[65536];
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
        while (std::chrono::steady_clock::now() < until) {
          if (read(fd, buf, sizeof(buf)) < 0) break;
        }
        close(fd);
      },
      {std::to_string(getpid())});
  EXPECT_NE(out.find("@ppid: " + std::to_string(getppid()) + "\n"), std::string::npos) << out;
  // A kernel stack as a map key: frames indented by 4, "name+offset".
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(@\[\n    [a-z_0-9.]+\+\d+\n)"))) << out;
}

TEST_F(TraceKernel, VerifierRefusalIsReportedAtTheScriptLine) {
  try {
    trace("BEGIN { $i = 0;\n  while ($i >= 0) { $i = $i | 1; }\n  exit(); }");
    FAIL() << "an endless loop loaded";
  } catch (const SemanticError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("test.bt:2:"), std::string::npos) << what;
    EXPECT_NE(what.find("the kernel's verifier refused"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace bpfkit::lang
