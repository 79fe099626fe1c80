// Sockets and bpf_skb_pull_data against the running kernel:
// - every load (offset -8..87; u8..u64 and the sign-extending s8..s32) through a socket
//   from bpf_sk_lookup_tcp, one from bpf_skc_lookup_tcp and the skb's own socket gets
//   bpfkit's verdict and the kernel's, which must agree (src/verifier/socket_fields.cpp);
// - bpf_skb_pull_data returns what the kernel's returns on a test-run skb, for lengths
//   inside, at and past the packet's end and for values wider than its u32 argument;
// - a lookup of a tuple no socket has returns NULL on both; a lookup of a listening
//   socket finds it in the kernel and nothing on the userspace target, which has no
//   socket table (src/helpers/socket_helpers.cpp).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/packet_context.h"
#include "helpers/runtime_helpers.h"
#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "target/linux/bpf_syscall.h"
#include "verifier/verifier.h"
#include "vm/engine.h"

namespace bpfkit {
namespace {

namespace lk = target::linux_kernel;

bool kernel_accepts(bpf_prog_type type, const std::vector<isa::RawInsn>& insns) {
  try {
    lk::load_program(type, insns, lk::LoadOptions{.name = "bpfkit_sock"});
    return true;
  } catch (const lk::BpfError&) {
    return false;
  }
}

verifier::VerifyResult bpfkit_verdict(bpf_prog_type type, const std::vector<isa::RawInsn>& insns) {
  verifier::VerifyInput in;
  in.insns = insns;
  in.prog_type = type;
  in.helpers = &helpers::runtime_helpers();
  return verifier::verify_program(in);
}

const char* width(uint32_t size) {
  switch (size) {
    case 1:
      return "u8";
    case 2:
      return "u16";
    case 4:
      return "u32";
    default:
      return "u64";
  }
}

// A tuple of 12 zero bytes at fp-16, the lookup, and `body` on the socket in r6 before its release.
std::string lookup_program(int32_t helper, const std::string& body) {
  return "  *(u64 *)(r10 - 16) = 0\n  *(u32 *)(r10 - 8) = 0\n  r2 = r10\n  r2 += -16\n  r3 = 12\n"
         "  r4 = -1\n  r5 = 0\n  call " +
         std::to_string(helper) + "\n  if r0 == 0 goto out\n  r6 = r0\n" + body +
         "  r1 = r6\n  call 86\nout:\n  r0 = 0\n  exit\n";
}

class SocketKernel : public kernel_test::KernelTest {};

TEST_F(SocketKernel, FieldLoadsAsTheKernelAllowsThem) {
  struct Source {
    const char* name;
    std::string (*program)(const std::string& load);
  };
  const Source sources[] = {
      {"sk_lookup_tcp", [](const std::string& load) { return lookup_program(BPF_FUNC_sk_lookup_tcp, load); }},
      {"skc_lookup_tcp",
       [](const std::string& load) { return lookup_program(BPF_FUNC_skc_lookup_tcp, load); }},
      {"__sk_buff.sk",
       [](const std::string& load) {
         return "  r6 = *(u64 *)(r1 + 168)\n  if r6 == 0 goto out\n" + load + "out:\n  r0 = 0\n  exit\n";
       }},
  };
  std::string mismatches;
  int accepted = 0, rejected = 0;
  for (const Source& src : sources) {
    for (int32_t off = -8; off < 88; ++off) {
      // u8..u64, then the sign-extending s8..s32.
      for (uint32_t form = 0; form < 7; ++form) {
        const uint32_t size = form < 4 ? 1u << form : 1u << (form - 4);
        const std::string type = (form < 4 ? "u" : "s") + std::string(width(size) + 1);
        const std::string load = "  r2 = *(" + type + " *)(r6 " + (off < 0 ? "- " : "+ ") +
                                 std::to_string(off < 0 ? -off : off) + ")\n";
        const auto insns = isa::assemble(src.program(load));
        const bool kernel = kernel_accepts(BPF_PROG_TYPE_SCHED_CLS, insns);
        const verifier::VerifyResult ours = bpfkit_verdict(BPF_PROG_TYPE_SCHED_CLS, insns);
        (kernel ? accepted : rejected)++;
        if (kernel != ours.ok) {
          mismatches += std::string(src.name) + " " + type + " off=" + std::to_string(off) + ": kernel " +
                        (kernel ? "accepts" : "rejects") + ", bpfkit " +
                        (ours.ok ? "accepts" : "rejects: " + ours.message) + "\n";
        } else if (!ours.ok && ours.kind != verifier::RejectKind::InvalidMemAccess) {
          mismatches += std::string(src.name) + " " + type + " off=" + std::to_string(off) +
                        ": rejected as " + std::string(verifier::reject_kind_name(ours.kind)) + ": " +
                        ours.message + "\n";
        }
      }
    }
  }
  EXPECT_EQ(mismatches, "");
  // Both verdicts occur: the sweep can tell a wrong rule from a right one.
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 100);
}

// r0 = bpf_skb_pull_data(skb, len), with len set by `len_insn`.
std::string pull_program(const std::string& len_insn) {
  return "  r6 = r1\n" + len_insn + "  r1 = r6\n  call 39\n  exit\n";
}

uint32_t user_retval(const std::string& text, const std::vector<uint8_t>& packet) {
  core::PacketContext ctx(BPF_PROG_TYPE_SCHED_CLS);
  ctx.reset(packet);
  core::ExecEnv env;
  env.helpers = &helpers::runtime_helpers();
  env.packet = &ctx.state();
  ctx.add_regions(env);
  env.ctx = ctx.ctx();
  vm::Program program(isa::assemble(text));
  auto engine = vm::make_interpreter(program);
  const uint64_t r0 = engine->run(ctx.ctx(), 0, env);
  EXPECT_FALSE(env.abort) << env.abort_reason;
  return uint32_t(r0);
}

uint32_t kernel_retval(const std::string& text, const std::vector<uint8_t>& packet) {
  lk::UniqueFd fd =
      lk::load_program(BPF_PROG_TYPE_SCHED_CLS, isa::assemble(text), lk::LoadOptions{.name = "pull"});
  return lk::test_run_program(fd.get(), packet).retval;
}

TEST_F(SocketKernel, SkbPullDataReturnsWhatTheKernelReturns) {
  std::vector<uint8_t> packet(60);
  for (size_t i = 0; i < packet.size(); ++i) packet[i] = uint8_t(i * 7 + 1);
  packet[12] = 0x08;  // IPv4
  packet[13] = 0x00;
  const std::vector<std::string> lens = {"  r2 = 0\n",
                                         "  r2 = 1\n",
                                         "  r2 = 14\n",
                                         "  r2 = 59\n",
                                         "  r2 = 60\n",
                                         "  r2 = 61\n",
                                         "  r2 = 4096\n",
                                         "  r2 = -1\n",
                                         "  r2 = 0x100000000 ll\n",
                                         "  r2 = 0x10000003c ll\n",
                                         "  r2 = 0x10000003d ll\n"};
  int failures = 0;
  for (const std::string& len : lens) {
    SCOPED_TRACE(len);
    const std::string text = pull_program(len);
    const uint32_t k = kernel_retval(text, packet);
    const uint32_t u = user_retval(text, packet);
    EXPECT_EQ(int32_t(u), int32_t(k));
    failures += int32_t(k) != 0;
  }
  EXPECT_GT(failures, 0);  // some lengths fail in the kernel too (-ENOMEM)
  // After a successful pull, a reloaded and rechecked pointer reads the packet.
  const std::string read = R"(
  r6 = r1
  r2 = 60
  call 39
  if r0 != 0 goto fail
  r2 = *(u32 *)(r6 + 76)
  r3 = *(u32 *)(r6 + 80)
  r4 = r2
  r4 += 60
  if r4 > r3 goto fail
  r0 = *(u8 *)(r2 + 59)
  exit
fail:
  r0 = 1000
  exit
)";
  EXPECT_EQ(user_retval(read, packet), kernel_retval(read, packet));
  EXPECT_EQ(user_retval(read, packet), packet[59]);
}

