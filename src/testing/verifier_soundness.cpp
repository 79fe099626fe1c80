// The soundness generator: programs built from blocks that each obey (or, with
// fault_percent, break) one verifier rule, and one-instruction mutations of them.
//
// Register use in the main function: r6 = ctx, r7 = packet data, r8 = data_end
// (packet types), r9 = an accumulator every block folds its results into; r0-r5
// are scratch (calls clobber them). Stack layout below r10: [-8, 0) map key,
// [-24 - V, -24) map value for updates, [-200, -96) scratch, -208 the bpf_loop
// context, -216 a random value. At the end r9 is stored into map 3 and returned.
#include "testing/verifier_soundness.h"

#include <linux/bpf.h>

#include <bitset>
#include <cstddef>
#include <string>

#include "helpers/runtime_helpers.h"

namespace bpfkit::testgen {
namespace {

using isa::RawInsn;

constexpr uint8_t kCtx = 6, kData = 7, kEnd = 8, kAcc = 9;
constexpr int kScratchLo = -200, kScratchHi = -96;  // [lo, hi)
constexpr int kLoopCtx = -208, kRandSlot = -216;
enum MapSlot : int32_t { kArray = 0, kHash = 1, kRingbuf = 2, kResult = 3 };

RawInsn raw(uint8_t op, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  RawInsn r;
  r.opcode = op;
  r.dst = dst & 0xf;
  r.src = src & 0xf;
  r.off = off;
  r.imm = imm;
  return r;
}

uint8_t size_code(int size) {
  switch (size) {
    case 1:
      return BPF_B;
    case 2:
      return BPF_H;
    case 4:
      return BPF_W;
    default:
      return BPF_DW;
  }
}

// Code with symbolic jump targets, resolved by finish().
class Builder {
 public:
  int label() {
    pos_.push_back(-1);
    return int(pos_.size()) - 1;
  }
  void bind(int l) { pos_[size_t(l)] = int(code_.size()); }
  size_t size() const { return code_.size(); }
  void emit(RawInsn r, int target = -1) { code_.push_back({r, target}); }

  void mov_imm(uint8_t d, int32_t imm) { emit(raw(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, imm)); }
  void mov_reg(uint8_t d, uint8_t s) { emit(raw(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)); }
  void alu_imm(uint8_t op, uint8_t d, int32_t imm, bool is64 = true) {
    emit(raw(uint8_t((is64 ? BPF_ALU64 : BPF_ALU) | op | BPF_K), d, 0, 0, imm));
  }
  void alu_reg(uint8_t op, uint8_t d, uint8_t s, bool is64 = true) {
    emit(raw(uint8_t((is64 ? BPF_ALU64 : BPF_ALU) | op | BPF_X), d, s, 0, 0));
  }
  void ldx(int size, uint8_t d, uint8_t s, int16_t off) {
    emit(raw(uint8_t(BPF_LDX | BPF_MEM | size_code(size)), d, s, off, 0));
  }
  void stx(int size, uint8_t d, uint8_t s, int16_t off) {
    emit(raw(uint8_t(BPF_STX | BPF_MEM | size_code(size)), d, s, off, 0));
  }
  void st(int size, uint8_t d, int16_t off, int32_t imm) {
    emit(raw(uint8_t(BPF_ST | BPF_MEM | size_code(size)), d, 0, off, imm));
  }
  void jmp_imm(uint8_t op, uint8_t d, int32_t imm, int target, bool is32 = false) {
    emit(raw(uint8_t((is32 ? BPF_JMP32 : BPF_JMP) | op | BPF_K), d, 0, 0, imm), target);
  }
  void jmp_reg(uint8_t op, uint8_t d, uint8_t s, int target) {
    emit(raw(BPF_JMP | op | BPF_X, d, s, 0, 0), target);
  }
  void ja(int target) { emit(raw(BPF_JMP | BPF_JA, 0, 0, 0, 0), target); }
  void call(int32_t helper) { emit(raw(BPF_JMP | BPF_CALL, 0, 0, 0, helper)); }
  void call_local(int target) { emit(raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0), target); }
  void ld_map(uint8_t d, int32_t idx) {
    emit(raw(BPF_LD | BPF_IMM | BPF_DW, d, uint8_t(isa::Pseudo::MapIdx), 0, idx));
    emit(raw(0, 0, 0, 0, 0));
  }
  void ld_func(uint8_t d, int target) {
    emit(raw(BPF_LD | BPF_IMM | BPF_DW, d, BPF_PSEUDO_FUNC, 0, 0), target);
    emit(raw(0, 0, 0, 0, 0));
  }
  void exit() { emit(raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)); }

