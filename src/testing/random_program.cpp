#include "testing/random_program.h"

#include <algorithm>
#include <limits>
#include <string>
#include <variant>

#include "base/error.h"
#include "isa/codec.h"
#include "isa/opcodes.h"

namespace bpfkit::testgen {

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Rng::interesting64() {
  switch (below(10)) {
    case 0: return below(33) - 16;  // small, around zero
    case 1: return uint64_t(1) << below(64);
    case 2: return (uint64_t(1) << below(64)) - 1;
    case 3: {
      static constexpr uint64_t kEdges[] = {
          0, 1, ~0ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0x7fffffff, 0x80000000,
          0xffffffff, 0x100000000ull, 0xffffffff80000000ull, 0xff, 0xffff, 0x8000, 0x80};
      return kEdges[below(std::size(kEdges))];
    }
    case 4: return uint64_t(int64_t(int32_t(uint32_t(next()))));  // sign-extended 32-bit
    case 5: return uint32_t(next());
    default: return next();
  }
}

int32_t Rng::interesting32() {
  switch (below(6)) {
    case 0: return int32_t(below(33)) - 16;
    case 1: return int32_t(uint32_t(1) << below(32));
    case 2: {
      static constexpr int32_t kEdges[] = {0, 1, -1, std::numeric_limits<int32_t>::max(),
                                           std::numeric_limits<int32_t>::min(), 0xff, 0xffff, 0x7fff,
                                           -0x8000, 31, 32, 63, 64};
      return kEdges[below(std::size(kEdges))];
    }
    default: return int32_t(uint32_t(next()));
  }
}

namespace {

using namespace isa;

constexpr uint8_t kMemBase = 9;  // holds the memory pointer (r1 at entry)

// One instruction of a function under construction. Jumps name their target as an
// item index of the same function (the index one past the body means the fold
// block at the end); calls name the subprogram.
struct Item {
  Instruction insn;
  int jump_target = -1;
  bool calls_subprogram = false;
  bool can_be_target = true;  // false inside the call + register reload group
};

struct Function {
  std::vector<Item> head;  // register and stack setup
  std::vector<Item> body;  // random; jumps target body items or the tail
  std::vector<Item> tail;  // fold everything into r0, exit
};

class Generator {
 public:
  Generator(uint64_t seed, const RandomProgramOptions& options) : rng_(seed), opt_(options) {
    if (opt_.stack_bytes % 8 != 0 || opt_.stack_bytes > 256) {
      throw Error("random program: stack_bytes must be a multiple of 8 and at most 256, not " +
                  std::to_string(opt_.stack_bytes));
    }
    if (opt_.mem_len > std::numeric_limits<int16_t>::max()) {
      throw Error("random program: mem_len " + std::to_string(opt_.mem_len) + " is too large");
    }
  }

  RandomProgram generate(uint64_t seed) {
    RandomProgram out;
    out.seed = seed;
    out.memory.resize(opt_.mem_len);
    for (uint8_t& b : out.memory) b = uint8_t(rng_.next());

    Function main_fn = make_function(/*is_main=*/true, opt_.length, opt_.subprogram);
    // The kernel refuses unreachable code: a subprogram only when something calls it.
    const bool calls = std::any_of(main_fn.body.begin(), main_fn.body.end(),
                                   [](const Item& item) { return item.calls_subprogram; });
    std::vector<Function> functions{std::move(main_fn)};
    if (calls) functions.push_back(make_function(/*is_main=*/false, opt_.subprogram_length, false));
    out.insns = layout(functions);
    return out;
  }

 private:
  Rng rng_;
  RandomProgramOptions opt_;
  std::vector<uint8_t> regs_;  // registers the current function may read and write

  uint8_t reg() { return regs_[rng_.below(regs_.size())]; }

  // ---- instruction makers -------------------------------------------------

