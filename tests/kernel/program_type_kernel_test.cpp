// The program-type table against the running kernel: for every type this kernel
// loads, which helpers the verifier lets it call, which context accesses it
// accepts, which return values it enforces and whether BPF_PROG_TEST_RUN runs it.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "core/program_type.h"
#include "isa/instruction.h"
#include "kernel_test_util.h"
#include "target/linux/test_run_ctx.h"

namespace bpfkit {
namespace {

using core::ProgramTypeInfo;
using isa::RawInsn;

// Types a root process can load here (tracing and LSM need an attach BTF id, and
// this kernel's lockdown refuses them: KERNEL-NOTES.md).
const uint32_t kLoadableTypes[] = {
    BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_KPROBE,         BPF_PROG_TYPE_SCHED_CLS,
    BPF_PROG_TYPE_SCHED_ACT,     BPF_PROG_TYPE_TRACEPOINT,     BPF_PROG_TYPE_XDP,
    BPF_PROG_TYPE_PERF_EVENT,    BPF_PROG_TYPE_CGROUP_SKB,     BPF_PROG_TYPE_RAW_TRACEPOINT,
    BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, BPF_PROG_TYPE_SYSCALL,
};

struct Load {
  int fd = -1;
  int err = 0;
  std::string log;
  bool ok() const { return fd >= 0; }
};

// A load with a small log (thousands of these run; the verifier's answer is in the first lines).
Load try_load(const ProgramTypeInfo& info, const std::vector<RawInsn>& insns, uint32_t attach_type = 0) {
  static char log[1 << 16];
  log[0] = 0;
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = info.type;
  attr.insns = reinterpret_cast<uintptr_t>(insns.data());
  attr.insn_cnt = uint32_t(insns.size());
  attr.license = reinterpret_cast<uintptr_t>("GPL");
  attr.log_level = 1;
  attr.log_buf = reinterpret_cast<uintptr_t>(log);
  attr.log_size = sizeof(log);
  attr.prog_flags = info.load_flags;
  attr.expected_attach_type = attach_type;
  Load r;
  r.fd = int(syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)));
  r.err = r.fd < 0 ? errno : 0;
  r.log = log;
  return r;
}

struct Closer {
  int fd;
  ~Closer() {
    if (fd >= 0) close(fd);
  }
};

RawInsn mov_imm(uint8_t dst, int32_t imm) { return {uint8_t(BPF_ALU64 | BPF_MOV | BPF_K), dst, 0, 0, imm}; }
RawInsn exit_insn() { return {uint8_t(BPF_JMP | BPF_EXIT), 0, 0, 0, 0}; }
uint8_t size_code(uint32_t size) {
  return size == 1 ? BPF_B : size == 2 ? BPF_H : size == 4 ? BPF_W : BPF_DW;
}

class ProgramTypeKernelTest : public kernel_test::KernelTest {};

// The verifier's words for "this type may not call that helper" (check_helper_call()).
bool refused_helper(const std::string& log) {
  return log.find("cannot use helper") != std::string::npos || log.find("unknown func") != std::string::npos ||
         log.find("invalid func") != std::string::npos;
}

TEST_F(ProgramTypeKernelTest, HelperListsMatchTheVerifier) {
  for (uint32_t type : kLoadableTypes) {
    const ProgramTypeInfo* info = core::find_program_type(type);
    ASSERT_NE(info, nullptr) << type;
    std::ostringstream mismatches;
    int checked = 0;
    // Every helper id this kernel numbers (bpf_cgrp_storage_delete, 211, is the last).
    for (int32_t id = 1; id <= 211; ++id) {
      std::vector<RawInsn> prog = {mov_imm(1, 0), mov_imm(2, 0), mov_imm(3, 0), mov_imm(4, 0), mov_imm(5, 0),
                                   {uint8_t(BPF_JMP | BPF_CALL), 0, 0, 0, id}, mov_imm(0, 0), exit_insn()};
      Load r = try_load(*info, prog);
      Closer c{r.fd};
      // The kernel may still refuse the call for its arguments (zeros): only the
      // "cannot use helper" answer says the type may not call it at all.
      bool kernel_allows = !refused_helper(r.log);
      if (!r.ok() && r.log.empty()) FAIL() << info->name << " helper " << id << ": no verifier log, errno " << r.err;
      ++checked;
      if (kernel_allows != info->allows_helper(id)) {
        mismatches << " " << id << (kernel_allows ? "(kernel allows)" : "(kernel refuses)");
      }
    }
    EXPECT_EQ(mismatches.str(), "") << info->name << ": helper ids where the table and the verifier disagree";
    EXPECT_EQ(checked, 211);
  }
}

// One access of the context: a load into r0, or a store of r2 (a scalar), then exit 0.
std::vector<RawInsn> ctx_access_program(uint32_t offset, uint32_t size, bool write) {
  std::vector<RawInsn> prog = {mov_imm(2, 0)};
  if (write) {
    prog.push_back({uint8_t(BPF_STX | BPF_MEM | size_code(size)), 1, 2, int16_t(offset), 0});
  } else {
    prog.push_back({uint8_t(BPF_LDX | BPF_MEM | size_code(size)), 0, 1, int16_t(offset), 0});
  }
  prog.push_back(mov_imm(0, 0));
  prog.push_back(exit_insn());
  return prog;
}

