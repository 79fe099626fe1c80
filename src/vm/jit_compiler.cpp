#include "vm/jit_compiler.h"
#include "vm/run_errors.h"

#include <cstddef>
#include <iterator>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "isa/opcodes.h"
#include "vm/x86_encoder.h"

namespace bpfkit::vm::jit {

bool host_has_bmi2() {
  static const bool has = [] {
    __builtin_cpu_init();  // harmless after startup, needed if called from a static initializer
    return __builtin_cpu_supports("bmi2") != 0;
  }();
  return has;
}

namespace {

using x86::Assembler;
using x86::Cond;
using x86::Label;
using x86::Mem;
using x86::Reg;
using XAlu = x86::AluOp;
using x86::ShiftOp;

constexpr Reg kRegMap[isa::kRegCount] = {Reg::Rax, Reg::Rdi, Reg::Rsi, Reg::Rdx, Reg::Rcx, Reg::R8,
                                         Reg::Rbx, Reg::R13, Reg::R14, Reg::R15, Reg::Rbp};
constexpr Reg kState = Reg::R12;
// Callee-saved registers a function saves: r10 and r6-r9 of its caller.
constexpr Reg kFrameSaved[] = {Reg::Rbp, Reg::Rbx, Reg::R13, Reg::R14, Reg::R15};
// What the entry stub saves for its C++ caller.
constexpr Reg kEntrySaved[] = {Reg::Rbx, Reg::Rbp, Reg::R12, Reg::R13, Reg::R14, Reg::R15};
// Caller-saved registers holding r0-r5, which the check stub must keep (r9 pads to 16 bytes).
constexpr Reg kCheckSaved[] = {Reg::Rax, Reg::Rdi, Reg::Rsi, Reg::Rdx, Reg::Rcx, Reg::R8, Reg::R9};

constexpr int32_t kStack = int32_t(kStackSize);
constexpr int32_t kStackArea = kStack * int32_t(kMaxFrames);
// The entry stub's frame: the stack area plus 8 bytes that realign rsp to 16 after six pushes.
constexpr int32_t kEntryFrame = kStackArea + 8;
constexpr int kMaxPasses = 10;

Reg R(uint8_t bpf_reg) { return kRegMap[bpf_reg]; }

#define STATE(field) (Mem{kState, int32_t(offsetof(RunState, field))})

Cond jump_cond(isa::JmpCond c) {
  switch (c) {
    case isa::JmpCond::Eq: return Cond::E;
    case isa::JmpCond::Ne: return Cond::NE;
    case isa::JmpCond::Set: return Cond::NE;
    case isa::JmpCond::Gt: return Cond::A;
    case isa::JmpCond::Ge: return Cond::AE;
    case isa::JmpCond::Lt: return Cond::B;
    case isa::JmpCond::Le: return Cond::BE;
    case isa::JmpCond::Sgt: return Cond::G;
    case isa::JmpCond::Sge: return Cond::GE;
    case isa::JmpCond::Slt: return Cond::L;
    case isa::JmpCond::Sle: return Cond::LE;
    case isa::JmpCond::MayGoto: break;  // compiled by may_goto()
  }
  return Cond::E;
}

const char* atomic_kind(const isa::Atomic& a) {
  switch (a.op) {
    case isa::AtomicOp::Add: return a.fetch ? "atomic fetch add" : "atomic add";
    case isa::AtomicOp::Or: return a.fetch ? "atomic fetch or" : "atomic or";
    case isa::AtomicOp::And: return a.fetch ? "atomic fetch and" : "atomic and";
    case isa::AtomicOp::Xor: return a.fetch ? "atomic fetch xor" : "atomic xor";
    case isa::AtomicOp::Xchg: return "atomic xchg";
    case isa::AtomicOp::CmpXchg: return "atomic cmpxchg";
  }
  return "atomic";
}

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The register an instruction writes, if any (for the r10 check and the saved registers).
int written_register(const isa::Instruction& insn) {
  if (auto* a = std::get_if<isa::Alu>(&insn)) return a->dst;
  if (auto* n = std::get_if<isa::Neg>(&insn)) return n->dst;
  if (auto* e = std::get_if<isa::Endian>(&insn)) return e->dst;
  if (auto* l = std::get_if<isa::Load>(&insn)) return l->dst;
  if (auto* l = std::get_if<isa::LoadImm64>(&insn)) return l->dst;
  if (auto* a = std::get_if<isa::Atomic>(&insn); a && a->fetch) return a->src;
  return -1;
}

// The registers an instruction reads, as a bit mask.
uint32_t read_registers(const isa::Instruction& insn) {
  auto bit = [](uint8_t r) { return uint32_t(1) << r; };
  auto op = [&](const isa::Operand& o) { return o.is_imm ? 0u : bit(o.reg); };
  if (auto* a = std::get_if<isa::Alu>(&insn)) {
    const bool reads_dst = a->op != isa::AluOp::Mov && a->op != isa::AluOp::MovSx8 &&
                           a->op != isa::AluOp::MovSx16 && a->op != isa::AluOp::MovSx32;
    return (reads_dst ? bit(a->dst) : 0) | op(a->src);
  }
  if (auto* n = std::get_if<isa::Neg>(&insn)) return bit(n->dst);
  if (auto* e = std::get_if<isa::Endian>(&insn)) return bit(e->dst);
  if (auto* l = std::get_if<isa::Load>(&insn)) return bit(l->base);
  if (auto* s = std::get_if<isa::Store>(&insn)) return bit(s->base) | op(s->value);
  if (auto* a = std::get_if<isa::Atomic>(&insn))
    return bit(a->base) | bit(a->src) | (a->op == isa::AtomicOp::CmpXchg ? bit(0) : 0);
  if (auto* p = std::get_if<isa::PacketLoad>(&insn)) return bit(6) | (p->indirect ? bit(p->src) : 0);
  if (auto* j = std::get_if<isa::Jump>(&insn)) return bit(j->dst) | op(j->src);
  if (std::holds_alternative<isa::Call>(insn)) return 0b111110;  // r1-r5
  if (auto* c = std::get_if<isa::CallX>(&insn)) return 0b111110 | bit(c->reg);
  if (std::holds_alternative<isa::Exit>(insn)) return bit(0);
  return 0;
}

bool reads_r10(const isa::Instruction& insn) { return read_registers(insn) & (1u << isa::kFramePointer); }

bool needs_loader(const isa::Instruction& insn) {
  if (auto* l = std::get_if<isa::LoadImm64>(&insn)) return l->pseudo != isa::Pseudo::Imm64;
  if (auto* c = std::get_if<isa::Call>(&insn)) return c->kind == isa::CallKind::Kfunc;
  return std::holds_alternative<isa::PacketLoad>(insn);
}

// One function (the main program or a bpf-to-bpf callee): its slots, what its code
// does, and the native frame chosen for it.
struct Function {
  uint32_t start = 0, end = 0;
  bool reads_r10 = false;
  bool local_calls = false;
  bool other_calls = false;  // helpers, callx
  bool writes[isa::kRegCount] = {};
  bool sets_frame = false;  // has its own r10: the main function sets rbp, callees move it down
  std::vector<Reg> saved;   // pushed by the prologue in this order
  int32_t frame_bytes = 0;  // rsp adjustment after the pushes: stack area, alignment
};

class Codegen {
 public:
  Codegen(const Program& program, const CodegenOptions& options);
  std::vector<uint8_t> emit(const std::vector<bool>& hints, std::vector<bool>* next_hints);

