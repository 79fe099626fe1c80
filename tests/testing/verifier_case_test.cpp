// The verifier corpus format: parsing good files, refusing bad ones with file:line,
// and the real corpus's size and coverage.
#include "testing/verifier_case.h"

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <map>
#include <set>

#include "isa/assembler.h"

namespace bpfkit::testgen {
namespace {

using verifier::RejectKind;

constexpr std::string_view kTwoCases = R"(# a comment before the first case

=== null check missing
type: xdp                      # a comment
map: hash key=4 value=8 entries=16 name=counts
map: array_of_maps key=4 value=4 entries=1 inner=array:4:8:1
expect: reject null_dereference
kernel-log: invalid mem access 'map_value_or_null'
---
  r1 = map_idx(0) ll
  r2 = r10
  r2 += -4
  *(u32 *)(r10 - 4) = 0
  call 1
  r0 = *(u64 *)(r0 + 0)
  exit
# a comment between cases
=== a safe return
type: cgroup_skb
attach: cgroup_inet_egress
privileged: no
map: array key=4 value=8 entries=1 flags=rdonly_prog frozen init=0102
expect: accept
kernel: reject -- the kernel does not see it
---
start:
  r0 = 1
  .raw 0x07 dst=0 imm=-1   # r0 += -1
  goto start2
start2:
  exit
)";

TEST(VerifierCase, ParsesHeadersMapsAndPrograms) {
  const auto cases = parse_verifier_cases(kTwoCases, "t.vcase");
  ASSERT_EQ(cases.size(), 2u);
  const VerifierCase& a = cases[0];
  EXPECT_EQ(a.file, "t.vcase");
  EXPECT_EQ(a.line, 3);
  EXPECT_EQ(a.name, "null check missing");
  EXPECT_EQ(a.where(), "t.vcase:3 (null check missing)");
  EXPECT_EQ(a.prog_type, uint32_t(BPF_PROG_TYPE_XDP));
  EXPECT_TRUE(a.privileged);
  EXPECT_FALSE(a.expect_accept);
  EXPECT_EQ(a.expect_kind, RejectKind::NullDereference);
  EXPECT_EQ(a.kernel_log, "invalid mem access 'map_value_or_null'");
  EXPECT_FALSE(a.kernel_accepts.has_value());
  EXPECT_FALSE(a.kernel_expected_accept());
  ASSERT_EQ(a.maps.size(), 2u);
  EXPECT_EQ(a.maps[0].type, uint32_t(BPF_MAP_TYPE_HASH));
  EXPECT_EQ(a.maps[0].key_size, 4u);
  EXPECT_EQ(a.maps[0].value_size, 8u);
  EXPECT_EQ(a.maps[0].max_entries, 16u);
  EXPECT_EQ(a.maps[0].name, "counts");
  EXPECT_EQ(a.maps[1].type, uint32_t(BPF_MAP_TYPE_ARRAY_OF_MAPS));
  ASSERT_TRUE(a.maps[1].inner);
  EXPECT_EQ(a.maps[1].inner->type, uint32_t(BPF_MAP_TYPE_ARRAY));
  EXPECT_EQ(a.maps[1].inner->value_size, 8u);
  EXPECT_EQ(a.insns, isa::assemble("r1 = map_idx(0) ll\nr2 = r10\nr2 += -4\n*(u32 *)(r10 - 4) = 0\ncall 1\n"
                                   "r0 = *(u64 *)(r0 + 0)\nexit"));
  ASSERT_EQ(a.insn_lines.size(), a.insns.size());
  EXPECT_EQ(a.insn_lines[0], 10);
  EXPECT_EQ(a.insn_lines[1], 10);  // both slots of the lddw
  EXPECT_EQ(a.insn_lines[2], 11);

  const VerifierCase& b = cases[1];
  EXPECT_EQ(b.prog_type, uint32_t(BPF_PROG_TYPE_CGROUP_SKB));
  EXPECT_EQ(b.expected_attach_type, uint32_t(BPF_CGROUP_INET_EGRESS));
  EXPECT_FALSE(b.privileged);
  EXPECT_TRUE(b.expect_accept);
  EXPECT_EQ(b.expect_kind, RejectKind::None);
  ASSERT_TRUE(b.kernel_accepts.has_value());
  EXPECT_FALSE(*b.kernel_accepts);
  EXPECT_FALSE(b.kernel_expected_accept());
  EXPECT_EQ(b.justification, "the kernel does not see it");
  ASSERT_EQ(b.maps.size(), 1u);
  EXPECT_EQ(b.maps[0].flags, uint32_t(BPF_F_RDONLY_PROG));
  EXPECT_TRUE(b.maps[0].frozen);
  EXPECT_EQ(b.maps[0].initial_value, (std::vector<uint8_t>{1, 2, 0, 0, 0, 0, 0, 0}));
  // The .raw line replaces its slot; labels around it still resolve.
  ASSERT_EQ(b.insns.size(), 4u);
  EXPECT_EQ(b.insns[1], (isa::RawInsn{0x07, 0, 0, 0, -1}));
  EXPECT_EQ(b.insns[2].off, 0);  // goto start2: the next slot
  EXPECT_EQ(b.insn_lines[1], 28);
}

TEST(VerifierCase, RawLinesTakeEveryField) {
  const auto cases = parse_verifier_cases(
      "=== r\ntype: socket_filter\nexpect: reject invalid_instruction\n---\n"
      ".raw 0xe5 dst=1 src=15 off=-2 imm=0xffffffff\nexit\n",
      "r.vcase");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].insns[0], (isa::RawInsn{0xe5, 1, 15, -2, -1}));
  EXPECT_EQ(cases[0].expect_kind, RejectKind::InvalidInstruction);
}

