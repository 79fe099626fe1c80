// Loads, stores and atomics: every access is checked against what its base
// register points to (check_mem_access): the stack byte by byte, the context
// field by field, map values and helper memory against their sizes, packets
// against the range a data_end comparison proved.
#include <cstring>

#include "verifier/analyzer.h"

namespace bpfkit::verifier {
namespace {

constexpr int64_t kMaxVarOff = int64_t(1) << 29;  // BPF_MAX_VAR_OFF

std::string reg_name(int r) { return "R" + std::to_string(r); }

// Where in its slot a stack byte offset (negative, from fp) lies.
int byte_in_slot(int32_t fp_off) { return int(fp_off - (-8 * ((-(fp_off + 1)) / 8 + 1))); }

}  // namespace

bool Analyzer::packet_writable() const {
  switch (in_.prog_type) {
    case BPF_PROG_TYPE_XDP: case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT:
    case BPF_PROG_TYPE_LWT_XMIT: case BPF_PROG_TYPE_SK_SKB: case BPF_PROG_TYPE_SK_MSG:
      return true;
    default:
      return false;
  }
}

void Analyzer::check_bounded_region(const Reg& base, int regno, int32_t off, uint64_t size, uint64_t region_size,
                                    const char* what) {
  const std::string r = reg_name(regno);
  int64_t lo, hi;
  if (base.var.is_const()) {
    lo = int64_t(base.off) + off + int64_t(base.var.const_value());
    hi = lo + int64_t(size);
  } else {
    // (smin first: a widened offset may be as low as INT64_MIN, and the sum must not overflow)
    if (base.var.smin <= -kMaxVarOff || base.var.smin + base.off + off < 0) {
      reject(RejectKind::OutOfBounds, r + " points into a " + what + " at a variable offset whose minimum (" +
                                          std::to_string(base.var.smin) +
                                          ") may be negative: use an unsigned index or check it against 0");
    }
    if (base.var.umax >= uint64_t(kMaxVarOff)) {
      reject(RejectKind::OutOfBounds, r + " points into a " + what + " at an unbounded offset (" +
                                          base.var.to_string() +
                                          "): bound the index with a comparison or a mask first");
    }
    lo = base.var.smin + base.off + off;
    hi = int64_t(base.var.umax) + base.off + off + int64_t(size);
  }
  if (lo < 0 || hi > int64_t(region_size)) {
    reject(RejectKind::OutOfBounds, "invalid access to " + std::string(what) + " through " + r + ": bytes [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + ") but it has " +
                                        std::to_string(region_size) + " bytes");
  }
}

