// Register liveness (verifier/liveness.h) and the pruning it allows: registers no
// continuation reads are ignored when states are compared, live ones never are.
#include <gtest/gtest.h>

#include <variant>

#include "helpers/runtime_helpers.h"
#include "isa/assembler.h"
#include "verifier/liveness.h"
#include "verifier/program_graph.h"
#include "verifier/verifier.h"

namespace bpfkit::verifier {
namespace {

std::vector<uint16_t> live_of(const std::string& text) {
  const std::vector<isa::RawInsn> insns = isa::assemble(text);
  auto built = build_program_graph(insns, true);
  const auto* graph = std::get_if<ProgramGraph>(&built);
  EXPECT_NE(graph, nullptr);
  return graph ? compute_live_registers(*graph) : std::vector<uint16_t>{};
}

VerifyResult verify(const std::string& text, std::vector<MapInfo> maps = {}) {
  const std::vector<isa::RawInsn> insns = isa::assemble(text);
  VerifyInput in;
  in.insns = insns;
  in.prog_type = BPF_PROG_TYPE_XDP;
  in.maps = std::move(maps);
  in.helpers = &helpers::runtime_helpers();
  return verify_program(in);
}

constexpr uint16_t R(int r) { return uint16_t(1u << r); }

TEST(Liveness, StraightLine) {
  const auto live = live_of(
      "r2 = 1\n"         // 0: r1 live (read at 2), r2 written here
      "r3 = r2\n"        // 1
      "r0 = *(u32 *)(r1 + 0)\n"  // 2
      "r0 += r3\n"       // 3
      "exit\n");         // 4
  ASSERT_EQ(live.size(), 5u);
  EXPECT_EQ(live[0], R(1) | R(10));
  EXPECT_EQ(live[1], R(1) | R(2) | R(10));
  EXPECT_EQ(live[2], R(1) | R(3) | R(10));
  EXPECT_EQ(live[3], R(0) | R(3) | R(10));
  EXPECT_EQ(live[4], R(0) | R(10));
}

TEST(Liveness, BranchesJoinAndCallsClobber) {
  const auto live = live_of(
      "r6 = r1\n"        // 0
      "if r6 == 0 goto +1\n"  // 1
      "r7 = 1\n"         // 2: r7 read only on one side of the join... after this
      "r0 = r7\n"        // 3: read here, so r7 is live at 1 (the path skipping 2)
      "call 5\n"         // 4: reads R1-R5, writes R0-R5
      "r0 = 0\n"         // 5
      "exit\n");         // 6
  EXPECT_TRUE(live[1] & R(7));
  EXPECT_FALSE(live[2] & R(7));
  EXPECT_TRUE(live[4] & R(1));
  EXPECT_FALSE(live[5] & R(1));
  EXPECT_FALSE(live[5] & R(0));
}

// Where the two sides of a branch join, a scratch register both overwrite before
// reading is ignored: the second side is pruned.
TEST(Liveness, DeadScratchRegistersDoNotBlockPruning) {
  const std::string text =
      "r2 = *(u32 *)(r1 + 12)\n"
      "r3 = 0\n"
      "if r2 == 0 goto join\n"
      "r3 = r10\n"  // a pointer on one side, a scalar on the other: dead at the join
      "r4 = 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "join:\n"
      "r3 = 2\n"
      "r0 = r3\n"
      "exit\n";
  const VerifyResult r = verify(text);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.stats.insns_processed, 15u) << r.log;  // 12 + the join's 3 once, not 12 + 2 * 3 + 3
}

// A register read after the join is compared: the side where it is not a pointer
// must not be pruned by the side where it is, so the bad dereference is found.
TEST(Liveness, LiveRegistersStillBlockPruning) {
  const std::string text =
      "r2 = *(u32 *)(r1 + 12)\n"
      "r3 = r10\n"
      "r3 += -8\n"
      "*(u64 *)(r10 - 8) = 0\n"
      "if r2 == 0 goto join\n"
      "r3 = 0\n"
      "r4 = 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "r4 += 1\n"
      "join:\n"
      "r0 = *(u64 *)(r3 + 0)\n"
      "r0 = 2\n"
      "exit\n";
  const VerifyResult r = verify(text);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.kind, RejectKind::NullDereference) << r.message;  // r3 = 0 on that side
  EXPECT_EQ(r.insn, 14u);
}

}  // namespace
}  // namespace bpfkit::verifier
