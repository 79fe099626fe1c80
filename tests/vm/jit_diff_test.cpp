// JIT against interpreter on thousands of random programs: straight-line code
// with forward branches over every ALU, byte-swap, load, store and atomic form,
// registers all initialised, stack accesses through r10 at in-range offsets and
// divisions by values that include 0 and -1. Each program ends by folding every
// register into r0 and copying its whole stack frame out, so a wrong value
// anywhere shows in r0 or in the copied stack.
#include <cstring>
#include <random>

#include "jit_test_util.h"
#include "testing/differential.h"
#include "testing/random_program.h"

namespace bpfkit::jit_test {
namespace {

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::vector<Instruction> program(uint64_t* stack_out) {
    std::vector<Instruction> p;
    for (uint8_t r = 0; r < 10; ++r) p.push_back(lddw(r, value()));
    for (int16_t off = -512; off < 0; off += 8) p.push_back(st(8, 10, off, int32_t(rng_())));
    const size_t body = 20 + rng_() % 120;
    std::vector<Instruction> b;
    std::vector<size_t> jump_at;
    while (b.size() < body) {
      if (below(8) == 0) {
        jump_at.push_back(b.size());
        b.push_back(Jump{});  // target filled below
      } else {
        b.push_back(random_insn());
      }
    }
    // Forward jumps: to a later instruction of the body or to its end (the epilogue).
    for (size_t at : jump_at) {
      const int16_t off = int16_t(below(uint32_t(b.size() - at)));
      const JmpCond cond = JmpCond(below(11));
      const bool is32 = below(2);
      const uint8_t dst = reg();
      Operand src = below(2) ? Operand::Reg(reg()) : Operand::Imm(imm());
      b[at] = Jump{cond, is32, dst, src, off};
    }
    // The jumps count slots: make lddw-free bodies so that indexes are slots (lddw only in the prologue).
    p.insert(p.end(), b.begin(), b.end());
    for (uint8_t r = 1; r < 10; ++r) {
      p.push_back(alu(AluOp::Mul, true, 0, Operand::Imm(1000003)));
      p.push_back(alu(AluOp::Xor, true, 0, Operand::Reg(r)));
    }
    p.push_back(lddw(1, uint64_t(reinterpret_cast<uintptr_t>(stack_out))));
    for (int16_t i = 0; i < 64; ++i) {
      p.push_back(ldx(8, 2, 10, int16_t(-512 + 8 * i)));
      p.push_back(stx(8, 1, int16_t(8 * i), 2));
    }
    p.push_back(exit_insn());
    return p;
  }

 private:
  uint32_t below(uint32_t n) { return uint32_t(rng_() % n); }
  uint8_t reg() { return uint8_t(below(10)); }

  uint64_t value() {
    // clang-format off
    static const uint64_t kEdges[] = {
        0, 1, ~0ull, 0x7fffffffffffffff, 0x8000000000000000, 0x80000000, 0xffffffff, 0xffffffff80000000,
        0x7fffffff, 2, 3, 0x100000000
    };
    // clang-format on
    return below(3) == 0 ? kEdges[below(std::size(kEdges))] : rng_();
  }
  int32_t imm() {
    static const int32_t kEdges[] = {0,  1,  -1, 2,         3,          7,    8,    31,
                                     32, 63, 64, INT32_MIN, 0x7fffffff, 0xff, -0x80};
    return below(2) ? kEdges[below(std::size(kEdges))] : int32_t(rng_());
  }

