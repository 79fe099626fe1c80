// Property: for many random valid instructions of every kind,
//   typed -> encode -> decode gives the same typed instruction, and
//   format_insn / format_insn_ubpf -> assemble gives the same bytes.
#include <gtest/gtest.h>

#include <random>

#include "isa/assembler.h"
#include "isa/codec.h"
#include "isa/disassembler.h"
#include "isa/opcodes.h"
#include "isa_test_util.h"

namespace bpfkit::isa {
namespace {

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  Instruction next(int kind) {
    switch (kind) {
      case 0: return alu();
      case 1: return Neg{coin(), reg()};
      case 2: return endian();
      case 3: return load();
      case 4: return store();
      case 5: return atomic();
      case 6: return lddw();
      case 7: return packet();
      case 8: return jump();
      case 9: return Ja{off16(), false};
      case 10: return Ja{imm32(), true};
      case 11: return call();
      case 12: return CallX{reg()};
      case 13: return Load{size(), false, reg(), reg(), off16(), true};  // load-acquire
      case 14: return Store{size(), reg(), off16(), Operand::Reg(reg()), true};  // store-release
      case 15: return Jump{JmpCond::MayGoto, false, 0, Operand::Imm(0), off16()};
      default: return Exit{};
    }
  }
  static constexpr int kKinds = 17;

 private:
  bool coin() { return rng_() & 1; }
  uint32_t below(uint32_t n) { return rng_() % n; }
  uint8_t reg() { return uint8_t(below(kRegCount)); }
  // Mostly small numbers, but also the extremes and everything in between.
  int32_t imm32() {
    switch (below(4)) {
      case 0: return int32_t(below(64)) - 32;
      case 1: return below(2) ? INT32_MIN : INT32_MAX;
      default: return int32_t(rng_());
    }
  }
  int16_t off16() {
    switch (below(4)) {
      case 0: return int16_t(int32_t(below(64)) - 32);
      case 1: return below(2) ? INT16_MIN : INT16_MAX;
      default: return int16_t(rng_());
    }
  }
  uint8_t size() { return uint8_t(1u << below(4)); }
  Operand operand() { return coin() ? Operand::Imm(imm32()) : Operand::Reg(reg()); }

  Instruction alu() {
    Alu a{AluOp(below(17)), coin(), reg(), operand()};
    if (a.op >= AluOp::MovSx8) {
      a.src = Operand::Reg(reg());  // movsx only exists with a register source
      if (a.op == AluOp::MovSx32) a.is64 = true;
    }
    return a;
  }
  Instruction endian() {
    const uint8_t bits = uint8_t(16u << below(3));
    return Endian{EndianKind(below(3)), bits, reg()};
  }
  Instruction load() {
    Load l{size(), false, reg(), reg(), off16()};
    l.sign_extend = l.size != 8 && coin();
    return l;
  }
  Instruction store() { return Store{size(), reg(), off16(), operand()}; }
  Instruction atomic() {
    Atomic a{AtomicOp(below(6)), coin(), uint8_t(coin() ? 4 : 8), reg(), off16(), reg()};
    if (a.op == AtomicOp::Xchg || a.op == AtomicOp::CmpXchg) a.fetch = true;
    return a;
  }
  Instruction lddw() {
    LoadImm64 l{reg(), Pseudo(below(7)), imm32(), imm32()};
    if (coin()) l.imm_hi = 0;  // the usual shape of map_fd, btf_id, func
    return l;
  }
  Instruction packet() {
    PacketLoad p{uint8_t(1u << below(3)), coin(), 0, imm32()};
    if (p.indirect) p.src = reg();
    return p;
  }
  Instruction jump() { return Jump{JmpCond(below(11)), coin(), reg(), operand(), off16()}; }
  Instruction call() {
    Call c{CallKind(below(3)), imm32()};
    if (c.kind == CallKind::Kfunc && coin()) c.btf_fd_idx = off16();
    return c;
  }

  std::mt19937 rng_;
};

TEST(RoundTripProperty, RandomInstructionsOfEveryKind) {
  Generator gen(20240601);
  constexpr int kPerKind = 2500;
  int checked = 0;
  for (int kind = 0; kind < Generator::kKinds; ++kind) {
    for (int i = 0; i < kPerKind; ++i) {
      const Instruction insn = gen.next(kind);
      std::vector<RawInsn> raw;
      encode_insn(insn, raw);
      ASSERT_EQ(raw.size(), size_t(slot_count(insn)));
      Instruction decoded;
      try {
        decoded = decode_insn(raw, 0);
      } catch (const Error& e) {
        FAIL() << "kind " << kind << ": a valid instruction failed to decode: " << e.what() << " "
               << testdata::show(raw);
      }
      ASSERT_EQ(decoded, insn) << "kind " << kind << " " << testdata::show(raw);

      const std::string kernel = format_insn(decoded, 0);
      const std::string ubpf = format_insn_ubpf(decoded, 0);
      for (const std::string& text : {kernel, ubpf}) {
        std::vector<RawInsn> again;
        try {
          again = assemble(text);
        } catch (const AsmError& e) {
          FAIL() << "'" << text << "' does not assemble: " << e.what();
        }
        ASSERT_EQ(again, raw) << "'" << text << "'\n  got  " << testdata::show(again) << "\n  want "
                              << testdata::show(raw);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, kPerKind * Generator::kKinds);
}

// Random programs through the whole disassembler: each line carries its slot prefix.
TEST(RoundTripProperty, RandomProgramsThroughDisassemble) {
  Generator gen(7);
  std::mt19937 pick(99);
  for (int p = 0; p < 300; ++p) {
    std::vector<RawInsn> raw;
    const int n = 1 + int(pick() % 40);
    for (int i = 0; i < n; ++i) encode_insn(gen.next(int(pick() % Generator::kKinds)), raw);
    for (AsmSyntax syntax : {AsmSyntax::Kernel, AsmSyntax::Ubpf}) {
      const std::string text = disassemble(raw, syntax);
      ASSERT_EQ(assemble(text), raw) << text;
    }
  }
}

}  // namespace
}  // namespace bpfkit::isa
