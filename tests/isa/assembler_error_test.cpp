// Assembler errors: each names line:column and says what is wrong; nothing but
// AsmError escapes, whatever the input.
#include <gtest/gtest.h>

#include <random>

#include "isa/assembler.h"
#include "isa_test_util.h"

namespace bpfkit::isa {
namespace {

using testdata::asm_error;

struct ErrorCase {
  std::string text;
  std::string message;  // the full what(): "LINE:COL: ..."
};

TEST(AssemblerErrors, ExactMessages) {
  const ErrorCase cases[] = {
      {"r0 = 1\n  r11 = 2", "2:3: unknown register 'r11' (registers are r0-r10)"},
      {"mov %r0, 1\nmov %r11, 2", "2:5: unknown register '%r11' (registers are %r0-%r10)"},
      {"or %r0, %r50", "1:9: unknown register '%r50' (registers are %r0-%r10)"},
      {"w1 += w12", "1:7: unknown register 'w12' (registers are w0-w10)"},
      {"mvo %r0, 1", "1:1: unknown mnemonic 'mvo'"},
      {"ldxq %r0, %r1", "1:1: unknown mnemonic 'ldxq'"},
      {"exit\nja out", "2:4: label 'out' is never defined"},
      {"r0 = 0\nif r0 == 0 goto out", "2:17: label 'out' is never defined"},
      {"ldxb %r0, [%r1+40000]", "1:15: offset 40000 does not fit in 16 bits (-32768 to 32767)"},
      {"exit\nr0 = *(u8 *)(r1 - 32769)", "2:17: offset -32769 does not fit in 16 bits (-32768 to 32767)"},
      {"ldxb %r0, [%r1+0x10000]", "1:15: offset 0x10000 does not fit in 16 bits (-32768 to 32767)"},
      {"mov32 %r0, 2147483648",
       "1:12: immediate 2147483648 does not fit in 32 bits (-2147483648 to 2147483647, or up to 0xffffffff "
       "in hex)"},
      {"mov32 %r0, 0x100000000",
       "1:12: immediate 0x100000000 does not fit in 32 bits (-2147483648 to 2147483647, or up to 0xffffffff "
       "in hex)"},
      {"r1 = 0x123456789",
       "1:6: immediate 0x123456789 does not fit in 32 bits; write 'r1 = 0x123456789 ll' for a "
       "64-bit load"},
      {"lddw %r0", "1:1: invalid number of operands for lddw: 1 given, 2 expected (lddw %r0, 0x123456789)"},
      {"ldxb %r0, %r1", "1:11: expected a memory operand like [%r1+8], found '%r1'"},
      {"lock",
       "1:1: invalid number of operands for lock: the operation is missing (lock [fetch] add|and|or|xor[32] "
       "[%r10-8], %r1, lock xchg[32] [%r10-8], %r1 or lock cmpxchg[32] [%r10-8], %r1)"},
      {"lock or [%r10-8]",
       "1:1: invalid number of operands for lock or: 1 given, 2 expected (lock or [%r10-8], %r1)"},
      {"w1 += r2",
       "1:7: register widths differ: the destination is w1, so write w2 (w registers for 32-bit "
       "operations, r for 64-bit)"},
      {"if r1 > w2 goto +1",
       "1:9: register widths differ: the destination is r1, so write r2 (w registers for "
       "32-bit operations, r for 64-bit)"},
      {"a:\nb:\na: exit", "3:1: label 'a' is already defined on line 1"},
      {"goto +40000", "1:6: jump offset 40000 does not fit in 16 bits (-32768 to 32767)"},
      {"jeq %r1, 0, -32769", "1:13: jump offset -32769 does not fit in 16 bits (-32768 to 32767)"},
      {".text\nexit", "1:1: unknown directive '.text' (only instructions, labels and comments are accepted)"},
      {"r1 = 12ab", "1:6: malformed number '12ab' (write decimal 42 or hex 0x2a)"},
      {"r1 = 5 @", "1:8: unexpected character '@'"},
      {"r1 = r2 r3", "1:9: unexpected 'r3' after the instruction (the form is 'r1 = r2')"},
      {"mov %r0, 1, 2",
       "1:1: invalid number of operands for mov: 3 given, 2 expected (mov %r1, %r2 or mov %r1, 5)"},
      {"r1 = -r2", "1:7: neg works in place: write r1 = -r1"},
      {"*(u64 *)(r1 + 0) += r2",
       "1:18: read-modify-write on memory is atomic and needs the lock prefix: "
       "lock *(u64 *)(r1 + 0) += r2"},
      {"r2 = atomic_fetch_add((u64 *)(r1 + 0), r3)",
       "1:1: atomic_fetch_add returns the old value in its source register: write r2 = "
       "atomic_fetch_add((u64 *)(r1 + 0), r2)"},
      {"r1 = cmpxchg_64(r1 + 0, r0, r2)",
       "1:1: cmpxchg returns the old value in r0: write r0 = cmpxchg_64(r1 + 0, "
       "r0, r2)"},
      {"r0 = *(s64 *)(r1 + 0)", "1:8: there is no sign-extending 64-bit load: write (u64 *)"},
      {"ldxsdw %r0, [%r1]", "1:1: there is no sign-extending 64-bit load: write ldxdw"},
      {"w1 = 1 ll", "1:1: a 64-bit load (lddw) needs a 64-bit register: write r1"},
      {"w1 = (s32)w2", "1:7: (s32) sign-extends into 64 bits: write r1 = (s32)rN"},
      {"r1 = (u8)r2",
       "1:7: only sign-extending casts (s8), (s16) and (s32) exist for register moves, not (u8)"},
      {"r2 = *(u8 *)skb[0]", "1:1: legacy packet loads always write r0: r0 = *(u8 *)skb[...]"},
      {"if r1 ~ 3 goto +1",
       "1:7: expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &), found '~'"},
      {"if r1 > 3 +1", "1:11: expected 'goto' after the condition, found '+'"},
      {"call +3",
       "1:6: ambiguous call target: write 'call pc+N' for a bpf-to-bpf call or 'call N' for helper N"},
      {"foo = 1",
       "1:1: expected a register before the assignment, found 'foo' (registers are r0-r10 and w0-w10)"},
      {"r1: exit", "1:1: 'r1' is a register and cannot be a label"},
      {"5",
       "1:1: expected an instruction (a mnemonic such as mov, or a kernel-syntax statement such as r0 = 1), "
       "found '5'"},
      {"", "1:1: no instructions: the text holds only blank lines, comments or labels"},
      {"# nothing\nlabel:\n", "1:1: no instructions: the text holds only blank lines, comments or labels"},
      {"r1 = 99999999999999999999 ll", "1:6: number '99999999999999999999' does not fit in 64 bits"},
      {"exit 1", "1:1: invalid number of operands for exit: 1 given, 0 expected (exit)"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(asm_error(c.text), c.message) << "for: " << c.text;
}

TEST(AssemblerErrors, LocationIsExposed) {
  try {
    assemble("exit\n\n   mvo %r0, 1");
    FAIL() << "no error";
  } catch (const AsmError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.column(), 4);
    EXPECT_EQ(e.reason(), "unknown mnemonic 'mvo'");
  }
}

TEST(AssemblerErrors, LabelsTooFarForTheField) {
  std::string text = "ja far\n";
  for (int i = 0; i < 40000; ++i) text += "exit\n";
  text += "far: exit\n";
  const std::string msg = asm_error(text);
  EXPECT_EQ(msg,
            "1:4: label 'far' is 40000 slots away, beyond the 16-bit offset of goto (use gotol / ja32 for "
            "longer jumps)");
  text = "ja32 far" + text.substr(text.find('\n'));
  EXPECT_NO_THROW(assemble(text));
}

// Random and mutated text: the assembler throws AsmError or succeeds, never anything else.
TEST(AssemblerErrors, GarbageNeverCrashes) {
  std::mt19937 rng(1234);
  const std::string alphabet = "r0w1%[]()*+-=<>&|^s,:;#/ \t\nx0123456789abcdefgilmopuxvkqnt_.ll";
  const std::string seeds[] = {"r1 = *(u32 *)(r2 + 4)",
                               "lock *(u64 *)(r1 + 0) += r2",
                               "jeq %r1, 5, lbl",
                               "r0 = cmpxchg_64(r1 + 0, r0, r2)",
                               "lbl: stxdw [%r10-8], %r1",
                               "r1 = map_value(1, 2) ll",
                               "   3:\tb7 00 00 00 01 00 00 00\tr0 = 1",
                               "if w1 s<= -5 goto -1"};
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[rng() % std::size(seeds)];
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        case 1:
          if (pos < s.size()) s.erase(pos, 1);
          break;
        default:
          if (pos < s.size()) s[pos] = char(rng() % 256);
          break;
      }
    }
    try {
      assemble(s + "\nexit");
    } catch (const AsmError&) {
    }
  }
}

}  // namespace
}  // namespace bpfkit::isa