  std::vector<RawInsn> finish() const {
    std::vector<RawInsn> out;
    for (size_t i = 0; i < code_.size(); ++i) {
      RawInsn r = code_[i].insn;
      if (code_[i].target >= 0) {
        const int rel = pos_[size_t(code_[i].target)] - int(i) - 1;
        const bool uses_imm = (r.opcode == (BPF_JMP | BPF_CALL)) || r.opcode == (BPF_LD | BPF_IMM | BPF_DW);
        if (uses_imm) {
          r.imm = rel;
        } else {
          r.off = int16_t(rel);
        }
      }
      out.push_back(r);
    }
    return out;
  }

 private:
  struct Item {
    RawInsn insn;
    int target;
  };
  std::vector<Item> code_;
  std::vector<int> pos_;
};

class Generator {
 public:
  Generator(uint64_t seed, const SoundnessGenOptions& options) : rng_(seed), opt_(options) {
    prog_.seed = seed;
  }

  SoundProgram run() {
    static constexpr uint32_t kTypes[] = {BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS,
                                          BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER};
    prog_.prog_type = kTypes[rng_.below(std::size(kTypes))];
    prog_.privileged = rng_.chance(25);
    packet_ = prog_.prog_type != BPF_PROG_TYPE_SOCKET_FILTER;
    add_maps();

    cb_ = b_.label();
    sub_scalar_ = b_.label();
    sub_pkt_ = b_.label();
    prologue();
    const size_t n = opt_.snippets ? opt_.snippets : 2 + rng_.below(10);
    for (size_t i = 0; i < n; ++i) block();
    epilogue();
    if (used_cb_) callback_fn();
    if (used_sub_scalar_) sub_scalar_fn();
    if (used_sub_pkt_) sub_pkt_fn();
    prog_.insns = b_.finish();
    return std::move(prog_);
  }

 private:
  bool fault() { return rng_.chance(opt_.fault_percent); }
  int pick_size() {
    static constexpr int kSizes[] = {1, 2, 4, 8};
    return kSizes[rng_.below(4)];
  }
  uint32_t value_size(int m) const { return prog_.maps[size_t(m)].value_size; }

