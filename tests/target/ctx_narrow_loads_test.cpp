// The user target's rewrite of narrow context loads (target/user/ctx_narrow_loads.h):
// which loads count as context loads, and where they move. The kernel cross-check is
// tests/kernel/ctx_narrow_load_kernel_test.cpp.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cstddef>

#include "isa/assembler.h"
#include "target/user/ctx_narrow_loads.h"

namespace bpfkit::target::user {
namespace {

constexpr int kProtocol = offsetof(__sk_buff, protocol);  // u32 over a __be16
constexpr int kPktType = offsetof(__sk_buff, pkt_type);   // u32 over 3 bits

std::string at(int off) { return std::to_string(off); }

std::vector<uint32_t> rewritten(const std::string& text, uint32_t type = BPF_PROG_TYPE_SCHED_CLS,
                                std::vector<uint32_t> callbacks = {}) {
  std::vector<isa::RawInsn> insns = isa::assemble(text);
  std::vector<isa::RawInsn> before = insns;
  std::vector<uint32_t> slots = rewrite_narrow_ctx_loads(insns, type, callbacks);
  for (size_t i = 0; i < insns.size(); ++i) {
    const bool moved = std::find(slots.begin(), slots.end(), i) != slots.end();
    EXPECT_EQ(insns[i].off != before[i].off, moved) << "slot " << i;
  }
  return slots;
}

TEST(CtxNarrowLoads, LoadsAtLeastAsWideAsTheKernelFieldMoveToItsStart) {
  std::vector<isa::RawInsn> insns = isa::assemble(
      "r0 = *(u16 *)(r1 + " + at(kProtocol + 2) + ")\n"   // moves
      "r0 = *(u8 *)(r1 + " + at(kProtocol + 1) + ")\n"    // narrower than the __be16: stays
      "r0 = *(u16 *)(r1 + " + at(kProtocol) + ")\n"       // already there
      "r0 = *(u8 *)(r1 + " + at(kPktType + 3) + ")\n"     // moves
      "r0 = *(u16 *)(r1 + " + at(kPktType + 2) + ")\n"    // moves
      "r0 = *(u32 *)(r1 + " + at(kProtocol) + ")\n"       // the whole u32
      "r0 = *(u16 *)(r1 + " + at(offsetof(__sk_buff, mark) + 2) + ")\n"  // mark is a u32 in the kernel too
      "exit");
  EXPECT_EQ(rewrite_narrow_ctx_loads(insns, BPF_PROG_TYPE_SCHED_CLS, {}), (std::vector<uint32_t>{0, 3, 4}));
  EXPECT_EQ(insns[0].off, kProtocol);
  EXPECT_EQ(insns[1].off, kProtocol + 1);
  EXPECT_EQ(insns[3].off, kPktType);
  EXPECT_EQ(insns[4].off, kPktType);
  // XDP's xdp_md has no such fields.
  std::vector<isa::RawInsn> xdp = isa::assemble("r0 = *(u16 *)(r1 + 2)\nexit");
  EXPECT_TRUE(rewrite_narrow_ctx_loads(xdp, BPF_PROG_TYPE_XDP, {}).empty());
}

TEST(CtxNarrowLoads, FollowsTheContextThroughCopiesCallsAndSpills) {
  const std::string load = "r0 = *(u16 *)(r6 + " + at(kProtocol + 2) + ")\n";
  // Copied into r6, which survives a helper call.
  EXPECT_EQ(rewritten("r6 = r1\ncall 7\n" + load + "exit"), (std::vector<uint32_t>{2}));
  // Spilled and filled.
  EXPECT_EQ(rewritten("*(u64 *)(r10 - 16) = r1\nr1 = 0\nr6 = *(u64 *)(r10 - 16)\n" + load + "exit"),
            (std::vector<uint32_t>{3}));
  // An argument of a bpf-to-bpf call.
  EXPECT_EQ(rewritten("call pc+2\nr0 = 0\nexit\nr6 = r1\n" + load + "exit"), (std::vector<uint32_t>{4}));
}

TEST(CtxNarrowLoads, LeavesLoadsThroughAnythingElse) {
  const std::string load = "r0 = *(u16 *)(r6 + " + at(kProtocol + 2) + ")\n";
  // r1 is clobbered by a helper call.
  EXPECT_TRUE(rewritten("call 7\nr6 = r1\n" + load + "exit").empty());
  // A moved pointer is no context (the kernel refuses it): r6 = ctx + 4.
  EXPECT_TRUE(rewritten("r6 = r1\nr6 += 4\n" + load + "exit").empty());
  // The context on one path only.
  EXPECT_TRUE(rewritten("r6 = r1\nif r2 == 0 goto +1\nr6 = r10\n" + load + "exit").empty());
  // The spill slot overwritten, directly or through a pointer that may point into the stack.
  EXPECT_TRUE(rewritten("*(u64 *)(r10 - 8) = r1\n*(u32 *)(r10 - 4) = 0\nr6 = *(u64 *)(r10 - 8)\n" + load +
                        "exit")
                  .empty());
  EXPECT_TRUE(rewritten("*(u64 *)(r10 - 8) = r1\nr2 = r10\n*(u8 *)(r2 - 8) = 0\nr6 = *(u64 *)(r10 - 8)\n" +
                        load + "exit")
                  .empty());
  // A helper may write the stack it is given.
  EXPECT_TRUE(rewritten("*(u64 *)(r10 - 8) = r1\ncall 7\nr6 = *(u64 *)(r10 - 8)\n" + load + "exit").empty());
  // A callback's r1 is not the context.
  EXPECT_TRUE(rewritten("r0 = 0\nexit\nr6 = r1\n" + load + "exit", BPF_PROG_TYPE_SCHED_CLS, {2}).empty());
  // A loop that replaces the context on its back edge.
  EXPECT_TRUE(rewritten("r6 = r1\n" + load + "r6 = r0\nif r0 != 0 goto -3\nexit").empty());
}

TEST(CtxNarrowLoads, AProgramThatDoesNotDecodeIsLeftAlone) {
  std::vector<isa::RawInsn> insns = isa::assemble("r0 = *(u16 *)(r1 + " + at(kProtocol + 2) + ")\nexit");
  isa::RawInsn bad;
  bad.opcode = 0xff;  // no such opcode
  insns.push_back(bad);
  EXPECT_TRUE(rewrite_narrow_ctx_loads(insns, BPF_PROG_TYPE_SCHED_CLS, {}).empty());
  EXPECT_EQ(insns[0].off, kProtocol + 2);
}

}  // namespace
}  // namespace bpfkit::target::user