Reg Analyzer::stack_read(State& s, const Reg& base, int regno, int32_t off, uint32_t size, bool sign_extend) {
  Frame& f = s.frames[base.frame];
  const std::string r = reg_name(regno);
  if (!base.var.is_const()) {
    if (!in_.privileged) {
      reject(RejectKind::InvalidMemAccess, r + ": variable-offset stack reads need CAP_PERFMON");
    }
    if (!tnum_is_aligned(tnum_add(base.var.var_off, Tnum::constant(uint64_t(int64_t(base.off) + off))), size)) {
      reject(RejectKind::Misaligned, r + ": variable-offset stack access of " + std::to_string(size) +
                                         " bytes may be misaligned (" + base.var.to_string() + ")");
    }
    if (base.var.umax >= uint64_t(kMaxVarOff)) {  // also every offset that may be negative
      reject(RejectKind::OutOfBounds, r + ": variable stack read at an unbounded offset (" + base.var.to_string() +
                                          ")");
    }
    const int64_t lo = base.var.smin + base.off + off;
    const int64_t hi = int64_t(base.var.umax) + base.off + off + size;
    if (lo < -kStackSize || hi > 0) {
      reject(RejectKind::OutOfBounds, r + ": variable stack read [" + std::to_string(lo) + ", " +
                                          std::to_string(hi) + ") is outside the 512-byte stack");
    }
    for (int64_t b = lo; b < hi; ++b) {
      const StackSlot* slot = f.slot_of(int32_t(b));
      if (slot == nullptr || slot->bytes[byte_in_slot(int32_t(b))] == StackByte::Invalid) {
        reject(RejectKind::UninitStack, r + ": variable stack read may read fp" + std::to_string(b) +
                                            ", which was never written");
      }
    }
    return Reg::scalar(ScalarValue::loaded(size, sign_extend));
  }
  const int64_t fo = int64_t(base.off) + off + int64_t(base.var.const_value());
  if (fo % int64_t(size) != 0) {
    reject(RejectKind::Misaligned, "misaligned stack read at fp" + std::to_string(fo) + " (" +
                                       std::to_string(size) + " bytes)");
  }
  if (fo < -kStackSize || fo + size > 0) {
    reject(RejectKind::OutOfBounds, "invalid read from stack at fp" + std::to_string(fo) + " (" +
                                        std::to_string(size) + " bytes): the stack is fp-512 to fp-1");
  }
  const StackSlot* slot = f.slot_of(int32_t(fo));
  const int b = byte_in_slot(int32_t(fo));
  bool all_zero = true, any_spill = false, all_spill = true;
  for (uint32_t i = 0; i < size; ++i) {
    const StackByte kind = slot ? slot->bytes[b + i] : StackByte::Invalid;
    if (kind == StackByte::Invalid) {
      reject(RejectKind::UninitStack, "invalid read from stack: fp" + std::to_string(fo + i) +
                                          " was never written (" + std::to_string(size) + "-byte read at fp" +
                                          std::to_string(fo) + ")");
    }
    all_zero &= kind == StackByte::Zero;
    any_spill |= kind == StackByte::Spill;
    all_spill &= kind == StackByte::Spill;
  }
  if (all_zero) return Reg::scalar(ScalarValue::constant(0));
  if (any_spill) {
    const Reg& spilled = slot->spill;
    // A fill: the value is the spilled register's (precision backtracks through the slot).
    const bool fill = all_spill && b == 0 && size <= slot->spill_size && (spilled.is_scalar() || size == 8);
    if (fill) {
      cur_entry_.slot = int8_t((-(fo + 1)) / 8);
      cur_entry_.slot_frame = uint8_t(base.frame);
    }
    if (all_spill && b == 0 && size == slot->spill_size) {
      if (spilled.is_pointer() || size == 8) return spilled;
      ScalarValue v = spilled.var.truncate(size);
      return Reg::scalar(sign_extend ? v.sign_extend(size) : v);
    }
    if (spilled.is_pointer()) {
      if (!in_.privileged) {
        reject(RejectKind::PointerLeak, r + ": a partial read of a spilled pointer at fp" + std::to_string(fo) +
                                            " would leak it");
      }
      return Reg::unknown_scalar();
    }
    if (all_spill && b == 0 && size < slot->spill_size) {
      ScalarValue v = spilled.var.truncate(size);
      return Reg::scalar(sign_extend ? v.sign_extend(size) : v);
    }
  }
  return Reg::scalar(ScalarValue::loaded(size, sign_extend));
}

