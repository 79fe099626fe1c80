// The verifier's structure pass against the kernel's verifier: the same small
// programs are given to build_program_graph and loaded into the running kernel
// (XDP, as root), and both must accept or both reject; a rejection must carry the
// kernel's own words in its log. Where the kernel decides only while interpreting
// (a loop whose exit the values never take), the graph passes and the case says so.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "target/linux/bpf_syscall.h"
#include "verifier/program_graph.h"

namespace bpfkit {
namespace {

namespace lk = target::linux_kernel;
using verifier::build_program_graph;
using verifier::GraphError;
using verifier::ProgramGraph;
using verifier::RejectKind;

struct KernelVerdict {
  bool accepted = false;
  int error_number = 0;
  std::string log;
};

KernelVerdict load_in_kernel(bpf_prog_type type, std::span<const isa::RawInsn> insns) {
  KernelVerdict v;
  std::string log;
  lk::LoadOptions options;
  options.log_level = 1;  // the log on the first attempt: no second verification on failure
  options.log = &log;
  try {
    lk::UniqueFd fd = lk::load_program(type, insns, options);
    v.accepted = true;
    v.log = log;
  } catch (const lk::BpfError& e) {
    v.error_number = e.error_number();
    v.log = e.verifier_log();
  }
  return v;
}

struct Case {
  const char* name;
  std::string text;
  RejectKind kind;                   // the graph's verdict (None: accepts)
  const char* kernel_says;           // in the kernel's log when it rejects; nullptr: the kernel accepts
  bool interpreter_decides = false;  // the graph accepts; the kernel rejects while interpreting
  // Callbacks (ld_imm64 func): the kernel wants BTF func_info, which load_program does not
  // pass, so it stops at "missing btf func_info"; only the graph's verdict is checked.
  bool needs_btf = false;
};

// main -> f1 -> ... -> f{calls}: calls + 1 frames.
std::string call_chain(int calls) {
  std::string text = "call f1\nexit\n";
  for (int i = 1; i <= calls; ++i) {
    text += "f" + std::to_string(i) + ":\n";
    text += i < calls ? "call f" + std::to_string(i + 1) + "\n" : "r0 = 0\n";
    text += "exit\n";
  }
  return text;
}

std::string many_functions(int functions) {
  std::string text;
  for (int i = 0; i < functions; ++i) text += "call f" + std::to_string(i) + "\n";
  text += "exit\n";
  for (int i = 0; i < functions; ++i) text += "f" + std::to_string(i) + ":\nr0 = 0\nexit\n";
  return text;
}

std::vector<Case> cases() {
  return {
      {"straight_line", "r0 = 0\nr1 = 0x1122334455 ll\nexit", RejectKind::None, nullptr},
      {"branches", R"(
          r0 = 0
          if r1 > 5 goto +2
          r0 = 1
          goto +1
          r0 = 2
          call 5
          r0 = 2
          exit)",
       RejectKind::None, nullptr},
      {"bounded_loop", R"(
          r1 = 0
        loop:
          r1 += 1
          if r1 < 10 goto loop
          r0 = 2
          exit)",
       RejectKind::None, nullptr},
      {"subprograms_and_callback", R"(
          r1 = 4
          r2 = func(cb) ll
          r3 = 0
          r4 = 0
          call 181
          call f
          exit
        f:
          r1 = 0
          call g
          exit
        g:
          r0 = 2
          exit
        cb:
          r0 = 0
          exit)",
       RejectKind::None, nullptr, false, true},
      {"eight_frames", call_chain(7), RejectKind::None, nullptr},
      {"nine_frames", call_chain(8), RejectKind::CallDepth, "frames is too deep"},
      {"recursion", R"(
          call f
          exit
        f:
          r0 = 0
          call f
          exit)",
       RejectKind::CallDepth, "frames is too deep"},
      {"mutual_recursion", R"(
          call f
          exit
        f:
          call g
          exit
        g:
          r0 = 0
          call f
          exit)",
       RejectKind::CallDepth, "frames is too deep"},
      {"callback_recursion", R"(
          r1 = 1
          r2 = func(cb) ll
          r3 = 0
          r4 = 0
          call 181
          exit
        cb:
          r1 = 1
          r2 = func(cb) ll
          r3 = 0
          r4 = 0
          call 181
          r0 = 0
          exit)",
       RejectKind::CallDepth, "frames is too deep", false, true},
      {"jump_out_of_program", "r0 = 0\nif r0 == 0 goto +5\nexit", RejectKind::BadJump,
       "jump out of range from insn 1 to 7"},
      {"jump_before_program", "r0 = 0\nif r0 == 0 goto -3\nexit", RejectKind::BadJump,
       "jump out of range from insn 1 to -1"},
      {"jump_into_callee", R"(
          call f
          if r0 > 0 goto +2
          exit
        f:
          r0 = 0
          exit)",
       RejectKind::BadJump, "jump out of range from insn 1 to 4"},
      {"jump_back_into_caller", R"(
          call f
          exit
        f:
          r0 = 0
          if r0 > 0 goto -3
          exit)",
       RejectKind::BadJump, "jump out of range from insn 3 to 1"},
      {"jump_into_lddw", R"(
          r0 = 0
          if r0 == 0 goto +1
          r1 = 0x1122334455 ll
          exit)",
       RejectKind::BadJump, "jump into the middle of ldimm64 insn 2"},
      {"call_out_of_program", "call pc+10\nexit", RejectKind::BadJump, "call to invalid destination"},
      {"func_out_of_program", "r1 = func(+9) ll\nr0 = 0\nexit", RejectKind::BadJump,
       "call to invalid destination"},
      // The kernel makes the second slot a subprogram start, so main ends in half an lddw.
      {"call_into_lddw", "call pc+2\nexit\nr1 = 0x1122334455 ll\nr0 = 0\nexit", RejectKind::BadJump,
       "last insn is not an exit or jmp"},
      {"falls_into_subprogram", "call f\nr0 = 1\nf:\nr0 = 0\nexit", RejectKind::FallThroughEnd,
       "last insn is not an exit or jmp"},
      {"falls_off_the_end", "r0 = 0\nif r0 == 0 goto -2", RejectKind::FallThroughEnd,
       "last insn is not an exit or jmp"},
      {"ends_in_a_call", "r0 = 0\ncall 5", RejectKind::FallThroughEnd, "last insn is not an exit or jmp"},
      {"ends_in_a_jump", "r0 = 0\nif r1 > 0 goto +1\nexit\ngoto -2", RejectKind::None, nullptr},
      {"unreachable", "r0 = 0\nexit\nr0 = 1\nexit", RejectKind::Unreachable, "unreachable insn 2"},
      {"unreachable_after_goto", "r0 = 0\ngoto +1\nr0 = 1\nexit", RejectKind::Unreachable,
       "unreachable insn 2"},
      {"self_loop", "r0 = 0\ngoto -1", RejectKind::InfiniteLoop, "infinite loop detected at insn 1"},
      {"counting_forever", "r0 = 0\nl:\nr0 += 1\ngoto l", RejectKind::InfiniteLoop,
       "BPF program is too large"},
      {"subprogram_never_returns", "call f\nexit\nf:\nr0 = 0\ngoto -1", RejectKind::InfiniteLoop,
       "infinite loop detected"},
      {"dead_loop", "r0 = 0\nif r0 == 0 goto +1\ngoto -1\nexit", RejectKind::None, nullptr},
      {"loop_whose_exit_is_never_taken", R"(
          r0 = 0
        l:
          if r0 == 1 goto out
          goto l
        out:
          exit)",
       RejectKind::None, "infinite loop detected", true},
      {"two_hundred_fifty_six_subprograms", many_functions(255), RejectKind::None, nullptr},
      {"too_many_subprograms", many_functions(256), RejectKind::TooComplex, "too many subprograms"},
  };
}