// Each bad input and the line its error must name.
struct BadInput {
  std::string_view text;
  int line;
  std::string_view says;
};

TEST(VerifierCase, BadInputIsRefusedWithFileAndLine) {
  const BadInput bad[] = {
      {"r0 = 0\n", 1, "expected a case header"},
      {"===\ntype: xdp\n", 1, "needs a name"},
      {"=== a\ntype: xdp\nexpect: accept\n", 4, "no '---'"},
      {"=== a\nexpect: accept\n---\nexit\n", 3, "no 'type:'"},
      {"=== a\ntype: xdp\n---\nexit\n", 3, "no 'expect:'"},
      {"=== a\ntype: nosuch\n", 2, "unknown program type"},
      {"=== a\ntype: xdp\ntype: xdp\n", 3, "already given on line 2"},
      {"=== a\ntype: xdp\nexpect: reject bogus\n", 3, "unknown rejection kind"},
      {"=== a\ntype: xdp\nexpect: reject\n", 3, "expected 'accept' or 'reject KIND'"},
      {"=== a\ntype: xdp\nexpect: maybe\n", 3, "expected 'accept' or 'reject KIND'"},
      {"=== a\ntype: xdp\ncolour: red\n", 3, "unknown key 'colour'"},
      {"=== a\ntype: xdp\nno colon here\n", 3, "expected 'key: value'"},
      {"=== a\ntype: xdp\nprivileged: perhaps\n", 3, "expected yes or no"},
      {"=== a\ntype: xdp\nkernel: accept\n", 3, "needs a justification"},
      {"=== a\ntype: xdp\nkernel: accept --   \n", 3, "needs a justification"},
      {"=== a\ntype: xdp\nkernel: maybe -- why\n", 3, "expected 'accept' or 'reject' before"},
      {"=== a\ntype: xdp\nkernel-log:\n", 3, "needs the text"},
      {"=== a\ntype: xdp\nattach: sideways\n", 3, "unknown attach type"},
      {"=== a\ntype: xdp\nmap:\n", 3, "needs a map type"},
      {"=== a\ntype: xdp\nmap: treemap key=4\n", 3, "unknown map type"},
      {"=== a\ntype: xdp\nmap: hash key=four\n", 3, "bad key size"},
      {"=== a\ntype: xdp\nmap: hash key=4 colour=red\n", 3, "unknown map attribute"},
      {"=== a\ntype: xdp\nmap: hash key 4\n", 3, "expected key=value"},
      {"=== a\ntype: xdp\nmap: hash flags=shiny\n", 3, "unknown map flag"},
      {"=== a\ntype: xdp\nmap: array_of_maps key=4 value=4 entries=1\n", 3, "needs inner="},
      {"=== a\ntype: xdp\nmap: hash key=4 inner=array:4:4:1\n", 3, "only for array_of_maps"},
      {"=== a\ntype: xdp\nmap: array_of_maps inner=array:4:4\n", 3, "TYPE:KEY:VALUE:ENTRIES"},
      {"=== a\ntype: xdp\nmap: array key=4 value=2 entries=1 init=010203\n", 3, "more than value=2"},
      {"=== a\ntype: xdp\nmap: array key=4 value=4 entries=1 init=012\n", 3, "whole bytes"},
      {"=== a\ntype: xdp\nmap: array key=4 value=4 entries=1 init=zz\n", 3, "non-hex"},
      {"=== a\ntype: xdp\nmap: hash key=4 value=4 entries=1 init=00\n", 3, "only for array maps"},
      {"=== a\ntype: xdp\nexpect: accept\n---\n  r0 = 0\n  r0 +=\n  exit\n", 6, "column"},
      {"=== a\ntype: xdp\nexpect: accept\n---\n# nothing\n", 5, "no instructions"},
      {"=== a\ntype: xdp\nexpect: accept\n---\n  .raw\n  exit\n", 5, ".raw needs an opcode"},
      {"=== a\ntype: xdp\nexpect: accept\n---\n  .raw 0x100\n", 5, "bad .raw opcode"},
      {"=== a\ntype: xdp\nexpect: accept\n---\n  .raw 0x07 dst=16\n", 5, "must be 0-15"},
      {"=== a\ntype: xdp\nexpect: accept\n---\n  .raw 0x07 off=40000\n", 5, "16 signed bits"},
      {"=== a\ntype: xdp\nexpect: accept\n---\n  .raw 0x07 imm=0x1ffffffff\n", 5, "32 bits"},
      {"=== a\ntype: xdp\nexpect: accept\n---\n  .raw 0x07 reg=1\n", 5, "unknown .raw field"},
      {"=== a\ntype: xdp\nexpect: accept\nkernel: accept -- same\n---\nexit\n", 1, "repeats the expected"},
      {"=== a\ntype: xdp\nexpect: accept\n---\nexit\n=== a\n", 6, "already defined on line 1"},
  };
  for (const BadInput& b : bad) {
    SCOPED_TRACE(b.text);
    try {
      parse_verifier_cases(b.text, "bad.vcase");
      ADD_FAILURE() << "accepted";
    } catch (const VerifierCaseError& e) {
      EXPECT_EQ(e.line(), b.line) << e.what();
      const std::string what = e.what();
      EXPECT_TRUE(what.starts_with("bad.vcase:" + std::to_string(b.line) + ": ")) << what;
      EXPECT_NE(what.find(b.says), std::string::npos) << what;
    }
  }
}