void Analyzer::stack_write(State& s, const Reg& base, int regno, int32_t off, uint32_t size, const Reg* value) {
  Frame& f = s.frames[base.frame];
  const std::string r = reg_name(regno);
  if (value && value->type == RegType::Stack && base.frame != s.frames.size() - 1 &&
      value->frame == s.frames.size() - 1) {
    reject(RejectKind::InvalidMemAccess, "cannot spill a pointer to this frame's stack into a caller's stack");
  }
  auto check_spill_overwrite = [&](StackSlot& slot) {
    // Writing over part of a spilled register: what is left of it is plain data.
    bool has_spill = false;
    for (StackByte& k : slot.bytes) has_spill |= k == StackByte::Spill;
    if (!has_spill) return;
    if (slot.spill.is_pointer() && !in_.privileged) {
      reject(RejectKind::PointerLeak, r + ": overwriting part of a spilled pointer on the stack");
    }
    for (StackByte& k : slot.bytes) {
      if (k == StackByte::Spill) k = StackByte::Misc;
    }
    slot.spill = Reg{};
    slot.spill_size = 0;
  };
  if (!base.var.is_const()) {
    if (!in_.privileged) reject(RejectKind::InvalidMemAccess, r + ": variable-offset stack writes need CAP_PERFMON");
    if (!tnum_is_aligned(tnum_add(base.var.var_off, Tnum::constant(uint64_t(int64_t(base.off) + off))), size)) {
      reject(RejectKind::Misaligned, r + ": variable-offset stack access of " + std::to_string(size) +
                                         " bytes may be misaligned (" + base.var.to_string() + ")");
    }
    if (value && value->is_pointer()) {
      reject(RejectKind::InvalidMemAccess, r + ": a pointer cannot be spilled at a variable stack offset");
    }
    if (base.var.umax >= uint64_t(kMaxVarOff)) {  // also every offset that may be negative
      reject(RejectKind::OutOfBounds, r + ": variable stack write at an unbounded offset (" +
                                          base.var.to_string() + ")");
    }
    const int64_t lo = base.var.smin + base.off + off;
    const int64_t hi = int64_t(base.var.umax) + base.off + off + size;
    if (lo < -kStackSize || hi > 0) {
      reject(RejectKind::OutOfBounds, r + ": variable stack write [" + std::to_string(lo) + ", " +
                                          std::to_string(hi) + ") is outside the 512-byte stack");
    }
    for (int64_t b = lo; b < hi; ++b) {
      StackSlot& slot = f.grow_to(int32_t(b));
      check_spill_overwrite(slot);
      // Only bytes already written stay readable: an unwritten byte may still be unwritten.
      StackByte& k = slot.bytes[byte_in_slot(int32_t(b))];
      if (k != StackByte::Invalid) k = StackByte::Misc;
    }
    return;
  }
  const int64_t fo = int64_t(base.off) + off + int64_t(base.var.const_value());
  if (fo % int64_t(size) != 0) {
    reject(RejectKind::Misaligned, "misaligned stack write at fp" + std::to_string(fo) + " (" +
                                       std::to_string(size) + " bytes)");
  }
  if (fo < -kStackSize || fo + size > 0) {
    reject(RejectKind::OutOfBounds, "invalid write to stack at fp" + std::to_string(fo) + " (" +
                                        std::to_string(size) + " bytes): the stack is fp-512 to fp-1");
  }
  StackSlot& slot = f.grow_to(int32_t(fo));
  const int b = byte_in_slot(int32_t(fo));
  if (value && value->is_pointer()) {
    if (size != 8) {
      reject(RejectKind::InvalidMemAccess, "invalid size of register spill: a pointer needs an 8-byte store (" +
                                               std::to_string(size) + " bytes at fp" + std::to_string(fo) + ")");
    }
    slot.bytes.fill(StackByte::Spill);
    slot.spill = *value;
    slot.spill_size = 8;
    cur_entry_.slot = int8_t((-(fo + 1)) / 8);
    cur_entry_.slot_frame = uint8_t(base.frame);
    return;
  }
  check_spill_overwrite(slot);
  if (value && value->is_scalar() && b == 0 && in_.privileged) {
    // A scalar spill: the register's whole state comes back on a fill of the same size.
    for (uint32_t i = 0; i < 8; ++i) {
      if (i < size) {
        slot.bytes[i] = StackByte::Spill;
      } else if (slot.bytes[i] == StackByte::Spill) {
        slot.bytes[i] = StackByte::Misc;
      }
    }
    slot.spill = *value;
    slot.spill_size = uint8_t(size);
    cur_entry_.slot = int8_t((-(fo + 1)) / 8);
    cur_entry_.slot_frame = uint8_t(base.frame);
    return;
  }
  const bool zero = value && value->is_null();
  // Known-zero bytes are compared exactly, but cannot be walked back through: the stored
  // register's value matters (the kernel marks it precise for STACK_ZERO too).
  if (zero && store_src_reg_ >= 0) need_precise(store_src_reg_);
  for (uint32_t i = 0; i < size; ++i) slot.bytes[b + i] = zero ? StackByte::Zero : StackByte::Misc;
}

