// Opcode fields of the eBPF instruction (RFC 9669 section 3). The kernel's
// <linux/bpf.h> names most of them; the ones newer than the installed header
// (CPU v4: sign-extending loads) are defined here and checked where both exist.
#pragma once

#include <cstdint>
#include <linux/bpf.h>

namespace bpfkit::isa {

// Instruction classes (low 3 bits).
inline constexpr uint8_t kClassLd = BPF_LD;
inline constexpr uint8_t kClassLdx = BPF_LDX;
inline constexpr uint8_t kClassSt = BPF_ST;
inline constexpr uint8_t kClassStx = BPF_STX;
inline constexpr uint8_t kClassAlu = BPF_ALU;
inline constexpr uint8_t kClassJmp = BPF_JMP;
inline constexpr uint8_t kClassJmp32 = BPF_JMP32;
inline constexpr uint8_t kClassAlu64 = BPF_ALU64;

// Source bit for ALU and JMP classes; endianness for BPF_END.
inline constexpr uint8_t kSrcK = BPF_K;
inline constexpr uint8_t kSrcX = BPF_X;

// ALU operations (high 4 bits).
inline constexpr uint8_t kAluAdd = BPF_ADD, kAluSub = BPF_SUB, kAluMul = BPF_MUL,
                         kAluDiv = BPF_DIV, kAluOr = BPF_OR, kAluAnd = BPF_AND,
                         kAluLsh = BPF_LSH, kAluRsh = BPF_RSH, kAluNeg = BPF_NEG,
                         kAluMod = BPF_MOD, kAluXor = BPF_XOR, kAluMov = BPF_MOV,
                         kAluArsh = BPF_ARSH, kAluEnd = BPF_END;

// JMP operations (high 4 bits).
inline constexpr uint8_t kJmpJa = BPF_JA, kJmpJeq = BPF_JEQ, kJmpJgt = BPF_JGT,
                         kJmpJge = BPF_JGE, kJmpJset = BPF_JSET, kJmpJne = BPF_JNE,
                         kJmpJsgt = BPF_JSGT, kJmpJsge = BPF_JSGE, kJmpCall = BPF_CALL,
                         kJmpExit = BPF_EXIT, kJmpJlt = BPF_JLT, kJmpJle = BPF_JLE,
                         kJmpJslt = BPF_JSLT, kJmpJsle = BPF_JSLE;

// Load/store sizes (bits 3-4) and modes (bits 5-7).
inline constexpr uint8_t kSizeW = BPF_W, kSizeH = BPF_H, kSizeB = BPF_B, kSizeDw = BPF_DW;
inline constexpr uint8_t kModeImm = BPF_IMM, kModeAbs = BPF_ABS, kModeInd = BPF_IND,
                         kModeMem = BPF_MEM, kModeAtomic = BPF_ATOMIC;
inline constexpr uint8_t kModeMemSx = 0x80;  // BPF_MEMSX, Linux 6.6

// Atomic operations, carried in imm.
inline constexpr int32_t kAtomicFetch = BPF_FETCH;
inline constexpr int32_t kAtomicXchg = BPF_XCHG;
inline constexpr int32_t kAtomicCmpXchg = BPF_CMPXCHG;
// Linux 6.15, newer than the installed header: load-acquire and store-release.
inline constexpr int32_t kAtomicLoadAcquire = 0x100;   // BPF_LOAD_ACQ
inline constexpr int32_t kAtomicStoreRelease = 0x110;  // BPF_STORE_REL

// BPF_JCOND (Linux 6.9): a conditional jump whose condition is not a comparison;
// src 0 (BPF_MAY_GOTO) is the only one defined.
inline constexpr uint8_t kJmpJcond = 0xe0;
inline constexpr uint8_t kJcondMayGoto = 0;
// The run-time budget of may_goto (BPF_MAX_LOOPS): jumps once this many fall-throughs are spent.
inline constexpr uint64_t kMayGotoBudget = 8 * 1024 * 1024;

// Pseudo sources of lddw (src_reg of its first slot) and of call.
inline constexpr uint8_t kPseudoMapFd = BPF_PSEUDO_MAP_FD;
inline constexpr uint8_t kPseudoMapValue = BPF_PSEUDO_MAP_VALUE;
inline constexpr uint8_t kPseudoBtfId = BPF_PSEUDO_BTF_ID;
inline constexpr uint8_t kPseudoFunc = BPF_PSEUDO_FUNC;
inline constexpr uint8_t kPseudoMapIdx = BPF_PSEUDO_MAP_IDX;
inline constexpr uint8_t kPseudoMapIdxValue = BPF_PSEUDO_MAP_IDX_VALUE;
inline constexpr uint8_t kPseudoCall = BPF_PSEUDO_CALL;
inline constexpr uint8_t kPseudoKfuncCall = BPF_PSEUDO_KFUNC_CALL;

constexpr uint8_t opcode_class(uint8_t op) { return op & 0x07; }
constexpr uint8_t opcode_alu_op(uint8_t op) { return op & 0xf0; }
constexpr uint8_t opcode_src(uint8_t op) { return op & 0x08; }
constexpr uint8_t opcode_size(uint8_t op) { return op & 0x18; }
constexpr uint8_t opcode_mode(uint8_t op) { return op & 0xe0; }

// Register numbers: r0..r9 are general purpose, r10 is the read-only frame pointer.
inline constexpr uint8_t kRegCount = 11;
inline constexpr uint8_t kFramePointer = 10;

}  // namespace bpfkit::isa