  void add_maps() {
    static constexpr uint32_t kValueSizes[] = {8, 16, 24, 32, 48, 64};
    auto map = [](uint32_t type, uint32_t key, uint32_t value, uint32_t entries, const char* name) {
      verifier::MapInfo m;
      m.type = type;
      m.key_size = key;
      m.value_size = value;
      m.max_entries = entries;
      m.name = name;
      return m;
    };
    prog_.maps.push_back(
        map(BPF_MAP_TYPE_ARRAY, 4, kValueSizes[rng_.below(6)], 1 + uint32_t(rng_.below(8)), "arr"));
    prog_.maps.push_back(map(BPF_MAP_TYPE_HASH, 4, kValueSizes[rng_.below(6)], 8, "hash"));
    prog_.maps.push_back(map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, "rb"));
    prog_.maps.push_back(map(BPF_MAP_TYPE_ARRAY, 4, 8, 1, "result"));
  }

  // Marks stack bytes [off, off + size) written, unless only some paths write them.
  void wrote_stack(int off, int size) {
    if (cond_depth_ > 0) return;
    for (int i = 0; i < size; ++i) {
      if (off + i >= -512 && off + i < 0) init_.set(size_t(off + i + 512));
    }
  }
  bool stack_init(int off, int size) const {
    for (int i = 0; i < size; ++i) {
      if (off + i < -512 || off + i >= 0 || !init_.test(size_t(off + i + 512))) return false;
    }
    return true;
  }

  void prologue() {
    b_.mov_reg(kCtx, 1);
    b_.mov_imm(kAcc, int32_t(rng_.interesting32()));
    if (packet_) {
      const bool xdp = prog_.prog_type == BPF_PROG_TYPE_XDP;
      b_.ldx(4, kData, kCtx, int16_t(xdp ? offsetof(xdp_md, data) : offsetof(__sk_buff, data)));
      b_.ldx(4, kEnd, kCtx, int16_t(xdp ? offsetof(xdp_md, data_end) : offsetof(__sk_buff, data_end)));
    }
    // Some scratch slots start written, so that reads of them are fine.
    for (int off = kScratchLo; off < kScratchHi; off += 8) {
      if (rng_.chance(30)) {
        b_.stx(8, 10, kAcc, int16_t(off));
        wrote_stack(off, 8);
      }
    }
  }

  void epilogue() {
    const int done = b_.label();
    b_.st(4, 10, -4, 0);
    wrote_stack(-4, 4);
    b_.mov_reg(2, 10);
    b_.alu_imm(BPF_ADD, 2, -4);
    b_.ld_map(1, kResult);
    b_.call(BPF_FUNC_map_lookup_elem);
    b_.jmp_imm(BPF_JEQ, 0, 0, done);
    b_.stx(8, 0, kAcc, 0);
    b_.bind(done);
    b_.mov_reg(0, kAcc);
    b_.exit();
  }

  void block() {
    const bool wrap = rng_.chance(20);
    int skip = -1;
    if (wrap) {
      static constexpr uint8_t kOps[] = {BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JSGT, BPF_JSET, BPF_JLT};
      skip = b_.label();
      b_.jmp_imm(kOps[rng_.below(std::size(kOps))], kAcc, rng_.interesting32(), skip, rng_.chance(30));
      ++cond_depth_;
    }
    switch (rng_.below(packet_ ? 16 : 13)) {
      case 0:
      case 1:
        map_lookup();
        break;
      case 2:
        map_update();
        break;
      case 3:
      case 4:
        stack_rw();
        break;
      case 5:
        alu();
        break;
      case 6:
        loop();
        break;
      case 7:
        random_helper();
        break;
      case 8:
        bpf_loop();
        break;
      case 9:
        ringbuf();
        break;
      case 10:
        call_scalar();
        break;
      case 11:
        ctx_access();
        break;
      case 12:
        scalar_chain();
        break;
      case 13:
        packet_const();
        break;
      case 14:
        packet_var();
        break;
      default:
        call_pkt();
        break;
    }
    if (wrap) {
      b_.bind(skip);
      --cond_depth_;
    }
  }

  // A load (folded into r9) or a store of r9 / an immediate at base + off.
  void access(uint8_t base, int16_t off, int size, bool allow_atomic) {
    switch (rng_.below(allow_atomic ? 5 : 4)) {
      case 0:
      case 1:
        b_.ldx(size, 2, base, off);
        b_.alu_reg(rng_.chance(50) ? BPF_ADD : BPF_XOR, kAcc, 2);
        break;
      case 2:
        b_.stx(size, base, kAcc, off);
        break;
      case 3:
        b_.st(size, base, off, rng_.interesting32());
        break;
      default: {
        const int s = size >= 4 ? size : 8;
        b_.mov_imm(3, int32_t(rng_.below(100)));
        b_.emit(raw(uint8_t(BPF_STX | BPF_ATOMIC | size_code(s)), base, 3, off, BPF_ADD));
        break;
      }
    }
  }

  // Packet access at a constant offset after a data_end comparison proving N bytes.
  void packet_const() {
    const int n = 1 + int(rng_.below(64));
    const int skip = b_.label();
    b_.mov_reg(1, kData);
    b_.alu_imm(BPF_ADD, 1, n);
    switch (rng_.below(5)) {
      case 0:
        b_.jmp_reg(BPF_JGT, 1, kEnd, skip);
        break;
      case 1:
        b_.jmp_reg(BPF_JLT, kEnd, 1, skip);
        break;
      case 2:
        b_.jmp_reg(BPF_JGE, 1, kEnd, skip);
        break;  // stricter than needed: data + n < data_end
      case 3:
        b_.jmp_reg(BPF_JLE, kEnd, 1, skip);
        break;
      default: {
        const int body = b_.label();
        b_.jmp_reg(BPF_JLE, 1, kEnd, body);
        b_.ja(skip);
        b_.bind(body);
      }
    }
    int size = pick_size();
    while (size > n) size /= 2;
    int off = int(rng_.below(uint64_t(n - size + 1)));
    if (fault()) off = rng_.chance(70) ? n - size + 1 + int(rng_.below(4)) : -1 - int(rng_.below(4));
    if (rng_.chance(50)) {
      access(kData, int16_t(off), size, false);
    } else {
      access(1, int16_t(off - n), size, false);
    }
    b_.bind(skip);
  }

  // Packet access at a variable offset (a packet byte, masked or compared).
  void packet_var() {
    const int skip = b_.label();
    b_.mov_reg(1, kData);
    b_.alu_imm(BPF_ADD, 1, 1);
    b_.jmp_reg(BPF_JGT, 1, kEnd, skip);
    b_.ldx(1, 2, kData, 0);
    switch (rng_.below(3)) {
      case 0:
        b_.alu_imm(BPF_AND, 2, int32_t((1u << rng_.below(7)) - 1));
        break;
      case 1:
        b_.alu_imm(BPF_AND, 2, int32_t((1u << rng_.below(7)) - 1), false);
        break;
      default:
        b_.jmp_imm(BPF_JGT, 2, int32_t(rng_.below(64)), skip);
        break;
    }
    if (fault()) b_.alu_imm(BPF_LSH, 2, 8);
    const int size = pick_size();
    b_.mov_reg(3, kData);
    b_.alu_reg(BPF_ADD, 3, 2);
    b_.mov_reg(4, 3);
    b_.alu_imm(BPF_ADD, 4, size);
    if (!fault()) b_.jmp_reg(BPF_JGT, 4, kEnd, skip);
    int16_t off = fault() ? int16_t(1 + rng_.below(4)) : 0;
    access(3, off, size, false);
    b_.bind(skip);
  }

  // map_lookup_elem, a null check, then an access to the value.
  void map_lookup() {
    const int m = rng_.chance(50) ? kArray : kHash;
    const uint32_t vsize = value_size(m);
    const int skip = b_.label();
    const uint32_t entries = prog_.maps[size_t(m)].max_entries;
    b_.st(4, 10, -4, int32_t(rng_.below(entries + 2)));
    wrote_stack(-4, 4);
    b_.mov_reg(2, 10);
    b_.alu_imm(BPF_ADD, 2, -4);
    b_.ld_map(1, m);
    b_.call(BPF_FUNC_map_lookup_elem);
    if (!fault()) {
      if (rng_.chance(70)) {
        b_.jmp_imm(BPF_JEQ, 0, 0, skip);
      } else {
        const int body = b_.label();
        b_.jmp_imm(BPF_JNE, 0, 0, body);
        b_.ja(skip);
        b_.bind(body);
      }
    } else {
      switch (rng_.below(3)) {
        case 0:
          break;  // no null check
        case 1:
          b_.jmp_imm(BPF_JEQ, 1, 0, skip);
          break;  // checks the wrong register
        default:
          b_.jmp_imm(BPF_JNE, 0, 0, skip);
          break;  // checks the wrong way round
      }
    }
    uint8_t ptr = 0;
    if (rng_.chance(25)) {  // spill and fill the pointer
      const int slot = kScratchLo + 8 * int(rng_.below(13));
      b_.stx(8, 10, 0, int16_t(slot));
      b_.ldx(8, 5, 10, int16_t(slot));
      ptr = 5;
    }
    int size = pick_size();
    while (uint32_t(size) > vsize) size /= 2;
    const uint32_t room = vsize - uint32_t(size);  // the largest offset that fits
    switch (rng_.below(3)) {
      case 0: {
        int off = int(rng_.below(room + 1)) / size * size;
        if (fault()) off = rng_.chance(70) ? int(room) + 1 + int(rng_.below(8)) : -1 - int(rng_.below(8));
        access(ptr, int16_t(off), size, off % size == 0);
        break;
      }
      case 1: {  // variable offset bounded by a mask
        variable_source(1);
        uint32_t mask = 1;
        while (mask * 2 + 1 <= room) mask = mask * 2 + 1;
        if (room == 0) mask = 0;
        if (fault()) mask = mask * 2 + 1;
        b_.alu_imm(BPF_AND, 1, int32_t(mask), rng_.chance(70));
        b_.alu_reg(BPF_ADD, ptr, 1);
        access(ptr, 0, size, false);
        break;
      }
      default: {  // variable offset bounded by a comparison
        variable_source(1);
        uint32_t limit = room;
        uint8_t op = BPF_JGT;
        if (fault()) {
          if (rng_.chance(50))
            limit += 1 + uint32_t(rng_.below(4));
          else
            op = BPF_JSGT;  // a signed bound leaves negative offsets possible
        }
        b_.jmp_imm(op, 1, int32_t(limit), skip);
        b_.alu_reg(BPF_ADD, ptr, 1);
        access(ptr, 0, size, false);
        break;
      }
    }
    b_.bind(skip);
  }

  // A scalar read from a map value (random bytes), run through a few ALU steps and
  // range checks, then used as an offset into that value: the verifier's bounds
  // (tnums, signed/unsigned, 32/64-bit) decide whether it is accepted, and runtime
  // values at the edges catch a bound that is wrong.
  void scalar_chain() {
    const int m = rng_.chance(70) ? kArray : kHash;
    const uint32_t vsize = value_size(m);
    const int skip = b_.label();
    b_.st(4, 10, -4, int32_t(rng_.below(prog_.maps[size_t(m)].max_entries)));
    wrote_stack(-4, 4);
    b_.mov_reg(2, 10);
    b_.alu_imm(BPF_ADD, 2, -4);
    b_.ld_map(1, m);
    b_.call(BPF_FUNC_map_lookup_elem);
    b_.jmp_imm(BPF_JEQ, 0, 0, skip);
    const int src_size = pick_size();
    b_.ldx(src_size, 1, 0, int16_t(rng_.below(vsize / uint32_t(src_size)) * uint32_t(src_size)));
    const int32_t v = int32_t(vsize);
    const size_t steps = rng_.below(4);
    for (size_t i = 0; i < steps; ++i) {
      const bool is64 = rng_.chance(70);
      switch (rng_.below(10)) {
        case 0:
          b_.alu_imm(BPF_AND, 1, int32_t(rng_.below(uint64_t(2 * v))), is64);
          break;
        case 1:
          b_.alu_imm(BPF_RSH, 1, int32_t(rng_.below(is64 ? 64 : 32)), is64);
          break;
        case 2:
          b_.alu_imm(BPF_LSH, 1, int32_t(rng_.below(4)), is64);
          break;
        case 3:
          b_.alu_imm(BPF_ADD, 1, int32_t(rng_.below(uint64_t(2 * v))) - v, is64);
          break;
        case 4:
          b_.alu_imm(BPF_SUB, 1, int32_t(rng_.below(uint64_t(v))), is64);
          break;
        case 5:
          b_.alu_imm(BPF_MUL, 1, 1 + int32_t(rng_.below(4)), is64);
          break;
        case 6:
          b_.alu_imm(BPF_MOD, 1, 1 + int32_t(rng_.below(uint64_t(v))), is64);
          break;
        case 7:
          b_.alu_imm(BPF_DIV, 1, 1 + int32_t(rng_.below(300)), is64);
          break;
        case 8:
          b_.alu_imm(BPF_ARSH, 1, int32_t(rng_.below(is64 ? 64 : 32)), is64);
          break;
        default:
          b_.emit(
              raw(BPF_ALU64 | BPF_MOV | BPF_X, 1, 1, rng_.chance(50) ? 0 : int16_t(8 << rng_.below(3)), 0));
      }
    }
    static constexpr uint8_t kCmp[] = {BPF_JGT,  BPF_JGE,  BPF_JLT,  BPF_JLE,
                                       BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE};
    const size_t checks = rng_.below(3);
    const int size = 1 << rng_.below(4);
    if (rng_.chance(50)) {  // often a mask that fits, so that the comparisons below decide less alone
      uint32_t mask = 1;
      while (mask * 2 + 1 <= vsize - uint32_t(size)) mask = mask * 2 + 1;
      b_.alu_imm(BPF_AND, 1, int32_t(mask), rng_.chance(70));
    }
    for (size_t i = 0; i < checks; ++i) {
      // Exit when out of range: a comparison with a constant near the room left.
      const int32_t c = int32_t(vsize) - size + int32_t(rng_.below(5)) - 2;
      b_.jmp_imm(kCmp[rng_.below(std::size(kCmp))], 1, rng_.chance(20) ? -1 - int32_t(rng_.below(3)) : c,
                 skip, rng_.chance(30));
    }
    b_.alu_reg(BPF_ADD, 0, 1);
    access(0, int16_t(rng_.chance(80) ? 0 : int(rng_.below(8)) - 4), size, false);
    b_.bind(skip);
  }

  // A scalar for pointer arithmetic: r9, or the random value when one was stored.
  void variable_source(uint8_t d) {
    if (rand_written_ && rng_.chance(50)) {
      b_.ldx(8, d, 10, kRandSlot);
    } else if (!rand_written_ && fault()) {
      b_.ldx(8, d, 10, kRandSlot);  // possibly never written
    } else {
      b_.mov_reg(d, kAcc);
    }
  }

  void map_update() {
    const int m = rng_.chance(50) ? kArray : kHash;
    const int vsize = int(value_size(m));
    const int voff = -24 - vsize;
    b_.st(4, 10, -4, int32_t(rng_.below(prog_.maps[size_t(m)].max_entries + 2)));
    wrote_stack(-4, 4);
    const int missing = fault() ? int(rng_.below(uint64_t(vsize / 8))) : -1;
    for (int j = 0; j < vsize / 8; ++j) {
      if (j == missing && !stack_init(voff + 8 * j, 8)) continue;
      if (rng_.chance(50)) {
        b_.stx(8, 10, kAcc, int16_t(voff + 8 * j));
      } else {
        b_.st(8, 10, int16_t(voff + 8 * j), rng_.interesting32());
      }
      wrote_stack(voff + 8 * j, 8);
    }
    b_.ld_map(1, m);
    b_.mov_reg(2, 10);
    b_.alu_imm(BPF_ADD, 2, -4);
    b_.mov_reg(3, 10);
    b_.alu_imm(BPF_ADD, 3, voff);
    b_.mov_imm(4, int32_t(rng_.below(3)));  // BPF_ANY, BPF_NOEXIST, BPF_EXIST
    b_.call(BPF_FUNC_map_update_elem);
    b_.alu_reg(BPF_ADD, kAcc, 0);
  }

  // A stack access at a variable offset (r9 masked) from a base in the scratch area.
  void stack_var() {
    const int mask = (1 << (1 + rng_.below(5))) - 1;  // 1..31
    const int base = kScratchLo + 8 * int(rng_.below(8));
    const int size = pick_size();
    b_.mov_reg(1, kAcc);
    // Stack accesses must be aligned: the offsets keep the access size's alignment.
    b_.alu_imm(BPF_AND, 1, fault() ? mask * 4 + 3 : mask & ~(size - 1));
    b_.mov_reg(2, 10);
    b_.alu_imm(BPF_ADD, 2, base);
    b_.alu_reg(BPF_ADD, 2, 1);
    if (rng_.chance(50)) {
      b_.ldx(size, 3, 2, 0);
      b_.alu_reg(BPF_ADD, kAcc, 3);
    } else {
      b_.stx(size, 2, kAcc, 0);  // the verifier no longer knows which bytes hold what
    }
  }

  // A stack write in the scratch area, then a read (usually of written bytes).
  void stack_rw() {
    if (rng_.chance(25) && (prog_.privileged || fault())) {  // variable stack offsets need CAP_PERFMON
      stack_var();
      return;
    }
    const int size = pick_size();
    int off = kScratchLo + 8 * int(rng_.below(13)) + int(rng_.below(uint64_t(8 / size))) * size;
    if (rng_.chance(60)) {
      if (rng_.chance(70)) {
        b_.stx(size, 10, kAcc, int16_t(off));
      } else {
        b_.st(size, 10, int16_t(off), rng_.interesting32());
      }
      wrote_stack(off, size);
    }
    int rsize = pick_size();
    int roff = kScratchLo + 8 * int(rng_.below(13)) + int(rng_.below(uint64_t(8 / rsize))) * rsize;
    if (!fault()) {
      for (int tries = 0; tries < 16 && !stack_init(roff, rsize); ++tries) {
        rsize = pick_size();
        roff = kScratchLo + 8 * int(rng_.below(13)) + int(rng_.below(uint64_t(8 / rsize))) * rsize;
      }
    }
    if (fault() && rng_.chance(50)) roff += 1 + int(rng_.below(3));  // misaligned
    b_.ldx(rsize, 1, 10, int16_t(roff));
    b_.alu_reg(BPF_ADD, kAcc, 1);
  }

  void alu() {
    static constexpr uint8_t kOps[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV,  BPF_MOD, BPF_OR, BPF_AND,
                                       BPF_XOR, BPF_LSH, BPF_RSH, BPF_ARSH, BPF_NEG, BPF_MOV};
    const uint8_t op = kOps[rng_.below(std::size(kOps))];
    const bool is64 = rng_.chance(70);
    if (op == BPF_NEG) {
      b_.alu_imm(op, kAcc, 0, is64);
      return;
    }
    if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) {
      int32_t shift = int32_t(rng_.below(is64 ? 64 : 32));
      if (fault()) shift = is64 ? 64 + int32_t(rng_.below(8)) : 32 + int32_t(rng_.below(8));
      b_.alu_imm(op, kAcc, shift, is64);
      return;
    }
    if (rng_.chance(50)) {
      b_.alu_imm(op, kAcc, rng_.interesting32(), is64);
    } else {
      b_.emit(raw(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, int32_t(uint32_t(rng_.next()))));
      b_.emit(raw(0, 0, 0, 0, int32_t(uint32_t(rng_.interesting64() >> 32))));
      b_.alu_reg(op, kAcc, 1, is64);
    }
  }

  void loop() {
    const int top = b_.label();
    const int32_t n = 1 + int32_t(rng_.below(16));
    const int32_t step = 1 + int32_t(rng_.below(2));
    b_.mov_imm(1, 0);
    b_.bind(top);
    b_.alu_reg(BPF_ADD, kAcc, 1);
    b_.alu_imm(BPF_XOR, kAcc, rng_.interesting32());
    b_.alu_imm(BPF_ADD, 1, step);
    if (fault()) {
      b_.jmp_imm(BPF_JNE, 1, n, top);  // may step over n: never ends
    } else {
      b_.jmp_imm(BPF_JLT, 1, n, top);
    }
  }

  void random_helper() {
    b_.call(rng_.chance(50) ? BPF_FUNC_get_prandom_u32 : BPF_FUNC_ktime_get_ns);
    b_.alu_imm(BPF_AND, 0, int32_t((1u << rng_.below(7)) - 1));
    b_.stx(8, 10, 0, kRandSlot);
    wrote_stack(kRandSlot, 8);
    if (cond_depth_ == 0) rand_written_ = true;
    prog_.deterministic = false;
  }

  void bpf_loop() {
    used_cb_ = true;
    b_.stx(8, 10, kAcc, kLoopCtx);
    wrote_stack(kLoopCtx, 8);
    b_.mov_imm(1, int32_t(rng_.below(6)));
    b_.ld_func(2, cb_);
    if (fault()) {
      b_.mov_imm(3, 0);
    } else {
      b_.mov_reg(3, 10);
      b_.alu_imm(BPF_ADD, 3, kLoopCtx);
    }
    b_.mov_imm(4, 0);
    b_.call(BPF_FUNC_loop);
    b_.alu_reg(BPF_ADD, kAcc, 0);
    b_.ldx(8, 1, 10, kLoopCtx);
    b_.alu_reg(BPF_XOR, kAcc, 1);
  }

  void callback_fn() {
    b_.bind(cb_);
    b_.ldx(8, 3, 2, 0);
    b_.alu_reg(BPF_ADD, 3, 1);
    b_.alu_imm(BPF_MUL, 3, 3);
    b_.stx(8, 2, 3, 0);
    b_.mov_imm(0, fault() ? 2 + int32_t(rng_.below(3)) : int32_t(rng_.below(2)));
    b_.exit();
  }

  void ringbuf() {
    const int skip = b_.label();
    const int size = 8 * (1 + int(rng_.below(8)));
    b_.ld_map(1, kRingbuf);
    b_.mov_imm(2, size);
    b_.mov_imm(3, 0);
    b_.call(BPF_FUNC_ringbuf_reserve);
    if (!fault()) b_.jmp_imm(BPF_JEQ, 0, 0, skip);
    int off = 8 * int(rng_.below(uint64_t(size / 8)));
    if (fault()) off = size + 8 * int(rng_.below(2)) - (rng_.chance(50) ? 4 : 0);
    b_.stx(8, 0, kAcc, int16_t(off));
    if (!fault()) {
      b_.mov_reg(1, 0);
      b_.mov_imm(2, 0);
      b_.call(rng_.chance(70) ? BPF_FUNC_ringbuf_submit : BPF_FUNC_ringbuf_discard);
    }
    b_.bind(skip);
  }

  void call_scalar() {
    used_sub_scalar_ = true;
    int slot = kScratchLo + 8 * int(rng_.below(13));
    if (!stack_init(slot, 8) && !fault()) {
      b_.stx(8, 10, kAcc, int16_t(slot));
      wrote_stack(slot, 8);
    }
    b_.mov_reg(1, kAcc);
    b_.mov_reg(2, 10);
    b_.alu_imm(BPF_ADD, 2, slot);
    b_.call_local(sub_scalar_);
    b_.alu_reg(BPF_ADD, kAcc, 0);
  }

  void sub_scalar_fn() {
    b_.bind(sub_scalar_);
    b_.ldx(8, 0, 2, 0);
    b_.alu_reg(BPF_ADD, 0, 1);
    b_.stx(8, 10, 0, -8);
    b_.ldx(8, 3, 10, -8);
    b_.alu_imm(BPF_MUL, 3, 7);
    b_.alu_reg(BPF_XOR, 0, 3);
    b_.stx(8, 2, 0, 0);  // writes the caller's slot
    b_.exit();
  }

  void call_pkt() {
    used_sub_pkt_ = true;
    b_.mov_reg(1, kData);
    b_.mov_reg(2, kEnd);
    b_.call_local(sub_pkt_);
    b_.alu_reg(BPF_ADD, kAcc, 0);
  }

  void sub_pkt_fn() {
    b_.bind(sub_pkt_);
    const int out = b_.label();
    const int n = 1 + int(rng_.below(32));
    b_.mov_reg(3, 1);
    b_.alu_imm(BPF_ADD, 3, n);
    b_.jmp_reg(BPF_JGT, 3, 2, out);
    int off = int(rng_.below(uint64_t(n)));
    if (fault()) off = n;
    b_.ldx(1, 0, 1, int16_t(off));
    b_.exit();
    b_.bind(out);
    b_.mov_imm(0, 0);
    b_.exit();
  }

  void ctx_access() {
    int off = 0, size = 4;
    bool write = false;
    if (prog_.prog_type == BPF_PROG_TYPE_XDP) {
      off = rng_.chance(50) ? int(offsetof(xdp_md, ingress_ifindex)) : int(offsetof(xdp_md, rx_queue_index));
    } else {
      static constexpr int kFields[] = {
          int(offsetof(__sk_buff, len)),      int(offsetof(__sk_buff, mark)),
          int(offsetof(__sk_buff, priority)), int(offsetof(__sk_buff, protocol)),
          int(offsetof(__sk_buff, ifindex)),  int(offsetof(__sk_buff, cb))};
      off = kFields[rng_.below(std::size(kFields))];
      if (off == int(offsetof(__sk_buff, cb))) off += 4 * int(rng_.below(5));
      const bool writable = off >= int(offsetof(__sk_buff, cb)) && off < int(offsetof(__sk_buff, hash));
      const bool tc_writable =
          prog_.prog_type == BPF_PROG_TYPE_SCHED_CLS &&
          (off == int(offsetof(__sk_buff, mark)) || off == int(offsetof(__sk_buff, priority)));
      write = (writable || tc_writable) && rng_.chance(40);
    }
    if (rng_.chance(20)) size = rng_.chance(50) ? 1 : 2;
    if (fault()) {
      off = int(rng_.below(200));
      size = pick_size();
      write = rng_.chance(30);
    }
    if (write) {
      b_.stx(size, kCtx, kAcc, int16_t(off));
    } else {
      b_.ldx(size, 1, kCtx, int16_t(off));
      b_.alu_reg(BPF_ADD, kAcc, 1);
    }
  }

  Rng rng_;
  SoundnessGenOptions opt_;
  SoundProgram prog_;
  Builder b_;
  bool packet_ = false;
  int cond_depth_ = 0;
  std::bitset<512> init_;
  bool rand_written_ = false;
  int cb_ = -1, sub_scalar_ = -1, sub_pkt_ = -1;
  bool used_cb_ = false, used_sub_scalar_ = false, used_sub_pkt_ = false;
};