  std::vector<int32_t> helper_ids;
  std::vector<AccessSite> sites;  // rebuilt by every emission
  std::vector<std::pair<uint32_t, uint32_t>> subprogram_offsets;  // by the last emission
  size_t callback_entry = 0;

 private:
  struct ColdCheck {
    Label cold, resume;
    Reg base;
    int32_t off;
    uint32_t site;
  };

  void plan_frames();
  void entry_stub(Label entry_return);
  void prologue(const Function& f);
  void epilogue(const Function& f);
  void zero_frame();
  void instruction(uint32_t slot, const isa::Instruction& insn);
  void out_of_line_code();
  void callback_trampoline();
  void error_exit_to_callback();

  void alu(const isa::Alu& a);
  void alu_imm(const isa::Alu& a);
  void alu_reg(const isa::Alu& a);
  void divide(isa::AluOp op, bool is64, Reg dst, Reg divisor);
  void divide_imm(isa::AluOp op, bool is64, Reg dst, int32_t imm);
  void divide_by_r11(bool is64, bool is_signed, bool is_mod, Reg dst);
  void divide_by_zero(bool is64, bool is_mod, Reg dst);
  void divide_by_minus_one(bool is64, bool is_mod, Reg dst);
  void shift_reg(isa::AluOp op, bool is64, Reg dst, Reg count);
  void endian(const isa::Endian& e);
  void load(const isa::Load& l);
  void store(const isa::Store& s);
  void atomic(const isa::Atomic& at);
  void jump(const isa::Jump& j, uint32_t target);
  void helper_call(int32_t id);
  void local_call(uint32_t target);
  void callx(uint8_t reg);

  void load_constant(Reg dst, uint64_t value);
  void zero_extend(Reg r) { a_->mov(4, r, r); }
  void emit_check(const char* kind, uint8_t base, int16_t off, uint8_t size, bool write, bool atomic);
  void spend_budget();
  void check_abort();
  Label error_stub(ErrorKind kind, uint32_t slot);
  Label kind_stub(ErrorKind kind);
  // Whether the code for `slot` directly follows the current instruction's.
  bool falls_into(uint32_t target, uint32_t next) const { return target == next && !is_function_[next]; }
  uint32_t function_index(uint32_t slot) const { return function_of_.at(slot); }

  const CodegenOptions options_;
  const size_t slots_;
  std::vector<const isa::Instruction*> by_slot_;
  std::vector<bool> is_function_;  // slot starts a function (main program or call target); size slots_ + 1
  std::map<int32_t, uint32_t> helper_index_;
  bool has_local_calls_ = false;
  // Helpers may call subprograms back (ExecEnv::call_subprogram): helper calls record r10,
  // functions that call helpers get frames, and the depth limit is tracked.
  std::vector<uint32_t> subprograms_;
  bool needs_loader_ = false;
  bool has_may_goto_ = false;
  bool writes_frame_pointer_ = false;  // some instruction does: it fails when reached
  std::vector<Function> functions_;
  std::vector<uint32_t> function_of_;  // slot -> index in functions_
  // Every function is self-contained (no jump or fall-through into another, nothing calls
  // the main function), as in every verified program: frames are then fitted to each
  // function and the main function is the entry point. Otherwise every frame has one
  // shape, so that any exit may return from any frame, behind a separate entry stub.
  bool tailored_ = false;
  bool may_fail_ = true;    // some code may reach the error exit: keep r12 and the saved rsp
  bool needs_area_ = true;  // the eBPF stack area is reserved (checked mode, or r10 is read)
  // Checked mode: registers set to 0 on entry, as the interpreter starts (an unverified program
  // may read a register it never wrote; it must not see host values).
  std::vector<uint8_t> zeroed_;
  uint32_t reads_ = 0;  // every register any instruction reads