Reg Analyzer::check_mem_access(State& s, int regno, int32_t off, uint32_t size, Access access, bool sign_extend,
                               const Reg* stored) {
  const Reg base = s.reg(regno);
  const std::string r = reg_name(regno);
  const bool write = access != Access::Read;
  read_reg(s, regno, r);
  if (base.is_null()) reject(RejectKind::NullDereference, r + " is NULL here: dereferencing it would fault");
  if (base.maybe_null) {
    reject(RejectKind::NullDereference,
           r + " may be NULL (" + base.to_string(map_names_) + "): compare it with 0 before this access");
  }
  auto no_leak = [&](const char* into) {
    if (stored && stored->is_pointer() && !in_.privileged) {
      reject(RejectKind::PointerLeak, "storing a pointer into " + std::string(into) + " would leak it");
    }
  };
  switch (base.type) {
    case RegType::Stack: {
      Reg out;
      if (access != Access::Write) out = stack_read(s, base, regno, off, size, sign_extend);
      if (write) stack_write(s, base, regno, off, size, stored);
      return out;
    }
    case RegType::Ctx: {
      if (base.off != 0 || !base.var.is_const() || base.var.const_value() != 0) {
        reject(RejectKind::CtxAccess, "dereference of a modified ctx pointer " + r + " (" +
                                          base.to_string(map_names_) + "): use the ctx pointer itself with an offset");
      }
      if (off < 0 || !type_->ctx_access_ok(uint32_t(off), size, write, in_.ctx_size_hint, in_.expected_attach_type)) {
        const core::CtxField* field = off >= 0 ? type_->field_at(uint32_t(off)) : nullptr;
        std::string what = field ? " (" + type_->ctx_struct + "." + field->name + ")" : "";
        reject(RejectKind::CtxAccess, std::string("invalid ") + (write ? "write to" : "read of") + " the " +
                                          type_->name + " context at offset " + std::to_string(off) + ", " +
                                          std::to_string(size) + " bytes" + what);
      }
      no_leak("the context");
      if (write) return Reg{};
      const core::CtxField* field = type_->field_at(uint32_t(off));
      if (field != nullptr) {
        switch (field->kind) {
          case core::CtxFieldKind::PacketData: return Reg::pointer(RegType::Packet);
          case core::CtxFieldKind::PacketEnd: return Reg::pointer(RegType::PacketEnd);
          case core::CtxFieldKind::PacketMeta: return Reg::pointer(RegType::PacketMeta);
          case core::CtxFieldKind::Socket: {
            // The skb's socket, or NULL: the kernel's, so readable but not the program's to release.
            Reg sk = Reg::pointer(RegType::SockCommon);
            sk.maybe_null = true;
            sk.id = new_id();
            return sk;
          }
          default: break;
        }
      }
      return Reg::scalar(ScalarValue::loaded(size, sign_extend));
    }
    case RegType::MapValue: {
      const MapInfo& m = maps_[base.map];
      if (write && (base.read_only || (m.flags & BPF_F_RDONLY_PROG))) {
        reject(RejectKind::ReadOnlyWrite, "write into read-only map '" + m.name + "' through " + r);
      }
      if (!write && (m.flags & BPF_F_WRONLY_PROG)) {
        reject(RejectKind::InvalidMemAccess, "read from write-only map '" + m.name + "' through " + r);
      }
      check_bounded_region(base, regno, off, size, m.value_size, "map value");
      no_leak("a map value");
      if (write) return Reg{};
      if (m.frozen && base.var.is_const() && !m.initial_value.empty()) {
        // A frozen read-only map: the bytes are known (as the kernel folds .rodata).
        const int64_t at = int64_t(base.off) + off + int64_t(base.var.const_value());
        if (at >= 0 && uint64_t(at) + size <= m.initial_value.size()) {
          uint64_t v = 0;
          std::memcpy(&v, m.initial_value.data() + at, size);
          ScalarValue sv = ScalarValue::constant(v);
          return Reg::scalar(sign_extend ? sv.sign_extend(size) : sv);
        }
      }
      return Reg::scalar(ScalarValue::loaded(size, sign_extend));
    }
    case RegType::Mem:
      if (write && base.read_only) reject(RejectKind::ReadOnlyWrite, "write into read-only memory through " + r);
      check_bounded_region(base, regno, off, size, base.mem_size, "memory");
      no_leak("memory");
      return write ? Reg{} : Reg::scalar(ScalarValue::loaded(size, sign_extend));
    case RegType::MapKey:
      if (write) reject(RejectKind::ReadOnlyWrite, "write into a map key through " + r);
      check_bounded_region(base, regno, off, size, maps_[base.map].key_size, "map key");
      return Reg::scalar(ScalarValue::loaded(size, sign_extend));
    case RegType::Socket: case RegType::SockCommon: {
      // struct bpf_sock, read only, field by field (the kernel rewrites each load into
      // one of the socket's own fields). No arithmetic reaches a socket pointer.
      const std::string what(reg_type_name(base.type));
      if (write) {
        reject(RejectKind::InvalidMemAccess, r + " cannot write into " + what + " (sockets are read only)");
      }
      std::string field;
      const int64_t at = int64_t(base.off) + off;
      if (!base.var.is_const() || !sock_access_ok(base.type == RegType::SockCommon, at, size, &field)) {
        reject(RejectKind::InvalidMemAccess,
               "invalid " + what + " access through " + r + " at offset " + std::to_string(at) + ", " +
                   std::to_string(size) + " bytes" + (field.empty() ? "" : " (bpf_sock." + field + ")") +
                   (base.type == RegType::SockCommon && sock_access_ok(false, at, size, nullptr)
                        ? ": only a full socket has it, and a sock_common may be a request or timewait socket"
                        : ""));
      }
      return Reg::scalar(ScalarValue::loaded(size, sign_extend));
    }
    case RegType::Packet: case RegType::PacketMeta: {
      if (write && !packet_writable()) {
        reject(RejectKind::ReadOnlyWrite, "a " + type_->name + " program cannot write into the packet");
      }
      if (base.var.smin < 0) {
        reject(RejectKind::PacketBounds, r + " has a variable offset that may be negative");
      }
      const int64_t start = int64_t(base.off) + off;
      if (start < 0 || start + int64_t(size) > int64_t(base.range)) {
        reject(RejectKind::PacketBounds,
               "invalid access to packet through " + r + ": bytes [" + std::to_string(start) + ", " +
                   std::to_string(start + size) + ") but only " + std::to_string(base.range) +
                   " bytes are proven before " + (base.type == RegType::Packet ? "data_end" : "data") +
                   " (compare the pointer with it first)");
      }
      no_leak("the packet");
      return write ? Reg{} : Reg::scalar(ScalarValue::loaded(size, sign_extend));
    }
    default:
      if (base.is_scalar() && (base.released == RegType::Mem || base.released == RegType::Socket ||
                               base.released == RegType::SockCommon)) {
        reject(RejectKind::ReferenceInvalid,
               r + " cannot be dereferenced: it held a " +
                   (base.released == RegType::Mem ? "ring buffer record that was submitted or discarded"
                                                  : "socket that was released (bpf_sk_release)") +
                   " and is a number now");
      }
      reject(RejectKind::InvalidMemAccess,
             r + " cannot be dereferenced: it holds " + base.to_string(map_names_) +
                 (base.is_scalar() && base.released != RegType::NotInit
                      ? " (it was a packet pointer until a helper that moves packet data invalidated it: "
                        "load data and data_end again and compare them)"
                      : base.is_scalar() ? " (a number, not a pointer)" : ""));
  }
}