// Looks up 127.0.0.1:port (destination, the local side) from 127.0.0.1:40000 over TCP;
// returns the socket's family (2) when found, 0 when not.
std::string find_listener(uint16_t port) {
  const uint32_t loopback = htonl(INADDR_LOOPBACK);
  return "  *(u32 *)(r10 - 16) = " + std::to_string(int32_t(loopback)) + "\n" +
         "  *(u32 *)(r10 - 12) = " + std::to_string(int32_t(loopback)) + "\n" +
         "  *(u16 *)(r10 - 8) = " + std::to_string(htons(40000)) + "\n" +
         "  *(u16 *)(r10 - 6) = " + std::to_string(htons(port)) + "\n" +
         "  *(u32 *)(r10 - 4) = 0\n  r2 = r10\n  r2 += -16\n  r3 = 12\n  r4 = -1\n  r5 = 0\n  call 84\n"
         "  if r0 == 0 goto out\n  r6 = *(u32 *)(r0 + 4)\n  r1 = r0\n  call 86\n  r0 = r6\n  exit\n"
         "out:\n  r0 = 0\n  exit\n";
}

TEST_F(SocketKernel, LookupsFindKernelSocketsOnlyInTheKernel) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t port = ntohs(addr.sin_port);
  const std::vector<uint8_t> packet(60, 0);
  const std::string listener = find_listener(port);
  EXPECT_TRUE(bpfkit_verdict(BPF_PROG_TYPE_SCHED_CLS, isa::assemble(listener)).ok);
  EXPECT_EQ(kernel_retval(listener, packet), uint32_t(AF_INET));
  EXPECT_EQ(user_retval(listener, packet), 0u);  // no socket table on the userspace target
  close(fd);
  // The port is closed now: nobody has it, in the kernel either.
  EXPECT_EQ(kernel_retval(listener, packet), 0u);
  EXPECT_EQ(user_retval(listener, packet), 0u);
}

}  // namespace
}  // namespace bpfkit