class ProgramGraphKernel : public kernel_test::KernelTest {};

TEST_F(ProgramGraphKernel, SameVerdictAsTheKernel) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const std::vector<isa::RawInsn> raw = isa::assemble(c.text);
    auto graph = build_program_graph(raw, true);
    const GraphError* error = std::get_if<GraphError>(&graph);
    if (c.kind == RejectKind::None) {
      EXPECT_EQ(error, nullptr) << error->message;
    } else if (error == nullptr) {
      ADD_FAILURE() << "the graph accepts";
    } else {
      EXPECT_EQ(verifier::reject_kind_name(error->kind), verifier::reject_kind_name(c.kind))
          << error->message;
    }
    const KernelVerdict kernel = load_in_kernel(BPF_PROG_TYPE_XDP, raw);
    if (c.needs_btf) {
      EXPECT_NE(kernel.log.find("missing btf func_info"), std::string::npos) << kernel.log;
      std::printf("%s: not compared with the kernel (callbacks need BTF func_info)\n", c.name);
      continue;
    }
    const bool kernel_should_accept = c.kernel_says == nullptr;
    EXPECT_EQ(kernel.accepted, kernel_should_accept) << "kernel log:\n" << kernel.log;
    if (!kernel.accepted && c.kernel_says) {
      EXPECT_NE(kernel.log.find(c.kernel_says), std::string::npos) << "kernel log:\n" << kernel.log;
    }
    if (c.interpreter_decides) {
      std::printf("%s: the graph passes it; the kernel rejects it while interpreting (%s)\n", c.name,
                  c.kernel_says);
    }
  }
}

