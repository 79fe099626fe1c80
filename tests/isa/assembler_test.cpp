// The assembler: every instruction form in both syntaxes gives the expected slots,
// the two syntaxes agree, labels resolve, llvm-objdump output is accepted.
#include "isa/assembler.h"

#include <gtest/gtest.h>

#include "isa/codec.h"
#include "isa/disassembler.h"
#include "isa_test_util.h"

namespace bpfkit::isa {
namespace {

using testdata::assembles_to;
using testdata::R;

struct Form {
  std::string kernel;  // kernel / llvm syntax
  std::string ubpf;    // uBPF syntax, "" when it has no spelling there
  std::vector<RawInsn> raw;
};

// One row per instruction form.
std::vector<Form> forms() {
  return {
      // ALU, 64 and 32 bits, immediate and register sources.
      {"r0 = 1", "mov %r0, 1", {R(0xb7, 0, 0, 0, 1)}},
      {"w0 = 1", "mov32 %r0, 1", {R(0xb4, 0, 0, 0, 1)}},
      {"r1 = r2", "mov %r1, %r2", {R(0xbf, 1, 2, 0, 0)}},
      {"w1 = w2", "mov32 %r1, %r2", {R(0xbc, 1, 2, 0, 0)}},
      {"r1 += r2", "add %r1, %r2", {R(0x0f, 1, 2, 0, 0)}},
      {"w1 += 5", "add32 %r1, 5", {R(0x04, 1, 0, 0, 5)}},
      {"r1 += -3", "add %r1, -3", {R(0x07, 1, 0, 0, -3)}},
      {"r1 -= r2", "sub %r1, %r2", {R(0x1f, 1, 2, 0, 0)}},
      {"w3 -= 7", "sub32 %r3, 7", {R(0x14, 3, 0, 0, 7)}},
      {"r1 *= 3", "mul %r1, 3", {R(0x27, 1, 0, 0, 3)}},
      {"w1 *= w9", "mul32 %r1, %r9", {R(0x2c, 1, 9, 0, 0)}},
      {"r1 /= r2", "div %r1, %r2", {R(0x3f, 1, 2, 0, 0)}},
      {"w1 /= 4", "div32 %r1, 4", {R(0x34, 1, 0, 0, 4)}},
      {"r1 s/= r2", "sdiv %r1, %r2", {R(0x3f, 1, 2, 1, 0)}},
      {"w1 s/= -3", "sdiv32 %r1, -3", {R(0x34, 1, 0, 1, -3)}},
      {"r1 %= 7", "mod %r1, 7", {R(0x97, 1, 0, 0, 7)}},
      {"w1 %= w2", "mod32 %r1, %r2", {R(0x9c, 1, 2, 0, 0)}},
      {"r1 s%= r2", "smod %r1, %r2", {R(0x9f, 1, 2, 1, 0)}},
      {"w1 s%= 5", "smod32 %r1, 5", {R(0x94, 1, 0, 1, 5)}},
      {"r1 |= r2", "or %r1, %r2", {R(0x4f, 1, 2, 0, 0)}},
      {"w1 |= 8", "or32 %r1, 8", {R(0x44, 1, 0, 0, 8)}},
      {"r1 &= 0xff", "and %r1, 0xff", {R(0x57, 1, 0, 0, 0xff)}},
      {"w1 &= w2", "and32 %r1, %r2", {R(0x5c, 1, 2, 0, 0)}},
      {"r1 <<= 3", "lsh %r1, 3", {R(0x67, 1, 0, 0, 3)}},
      {"w1 <<= w2", "lsh32 %r1, %r2", {R(0x6c, 1, 2, 0, 0)}},
      {"r1 >>= r2", "rsh %r1, %r2", {R(0x7f, 1, 2, 0, 0)}},
      {"w1 >>= 31", "rsh32 %r1, 31", {R(0x74, 1, 0, 0, 31)}},
      {"r1 s>>= 3", "arsh %r1, 3", {R(0xc7, 1, 0, 0, 3)}},
      {"w1 s>>= w2", "arsh32 %r1, %r2", {R(0xcc, 1, 2, 0, 0)}},
      {"r1 ^= r2", "xor %r1, %r2", {R(0xaf, 1, 2, 0, 0)}},
      {"w1 ^= -1", "xor32 %r1, -1", {R(0xa4, 1, 0, 0, -1)}},
      {"r1 = (s8)r2", "movsx864 %r1, %r2", {R(0xbf, 1, 2, 8, 0)}},
      {"r1 = (s16)r2", "movsx1664 %r1, %r2", {R(0xbf, 1, 2, 16, 0)}},
      {"r1 = (s32)r2", "movsx3264 %r1, %r2", {R(0xbf, 1, 2, 32, 0)}},
      {"w1 = (s8)w2", "movsx832 %r1, %r2", {R(0xbc, 1, 2, 8, 0)}},
      {"w1 = (s16)w2", "movsx1632 %r1, %r2", {R(0xbc, 1, 2, 16, 0)}},
      {"r1 = -r1", "neg %r1", {R(0x87, 1, 0, 0, 0)}},
      {"w1 = -w1", "neg32 %r1", {R(0x84, 1, 0, 0, 0)}},
      // Byte swaps.
      {"r1 = le16 r1", "le16 %r1", {R(0xd4, 1, 0, 0, 16)}},
      {"r1 = le32 r1", "le32 %r1", {R(0xd4, 1, 0, 0, 32)}},
      {"r1 = le64 r1", "le64 %r1", {R(0xd4, 1, 0, 0, 64)}},
      {"r1 = be16 r1", "be16 %r1", {R(0xdc, 1, 0, 0, 16)}},
      {"r2 = be32 r2", "be32 %r2", {R(0xdc, 2, 0, 0, 32)}},
      {"r1 = be64 r1", "be64 %r1", {R(0xdc, 1, 0, 0, 64)}},
      {"r1 = bswap16 r1", "bswap16 %r1", {R(0xd7, 1, 0, 0, 16)}},
      {"r1 = bswap32 r1", "bswap32 %r1", {R(0xd7, 1, 0, 0, 32)}},
      {"r1 = bswap64 r1", "bswap64 %r1", {R(0xd7, 1, 0, 0, 64)}},
      // 64-bit immediates and pseudo loads.
      {"r1 = 0x123456789 ll", "lddw %r1, 0x123456789", {R(0x18, 1, 0, 0, 0x23456789), R(0, 0, 0, 0, 1)}},
      {"r1 = 4886718345 ll", "lddw %r1, 4886718345", {R(0x18, 1, 0, 0, 0x23456789), R(0, 0, 0, 0, 1)}},
      {"r9 = -1 ll", "lddw %r9, -1", {R(0x18, 9, 0, 0, -1), R(0, 0, 0, 0, -1)}},
      {"r0 = 0xffffffffffffffff ll",
       "lddw %r0, 0xffffffffffffffff",
       {R(0x18, 0, 0, 0, -1), R(0, 0, 0, 0, -1)}},
      {"r1 = map_fd(3) ll", "", {R(0x18, 1, 1, 0, 3), R(0, 0, 0, 0, 0)}},
      {"r1 = map_value(3, 16) ll", "", {R(0x18, 1, 2, 0, 3), R(0, 0, 0, 0, 16)}},
      {"r1 = btf_id(1234) ll", "", {R(0x18, 1, 3, 0, 1234), R(0, 0, 0, 0, 0)}},
      {"r1 = func(+5) ll", "", {R(0x18, 1, 4, 0, 5), R(0, 0, 0, 0, 0)}},
      {"r2 = map_idx(0) ll", "", {R(0x18, 2, 5, 0, 0), R(0, 0, 0, 0, 0)}},
      {"r2 = map_idx_value(0, 8) ll", "", {R(0x18, 2, 6, 0, 0), R(0, 0, 0, 0, 8)}},
      // Loads.
      {"r0 = *(u8 *)(r1 + 0)", "ldxb %r0, [%r1]", {R(0x71, 0, 1, 0, 0)}},
      {"r0 = *(u16 *)(r1 + 2)", "ldxh %r0, [%r1+2]", {R(0x69, 0, 1, 2, 0)}},
      {"r0 = *(u32 *)(r1 + 4)", "ldxw %r0, [%r1+4]", {R(0x61, 0, 1, 4, 0)}},
      {"r0 = *(u64 *)(r10 - 8)", "ldxdw %r0, [%r10-8]", {R(0x79, 0, 10, -8, 0)}},
      {"r0 = *(s8 *)(r1 + 1)", "ldxsb %r0, [%r1+1]", {R(0x91, 0, 1, 1, 0)}},
      {"r0 = *(s16 *)(r1 - 2)", "ldxsh %r0, [%r1-2]", {R(0x89, 0, 1, -2, 0)}},
      {"r0 = *(s32 *)(r1 + 32767)", "ldxsw %r0, [%r1+32767]", {R(0x81, 0, 1, 32767, 0)}},
      {"r3 = *(u64 *)(r1 - 32768)", "ldxdw %r3, [%r1-32768]", {R(0x79, 3, 1, -32768, 0)}},
      // Stores.
      {"*(u8 *)(r10 - 1) = r1", "stxb [%r10-1], %r1", {R(0x73, 10, 1, -1, 0)}},
      {"*(u16 *)(r10 - 2) = r1", "stxh [%r10-2], %r1", {R(0x6b, 10, 1, -2, 0)}},
      {"*(u32 *)(r10 - 4) = r1", "stxw [%r10-4], %r1", {R(0x63, 10, 1, -4, 0)}},
      {"*(u64 *)(r10 - 8) = r1", "stxdw [%r10-8], %r1", {R(0x7b, 10, 1, -8, 0)}},
      {"*(u8 *)(r10 - 1) = 7", "stb [%r10-1], 7", {R(0x72, 10, 0, -1, 7)}},
      {"*(u16 *)(r10 - 2) = -2", "sth [%r10-2], -2", {R(0x6a, 10, 0, -2, -2)}},
      {"*(u32 *)(r10 - 4) = 5", "stw [%r10-4], 5", {R(0x62, 10, 0, -4, 5)}},
      {"*(u64 *)(r1 + 16) = 0x7fffffff", "stdw [%r1+16], 0x7fffffff", {R(0x7a, 1, 0, 16, 0x7fffffff)}},
      // Atomics.
      {"lock *(u64 *)(r1 + 0) += r2", "lock add [%r1], %r2", {R(0xdb, 1, 2, 0, 0x00)}},
      {"lock *(u32 *)(r10 - 4) += w2", "lock add32 [%r10-4], %r2", {R(0xc3, 10, 2, -4, 0x00)}},
      {"lock *(u64 *)(r1 + 8) |= r2", "lock or [%r1+8], %r2", {R(0xdb, 1, 2, 8, 0x40)}},
      {"lock *(u32 *)(r1 + 0) |= w2", "lock or32 [%r1], %r2", {R(0xc3, 1, 2, 0, 0x40)}},
      {"lock *(u64 *)(r1 + 0) &= r2", "lock and [%r1], %r2", {R(0xdb, 1, 2, 0, 0x50)}},
      {"lock *(u32 *)(r1 + 0) &= w2", "lock and32 [%r1], %r2", {R(0xc3, 1, 2, 0, 0x50)}},
      {"lock *(u64 *)(r1 + 0) ^= r2", "lock xor [%r1], %r2", {R(0xdb, 1, 2, 0, 0xa0)}},
      {"lock *(u32 *)(r1 + 0) ^= w2", "lock xor32 [%r1], %r2", {R(0xc3, 1, 2, 0, 0xa0)}},
      {"r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)", "lock fetch add [%r1], %r2", {R(0xdb, 1, 2, 0, 0x01)}},
      {"w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)", "lock fetch add32 [%r1], %r2", {R(0xc3, 1, 2, 0, 0x01)}},
      {"r2 = atomic_fetch_or((u64 *)(r1 - 8), r2)", "lock fetch or [%r1-8], %r2", {R(0xdb, 1, 2, -8, 0x41)}},
      {"w3 = atomic_fetch_or((u32 *)(r1 + 0), w3)", "lock fetch or32 [%r1], %r3", {R(0xc3, 1, 3, 0, 0x41)}},
      {"r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)", "lock fetch and [%r1], %r2", {R(0xdb, 1, 2, 0, 0x51)}},
      {"w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)", "lock fetch and32 [%r1], %r2", {R(0xc3, 1, 2, 0, 0x51)}},
      {"r2 = atomic_fetch_xor((u64 *)(r1 + 0), r2)", "lock fetch xor [%r1], %r2", {R(0xdb, 1, 2, 0, 0xa1)}},
      {"w2 = atomic_fetch_xor((u32 *)(r1 + 0), w2)", "lock fetch xor32 [%r1], %r2", {R(0xc3, 1, 2, 0, 0xa1)}},
      {"r2 = xchg_64(r1 + 0, r2)", "lock xchg [%r1], %r2", {R(0xdb, 1, 2, 0, 0xe1)}},
      {"w2 = xchg32_32(r10 - 8, w2)", "lock xchg32 [%r10-8], %r2", {R(0xc3, 10, 2, -8, 0xe1)}},
      {"r0 = cmpxchg_64(r1 + 0, r0, r2)", "lock cmpxchg [%r1], %r2", {R(0xdb, 1, 2, 0, 0xf1)}},
      {"w0 = cmpxchg32_32(r1 + 4, w0, w2)", "lock cmpxchg32 [%r1+4], %r2", {R(0xc3, 1, 2, 4, 0xf1)}},
      // Legacy packet loads.
      {"r0 = *(u8 *)skb[23]", "ldabsb 23", {R(0x30, 0, 0, 0, 23)}},
      {"r0 = *(u16 *)skb[12]", "ldabsh 12", {R(0x28, 0, 0, 0, 12)}},
      {"r0 = *(u32 *)skb[0]", "ldabsw 0", {R(0x20, 0, 0, 0, 0)}},
      {"r0 = *(u16 *)skb[r1 + 4]", "ldindh %r1, 4", {R(0x48, 0, 1, 0, 4)}},
      {"r0 = *(u8 *)skb[r3]", "ldindb %r3, 0", {R(0x50, 0, 3, 0, 0)}},
      {"r0 = *(u32 *)skb[r2 - 4]", "ldindw %r2, -4", {R(0x40, 0, 2, 0, -4)}},
      // Jumps.
      {"if r1 == 5 goto +2", "jeq %r1, 5, +2", {R(0x15, 1, 0, 2, 5)}},
      {"if r1 == r2 goto -1", "jeq %r1, %r2, -1", {R(0x1d, 1, 2, -1, 0)}},
      {"if w1 == w2 goto -1", "jeq32 %r1, %r2, -1", {R(0x1e, 1, 2, -1, 0)}},
      {"if r1 > 5 goto +2", "jgt %r1, 5, +2", {R(0x25, 1, 0, 2, 5)}},
      {"if w1 > 5 goto +2", "jgt32 %r1, 5, +2", {R(0x26, 1, 0, 2, 5)}},
      {"if r1 >= r2 goto +0", "jge %r1, %r2, +0", {R(0x3d, 1, 2, 0, 0)}},
      {"if r1 & 8 goto +1", "jset %r1, 8, +1", {R(0x45, 1, 0, 1, 8)}},
      {"if w1 & w3 goto +1", "jset32 %r1, %r3, +1", {R(0x4e, 1, 3, 1, 0)}},
      {"if r1 != 0 goto +3", "jne %r1, 0, +3", {R(0x55, 1, 0, 3, 0)}},
      {"if r1 s> -1 goto +3", "jsgt %r1, -1, +3", {R(0x65, 1, 0, 3, -1)}},
      {"if w1 s> w2 goto +3", "jsgt32 %r1, %r2, +3", {R(0x6e, 1, 2, 3, 0)}},
      {"if r1 s>= r2 goto +3", "jsge %r1, %r2, +3", {R(0x7d, 1, 2, 3, 0)}},
      {"if r1 < 10 goto -3", "jlt %r1, 10, -3", {R(0xa5, 1, 0, -3, 10)}},
      {"if w1 < 10 goto -3", "jlt32 %r1, 10, -3", {R(0xa6, 1, 0, -3, 10)}},
      {"if r1 <= r2 goto +32767", "jle %r1, %r2, +32767", {R(0xbd, 1, 2, 32767, 0)}},
      {"if r1 s< 0 goto -32768", "jslt %r1, 0, -32768", {R(0xc5, 1, 0, -32768, 0)}},
      {"if w1 s<= 0x7fffffff goto +1", "jsle32 %r1, 0x7fffffff, +1", {R(0xd6, 1, 0, 1, 0x7fffffff)}},
      {"goto +3", "ja +3", {R(0x05, 0, 0, 3, 0)}},
      {"goto -1", "ja -1", {R(0x05, 0, 0, -1, 0)}},
      {"gotol +70000", "ja32 +70000", {R(0x06, 0, 0, 0, 70000)}},
      {"gotol -5", "ja32 -5", {R(0x06, 0, 0, 0, -5)}},
      // Calls and exit.
      {"call 5", "call 5", {R(0x85, 0, 0, 0, 5)}},
      {"call pc+3", "call local +3", {R(0x85, 0, 1, 0, 3)}},
      {"call pc-4", "call local -4", {R(0x85, 0, 1, 0, -4)}},
      {"call kfunc(1234)", "", {R(0x85, 0, 2, 0, 1234)}},
      {"call kfunc(1234, 2)", "", {R(0x85, 0, 2, 2, 1234)}},
      {"callx r2", "call %r2", {R(0x8d, 2, 0, 0, 0)}},
      {"exit", "exit", {R(0x95, 0, 0, 0, 0)}},
  };
}

TEST(Assembler, KernelSyntaxForms) {
  for (const Form& f : forms()) EXPECT_TRUE(assembles_to(f.kernel, f.raw));
}

TEST(Assembler, UbpfSyntaxForms) {
  for (const Form& f : forms()) {
    if (f.ubpf.empty()) continue;
    EXPECT_TRUE(assembles_to(f.ubpf, f.raw));
  }
}

// Every form, printed back by the disassembler, reassembles to the same bytes.
TEST(Assembler, FormsRoundTripThroughTheDisassembler) {
  for (const Form& f : forms()) {
    const Instruction insn = decode_insn(f.raw, 0);
    EXPECT_TRUE(assembles_to(format_insn(insn, 0), f.raw)) << "from " << f.kernel;
    EXPECT_TRUE(assembles_to(format_insn_ubpf(insn, 0), f.raw)) << "from " << f.kernel;
  }
}

TEST(Assembler, AlternativeSpellings) {
  // Spacing as GNU as and LLVM's parser tests write it, hex offsets as llvm-objdump prints.
  EXPECT_TRUE(assembles_to("lock *(u64*)(r1+0x1e)+=r2", {R(0xdb, 1, 2, 0x1e, 0)}));
  EXPECT_TRUE(assembles_to("r0 = * (u32*)skb[4]", {R(0x20, 0, 0, 0, 4)}));
  EXPECT_TRUE(assembles_to("r5=*(u8*)(r0+0x0)", {R(0x71, 5, 0, 0, 0)}));
  EXPECT_TRUE(assembles_to("w0 = *(u32 *)(r1 + 4)", {R(0x61, 0, 1, 4, 0)}));
  EXPECT_TRUE(assembles_to("*(u32 *)(r10 - 4) = w1", {R(0x63, 10, 1, -4, 0)}));
  EXPECT_TRUE(assembles_to("if r1 > 0x5 goto +0x2", {R(0x25, 1, 0, 2, 5)}));
  EXPECT_TRUE(assembles_to("if r1 s>=r2 goto 2", {R(0x7d, 1, 2, 2, 0)}));
  EXPECT_TRUE(assembles_to("r1 = map_fd(3)", {R(0x18, 1, 1, 0, 3), R(0, 0, 0, 0, 0)}));
  EXPECT_TRUE(assembles_to("r1 = map_fd(3, 9) ll", {R(0x18, 1, 1, 0, 3), R(0, 0, 0, 0, 9)}));
  // uBPF: registers without %, upper case, 64 suffix, swap aliases.
  EXPECT_TRUE(assembles_to("mov r1, r2", {R(0xbf, 1, 2, 0, 0)}));
  EXPECT_TRUE(assembles_to("MOV %r1, 2", {R(0xb7, 1, 0, 0, 2)}));
  EXPECT_TRUE(assembles_to("add64 %r1, 2", {R(0x07, 1, 0, 0, 2)}));
  EXPECT_TRUE(assembles_to("neg64 %r1", {R(0x87, 1, 0, 0, 0)}));
  EXPECT_TRUE(assembles_to("swap32 %r1", {R(0xd7, 1, 0, 0, 32)}));
  EXPECT_TRUE(assembles_to("lock fetch xchg [%r1], %r2", {R(0xdb, 1, 2, 0, 0xe1)}));
  EXPECT_TRUE(assembles_to("ldxb %r8, [%r0+0x1]", {R(0x71, 8, 0, 1, 0)}));
  EXPECT_TRUE(assembles_to("call r3", {R(0x8d, 3, 0, 0, 0)}));
  // Hex immediates may be written unsigned up to 0xffffffff; decimal ones are signed.
  EXPECT_TRUE(assembles_to("mov32 %r0, 0xffffffff", {R(0xb4, 0, 0, 0, -1)}));
  EXPECT_TRUE(assembles_to("jsge %r1, 0xffffffff, +1", {R(0x75, 1, 0, 1, -1)}));
  EXPECT_TRUE(assembles_to("mov %r0, -2147483648", {R(0xb7, 0, 0, 0, INT32_MIN)}));
  EXPECT_TRUE(assembles_to("w0 = 0x80000000", {R(0xb4, 0, 0, 0, INT32_MIN)}));
}

TEST(Assembler, CommentsBlankLinesAndMixedSyntax) {
  const std::string text =
      "# a comment\n"
      "\n"
      "mov %r0, 0      # uBPF\n"
      "r0 += 1         // kernel\n"
      "  add %r0, 2    ; another comment style\n"
      "\t\r\n"
      "exit\n";
  EXPECT_TRUE(assembles_to(
      text, {R(0xb7, 0, 0, 0, 0), R(0x07, 0, 0, 0, 1), R(0x07, 0, 0, 0, 2), R(0x95, 0, 0, 0, 0)}));
  EXPECT_TRUE(assembles_to("r0 = 1\r\nexit", {R(0xb7, 0, 0, 0, 1), R(0x95, 0, 0, 0, 0)}));
}

TEST(Assembler, LabelsInBothSyntaxes) {
  const std::string ubpf =
      "  mov %r0, 0\n"
      "loop:\n"
      "  add %r0, 1\n"
      "  jlt %r0, 10, loop\n"
      "  ja done\n"
      "  lddw %r1, 0x100000000\n"
      "done: exit\n";
  EXPECT_TRUE(
      assembles_to(ubpf, {R(0xb7, 0, 0, 0, 0), R(0x07, 0, 0, 0, 1), R(0xa5, 0, 0, -2, 10),
                          R(0x05, 0, 0, 2, 0), R(0x18, 1, 0, 0, 0), R(0, 0, 0, 0, 1), R(0x95, 0, 0, 0, 0)}));
  const std::string kernel =
      "  r0 = 0\n"
      "loop:\n"
      "  r0 += 1\n"
      "  if r0 < 10 goto loop\n"
      "  goto done\n"
      "  r1 = 0x100000000 ll\n"
      "done: exit\n";
  EXPECT_EQ(assemble(kernel), assemble(ubpf));

  // Calls, gotol and function pointers to labels.
  const std::string calls =
      "call sub\n"
      "call local sub\n"
      "gotol end\n"
      "r1 = func(sub) ll\n"
      "end: exit\n"
      "sub: r0 = 1\n"
      "exit\n";
  EXPECT_TRUE(
      assembles_to(calls, {R(0x85, 0, 1, 0, 5), R(0x85, 0, 1, 0, 4), R(0x06, 0, 0, 0, 2), R(0x18, 1, 4, 0, 2),
                           R(0, 0, 0, 0, 0), R(0x95, 0, 0, 0, 0), R(0xb7, 0, 0, 0, 1), R(0x95, 0, 0, 0, 0)}));
  // llvm-objdump annotates targets with <symbol>; it is ignored.
  EXPECT_TRUE(assembles_to("goto +1 <LBB0_2>\nexit\nexit",
                           {R(0x05, 0, 0, 1, 0), R(0x95, 0, 0, 0, 0), R(0x95, 0, 0, 0, 0)}));
}

TEST(Assembler, ExitTargetIsTheFirstExitUnlessALabelIsNamedSo) {
  EXPECT_TRUE(
      assembles_to("jeq %r1, 0, exit\nmov %r0, 1\nexit\nexit",
                   {R(0x15, 1, 0, 1, 0), R(0xb7, 0, 0, 0, 1), R(0x95, 0, 0, 0, 0), R(0x95, 0, 0, 0, 0)}));
  EXPECT_TRUE(assembles_to("ja exit\nexit\nexit:\nexit",
                           {R(0x05, 0, 0, 1, 0), R(0x95, 0, 0, 0, 0), R(0x95, 0, 0, 0, 0)}));
  // Backwards to the first exit works too.
  EXPECT_TRUE(assembles_to("exit\nja exit", {R(0x95, 0, 0, 0, 0), R(0x05, 0, 0, -2, 0)}));
}

TEST(Assembler, ResultCarriesLinesAndLabels) {
  AsmResult r = assemble_program("start:\n  r1 = 1 ll\n\n  # c\nend: exit\n");
  ASSERT_EQ(r.insns.size(), 3u);
  EXPECT_EQ(r.slot_lines, (std::vector<int>{2, 2, 5}));
  EXPECT_EQ(r.labels.at("start"), 0u);
  EXPECT_EQ(r.labels.at("end"), 2u);
}

TEST(Assembler, AcceptsLlvmObjdumpOutput) {
  const std::string dump =
      "\n"
      "prog.o:\tfile format elf64-bpf\n"
      "\n"
      "Disassembly of section xdp:\n"
      "\n"
      "0000000000000000 <xdp_prog>:\n"
      "       0:\tb7 00 00 00 02 00 00 00\tr0 = 0x2\n"
      "       1:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0x0 ll\n"
      "\t\t0000000000000008:  R_BPF_64_64\tmy_map\n"
      "       3:\t55 01 01 00 00 00 00 00\tif r1 != 0x0 goto +0x1 <LBB0_2>\n"
      "       4:\t85 00 00 00 01 00 00 00\tcall 0x1\n"
      "\n"
      "0000000000000028 <LBB0_2>:\n"
      "       5:\t95 00 00 00 00 00 00 00\texit\n";
  AsmResult r = assemble_program(dump);
  EXPECT_EQ(r.insns, (std::vector<RawInsn>{R(0xb7, 0, 0, 0, 2), R(0x18, 1, 0, 0, 0), R(0, 0, 0, 0, 0),
                                           R(0x55, 1, 0, 1, 0), R(0x85, 0, 0, 0, 1), R(0x95, 0, 0, 0, 0)}));
  EXPECT_EQ(r.labels.at("xdp_prog"), 0u);
  EXPECT_EQ(r.labels.at("LBB0_2"), 5u);
  // bpfkit's own disassembly (and the CLI's, with bytes split over two lines for lddw).
  EXPECT_TRUE(assembles_to("   0: r0 = 1\n   1: exit\n", {R(0xb7, 0, 0, 0, 1), R(0x95, 0, 0, 0, 0)}));
  EXPECT_TRUE(assembles_to("     0: 18 01 00 00 05 00 00 00\n        00 00 00 00 00 00 00 00\tr1 = 5 ll\n",
                           {R(0x18, 1, 0, 0, 5), R(0, 0, 0, 0, 0)}));
}

TEST(Assembler, SyntaxesAgreeOnAProgram) {
  const std::string ubpf =
      "mov %r6, %r1\n"
      "ldxw %r2, [%r6+4]\n"
      "ldxw %r1, [%r6]\n"
      "mov %r3, %r1\n"
      "add %r3, 14\n"
      "jgt %r3, %r2, drop\n"
      "ldxh %r4, [%r1+12]\n"
      "be16 %r4\n"
      "jne32 %r4, 0x800, pass\n"
      "stxdw [%r10-8], %r4\n"
      "lock fetch add [%r10-8], %r4\n"
      "lddw %r1, 0x1122334455667788\n"
      "call 1\n"
      "pass:\n"
      "mov32 %r0, 2\n"
      "exit\n"
      "drop:\n"
      "mov32 %r0, 1\n"
      "exit\n";
  const std::string kernel =
      "r6 = r1\n"
      "r2 = *(u32 *)(r6 + 4)\n"
      "r1 = *(u32 *)(r6 + 0)\n"
      "r3 = r1\n"
      "r3 += 14\n"
      "if r3 > r2 goto drop\n"
      "r4 = *(u16 *)(r1 + 12)\n"
      "r4 = be16 r4\n"
      "if w4 != 2048 goto pass\n"
      "*(u64 *)(r10 - 8) = r4\n"
      "r4 = atomic_fetch_add((u64 *)(r10 - 8), r4)\n"
      "r1 = 0x1122334455667788 ll\n"
      "call 1\n"
      "pass:\n"
      "w0 = 2\n"
      "exit\n"
      "drop:\n"
      "w0 = 1\n"
      "exit\n";
  auto a = assemble(ubpf);
  EXPECT_EQ(a.size(), 18u);
  EXPECT_EQ(a, assemble(kernel)) << testdata::show(a) << "\n" << testdata::show(assemble(kernel));
  EXPECT_NO_THROW(decode_program(a));
}

}  // namespace
}  // namespace bpfkit::isa