TEST_F(ProgramTypeKernelTest, ContextAccessesMatchTheVerifier) {
  for (uint32_t type : kLoadableTypes) {
    const ProgramTypeInfo* info = core::find_program_type(type);
    ASSERT_NE(info, nullptr);
    if (type == BPF_PROG_TYPE_SYSCALL) continue;  // the ctx is whatever the caller passes
    // Tracepoint records are bounded by their format at attach time; sample the
    // start (the hidden common fields) and the load-time bound.
    uint32_t limit = info->ctx_size ? info->ctx_size + 8 : 64;
    std::ostringstream mismatches;
    int accepted = 0;
    for (bool write : {false, true}) {
      for (uint32_t size : {1u, 2u, 4u, 8u}) {
        for (uint32_t off = 0; off < limit; off += (off % size == 0 ? size : 1)) {
          Load r = try_load(*info, ctx_access_program(off, size, write));
          Closer c{r.fd};
          bool table = info->ctx_access_ok(off, size, write);
          accepted += r.ok();
          if (r.ok() != table) {
            const core::CtxField* f = info->field_at(off);
            mismatches << "\n  " << (write ? "store" : "load") << " off=" << off << " size=" << size << " ("
                       << (f ? f->name : "no field") << "): kernel " << (r.ok() ? "accepts" : "refuses");
          }
        }
        // A misaligned access is refused by both.
        Load r = try_load(*info, ctx_access_program(size == 1 ? 1 : size + 1, size == 1 ? 2 : size, write));
        Closer c{r.fd};
        EXPECT_FALSE(r.ok()) << info->name << " misaligned access";
      }
    }
    EXPECT_EQ(mismatches.str(), "") << info->name;
    EXPECT_GT(accepted, 0) << info->name;
  }
}

TEST_F(ProgramTypeKernelTest, ReturnRangesMatchTheVerifier) {
  struct Case {
    uint32_t type, attach;
  };
  const Case cases[] = {
      {BPF_PROG_TYPE_SOCKET_FILTER, 0}, {BPF_PROG_TYPE_SCHED_CLS, 0},  {BPF_PROG_TYPE_XDP, 0},
      {BPF_PROG_TYPE_TRACEPOINT, 0},    {BPF_PROG_TYPE_KPROBE, 0},     {BPF_PROG_TYPE_PERF_EVENT, 0},
      {BPF_PROG_TYPE_RAW_TRACEPOINT, 0}, {BPF_PROG_TYPE_SYSCALL, 0},
      {BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS}, {BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS},
  };
  for (const Case& c : cases) {
    const ProgramTypeInfo* info = core::find_program_type(c.type);
    ASSERT_NE(info, nullptr);
    std::optional<core::ReturnRange> range = info->return_range(c.attach);
    auto loads_with = [&](int32_t value) {
      Load r = try_load(*info, {mov_imm(0, value), exit_insn()}, c.attach);
      Closer closer{r.fd};
      return r.ok();
    };
    if (!range) {
      // Any value: XDP's unknown actions, for one, are the driver's problem, not the verifier's.
      EXPECT_TRUE(loads_with(12345)) << info->name;
      EXPECT_TRUE(loads_with(-1)) << info->name;
      continue;
    }
    EXPECT_TRUE(loads_with(int32_t(range->min))) << info->name << " attach " << c.attach;
    EXPECT_TRUE(loads_with(int32_t(range->max))) << info->name << " attach " << c.attach;
    EXPECT_FALSE(loads_with(int32_t(range->max + 1))) << info->name << " attach " << c.attach;
    EXPECT_FALSE(loads_with(int32_t(range->min - 1))) << info->name << " attach " << c.attach;
  }
}

TEST_F(ProgramTypeKernelTest, TestRunSupportMatchesTheKernel) {
  using target::linux_kernel::test_run_with_ctx;
  const std::vector<uint8_t> packet(64, 0);
  for (uint32_t type : kLoadableTypes) {
    const ProgramTypeInfo* info = core::find_program_type(type);
    Load r = try_load(*info, {mov_imm(0, 0), exit_insn()});
    Closer c{r.fd};
    ASSERT_TRUE(r.ok()) << info->name << ": " << r.log;
    bool supported = true;
    try {
      // Packet types take a packet; the others (raw_tp, syscall) only a context, no repeat.
      if (info->packet) {
        test_run_with_ctx(r.fd, packet, {}, 0, 1);
      } else {
        test_run_with_ctx(r.fd, {}, {}, 0, 0);
      }
    } catch (const target::linux_kernel::BpfError& e) {
      // ENOTSUPP (524): the type has no test_run; anything else is a wrong request.
      EXPECT_TRUE(e.error_number() == 524 || e.error_number() == ENOTSUP) << info->name << ": " << e.what();
      supported = false;
    }
    EXPECT_EQ(supported, info->kernel_test_run) << info->name;
  }
}

}  // namespace
}  // namespace bpfkit
