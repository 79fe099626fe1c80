// Socket lookups and bpf_skb_pull_data on the userspace target: their prototypes in
// the runtime table (what the verifier checks calls against), lookups that find no
// socket (the target has no socket table), and pulls bounded by the packet's length.
// tests/kernel/socket_kernel_test.cpp compares both with the kernel.
#include <linux/bpf.h>

#include "core/packet_context.h"
#include "helper_test_util.h"

namespace bpfkit::helpers::testing {
namespace {

using core::ArgKind;
using core::RetKind;

TEST(SocketHelpers, PrototypesFollowTheKernel) {
  for (int32_t id : {BPF_FUNC_sk_lookup_tcp, BPF_FUNC_sk_lookup_udp, BPF_FUNC_skc_lookup_tcp}) {
    const core::HelperSpec* h = runtime_helpers().find(id);
    ASSERT_NE(h, nullptr) << id;
    EXPECT_EQ(h->proto.ret,
              id == BPF_FUNC_skc_lookup_tcp ? RetKind::PtrToSockCommonOrNull : RetKind::PtrToSocketOrNull);
    const std::array<ArgKind, 5> args = {ArgKind::PtrToCtx, ArgKind::PtrToMem, ArgKind::ConstSizeOrZero,
                                         ArgKind::Anything, ArgKind::Anything};
    EXPECT_EQ(h->proto.args, args) << h->name;
  }
  const core::HelperSpec* release = runtime_helpers().find(BPF_FUNC_sk_release);
  ASSERT_NE(release, nullptr);
  EXPECT_EQ(release->name, "sk_release");
  EXPECT_EQ(release->proto.args[0], ArgKind::PtrToSockCommonRelease);
  EXPECT_EQ(release->proto.args[1], ArgKind::None);
  const core::HelperSpec* pull = runtime_helpers().find(BPF_FUNC_skb_pull_data);
  ASSERT_NE(pull, nullptr);
  EXPECT_EQ(pull->proto.args[0], ArgKind::PtrToCtx);
  EXPECT_EQ(pull->proto.args[1], ArgKind::Anything);
}

TEST(SocketHelpers, LookupsFindNoSocketAndReleaseReturnsZero) {
  core::ExecEnv env = runtime_env();
  // A bpf_sock_tuple for 127.0.0.1:80 and its IPv6 form: whatever the tuple, nothing is found.
  uint8_t tuple[36] = {127, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40, 0, 80};
  for (int32_t id : {BPF_FUNC_sk_lookup_tcp, BPF_FUNC_sk_lookup_udp, BPF_FUNC_skc_lookup_tcp}) {
    for (uint64_t size : {12u, 36u, 0u, 5u}) {
      EXPECT_EQ(call(id, env, 0, addr(tuple), size, uint64_t(-1), 0), 0u) << id << " size " << size;
    }
    EXPECT_EQ(call(id, env, 0, addr(tuple), 12, 0, 0), 0u);
  }
  EXPECT_EQ(call(BPF_FUNC_sk_release, env, addr(tuple)), 0u);
  EXPECT_FALSE(env.abort) << env.abort_reason;
}

TEST(SkbPullData, SucceedsUpToThePacketLengthOnALinearSkb) {
  core::PacketContext ctx(BPF_PROG_TYPE_SCHED_CLS);
  std::vector<uint8_t> packet(60, 0xab);
  ctx.reset(packet);
  core::ExecEnv env = runtime_env();
  env.packet = &ctx.state();
  const uint64_t skb = ctx.ctx();
  const uint8_t* data = ctx.state().data;
  for (uint64_t len : {0u, 1u, 14u, 60u}) EXPECT_EQ(call(BPF_FUNC_skb_pull_data, env, skb, len), 0u) << len;
  for (uint64_t len : {61u, 4096u, 0xffffffffu}) {
    EXPECT_EQ(int64_t(call(BPF_FUNC_skb_pull_data, env, skb, len)), -ENOMEM) << len;
  }
  // The length is a u32: the high half is not looked at.
  EXPECT_EQ(call(BPF_FUNC_skb_pull_data, env, skb, (uint64_t(1) << 32) | 60), 0u);
  EXPECT_EQ(int64_t(call(BPF_FUNC_skb_pull_data, env, skb, (uint64_t(1) << 32) | 61)), -ENOMEM);
  // Nothing moved: the packet is already linear.
  EXPECT_EQ(ctx.state().data, data);
  EXPECT_EQ(std::vector<uint8_t>(ctx.packet_out().begin(), ctx.packet_out().end()), packet);
  EXPECT_FALSE(env.abort);
}

TEST(SkbPullData, AbortsWithoutAPacket) {
  core::ExecEnv env = runtime_env();
  call(BPF_FUNC_skb_pull_data, env, 0, 14);
  EXPECT_TRUE(env.abort);
  EXPECT_NE(env.abort_reason.find("bpf_skb_pull_data"), std::string::npos) << env.abort_reason;
}

}  // namespace
}  // namespace bpfkit::helpers::testing