  Item alu() {
    static constexpr AluOp kOps[] = {AluOp::Add, AluOp::Sub, AluOp::Mul, AluOp::Div,  AluOp::SDiv,
                                     AluOp::Or,  AluOp::And, AluOp::Lsh, AluOp::Rsh,  AluOp::Mod,
                                     AluOp::SMod, AluOp::Xor, AluOp::Mov, AluOp::Arsh};
    Alu a;
    a.op = kOps[rng_.below(std::size(kOps))];
    a.is64 = rng_.chance(55);
    a.dst = reg();
    if (rng_.chance(50)) {
      a.src = Operand::Reg(reg());
    } else {
      int32_t imm = rng_.interesting32();
      const int width = a.is64 ? 64 : 32;
      switch (a.op) {
        case AluOp::Lsh:
        case AluOp::Rsh:
        case AluOp::Arsh:
          // The kernel refuses immediate shifts by the width or more.
          imm = int32_t(rng_.below(width));
          break;
        case AluOp::Div:
        case AluOp::SDiv:
        case AluOp::Mod:
        case AluOp::SMod:
          // ... and immediate division by zero.
          if (imm == 0) imm = rng_.chance(50) ? -1 : 3;
          break;
        default:
          break;
      }
      a.src = Operand::Imm(imm);
    }
    return {a};
  }

  Item movsx() {
    Alu a;
    a.is64 = rng_.chance(60);
    const AluOp ops64[] = {AluOp::MovSx8, AluOp::MovSx16, AluOp::MovSx32};
    const AluOp ops32[] = {AluOp::MovSx8, AluOp::MovSx16};
    a.op = a.is64 ? ops64[rng_.below(3)] : ops32[rng_.below(2)];
    a.dst = reg();
    a.src = Operand::Reg(reg());
    return {a};
  }

  Item neg() { return {Neg{rng_.chance(50), reg()}}; }

  Item endian() {
    static constexpr EndianKind kKinds[] = {EndianKind::ToLe, EndianKind::ToBe, EndianKind::Swap};
    static constexpr uint8_t kBits[] = {16, 32, 64};
    return {Endian{kKinds[rng_.below(3)], kBits[rng_.below(3)], reg()}};
  }

  Item lddw(uint8_t dst) { return {LoadImm64::Imm(dst, rng_.interesting64())}; }

  Item jump(int self, int body_len) {
    static constexpr JmpCond kConds[] = {JmpCond::Eq, JmpCond::Gt, JmpCond::Ge,  JmpCond::Set,
                                         JmpCond::Ne, JmpCond::Sgt, JmpCond::Sge, JmpCond::Lt,
                                         JmpCond::Le, JmpCond::Slt, JmpCond::Sle};
    Jump j;
    if (rng_.chance(5)) {
      // may_goto: falls through until the run's budget (millions) is spent, so never jumps here.
      j.cond = JmpCond::MayGoto;
      j.src = Operand::Imm(0);
    } else {
      j.cond = kConds[rng_.below(std::size(kConds))];
      j.is32 = rng_.chance(40);
      j.dst = reg();
      j.src = rng_.chance(50) ? Operand::Reg(reg()) : Operand::Imm(rng_.interesting32());
    }
    // Mostly short hops forward, sometimes straight to the end.
    int target = rng_.chance(15) ? body_len : self + 1 + int(rng_.below(12));
    Item item{j};
    item.jump_target = std::min(target, body_len);
    return item;
  }

  // One instruction that never needs company: no jumps, calls or memory.
  Item simple() {
    switch (rng_.below(8)) {
      case 0: return movsx();
      case 1: return neg();
      case 2: return endian();
      case 3: return stack_store();
      case 4: return stack_load();
      default: return alu();
    }
  }

  uint8_t access_size() { return uint8_t(1u << rng_.below(4)); }

  int16_t stack_offset(uint8_t size) {
    // Aligned (the kernel insists on the stack), inside [r10 - stack_bytes, r10).
    size_t slots = opt_.stack_bytes / size;
    return int16_t(-int64_t(size) * int64_t(1 + rng_.below(slots)));
  }

  Item stack_store() {
    Store s;
    s.size = access_size();
    s.base = kFramePointer;
    s.off = stack_offset(s.size);
    s.value = rng_.chance(60) ? Operand::Reg(reg()) : Operand::Imm(rng_.interesting32());
    s.release = !s.value.is_imm && rng_.chance(10);  // store-release (stack only: the kernel
    return {s};                                      // refuses it on packet memory)
  }

  Item stack_load() {
    Load l;
    l.size = access_size();
    l.sign_extend = l.size != 8 && rng_.chance(30);
    l.acquire = !l.sign_extend && rng_.chance(10);  // load-acquire
    l.dst = reg();
    l.base = kFramePointer;
    l.off = stack_offset(l.size);
    return {l};
  }