  Instruction random_insn() {
    switch (below(12)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        const AluOp op = AluOp(below(17));
        bool is64 = below(2);
        if (op == AluOp::MovSx32) is64 = true;
        const bool movsx = op == AluOp::MovSx8 || op == AluOp::MovSx16 || op == AluOp::MovSx32;
        if (movsx || below(2)) return alu(op, is64, reg(), Operand::Reg(reg()));
        return alu(op, is64, reg(), Operand::Imm(imm()));
      }
      case 4: {  // a register set to a division corner before it is used
        static const int32_t kCorner[] = {0, -1, 1, INT32_MIN};
        return alu(AluOp::Mov, below(2), reg(), Operand::Imm(kCorner[below(4)]));
      }
      case 5: return Neg{bool(below(2)), reg()};
      case 6: {
        static const uint8_t kBits[] = {16, 32, 64};
        return Endian{EndianKind(below(3)), kBits[below(3)], reg()};
      }
      case 7: {
        static const uint8_t kSizes[] = {1, 2, 4, 8};
        const uint8_t size = kSizes[below(4)];
        const bool sx = size != 8 && below(2);
        return ldx(size, reg(), 10, offset(size), sx);
      }
      case 8:
      case 9: {
        static const uint8_t kSizes[] = {1, 2, 4, 8};
        const uint8_t size = kSizes[below(4)];
        if (below(2)) return st(size, 10, offset(size), imm());
        return stx(size, 10, offset(size), reg());
      }
      default: {
        static const AtomicOp kOps[] = {AtomicOp::Add, AtomicOp::Or,   AtomicOp::And,
                                        AtomicOp::Xor, AtomicOp::Xchg, AtomicOp::CmpXchg};
        const AtomicOp op = kOps[below(6)];
        const uint8_t size = below(2) ? 8 : 4;
        const bool fetch = op == AtomicOp::Xchg || op == AtomicOp::CmpXchg || below(2);
        const int16_t off = int16_t(-int(size) * (1 + below(512 / size)));  // aligned, inside the frame
        return Atomic{op, fetch, size, 10, off, reg()};
      }
    }
  }

  int16_t offset(uint8_t size) { return int16_t(-int(size) - int(below(512 - size + 1))); }

  std::mt19937_64 rng_;
};

TEST(JitDifferential, RandomStraightLineAndForwardBranchPrograms) {
  int compared = 0;
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    uint64_t stack_jit[64], stack_interp[64];
    std::memset(stack_jit, 0, sizeof stack_jit);
    std::memset(stack_interp, 0xee, sizeof stack_interp);
    Generator g1(seed), g2(seed);
    const std::vector<Instruction> pj = g1.program(stack_jit), pi = g2.program(stack_interp);
    RunConfig c;
    c.checked = seed % 2 == 0;
    core::ExecEnv ej, ei;
    ej.allow(uint64_t(reinterpret_cast<uintptr_t>(stack_jit)), sizeof stack_jit, true);
    ei.allow(uint64_t(reinterpret_cast<uintptr_t>(stack_interp)), sizeof stack_interp, true);
    c.env = &ej;
    const uint64_t r0_jit = run_jit(pj, c);
    c.env = &ei;
    const uint64_t r0_interp = run_interp(pi, c);
    ASSERT_EQ(r0_jit, r0_interp) << "seed " << seed << (c.checked ? " checked" : " unchecked");
    ASSERT_EQ(std::memcmp(stack_jit, stack_interp, sizeof stack_jit), 0)
        << "seed " << seed << ": stacks differ";
    ++compared;
  }
  EXPECT_EQ(compared, 3000);
}

// The shared generator of seeded programs (functions, memory, calls) through the
// differential runner, in both modes.
TEST(JitDifferential, SharedRandomProgramGenerator) {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    testgen::RandomProgramOptions o;
    o.length = 50 + seed % 150;
    o.mem_len = seed % 3 == 0 ? 0 : 64;
    const testgen::RandomProgram p = testgen::generate_random_program(seed, o);
    testgen::DifferentialOptions d;
    d.checked = seed % 2 == 1;
    const testgen::DifferentialResult r = testgen::run_differential(p.insns, p.memory, d);
    ASSERT_TRUE(r.all_agree()) << "seed " << seed << "\n" << r.describe();
  }
}

}  // namespace
}  // namespace bpfkit::jit_test
