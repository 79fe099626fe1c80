#include "vm/run_errors.h"

#include <cstdio>

#include "vm/engine.h"

namespace bpfkit::vm::run_errors {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string reg_offset(uint8_t reg, int16_t off) {
  std::string s = "r" + std::to_string(reg);
  if (off > 0) s += "+" + std::to_string(off);
  if (off < 0) s += std::to_string(off);
  return s;
}

std::string access(const char* kind, size_t size, uint8_t base, int16_t off, uint64_t addr, AccessFault fault) {
  std::string what = std::string(kind) + " of " + std::to_string(size) + (size == 1 ? " byte" : " bytes") +
                     " at " + reg_offset(base, off) + " (" + hex(addr) + ")";
  switch (fault) {
    case AccessFault::ReadOnly: return what + " writes to memory the program may only read";
    case AccessFault::Misaligned:
      return what + " is not aligned to " + std::to_string(size) + " bytes, as atomic operations must be";
    case AccessFault::Outside: break;
  }
  return what + " is outside every region the program may access";
}

std::string budget_exhausted(uint64_t budget) {
  return "instruction budget of " + std::to_string(budget) +
         " exhausted: the program may not terminate (the budget counts backward jumps and calls)";
}

std::string call_depth_exceeded() {
  return "call stack overflow: this call would need a frame beyond the limit of " + std::to_string(kMaxFrames) +
         " frames";
}

std::string not_a_subprogram(size_t slot) {
  return "callback slot " + std::to_string(slot) + " is not the start of a subprogram";
}

std::string missing_helper(uint64_t id, const core::HelperSpec* spec, int callx_reg) {
  std::string call = callx_reg < 0 ? "call" : "callx r" + std::to_string(callx_reg);
  if (spec) return call + ": helper " + std::to_string(id) + " (" + spec->name + ") has no implementation";
  return call + ": unknown helper function " + std::to_string(int64_t(id));
}

std::string lddw_needs_loader(isa::Pseudo pseudo) {
  const char* name = "immediate";
  switch (pseudo) {
    case isa::Pseudo::MapFd: name = "map fd"; break;
    case isa::Pseudo::MapValue: name = "map value"; break;
    case isa::Pseudo::BtfId: name = "BTF id"; break;
    case isa::Pseudo::Func: name = "function"; break;
    case isa::Pseudo::MapIdx: name = "map index"; break;
    case isa::Pseudo::MapIdxValue: name = "map index value"; break;
    case isa::Pseudo::Imm64: break;
  }
  return "lddw with pseudo source " + std::to_string(int(pseudo)) + " needs a loader (" + name + ")";
}

std::string kfunc_unavailable(int32_t btf_id) {
  return "call to the kernel function with BTF id " + std::to_string(btf_id) +
         ": kfuncs exist only on the Linux target";
}

std::string packet_load_unavailable() { return "legacy packet load (ld_abs/ld_ind) needs a socket filter context"; }

std::string fell_off_end() { return "execution ran past the last instruction of the program"; }

std::string frame_pointer_written() { return "r10 is the read-only frame pointer and cannot be written"; }

}  // namespace bpfkit::vm::run_errors