bool is_jump(const RawInsn& r) {
  const uint8_t cls = r.opcode & 0x07;
  const uint8_t op = r.opcode & 0xf0;
  return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

}  // namespace

SoundProgram generate_sound_program(uint64_t seed, const SoundnessGenOptions& options) {
  return Generator(seed, options).run();
}

std::string mutate_sound_program(SoundProgram& program, Rng& rng) {
  auto& insns = program.insns;
  if (insns.empty()) return "nothing to mutate";
  size_t i = rng.below(insns.size());
  // Prefer the first slot of an lddw over its second, but not always.
  if (i > 0 && insns[i - 1].opcode == (BPF_LD | BPF_IMM | BPF_DW) && rng.chance(80)) --i;
  RawInsn& r = insns[i];
  const std::string at = "insn " + std::to_string(i) + ": ";
  const uint8_t cls = r.opcode & 0x07;
  switch (rng.below(8)) {
    case 0: {
      const int delta = rng.chance(80) ? int(rng.below(17)) - 8 : int(rng.interesting32());
      r.off = int16_t(r.off + delta);
      return at + "off += " + std::to_string(delta);
    }
    case 1:
      if (rng.chance(50)) {
        const int delta = int(rng.below(17)) - 8;
        r.imm += delta;
        return at + "imm += " + std::to_string(delta);
      }
      r.imm = rng.interesting32();
      return at + "imm = " + std::to_string(r.imm);
    case 2:
      r.dst = uint8_t(rng.below(11));
      return at + "dst = r" + std::to_string(r.dst);
    case 3:
      r.src = uint8_t(rng.below(11));
      return at + "src = r" + std::to_string(r.src);
    case 4: {
      const uint8_t before = r.opcode;
      if (cls == BPF_LDX || cls == BPF_STX || cls == BPF_ST) {
        r.opcode = uint8_t((r.opcode & ~0x18) | (rng.below(4) << 3));  // another access size
      } else if (cls == BPF_JMP || cls == BPF_JMP32) {
        if (is_jump(r) && rng.chance(70)) {
          static constexpr uint8_t kOps[] = {BPF_JEQ,  BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
                                             BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE};
          r.opcode = uint8_t((r.opcode & 0x0f) | kOps[rng.below(std::size(kOps))]);
        } else {
          r.opcode ^= BPF_JMP ^ BPF_JMP32;
        }
      } else if (cls == BPF_ALU || cls == BPF_ALU64) {
        if (rng.chance(40)) {
          r.opcode ^= BPF_X;
        } else if (rng.chance(50)) {
          r.opcode ^= BPF_ALU ^ BPF_ALU64;
        } else {
          r.opcode = uint8_t((r.opcode & 0x0f) | (rng.below(14) << 4));
        }
      } else {
        r.opcode = uint8_t(rng.next());
      }
      char buf[64];
      std::snprintf(buf, sizeof buf, "opcode 0x%02x -> 0x%02x", before, r.opcode);
      return at + buf;
    }
    case 5:
      if (is_jump(r)) {
        const int delta = rng.chance(50) ? 1 : -1;
        r.off = int16_t(r.off + delta);
        return at + "jump target " + (delta > 0 ? "+1" : "-1");
      }
      r.off = int16_t(r.off + 8 * (rng.chance(50) ? 1 : -1));
      return at + "off +/- 8";
    case 6:
      r = raw(BPF_JMP | BPF_JA, 0, 0, 0, 0);  // dropped: a null check, a bounds check, a store...
      return at + "replaced by goto +0";
    default:
      if (i + 1 < insns.size()) {
        std::swap(insns[i], insns[i + 1]);
        return at + "swapped with the next";
      }
      r.imm ^= 1;
      return at + "imm ^= 1";
  }
}