TEST_F(ProgramGraphKernel, ReservedFieldsRejectedAlike) {
  std::vector<isa::RawInsn> raw = isa::assemble("r0 = 0\nexit");
  raw[0].src = 1;  // BPF_MOV | BPF_K with a source register
  auto graph = build_program_graph(raw, true);
  ASSERT_TRUE(std::holds_alternative<GraphError>(graph));
  EXPECT_EQ(std::get<GraphError>(graph).kind, RejectKind::InvalidInstruction);
  const KernelVerdict kernel = load_in_kernel(BPF_PROG_TYPE_XDP, raw);
  EXPECT_FALSE(kernel.accepted);
  EXPECT_NE(kernel.log.find("uses reserved fields"), std::string::npos) << kernel.log;
}

std::vector<isa::RawInsn> movs_then_exit(size_t count) {
  std::vector<isa::RawInsn> raw(count, isa::assemble("r0 = 0")[0]);
  raw.back() = isa::assemble("exit")[0];
  return raw;
}

TEST_F(ProgramGraphKernel, InstructionLimits) {
  // Above 4096 needs privilege only; the kernel refuses 1,000,001 with E2BIG before verifying.
  for (size_t count : {size_t(4097), verifier::kMaxInsnsPrivileged + 1}) {
    SCOPED_TRACE(count);
    const std::vector<isa::RawInsn> raw = movs_then_exit(count);
    const bool graph_ok = std::holds_alternative<ProgramGraph>(build_program_graph(raw, true));
    const KernelVerdict kernel = load_in_kernel(BPF_PROG_TYPE_XDP, raw);
    EXPECT_EQ(graph_ok, kernel.accepted) << kernel.log;
    if (!kernel.accepted) {
      EXPECT_EQ(kernel.error_number, E2BIG);
    }
  }
  const KernelVerdict empty = load_in_kernel(BPF_PROG_TYPE_XDP, {});
  EXPECT_FALSE(empty.accepted);
  EXPECT_FALSE(std::holds_alternative<ProgramGraph>(build_program_graph({}, true)));
}

// The unprivileged rules (no back-edges, no calls, 4096 instructions) can be seen only
// where the kernel lets unprivileged users load socket filters.
std::string unprivileged_bpf_setting() {
  std::ifstream f("/proc/sys/kernel/unprivileged_bpf_disabled");
  std::string value;
  f >> value;
  return value;
}

// Loads a socket filter from a child that has given up root (uid/gid 65534, no capabilities).
KernelVerdict load_unprivileged(std::span<const isa::RawInsn> insns) {
  int fds[2];
  if (pipe(fds) != 0) return {false, errno, "pipe failed"};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    int result = 2;
    if (setgroups(0, nullptr) == 0 && setgid(65534) == 0 && setuid(65534) == 0)
      result = load_in_kernel(BPF_PROG_TYPE_SOCKET_FILTER, insns).accepted ? 1 : 0;
    const char byte = char(result);
    (void)!write(fds[1], &byte, 1);
    _exit(0);
  }
  close(fds[1]);
  char byte = 2;
  (void)!read(fds[0], &byte, 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {byte == 1, byte == 2 ? EPERM : 0, byte == 2 ? "could not drop privileges" : ""};
}

TEST_F(ProgramGraphKernel, UnprivilegedRules) {
  const std::string setting = unprivileged_bpf_setting();
  if (setting != "0") {
    GTEST_SKIP() << "skipped: kernel.unprivileged_bpf_disabled is "
                 << (setting.empty() ? "unreadable" : setting)
                 << ", so the kernel's unprivileged verdicts (back-edges, calls, the 4096-insn limit) "
                    "cannot be observed here; the unit tests cover bpfkit's side";
  }
  const std::vector<std::string> programs = {
      "r1 = 0\nl:\nr1 += 1\nif r1 < 10 goto l\nr0 = 0\nexit",  // back-edge
      "call f\nexit\nf:\nr0 = 0\nexit",                        // bpf-to-bpf call
      "r0 = 0\nif r1 > 0 goto +1\nr0 = 1\nexit",               // fine
  };
  for (const std::string& text : programs) {
    SCOPED_TRACE(text);
    const std::vector<isa::RawInsn> raw = isa::assemble(text);
    const bool graph_ok = std::holds_alternative<ProgramGraph>(build_program_graph(raw, false));
    EXPECT_EQ(graph_ok, load_unprivileged(raw).accepted);
  }
  const std::vector<isa::RawInsn> big = movs_then_exit(4097);
  EXPECT_FALSE(std::holds_alternative<ProgramGraph>(build_program_graph(big, false)));
  EXPECT_FALSE(load_unprivileged(big).accepted);
}

}  // namespace
}  // namespace bpfkit