  Item atomic() {
    static constexpr AtomicOp kOps[] = {AtomicOp::Add, AtomicOp::Or,   AtomicOp::And,
                                        AtomicOp::Xor, AtomicOp::Xchg, AtomicOp::CmpXchg};
    Atomic a;
    a.op = kOps[rng_.below(std::size(kOps))];
    a.fetch = a.op == AtomicOp::Xchg || a.op == AtomicOp::CmpXchg || rng_.chance(50);
    a.size = rng_.chance(50) ? 4 : 8;
    a.base = kFramePointer;
    a.off = stack_offset(a.size);
    a.src = reg();
    return {a};
  }

  int16_t memory_offset(uint8_t size) { return int16_t(rng_.below(opt_.mem_len - size + 1)); }

  Item memory_load() {
    Load l;
    do l.size = access_size();
    while (l.size > opt_.mem_len);
    l.sign_extend = l.size != 8 && rng_.chance(30);
    l.dst = reg();
    l.base = kMemBase;
    l.off = memory_offset(l.size);
    return {l};
  }

  Item memory_store() {
    Store s;
    do s.size = access_size();
    while (s.size > opt_.mem_len);
    s.base = kMemBase;
    s.off = memory_offset(s.size);
    s.value = rng_.chance(60) ? Operand::Reg(reg()) : Operand::Imm(rng_.interesting32());
    return {s};
  }

  // ---- functions ---------------------------------------------------------

  Function make_function(bool is_main, size_t length, bool with_calls) {
    Function f;
    if (is_main) {
      regs_ = {0, 1, 2, 3, 4, 5, 6, 7, 8};
      f.head.push_back({Alu{AluOp::Mov, true, kMemBase, Operand::Reg(1)}});
      for (uint8_t r : regs_) f.head.push_back(lddw(r));
    } else {
      // Arguments r1-r5 arrive initialised; r0 and r6-r9 do not.
      regs_ = {0, 1, 2, 3, 4, 5};
      f.head.push_back(lddw(0));
    }
    for (size_t off = 8; off <= opt_.stack_bytes; off += 8) {
      Store s{8, kFramePointer, int16_t(-int64_t(off)),
              rng_.chance(50) ? Operand::Reg(reg()) : Operand::Imm(rng_.interesting32())};
      f.head.push_back({s});
    }

    const bool memory = is_main && opt_.mem_len > 0;
    const int body_len_hint = int(length);
    while (f.body.size() < length) {
      int self = int(f.body.size());
      unsigned pick = unsigned(rng_.below(100));
      if (pick < 34) {
        f.body.push_back(alu());
      } else if (pick < 37) {
        f.body.push_back(movsx());
      } else if (pick < 39) {
        f.body.push_back(neg());
      } else if (pick < 43) {
        f.body.push_back(endian());
      } else if (pick < 46) {
        f.body.push_back(lddw(reg()));
      } else if (pick < 58) {
        f.body.push_back(jump(self, body_len_hint));
      } else if (pick < 65) {
        f.body.push_back(stack_store());
      } else if (pick < 72) {
        f.body.push_back(stack_load());
      } else if (pick < 78) {
        Item item = atomic();
        const Atomic a = std::get<Atomic>(item.insn);
        if (opt_.kernel_workarounds && a.fetch) {
          // Make the slot unknown to the verifier first (see the header): rK = 0,
          // then a non-fetching 8-byte add of rK to the slot. Nothing may jump
          // past this and land on the fetch.
          const uint8_t k = reg();
          const int16_t slot = int16_t(-((-int(a.off) + 7) / 8 * 8));
          f.body.push_back({Alu{AluOp::Mov, true, k, Operand::Imm(0)}});
          Item unknown{Atomic{AtomicOp::Add, false, 8, kFramePointer, slot, k}};
          unknown.can_be_target = false;
          f.body.push_back(unknown);
          item.can_be_target = false;
        }
        f.body.push_back(item);
        if (opt_.kernel_workarounds && a.op == AtomicOp::CmpXchg && a.size == 4) {
          f.body.push_back({Alu{AluOp::Mov, false, 0, Operand::Reg(0)}});
        }
      } else if (pick < 85) {
        if (memory) f.body.push_back(memory_load());
      } else if (pick < 90) {
        if (memory) f.body.push_back(memory_store());
      } else if (pick < 92) {
        // `if (cond) goto else; <then>; goto end; else: <else>; end:`, the only
        // place for an unconditional goto (or gotol): it must skip only code that
        // something else reaches. Only when it fits, so that no target inside it
        // is moved to the end.
        const size_t then_len = 1 + rng_.below(4), else_len = 1 + rng_.below(4);
        if (f.body.size() + then_len + else_len + 2 <= length) {
          const int start = int(f.body.size());
          const int else_start = start + 1 + int(then_len) + 1;
          Item cond = jump(start, body_len_hint);
          cond.jump_target = else_start;
          f.body.push_back(cond);
          for (size_t k = 0; k < then_len; ++k) f.body.push_back(simple());
          Item over{Ja{0, rng_.chance(20)}};
          over.jump_target = else_start + int(else_len);
          f.body.push_back(over);
          for (size_t k = 0; k < else_len; ++k) f.body.push_back(simple());
        }
      } else if (pick < 94) {
        if (with_calls && f.body.size() + 6 <= length) {
          // After a call r1-r5 are unreadable: reload them before anything can
          // jump in between.
          Item call{Call{CallKind::Local, 0}};
          call.calls_subprogram = true;
          f.body.push_back(call);
          for (uint8_t r = 1; r <= 5; ++r) {
            Item reload = lddw(r);
            reload.can_be_target = false;
            f.body.push_back(reload);
          }
        }
      } else {
        f.body.push_back(alu());
      }
    }
    // Jumps were drawn against the requested length; the body may be one group longer.
    const int body_len = int(f.body.size());
    for (int i = 0; i < body_len; ++i) {
      Item& item = f.body[i];
      if (item.jump_target < 0) continue;
      int t = item.jump_target >= body_len_hint ? body_len : std::min(item.jump_target, body_len);
      while (t < body_len && !f.body[t].can_be_target) ++t;
      item.jump_target = t;
    }

    // Fold: r0 = r0 * K ^ reg, for every register, then for every stack slot.
    auto mix_in = [&](uint8_t r) {
      f.tail.push_back({Alu{AluOp::Mul, true, 0, Operand::Imm(0x01000193)}});
      f.tail.push_back({Alu{AluOp::Xor, true, 0, Operand::Reg(r)}});
    };
    for (uint8_t r : regs_) {
      if (r != 0) mix_in(r);
    }
    for (size_t off = 8; off <= opt_.stack_bytes; off += 8) {
      f.tail.push_back({Load{8, false, 1, kFramePointer, int16_t(-int64_t(off))}});
      mix_in(1);
    }
    f.tail.push_back({Exit{}});
    return f;
  }