verifier::VerifyResult verify_sound_program(const SoundProgram& program, uint32_t log_level) {
  verifier::VerifyInput in;
  in.insns = program.insns;
  in.prog_type = program.prog_type;
  in.maps = program.maps;
  in.privileged = program.privileged;
  in.program_name = "sound_" + std::to_string(program.seed);
  in.helpers = &helpers::runtime_helpers();
  verifier::VerifyOptions opt;
  opt.log_level = log_level;
  opt.insn_limit = 200'000;  // small programs: a long analysis is itself worth a look, not a hang
  return verifier::verify_program(in, opt);
}

std::vector<SoundInput> sound_inputs(Rng& rng, size_t count) {
  std::vector<SoundInput> out(count);
  for (size_t i = 0; i < count; ++i) {
    SoundInput& in = out[i];
    // Test runs need an Ethernet header (14 bytes). Lengths gather where the programs'
    // bounds checks (1..64 bytes) sit, so that one off by one meets a packet that ends there.
    static constexpr uint64_t kSpread[] = {51, 9, 100};
    const size_t len = 14 + rng.below(kSpread[i % 3]);
    in.packet.resize(len);
    for (uint8_t& byte : in.packet) byte = uint8_t(rng.next());
  }
  return out;
}

}  // namespace bpfkit::testgen
