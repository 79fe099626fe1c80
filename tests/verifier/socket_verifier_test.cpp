// Sockets in the verifier: what a rejection says (the instruction, the register, where
// the reference was acquired and how to fix it) and how sockets show in the log. The
// verdicts themselves are in tests/verifier/corpus/sockets.vcase, checked against the
// kernel there and in tests/kernel/socket_kernel_test.cpp.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <string>

#include "helpers/runtime_helpers.h"
#include "isa/assembler.h"
#include "testing/verifier_case.h"
#include "testing/verifier_soundness.h"
#include "verifier/verifier.h"

namespace bpfkit::verifier {
namespace {

VerifyResult verify_tc(const std::string& text, uint32_t log_level = 0) {
  const std::vector<isa::RawInsn> insns = isa::assemble(text);
  VerifyInput in;
  in.insns = insns;
  in.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  in.helpers = &helpers::runtime_helpers();
  VerifyOptions o;
  o.log_level = log_level;
  return verify_program(in, o);
}

// Looks up a socket into r0 (insn 7).
const std::string kLookup = R"(
  *(u64 *)(r10 - 16) = 0
  *(u32 *)(r10 - 8) = 0
  r2 = r10
  r2 += -16
  r3 = 12
  r4 = -1
  r5 = 0
  call 84
)";

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(SocketVerifier, ALeakNamesTheLookupAndTheFix) {
  const VerifyResult r =
      verify_tc(kLookup + "  if r0 == 0 goto out\n  r6 = *(u32 *)(r0 + 4)\nout:\n  r0 = 0\n  exit\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.kind, RejectKind::ReferenceLeak);
  EXPECT_EQ(r.insn, 11u);  // the exit
  EXPECT_TRUE(has(r.message, "the socket acquired by bpf_sk_lookup_tcp at insn 7")) << r.message;
  EXPECT_TRUE(has(r.message, "bpf_sk_release")) << r.message;
  EXPECT_TRUE(has(r.message, "path: insn 8 not taken")) << r.message;
}

TEST(SocketVerifier, ATailCallWhileHoldingASocketNamesTheSocket) {
  const std::vector<isa::RawInsn> insns = isa::assemble("  r6 = r1\n" + kLookup + R"(
  if r0 == 0 goto out
  r7 = r0
  r1 = r6
  r2 = map_idx(0) ll
  r3 = 0
  call 12
  r1 = r7
  call 86
out:
  r0 = 0
  exit
)");
  VerifyInput in;
  in.insns = insns;
  in.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  in.helpers = &helpers::runtime_helpers();
  in.maps.push_back(MapInfo{BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, "jumps"});
  const VerifyResult r = verify_program(in);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.kind, RejectKind::ReferenceLeak);
  EXPECT_TRUE(has(r.message,
                  "bpf_tail_call would leak a reference: the socket acquired by bpf_sk_lookup_tcp at insn 8"))
      << r.message;
}

TEST(SocketVerifier, ReleaseBeforeTheNullCheckNamesTheRegister) {
  const VerifyResult r = verify_tc(kLookup + "  r1 = r0\n  call 86\n  r0 = 0\n  exit\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.kind, RejectKind::NullDereference);
  EXPECT_TRUE(has(r.message, "insn 9 (call")) << r.message;
  EXPECT_TRUE(has(r.message, "argument 1 (R1) may be NULL (sock_or_null(")) << r.message;
}

TEST(SocketVerifier, UseAfterReleaseSaysTheSocketWasReleased) {
  const VerifyResult r =
      verify_tc(kLookup +
                "  if r0 == 0 goto out\n  r6 = r0\n  r1 = r0\n  call 86\n  r0 = *(u32 *)(r6 + 4)\nout:\n"
                "  r0 = 0\n  exit\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.kind, RejectKind::ReferenceInvalid);
  EXPECT_TRUE(has(r.message, "R6 cannot be dereferenced: it held a socket that was released")) << r.message;
}

TEST(SocketVerifier, TheContextsSocketIsNotTheProgramsToRelease) {
  const VerifyResult r =
      verify_tc("  r1 = *(u64 *)(r1 + 168)\n  if r1 == 0 goto out\n  call 86\nout:\n  r0 = 0\n  exit\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.kind, RejectKind::ReferenceInvalid);
  EXPECT_TRUE(has(r.message, "must be referenced when passed to a release function")) << r.message;
  EXPECT_TRUE(has(r.message, "sock_common(")) << r.message;
}

TEST(SocketVerifier, AFieldASockCommonLacksIsExplained) {
  const VerifyResult r = verify_tc(
      "  r1 = *(u64 *)(r1 + 168)\n  if r1 == 0 goto out\n  r0 = *(u32 *)(r1 + 16)\nout:\n"
      "  r0 = 0\n  exit\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.kind, RejectKind::InvalidMemAccess);
  EXPECT_TRUE(has(r.message, "invalid sock_common access through R1 at offset 16, 4 bytes (bpf_sock.mark)"))
      << r.message;
  EXPECT_TRUE(has(r.message, "only a full socket has it")) << r.message;
}

TEST(SocketVerifier, TheLogShowsSocketsAndTheirReferences) {
  const VerifyResult r =
      verify_tc(kLookup + "  if r0 == 0 goto out\n  r1 = r0\n  call 86\nout:\n  r0 = 0\n  exit\n", 2);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(has(r.log, "R0=sock_or_null(id=1,ref=1)")) << r.log;
  EXPECT_TRUE(has(r.log, "R1=sock(id=1,ref=1)")) << r.log;
}

TEST(SocketVerifier, SkbPullDataInvalidatesPacketPointers) {
  const VerifyResult r = verify_tc(R"(
  r6 = r1
  r2 = *(u32 *)(r6 + 76)
  r3 = *(u32 *)(r6 + 80)
  r4 = r2
  r4 += 14
  if r4 > r3 goto out
  r7 = r2
  r1 = r6
  r2 = 14
  call 39
  r0 = *(u8 *)(r7 + 0)
out:
  r0 = 0
  exit
)");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.kind, RejectKind::InvalidMemAccess);
  EXPECT_EQ(r.insn, 10u);
  EXPECT_TRUE(has(r.message, "R7 cannot be dereferenced")) << r.message;
  EXPECT_TRUE(has(r.message, "it was a packet pointer until a helper that moves packet data invalidated it"))
      << r.message;
}

// What the verifier accepts runs cleanly on the checked and unchecked interpreter and
// JIT, which agree (the soundness oracle), for every accepted xdp and tc case of the
// sockets corpus. (On the userspace target lookups find no socket, so the paths that
// hold one are the verifier's to prove; the NULL paths and the packet pulls run.)
TEST(SocketVerifier, AcceptedCorpusProgramsRunSoundly) {
  const auto cases = testgen::load_verifier_case_file(std::string(BPFKIT_SOURCE_DIR) +
                                                      "/tests/verifier/corpus/sockets.vcase");
  testgen::Rng rng(7);
  const std::vector<testgen::SoundInput> inputs = testgen::sound_inputs(rng, 4);
  int checked = 0;
  for (const testgen::VerifierCase& c : cases) {
    if (!c.expect_accept || (c.prog_type != BPF_PROG_TYPE_SCHED_CLS && c.prog_type != BPF_PROG_TYPE_XDP))
      continue;
    testgen::SoundProgram p;
    p.prog_type = c.prog_type;
    p.privileged = c.privileged;
    p.maps = c.maps;
    p.insns = c.insns;
    const testgen::SoundnessVerdict v = testgen::check_soundness(p, inputs);
    EXPECT_TRUE(v.accepted) << c.where() << ": " << v.rejection;
    EXPECT_FALSE(v.bug) << c.where() << ": " << v.report;
    EXPECT_EQ(v.refused, "") << c.where();
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

}  // namespace
}  // namespace bpfkit::verifier
