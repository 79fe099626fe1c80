// The eBPF instruction in its two forms:
//  - RawInsn: the 8-byte slot exactly as the kernel lays it out (struct bpf_insn);
//  - Instruction: a typed form (a std::variant of plain structs), one per
//    instruction, which everything above the ISA layer works with.
// lddw takes two raw slots and is one Instruction.
#pragma once

#include <cstdint>
#include <linux/bpf.h>
#include <variant>

namespace bpfkit::isa {

struct RawInsn {
  uint8_t opcode = 0;
  uint8_t dst : 4 = 0;
  uint8_t src : 4 = 0;
  int16_t off = 0;
  int32_t imm = 0;

  friend bool operator==(const RawInsn&, const RawInsn&) = default;
};
static_assert(sizeof(RawInsn) == sizeof(struct bpf_insn));

// A register or an immediate as the second operand of ALU, jump and store.
struct Operand {
  bool is_imm = false;
  uint8_t reg = 0;    // when !is_imm
  int32_t imm = 0;    // when is_imm

  static Operand Reg(uint8_t r) { return {false, r, 0}; }
  static Operand Imm(int32_t v) { return {true, 0, v}; }
  friend bool operator==(const Operand&, const Operand&) = default;
};

enum class AluOp : uint8_t {
  Add, Sub, Mul, Div, SDiv, Or, And, Lsh, Rsh, Mod, SMod, Xor, Mov, Arsh,
  MovSx8, MovSx16, MovSx32,  // movsx: mov with sign extension from 8/16/32 bits
};

// dst = dst OP src, on 64 bits (ALU64) or 32 bits zero-extended (ALU).
struct Alu {
  AluOp op = AluOp::Add;
  bool is64 = true;
  uint8_t dst = 0;
  Operand src;
  friend bool operator==(const Alu&, const Alu&) = default;
};

struct Neg {
  bool is64 = true;
  uint8_t dst = 0;
  friend bool operator==(const Neg&, const Neg&) = default;
};

enum class EndianKind : uint8_t { ToLe, ToBe, Swap };  // le, be, bswap

struct Endian {
  EndianKind kind = EndianKind::ToLe;
  uint8_t bits = 64;  // 16, 32 or 64
  uint8_t dst = 0;
  friend bool operator==(const Endian&, const Endian&) = default;
};

// dst = *(size *)(base + off), zero- or sign-extended. `acquire`: load-acquire
// (BPF_ATOMIC with imm BPF_LOAD_ACQ, Linux 6.15), ordered before later accesses.
struct Load {
  uint8_t size = 8;  // bytes: 1, 2, 4, 8
  bool sign_extend = false;
  uint8_t dst = 0;
  uint8_t base = 0;
  int16_t off = 0;
  bool acquire = false;
  friend bool operator==(const Load&, const Load&) = default;
};

// *(size *)(base + off) = value (a register for STX, an immediate for ST).
// `release`: store-release (BPF_ATOMIC with imm BPF_STORE_REL; a register value),
// ordered after earlier accesses.
struct Store {
  uint8_t size = 8;
  uint8_t base = 0;
  int16_t off = 0;
  Operand value;
  bool release = false;
  friend bool operator==(const Store&, const Store&) = default;
};

enum class AtomicOp : uint8_t { Add, Or, And, Xor, Xchg, CmpXchg };

// lock *(size *)(base + off) OP= src; with fetch, src receives the old value.
// xchg and cmpxchg always fetch; cmpxchg compares with and writes back r0.
struct Atomic {
  AtomicOp op = AtomicOp::Add;
  bool fetch = false;
  uint8_t size = 8;  // 4 or 8
  uint8_t base = 0;
  int16_t off = 0;
  uint8_t src = 0;
  friend bool operator==(const Atomic&, const Atomic&) = default;
};

enum class Pseudo : uint8_t {
  Imm64 = 0,        // plain 64-bit immediate
  MapFd = 1,        // imm = map fd
  MapValue = 2,     // imm = map fd, next imm = offset into the value
  BtfId = 3,        // imm = BTF id of a kernel variable
  Func = 4,         // imm = instruction offset of a subprogram
  MapIdx = 5,       // imm = index into the program's map array
  MapIdxValue = 6,  // imm = map index, next imm = offset into the value
};

// lddw: dst = a 64-bit value whose meaning depends on the pseudo source.
struct LoadImm64 {
  uint8_t dst = 0;
  Pseudo pseudo = Pseudo::Imm64;
  int32_t imm_lo = 0;  // first slot's imm
  int32_t imm_hi = 0;  // second slot's imm
  uint64_t value() const {
    return (uint64_t(uint32_t(imm_hi)) << 32) | uint32_t(imm_lo);
  }
  static LoadImm64 Imm(uint8_t dst, uint64_t v) {
    return {dst, Pseudo::Imm64, int32_t(uint32_t(v)), int32_t(uint32_t(v >> 32))};
  }
  friend bool operator==(const LoadImm64&, const LoadImm64&) = default;
};

// Legacy packet loads (BPF_LD | BPF_ABS/BPF_IND): r0 = ntoh(packet[(src) + imm]).
struct PacketLoad {
  uint8_t size = 4;  // 1, 2 or 4
  bool indirect = false;
  uint8_t src = 0;  // when indirect
  int32_t imm = 0;
  friend bool operator==(const PacketLoad&, const PacketLoad&) = default;
};

// MayGoto is BPF_JCOND with src BPF_MAY_GOTO (Linux 6.9): no operands; it jumps once
// the run's loop budget is spent and otherwise falls through, so a loop that exits
// through it ends after a bounded number of iterations.
enum class JmpCond : uint8_t { Eq, Gt, Ge, Set, Ne, Sgt, Sge, Lt, Le, Slt, Sle, MayGoto };

// if (dst COND src) goto pc + 1 + off, comparing 64 bits (JMP) or 32 (JMP32).
struct Jump {
  JmpCond cond = JmpCond::Eq;
  bool is32 = false;
  uint8_t dst = 0;
  Operand src;
  int16_t off = 0;
  friend bool operator==(const Jump&, const Jump&) = default;
};

// goto pc + 1 + off. `wide` is gotol (JMP32 | JA), whose offset lives in imm.
struct Ja {
  int32_t off = 0;
  bool wide = false;
  friend bool operator==(const Ja&, const Ja&) = default;
};

enum class CallKind : uint8_t { Helper, Local, Kfunc };

// Helper: imm is the helper id. Local (bpf-to-bpf): target = pc + 1 + imm.
// Kfunc: imm is a BTF id.
struct Call {
  CallKind kind = CallKind::Helper;
  int32_t imm = 0;
  // Kfunc only (the offset field): which module BTF in the load's fd_array holds the
  // kfunc, 0 for vmlinux. The kernel rejects a non-zero offset on other calls.
  int16_t btf_fd_idx = 0;
  friend bool operator==(const Call&, const Call&) = default;
};

// callx: call the helper whose id the register holds (dst field, as LLVM encodes it).
struct CallX {
  uint8_t reg = 0;
  friend bool operator==(const CallX&, const CallX&) = default;
};

struct Exit {
  friend bool operator==(const Exit&, const Exit&) = default;
};

using Instruction = std::variant<Alu, Neg, Endian, Load, Store, Atomic, LoadImm64,
                                 PacketLoad, Jump, Ja, Call, CallX, Exit>;

// How many raw slots an instruction occupies (2 for lddw, 1 otherwise).
inline int slot_count(const Instruction& insn) {
  return std::holds_alternative<LoadImm64>(insn) ? 2 : 1;
}

}  // namespace bpfkit::isa
