// The raw bpf(2) layer: loads, test runs, and errors that explain themselves.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {
namespace {

using kernel_test::KernelTest;

TEST(UniqueFd, ClosesOnceAndMoves) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[1]);
  {
    UniqueFd a(fds[0]);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), fds[0]);
    UniqueFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), fds[0]);
    EXPECT_NE(fcntl(fds[0], F_GETFD), -1);
  }
  EXPECT_EQ(fcntl(fds[0], F_GETFD), -1);  // closed by c
}

TEST(BpfErrno, SentencesNameTheErrnoAndTheCause) {
  EXPECT_NE(describe_bpf_errno(EPERM).find("EPERM"), std::string::npos);
  EXPECT_NE(describe_bpf_errno(EPERM).find("needs root or CAP_BPF"), std::string::npos);
  EXPECT_NE(describe_bpf_errno(EACCES).find("verifier rejected"), std::string::npos);
  EXPECT_NE(describe_bpf_errno(E2BIG).find("E2BIG"), std::string::npos);
  EXPECT_NE(describe_bpf_errno(524).find("ENOTSUPP"), std::string::npos);
}

class BpfSyscall : public KernelTest {};

TEST_F(BpfSyscall, LoadsAndTestRunsAnXdpProgram) {
  // Returns the packet length (data_end - data).
  std::vector<isa::RawInsn> prog = isa::assemble(R"(
    r2 = *(u32 *)(r1 + 4)
    r1 = *(u32 *)(r1 + 0)
    r0 = r2
    r0 -= r1
    exit
  )");
  UniqueFd fd = load_program(BPF_PROG_TYPE_XDP, prog, LoadOptions{.name = "bpfkit_test"});
  ASSERT_TRUE(fd.valid());
  std::vector<uint8_t> packet(60, 0xab);
  TestRunResult r = test_run_program(fd.get(), packet, 3);
  EXPECT_EQ(r.retval, 60u);
  EXPECT_EQ(r.data_out, packet);
}

TEST_F(BpfSyscall, RejectionCarriesTheVerifierLogAndErrno) {
  std::vector<isa::RawInsn> prog = isa::assemble("r0 = r5\nexit");
  try {
    load_program(BPF_PROG_TYPE_XDP, prog);
    FAIL() << "the kernel accepted a read of an uninitialised register";
  } catch (const BpfError& e) {
    EXPECT_EQ(e.error_number(), EACCES);
    EXPECT_NE(e.verifier_log().find("R5 !read_ok"), std::string::npos) << e.verifier_log();
    std::string what = e.what();
    EXPECT_NE(what.find("XDP"), std::string::npos) << what;
    EXPECT_NE(what.find("EACCES"), std::string::npos) << what;
    EXPECT_NE(what.find("verifier log"), std::string::npos) << what;
  }
}

TEST_F(BpfSyscall, RequestedLogComesBackOnSuccess) {
  std::vector<isa::RawInsn> prog = isa::assemble("r0 = 2\nexit");
  std::string log;
  LoadOptions options;
  options.log_level = 2;  // statistics
  options.log = &log;
  UniqueFd fd = load_program(BPF_PROG_TYPE_XDP, prog, options);
  EXPECT_TRUE(fd.valid());
  EXPECT_NE(log.find("processed"), std::string::npos) << log;
}

TEST_F(BpfSyscall, TestRunOfABadFdSaysSo) {
  std::vector<uint8_t> packet(14);
  try {
    test_run_program(999999, packet);
    FAIL() << "expected EBADF";
  } catch (const BpfError& e) {
    EXPECT_EQ(e.error_number(), EBADF);
    EXPECT_NE(std::string(e.what()).find("BPF_PROG_TEST_RUN"), std::string::npos);
  }
}

// Without privilege the load fails with a sentence that says what is missing.
TEST_F(BpfSyscall, UnprivilegedLoadExplainsEperm) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    std::string message = "no error";
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
      message = "setresuid failed";
    } else {
      try {
        load_program(BPF_PROG_TYPE_XDP, isa::assemble("r0 = 2\nexit"));
      } catch (const BpfError& e) {
        message = e.what();
      }
    }
    ssize_t n = write(fds[1], message.data(), message.size());
    _exit(n < 0 ? 1 : 0);
  }
  close(fds[1]);
  std::string message;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) message.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_NE(message.find("EPERM"), std::string::npos) << message;
  EXPECT_NE(message.find("needs root or CAP_BPF"), std::string::npos) << message;
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
