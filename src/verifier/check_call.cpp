// Calls and exits: helper calls checked against the one helper table's
// prototypes (argument kinds, memory sizes, the map they act on), references
// acquired and released (ringbuf records, sockets), bpf-to-bpf calls as new frames,
// callbacks (bpf_loop, for_each_map_elem) run as frames that return into the
// helper, and the return-value rules at the program's exit.
#include <algorithm>

#include "verifier/analyzer.h"

namespace bpfkit::verifier {
namespace {

constexpr uint64_t kMaxVarSize = uint64_t(1) << 29;  // BPF_MAX_VAR_SIZ

bool is_map_in_map(uint32_t type) {
  return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

}  // namespace

void Analyzer::invalidate_packet_pointers(State& s) {
  auto clear = [&](Reg& r) {
    if (r.is_packet() || r.type == RegType::PacketEnd) {
      const RegType was = r.type;
      r = in_.privileged ? Reg::unknown_scalar() : Reg{};
      r.released = was;  // for the message of a later use
    }
  };
  for (Frame& f : s.frames) {
    for (Reg& r : f.regs) clear(r);
    for (StackSlot& slot : f.slots) {
      if (slot.bytes[0] == StackByte::Spill && (slot.spill.is_packet() || slot.spill.type == RegType::PacketEnd)) {
        slot.bytes.fill(StackByte::Misc);
        slot.spill = Reg{};
        slot.spill_size = 0;
      }
    }
  }
}

void Analyzer::exec_helper_call(Path& path, const isa::Call& c) {
  State& s = path.state;
  const core::HelperSpec* h = helpers_->find(c.imm);
  if (h == nullptr) {
    reject(RejectKind::HelperUnknown, "call to unknown helper #" + std::to_string(c.imm) +
                                          " (bpfkit has no helper with this id)");
  }
  const std::string name = "bpf_" + h->name + "#" + std::to_string(c.imm);
  if (!type_->allows_helper(c.imm)) {
    reject(RejectKind::HelperNotAllowed, type_->name + " programs cannot call " + name);
  }
  if (!in_.privileged && helper_needs_perfmon(c.imm)) {
    reject(RejectKind::HelperNotAllowed, name + " needs CAP_PERFMON");
  }
  const MapInfo* map = nullptr;
  uint32_t map_idx = 0;
  int mem_regno = 0;
  Access mem_access = Access::Read;
  uint64_t alloc_size = 0;
  uint32_t release_ref = 0;
  uint32_t callback = UINT32_MAX;
  for (int i = 0; i < 5; ++i) {
    const core::ArgKind kind = h->proto.args[i];
    if (kind == core::ArgKind::None) break;
    const int regno = i + 1;
    const std::string arg = name + " argument " + std::to_string(regno) + " (R" + std::to_string(regno) + ")";
    const Reg r = read_reg(s, regno, arg);
    if (r.maybe_null && kind != core::ArgKind::PtrToMemOrNull && kind != core::ArgKind::Anything) {
      reject(RejectKind::NullDereference, arg + " may be NULL (" + r.to_string(map_names_) + "): check it first");
    }
    auto expect = [&](bool ok, const std::string& what) {
      if (!ok) {
        reject(RejectKind::HelperArgument, arg + " must be " + what + ", but it holds " + r.to_string(map_names_));
      }
    };
    auto need_map = [&]() {
      if (map == nullptr) reject(RejectKind::HelperArgument, arg + " needs a map argument before it");
    };
    switch (kind) {
      case core::ArgKind::None:
        break;
      case core::ArgKind::Anything:
        if (r.is_pointer() && !in_.privileged) {
          reject(RejectKind::PointerLeak, arg + ": passing a pointer as a number would leak it");
        }
        break;
      case core::ArgKind::ConstMapPtr:
        expect(r.type == RegType::MapPtr && !r.maybe_null, "a map (lddw of a map)");
        map_idx = r.map;
        map = &maps_[r.map];
        if (!helper_accepts_map(c.imm, map->type)) {
          reject(RejectKind::HelperArgument, "map '" + map->name + "' (type " + std::to_string(map->type) +
                                                 ") cannot be passed to " + name);
        }
        break;
      case core::ArgKind::PtrToMapKey:
        need_map();
        check_helper_mem(s, regno, map->key_size, map->key_size, Access::Read, regno);
        break;
      case core::ArgKind::PtrToMapValue:
        need_map();
        check_helper_mem(s, regno, map->value_size, map->value_size, Access::Read, regno);
        break;
      case core::ArgKind::PtrToUninitMapValue:
        need_map();
        check_helper_mem(s, regno, map->value_size, map->value_size, Access::Write, regno);
        break;
      case core::ArgKind::PtrToMem: case core::ArgKind::PtrToUninitMem: case core::ArgKind::PtrToMemOrNull:
        if (kind == core::ArgKind::PtrToMemOrNull && r.is_scalar()) need_precise(regno);
        if (kind == core::ArgKind::PtrToMemOrNull && r.is_null()) {
          mem_regno = -1;  // NULL: the size that follows must be 0
          break;
        }
        expect(r.is_pointer() && r.type != RegType::Ctx && r.type != RegType::MapPtr && r.type != RegType::Func &&
                   r.type != RegType::PacketEnd,
               "a pointer to memory");
        mem_regno = regno;
        mem_access = kind == core::ArgKind::PtrToUninitMem ? Access::Write : Access::Read;
        break;
      case core::ArgKind::ConstSize: case core::ArgKind::ConstSizeOrZero: {
        expect(r.is_scalar(), "a size (a scalar)");
        need_precise(regno);
        if (r.var.smin < 0) {
          reject(RejectKind::HelperArgument, arg + ": the size may be negative (" + r.var.to_string() +
                                                 "): use an unsigned value or check it first");
        }
        if (r.var.umax >= kMaxVarSize) {
          reject(RejectKind::HelperArgument, arg + ": the size is unbounded (" + r.var.to_string() +
                                                 "): bound it with a comparison or a mask");
        }
        if (kind == core::ArgKind::ConstSize && r.var.umin == 0) {
          reject(RejectKind::HelperArgument, arg + ": the size may be 0 (" + r.var.to_string() +
                                                 ") where the helper needs at least one byte");
        }
        if (mem_regno == -1) {
          if (r.var.umax != 0) reject(RejectKind::HelperArgument, arg + ": a NULL buffer needs size 0");
        } else if (mem_regno > 0) {
          check_helper_mem(s, mem_regno, r.var.umin, r.var.umax, mem_access, mem_regno);
        }
        mem_regno = 0;
        break;
      }
      case core::ArgKind::ConstAllocSizeOrZero:
        need_precise(regno);
        expect(r.is_const(), "a known constant size");
        alloc_size = r.var.const_value();
        break;
      case core::ArgKind::PtrToCtx:
        expect(r.type == RegType::Ctx && r.off == 0 && r.var.is_const() && r.var.const_value() == 0,
               "the context pointer itself");
        break;
      case core::ArgKind::PtrToStack:
        expect(r.type == RegType::Stack, "a stack pointer");
        break;
      case core::ArgKind::PtrToStackOrNull:
        if (r.is_scalar()) need_precise(regno);
        expect(r.type == RegType::Stack || r.is_null(), "a stack pointer or NULL");
        break;
      case core::ArgKind::PtrToConstStr: {
        expect(r.type == RegType::MapValue && !r.maybe_null && r.var.is_const(), "a string in a read-only map");
        const MapInfo& m = maps_[r.map];
        expect((m.flags & BPF_F_RDONLY_PROG) != 0 && m.frozen, "a string in a frozen read-only map (.rodata)");
        const int64_t at = int64_t(r.off) + int64_t(r.var.const_value());
        bool terminated = false;
        for (int64_t i = at; i >= 0 && uint64_t(i) < m.initial_value.size(); ++i) {
          if (m.initial_value[size_t(i)] == 0) {
            terminated = true;
            break;
          }
        }
        if (!terminated) reject(RejectKind::HelperArgument, arg + ": the string is not NUL-terminated in its map");
        break;
      }
      case core::ArgKind::PtrToFunc:
        expect(r.type == RegType::Func, "a callback function (a subprogram's address)");
        callback = r.subprog;
        break;
      case core::ArgKind::PtrToSockCommonRelease:
        if (!r.is_socket()) {
          reject(RejectKind::ReferenceInvalid,
                 arg + " must be a socket from bpf_sk_lookup_tcp, bpf_sk_lookup_udp or bpf_skc_lookup_tcp, "
                       "but it holds " + r.to_string(map_names_));
        }
        if (r.ref_id == 0) {
          reject(RejectKind::ReferenceInvalid,
                 arg + " must be referenced when passed to a release function: " + r.to_string(map_names_) +
                     " was not acquired by a lookup (the context's socket belongs to the kernel)");
        }
        if (r.off != 0 || !(r.var.is_const() && r.var.const_value() == 0)) {
          reject(RejectKind::ReferenceInvalid, arg + " must point to the socket's start (it is at offset " +
                                                   std::to_string(r.off) + ")");
        }
        release_ref = r.ref_id;
        break;
      case core::ArgKind::PtrToAllocMem:
        if (r.type != RegType::Mem || r.ref_id == 0 || r.maybe_null) {
          reject(RejectKind::ReferenceInvalid, arg + " must be a record from bpf_ringbuf_reserve that was checked "
                                                     "against NULL, but it holds " + r.to_string(map_names_));
        }
        if (r.off != 0 || !(r.var.is_const() && r.var.const_value() == 0)) {
          reject(RejectKind::ReferenceInvalid, arg + " must point to the record's start (it is at offset " +
                                                   std::to_string(r.off) + ")");
        }
        release_ref = r.ref_id;
        break;
    }
  }
  if (c.imm == BPF_FUNC_tail_call) {
    if (!s.refs.empty()) {
      reject(RejectKind::ReferenceLeak,
             "bpf_tail_call would leak a reference: " + describe_reference(s.refs.front()) + " before the call");
    }
    uint32_t callers = 0;
    for (size_t f = 0; f + 1 < s.frames.size(); ++f) {
      if (s.frames[f].in_callback || s.frames[f + 1].in_callback) {
        reject(RejectKind::BadCall, "bpf_tail_call is not allowed inside a callback");
      }
      callers += (s.frames[f].depth + 15) / 16 * 16;
    }
    if (callers > 256) {
      reject(RejectKind::BadCall, "bpf_tail_call from a subprogram whose callers use " + std::to_string(callers) +
                                      " bytes of stack (at most 256)");
    }
  }
  if (release_ref != 0) {
    std::erase_if(s.refs, [&](const Reference& ref) { return ref.id == release_ref; });
    for (Frame& f : s.frames) {
      for (Reg& r : f.regs) {
        if (r.ref_id == release_ref) {
          // As the kernel: a number with CAP_PERFMON (copying it is fine, using it as a
          // pointer is not), unreadable without.
          const RegType was = r.type;
          r = in_.privileged ? Reg::unknown_scalar() : Reg{};
          r.released = was;
        }
      }
      for (StackSlot& slot : f.slots) {
        if (slot.bytes[0] == StackByte::Spill && slot.spill.ref_id == release_ref) {
          slot.bytes.fill(StackByte::Misc);
          slot.spill = Reg{};
        }
      }
    }
  }
  if (helper_changes_packet_data(c.imm)) invalidate_packet_pointers(s);
  const CallbackInfo cb = helper_callback(c.imm);
  Reg cb_ctx;
  if (cb.ctx_arg >= 0) cb_ctx = s.reg(cb.ctx_arg + 1);
  for (int r = 1; r <= 5; ++r) s.reg(r) = Reg{};
  Reg r0;
  switch (h->proto.ret) {
    case core::RetKind::Integer: r0 = Reg::unknown_scalar(); break;
    case core::RetKind::Void: break;
    case core::RetKind::PtrToMapValueOrNull:
      if (map == nullptr) reject(RejectKind::HelperArgument, name + " returns a map value but has no map argument");
      if (is_map_in_map(map->type)) {
        r0 = Reg::pointer(RegType::MapPtr);
        r0.map = uint32_t(in_.maps.size());
        for (uint32_t i = 0; i < map_idx && i < in_.maps.size(); ++i) {
          if (in_.maps[i].inner) ++r0.map;
        }
      } else {
        r0 = Reg::pointer(RegType::MapValue);
        r0.map = map_idx;
        r0.read_only = (map->flags & BPF_F_RDONLY_PROG) != 0;
      }
      r0.maybe_null = true;
      r0.id = new_id();
      break;
    case core::RetKind::PtrToMemOrNull:
      r0 = Reg::pointer(RegType::Mem);
      r0.maybe_null = true;
      r0.id = new_id();
      break;
    case core::RetKind::PtrToAllocMemOrNull:
      r0 = Reg::pointer(RegType::Mem);
      r0.maybe_null = true;
      r0.mem_size = uint32_t(alloc_size);
      r0.id = new_id();
      r0.ref_id = r0.id;
      s.refs.push_back(Reference{r0.ref_id, uint32_t(pc_)});
      break;
    case core::RetKind::PtrToSocketOrNull: case core::RetKind::PtrToSockCommonOrNull:
      // An acquired reference, as a ringbuf record: NULL-checked, then released on every path.
      r0 = Reg::pointer(h->proto.ret == core::RetKind::PtrToSocketOrNull ? RegType::Socket
                                                                         : RegType::SockCommon);
      r0.maybe_null = true;
      r0.id = new_id();
      r0.ref_id = r0.id;
      s.refs.push_back(Reference{r0.ref_id, uint32_t(pc_)});
      break;
  }
  s.reg(0) = r0;
  path.pc = pc_ + 1;
  if (cb.func_arg >= 0) {
    if (callback == UINT32_MAX) reject(RejectKind::BadCall, name + " needs a callback function");
    // The helper may not call it at all (bpf_loop with 0 iterations): the path
    // above continues; a second path runs the callback.
    enter_callback(path, callback, cb_ctx, cb.ret_min, cb.ret_max);
  }
}

std::string Analyzer::describe_reference(const Reference& ref) const {
  const auto* call = g_.insns[ref.insn] ? std::get_if<isa::Call>(&*g_.insns[ref.insn]) : nullptr;
  const core::HelperSpec* h = call ? helpers_->find(call->imm) : nullptr;
  const std::string id = " (reference id=" + std::to_string(ref.id) + ")";
  if (h != nullptr && h->proto.ret == core::RetKind::PtrToAllocMemOrNull) {
    return "the ring buffer record reserved at " + describe_insn(ref.insn) + id +
           " is neither submitted nor discarded";
  }
  const bool socket = h != nullptr && (h->proto.ret == core::RetKind::PtrToSocketOrNull ||
                                       h->proto.ret == core::RetKind::PtrToSockCommonOrNull);
  if (socket) {
    return "the socket acquired by bpf_" + h->name + " at " + describe_insn(ref.insn) + id +
           " is not released (pass it to bpf_sk_release once it is checked against NULL)";
  }
  return "the reference acquired at " + describe_insn(ref.insn) + id + " is not released";
}

void Analyzer::enter_callback(Path& path, uint32_t subprog, const Reg& ctx_arg, uint32_t ret_min,
                              uint32_t ret_max) {
  State s = path.state;
  if (s.frames.size() >= kMaxCallFrames) {
    reject(RejectKind::CallDepth, "the callback would make the call stack " + std::to_string(s.frames.size() + 1) +
                                      " frames deep (at most 8)");
  }
  Frame callee;
  callee.subprog = subprog;
  callee.callsite = uint32_t(pc_);
  callee.in_callback = true;
  callee.callback_ret_min = ret_min;
  callee.callback_ret_max = ret_max;
  const uint32_t helper = uint32_t(std::get<isa::Call>(*g_.insns[pc_]).imm);
  if (helper == BPF_FUNC_loop) {
    callee.regs[1] = Reg::scalar(ScalarValue::unsigned_range(0, UINT32_MAX));
    callee.regs[2] = ctx_arg;
  } else {
    reject(RejectKind::Unsupported, "callbacks of helper #" + std::to_string(helper) + " are not supported yet");
  }
  callee.regs[10] = Reg::pointer(RegType::Stack);
  callee.regs[10].frame = uint32_t(s.frames.size());
  s.frames.push_back(std::move(callee));
  check_stack_limits(s);
  s.cur().callback_entry = std::make_shared<const State>(s);
  fork(path, std::move(s), g_.subprogs[subprog].start, uint32_t(pc_), true);
}

void Analyzer::exec_local_call(Path& path, const isa::Call& c) {
  (void)c;
  State& s = path.state;
  const auto callee_idx = g_.callee(pc_);
  if (!callee_idx) reject(RejectKind::BadCall, "the call does not name a subprogram");
  if (s.frames.size() >= kMaxCallFrames) {
    reject(RejectKind::CallDepth, "the call stack of " + std::to_string(s.frames.size() + 1) +
                                      " frames is too deep (at most 8)");
  }
  Frame callee;
  callee.subprog = uint32_t(*callee_idx);
  callee.callsite = uint32_t(pc_);
  for (int r = 1; r <= 5; ++r) callee.regs[r] = s.reg(r);
  callee.regs[10] = Reg::pointer(RegType::Stack);
  callee.regs[10].frame = uint32_t(s.frames.size());
  s.frames.push_back(std::move(callee));
  check_stack_limits(s);
  path.pc = g_.subprogs[*callee_idx].start;
}

void Analyzer::check_stack_limits(const State& s) {
  uint32_t total = 0;
  for (const Frame& f : s.frames) total += (f.depth + 15) / 16 * 16;  // the kernel rounds frames to 16 when it JITs
  stats_.max_stack_depth = std::max(stats_.max_stack_depth, total);
  if (total > uint32_t(kStackSize)) {
    reject(RejectKind::StackLimit, "the combined stack of " + std::to_string(s.frames.size()) + " frames is " +
                                       std::to_string(total) + " bytes (at most 512)");
  }
}

void Analyzer::check_return_code(const State& s) {
  const Reg& r0 = s.reg(0);
  if (r0.type == RegType::NotInit) {
    reject(RejectKind::ReturnValue, "R0 is not set at the program's exit");
  }
  const auto range = type_->return_range(in_.expected_attach_type);
  if (r0.is_pointer()) {
    if (range || !in_.privileged) {
      reject(range ? RejectKind::ReturnValue : RejectKind::PointerLeak,
             "R0 holds " + r0.to_string(map_names_) + " at exit: the program must return a number");
    }
    return;
  }
  if (range) need_precise(0);
  if (range && (r0.var.smin < range->min || r0.var.smax > range->max)) {
    reject(RejectKind::ReturnValue, "R0 is " + r0.var.to_string() + " at exit, but a " + type_->name +
                                        " program must return a value in [" + std::to_string(range->min) + ", " +
                                        std::to_string(range->max) + "]");
  }
}

bool Analyzer::exec_exit(Path& path) {
  State& s = path.state;
  check_stack_limits(s);
  if (s.frames.size() == 1) {
    if (!s.refs.empty()) {
      reject(RejectKind::ReferenceLeak, describe_reference(s.refs.front()) + " on this path");
    }
    check_return_code(s);
    return false;
  }
  Frame& callee = s.cur();
  const Reg r0 = callee.regs[0];
  if (r0.type == RegType::Stack && r0.frame == s.frames.size() - 1) {
    reject(RejectKind::ReturnValue, "the subprogram returns a pointer to its own stack, which dies with it");
  }
  const size_t callsite = callee.callsite;
  if (callee.in_callback) {
    if (r0.type == RegType::NotInit) reject(RejectKind::ReturnValue, "R0 is not set at the callback's exit");
    if (!r0.is_scalar() || r0.var.smin < int64_t(callee.callback_ret_min) ||
        r0.var.smax > int64_t(callee.callback_ret_max)) {
      reject(RejectKind::ReturnValue, "the callback returns " + r0.to_string(map_names_) + ", but must return a value in [" +
                                          std::to_string(callee.callback_ret_min) + ", " +
                                          std::to_string(callee.callback_ret_max) + "]");
    }
    const std::shared_ptr<const State> entry = callee.callback_entry;
    s.frames.pop_back();
    // Registers were set by the helper call already (R0 its result, R1-R5 clobbered).
    // The helper may run the callback again from what this run left behind:
    // explore that from a widened state unless the last entry covers it.
    State caller_at_entry = *entry;
    Frame entry_frame = caller_at_entry.frames.back();
    caller_at_entry.frames.pop_back();
    State again = widen_stack(caller_at_entry, s);
    if (!caller_at_entry.covers(again)) {
      again.frames.push_back(std::move(entry_frame));
      again.cur().callback_entry = std::make_shared<const State>(again);
      const size_t saved = pc_;
      pc_ = callsite;
      fork(path, std::move(again), g_.subprogs[entry->frames.back().subprog].start, uint32_t(callsite), true);
      pc_ = saved;
    }
    path.pc = callsite + 1;
    return true;
  }
  s.frames.pop_back();
  for (int r = 1; r <= 5; ++r) s.reg(r) = Reg{};
  s.reg(0) = r0;
  path.pc = callsite + 1;
  return true;
}

}  // namespace bpfkit::verifier
