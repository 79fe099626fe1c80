// Decoding: every instruction kind decodes to its typed form, and malformed encodings
// (including the 45 conformance negative/unused-*.data programs) are rejected with a
// message naming the instruction index and the offending field.
#include <gtest/gtest.h>

#include "conformance_files.h"
#include "isa/codec.h"
#include "isa/opcodes.h"

namespace bpfkit::isa {
namespace {

RawInsn R(uint8_t op, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  RawInsn r;
  r.opcode = op;
  r.dst = dst;
  r.src = src;
  r.off = off;
  r.imm = imm;
  return r;
}

struct Case {
  std::vector<RawInsn> raw;
  Instruction expect;
};

std::vector<Case> valid_cases() {
  return {
      // ALU64 / ALU with K and X sources.
      {{R(0x07, 1, 0, 0, 5)}, Alu{AluOp::Add, true, 1, Operand::Imm(5)}},
      {{R(0x0f, 1, 2, 0, 0)}, Alu{AluOp::Add, true, 1, Operand::Reg(2)}},
      {{R(0x04, 3, 0, 0, -7)}, Alu{AluOp::Add, false, 3, Operand::Imm(-7)}},
      {{R(0x1c, 3, 4, 0, 0)}, Alu{AluOp::Sub, false, 3, Operand::Reg(4)}},
      {{R(0x27, 0, 0, 0, 3)}, Alu{AluOp::Mul, true, 0, Operand::Imm(3)}},
      {{R(0x3f, 0, 9, 0, 0)}, Alu{AluOp::Div, true, 0, Operand::Reg(9)}},
      {{R(0x3f, 0, 9, 1, 0)}, Alu{AluOp::SDiv, true, 0, Operand::Reg(9)}},
      {{R(0x34, 0, 0, 1, 3)}, Alu{AluOp::SDiv, false, 0, Operand::Imm(3)}},
      {{R(0x47, 1, 0, 0, 0xff)}, Alu{AluOp::Or, true, 1, Operand::Imm(0xff)}},
      {{R(0x5c, 1, 2, 0, 0)}, Alu{AluOp::And, false, 1, Operand::Reg(2)}},
      {{R(0x67, 1, 0, 0, 32)}, Alu{AluOp::Lsh, true, 1, Operand::Imm(32)}},
      {{R(0x7f, 1, 2, 0, 0)}, Alu{AluOp::Rsh, true, 1, Operand::Reg(2)}},
      {{R(0x97, 1, 0, 0, 10)}, Alu{AluOp::Mod, true, 1, Operand::Imm(10)}},
      {{R(0x9c, 1, 2, 1, 0)}, Alu{AluOp::SMod, false, 1, Operand::Reg(2)}},
      {{R(0xa7, 1, 0, 0, -1)}, Alu{AluOp::Xor, true, 1, Operand::Imm(-1)}},
      {{R(0xb7, 0, 0, 0, 1)}, Alu{AluOp::Mov, true, 0, Operand::Imm(1)}},
      {{R(0xbc, 0, 10, 0, 0)}, Alu{AluOp::Mov, false, 0, Operand::Reg(10)}},
      {{R(0xc7, 1, 0, 0, 63)}, Alu{AluOp::Arsh, true, 1, Operand::Imm(63)}},
      {{R(0xbf, 1, 2, 8, 0)}, Alu{AluOp::MovSx8, true, 1, Operand::Reg(2)}},
      {{R(0xbf, 1, 2, 16, 0)}, Alu{AluOp::MovSx16, true, 1, Operand::Reg(2)}},
      {{R(0xbf, 1, 2, 32, 0)}, Alu{AluOp::MovSx32, true, 1, Operand::Reg(2)}},
      {{R(0xbc, 1, 2, 8, 0)}, Alu{AluOp::MovSx8, false, 1, Operand::Reg(2)}},
      {{R(0xbc, 1, 2, 16, 0)}, Alu{AluOp::MovSx16, false, 1, Operand::Reg(2)}},
      {{R(0x87, 4, 0, 0, 0)}, Neg{true, 4}},
      {{R(0x84, 4, 0, 0, 0)}, Neg{false, 4}},
      {{R(0xd4, 1, 0, 0, 16)}, Endian{EndianKind::ToLe, 16, 1}},
      {{R(0xdc, 1, 0, 0, 32)}, Endian{EndianKind::ToBe, 32, 1}},
      {{R(0xd7, 1, 0, 0, 64)}, Endian{EndianKind::Swap, 64, 1}},
      // Loads and stores.
      {{R(0x61, 0, 1, 4, 0)}, Load{4, false, 0, 1, 4}},
      {{R(0x69, 0, 1, -2, 0)}, Load{2, false, 0, 1, -2}},
      {{R(0x71, 0, 1, 0, 0)}, Load{1, false, 0, 1, 0}},
      {{R(0x79, 0, 10, -8, 0)}, Load{8, false, 0, 10, -8}},
      {{R(0x81, 0, 1, 0, 0)}, Load{4, true, 0, 1, 0}},
      {{R(0x89, 0, 1, 0, 0)}, Load{2, true, 0, 1, 0}},
      {{R(0x91, 0, 1, 0, 0)}, Load{1, true, 0, 1, 0}},
      {{R(0x62, 10, 0, -4, 5)}, Store{4, 10, -4, Operand::Imm(5)}},
      {{R(0x7a, 10, 0, -8, -1)}, Store{8, 10, -8, Operand::Imm(-1)}},
      {{R(0x73, 10, 1, -1, 0)}, Store{1, 10, -1, Operand::Reg(1)}},
      {{R(0x6b, 10, 1, -2, 0)}, Store{2, 10, -2, Operand::Reg(1)}},
      // Atomics.
      // Load-acquire (imm 0x100: dst = *(src + off)) and store-release (0x110: *(dst + off) = src).
      {{R(0xdb, 0, 10, -8, 0x100)}, Load{8, false, 0, 10, -8, true}},
      {{R(0xd3, 2, 1, 3, 0x100)}, Load{1, false, 2, 1, 3, true}},
      {{R(0xcb, 1, 2, 4, 0x110)}, Store{2, 1, 4, Operand::Reg(2), true}},
      {{R(0xc3, 1, 2, 0, 0x110)}, Store{4, 1, 0, Operand::Reg(2), true}},
      // may_goto: JMP | JCOND | K, every field but the offset zero.
      {{R(0xe5, 0, 0, -1, 0)}, Jump{JmpCond::MayGoto, false, 0, Operand::Imm(0), -1}},
      {{R(0xdb, 1, 2, 0, 0x00)}, Atomic{AtomicOp::Add, false, 8, 1, 0, 2}},
      {{R(0xc3, 1, 2, 8, 0x40)}, Atomic{AtomicOp::Or, false, 4, 1, 8, 2}},
      {{R(0xdb, 1, 2, 0, 0x51)}, Atomic{AtomicOp::And, true, 8, 1, 0, 2}},
      {{R(0xc3, 1, 2, 0, 0xa1)}, Atomic{AtomicOp::Xor, true, 4, 1, 0, 2}},
      {{R(0xdb, 1, 2, 0, 0xe1)}, Atomic{AtomicOp::Xchg, true, 8, 1, 0, 2}},
      {{R(0xc3, 1, 2, 0, 0xf1)}, Atomic{AtomicOp::CmpXchg, true, 4, 1, 0, 2}},
      // lddw and its pseudo sources.
      {{R(0x18, 1, 0, 0, 0x55667788), R(0, 0, 0, 0, 0x11223344)},
       LoadImm64{1, Pseudo::Imm64, 0x55667788, 0x11223344}},
      {{R(0x18, 1, 1, 0, 3), R(0, 0, 0, 0, 0)}, LoadImm64{1, Pseudo::MapFd, 3, 0}},
      {{R(0x18, 1, 2, 0, 3), R(0, 0, 0, 0, 16)}, LoadImm64{1, Pseudo::MapValue, 3, 16}},
      {{R(0x18, 1, 3, 0, 99), R(0, 0, 0, 0, 0)}, LoadImm64{1, Pseudo::BtfId, 99, 0}},
      {{R(0x18, 1, 4, 0, 1), R(0, 0, 0, 0, 0)}, LoadImm64{1, Pseudo::Func, 1, 0}},
      {{R(0x18, 1, 5, 0, 0), R(0, 0, 0, 0, 0)}, LoadImm64{1, Pseudo::MapIdx, 0, 0}},
      {{R(0x18, 1, 6, 0, 1), R(0, 0, 0, 0, 8)}, LoadImm64{1, Pseudo::MapIdxValue, 1, 8}},
      // Legacy packet loads.
      {{R(0x30, 0, 0, 0, 23)}, PacketLoad{1, false, 0, 23}},
      {{R(0x28, 0, 0, 0, 12)}, PacketLoad{2, false, 0, 12}},
      {{R(0x48, 0, 1, 0, 4)}, PacketLoad{2, true, 1, 4}},
      {{R(0x40, 0, 7, 0, 0)}, PacketLoad{4, true, 7, 0}},
      // Jumps, calls, exit. Targets stay inside the 2-slot program (an exit follows).
      {{R(0x15, 1, 0, 0, 5)}, Jump{JmpCond::Eq, false, 1, Operand::Imm(5), 0}},
      {{R(0x2d, 1, 2, 0, 0)}, Jump{JmpCond::Gt, false, 1, Operand::Reg(2), 0}},
      {{R(0x3e, 1, 2, 0, 0)}, Jump{JmpCond::Ge, true, 1, Operand::Reg(2), 0}},
      {{R(0x45, 1, 0, 0, 8)}, Jump{JmpCond::Set, false, 1, Operand::Imm(8), 0}},
      {{R(0x56, 1, 0, 0, 8)}, Jump{JmpCond::Ne, true, 1, Operand::Imm(8), 0}},
      {{R(0x65, 1, 0, 0, -1)}, Jump{JmpCond::Sgt, false, 1, Operand::Imm(-1), 0}},
      {{R(0x7d, 1, 2, 0, 0)}, Jump{JmpCond::Sge, false, 1, Operand::Reg(2), 0}},
      {{R(0xa5, 1, 0, 0, 1)}, Jump{JmpCond::Lt, false, 1, Operand::Imm(1), 0}},
      {{R(0xbe, 1, 2, 0, 0)}, Jump{JmpCond::Le, true, 1, Operand::Reg(2), 0}},
      {{R(0xc5, 1, 0, 0, 1)}, Jump{JmpCond::Slt, false, 1, Operand::Imm(1), 0}},
      {{R(0xdd, 1, 2, 0, 0)}, Jump{JmpCond::Sle, false, 1, Operand::Reg(2), 0}},
      {{R(0x05, 0, 0, 0, 0)}, Ja{0, false}},
      {{R(0x06, 0, 0, 0, 0)}, Ja{0, true}},
      {{R(0x85, 0, 0, 0, 5)}, Call{CallKind::Helper, 5}},
      {{R(0x85, 0, 1, 0, 0)}, Call{CallKind::Local, 0}},
      {{R(0x85, 0, 2, 0, 1234)}, Call{CallKind::Kfunc, 1234}},
      {{R(0x85, 0, 2, 3, 77)}, Call{CallKind::Kfunc, 77, 3}},  // a module kfunc: off = fd_array index
      {{R(0x8d, 2, 0, 0, 0)}, CallX{2}},
      {{R(0x95, 0, 0, 0, 0)}, Exit{}},
  };
}

TEST(Decoder, EveryKindDecodesToItsTypedForm) {
  for (const Case& c : valid_cases()) {
    std::vector<RawInsn> prog = c.raw;
    prog.push_back(R(0x95, 0, 0, 0, 0));
    SCOPED_TRACE(::testing::PrintToString(int(prog[0].opcode)));
    auto decoded = decode_program(prog);
    ASSERT_EQ(decoded.size(), 2u);
    EXPECT_EQ(decoded[0].slot, 0u);
    EXPECT_EQ(decoded[0].insn, c.expect);
    EXPECT_EQ(decoded[1].slot, uint32_t(c.raw.size()));
    // And encoding gives the same slots back.
    std::vector<RawInsn> again;
    encode_insn(c.expect, again);
    EXPECT_EQ(again, c.raw);
  }
}

TEST(Decoder, RawBytesRoundTrip) {
  const std::vector<uint8_t> bytes = {0x18, 0x01, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0,
                                      0x44, 0x33, 0x22, 0x11, 0x95, 0,    0,    0,    0, 0, 0, 0};
  auto raw = raw_from_bytes(bytes);
  ASSERT_EQ(raw.size(), 3u);
  EXPECT_EQ(raw[0].dst, 1);
  EXPECT_EQ(raw[0].imm, 0x55667788);
  EXPECT_EQ(raw[1].imm, 0x11223344);
  EXPECT_EQ(bytes_from_raw(raw), bytes);
  EXPECT_THROW(raw_from_bytes(std::span(bytes).first(13)), Error);
}

// Decodes `raw` and returns the DecodeError message; fails the test if it decodes.
std::string decode_error(const std::vector<RawInsn>& raw, size_t* slot = nullptr) {
  try {
    decode_program(raw);
  } catch (const DecodeError& e) {
    if (slot) *slot = e.slot();
    return e.what();
  } catch (const Error& e) {
    return std::string("not a DecodeError: ") + e.what();
  }
  ADD_FAILURE() << "decoded without error";
  return "";
}

TEST(Decoder, RejectsMalformedEncodings) {
  const RawInsn exit = R(0x95, 0, 0, 0, 0);
  struct Bad {
    std::vector<RawInsn> raw;
    size_t slot;
    std::string says;
  } cases[] = {
      {{R(0x00, 0, 0, 0, 0), exit}, 0, "unknown load"},
      {{R(0xb7, 11, 0, 0, 0), exit}, 0, "dst register r11"},
      {{R(0xbf, 1, 12, 0, 0), exit}, 0, "src register r12"},
      {{R(0xe7, 1, 0, 0, 0), exit}, 0, "unknown ALU operation"},
      {{R(0xbc, 1, 2, 32, 0), exit}, 0, "offset field"},  // movsx32 only exists in ALU64
      {{R(0xb7, 1, 0, 8, 0), exit}, 0, "offset field"},   // movsx needs a register source
      {{R(0x37, 1, 0, 2, 1), exit}, 0, "offset field"},   // sdiv is off = 1
      {{R(0xd4, 1, 0, 0, 8), exit}, 0, "byte swap width"},
      {{R(0xdf, 1, 0, 0, 16), exit}, 0, "source bit"},
      {{R(0x8f, 1, 0, 0, 0), exit}, 0, "source bit"},
      {{R(0x99, 0, 1, 0, 0), exit}, 0, "sign-extending load of 8 bytes"},
      {{R(0xa1, 0, 1, 0, 0), exit}, 0, "unknown LDX mode"},
      {{R(0xc2, 1, 0, 0, 0), exit}, 0, "unknown ST mode"},
      {{R(0xd3, 1, 2, 0, 0), exit}, 0, "atomic operations take 4 or 8 bytes"},
      {{R(0xdb, 1, 2, 0, 0x101), exit}, 0, "unknown atomic operation 0x101"},
      {{R(0xe5, 1, 0, 1, 0), exit}, 0, "dst register field is reserved"},
      {{R(0xe5, 0, 0, 1, 5), exit}, 0, "immediate field is reserved"},
      {{R(0xe5, 0, 1, 1, 0), exit}, 0, "JCOND src field 1 is not may_goto"},
      {{R(0xed, 0, 0, 1, 0), exit}, 0, "may_goto takes no source operand"},
      {{R(0xe6, 0, 0, 1, 0), exit}, 0, "may_goto is not a JMP32 instruction"},
      {{R(0xdb, 1, 2, 0, 0xe0), exit}, 0, "unknown atomic operation"},
      {{R(0xdb, 1, 2, 0, 0x10), exit}, 0, "unknown atomic operation"},
      {{R(0x18, 1, 0, 0, 0)}, 0, "truncated"},
      {{R(0x18, 1, 0, 0, 0), R(0x95, 0, 0, 0, 0)}, 1, "second slot"},
      {{R(0x18, 1, 7, 0, 0), R(0, 0, 0, 0, 0), exit}, 0, "pseudo source"},
      {{R(0x38, 0, 0, 0, 0), exit}, 0, "unknown load"},  // ldabs of 8 bytes
      {{R(0x30, 1, 0, 0, 0), exit}, 0, "dst register field"},
      {{R(0xf5, 1, 0, 0, 0), exit}, 0, "unknown jump operation"},
      {{R(0x0e, 0, 0, 0, 0), exit}, 0, "source bit"},
      {{R(0x86, 0, 0, 0, 0), exit}, 0, "not a JMP32"},
      {{R(0x96, 0, 0, 0, 0), exit}, 0, "not a JMP32"},
      {{R(0x85, 0, 3, 0, 0), exit}, 0, "call src field"},
      {{R(0x85, 0, 1, 1, 0), exit}, 0, "offset field"},  // only kfunc calls use the offset
      {{R(0x8d, 1, 0, 0, 1), exit}, 0, "immediate field"},
      {{R(0x06, 0, 0, 1, 0), exit}, 0, "offset field"},
      {{R(0x05, 0, 0, 5, 0), exit}, 0, "outside the program"},
      {{R(0x05, 0, 0, -2, 0), exit}, 0, "outside the program"},
      {{R(0x05, 0, 0, 1, 0), R(0x18, 0, 0, 0, 0), R(0, 0, 0, 0, 0), exit}, 0, "second slot of an lddw"},
      {{R(0x85, 0, 1, 0, 7), exit}, 0, "call target"},
      {{R(0x18, 1, 4, 0, 9), R(0, 0, 0, 0, 0), exit}, 0, "function pointer target"},
  };
  for (const Bad& b : cases) {
    size_t slot = 99;
    const std::string msg = decode_error(b.raw, &slot);
    EXPECT_NE(msg.find(b.says), std::string::npos) << msg << " (expected '" << b.says << "')";
    EXPECT_EQ(slot, b.slot) << msg;
    EXPECT_NE(msg.find("instruction " + std::to_string(b.slot)), std::string::npos) << msg;
  }
  EXPECT_THROW(decode_program(std::vector<RawInsn>{}), Error);
}

// negative/unused-NAME-FIELD.data: a reserved field is set; the message must say which.
TEST(Decoder, ConformanceUnusedFieldsAreRejected) {
  auto files = testdata::data_files("negative", "unused-");
  ASSERT_EQ(files.size(), 45u) << "conformance data not found under " << testdata::conformance_dir();
  for (const auto& path : files) {
    auto f = testdata::read_data_file(path);
    SCOPED_TRACE(f.name);
    ASSERT_TRUE(f.has("raw"));
    auto raw = raw_from_bytes(testdata::raw_bytes(f));
    ASSERT_EQ(raw.size(), 2u);
    const std::string field = path.stem().string().substr(path.stem().string().rfind('-') + 1);
    const std::string expect = field == "imm"      ? "immediate field"
                               : field == "offset" ? "offset field"
                                                   : field + " register field";
    size_t slot = 99;
    const std::string msg = decode_error(raw, &slot);
    EXPECT_EQ(slot, 0u) << msg;
    EXPECT_NE(msg.find("instruction 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find(expect), std::string::npos) << msg << " (expected it to name the " << expect << ")";
  }
}

}  // namespace
}  // namespace bpfkit::isa
