// Arithmetic: scalars through the scalar domain; pointers only where the kernel
// allows it (adjust_ptr_min_max_vals): add/sub of a scalar to a stack, map value,
// packet, memory or ctx pointer on 64 bits.
#include "verifier/analyzer.h"
#include "verifier/map_reference.h"

namespace bpfkit::verifier {
namespace {

constexpr int64_t kMaxVarOff = int64_t(1) << 29;  // BPF_MAX_VAR_OFF

const char* alu_op_name(isa::AluOp op) {
  switch (op) {
    case isa::AluOp::Add: return "+=";
    case isa::AluOp::Sub: return "-=";
    case isa::AluOp::Mul: return "*=";
    case isa::AluOp::Div: case isa::AluOp::SDiv: return "/=";
    case isa::AluOp::Mod: case isa::AluOp::SMod: return "%=";
    case isa::AluOp::Or: return "|=";
    case isa::AluOp::And: return "&=";
    case isa::AluOp::Xor: return "^=";
    case isa::AluOp::Lsh: return "<<=";
    case isa::AluOp::Rsh: return ">>=";
    case isa::AluOp::Arsh: return "s>>=";
    default: return "=";
  }
}

}  // namespace

void Analyzer::exec_alu(State& s, const isa::Alu& a) {
  if (a.dst == 10) reject(RejectKind::FramePointerWrite, "frame pointer R10 is read only");
  const std::string d = "R" + std::to_string(a.dst);
  Reg src;
  if (a.src.is_imm) {
    src = Reg::scalar(ScalarValue::constant(uint64_t(int64_t(a.src.imm))));
    const bool divides = a.op == isa::AluOp::Div || a.op == isa::AluOp::SDiv || a.op == isa::AluOp::Mod ||
                         a.op == isa::AluOp::SMod;
    if (divides && a.src.imm == 0) reject(RejectKind::InvalidInstruction, "division by the immediate 0");
    const bool shifts = a.op == isa::AluOp::Lsh || a.op == isa::AluOp::Rsh || a.op == isa::AluOp::Arsh;
    if (shifts && (a.src.imm < 0 || a.src.imm >= (a.is64 ? 64 : 32))) {
      reject(RejectKind::InvalidInstruction, "invalid shift by " + std::to_string(a.src.imm));
    }
  } else {
    src = read_reg(s, a.src.reg);
  }
  const bool is_mov = a.op == isa::AluOp::Mov || a.op == isa::AluOp::MovSx8 || a.op == isa::AluOp::MovSx16 ||
                      a.op == isa::AluOp::MovSx32;
  Reg& dst = s.reg(a.dst);
  if (is_mov) {
    if (a.op == isa::AluOp::Mov && a.is64) {
      // Copies of an unknown scalar share an id, so that a bound one learns bounds all
      // (the kernel's linked registers; see sync_linked_scalars).
      if (!a.src.is_imm && src.is_scalar() && !src.var.is_const() && src.id == 0) {
        src.id = new_id();
        s.reg(a.src.reg).id = src.id;
      }
      dst = src;
      return;
    }
    if (src.is_pointer()) {
      // A partial or sign-extended copy of a pointer is a number that leaks the address.
      if (!in_.privileged) reject(RejectKind::PointerLeak, d + ": partial copy of a pointer");
      dst = Reg::unknown_scalar();
      return;
    }
    dst = Reg::scalar(ScalarValue::alu(a.op, a.is64, ScalarValue::unknown(), src.var));
    return;
  }
  read_reg(s, a.dst);
  if (dst.is_scalar() && src.is_scalar()) {
    dst = Reg::scalar(ScalarValue::alu(a.op, a.is64, dst.var, src.var));
    return;
  }
  if (dst.is_pointer() && src.is_pointer()) {
    if (a.op == isa::AluOp::Sub && in_.privileged) {
      dst = Reg::unknown_scalar();  // the distance between two pointers (on 32 bits too, as the kernel)
      return;
    }
    reject(RejectKind::PointerArithmetic, d + " pointer " + alu_op_name(a.op) + " pointer is not allowed");
  }
  if (!a.is64) {
    if (dst.is_pointer() && a.op == isa::AluOp::Sub && in_.privileged) {
      dst = Reg::unknown_scalar();
      return;
    }
    reject(RejectKind::PointerArithmetic, d + ": 32-bit arithmetic on a pointer is not allowed");
  }
  // The scalar becomes part of a pointer's offset: its exact range matters.
  if (dst.is_pointer()) {
    if (!a.src.is_imm) need_precise(a.src.reg);
    pointer_arith(s, a.dst, dst, src, a.op, false);
  } else {
    need_precise(a.dst);
    pointer_arith(s, a.dst, src, dst, a.op, true);
  }
}

void Analyzer::pointer_arith(State& s, int dst, const Reg& ptr, const Reg& scalar, isa::AluOp op, bool ptr_is_src) {
  const std::string d = "R" + std::to_string(dst);
  const std::string what = std::string(reg_type_name(ptr.type)) + (ptr.maybe_null ? "_or_null" : "");
  if (op != isa::AluOp::Add && op != isa::AluOp::Sub) {
    reject(RejectKind::PointerArithmetic,
           d + ": " + alu_op_name(op) + " on a " + what + " pointer is not allowed (only += and -= of a scalar)");
  }
  if (op == isa::AluOp::Sub && ptr_is_src) {
    reject(RejectKind::PointerArithmetic, d + ": subtracting a pointer from a scalar is not allowed");
  }
  if (ptr.maybe_null) {
    reject(RejectKind::NullDereference, d + ": arithmetic on " + what + " before its null check");
  }
  switch (ptr.type) {
    case RegType::Stack: case RegType::MapValue: case RegType::Packet: case RegType::PacketMeta:
    case RegType::Mem: case RegType::Ctx: case RegType::MapKey:
      break;
    default:
      reject(RejectKind::PointerArithmetic, d + ": arithmetic on a " + what + " pointer is not allowed");
  }
  Reg out = ptr;
  const ScalarValue& v = scalar.var;
  // The kernel's check_reg_sane_offset, on the scalar and then on the result.
  if (!v.is_const() && v.smin == INT64_MIN) {
    reject(RejectKind::PointerArithmetic, d + ": math between a " + what +
                                              " pointer and a register with an unbounded minimum (" + v.to_string() +
                                              ") is not allowed");
  }
  if (!v.is_const() && (v.smin >= kMaxVarOff || v.smin <= -kMaxVarOff)) {
    reject(RejectKind::PointerArithmetic, d + ": the value " + v.to_string() + " makes the " + what +
                                              " pointer go out of bounds");
  }
  if (v.is_const()) {
    const int64_t c = op == isa::AluOp::Add ? int64_t(v.const_value()) : -int64_t(v.const_value());
    const int64_t off = int64_t(ptr.off) + c;
    if (c < -kMaxVarOff || c > kMaxVarOff || off < -kMaxVarOff || off > kMaxVarOff) {
      reject(RejectKind::PointerArithmetic, d + ": pointer offset " + std::to_string(off) + " is out of range");
    }
    out.off = int32_t(off);
  } else {
    // (A ctx pointer with a variable part is refused where it is dereferenced, as the kernel does.)
    out.var = ScalarValue::alu(op, true, ptr.var, v);
    if (out.var.smin <= -kMaxVarOff || out.var.smin >= kMaxVarOff) {
      reject(RejectKind::PointerArithmetic, d + ": the " + what + " pointer's offset " + out.var.to_string() +
                                                " is out of bounds");
    }
    if (ptr.is_packet()) {
      // A new variable part: whatever was proven about the old pointer says nothing now.
      out.id = new_id();
      out.range = 0;
    }
  }
  if (!in_.privileged) check_unprivileged_pointer(out, dst);
  s.reg(dst) = out;
}

// Without CAP_PERFMON the kernel also keeps the result of pointer arithmetic inside
// its object (sanitize_check_bounds), so that no speculation can reach outside it.
void Analyzer::check_unprivileged_pointer(const Reg& p, int regno) {
  const std::string d = "R" + std::to_string(regno);
  if (p.type == RegType::Stack) {
    if (!p.var.is_const())
      reject(RejectKind::PointerArithmetic, d + ": variable stack pointer arithmetic needs CAP_PERFMON");
    const int64_t off = int64_t(p.off) + int64_t(p.var.const_value());
    if (off >= 0 || off < -kStackSize) {
      reject(RejectKind::PointerArithmetic, d + ": stack pointer arithmetic out of the stack (fp" +
                                                (off >= 0 ? "+" : "") + std::to_string(off) +
                                                ") needs CAP_PERFMON");
    }
  } else if (p.type == RegType::MapValue) {
    // The byte the pointer points at must lie in the value, for every offset it may have
    // (an offset that may be negative has a huge umax: refused before any sum can overflow).
    const uint32_t size = p.map < maps_.size() ? maps_[p.map].value_size : 0;
    const bool bounded = p.var.smin >= 0 && p.var.umax < uint64_t(kMaxVarOff);
    const int64_t lo = bounded ? int64_t(p.off) + p.var.smin : -1;
    const int64_t hi = bounded ? int64_t(p.off) + int64_t(p.var.umax) : int64_t(size);
    if (!bounded || lo < 0 || hi >= int64_t(size)) {
      reject(RejectKind::PointerArithmetic,
             d + ": map value pointer arithmetic out of the value (offsets " + std::to_string(lo) + " to " +
                 std::to_string(hi) + ", value_size " + std::to_string(size) + ") needs CAP_PERFMON");
    }
  }
}

void Analyzer::exec_neg(State& s, const isa::Neg& n) {
  if (n.dst == 10) reject(RejectKind::FramePointerWrite, "frame pointer R10 is read only");
  read_reg(s, n.dst);
  Reg& r = s.reg(n.dst);
  if (r.is_pointer()) {
    if (!in_.privileged) reject(RejectKind::PointerArithmetic, "R" + std::to_string(n.dst) + ": negating a pointer");
    r = Reg::unknown_scalar();
    return;
  }
  r = Reg::scalar(ScalarValue::neg(n.is64, r.var));
}

void Analyzer::exec_endian(State& s, const isa::Endian& e) {
  if (e.dst == 10) reject(RejectKind::FramePointerWrite, "frame pointer R10 is read only");
  read_reg(s, e.dst);
  Reg& r = s.reg(e.dst);
  if (r.is_pointer()) {
    if (!in_.privileged) reject(RejectKind::PointerArithmetic, "R" + std::to_string(e.dst) + ": byte swap of a pointer");
    r = Reg::unknown_scalar();
    return;
  }
  r = Reg::scalar(ScalarValue::endian(e.kind, e.bits, r.var));
}

void Analyzer::exec_lddw(State& s, const isa::LoadImm64& l) {
  if (l.dst == 10) reject(RejectKind::FramePointerWrite, "frame pointer R10 is read only");
  Reg r;
  switch (l.pseudo) {
    case isa::Pseudo::Imm64:
      r = Reg::scalar(ScalarValue::constant(l.value()));
      break;
    case isa::Pseudo::MapIdx: case isa::Pseudo::MapIdxValue: case isa::Pseudo::MapFd: case isa::Pseudo::MapValue: {
      if (auto problem = check_map_reference(in_, l)) reject(problem->kind, problem->message);
      const uint32_t idx = uint32_t(l.imm_lo);
      const MapInfo& m = in_.maps[idx];
      if (l.pseudo == isa::Pseudo::MapIdx || l.pseudo == isa::Pseudo::MapFd) {
        r = Reg::pointer(RegType::MapPtr);
      } else {
        r = Reg::pointer(RegType::MapValue, int32_t(uint32_t(l.imm_hi)));
        r.read_only = (m.flags & BPF_F_RDONLY_PROG) != 0;
      }
      r.map = idx;
      break;
    }
    case isa::Pseudo::Func: {
      const auto callee = g_.callee(pc_);
      if (!callee) reject(RejectKind::BadCall, "function address does not name a subprogram");
      r = Reg::pointer(RegType::Func);
      r.subprog = uint32_t(*callee);
      break;
    }
    case isa::Pseudo::BtfId:
      reject(RejectKind::Unsupported, "ld_imm64 of a BTF id (kernel variables) is not supported");
  }
  s.reg(l.dst) = r;
}

// The checks resolve_pseudo_ldimm64 and the maps' map_direct_value_addr make.
std::optional<MapReferenceProblem> check_map_reference(const VerifyInput& input, const isa::LoadImm64& l) {
  const bool map = l.pseudo == isa::Pseudo::MapIdx || l.pseudo == isa::Pseudo::MapFd;
  const bool value = l.pseudo == isa::Pseudo::MapIdxValue || l.pseudo == isa::Pseudo::MapValue;
  if (!map && !value) return std::nullopt;
  const uint32_t idx = uint32_t(l.imm_lo);
  if (idx >= input.maps.size()) {
    return MapReferenceProblem{RejectKind::InvalidInstruction,
                               "map reference " + std::to_string(l.imm_lo) + " names none of the program's " +
                                   std::to_string(input.maps.size()) + " maps"};
  }
  const MapInfo& m = input.maps[idx];
  if (value) {
    const uint32_t off = uint32_t(l.imm_hi);
    if (m.type != BPF_MAP_TYPE_ARRAY || m.max_entries != 1) {
      return MapReferenceProblem{RejectKind::InvalidInstruction, "a direct value address needs an array map "
                                                                 "with one entry ('" + m.name + "' is not)"};
    }
    if (off >= m.value_size) {
      return MapReferenceProblem{RejectKind::OutOfBounds,
                                 "direct value offset " + std::to_string(off) + " is outside map '" + m.name +
                                     "' (value_size " + std::to_string(m.value_size) + ")"};
    }
  }
  return std::nullopt;
}

}  // namespace bpfkit::verifier
