// What the verifier believes at one instruction: per call frame, the type and
// value of every register and what every stack byte holds; for the whole
// program state, the references it must release. Plain values with a covers()
// relation (state pruning: a state covered by one already proven safe needs no
// more exploration), as PREVAIL's domains are.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "verifier/scalar_value.h"

namespace bpfkit::verifier {

// The kernel's register types (enum bpf_reg_type), those bpfkit tracks.
enum class RegType : uint8_t {
  NotInit,
  Scalar,
  Ctx,         // the program's context
  Stack,       // a frame's stack (frame index in Reg::frame)
  MapPtr,      // CONST_PTR_TO_MAP: a map itself (lddw map, or map-in-map lookup)
  MapValue,    // inside a map value
  MapKey,      // a map key given to a callback (for_each_map_elem)
  Packet,      // between data and data_end once proven (Reg::range)
  PacketMeta,  // data_meta
  PacketEnd,   // data_end: only for comparisons
  Mem,         // helper-returned memory of Reg::mem_size bytes (ringbuf record)
  Func,        // a subprogram's address (callbacks)
  Socket,      // PTR_TO_SOCKET: a full socket (struct bpf_sock fields), from sk_lookup_tcp/udp
  SockCommon,  // PTR_TO_SOCK_COMMON: any socket (also request/timewait): __sk_buff.sk, skc_lookup_tcp
};

std::string_view reg_type_name(RegType t);

struct Reg {
  RegType type = RegType::NotInit;
  bool maybe_null = false;  // MapValue/Mem/MapPtr that needs a null check
  bool read_only = false;   // MapValue of a read-only map, read-only Mem
  int32_t off = 0;          // a pointer's fixed offset
  // A scalar's value; for pointers the variable part of the offset (constant 0
  // when the offset is fixed), as the kernel keeps var_off and bounds on pointers.
  ScalarValue var = ScalarValue::constant(0);
  uint32_t id = 0;      // pointers from one lookup/reserve share it (null checks); packet pointers share ranges
  uint32_t ref_id = 0;  // the reference this pointer holds (ringbuf record, socket), 0: none
  uint32_t map = 0;     // MapPtr/MapValue/MapKey: index into the analyzer's map table
  uint32_t mem_size = 0;  // Mem: bytes from offset 0
  uint32_t range = 0;     // Packet/PacketMeta: bytes proven readable from off (with var offset 0)
  uint32_t frame = 0;     // Stack: which frame
  uint32_t subprog = 0;   // Func: the subprogram
  // The pointer's type where the reference it held was released (ringbuf record, socket) or a
  // helper that moves packet data invalidated it (a packet pointer): the register is then an
  // unknown scalar, or NotInit without CAP_PERFMON, as in the kernel. For messages.
  RegType released = RegType::NotInit;