void Analyzer::check_helper_mem(State& s, int regno, uint64_t min_size, uint64_t max_size, Access access,
                                int argno) {
  (void)min_size;
  if (max_size == 0) return;
  const Reg base = s.reg(regno);
  const std::string r = reg_name(regno);
  const bool write = access != Access::Read;
  const std::string arg = "argument " + std::to_string(argno) + " (" + r + ")";
  if (base.maybe_null) {
    reject(RejectKind::NullDereference, arg + " may be NULL (" + base.to_string(map_names_) + "): check it first");
  }
  switch (base.type) {
    case RegType::Stack: {
      Frame& f = s.frames[base.frame];
      int64_t lo, hi;
      if (base.var.is_const()) {
        lo = int64_t(base.off) + int64_t(base.var.const_value());
        hi = lo + int64_t(max_size);
      } else {
        if (!in_.privileged) reject(RejectKind::HelperArgument, arg + ": variable-offset stack buffers need CAP_PERFMON");
        if (base.var.umax >= uint64_t(kMaxVarOff)) {
          reject(RejectKind::OutOfBounds, arg + ": the stack buffer's offset is unbounded");
        }
        lo = base.var.smin + base.off;
        hi = int64_t(base.var.umax) + base.off + int64_t(max_size);
      }
      if (lo < -kStackSize || hi > 0) {
        reject(RejectKind::OutOfBounds, arg + ": the " + std::to_string(max_size) + "-byte stack buffer [fp" +
                                            std::to_string(lo) + ", fp" + std::to_string(hi) +
                                            ") is outside the 512-byte stack");
      }
      for (int64_t b = lo; b < hi; ++b) {
        StackSlot* slot = f.slot_of(int32_t(b));
        const StackByte kind = slot ? slot->bytes[byte_in_slot(int32_t(b))] : StackByte::Invalid;
        if (access != Access::Write && kind == StackByte::Invalid) {
          reject(RejectKind::UninitStack, arg + ": the helper reads fp" + std::to_string(b) +
                                              ", which was never written");
        }
        if (access != Access::Write && kind == StackByte::Spill && slot->spill.is_pointer() && !in_.privileged) {
          reject(RejectKind::PointerLeak, arg + ": the helper would read the pointer spilled at fp" +
                                              std::to_string(b));
        }
      }
      if (write) {
        for (int64_t b = lo; b < hi; ++b) {
          StackSlot& slot = f.grow_to(int32_t(b));
          if (slot.bytes[byte_in_slot(int32_t(b))] == StackByte::Spill) {
            for (StackByte& k : slot.bytes) {
              if (k == StackByte::Spill) k = StackByte::Misc;
            }
            slot.spill = Reg{};
            slot.spill_size = 0;
          }
          slot.bytes[byte_in_slot(int32_t(b))] = StackByte::Misc;
        }
      }
      return;
    }
    case RegType::MapValue: {
      const MapInfo& m = maps_[base.map];
      if (write && (base.read_only || (m.flags & BPF_F_RDONLY_PROG))) {
        reject(RejectKind::ReadOnlyWrite, arg + ": the helper would write into read-only map '" + m.name + "'");
      }
      check_bounded_region(base, regno, 0, max_size, m.value_size, "map value");
      return;
    }
    case RegType::Mem:
      if (write && base.read_only) reject(RejectKind::ReadOnlyWrite, arg + ": the helper would write read-only memory");
      check_bounded_region(base, regno, 0, max_size, base.mem_size, "memory");
      return;
    case RegType::MapKey:
      if (write) reject(RejectKind::ReadOnlyWrite, arg + ": the helper would write into a map key");
      check_bounded_region(base, regno, 0, max_size, maps_[base.map].key_size, "map key");
      return;
    case RegType::Packet: case RegType::PacketMeta: {
      if (write && !packet_writable()) {
        reject(RejectKind::ReadOnlyWrite, "a " + type_->name + " program cannot let a helper write the packet");
      }
      if (base.var.smin < 0) reject(RejectKind::PacketBounds, arg + " has a variable offset that may be negative");
      if (base.off < 0 || int64_t(base.off) + int64_t(max_size) > int64_t(base.range)) {
        reject(RejectKind::PacketBounds, arg + ": " + std::to_string(max_size) + " packet bytes from offset " +
                                             std::to_string(base.off) + " but only " + std::to_string(base.range) +
                                             " are proven before data_end");
      }
      return;
    }
    default:
      reject(RejectKind::HelperArgument, arg + " must point to memory (stack, map value, packet or helper "
                                               "memory), but it holds " + base.to_string(map_names_));
  }
}