TEST(VerifierCase, NamesOfMapAndAttachTypes) {
  EXPECT_EQ(map_type_from_name("percpu_array"), uint32_t(BPF_MAP_TYPE_PERCPU_ARRAY));
  EXPECT_EQ(map_type_from_name("ringbuf"), uint32_t(BPF_MAP_TYPE_RINGBUF));
  EXPECT_EQ(map_type_from_name("27"), 27u);
  EXPECT_FALSE(map_type_from_name("nosuch"));
  EXPECT_FALSE(map_type_from_name("0"));
  EXPECT_EQ(attach_type_from_name("cgroup_inet_egress"), uint32_t(BPF_CGROUP_INET_EGRESS));
  EXPECT_EQ(attach_type_from_name("trace_fentry"), uint32_t(BPF_TRACE_FENTRY));
  EXPECT_FALSE(attach_type_from_name("nosuch"));
}

TEST(VerifierCase, MissingCorpusDirectoryIsAnError) {
  EXPECT_THROW(load_verifier_corpus("/nonexistent/bpfkit/corpus"), Error);
}

// The corpus itself: it parses, is large enough, and every rule has cases.
TEST(VerifierCorpus, ParsesAndCoversEveryRejectionKind) {
  const auto cases = load_verifier_corpus(std::string(BPFKIT_SOURCE_DIR) + "/tests/verifier/corpus");
  EXPECT_GE(cases.size(), 300u);
  std::map<RejectKind, int> kinds;
  int accepts = 0, unprivileged = 0;
  for (const VerifierCase& c : cases) {
    if (c.expect_accept)
      ++accepts;
    else
      ++kinds[c.expect_kind];
    if (!c.privileged) ++unprivileged;
    EXPECT_FALSE(c.insns.empty()) << c.where();
  }
  EXPECT_GE(accepts, 100) << "accepted programs keep the verifier honest about precision";
  EXPECT_GE(unprivileged, 10);
  for (int k = int(RejectKind::InvalidInstruction); k < int(RejectKind::Unsupported); ++k) {
    EXPECT_GT(kinds[RejectKind(k)], 0)
        << "no case rejects with " << verifier::reject_kind_name(RejectKind(k));
  }
  EXPECT_EQ(kinds[RejectKind::Unsupported], 0)
      << "the corpus labels what programs should be, not bpfkit's gaps";
}

}  // namespace
}  // namespace bpfkit::testgen