  // Per emission.
  Assembler* a_ = nullptr;
  uint32_t slot_ = 0;
  size_t current_ = 0;              // function being emitted
  std::vector<Label> slot_labels_;  // body of each slot; [slots_]: ran past the end
  std::vector<Label> function_labels_;
  Label error_exit_, check_stub_;
  Label trampoline_, trampoline_return_, callback_error_;
  bool check_stub_used_ = false;
  std::map<ErrorKind, Label> kind_stubs_;
  std::map<std::pair<ErrorKind, uint32_t>, Label> error_stubs_;
  std::vector<ColdCheck> cold_checks_;
};

Codegen::Codegen(const Program& program, const CodegenOptions& options)
    : options_(options), slots_(program.raw().size()) {
  by_slot_.assign(slots_, nullptr);
  is_function_.assign(slots_ + 1, false);
  is_function_[0] = true;
  subprograms_ = program.subprograms();
  for (uint32_t s : subprograms_) is_function_[s] = true;
  // A callback may enter at slot 0 too: then it is no longer only the entry point.
  bool main_called = !subprograms_.empty() && subprograms_.front() == 0;
  for (const isa::DecodedInsn& d : program.insns()) {
    by_slot_[d.slot] = &d.insn;
    if (auto* c = std::get_if<isa::Call>(&d.insn)) {
      if (c->kind == isa::CallKind::Local) {
        has_local_calls_ = true;  // the target is among the subprograms
      } else if (c->kind == isa::CallKind::Helper && !helper_index_.count(c->imm)) {
        helper_index_[c->imm] = uint32_t(helper_ids.size());
        helper_ids.push_back(c->imm);
      }
    }
    needs_loader_ |= needs_loader(d.insn);
    if (auto* j = std::get_if<isa::Jump>(&d.insn); j && j->cond == isa::JmpCond::MayGoto) has_may_goto_ = true;
    if (written_register(d.insn) == isa::kFramePointer) writes_frame_pointer_ = true;
    reads_ |= read_registers(d.insn);
  }
  // Functions, and what each one's code does.
  function_of_.assign(slots_, 0);
  for (uint32_t s = 0; s < slots_; ++s) {
    if (is_function_[s]) functions_.push_back({.start = s});
    function_of_[s] = uint32_t(functions_.size() - 1);
  }
  for (size_t i = 0; i < functions_.size(); ++i)
    functions_[i].end = i + 1 < functions_.size() ? functions_[i + 1].start : uint32_t(slots_);
  bool self_contained = !main_called;
  for (const isa::DecodedInsn& d : program.insns()) {
    Function& f = functions_[function_of_[d.slot]];
    f.reads_r10 |= reads_r10(d.insn);
    const int w = written_register(d.insn);
    if (w >= 0) f.writes[w] = true;
    if (auto* c = std::get_if<isa::Call>(&d.insn))
      (c->kind == isa::CallKind::Local ? f.local_calls : f.other_calls) = true;
    if (std::holds_alternative<isa::CallX>(d.insn)) f.other_calls = true;
    int64_t target = -1;
    if (auto* j = std::get_if<isa::Jump>(&d.insn)) target = int64_t(d.slot) + 1 + j->off;
    if (auto* j = std::get_if<isa::Ja>(&d.insn)) target = int64_t(d.slot) + 1 + j->off;
    if (target >= 0 && (target < f.start || target >= f.end)) self_contained = false;
  }
  for (const Function& f : functions_) {
    uint32_t last = f.end - 1;
    while (!by_slot_[last]) --last;  // an lddw's second slot
    const isa::Instruction& insn = *by_slot_[last];
    const bool ends = std::holds_alternative<isa::Exit>(insn) ||
                      (std::holds_alternative<isa::Ja>(insn) && std::get<isa::Ja>(insn).off != 0);
    if (!ends) self_contained = false;
  }
  tailored_ = self_contained;
  plan_frames();
}

void Codegen::plan_frames() {
  const bool checked = options_.checked;
  zeroed_.clear();
  if (checked) {
    // r1 and r2 are the arguments; r6-r9 only when read (zeroing them means saving them).
    for (uint8_t r : {0, 3, 4, 5, 6, 7, 8, 9})
      if (r < 6 || (reads_ & (1u << r))) zeroed_.push_back(r);
  }
  const bool callbacks = !subprograms_.empty();
  needs_area_ = checked || callbacks;  // a callback's frame lies in the area, below its caller's
  bool any_calls = false;
  for (const Function& f : functions_) {
    needs_area_ |= f.reads_r10;
    any_calls |= f.local_calls || f.other_calls;
  }
  // The run state (kState) is loaded for errors, and for may_goto's budget.
  may_fail_ = checked || !tailored_ || any_calls || needs_loader_ || has_may_goto_ || writes_frame_pointer_;
  if (!tailored_) {
    for (Function& f : functions_) {
      f.sets_frame = true;
      f.saved.assign(std::begin(kFrameSaved), std::end(kFrameSaved));
      f.frame_bytes = 0;  // return address + 5 pushes: rsp stays 16-byte aligned
    }
    return;
  }
  // rsp is 8 mod 16 on entry (the return address); calls need it 0 mod 16.
  auto pad = [&](const Function& f) {
    const bool makes_calls = checked || f.local_calls || f.other_calls;
    return makes_calls && f.saved.size() % 2 == 0 ? 8 : 0;
  };
  bool any_frame = false, any_writes[isa::kRegCount] = {};
  for (uint8_t r : zeroed_) any_writes[r] = true;
  for (size_t i = 0; i < functions_.size(); ++i) {
    Function& f = functions_[i];
    f.sets_frame = checked || f.reads_r10 || f.local_calls || (callbacks && f.other_calls);
    any_frame |= f.sets_frame;
    for (int r = 6; r <= 9; ++r) any_writes[r] |= f.writes[r];
    if (i == 0) continue;
    // A callee keeps its caller's r10 and r6-r9 when it changes them.
    if (f.sets_frame) f.saved.push_back(Reg::Rbp);
    for (int r = 6; r <= 9; ++r)
      if (f.writes[r]) f.saved.push_back(R(uint8_t(r)));
    f.frame_bytes = pad(f);
  }
  // The main function is the entry point: it keeps what any function changes of the C++
  // caller's registers, since an error returns from every frame at once.
  Function& main = functions_[0];
  main.sets_frame = any_frame;
  if (may_fail_) main.saved.push_back(kState);
  if (main.sets_frame) main.saved.push_back(Reg::Rbp);
  for (int r = 6; r <= 9; ++r)
    if (any_writes[r]) main.saved.push_back(R(uint8_t(r)));
  main.frame_bytes = (needs_area_ ? kStackArea : 0) + pad(main);
}

std::vector<uint8_t> Codegen::emit(const std::vector<bool>& hints, std::vector<bool>* next_hints) {
  Assembler a(hints);
  a_ = &a;
  sites.clear();
  kind_stubs_.clear();
  error_stubs_.clear();
  cold_checks_.clear();
  check_stub_used_ = false;
  slot_labels_.clear();
  function_labels_.clear();
  for (size_t i = 0; i <= slots_; ++i) slot_labels_.push_back(a.new_label());
  for (size_t i = 0; i < functions_.size(); ++i) function_labels_.push_back(a.new_label());
  error_exit_ = a.new_label();
  check_stub_ = a.new_label();
  trampoline_ = a.new_label();
  trampoline_return_ = a.new_label();
  callback_error_ = a.new_label();

  if (!tailored_) entry_stub(a.new_label());
  for (current_ = 0; current_ < functions_.size(); ++current_) {
    const Function& f = functions_[current_];
    a.bind(function_labels_[current_]);
    prologue(f);
    const isa::Instruction* last = nullptr;
    for (uint32_t s = f.start; s < f.end; ++s) {
      if (!by_slot_[s]) continue;  // second slot of an lddw
      a.bind(slot_labels_[s]);
      slot_ = s;
      instruction(s, *by_slot_[s]);
      last = by_slot_[s];
    }
    // Falling off a function continues with the next one's first instruction, as
    // in the interpreter (only programs with the uniform layout do this).
    const bool ends = std::holds_alternative<isa::Exit>(*last) ||
                      (std::holds_alternative<isa::Ja>(*last) && std::get<isa::Ja>(*last).off != 0);
    if (!ends && f.end < slots_) a.jmp(slot_labels_[f.end]);
  }
  if (!tailored_) {
    a.bind(slot_labels_[slots_]);
    a.mov32(Reg::R10, uint32_t(slots_));
    a.jmp(kind_stub(ErrorKind::FellOff));
  } else if (may_fail_) {
    // Errors land here from any depth: the saved rsp drops every frame at once.
    a.bind(error_exit_);
    error_exit_to_callback();
    a.mov(8, Reg::Rsp, STATE(saved_rsp));
    epilogue(functions_[0]);
  }
  out_of_line_code();
  if (!subprograms_.empty()) callback_trampoline();
  std::vector<uint8_t> code = a.finish();
  subprogram_offsets.clear();
  for (uint32_t s : subprograms_)
    subprogram_offsets.emplace_back(s, uint32_t(a.offset(function_labels_.at(function_index(s)))));
  callback_entry = subprograms_.empty() ? 0 : a.offset(trampoline_);
  *next_hints = a.next_short_hints();
  a_ = nullptr;
  return code;
}

// The uniform layout's entry, uint64_t entry(r1 = rdi, r2 = rsi, RunState* = rdx): saves
// the C++ callee-saved registers, reserves the eBPF stack area and calls the main function.
void Codegen::entry_stub(Label entry_return) {
  Assembler& a = *a_;
  for (Reg r : kEntrySaved) a.push(r);
  a.mov(8, kState, Reg::Rdx);
  a.alu(XAlu::Sub, 8, Reg::Rsp, kEntryFrame);
  a.mov(8, STATE(saved_rsp), Reg::Rsp);
  // The main function's prologue moves r10 down one frame, to the area's top.
  a.lea(Reg::Rbp, Mem{Reg::Rsp, kStackArea + kStack});
  if (options_.checked) {
    a.lea(Reg::R11, Mem{Reg::Rsp, kStackArea});
    a.mov(8, STATE(stack_top), Reg::R11);
  }
  if (!subprograms_.empty()) {
    // Frame k has r10 = top - 512 * k; a call from frame kMaxFrames - 1 would make one too many.
    a.lea(Reg::R11, Mem{Reg::Rsp, kStackArea - (int32_t(kMaxFrames) - 2) * kStack});
    a.mov(8, STATE(call_limit), Reg::R11);
  }
  for (uint8_t r : zeroed_) a.alu(XAlu::Xor, 4, R(r), R(r));
  a.call(function_labels_.at(0));
  a.bind(entry_return);
  a.alu(XAlu::Add, 8, Reg::Rsp, kEntryFrame);
  for (int i = int(std::size(kEntrySaved)) - 1; i >= 0; --i) a.pop(kEntrySaved[i]);
  a.ret();
  a.bind(error_exit_);
  error_exit_to_callback();
  a.mov(8, Reg::Rsp, STATE(saved_rsp));
  a.jmp(entry_return);
}

// An error inside a callback unwinds only to the innermost trampoline, which returns to
// the C++ that called it (the outer run's helper) with the error recorded.
void Codegen::error_exit_to_callback() {
  if (subprograms_.empty()) return;
  a_->mov(8, Reg::R11, STATE(callback_rsp));
  a_->test(8, Reg::R11, Reg::R11);
  a_->jcc(Cond::NE, callback_error_);
}

// uint64_t trampoline(r1..r5 = rdi, rsi, rdx, rcx, r8, const CallbackCall* = r9): saves the C++
// callee-saved registers and the outer trampoline's resume point, then calls the target as
// a bpf-to-bpf call from the frame at call->frame (the target's prologue moves r10 down).
void Codegen::callback_trampoline() {
  Assembler& a = *a_;
  a.bind(trampoline_);
  for (Reg r : kEntrySaved) a.push(r);
  a.mov(8, kState, Mem{Reg::R9, int32_t(offsetof(CallbackCall, state))});
  a.mov(8, Reg::R11, STATE(callback_rsp));
  a.push(Reg::R11);  // 6 pushes and this one: rsp is 16-byte aligned for the call
  a.mov(8, STATE(callback_rsp), Reg::Rsp);
  a.mov(8, Reg::Rbp, Mem{Reg::R9, int32_t(offsetof(CallbackCall, frame))});
  a.mov(8, Reg::R11, Mem{Reg::R9, int32_t(offsetof(CallbackCall, target))});
  // r0 and r6-r9 start at 0, as in the interpreter: never host values.
  for (uint8_t r : {0, 6, 7, 8, 9}) a.alu(XAlu::Xor, 4, R(r), R(r));
  a.call(Reg::R11);
  a.bind(trampoline_return_);
  a.pop(Reg::R11);
  a.mov(8, STATE(callback_rsp), Reg::R11);
  for (int i = int(std::size(kEntrySaved)) - 1; i >= 0; --i) a.pop(kEntrySaved[i]);
  a.ret();
  // From the error exit, r11 = callback_rsp: drop the callback's frames.
  a.bind(callback_error_);
  a.mov(8, Reg::Rsp, Reg::R11);
  a.jmp(trampoline_return_);
}

void Codegen::prologue(const Function& f) {
  Assembler& a = *a_;
  const bool entry = tailored_ && &f == &functions_[0];
  for (Reg r : f.saved) a.push(r);
  if (entry && may_fail_) a.mov(8, kState, Reg::Rdx);
  if (f.frame_bytes) a.alu(XAlu::Sub, 8, Reg::Rsp, f.frame_bytes);
  if (!entry) {
    if (f.sets_frame) a.alu(XAlu::Sub, 8, Reg::Rbp, kStack);
  } else {
    if (may_fail_) a.mov(8, STATE(saved_rsp), Reg::Rsp);
    // The stack area is [rsp, rsp + 4096); frame 0 is its top 512 bytes.
    if (f.sets_frame) a.lea(Reg::Rbp, Mem{Reg::Rsp, needs_area_ ? kStackArea : 0});
    if (options_.checked) a.mov(8, STATE(stack_top), Reg::Rbp);
    if (!subprograms_.empty()) {
      // Frame k has r10 = top - 512 * k; a call from frame kMaxFrames - 1 would make one too many.
      a.lea(Reg::R11, Mem{Reg::Rbp, -(int32_t(kMaxFrames) - 2) * kStack});
      a.mov(8, STATE(call_limit), Reg::R11);
    }
    for (uint8_t r : zeroed_) a.alu(XAlu::Xor, 4, R(r), R(r));
  }
  if (options_.checked) zero_frame();
}

// Unverified programs may read stack they never wrote: give them zeros, not host data.
void Codegen::zero_frame() {
  Assembler& a = *a_;
  a.pxor(x86::Xmm::X0, x86::Xmm::X0);
  a.lea(Reg::R11, Mem{Reg::Rbp, -kStack});
  const Label loop = a.new_label();
  a.bind(loop);
  for (int32_t i = 0; i < 8; ++i) a.movaps(Mem{Reg::R11, 16 * i}, x86::Xmm::X0);
  a.alu(XAlu::Sub, 8, Reg::R11, -128);
  a.alu(XAlu::Cmp, 8, Reg::R11, Reg::Rbp);
  a.jcc(Cond::NE, loop);
}

void Codegen::epilogue(const Function& f) {
  Assembler& a = *a_;
  if (f.frame_bytes) a.alu(XAlu::Add, 8, Reg::Rsp, f.frame_bytes);
  for (auto it = f.saved.rbegin(); it != f.saved.rend(); ++it) a.pop(*it);
  a.ret();
}

void Codegen::instruction(uint32_t slot, const isa::Instruction& insn) {
  Assembler& a = *a_;
  const uint32_t next = slot + uint32_t(isa::slot_count(insn));
  if (written_register(insn) == isa::kFramePointer) {
    // r10 is the frame pointer the code derives frames from: a write fails when it runs
    // (dead code may hold one; a verified program never reaches it).
    a.jmp(error_stub(ErrorKind::FramePointer, slot));
    return;
  }
  std::visit(
      [&](const auto& i) {
        using T = std::decay_t<decltype(i)>;
        if constexpr (std::is_same_v<T, isa::Alu>) {
          alu(i);
        } else if constexpr (std::is_same_v<T, isa::Neg>) {
          a.neg(i.is64 ? 8 : 4, R(i.dst));
        } else if constexpr (std::is_same_v<T, isa::Endian>) {
          endian(i);
        } else if constexpr (std::is_same_v<T, isa::Load>) {
          load(i);
        } else if constexpr (std::is_same_v<T, isa::Store>) {
          store(i);
        } else if constexpr (std::is_same_v<T, isa::Atomic>) {
          atomic(i);
        } else if constexpr (std::is_same_v<T, isa::LoadImm64>) {
          if (i.pseudo == isa::Pseudo::Imm64)
            load_constant(R(i.dst), i.value());
          else
            a.jmp(error_stub(ErrorKind::Unsupported, slot));
        } else if constexpr (std::is_same_v<T, isa::PacketLoad>) {
          a.jmp(error_stub(ErrorKind::Unsupported, slot));
        } else if constexpr (std::is_same_v<T, isa::Jump>) {
          const uint32_t target = uint32_t(int64_t(slot) + 1 + i.off);
          if (!falls_into(target, next) || i.cond == isa::JmpCond::MayGoto) jump(i, target);
        } else if constexpr (std::is_same_v<T, isa::Ja>) {
          const uint32_t target = uint32_t(int64_t(slot) + 1 + i.off);
          if (i.off < 0) spend_budget();
          if (!falls_into(target, next)) a.jmp(slot_labels_[target]);
        } else if constexpr (std::is_same_v<T, isa::Call>) {
          if (i.kind == isa::CallKind::Helper)
            helper_call(i.imm);
          else if (i.kind == isa::CallKind::Local)
            local_call(uint32_t(int64_t(slot) + 1 + i.imm));
          else
            a.jmp(error_stub(ErrorKind::Unsupported, slot));
        } else if constexpr (std::is_same_v<T, isa::CallX>) {
          callx(i.reg);
        } else if constexpr (std::is_same_v<T, isa::Exit>) {
          epilogue(functions_[current_]);
        }
      },
      insn);
}

// --- ALU ---

void Codegen::load_constant(Reg dst, uint64_t value) {
  if (value == 0)
    a_->alu(XAlu::Xor, 4, dst, dst);
  else if (value <= 0xffffffffu)
    a_->mov32(dst, uint32_t(value));
  else if (int64_t(value) >= INT32_MIN && int64_t(value) <= INT32_MAX)
    a_->mov64(dst, int32_t(value));
  else
    a_->movabs(dst, value);
}

void Codegen::alu(const isa::Alu& a) {
  if (a.src.is_imm)
    alu_imm(a);
  else
    alu_reg(a);
}

void Codegen::alu_imm(const isa::Alu& i) {
  Assembler& a = *a_;
  const Reg d = R(i.dst);
  const int size = i.is64 ? 8 : 4;
  const int32_t k = i.src.imm;
  // What remains when the operation leaves the value as it is: 32-bit ops still zero-extend.
  auto identity = [&] {
    if (!i.is64) zero_extend(d);
  };
  switch (i.op) {
    case isa::AluOp::Mov: load_constant(d, i.is64 ? uint64_t(int64_t(k)) : uint32_t(k)); return;
    case isa::AluOp::Add:
    case isa::AluOp::Sub:
    case isa::AluOp::Or:
    case isa::AluOp::Xor: {
      if (k == 0) return identity();
      const XAlu op = i.op == isa::AluOp::Add   ? XAlu::Add
                      : i.op == isa::AluOp::Sub ? XAlu::Sub
                      : i.op == isa::AluOp::Or  ? XAlu::Or
                                                : XAlu::Xor;
      a.alu(op, size, d, k);
      return;
    }
    case isa::AluOp::And:
      if (k == 0) return a.alu(XAlu::Xor, 4, d, d);
      if (k == -1) return identity();
      a.alu(XAlu::And, size, d, k);
      return;
    case isa::AluOp::Mul:
      if (k == 1) return identity();
      if (k == 0) return a.alu(XAlu::Xor, 4, d, d);
      a.imul(size, d, d, k);
      return;
    case isa::AluOp::Div:
    case isa::AluOp::SDiv:
    case isa::AluOp::Mod:
    case isa::AluOp::SMod: divide_imm(i.op, i.is64, d, k); return;
    case isa::AluOp::Lsh:
    case isa::AluOp::Rsh:
    case isa::AluOp::Arsh: {
      const uint8_t count = uint8_t(k & (i.is64 ? 63 : 31));
      if (count == 0) return identity();
      const ShiftOp op = i.op == isa::AluOp::Lsh   ? ShiftOp::Shl
                         : i.op == isa::AluOp::Rsh ? ShiftOp::Shr
                                                   : ShiftOp::Sar;
      a.shift(op, size, d, count);
      return;
    }
    case isa::AluOp::MovSx8:
    case isa::AluOp::MovSx16:
    case isa::AluOp::MovSx32: {
      // The decoder only produces register forms; fold an immediate anyway.
      const uint64_t v = i.op == isa::AluOp::MovSx8    ? uint64_t(int64_t(int8_t(k)))
                         : i.op == isa::AluOp::MovSx16 ? uint64_t(int64_t(int16_t(k)))
                                                       : uint64_t(int64_t(k));
      load_constant(d, i.is64 ? v : (i.op == isa::AluOp::MovSx32 ? uint32_t(k) : uint32_t(v)));
      return;
    }
  }
}

void Codegen::alu_reg(const isa::Alu& i) {
  Assembler& a = *a_;
  const Reg d = R(i.dst), s = R(i.src.reg);
  const int size = i.is64 ? 8 : 4;
  switch (i.op) {
    case isa::AluOp::Mov:
      if (i.is64 && d == s) return;
      a.mov(size, d, s);
      return;
    case isa::AluOp::Add: a.alu(XAlu::Add, size, d, s); return;
    case isa::AluOp::Sub: a.alu(XAlu::Sub, size, d, s); return;
    case isa::AluOp::Or: a.alu(XAlu::Or, size, d, s); return;
    case isa::AluOp::And: a.alu(XAlu::And, size, d, s); return;
    case isa::AluOp::Xor: a.alu(XAlu::Xor, size, d, s); return;
    case isa::AluOp::Mul: a.imul(size, d, s); return;
    case isa::AluOp::Div:
    case isa::AluOp::SDiv:
    case isa::AluOp::Mod:
    case isa::AluOp::SMod: divide(i.op, i.is64, d, s); return;
    case isa::AluOp::Lsh:
    case isa::AluOp::Rsh:
    case isa::AluOp::Arsh: shift_reg(i.op, i.is64, d, s); return;
    case isa::AluOp::MovSx8: a.movsx(size, 1, d, s); return;
    case isa::AluOp::MovSx16: a.movsx(size, 2, d, s); return;
    case isa::AluOp::MovSx32:
      if (i.is64)
        a.movsx(8, 4, d, s);
      else
        a.mov(4, d, s);  // does not exist on 32 bits: a plain mov, as the interpreter does
      return;
  }
}

// dst = dst / divisor or dst % divisor through rdx:rax. Division by 0 and the
// signed INT_MIN / -1 (which would trap) are handled before reaching div.
void Codegen::divide(isa::AluOp op, bool is64, Reg dst, Reg divisor) {
  Assembler& a = *a_;
  const int size = is64 ? 8 : 4;
  const bool is_signed = op == isa::AluOp::SDiv || op == isa::AluOp::SMod;
  const bool is_mod = op == isa::AluOp::Mod || op == isa::AluOp::SMod;
  const Label by_zero = a.new_label(), done = a.new_label();
  const Label by_minus_one = is_signed ? a.new_label() : Label();
  a.mov(size, Reg::R11, divisor);
  a.test(size, Reg::R11, Reg::R11);
  a.jcc(Cond::E, by_zero);
  if (is_signed) {
    a.alu(XAlu::Cmp, size, Reg::R11, -1);
    a.jcc(Cond::E, by_minus_one);
  }
  divide_by_r11(is64, is_signed, is_mod, dst);
  a.jmp(done);
  a.bind(by_zero);
  divide_by_zero(is64, is_mod, dst);
  if (is_signed) {
    a.jmp(done);
    a.bind(by_minus_one);
    divide_by_minus_one(is64, is_mod, dst);
  }
  a.bind(done);
}

// dst = dst OP r11 with the x86 divide, r11 being neither 0 nor (when signed) -1.
void Codegen::divide_by_r11(bool is64, bool is_signed, bool is_mod, Reg dst) {
  Assembler& a = *a_;
  const int size = is64 ? 8 : 4;
  // rax and rdx are r0 and r3: keep them in r10 and r9 unless they are the destination.
  if (dst != Reg::Rax) a.mov(8, Reg::R10, Reg::Rax);
  if (dst != Reg::Rdx) a.mov(8, Reg::R9, Reg::Rdx);
  if (dst != Reg::Rax) a.mov(size, Reg::Rax, dst);
  if (!is_signed)
    a.alu(XAlu::Xor, 4, Reg::Rdx, Reg::Rdx);
  else if (is64)
    a.cqo();
  else
    a.cdq();
  if (is_signed)
    a.idiv(size, Reg::R11);
  else
    a.div(size, Reg::R11);
  const Reg result = is_mod ? Reg::Rdx : Reg::Rax;
  if (dst != result) a.mov(size, dst, result);
  if (dst != Reg::Rax) a.mov(8, Reg::Rax, Reg::R10);
  if (dst != Reg::Rdx) a.mov(8, Reg::Rdx, Reg::R9);
}

// x / 0 = 0; x % 0 = x (on 32 bits: its low half).
void Codegen::divide_by_zero(bool is64, bool is_mod, Reg dst) {
  if (!is_mod)
    a_->alu(XAlu::Xor, 4, dst, dst);
  else if (!is64)
    zero_extend(dst);
}

// x / -1 = -x (INT_MIN stays INT_MIN); x % -1 = 0.
void Codegen::divide_by_minus_one(bool is64, bool is_mod, Reg dst) {
  if (is_mod)
    a_->alu(XAlu::Xor, 4, dst, dst);
  else
    a_->neg(is64 ? 8 : 4, dst);
}

void Codegen::divide_imm(isa::AluOp op, bool is64, Reg dst, int32_t k) {
  Assembler& a = *a_;
  const int size = is64 ? 8 : 4;
  const bool is_signed = op == isa::AluOp::SDiv || op == isa::AluOp::SMod;
  const bool is_mod = op == isa::AluOp::Mod || op == isa::AluOp::SMod;
  if (k == 0) return divide_by_zero(is64, is_mod, dst);
  if (is_signed && k == -1) return divide_by_minus_one(is64, is_mod, dst);
  // Unsigned: the immediate is sign-extended to 64 bits, or taken as 32 bits.
  const uint64_t divisor = is64 ? uint64_t(int64_t(k)) : uint32_t(k);
  if (!is_signed && is_power_of_two(divisor)) {
    const uint8_t bits = uint8_t(__builtin_ctzll(divisor));
    if (!is_mod) {
      if (bits == 0) {
        if (!is64) zero_extend(dst);
      } else {
        a.shift(ShiftOp::Shr, size, dst, bits);
      }
    } else if (divisor == 1) {
      a.alu(XAlu::Xor, 4, dst, dst);
    } else {
      // At most 2^31 on 32 bits and 2^30 on 64 (a positive imm), so the mask fits imm32
      // (and on 64 bits it is positive, so its sign extension is harmless).
      a.alu(XAlu::And, size, dst, int32_t(uint32_t(divisor - 1)));
    }
    return;
  }
  if (is64)
    a.mov64(Reg::R11, k);
  else
    a.mov32(Reg::R11, uint32_t(k));
  divide_by_r11(is64, is_signed, is_mod, dst);
}

// Shifts by a register; x86 masks the count to the operand width as eBPF wants.
void Codegen::shift_reg(isa::AluOp op, bool is64, Reg dst, Reg count) {
  Assembler& a = *a_;
  const int size = is64 ? 8 : 4;
  const ShiftOp sop = op == isa::AluOp::Lsh   ? ShiftOp::Shl
                      : op == isa::AluOp::Rsh ? ShiftOp::Shr
                                              : ShiftOp::Sar;
  if (options_.bmi2) {
    a.shiftx(sop, size, dst, dst, count);
    return;
  }
  // The count must be in cl, and rcx is r4.
  if (count == Reg::Rcx) {
    a.shift_cl(sop, size, dst);
  } else if (dst == Reg::Rcx) {
    a.mov(8, Reg::R11, Reg::Rcx);
    a.mov(4, Reg::Rcx, count);
    a.shift_cl(sop, size, Reg::R11);
    a.mov(8, Reg::Rcx, Reg::R11);
  } else {
    a.mov(8, Reg::R11, Reg::Rcx);
    a.mov(4, Reg::Rcx, count);
    a.shift_cl(sop, size, dst);
    a.mov(8, Reg::Rcx, Reg::R11);
  }
}

void Codegen::endian(const isa::Endian& e) {
  Assembler& a = *a_;
  const Reg d = R(e.dst);
  if (e.kind == isa::EndianKind::ToLe) {  // the host is little-endian: only truncate
    if (e.bits == 16)
      a.movzx(2, d, d);
    else if (e.bits == 32)
      zero_extend(d);
    return;
  }
  if (e.bits == 16) {
    a.shift(ShiftOp::Rol, 2, d, 8);
    a.movzx(2, d, d);
  } else {
    a.bswap(e.bits == 32 ? 4 : 8, d);
  }
}

// --- memory ---

void Codegen::emit_check(const char* kind, uint8_t base, int16_t off, uint8_t size, bool write, bool atomic) {
  if (!options_.checked) return;
  // The common case costs nothing: r10 plus a constant inside the current frame.
  if (base == isa::kFramePointer && off >= -kStack && off + size <= 0 && (!atomic || off % size == 0)) return;
  Assembler& a = *a_;
  const uint32_t site = uint32_t(sites.size());
  sites.push_back({slot_, size, write, atomic, base, off, kind});
  check_stub_used_ = true;
  const Reg b = R(base);
  if (!atomic && base != isa::kFramePointer) {
    // Inline tests, then the slow path. The current frame: addr - (r10 - 512) <= 512 - size.
    ColdCheck c{a.new_label(), a.new_label(), b, off, site};
    a.lea(Reg::R11, Mem{b, int32_t(off) + kStack});
    a.alu(XAlu::Sub, 8, Reg::R11, Reg::Rbp);
    a.alu(XAlu::Cmp, 8, Reg::R11, kStack - size);
    a.jcc(Cond::BE, c.resume);
    // The cached region [lo, lo + len): size <= addr + size - lo <= len (a wrap fails either test).
    a.lea(Reg::R11, Mem{b, int32_t(off) + size});
    a.alu(XAlu::Sub, 8, Reg::R11, write ? STATE(write_lo) : STATE(read_lo));
    a.alu(XAlu::Cmp, 8, write ? STATE(write_len) : STATE(read_len), Reg::R11);
    a.jcc(Cond::B, c.cold);
    a.alu(XAlu::Cmp, 8, Reg::R11, int32_t(size));
    a.jcc(Cond::B, c.cold);
    a.bind(c.resume);
    cold_checks_.push_back(c);
    return;
  }
  a.lea(Reg::R11, Mem{b, off});
  a.mov32(Reg::R10, site);
  a.call(check_stub_);
}

void Codegen::load(const isa::Load& l) {
  Assembler& a = *a_;
  emit_check("load", l.base, l.off, l.size, false, false);
  const Reg d = R(l.dst);
  const Mem m{R(l.base), l.off};
  switch (l.size) {
    case 1:
      if (l.sign_extend)
        a.movsx(8, 1, d, m);
      else
        a.movzx(1, d, m);
      return;
    case 2:
      if (l.sign_extend)
        a.movsx(8, 2, d, m);
      else
        a.movzx(2, d, m);
      return;
    case 4:
      if (l.sign_extend)
        a.movsx(8, 4, d, m);
      else
        a.mov(4, d, m);
      return;
    default: a.mov(8, d, m); return;
  }
}

void Codegen::store(const isa::Store& s) {
  emit_check("store", s.base, s.off, s.size, true, false);
  const Mem m{R(s.base), s.off};
  if (s.value.is_imm)
    a_->mov(s.size, m, s.value.imm);
  else
    a_->mov(s.size, m, R(s.value.reg));
}

void Codegen::atomic(const isa::Atomic& at) {
  Assembler& a = *a_;
  emit_check(atomic_kind(at), at.base, at.off, at.size, true, true);
  const int size = at.size;
  const Reg s = R(at.src);
  const Mem m{R(at.base), at.off};
  switch (at.op) {
    case isa::AtomicOp::Xchg: a.xchg(size, m, s); return;
    case isa::AtomicOp::CmpXchg:
      // Compares with and loads into rax = r0.
      a.lock_cmpxchg(size, m, s);
      if (size == 4) zero_extend(Reg::Rax);  // a successful 32-bit cmpxchg leaves rax's upper half
      return;
    case isa::AtomicOp::Add:
      if (at.fetch)
        a.lock_xadd(size, m, s);
      else
        a.lock_alu(XAlu::Add, size, m, s);
      return;
    default: break;
  }
  const XAlu op = at.op == isa::AtomicOp::Or ? XAlu::Or : at.op == isa::AtomicOp::And ? XAlu::And : XAlu::Xor;
  if (!at.fetch) {
    a.lock_alu(op, size, m, s);
    return;
  }
  // Fetch-or/and/xor have no x86 instruction: a cmpxchg loop, with r0 kept in r10.
  a.mov(8, Reg::R10, Reg::Rax);
  const Reg base = at.base == 0 ? Reg::R10 : R(at.base);
  const Reg value = at.src == 0 ? Reg::R10 : s;
  const Mem mm{base, at.off};
  a.mov(size, Reg::Rax, mm);
  const Label retry = a.new_label();
  a.bind(retry);
  a.mov(8, Reg::R11, Reg::Rax);
  a.alu(op, size, Reg::R11, value);
  a.lock_cmpxchg(size, mm, Reg::R11);
  a.jcc(Cond::NE, retry);
  if (at.src != 0) {
    a.mov(size, s, Reg::Rax);
    a.mov(8, Reg::Rax, Reg::R10);
  }
}

// --- control flow ---

void Codegen::jump(const isa::Jump& j, uint32_t target) {
  Assembler& a = *a_;
  if (j.cond == isa::JmpCond::MayGoto) {
    // Jumps once the run's budget is spent; otherwise spends one and falls through.
    a.alu(XAlu::Cmp, 8, STATE(may_goto_left), 0);
    const Label not_taken = a.new_label();
    a.jcc(Cond::NE, not_taken);
    if (j.off < 0) spend_budget();
    a.jmp(slot_labels_[target]);
    a.bind(not_taken);
    a.alu(XAlu::Sub, 8, STATE(may_goto_left), 1);
    return;
  }
  const int size = j.is32 ? 4 : 8;
  const Reg d = R(j.dst);
  if (j.src.is_imm) {
    const int32_t k = j.src.imm;
    if (j.cond == isa::JmpCond::Set) {
      if (k >= 0 && k <= 255)
        a.test(1, d, k);
      else
        a.test(size, d, k);
    } else if (k == 0) {
      a.test(size, d, d);  // same flags as cmp d, 0 for every condition
    } else {
      a.alu(XAlu::Cmp, size, d, k);
    }
  } else {
    if (j.cond == isa::JmpCond::Set)
      a.test(size, d, R(j.src.reg));
    else
      a.alu(XAlu::Cmp, size, d, R(j.src.reg));
  }
  const Cond cond = jump_cond(j.cond);
  if (options_.checked && j.off < 0) {
    // A taken backward jump spends budget.
    const Label not_taken = a.new_label();
    a.jcc(x86::negate(cond), not_taken);
    spend_budget();
    a.jmp(slot_labels_[target]);
    a.bind(not_taken);
    return;
  }
  a.jcc(cond, slot_labels_[target]);
}

void Codegen::spend_budget() {
  if (!options_.checked) return;
  a_->alu(XAlu::Sub, 8, STATE(budget), 1);
  a_->jcc(Cond::B, error_stub(ErrorKind::Budget, slot_));
}

void Codegen::check_abort() {
  if (options_.checked) {
    // The helper may have changed env.regions: forget the cached ones.
    a_->mov(8, STATE(read_len), 0);
    a_->mov(8, STATE(write_len), 0);
  }
  a_->mov(8, Reg::R11, STATE(abort));
  a_->alu(XAlu::Cmp, 1, Mem{Reg::R11, 0}, 0);
  a_->jcc(Cond::NE, error_stub(ErrorKind::Abort, slot_));
}

void Codegen::helper_call(int32_t id) {
  Assembler& a = *a_;
  spend_budget();
  // For callbacks, and for the argument check: the caller's stack frame.
  if (options_.checked || !subprograms_.empty()) a.mov(8, STATE(helper_frame), Reg::Rbp);
  const int32_t index = int32_t(helper_index_.at(id));
  a.mov(8, Reg::R11, STATE(helpers));
  a.mov(8, Reg::R11, Mem{Reg::R11, index * 8});
  a.test(8, Reg::R11, Reg::R11);
  a.jcc(Cond::E, error_stub(ErrorKind::NoHelper, slot_));
  if (options_.checked) {
    // The dispatch checks the pointer arguments against the prototype, then calls the helper.
    a.mov(8, STATE(callx_id), index);
    a.mov(8, Reg::R9, kState);
    a.movabs(Reg::R11, uint64_t(reinterpret_cast<uintptr_t>(&checked_helper_dispatch)));
  } else {
    // r1-r5 already sit in the SysV argument registers; the env is the 6th argument.
    a.mov(8, Reg::R9, STATE(env));
  }
  a.call(Reg::R11);
  check_abort();
}

void Codegen::local_call(uint32_t target) {
  Assembler& a = *a_;
  spend_budget();
  a.alu(XAlu::Cmp, 8, STATE(call_limit), Reg::Rbp);
  a.jcc(Cond::A, error_stub(ErrorKind::CallDepth, slot_));
  a.call(function_labels_.at(function_index(target)));
}

void Codegen::callx(uint8_t reg) {
  Assembler& a = *a_;
  spend_budget();
  if (options_.checked || !subprograms_.empty()) a.mov(8, STATE(helper_frame), Reg::Rbp);
  a.mov(8, STATE(callx_id), R(reg));
  a.mov(8, Reg::R9, kState);
  const auto dispatch = options_.checked ? &checked_callx_dispatch : &callx_dispatch;
  a.movabs(Reg::R11, uint64_t(reinterpret_cast<uintptr_t>(dispatch)));
  a.call(Reg::R11);
  a.alu(XAlu::Cmp, 4, STATE(error_kind), 0);
  a.jcc(Cond::NE, error_stub(ErrorKind::None, slot_));  // the dispatch recorded which error
  check_abort();
}

// --- out-of-line code ---

Label Codegen::error_stub(ErrorKind kind, uint32_t slot) {
  auto [it, inserted] = error_stubs_.try_emplace({kind, slot});
  if (inserted) it->second = a_->new_label();
  return it->second;
}

Label Codegen::kind_stub(ErrorKind kind) {
  auto [it, inserted] = kind_stubs_.try_emplace(kind);
  if (inserted) it->second = a_->new_label();
  return it->second;
}

void Codegen::out_of_line_code() {
  Assembler& a = *a_;
  // Slow paths of checked accesses outside the current frame.
  for (const ColdCheck& c : cold_checks_) {
    a.bind(c.cold);
    a.lea(Reg::R11, Mem{c.base, c.off});
    a.mov32(Reg::R10, c.site);
    a.call(check_stub_);
    a.jmp(c.resume);
  }
  // One stub per (error, slot): r10d = slot, then the error's common stub.
  for (auto& [key, label] : error_stubs_) {
    a.bind(label);
    a.mov32(Reg::R10, key.second);
    a.jmp(kind_stub(key.first));
  }
  for (auto& [kind, label] : kind_stubs_) {
    a.bind(label);
    a.mov(4, STATE(error_slot), Reg::R10);
    if (kind != ErrorKind::None) a.mov(4, STATE(error_kind), int32_t(kind));
    a.jmp(error_exit_);
  }
  if (check_stub_used_) {
    // r11 = address, r10 = site; r0-r5 live in caller-saved registers.
    a.bind(check_stub_);
    for (Reg r : kCheckSaved) a.push(r);
    a.mov(8, Reg::Rdi, kState);
    a.mov(8, Reg::Rsi, Reg::R11);
    a.mov(8, Reg::Rdx, Reg::R10);
    a.mov(8, Reg::Rcx, Reg::Rbp);
    a.movabs(Reg::Rax, uint64_t(reinterpret_cast<uintptr_t>(&jit::check_access)));
    a.call(Reg::Rax);
    a.test(1, Reg::Rax, Reg::Rax);
    a.jcc(Cond::E, error_exit_);
    for (int i = int(std::size(kCheckSaved)) - 1; i >= 0; --i) a.pop(kCheckSaved[i]);
    a.ret();
  }
}

}  // namespace

CompiledProgram compile(const Program& program, const CodegenOptions& options) {
  Codegen gen(program, options);
  CompiledProgram out;
  std::vector<bool> hints, next;
  // Re-emit with the rel8 choices of the previous emission until they settle;
  // every emission is correct, later ones are only smaller.
  for (int pass = 1;; ++pass) {
    out.code = gen.emit(hints, &next);
    out.passes = pass;
    if (next == hints || pass == kMaxPasses) break;
    hints = std::move(next);
  }
  out.helper_ids = gen.helper_ids;
  out.sites = std::move(gen.sites);
  out.subprogram_offsets = std::move(gen.subprogram_offsets);
  out.callback_entry = gen.callback_entry;
  return out;
}

}  // namespace bpfkit::vm::jit
