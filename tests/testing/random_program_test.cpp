// The random program generator: deterministic, well-formed, inside its bounds,
// and the two engines agree on what its programs compute.
#include <gtest/gtest.h>

#include <set>
#include <variant>

#include "isa/codec.h"
#include "isa/opcodes.h"
#include "testing/differential.h"
#include "testing/random_program.h"

namespace bpfkit::testgen {
namespace {

using namespace isa;

TEST(Rng, IsDeterministicAndBounded) {
  Rng a(7), b(7), c(8);
  EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(a.next(), c.next());
  for (int i = 0; i < 1000; ++i) EXPECT_LT(a.below(13), 13u);
}

TEST(RandomProgram, SameSeedSameProgram) {
  RandomProgram p1 = generate_random_program(99);
  RandomProgram p2 = generate_random_program(99);
  RandomProgram p3 = generate_random_program(100);
  EXPECT_EQ(p1.insns, p2.insns);
  EXPECT_EQ(p1.memory, p2.memory);
  EXPECT_NE(p1.insns, p3.insns);
}

TEST(RandomProgram, RejectsBadOptions) {
  RandomProgramOptions o;
  o.stack_bytes = 12;
  EXPECT_THROW(generate_random_program(1, o), Error);
  o.stack_bytes = 512;
  EXPECT_THROW(generate_random_program(1, o), Error);
}

// Every access stays inside the memory or the initialised stack area, r9 and r10
// are never written, and every kind of instruction shows up over a few seeds.
TEST(RandomProgram, StaysInsideItsBoundsAndCoversTheIsa) {
  std::set<size_t> kinds;
  bool saw_sdiv = false, saw_movsx = false, saw_sx_load = false, saw_fetch = false, saw_call = false;
  bool saw_goto = false, saw_gotol = false;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    RandomProgramOptions o;
    o.length = 80;
    o.mem_len = 1 + seed % 40;
    o.stack_bytes = 8 * (1 + seed % 8);
    RandomProgram p = generate_random_program(seed, o);
    ASSERT_EQ(p.memory.size(), o.mem_len);
    std::vector<DecodedInsn> insns = decode_program(p.insns);  // throws on a malformed program
    ASSERT_TRUE(std::holds_alternative<Exit>(insns.back().insn));
    for (size_t i = 0; i < insns.size(); ++i) {
      const Instruction& insn = insns[i].insn;
      kinds.insert(insn.index());
      auto check_access = [&](uint8_t base, int16_t off, uint8_t size) {
        if (base == kFramePointer) {
          EXPECT_LE(-int(off), int(o.stack_bytes)) << "seed " << seed << " slot " << insns[i].slot;
          EXPECT_LE(int(off) + size, 0);
          EXPECT_EQ(off % size, 0) << "unaligned stack access";
        } else {
          EXPECT_EQ(base, 9) << "seed " << seed << " slot " << insns[i].slot;
          EXPECT_GE(off, 0);
          EXPECT_LE(size_t(off) + size, o.mem_len);
        }
      };
      if (auto* l = std::get_if<Load>(&insn)) {
        check_access(l->base, l->off, l->size);
        saw_sx_load |= l->sign_extend;
        EXPECT_NE(l->dst, 9);
      } else if (auto* s = std::get_if<Store>(&insn)) {
        check_access(s->base, s->off, s->size);
        if (!s->value.is_imm) {
          EXPECT_LT(s->value.reg, 9);
        }
      } else if (auto* a = std::get_if<Atomic>(&insn)) {
        EXPECT_EQ(a->base, kFramePointer);
        check_access(a->base, a->off, a->size);
        saw_fetch |= a->fetch;
      } else if (auto* alu = std::get_if<Alu>(&insn)) {
        if (insns[i].slot != 0) {  // slot 0 is r9 = r1
          EXPECT_LT(alu->dst, 9) << "seed " << seed;
        }
        saw_sdiv |= alu->op == AluOp::SDiv || alu->op == AluOp::SMod;
        saw_movsx |= alu->op >= AluOp::MovSx8;
      } else if (auto* c = std::get_if<Call>(&insn)) {
        EXPECT_EQ(c->kind, CallKind::Local);
        saw_call = true;
      } else if (auto* j = std::get_if<Jump>(&insn)) {
        EXPECT_GE(j->off, 0) << "only forward jumps";
      } else if (auto* ja = std::get_if<Ja>(&insn)) {
        EXPECT_GT(ja->off, 0) << "an unconditional goto skips an else part";
        (ja->wide ? saw_gotol : saw_goto) = true;
      }
    }
  }
  EXPECT_TRUE(saw_sdiv && saw_movsx && saw_sx_load && saw_fetch && saw_call && saw_goto && saw_gotol);
  // Alu, Neg, Endian, Load, Store, Atomic, LoadImm64, Jump, Ja, Call, Exit.
  EXPECT_EQ(kinds.size(), 11u);
}

// With kernel_workarounds, every fetching atomic works on a slot the verifier
// cannot know (a non-fetching add to it comes first, and nothing jumps between
// them), and a 32-bit cmpxchg is followed by an explicit zero-extension of r0.
TEST(RandomProgram, KernelWorkaroundsGuardEveryFetch) {
  int fetches = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    RandomProgramOptions o;
    o.kernel_workarounds = true;
    RandomProgram p = generate_random_program(seed, o);
    std::vector<DecodedInsn> insns = decode_program(p.insns);
    std::set<uint32_t> targets;
    for (const DecodedInsn& d : insns) {
      if (auto* j = std::get_if<Jump>(&d.insn)) targets.insert(uint32_t(int(d.slot) + 1 + j->off));
      if (auto* j = std::get_if<Ja>(&d.insn)) targets.insert(uint32_t(int(d.slot) + 1 + j->off));
    }
    for (size_t i = 0; i < insns.size(); ++i) {
      auto* a = std::get_if<Atomic>(&insns[i].insn);
      if (!a || !a->fetch) continue;
      ++fetches;
      ASSERT_GE(i, 1u);
      auto* guard = std::get_if<Atomic>(&insns[i - 1].insn);
      ASSERT_TRUE(guard) << "seed " << seed << " slot " << insns[i].slot;
      EXPECT_FALSE(guard->fetch);
      EXPECT_EQ(guard->size, 8);
      EXPECT_LE(guard->off, a->off);
      EXPECT_GT(guard->off + 8, a->off);
      EXPECT_FALSE(targets.count(insns[i].slot) || targets.count(insns[i - 1].slot)) << "seed " << seed;
      if (a->op == AtomicOp::CmpXchg && a->size == 4) {
        ASSERT_LT(i + 1, insns.size());
        EXPECT_EQ(std::get<Alu>(insns[i + 1].insn), (Alu{AluOp::Mov, false, 0, Operand::Reg(0)}));
      }
    }
  }
  EXPECT_GT(fetches, 50);
}

// Without the kernel: the interpreter and the JIT agree on random programs.
TEST(RandomProgram, InterpreterAndJitAgree) {
  int disagreements = 0;
  for (uint64_t seed = 1000; seed < 1600; ++seed) {
    RandomProgramOptions o;
    o.length = 10 + seed % 300;
    o.mem_len = seed % 5 == 0 ? 0 : 1 + seed % 200;
    o.stack_bytes = 8 * (1 + seed % 32);
    RandomProgram p = generate_random_program(seed, o);
    DifferentialResult r = run_differential(p.insns, p.memory);
    if (!r.all_agree()) {
      ADD_FAILURE() << "seed " << seed << "\n" << r.describe() << program_listing(p.insns);
      if (++disagreements >= 3) break;
    }
  }
}

}  // namespace
}  // namespace bpfkit::testgen