  static Reg scalar(ScalarValue v) {
    Reg r;
    r.type = RegType::Scalar;
    r.var = v;
    return r;
  }
  static Reg unknown_scalar() { return scalar(ScalarValue::unknown()); }
  static Reg pointer(RegType t, int32_t off = 0) {
    Reg r;
    r.type = t;
    r.off = off;
    return r;
  }
  bool is_pointer() const { return type != RegType::NotInit && type != RegType::Scalar; }
  bool is_scalar() const { return type == RegType::Scalar; }
  bool is_const() const { return type == RegType::Scalar && var.is_const(); }
  bool is_null() const { return is_const() && var.const_value() == 0; }
  bool is_packet() const { return type == RegType::Packet || type == RegType::PacketMeta; }
  bool is_socket() const { return type == RegType::Socket || type == RegType::SockCommon; }
  // "scalar(umax=255,var_off=(0x0; 0xff))", "map_value(map=counts,off=8)", "fp-16", ...
  std::string to_string(const std::vector<std::string>& map_names) const;
  friend bool operator==(const Reg&, const Reg&) = default;
};

// What a stack byte holds.
enum class StackByte : uint8_t {
  Invalid,  // never written: reading it is an uninitialised read
  Misc,     // written with data the verifier does not track (a scalar)
  Zero,     // known zero
  Spill,    // part of a spilled register (StackSlot::spill)
};

// An 8-byte stack slot (fp-8 is slot 0's... see Frame).
struct StackSlot {
  std::array<StackByte, 8> bytes{};  // all Invalid
  // The register saved by a spill: a full 8-byte store of any register, or a
  // narrower store of a scalar (spill_size bytes at the slot's start).
  Reg spill;
  uint8_t spill_size = 0;
  friend bool operator==(const StackSlot&, const StackSlot&) = default;
};

struct State;

inline constexpr int kStackSize = 512;  // MAX_BPF_STACK
inline constexpr int kRegCount = 11;
inline constexpr size_t kMaxFrames = 8;  // MAX_CALL_FRAMES

// Which scalars of a stored state had their exact range matter to what was proven
// after it (the kernel's `precise` marks): per frame, a register mask and a mask of
// the 64 stack slots (a spilled scalar). A scalar without the mark covers any scalar.
struct PreciseMarks {
  std::array<uint16_t, kMaxFrames> regs{};
  std::array<uint64_t, kMaxFrames> slots{};
  // (Outside the tracked frames and slots: precise, the safe answer.)
  bool reg(size_t f, int r) const { return f >= kMaxFrames || (regs[f] >> r & 1); }
  bool slot(size_t f, size_t i) const { return f >= kMaxFrames || i >= 64 || (slots[f] >> i & 1); }
  bool empty() const {
    for (size_t f = 0; f < kMaxFrames; ++f)
      if (regs[f] || slots[f]) return false;
    return true;
  }
};

struct Frame {
  std::array<Reg, kRegCount> regs;
  // slots[i] covers bytes [fp - 8*(i+1), fp - 8*i); grown on demand.
  std::vector<StackSlot> slots;
  uint32_t subprog = 0;
  uint32_t callsite = 0;   // the call instruction that made this frame (0 for the main frame)
  uint32_t depth = 0;      // deepest stack byte written, rounded to 8 (the frame's stack size)
  bool in_callback = false;  // a callback (bpf_loop, ...): returns to a helper, R0 in [0, 1]
  uint32_t callback_ret_min = 0, callback_ret_max = 0;
  // A callback frame: the whole state when it was entered (to run it again from
  // what one run leaves behind, until that adds nothing).
  std::shared_ptr<const State> callback_entry;
  friend bool operator==(const Frame&, const Frame&) = default;

  StackSlot* slot_of(int32_t fp_off);             // nullptr when never grown that deep
  StackSlot& grow_to(int32_t fp_off);             // the slot, created Invalid if needed
};

// An acquired reference (a ringbuf record, a socket) and where it was acquired (the helper call).
struct Reference {
  uint32_t id = 0;
  uint32_t insn = 0;
  friend bool operator==(const Reference&, const Reference&) = default;
};

// A branch decision on the current path, kept as a shared list so forks are cheap.
struct PathStep {
  uint32_t insn = 0;
  bool taken = false;
  std::shared_ptr<const PathStep> prev;
};

struct State {
  std::vector<Frame> frames;  // frames.back() is the current one
  std::vector<Reference> refs;
  std::shared_ptr<const PathStep> path;
  // may_goto fall-throughs on this path: a loop through one is not infinite, since
  // the run's budget ends it (compared by same_as, ignored by covers, as the kernel).
  uint32_t may_goto_depth = 0;

  Frame& cur() { return frames.back(); }
  const Frame& cur() const { return frames.back(); }
  Reg& reg(int r) { return frames.back().regs[r]; }
  const Reg& reg(int r) const { return frames.back().regs[r]; }

  // Every concrete state `o` describes is also described by this one (pruning).
  // `live_regs`, when given, holds one register mask per frame (liveness.h): registers
  // outside it are never read again before being written, so they are not compared.
  // `precise`, when given, names the scalars whose ranges are compared; any other
  // scalar covers any scalar (without it, every scalar is compared by range).
  bool covers(const State& o, const uint16_t* live_regs = nullptr, const PreciseMarks* precise = nullptr) const;
  // The same beliefs (the infinite-loop check: a loop came back to where it was).
  bool same_as(const State& o) const;
  // Scalar ids held by one register or spill only link nothing: dropped, so that
  // they do not stop pruning (the kernel's clear_singular_ids).
  void clear_singular_scalar_ids();
  // Equal states have equal fingerprints (a cheap filter before same_as).
  uint64_t fingerprint() const;
  size_t memory_bytes() const;
};

// Loops the verifier does not iterate to the end (bpf_loop callbacks, may_goto
// loops) run again from a widened state until one run adds nothing new.
// widen_stack: `after` with the stack bytes and spilled scalars that differ from
// `before` made unknown. widen_state: that, plus registers: a scalar outside the
// earlier one's bounds becomes unknown, a pointer that changed becomes unusable.
State widen_stack(const State& before, const State& after);
State widen_state(const State& before, const State& after);

// The decisions on a path, oldest first: "insn 4 taken, insn 9 not taken".
std::string describe_path(const std::shared_ptr<const PathStep>& path, size_t max_steps = 12);

}  // namespace bpfkit::verifier
