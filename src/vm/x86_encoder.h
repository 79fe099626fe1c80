// A small x86-64 instruction encoder for the JIT: exactly the instructions the
// JIT emits (moves, ALU, multiply/divide, shifts, byte swaps, atomics, jumps,
// calls, push/pop), with labels and fixups.
//
// Sizes are operand sizes in bytes (1, 2, 4, 8). Memory operands are a base
// register plus a 32-bit displacement; the encoder picks the short forms
// (no displacement, disp8, imm8) whenever they exist.
//
// Jumps to labels are encoded rel8 or rel32. A label bound before the jump gets
// rel8 whenever it fits; for forward jumps the caller passes the `short_hints`
// that next_short_hints() computed after a previous emission of the same code:
// emitting again with them only shrinks code, so every hinted rel8 still fits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace bpfkit::vm::x86 {

enum class Reg : uint8_t { Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15 };
inline constexpr int kRegCount = 16;

// SSE registers (the JIT only zeroes memory with them).
enum class Xmm : uint8_t { X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15 };

// base + disp.
struct Mem {
  Reg base = Reg::Rax;
  int32_t disp = 0;
};

// Condition codes, numbered as in the Jcc opcodes (0x70 + cc).
enum class Cond : uint8_t { O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G };
inline Cond negate(Cond c) { return Cond(uint8_t(c) ^ 1); }

// The eight classic ALU operations, numbered as their ModRM.reg extension.
enum class AluOp : uint8_t { Add, Or, Adc, Sbb, And, Sub, Xor, Cmp };

// Rotates and shifts, numbered as their ModRM.reg extension.
enum class ShiftOp : uint8_t { Rol = 0, Ror = 1, Shl = 4, Shr = 5, Sar = 7 };

class Label {
 public:
  Label() = default;
  bool valid() const { return id_ != kNone; }

 private:
  friend class Assembler;
  static constexpr uint32_t kNone = ~0u;
  explicit Label(uint32_t id) : id_(id) {}
  uint32_t id_ = kNone;
};

class Assembler {
 public:
  // short_hints[i] says that the i-th jmp/jcc to a label may be encoded rel8.
  explicit Assembler(std::vector<bool> short_hints = {}) : hints_(std::move(short_hints)) {}

  Label new_label();
  void bind(Label label);
  bool bound(Label label) const;
  size_t offset(Label label) const;  // of a bound label
  size_t size() const { return code_.size(); }

  // Moves. mov(size, Reg, Reg) copies; the Mem forms load and store.
  void mov(int size, Reg dst, Reg src);
  void mov(int size, Reg dst, Mem src);
  void mov(int size, Mem dst, Reg src);
  void mov(int size, Mem dst, int32_t imm);  // imm truncated to size; sign-extended for 8
  void mov32(Reg dst, uint32_t imm);         // mov r32, imm32 (zero-extends)
  void mov64(Reg dst, int32_t imm);          // mov r64, simm32
  void movabs(Reg dst, uint64_t imm);        // mov r64, imm64
  // Zero-extends 1 or 2 bytes into a 32-bit register (and so into 64 bits).
  void movzx(int src_size, Reg dst, Reg src);
  void movzx(int src_size, Reg dst, Mem src);
  // Sign-extends 1 or 2 bytes into 4 or 8 bytes, or 4 bytes into 8 (movsxd).
  void movsx(int dst_size, int src_size, Reg dst, Reg src);
  void movsx(int dst_size, int src_size, Reg dst, Mem src);
  void lea(Reg dst, Mem src);

  // Arithmetic. Immediates are sign-extended to the operand size (as x86 does).
  void alu(AluOp op, int size, Reg dst, Reg src);
  void alu(AluOp op, int size, Reg dst, int32_t imm);
  void alu(AluOp op, int size, Reg dst, Mem src);
  void alu(AluOp op, int size, Mem dst, Reg src);
  void alu(AluOp op, int size, Mem dst, int32_t imm);
  void test(int size, Reg a, Reg b);
  void test(int size, Reg a, int32_t imm);
  void imul(int size, Reg dst, Reg src);
  void imul(int size, Reg dst, Reg src, int32_t imm);
  void div(int size, Reg divisor);   // unsigned rdx:rax / divisor
  void idiv(int size, Reg divisor);  // signed
  void neg(int size, Reg reg);
  void shift(ShiftOp op, int size, Reg reg, uint8_t count);
  void shift_cl(ShiftOp op, int size, Reg reg);
  // BMI2 shlx/shrx/sarx: dst = src shifted by count (masked), flags untouched. size 4 or 8.
  void shiftx(ShiftOp op, int size, Reg dst, Reg src, Reg count);
  void bswap(int size, Reg reg);  // size 4 or 8
  void cdq();                     // edx = sign of eax
  void cqo();                     // rdx = sign of rax

  // Atomics (xchg with memory is implicitly locked).
  void xchg(int size, Mem mem, Reg reg);
  void lock_alu(AluOp op, int size, Mem dst, Reg src);
  void lock_xadd(int size, Mem mem, Reg reg);
  void lock_cmpxchg(int size, Mem mem, Reg reg);

  // SSE, to clear memory 16 bytes at a time (movaps needs 16-byte alignment).
  void pxor(Xmm dst, Xmm src);
  void movaps(Mem dst, Xmm src);

  // Control flow.
  void push(Reg reg);
  void pop(Reg reg);
  void ret();
  void jmp(Label target);
  void jcc(Cond cond, Label target);
  void call(Label target);  // rel32
  void call(Reg target);    // indirect

  // Resolves every label reference and returns the machine code. Throws
  // std::logic_error for an unbound label or a rel8 that does not reach.
  std::vector<uint8_t> finish();
  // After finish(): for each jmp/jcc in emission order, whether rel8 is certain
  // to reach when the same code is emitted again with these hints.
  std::vector<bool> next_short_hints() const;

 private:
  struct Fixup {
    size_t pos;  // of the displacement field
    size_t end;  // of the instruction (the displacement is relative to it)
    uint32_t label;
    bool rel8;
  };
  struct JumpSite {
    size_t start;
    uint32_t label;
  };

  void byte(uint8_t b) { code_.push_back(b); }
  void imm(int size, int64_t value);
  // Emits [66] [REX] opcode ModRM [SIB] [disp] for a register (rm_is_reg) or memory operand.
  // `reg` is the ModRM.reg field (register number or opcode extension); `byte_regs` asks for a
  // REX prefix when an 8-bit register operand is spl/bpl/sil/dil.
  void op_rm(int size, std::initializer_list<uint8_t> opcode, uint8_t reg, bool rm_is_reg, Reg rm_reg,
             Mem mem, bool byte_regs, bool reg_is_register);
  void op_reg(int size, std::initializer_list<uint8_t> opcode, uint8_t reg, Reg rm, bool byte_regs = true,
              bool reg_is_register = true) {
    op_rm(size, opcode, reg, true, rm, Mem{}, byte_regs, reg_is_register);
  }
  void op_mem(int size, std::initializer_list<uint8_t> opcode, uint8_t reg, Mem mem, bool byte_regs = true,
              bool reg_is_register = true) {
    op_rm(size, opcode, reg, false, Reg::Rax, mem, byte_regs, reg_is_register);
  }
  void label_ref(Label target, bool rel8);
  bool take_short_hint(Label target, size_t short_len);

  std::vector<uint8_t> code_;
  std::vector<int64_t> labels_;  // offset, or -1 while unbound
  std::vector<Fixup> fixups_;
  std::vector<JumpSite> jumps_;
  std::vector<bool> hints_;
};

}  // namespace bpfkit::vm::x86