// Load-acquire and store-release: the kernel's atomic_ptr_type_ok (not through the
// context or packet pointers, whose accesses it rewrites) and strict alignment.
void Analyzer::check_ordered_access(const State& s, int regno, int32_t off, uint32_t size, bool load) {
  const Reg& base = s.reg(regno);
  const std::string r = "R" + std::to_string(regno);
  const char* what = load ? "load-acquire from " : "store-release to ";
  if (base.type == RegType::Ctx) {
    reject(RejectKind::CtxAccess, what + r + " (the context) is not allowed: copy the field with a plain load");
  }
  if (base.type == RegType::Packet || base.type == RegType::PacketMeta || base.type == RegType::PacketEnd) {
    reject(RejectKind::InvalidMemAccess, what + r + " (" + base.to_string(map_names_) +
                                             ") is not allowed: only stack, map values and memory");
  }
  if (base.is_pointer() &&
      !tnum_is_aligned(tnum_add(base.var.var_off, Tnum::constant(uint64_t(int64_t(base.off) + off))), size)) {
    reject(RejectKind::Misaligned, std::string(what) + r + " is misaligned (" + std::to_string(size) +
                                       " bytes at offset " + std::to_string(base.off + off) + " plus " +
                                       base.var.to_string() + ")");
  }
}

void Analyzer::exec_load(State& s, const isa::Load& l) {
  if (l.dst == 10) reject(RejectKind::FramePointerWrite, "frame pointer R10 is read only");
  if (l.acquire) check_ordered_access(s, l.base, l.off, l.size, true);
  Reg r = check_mem_access(s, l.base, l.off, l.size, Access::Read, l.sign_extend, nullptr);
  s.reg(l.dst) = r;
}

