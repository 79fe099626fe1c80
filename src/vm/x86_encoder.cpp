#include "vm/x86_encoder.h"

#include <stdexcept>
#include <string>

namespace bpfkit::vm::x86 {
namespace {

uint8_t num(Reg r) { return uint8_t(r); }

bool fits8(int64_t v) { return v >= -128 && v <= 127; }

// Which prefixes an instruction needs: REX.W, the 0x66 operand-size prefix, and
// whether its ModRM.reg / ModRM.rm operands are 8-bit registers (spl, bpl, sil
// and dil exist only with a REX prefix; without one the same numbers mean ah..bh).
struct Enc {
  bool w = false;
  bool p66 = false;
  bool byte_reg = false;
  bool byte_rm = false;
};

Enc sized(int size) { return {size == 8, size == 2, size == 1, size == 1}; }

void check_size(int size, bool allow8bit = true) {
  if (size != 2 && size != 4 && size != 8 && !(allow8bit && size == 1))
    throw std::invalid_argument("x86 encoder: unsupported operand size " + std::to_string(size));
}

}  // namespace

Label Assembler::new_label() {
  labels_.push_back(-1);
  return Label(uint32_t(labels_.size() - 1));
}

void Assembler::bind(Label label) {
  if (!label.valid() || label.id_ >= labels_.size() || labels_[label.id_] >= 0)
    throw std::logic_error("x86 encoder: label bound twice or invalid");
  labels_[label.id_] = int64_t(code_.size());
}

bool Assembler::bound(Label label) const { return label.valid() && labels_.at(label.id_) >= 0; }

size_t Assembler::offset(Label label) const {
  if (!bound(label)) throw std::logic_error("x86 encoder: offset of an unbound label");
  return size_t(labels_[label.id_]);
}

void Assembler::imm(int size, int64_t value) {
  for (int i = 0; i < size; ++i) byte(uint8_t(uint64_t(value) >> (8 * i)));
}

void Assembler::op_rm(int size, std::initializer_list<uint8_t> opcode, uint8_t reg, bool rm_is_reg,
                      Reg rm_reg, Mem mem, bool byte_regs, bool reg_is_register) {
  // `size` here only carries the 0x66 and REX.W choice; callers with other needs use the flags.
  Enc e = sized(size);
  e.byte_reg = e.byte_reg && byte_regs && reg_is_register;
  e.byte_rm = e.byte_rm && byte_regs;
  if (e.p66) byte(0x66);
  const uint8_t rm = rm_is_reg ? num(rm_reg) : num(mem.base);
  uint8_t rex = 0;
  if (e.w) rex |= 0x08;
  if (reg & 8) rex |= 0x04;
  if (rm & 8) rex |= 0x01;
  const bool force = (e.byte_reg && reg >= 4 && reg <= 7) || (e.byte_rm && rm_is_reg && rm >= 4 && rm <= 7);
  if (rex || force) byte(0x40 | rex);
  for (uint8_t op : opcode) byte(op);
  if (rm_is_reg) {
    byte(uint8_t(0xc0 | (reg & 7) << 3 | (rm & 7)));
    return;
  }
  // rsp/r12 as a base need a SIB byte; rbp/r13 with mod 00 would mean RIP-relative/disp32.
  const uint8_t base = rm & 7;
  uint8_t mod = 2;
  if (mem.disp == 0 && base != 5)
    mod = 0;
  else if (fits8(mem.disp))
    mod = 1;
  byte(uint8_t(mod << 6 | (reg & 7) << 3 | base));
  if (base == 4) byte(0x24);
  if (mod == 1)
    imm(1, mem.disp);
  else if (mod == 2)
    imm(4, mem.disp);
}

// --- moves ---

void Assembler::mov(int size, Reg dst, Reg src) {
  check_size(size);
  op_reg(size, {uint8_t(size == 1 ? 0x88 : 0x89)}, num(src), dst);
}

void Assembler::mov(int size, Reg dst, Mem src) {
  check_size(size);
  op_mem(size, {uint8_t(size == 1 ? 0x8a : 0x8b)}, num(dst), src);
}

void Assembler::mov(int size, Mem dst, Reg src) {
  check_size(size);
  op_mem(size, {uint8_t(size == 1 ? 0x88 : 0x89)}, num(src), dst);
}

void Assembler::mov(int size, Mem dst, int32_t value) {
  check_size(size);
  op_mem(size, {uint8_t(size == 1 ? 0xc6 : 0xc7)}, 0, dst, true, false);
  imm(size == 8 ? 4 : size, value);
}

void Assembler::mov32(Reg dst, uint32_t value) {
  if (num(dst) & 8) byte(0x41);
  byte(uint8_t(0xb8 + (num(dst) & 7)));
  imm(4, value);
}

void Assembler::mov64(Reg dst, int32_t value) {
  op_reg(8, {0xc7}, 0, dst, true, false);
  imm(4, value);
}

void Assembler::movabs(Reg dst, uint64_t value) {
  byte(uint8_t(0x48 | (num(dst) >> 3)));
  byte(uint8_t(0xb8 + (num(dst) & 7)));
  imm(8, int64_t(value));
}

void Assembler::movzx(int src_size, Reg dst, Reg src) {
  if (src_size != 1 && src_size != 2) throw std::invalid_argument("x86 encoder: movzx from 1 or 2 bytes");
  // The 32-bit destination needs no prefix; an 8-bit source register may need REX.
  const uint8_t rm = num(src);
  uint8_t rex = uint8_t((num(dst) & 8) >> 1 | (rm & 8) >> 3);
  if (rex || (src_size == 1 && rm >= 4 && rm <= 7)) byte(0x40 | rex);
  byte(0x0f);
  byte(src_size == 1 ? 0xb6 : 0xb7);
  byte(uint8_t(0xc0 | (num(dst) & 7) << 3 | (rm & 7)));
}

void Assembler::movzx(int src_size, Reg dst, Mem src) {
  if (src_size != 1 && src_size != 2) throw std::invalid_argument("x86 encoder: movzx from 1 or 2 bytes");
  op_mem(4, {0x0f, uint8_t(src_size == 1 ? 0xb6 : 0xb7)}, num(dst), src);
}

void Assembler::movsx(int dst_size, int src_size, Reg dst, Reg src) {
  if ((dst_size != 4 && dst_size != 8) || (src_size != 1 && src_size != 2 && src_size != 4) ||
      src_size >= dst_size)
    throw std::invalid_argument("x86 encoder: unsupported movsx sizes");
  if (src_size == 4) {
    op_reg(8, {0x63}, num(dst), src);
    return;
  }
  const uint8_t rm = num(src);
  uint8_t rex = uint8_t((dst_size == 8 ? 0x08 : 0) | (num(dst) & 8) >> 1 | (rm & 8) >> 3);
  if (rex || (src_size == 1 && rm >= 4 && rm <= 7)) byte(0x40 | rex);
  byte(0x0f);
  byte(src_size == 1 ? 0xbe : 0xbf);
  byte(uint8_t(0xc0 | (num(dst) & 7) << 3 | (rm & 7)));
}

void Assembler::movsx(int dst_size, int src_size, Reg dst, Mem src) {
  if ((dst_size != 4 && dst_size != 8) || (src_size != 1 && src_size != 2 && src_size != 4) ||
      src_size >= dst_size)
    throw std::invalid_argument("x86 encoder: unsupported movsx sizes");
  if (src_size == 4)
    op_mem(8, {0x63}, num(dst), src);
  else
    op_mem(dst_size, {0x0f, uint8_t(src_size == 1 ? 0xbe : 0xbf)}, num(dst), src);
}

void Assembler::lea(Reg dst, Mem src) { op_mem(8, {0x8d}, num(dst), src); }

// --- arithmetic ---

void Assembler::alu(AluOp op, int size, Reg dst, Reg src) {
  check_size(size);
  op_reg(size, {uint8_t(uint8_t(op) * 8 + (size == 1 ? 0 : 1))}, num(src), dst);
}

void Assembler::alu(AluOp op, int size, Reg dst, int32_t value) {
  check_size(size);
  if (size == 1) {
    op_reg(1, {0x80}, uint8_t(op), dst, true, false);
    imm(1, value);
  } else if (fits8(value)) {
    op_reg(size, {0x83}, uint8_t(op), dst, true, false);
    imm(1, value);
  } else {
    op_reg(size, {0x81}, uint8_t(op), dst, true, false);
    imm(size == 2 ? 2 : 4, value);
  }
}

void Assembler::alu(AluOp op, int size, Reg dst, Mem src) {
  check_size(size);
  op_mem(size, {uint8_t(uint8_t(op) * 8 + (size == 1 ? 2 : 3))}, num(dst), src);
}

void Assembler::alu(AluOp op, int size, Mem dst, Reg src) {
  check_size(size);
  op_mem(size, {uint8_t(uint8_t(op) * 8 + (size == 1 ? 0 : 1))}, num(src), dst);
}

void Assembler::alu(AluOp op, int size, Mem dst, int32_t value) {
  check_size(size);
  if (size == 1) {
    op_mem(1, {0x80}, uint8_t(op), dst, true, false);
    imm(1, value);
  } else if (fits8(value)) {
    op_mem(size, {0x83}, uint8_t(op), dst, true, false);
    imm(1, value);
  } else {
    op_mem(size, {0x81}, uint8_t(op), dst, true, false);
    imm(size == 2 ? 2 : 4, value);
  }
}

void Assembler::test(int size, Reg a, Reg b) {
  check_size(size);
  op_reg(size, {uint8_t(size == 1 ? 0x84 : 0x85)}, num(b), a);
}

void Assembler::test(int size, Reg a, int32_t value) {
  check_size(size);
  op_reg(size, {uint8_t(size == 1 ? 0xf6 : 0xf7)}, 0, a, true, false);
  imm(size == 8 ? 4 : size, value);
}

void Assembler::imul(int size, Reg dst, Reg src) {
  check_size(size, false);
  op_reg(size, {0x0f, 0xaf}, num(dst), src);
}

void Assembler::imul(int size, Reg dst, Reg src, int32_t value) {
  check_size(size, false);
  if (fits8(value)) {
    op_reg(size, {0x6b}, num(dst), src);
    imm(1, value);
  } else {
    op_reg(size, {0x69}, num(dst), src);
    imm(size == 2 ? 2 : 4, value);
  }
}

void Assembler::div(int size, Reg divisor) {
  check_size(size, false);
  op_reg(size, {0xf7}, 6, divisor, true, false);
}

void Assembler::idiv(int size, Reg divisor) {
  check_size(size, false);
  op_reg(size, {0xf7}, 7, divisor, true, false);
}

void Assembler::neg(int size, Reg reg) {
  check_size(size);
  op_reg(size, {uint8_t(size == 1 ? 0xf6 : 0xf7)}, 3, reg, true, false);
}

void Assembler::shift(ShiftOp op, int size, Reg reg, uint8_t count) {
  check_size(size);
  if (count == 1) {
    op_reg(size, {uint8_t(size == 1 ? 0xd0 : 0xd1)}, uint8_t(op), reg, true, false);
  } else {
    op_reg(size, {uint8_t(size == 1 ? 0xc0 : 0xc1)}, uint8_t(op), reg, true, false);
    imm(1, count);
  }
}

void Assembler::shift_cl(ShiftOp op, int size, Reg reg) {
  check_size(size);
  op_reg(size, {uint8_t(size == 1 ? 0xd2 : 0xd3)}, uint8_t(op), reg, true, false);
}

void Assembler::shiftx(ShiftOp op, int size, Reg dst, Reg src, Reg count) {
  if (size != 4 && size != 8) throw std::invalid_argument("x86 encoder: shlx/shrx/sarx take 4 or 8 bytes");
  uint8_t pp;
  switch (op) {
    case ShiftOp::Shl: pp = 1; break;  // 66
    case ShiftOp::Sar: pp = 2; break;  // F3
    case ShiftOp::Shr: pp = 3; break;  // F2
    default: throw std::invalid_argument("x86 encoder: no BMI2 form of rotates");
  }
  // Three-byte VEX: R, X, B and vvvv are stored inverted; map 0F38; L = 0.
  byte(0xc4);
  byte(uint8_t((num(dst) & 8 ? 0 : 0x80) | 0x40 | (num(src) & 8 ? 0 : 0x20) | 0x02));
  byte(uint8_t((size == 8 ? 0x80 : 0) | ((~num(count) & 15) << 3) | pp));
  byte(0xf7);
  byte(uint8_t(0xc0 | (num(dst) & 7) << 3 | (num(src) & 7)));
}

void Assembler::bswap(int size, Reg reg) {
  if (size != 4 && size != 8) throw std::invalid_argument("x86 encoder: bswap takes 4 or 8 bytes");
  const uint8_t rex = uint8_t((size == 8 ? 0x08 : 0) | (num(reg) >> 3));
  if (rex) byte(0x40 | rex);
  byte(0x0f);
  byte(uint8_t(0xc8 + (num(reg) & 7)));
}

void Assembler::cdq() { byte(0x99); }

void Assembler::cqo() {
  byte(0x48);
  byte(0x99);
}

// --- atomics ---

void Assembler::xchg(int size, Mem mem, Reg reg) {
  check_size(size);
  op_mem(size, {uint8_t(size == 1 ? 0x86 : 0x87)}, num(reg), mem);
}

void Assembler::lock_alu(AluOp op, int size, Mem dst, Reg src) {
  byte(0xf0);
  alu(op, size, dst, src);
}

void Assembler::lock_xadd(int size, Mem mem, Reg reg) {
  check_size(size);
  byte(0xf0);
  op_mem(size, {0x0f, uint8_t(size == 1 ? 0xc0 : 0xc1)}, num(reg), mem);
}

void Assembler::lock_cmpxchg(int size, Mem mem, Reg reg) {
  check_size(size);
  byte(0xf0);
  op_mem(size, {0x0f, uint8_t(size == 1 ? 0xb0 : 0xb1)}, num(reg), mem);
}

// --- SSE ---

void Assembler::pxor(Xmm dst, Xmm src) {
  byte(0x66);
  const uint8_t d = uint8_t(dst), s = uint8_t(src);
  const uint8_t rex = uint8_t((d & 8) >> 1 | (s & 8) >> 3);
  if (rex) byte(0x40 | rex);
  byte(0x0f);
  byte(0xef);
  byte(uint8_t(0xc0 | (d & 7) << 3 | (s & 7)));
}

void Assembler::movaps(Mem dst, Xmm src) { op_mem(4, {0x0f, 0x29}, uint8_t(src), dst, false); }

// --- control flow ---

void Assembler::push(Reg reg) {
  if (num(reg) & 8) byte(0x41);
  byte(uint8_t(0x50 + (num(reg) & 7)));
}

void Assembler::pop(Reg reg) {
  if (num(reg) & 8) byte(0x41);
  byte(uint8_t(0x58 + (num(reg) & 7)));
}

void Assembler::ret() { byte(0xc3); }

bool Assembler::take_short_hint(Label target, size_t short_len) {
  if (!target.valid() || target.id_ >= labels_.size()) throw std::logic_error("x86 encoder: invalid label");
  const size_t index = jumps_.size();
  jumps_.push_back({code_.size(), target.id_});
  if (labels_[target.id_] >= 0)  // backward: the distance is known now
    return fits8(labels_[target.id_] - int64_t(code_.size() + short_len));
  return index < hints_.size() && hints_[index];
}

void Assembler::label_ref(Label target, bool rel8) {
  fixups_.push_back({code_.size(), code_.size() + (rel8 ? 1 : 4), target.id_, rel8});
  imm(rel8 ? 1 : 4, 0);
}

void Assembler::jmp(Label target) {
  const bool rel8 = take_short_hint(target, 2);
  byte(rel8 ? 0xeb : 0xe9);
  label_ref(target, rel8);
}

void Assembler::jcc(Cond cond, Label target) {
  const bool rel8 = take_short_hint(target, 2);
  if (rel8) {
    byte(uint8_t(0x70 + uint8_t(cond)));
  } else {
    byte(0x0f);
    byte(uint8_t(0x80 + uint8_t(cond)));
  }
  label_ref(target, rel8);
}

void Assembler::call(Label target) {
  if (!target.valid() || target.id_ >= labels_.size()) throw std::logic_error("x86 encoder: invalid label");
  byte(0xe8);
  label_ref(target, false);
}

void Assembler::call(Reg target) { op_reg(4, {0xff}, 2, target, false, false); }

std::vector<uint8_t> Assembler::finish() {
  for (const Fixup& f : fixups_) {
    const int64_t target = labels_[f.label];
    if (target < 0) throw std::logic_error("x86 encoder: reference to a label that was never bound");
    const int64_t rel = target - int64_t(f.end);
    if (f.rel8) {
      if (!fits8(rel)) throw std::logic_error("x86 encoder: rel8 jump out of range");
      code_[f.pos] = uint8_t(rel);
    } else {
      if (rel < INT32_MIN || rel > INT32_MAX) throw std::logic_error("x86 encoder: rel32 out of range");
      for (int i = 0; i < 4; ++i) code_[f.pos + i] = uint8_t(uint64_t(rel) >> (8 * i));
    }
  }
  fixups_.clear();
  return code_;
}

std::vector<bool> Assembler::next_short_hints() const {
  std::vector<bool> hints(jumps_.size());
  for (size_t i = 0; i < jumps_.size(); ++i) {
    const int64_t target = labels_[jumps_[i].label];
    hints[i] = target >= 0 && fits8(target - int64_t(jumps_[i].start + 2));
  }
  return hints;
}

}  // namespace bpfkit::vm::x86
