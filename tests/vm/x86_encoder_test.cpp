// The x86-64 encoder against capstone: every emitter, every register (including
// the rsp/r12 SIB and rbp/r13 displacement special cases), operand sizes,
// displacements and immediates at the encoding boundaries. Each encoding must
// decode as exactly one instruction spanning all its bytes, and capstone's view
// of it (mnemonic and operands, rendered canonically from its detail records)
// must equal the intended instruction written out independently by the test.
#include "vm/x86_encoder.h"

#include <capstone/capstone.h>
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace bpfkit::vm::x86 {
namespace {

// --- the test's own names for what it intends ---

const char* const kNames64[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
const char* const kNames32[] = {"eax", "ecx", "edx",  "ebx",  "esp",  "ebp",  "esi",  "edi",
                                "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
const char* const kNames16[] = {"ax",  "cx",  "dx",   "bx",   "sp",   "bp",   "si",   "di",
                                "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
const char* const kNames8[] = {"al",  "cl",  "dl",   "bl",   "spl",  "bpl",  "sil",  "dil",
                               "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};

std::string reg(int size, Reg r) {
  switch (size) {
    case 1: return kNames8[int(r)];
    case 2: return kNames16[int(r)];
    case 4: return kNames32[int(r)];
    default: return kNames64[int(r)];
  }
}

std::string xmm(Xmm x) { return "xmm" + std::to_string(int(x)); }

const char* ptr_name(int size) {
  switch (size) {
    case 1: return "byte";
    case 2: return "word";
    case 4: return "dword";
    case 8: return "qword";
    case 16: return "xmmword";
    default: return "?";
  }
}

std::string address(Reg base, int64_t disp) {
  std::string s = "[" + std::string(kNames64[int(base)]);
  if (disp > 0) s += "+" + std::to_string(disp);
  if (disp < 0) s += std::to_string(disp);
  return s + "]";
}

std::string mem(int size, Mem m) { return std::string(ptr_name(size)) + " ptr " + address(m.base, m.disp); }

// An immediate as the CPU sees it: sign-extended, then cut to the operand size.
std::string imm(int size, int64_t v) {
  uint64_t u = uint64_t(v);
  if (size < 8) u &= (uint64_t(1) << (8 * size)) - 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, u);
  return buf;
}

// --- capstone's view, rendered the same way ---

class Capstone {
 public:
  Capstone() {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK) std::abort();
    cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Capstone() { cs_close(&handle_); }

  // Disassembles `code` at address 0. One string per instruction.
  std::vector<std::string> all(const std::vector<uint8_t>& code, std::vector<size_t>* sizes = nullptr) {
    cs_insn* insn = nullptr;
    const size_t n = cs_disasm(handle_, code.data(), code.size(), 0, 0, &insn);
    std::vector<std::string> out;
    size_t consumed = 0;
    for (size_t i = 0; i < n; ++i) {
      out.push_back(render(insn[i]));
      if (sizes) sizes->push_back(insn[i].size);
      consumed += insn[i].size;
    }
    cs_free(insn, n);
    if (consumed != code.size())
      out.push_back("<undecodable bytes at offset " + std::to_string(consumed) + ">");
    return out;
  }

  // Exactly one instruction spanning all of `code`.
  std::string one(const std::vector<uint8_t>& code) {
    std::vector<std::string> v = all(code);
    if (v.size() != 1) {
      std::string s = "<" + std::to_string(v.size()) + " instructions:";
      for (auto& i : v) s += " " + i + ";";
      return s + ">";
    }
    return v[0];
  }

 private:
  std::string render(const cs_insn& insn) {
    std::string s = insn.mnemonic;
    const cs_x86& x = insn.detail->x86;
    for (int i = 0; i < x.op_count; ++i) {
      const cs_x86_op& op = x.operands[i];
      s += i == 0 ? " " : ", ";
      switch (op.type) {
        case X86_OP_REG: s += cs_reg_name(handle_, op.reg); break;
        case X86_OP_IMM: s += imm(op.size, op.imm); break;
        case X86_OP_MEM: {
          if (op.mem.index != X86_REG_INVALID || op.mem.segment != X86_REG_INVALID) s += "<index/segment>";
          std::string base = op.mem.base == X86_REG_INVALID ? "<none>" : cs_reg_name(handle_, op.mem.base);
          std::string a = "[" + base;
          if (op.mem.disp > 0) a += "+" + std::to_string(op.mem.disp);
          if (op.mem.disp < 0) a += std::to_string(op.mem.disp);
          a += "]";
          if (std::string(insn.mnemonic) == "lea")
            s += a;
          else
            s += std::string(ptr_name(op.size)) + " ptr " + a;
          break;
        }
        default: s += "<?>"; break;
      }
    }
    return s;
  }

  csh handle_ = 0;
};

Capstone& cs() {
  static Capstone c;
  return c;
}

// Encodes one instruction with `emit` and checks capstone's reading of it.
#define EXPECT_ENCODES(emit, expected)              \
  do {                                              \
    Assembler a_;                                   \
    emit;                                           \
    const std::vector<uint8_t> code_ = a_.finish(); \
    ASSERT_EQ(cs().one(code_), (expected));         \
  } while (0)

// --- operand sets ---

std::vector<Reg> all_regs() {
  std::vector<Reg> v;
  for (int i = 0; i < kRegCount; ++i) v.push_back(Reg(i));
  return v;
}

const int64_t kDisps[] = {0, 1, -1, 8, -8, 127, -128, 128, -129, 255, -256, 512, -512, 0x7fffffff, INT32_MIN};
const int32_t kImms[] = {0,    1,     -1,     2,     127,   -128,       128,        -129,      255, 256,
                         -256, 32767, -32768, 32768, 65535, 0x12345678, 0x7fffffff, INT32_MIN, -2};
const int kSizes[] = {1, 2, 4, 8};

std::vector<Mem> all_mems() {
  std::vector<Mem> v;
  for (Reg b : all_regs())
    for (int64_t d : kDisps) v.push_back(Mem{b, int32_t(d)});
  return v;
}

const char* const kAluNames[] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
const AluOp kAluOps[] = {AluOp::Add, AluOp::Or,  AluOp::Adc, AluOp::Sbb,
                         AluOp::And, AluOp::Sub, AluOp::Xor, AluOp::Cmp};

struct ShiftCase {
  ShiftOp op;
  const char* name;
};
const ShiftCase kShifts[] = {{ShiftOp::Rol, "rol"},
                             {ShiftOp::Ror, "ror"},
                             {ShiftOp::Shl, "shl"},
                             {ShiftOp::Shr, "shr"},
                             {ShiftOp::Sar, "sar"}};

// --- moves ---

TEST(X86Encoder, MovRegReg) {
  for (int size : kSizes)
    for (Reg d : all_regs())
      for (Reg s : all_regs())
        EXPECT_ENCODES(a_.mov(size, d, s), "mov " + reg(size, d) + ", " + reg(size, s));
}

TEST(X86Encoder, MovLoadStore) {
  for (int size : kSizes)
    for (Reg r : all_regs())
      for (Mem m : all_mems()) {
        EXPECT_ENCODES(a_.mov(size, r, m), "mov " + reg(size, r) + ", " + mem(size, m));
        EXPECT_ENCODES(a_.mov(size, m, r), "mov " + mem(size, m) + ", " + reg(size, r));
      }
}

TEST(X86Encoder, MovStoreImmediate) {
  for (int size : kSizes)
    for (Mem m : all_mems())
      for (int32_t v : kImms) EXPECT_ENCODES(a_.mov(size, m, v), "mov " + mem(size, m) + ", " + imm(size, v));
}

TEST(X86Encoder, MovImmediateForms) {
  const uint64_t wide[] = {
      0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x8000000000000000, ~0ull, 0x123456789abcdef0};
  for (Reg r : all_regs()) {
    for (int32_t v : kImms) {
      EXPECT_ENCODES(a_.mov32(r, uint32_t(v)), "mov " + reg(4, r) + ", " + imm(4, v));
      EXPECT_ENCODES(a_.mov64(r, v), "mov " + reg(8, r) + ", " + imm(8, v));
    }
    for (uint64_t v : wide)
      EXPECT_ENCODES(a_.movabs(r, v), "movabs " + reg(8, r) + ", " + imm(8, int64_t(v)));
  }
}

TEST(X86Encoder, MovzxMovsx) {
  for (Reg d : all_regs()) {
    for (Reg s : all_regs()) {
      for (int from : {1, 2}) {
        EXPECT_ENCODES(a_.movzx(from, d, s), "movzx " + reg(4, d) + ", " + reg(from, s));
        EXPECT_ENCODES(a_.movsx(4, from, d, s), "movsx " + reg(4, d) + ", " + reg(from, s));
        EXPECT_ENCODES(a_.movsx(8, from, d, s), "movsx " + reg(8, d) + ", " + reg(from, s));
      }
      EXPECT_ENCODES(a_.movsx(8, 4, d, s), "movsxd " + reg(8, d) + ", " + reg(4, s));
    }
    for (Mem m : all_mems()) {
      for (int from : {1, 2}) {
        EXPECT_ENCODES(a_.movzx(from, d, m), "movzx " + reg(4, d) + ", " + mem(from, m));
        EXPECT_ENCODES(a_.movsx(4, from, d, m), "movsx " + reg(4, d) + ", " + mem(from, m));
        EXPECT_ENCODES(a_.movsx(8, from, d, m), "movsx " + reg(8, d) + ", " + mem(from, m));
      }
      EXPECT_ENCODES(a_.movsx(8, 4, d, m), "movsxd " + reg(8, d) + ", " + mem(4, m));
    }
  }
}

TEST(X86Encoder, Lea) {
  for (Reg d : all_regs())
    for (Mem m : all_mems())
      EXPECT_ENCODES(a_.lea(d, m), "lea " + reg(8, d) + ", " + address(m.base, m.disp));
}

// --- arithmetic ---

TEST(X86Encoder, AluRegReg) {
  for (int k = 0; k < 8; ++k)
    for (int size : kSizes)
      for (Reg d : all_regs())
        for (Reg s : all_regs())
          EXPECT_ENCODES(a_.alu(kAluOps[k], size, d, s),
                         std::string(kAluNames[k]) + " " + reg(size, d) + ", " + reg(size, s));
}

TEST(X86Encoder, AluRegImmediate) {
  for (int k = 0; k < 8; ++k)
    for (int size : kSizes)
      for (Reg d : all_regs())
        for (int32_t v : kImms) {
          // imm8 forms are sign-extended from 8 bits, imm16/imm32 forms cut to the operand.
          const int64_t seen = size == 1 ? int8_t(v) : size == 2 ? int16_t(v) : v;
          EXPECT_ENCODES(a_.alu(kAluOps[k], size, d, v),
                         std::string(kAluNames[k]) + " " + reg(size, d) + ", " + imm(size, seen));
        }
}

TEST(X86Encoder, AluMemory) {
  for (int k = 0; k < 8; ++k)
    for (int size : kSizes)
      for (Mem m : all_mems()) {
        for (Reg s : all_regs()) {
          EXPECT_ENCODES(a_.alu(kAluOps[k], size, m, s),
                         std::string(kAluNames[k]) + " " + mem(size, m) + ", " + reg(size, s));
          EXPECT_ENCODES(a_.alu(kAluOps[k], size, s, m),
                         std::string(kAluNames[k]) + " " + reg(size, s) + ", " + mem(size, m));
        }
        for (int32_t v : kImms) {
          const int64_t seen = size == 1 ? int8_t(v) : size == 2 ? int16_t(v) : v;
          EXPECT_ENCODES(a_.alu(kAluOps[k], size, m, v),
                         std::string(kAluNames[k]) + " " + mem(size, m) + ", " + imm(size, seen));
        }
      }
}

TEST(X86Encoder, Test) {
  for (int size : kSizes)
    for (Reg d : all_regs()) {
      for (Reg s : all_regs())
        EXPECT_ENCODES(a_.test(size, d, s), "test " + reg(size, d) + ", " + reg(size, s));
      for (int32_t v : kImms) {
        const int64_t seen = size == 1 ? int8_t(v) : size == 2 ? int16_t(v) : v;
        EXPECT_ENCODES(a_.test(size, d, v), "test " + reg(size, d) + ", " + imm(size, seen));
      }
    }
}

TEST(X86Encoder, Imul) {
  for (int size : {2, 4, 8})
    for (Reg d : all_regs())
      for (Reg s : all_regs()) {
        EXPECT_ENCODES(a_.imul(size, d, s), "imul " + reg(size, d) + ", " + reg(size, s));
        for (int32_t v : kImms) {
          const int64_t seen = size == 2 ? int16_t(v) : v;
          EXPECT_ENCODES(a_.imul(size, d, s, v),
                         "imul " + reg(size, d) + ", " + reg(size, s) + ", " + imm(size, seen));
        }
      }
}

TEST(X86Encoder, DivIdivNeg) {
  for (Reg r : all_regs()) {
    for (int size : {2, 4, 8}) {
      EXPECT_ENCODES(a_.div(size, r), "div " + reg(size, r));
      EXPECT_ENCODES(a_.idiv(size, r), "idiv " + reg(size, r));
    }
    for (int size : kSizes) EXPECT_ENCODES(a_.neg(size, r), "neg " + reg(size, r));
  }
}

TEST(X86Encoder, Shifts) {
  for (const ShiftCase& sc : kShifts)
    for (int size : kSizes)
      for (Reg r : all_regs()) {
        for (int count : {1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255})
          EXPECT_ENCODES(a_.shift(sc.op, size, r, uint8_t(count)),
                         std::string(sc.name) + " " + reg(size, r) + ", " + imm(1, count));
        EXPECT_ENCODES(a_.shift_cl(sc.op, size, r), std::string(sc.name) + " " + reg(size, r) + ", cl");
      }
}

TEST(X86Encoder, Bmi2Shifts) {
  const ShiftCase ops[] = {{ShiftOp::Shl, "shlx"}, {ShiftOp::Shr, "shrx"}, {ShiftOp::Sar, "sarx"}};
  for (const ShiftCase& sc : ops)
    for (int size : {4, 8})
      for (Reg d : all_regs())
        for (Reg s : all_regs())
          for (Reg c : all_regs())
            EXPECT_ENCODES(a_.shiftx(sc.op, size, d, s, c), std::string(sc.name) + " " + reg(size, d) + ", " +
                                                                reg(size, s) + ", " + reg(size, c));
}

TEST(X86Encoder, BswapAndSignExtensions) {
  for (Reg r : all_regs()) {
    EXPECT_ENCODES(a_.bswap(4, r), "bswap " + reg(4, r));
    EXPECT_ENCODES(a_.bswap(8, r), "bswap " + reg(8, r));
  }
  EXPECT_ENCODES(a_.cdq(), "cdq");
  EXPECT_ENCODES(a_.cqo(), "cqo");
}

// --- atomics ---

TEST(X86Encoder, Atomics) {
  for (int size : kSizes)
    for (Mem m : all_mems())
      for (Reg r : all_regs()) {
        EXPECT_ENCODES(a_.xchg(size, m, r), "xchg " + mem(size, m) + ", " + reg(size, r));
        EXPECT_ENCODES(a_.lock_xadd(size, m, r), "lock xadd " + mem(size, m) + ", " + reg(size, r));
        EXPECT_ENCODES(a_.lock_cmpxchg(size, m, r), "lock cmpxchg " + mem(size, m) + ", " + reg(size, r));
        for (AluOp op : {AluOp::Add, AluOp::Or, AluOp::And, AluOp::Xor, AluOp::Sub})
          EXPECT_ENCODES(a_.lock_alu(op, size, m, r), "lock " + std::string(kAluNames[int(op)]) + " " +
                                                          mem(size, m) + ", " + reg(size, r));
      }
}

// --- SSE ---

TEST(X86Encoder, Sse) {
  for (int d = 0; d < 16; ++d) {
    for (int s = 0; s < 16; ++s)
      EXPECT_ENCODES(a_.pxor(Xmm(d), Xmm(s)), "pxor " + xmm(Xmm(d)) + ", " + xmm(Xmm(s)));
    for (Mem m : all_mems())
      EXPECT_ENCODES(a_.movaps(m, Xmm(d)), "movaps " + mem(16, m) + ", " + xmm(Xmm(d)));
  }
}

// --- control flow ---

TEST(X86Encoder, PushPopRetCall) {
  for (Reg r : all_regs()) {
    EXPECT_ENCODES(a_.push(r), "push " + reg(8, r));
    EXPECT_ENCODES(a_.pop(r), "pop " + reg(8, r));
    EXPECT_ENCODES(a_.call(r), "call " + reg(8, r));
  }
  EXPECT_ENCODES(a_.ret(), "ret");
}

const char* const kCondNames[] = {"jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja",
                                  "js", "jns", "jp", "jnp", "jl", "jge", "jle", "jg"};

// Builds `filler` one-byte instructions (cdq), a jump, more filler; checks the
// target capstone decodes, the chosen width, and that the encoder throws nothing.
TEST(X86Encoder, JumpsBackwardPickTheShortFormWhenItFits) {
  for (int c = -1; c < 16; ++c) {  // -1: jmp
    for (int before : {0, 1, 100, 125, 126, 127, 128, 129, 130, 200, c < 1 ? 70000 : 300}) {
      Assembler a;
      Label top = a.new_label();
      a.bind(top);
      for (int i = 0; i < before; ++i) a.cdq();
      if (c < 0)
        a.jmp(top);
      else
        a.jcc(Cond(c), top);
      const std::vector<uint8_t> code = a.finish();
      std::vector<size_t> sizes;
      const std::vector<std::string> text = cs().all(code, &sizes);
      ASSERT_EQ(text.size(), size_t(before + 1));
      const std::string name = c < 0 ? "jmp" : kCondNames[c];
      EXPECT_EQ(text.back(), name + " " + imm(8, 0)) << before;
      // rel8 reaches back 128 bytes from the end of the 2-byte jump.
      const size_t want = before + 2 <= 128 ? 2 : (c < 0 ? 5 : 6);
      EXPECT_EQ(sizes.back(), want) << name << " over " << before;
    }
  }
}

TEST(X86Encoder, ForwardJumpsAndCallsResolve) {
  for (int c = -2; c < 16; ++c) {  // -2: call, -1: jmp
    for (int after : {0, 1, 127, 128, 129, c < 1 ? 70000 : 300}) {
      Assembler a;
      Label end = a.new_label();
      if (c == -2)
        a.call(end);
      else if (c == -1)
        a.jmp(end);
      else
        a.jcc(Cond(c), end);
      for (int i = 0; i < after; ++i) a.cdq();
      a.bind(end);
      a.ret();
      const std::vector<uint8_t> code = a.finish();
      const size_t len = c == -2 || c == -1 ? 5 : 6;  // without hints forward jumps are rel32
      const std::vector<std::string> text = cs().all(code);
      ASSERT_EQ(text.size(), size_t(after + 2));
      const std::string name = c == -2 ? "call" : c == -1 ? "jmp" : kCondNames[c];
      EXPECT_EQ(text[0], name + " " + imm(8, int64_t(len + after)));
      EXPECT_EQ(text.back(), "ret");
    }
  }
}

// Emits a program of jumps over varied distances twice: first without hints,
// then with the hints of the first pass, then until the hints stop changing.
// Every pass must decode to the same instruction stream with the same targets
// (measured in instruction indexes) and must never grow.
TEST(X86Encoder, ShortHintsOnlyShrinkCode) {
  const int kBlocks = 60;
  auto emit = [&](const std::vector<bool>& hints, std::vector<bool>* next) {
    Assembler a(hints);
    std::vector<Label> labels;
    for (int i = 0; i < kBlocks; ++i) labels.push_back(a.new_label());
    for (int i = 0; i < kBlocks; ++i) {
      a.bind(labels[i]);
      // A mix of distances: near neighbours, far ones, backward and forward.
      const int fwd = (i * 7 + 3) % kBlocks, back = (i * 13) % (i + 1);
      a.jcc(Cond((i * 5) % 16), labels[fwd]);
      for (int k = 0; k < (i * 37) % 50; ++k) a.cdq();
      a.jmp(labels[back]);
    }
    std::vector<uint8_t> code = a.finish();
    *next = a.next_short_hints();
    // Targets as instruction indexes, so passes of different sizes compare.
    std::vector<size_t> sizes;
    std::vector<std::string> text = cs().all(code, &sizes);
    std::vector<std::string> normalized;
    std::vector<size_t> starts;
    size_t off = 0;
    for (size_t s : sizes) starts.push_back(off), off += s;
    for (size_t i = 0; i < text.size(); ++i) {
      std::string t = text[i];
      if (t[0] == 'j') {
        const size_t sp = t.find(' ');
        const uint64_t target = std::stoull(t.substr(sp + 1), nullptr, 16);
        size_t index = 0;
        while (index < starts.size() && starts[index] != target) ++index;
        t = t.substr(0, sp) + " #" + std::to_string(index);
      }
      normalized.push_back(t);
    }
    return std::make_pair(code.size(), normalized);
  };
  std::vector<bool> hints, next;
  auto [size0, text0] = emit(hints, &next);
  size_t previous = size0;
  for (int pass = 0; pass < 6; ++pass) {
    hints = next;
    auto [size, text] = emit(hints, &next);
    EXPECT_EQ(text, text0) << "pass " << pass;
    EXPECT_LE(size, previous);
    previous = size;
  }
  EXPECT_LT(previous, size0);  // some jumps did become short
}

TEST(X86Encoder, UnboundLabelsAndBadSizesThrow) {
  Assembler a;
  Label l = a.new_label();
  a.jmp(l);
  EXPECT_THROW(a.finish(), std::logic_error);
  Assembler b;
  Label m = b.new_label();
  b.bind(m);
  EXPECT_THROW(b.bind(m), std::logic_error);
  EXPECT_THROW(b.bswap(2, Reg::Rax), std::invalid_argument);
  EXPECT_THROW(b.mov(3, Reg::Rax, Reg::Rax), std::invalid_argument);
  EXPECT_THROW(b.movsx(4, 4, Reg::Rax, Reg::Rax), std::invalid_argument);
  EXPECT_THROW(b.shiftx(ShiftOp::Rol, 8, Reg::Rax, Reg::Rax, Reg::Rax), std::invalid_argument);
}

}  // namespace
}  // namespace bpfkit::vm::x86
