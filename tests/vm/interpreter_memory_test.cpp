// Loads, stores and atomics of the interpreter, and the checked mode's memory
// checks with their exact messages.
#include <cstring>

#include "interpreter_test_util.h"

namespace bpfkit::interp_test {
namespace {

// 16 bytes of memory the program gets in r1 (registered as a region).
struct Memory {
  alignas(8) uint8_t bytes[16] = {0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8,
                                  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  core::ExecEnv env;
  explicit Memory(bool writable = true) { env.allow(addr(bytes), sizeof bytes, writable); }
  uint64_t u64(size_t at) const {
    uint64_t v;
    std::memcpy(&v, bytes + at, 8);
    return v;
  }
  uint32_t u32(size_t at) const {
    uint32_t v;
    std::memcpy(&v, bytes + at, 4);
    return v;
  }
};

class MemoryTest : public BothModes {
 protected:
  uint64_t run_mem(const std::vector<Instruction>& p) { return run(p, checked(), addr(m.bytes), 16, &m.env); }
  Memory m;
};

TEST_P(MemoryTest, LoadsZeroExtend) {
  EXPECT_EQ(run_mem({ldx(1, 0, 1, 0), exit_insn()}), 0x81u);
  EXPECT_EQ(run_mem({ldx(2, 0, 1, 0), exit_insn()}), 0x9281u);
  EXPECT_EQ(run_mem({ldx(4, 0, 1, 0), exit_insn()}), 0xb4a39281u);
  EXPECT_EQ(run_mem({ldx(8, 0, 1, 0), exit_insn()}), 0xf8e7d6c5b4a39281ull);
}

TEST_P(MemoryTest, SignExtendingLoadsExtendTo64Bits) {
  EXPECT_EQ(run_mem({ldx(1, 0, 1, 0, true), exit_insn()}), 0xffffffffffffff81ull);
  EXPECT_EQ(run_mem({ldx(2, 0, 1, 0, true), exit_insn()}), 0xffffffffffff9281ull);
  EXPECT_EQ(run_mem({ldx(4, 0, 1, 0, true), exit_insn()}), 0xffffffffb4a39281ull);
  EXPECT_EQ(run_mem({ldx(1, 0, 1, 8, true), exit_insn()}), 0x01u);  // positive stays positive
}

TEST_P(MemoryTest, UnalignedLoadAndNegativeOffset) {
  EXPECT_EQ(run_mem({ldx(8, 0, 1, 1), exit_insn()}), 0x01f8e7d6c5b4a392ull);
  EXPECT_EQ(run_mem({alu(AluOp::Add, true, 1, Operand::Imm(8)), ldx(2, 0, 1, -2), exit_insn()}), 0xf8e7u);
}

TEST_P(MemoryTest, StoreImmediateTruncatesOrSignExtends) {
  run_mem({st(8, 1, 0, -2), st(4, 1, 8, -3), exit_insn()});
  EXPECT_EQ(m.u64(0), 0xfffffffffffffffeull);
  EXPECT_EQ(m.u32(8), 0xfffffffdu);
  EXPECT_EQ(m.u32(12), 0x08070605u);  // untouched
  run_mem({st(2, 1, 0, 0x12345678), st(1, 1, 2, 0x1ab), exit_insn()});
  EXPECT_EQ(m.u32(0), 0xffab5678u);
}

TEST_P(MemoryTest, StoreRegisterTruncates) {
  run_mem({lddw(2, 0x1122334455667788ull), stx(1, 1, 0, 2), stx(2, 1, 1, 2), stx(4, 1, 4, 2), exit_insn()});
  EXPECT_EQ(m.u64(0), 0x55667788b4778888ull);  // byte 3 untouched
  run_mem({lddw(2, 0x1122334455667788ull), stx(8, 1, 8, 2), exit_insn()});
  EXPECT_EQ(m.u64(8), 0x1122334455667788ull);
}

TEST_P(MemoryTest, StackIsPrivateAndBelowR10) {
  // r10 points one past the frame: stores at r10-8 then loads back.
  EXPECT_EQ(run({lddw(1, 0xabcdef0123456789ull), stx(8, 10, -8, 1), st(4, 10, -512, 7), ldx(8, 0, 10, -8),
                 ldx(4, 2, 10, -512), alu(AluOp::Add, true, 0, Operand::Reg(2)), exit_insn()},
                checked()),
            0xabcdef0123456790ull);
}

TEST_P(MemoryTest, AtomicAddOrAndXor) {
  // 8-byte ops on bytes 0..7, 4-byte ops on bytes 8..11.
  run_mem({mov(2, 0x10), Atomic{AtomicOp::Add, false, 8, 1, 0, 2}, mov(3, 0x0f),
           Atomic{AtomicOp::Or, false, 4, 1, 8, 3}, exit_insn()});
  EXPECT_EQ(m.u64(0), 0xf8e7d6c5b4a39291ull);
  EXPECT_EQ(m.u32(8), 0x0403020fu);
  run_mem({mov(2, 0xff), Atomic{AtomicOp::And, false, 8, 1, 0, 2}, mov(3, -1),
           Atomic{AtomicOp::Xor, false, 4, 1, 8, 3}, exit_insn()});
  EXPECT_EQ(m.u64(0), 0x91u);
  EXPECT_EQ(m.u32(8), 0xfbfcfdf0u);
  EXPECT_EQ(m.u32(12), 0x08070605u);  // a 4-byte atomic touches 4 bytes only
}

TEST_P(MemoryTest, AtomicFetchReturnsOldValue) {
  // lock fetch add: r2 receives the old 8 bytes.
  EXPECT_EQ(run_mem({mov(2, 1), Atomic{AtomicOp::Add, true, 8, 1, 0, 2}, movr(0, 2), exit_insn()}),
            0xf8e7d6c5b4a39281ull);
  EXPECT_EQ(m.u64(0), 0xf8e7d6c5b4a39282ull);
  // 32-bit fetch zero-extends the old value into the (64-bit) source register.
  EXPECT_EQ(run_mem({lddw(2, 0xffffffff00000001ull), Atomic{AtomicOp::Xor, true, 4, 1, 8, 2}, movr(0, 2),
                     exit_insn()}),
            0x04030201u);
  EXPECT_EQ(m.u32(8), 0x04030200u);
}

TEST_P(MemoryTest, AtomicXchg) {
  EXPECT_EQ(run_mem({mov(2, 5), Atomic{AtomicOp::Xchg, true, 8, 1, 8, 2}, movr(0, 2), exit_insn()}),
            0x0807060504030201ull);
  EXPECT_EQ(m.u64(8), 5u);
  EXPECT_EQ(run_mem({lddw(2, 0x1234567800000009ull), Atomic{AtomicOp::Xchg, true, 4, 1, 0, 2}, movr(0, 2),
                     exit_insn()}),
            0xb4a39281u);
  EXPECT_EQ(m.u64(0), 0xf8e7d6c500000009ull);
}

TEST_P(MemoryTest, AtomicCmpXchgSucceeds) {
  // r0 matches: memory takes r2, r0 receives the old value.
  EXPECT_EQ(run_mem({lddw(0, 0x0807060504030201ull), mov(2, 7), Atomic{AtomicOp::CmpXchg, true, 8, 1, 8, 2},
                     exit_insn()}),
            0x0807060504030201ull);
  EXPECT_EQ(m.u64(8), 7u);
}

TEST_P(MemoryTest, AtomicCmpXchgFails) {
  EXPECT_EQ(run_mem({mov(0, 1), mov(2, 7), Atomic{AtomicOp::CmpXchg, true, 8, 1, 8, 2}, exit_insn()}),
            0x0807060504030201ull);
  EXPECT_EQ(m.u64(8), 0x0807060504030201ull);
}

TEST_P(MemoryTest, AtomicCmpXchg32ComparesLowHalf) {
  // The high half of r0 does not take part; r0 gets the old value zero-extended.
  EXPECT_EQ(run_mem({lddw(0, 0xdead000004030201ull), mov(2, 7), Atomic{AtomicOp::CmpXchg, true, 4, 1, 8, 2},
                     exit_insn()}),
            0x04030201u);
  EXPECT_EQ(m.u64(8), 0x0807060500000007ull);
}

INSTANTIATE_TEST_SUITE_P(Interpreter, MemoryTest, ::testing::Bool());

// Checked mode: exact messages for every kind of refused access.
class CheckedMemoryTest : public ::testing::Test {
 protected:
  std::string error(const std::vector<Instruction>& p, bool writable = true) {
    Memory mem(writable);
    base = addr(mem.bytes);
    return run_error(p, true, base, 16, &mem.env);
  }
  uint64_t base = 0;
};

TEST_F(CheckedMemoryTest, LoadPastTheRegion) {
  const std::string msg = error({mov(0, 0), ldx(8, 0, 1, 16), exit_insn()});
  EXPECT_EQ(msg, "instruction 1: load of 8 bytes at r1+16 (" + hex(base + 16) +
                     ") is outside every region the program may access");
}

TEST_F(CheckedMemoryTest, LoadStraddlingTheEnd) {
  const std::string msg = error({ldx(8, 0, 1, 12), exit_insn()});
  EXPECT_EQ(msg, "instruction 0: load of 8 bytes at r1+12 (" + hex(base + 12) +
                     ") is outside every region the program may access");
}

TEST_F(CheckedMemoryTest, LoadBeforeTheRegion) {
  const std::string msg = error({ldx(1, 0, 1, -1), exit_insn()});
  EXPECT_EQ(msg, "instruction 0: load of 1 byte at r1-1 (" + hex(base - 1) +
                     ") is outside every region the program may access");
}

TEST_F(CheckedMemoryTest, LastByteOfTheRegionIsFine) {
  EXPECT_EQ(error({ldx(1, 0, 1, 15), ldx(8, 0, 1, 8), exit_insn()}), "no error");
}

TEST_F(CheckedMemoryTest, NullPointer) {
  EXPECT_EQ(error({mov(1, 0), ldx(4, 0, 1, 0), exit_insn()}),
            "instruction 1: load of 4 bytes at r1 (0x0) is outside every region the program may access");
}

TEST_F(CheckedMemoryTest, StoreToReadOnlyRegion) {
  const std::string msg = error({st(4, 1, 0, 1), exit_insn()}, false);
  EXPECT_EQ(msg, "instruction 0: store of 4 bytes at r1 (" + hex(base) +
                     ") writes to memory the program may only read");
  EXPECT_EQ(error({ldx(4, 0, 1, 0), exit_insn()}, false), "no error");
}

TEST_F(CheckedMemoryTest, AtomicOnReadOnlyRegion) {
  const std::string msg = error({mov(2, 1), Atomic{AtomicOp::Add, true, 8, 1, 8, 2}, exit_insn()}, false);
  EXPECT_EQ(msg, "instruction 1: atomic fetch add of 8 bytes at r1+8 (" + hex(base + 8) +
                     ") writes to memory the program may only read");
}

TEST_F(CheckedMemoryTest, StackBelowTheFrame) {
  const std::string msg = error({mov(0, 0), stx(8, 10, -520, 0), exit_insn()});
  EXPECT_TRUE(msg.starts_with("instruction 1: store of 8 bytes at r10-520 (0x")) << msg;
  EXPECT_TRUE(msg.ends_with(") is outside every region the program may access")) << msg;
}

TEST_F(CheckedMemoryTest, StackStraddlingTheBottom) {
  const std::string msg = error({ldx(8, 0, 10, -516), exit_insn()});
  EXPECT_TRUE(msg.starts_with("instruction 0: load of 8 bytes at r10-516 (0x")) << msg;
}

TEST_F(CheckedMemoryTest, StackAboveTheTop) {
  const std::string msg = error({ldx(1, 0, 10, 0), exit_insn()});
  EXPECT_TRUE(msg.starts_with("instruction 0: load of 1 byte at r10 (0x")) << msg;
  EXPECT_TRUE(msg.ends_with(") is outside every region the program may access")) << msg;
}

TEST_F(CheckedMemoryTest, MisalignedAtomic) {
  const std::string msg = error({mov(2, 1), Atomic{AtomicOp::Add, false, 8, 10, -12, 2}, exit_insn()});
  EXPECT_TRUE(msg.starts_with("instruction 1: atomic add of 8 bytes at r10-12 (0x")) << msg;
  EXPECT_TRUE(msg.ends_with(") is not aligned to 8 bytes, as atomic operations must be")) << msg;
  EXPECT_EQ(error({mov(2, 1), Atomic{AtomicOp::Add, false, 4, 10, -12, 2}, exit_insn()}), "no error");
}

TEST_F(CheckedMemoryTest, RegionsAddedByAHelperCount) {
  // A region registered in the env (as a helper returning memory would) is accessible.
  uint64_t other = 0x1234;
  Memory mem;
  mem.env.allow(addr(&other), sizeof other, false);
  EXPECT_EQ(run({lddw(2, addr(&other)), ldx(8, 0, 2, 0), exit_insn()}, true, 0, 0, &mem.env), 0x1234u);
}

TEST_F(CheckedMemoryTest, OverlappingWritableRegionWins) {
  Memory mem(false);
  mem.env.allow(addr(mem.bytes) + 8, 8, true);
  EXPECT_EQ(run_error({st(8, 1, 8, 1), exit_insn()}, true, addr(mem.bytes), 16, &mem.env), "no error");
}

TEST(UncheckedMemoryTest, HasNoChecks) {
  // Unchecked mode trusts a verifier: memory outside every region is accessed as is.
  uint64_t value = 77;
  core::ExecEnv env;  // no regions at all
  EXPECT_EQ(run({lddw(1, addr(&value)), ldx(8, 0, 1, 0), exit_insn()}, false, 0, 0, &env), 77u);
  EXPECT_EQ(run_error({lddw(1, addr(&value)), ldx(8, 0, 1, 0), exit_insn()}, true, 0, 0, &env)
                .rfind("instruction 2: load of 8 bytes at r1", 0),
            0u);
}

}  // namespace
}  // namespace bpfkit::interp_test