  // Places the functions one after the other and resolves jumps and calls.
  std::vector<RawInsn> layout(const std::vector<Function>& functions) {
    std::vector<std::vector<uint32_t>> slot_of(functions.size());
    std::vector<uint32_t> fn_start(functions.size());
    uint32_t slot = 0;
    for (size_t fi = 0; fi < functions.size(); ++fi) {
      fn_start[fi] = slot;
      const Function& f = functions[fi];
      for (const auto* part : {&f.head, &f.body, &f.tail}) {
        for (const Item& item : *part) {
          slot_of[fi].push_back(slot);
          slot += uint32_t(slot_count(item.insn));
        }
      }
    }

    std::vector<RawInsn> out;
    for (size_t fi = 0; fi < functions.size(); ++fi) {
      const Function& f = functions[fi];
      size_t index = 0;
      for (const auto* part : {&f.head, &f.body, &f.tail}) {
        for (const Item& item : *part) {
          Instruction insn = item.insn;
          const int64_t here = slot_of[fi][index];
          if (item.jump_target >= 0) {
            // Body items are numbered after the head; the tail starts at head + body.
            int64_t target = slot_of[fi][f.head.size() + size_t(item.jump_target)];
            if (auto* j = std::get_if<Jump>(&insn)) j->off = int16_t(target - here - 1);
            if (auto* j = std::get_if<Ja>(&insn)) j->off = int32_t(target - here - 1);
          }
          if (item.calls_subprogram) std::get<Call>(insn).imm = int32_t(int64_t(fn_start[1]) - here - 1);
          encode_insn(insn, out);
          ++index;
        }
      }
    }
    return out;
  }
};

}  // namespace

RandomProgram generate_random_program(uint64_t seed, const RandomProgramOptions& options) {
  return Generator(seed, options).generate(seed);
}

}  // namespace bpfkit::testgen