void Analyzer::exec_store(State& s, const isa::Store& st) {
  Reg value;
  if (st.value.is_imm) {
    value = Reg::scalar(ScalarValue::constant(uint64_t(int64_t(st.value.imm))).truncate(st.size));
  } else {
    value = read_reg(s, st.value.reg);
    if (value.is_scalar() && st.size < 8) {
      // A value wider than the store is cut: no longer a copy of its linked registers (the kernel too).
      if (value.var.umax >> (8 * st.size) != 0) value.id = 0;
      value.var = value.var.truncate(st.size);
    }
  }
  if (st.release) check_ordered_access(s, st.base, st.off, st.size, false);
  store_src_reg_ = st.value.is_imm ? -1 : st.value.reg;
  check_mem_access(s, st.base, st.off, st.size, Access::Write, false, &value);
  store_src_reg_ = -1;
}

void Analyzer::exec_atomic(State& s, const isa::Atomic& a) {
  const Reg& base = s.reg(a.base);
  const std::string r = "R" + std::to_string(a.base);
  if (base.type != RegType::Stack && base.type != RegType::MapValue && base.type != RegType::Mem &&
      base.type != RegType::NotInit) {
    reject(base.type == RegType::Ctx ? RejectKind::CtxAccess : RejectKind::InvalidMemAccess, "atomic operation through " + r + " (" + base.to_string(map_names_) +
                                             ") is not allowed: only stack, map values and memory");
  }
  Reg src = read_reg(s, a.src);
  if (src.is_pointer() && !in_.privileged) {
    reject(RejectKind::PointerLeak, "R" + std::to_string(a.src) + ": an atomic operation would leak a pointer");
  }
  if (a.op == isa::AtomicOp::CmpXchg && s.reg(0).type == RegType::NotInit) {
    reject(RejectKind::UninitRegister, "R0 is read before it is written (cmpxchg compares with it)");
  }
  if (base.type == RegType::Stack && base.var.is_const()) {
    const int64_t fo = int64_t(base.off) + a.off + int64_t(base.var.const_value());
    if (const StackSlot* slot = s.frames[base.frame].slot_of(int32_t(fo));
        slot != nullptr && slot->spill.is_pointer() && slot->bytes[0] == StackByte::Spill) {
      reject(RejectKind::InvalidMemAccess, "atomic operation on a spilled pointer at fp" + std::to_string(fo));
    }
  }
  if (base.is_pointer() && !tnum_is_aligned(tnum_add(base.var.var_off, Tnum::constant(uint64_t(int64_t(base.off) + a.off))),
                                             a.size)) {
    reject(RejectKind::Misaligned, "misaligned atomic access through " + r + " (" + std::to_string(a.size) +
                                       " bytes at offset " + std::to_string(base.off + a.off) + " plus " +
                                       base.var.to_string() + ")");
  }
  const Reg stored = Reg::unknown_scalar();
  check_mem_access(s, a.base, a.off, a.size, Access::ReadWrite, false, &stored);
  if (a.op == isa::AtomicOp::CmpXchg) {
    s.reg(0) = Reg::scalar(ScalarValue::loaded(a.size, false));
  } else if (a.fetch) {
    if (a.src == 10) reject(RejectKind::FramePointerWrite, "frame pointer R10 is read only");
    s.reg(a.src) = Reg::scalar(ScalarValue::loaded(a.size, false));
  }
}

void Analyzer::exec_packet_load(State& s, const isa::PacketLoad& p) {
  switch (in_.prog_type) {
    case BPF_PROG_TYPE_SOCKET_FILTER: case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT:
      break;
    default:
      reject(RejectKind::InvalidInstruction,
             "legacy packet loads (BPF_LD_ABS/IND) are not allowed in " + type_->name + " programs");
  }
  read_reg(s, 6);
  if (s.reg(6).type != RegType::Ctx) {
    reject(RejectKind::CtxAccess, "legacy packet loads need the context in R6 (R6 holds " +
                                             s.reg(6).to_string(map_names_) + ")");
  }
  if (!s.refs.empty()) {
    reject(RejectKind::ReferenceLeak, "legacy packet loads cannot be mixed with held references");
  }
  if (p.indirect) {
    const Reg& src = read_reg(s, p.src);
    if (!src.is_scalar()) reject(RejectKind::InvalidMemAccess, "BPF_LD_IND needs a scalar offset register");
  }
  for (int r = 1; r <= 5; ++r) s.reg(r) = Reg{};
  s.reg(0) = Reg::scalar(ScalarValue::loaded(p.size, false));
}

}  // namespace bpfkit::verifier
