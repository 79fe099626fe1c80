// The disassembler's exact text in both syntaxes.
#include "isa/disassembler.h"

#include <gtest/gtest.h>

#include "isa/codec.h"
#include "isa_test_util.h"

namespace bpfkit::isa {
namespace {

using testdata::R;

TEST(Disassembler, KernelSyntaxText) {
  const std::pair<Instruction, std::string> cases[] = {
      {Alu{AluOp::Mov, true, 0, Operand::Imm(1)}, "r0 = 1"},
      {Alu{AluOp::Add, false, 1, Operand::Reg(2)}, "w1 += w2"},
      {Alu{AluOp::SDiv, true, 1, Operand::Imm(-3)}, "r1 s/= -3"},
      {Alu{AluOp::SMod, false, 1, Operand::Reg(2)}, "w1 s%= w2"},
      {Alu{AluOp::Arsh, true, 1, Operand::Imm(3)}, "r1 s>>= 3"},
      {Alu{AluOp::MovSx16, false, 1, Operand::Reg(2)}, "w1 = (s16)w2"},
      {Alu{AluOp::MovSx32, true, 1, Operand::Reg(2)}, "r1 = (s32)r2"},
      {Neg{true, 3}, "r3 = -r3"},
      {Endian{EndianKind::ToBe, 16, 1}, "r1 = be16 r1"},
      {Endian{EndianKind::Swap, 64, 1}, "r1 = bswap64 r1"},
      {Load{4, false, 0, 1, 4}, "r0 = *(u32 *)(r1 + 4)"},
      {Load{2, true, 0, 1, -2}, "r0 = *(s16 *)(r1 - 2)"},
      {Store{8, 10, -8, Operand::Reg(1)}, "*(u64 *)(r10 - 8) = r1"},
      {Store{4, 10, -4, Operand::Imm(5)}, "*(u32 *)(r10 - 4) = 5"},
      {Load{8, false, 0, 10, -8, true}, "r0 = load_acquire((u64 *)(r10 - 8))"},
      {Load{1, false, 2, 1, 3, true}, "w2 = load_acquire((u8 *)(r1 + 3))"},
      {Store{8, 1, 0, Operand::Reg(2), true}, "store_release((u64 *)(r1 + 0), r2)"},
      {Store{2, 1, -2, Operand::Reg(3), true}, "store_release((u16 *)(r1 - 2), w3)"},
      {Jump{JmpCond::MayGoto, false, 0, Operand::Imm(0), 2}, "may_goto +2"},
      {Atomic{AtomicOp::Add, false, 8, 1, 0, 2}, "lock *(u64 *)(r1 + 0) += r2"},
      {Atomic{AtomicOp::Xor, false, 4, 1, 0, 2}, "lock *(u32 *)(r1 + 0) ^= w2"},
      {Atomic{AtomicOp::Add, true, 8, 1, 0, 2}, "r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)"},
      {Atomic{AtomicOp::Or, true, 4, 1, 0, 2}, "w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)"},
      {Atomic{AtomicOp::Xchg, true, 8, 1, 0, 2}, "r2 = xchg_64(r1 + 0, r2)"},
      {Atomic{AtomicOp::Xchg, true, 4, 1, 0, 2}, "w2 = xchg32_32(r1 + 0, w2)"},
      {Atomic{AtomicOp::CmpXchg, true, 8, 1, 0, 2}, "r0 = cmpxchg_64(r1 + 0, r0, r2)"},
      {Atomic{AtomicOp::CmpXchg, true, 4, 1, 0, 2}, "w0 = cmpxchg32_32(r1 + 0, w0, w2)"},
      {LoadImm64::Imm(1, 0x123456789), "r1 = 0x123456789 ll"},
      {LoadImm64::Imm(1, uint64_t(-5)), "r1 = -5 ll"},
      {LoadImm64{1, Pseudo::MapFd, 3, 0}, "r1 = map_fd(3) ll"},
      {LoadImm64{1, Pseudo::MapFd, 3, 7}, "r1 = map_fd(3, 7) ll"},
      {LoadImm64{1, Pseudo::MapValue, 3, 16}, "r1 = map_value(3, 16) ll"},
      {LoadImm64{1, Pseudo::MapIdx, 0, 0}, "r1 = map_idx(0) ll"},
      {LoadImm64{1, Pseudo::MapIdxValue, 0, 8}, "r1 = map_idx_value(0, 8) ll"},
      {LoadImm64{1, Pseudo::BtfId, 1234, 0}, "r1 = btf_id(1234) ll"},
      {LoadImm64{1, Pseudo::Func, 5, 0}, "r1 = func(+5) ll"},
      {PacketLoad{1, false, 0, 23}, "r0 = *(u8 *)skb[23]"},
      {PacketLoad{2, true, 1, 4}, "r0 = *(u16 *)skb[r1 + 4]"},
      {PacketLoad{4, true, 1, 0}, "r0 = *(u32 *)skb[r1]"},
      {Jump{JmpCond::Gt, false, 1, Operand::Imm(5), 2}, "if r1 > 5 goto +2"},
      {Jump{JmpCond::Eq, true, 1, Operand::Reg(2), -1}, "if w1 == w2 goto -1"},
      {Jump{JmpCond::Sle, false, 1, Operand::Reg(2), 0}, "if r1 s<= r2 goto +0"},
      {Jump{JmpCond::Set, false, 1, Operand::Imm(8), 1}, "if r1 & 8 goto +1"},
      {Ja{3, false}, "goto +3"},
      {Ja{70000, true}, "gotol +70000"},
      {Call{CallKind::Helper, 5}, "call 5"},
      {Call{CallKind::Local, 3}, "call pc+3"},
      {Call{CallKind::Local, -4}, "call pc-4"},
      {Call{CallKind::Kfunc, 1234}, "call kfunc(1234)"},
      {Call{CallKind::Kfunc, 1234, 5}, "call kfunc(1234, 5)"},
      {CallX{2}, "callx r2"},
      {Exit{}, "exit"},
  };
  for (const auto& [insn, text] : cases) EXPECT_EQ(format_insn(insn, 0), text);
}

TEST(Disassembler, UbpfSyntaxText) {
  const std::pair<Instruction, std::string> cases[] = {
      {Alu{AluOp::Mov, true, 0, Operand::Imm(1)}, "mov %r0, 1"},
      {Alu{AluOp::Add, false, 1, Operand::Reg(2)}, "add32 %r1, %r2"},
      {Alu{AluOp::SMod, false, 1, Operand::Imm(-2)}, "smod32 %r1, -2"},
      {Alu{AluOp::MovSx8, false, 1, Operand::Reg(2)}, "movsx832 %r1, %r2"},
      {Alu{AluOp::MovSx32, true, 1, Operand::Reg(2)}, "movsx3264 %r1, %r2"},
      {Neg{false, 1}, "neg32 %r1"},
      {Endian{EndianKind::ToLe, 16, 1}, "le16 %r1"},
      {Endian{EndianKind::Swap, 32, 1}, "bswap32 %r1"},
      {Load{8, false, 0, 1, 8}, "ldxdw %r0, [%r1+8]"},
      {Load{1, true, 0, 1, 0}, "ldxsb %r0, [%r1]"},
      {Store{4, 10, -4, Operand::Reg(1)}, "stxw [%r10-4], %r1"},
      {Store{4, 10, -4, Operand::Imm(5)}, "stw [%r10-4], 5"},
      {Load{4, false, 0, 10, -8, true}, "ldacqw %r0, [%r10-8]"},
      {Store{8, 1, 0, Operand::Reg(2), true}, "streldw [%r1], %r2"},
      {Jump{JmpCond::MayGoto, false, 0, Operand::Imm(0), -3}, "may_goto -3"},
      {Atomic{AtomicOp::Add, false, 8, 10, -8, 1}, "lock add [%r10-8], %r1"},
      {Atomic{AtomicOp::And, true, 4, 10, -8, 1}, "lock fetch and32 [%r10-8], %r1"},
      {Atomic{AtomicOp::CmpXchg, true, 8, 10, -8, 1}, "lock cmpxchg [%r10-8], %r1"},
      {LoadImm64::Imm(0, 0x1122334455667788), "lddw %r0, 0x1122334455667788"},
      {LoadImm64{1, Pseudo::MapFd, 3, 0}, "r1 = map_fd(3) ll"},
      {PacketLoad{4, false, 0, 23}, "ldabsw 23"},
      {PacketLoad{1, true, 2, 4}, "ldindb %r2, 4"},
      {Jump{JmpCond::Gt, false, 1, Operand::Imm(5), 2}, "jgt %r1, 5, +2"},
      {Jump{JmpCond::Ne, true, 1, Operand::Reg(2), -1}, "jne32 %r1, %r2, -1"},
      {Ja{3, false}, "ja +3"},
      {Ja{-70000, true}, "ja32 -70000"},
      {Call{CallKind::Helper, 5}, "call 5"},
      {Call{CallKind::Local, 3}, "call local +3"},
      {Call{CallKind::Kfunc, 9}, "call kfunc(9)"},
      {CallX{2}, "call %r2"},
      {Exit{}, "exit"},
  };
  for (const auto& [insn, text] : cases) EXPECT_EQ(format_insn_ubpf(insn, 0), text);
}

TEST(Disassembler, WholeProgram) {
  const std::vector<RawInsn> raw = {R(0xb7, 0, 0, 0, 1), R(0x18, 1, 0, 0, 5), R(0, 0, 0, 0, 0),
                                    R(0x15, 1, 0, -4, 0), R(0x95, 0, 0, 0, 0)};
  EXPECT_EQ(disassemble(raw),
            "   0: r0 = 1\n"
            "   1: r1 = 5 ll\n"
            "   3: if r1 == 0 goto -4\n"
            "   4: exit\n");
  EXPECT_EQ(disassemble(raw, AsmSyntax::Ubpf),
            "   0: mov %r0, 1\n"
            "   1: lddw %r1, 5\n"
            "   3: jeq %r1, 0, -4\n"
            "   4: exit\n");
  // The jump lands before the program: disassemble shows it, decode_program would not accept it.
  EXPECT_EQ(assemble(disassemble(raw)), raw);
}

TEST(Disassembler, MalformedSlotsThrowWithTheirIndex) {
  const std::vector<RawInsn> raw = {R(0xb7, 0, 0, 0, 1), R(0x95, 1, 0, 0, 0)};
  try {
    disassemble(raw);
    FAIL() << "no error";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.slot(), 1u);
    EXPECT_NE(std::string(e.what()).find("dst register field"), std::string::npos) << e.what();
  }
  EXPECT_THROW(disassemble(std::vector<RawInsn>{R(0x18, 0, 0, 0, 0)}), DecodeError);
}

}  // namespace
}  // namespace bpfkit::isa
