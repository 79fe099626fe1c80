#include "vm/helper_args.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "vm/run_errors.h"

namespace bpfkit::vm {
namespace {

using core::ArgKind;

enum class Where { Inside, ReadOnly, Outside };

// Whether [addr, addr + size) lies in the stack or in one region (a writable one to be written).
Where locate(uint64_t addr, uint64_t size, bool write, HelperStack stack, const core::ExecEnv& env,
             uint64_t* end = nullptr) {
  // addr - lo wraps around when addr < lo, so one comparison covers both ends.
  if (stack.top - stack.lo >= size && addr - stack.lo <= stack.top - stack.lo - size) {
    if (end) *end = stack.top;
    return Where::Inside;
  }
  Where found = Where::Outside;
  for (const core::MemoryRegion& r : env.regions) {
    if (r.size >= size && addr - r.begin <= r.size - size) {
      if (!write || r.writable) {
        if (end) *end = r.begin + r.size;
        return Where::Inside;
      }
      found = Where::ReadOnly;
    }
  }
  return found;
}

bool is_size(ArgKind k) { return k == ArgKind::ConstSize || k == ArgKind::ConstSizeOrZero; }

const char* describe(ArgKind k) {
  switch (k) {
    case ArgKind::PtrToMapKey: return "key";
    case ArgKind::PtrToMapValue: return "value";
    case ArgKind::PtrToUninitMapValue: return "value buffer";
    case ArgKind::PtrToMem:
    case ArgKind::PtrToMemOrNull: return "memory";
    case ArgKind::PtrToUninitMem: return "buffer";
    case ArgKind::PtrToConstStr: return "string";
    case ArgKind::PtrToCtx: return "context";
    case ArgKind::PtrToStack:
    case ArgKind::PtrToStackOrNull: return "stack pointer";
    case ArgKind::PtrToAllocMem: return "ring buffer record";
    default: return "pointer";
  }
}

// The failure path: builds the message and stops the run. Out of line and cold, so the
// checks themselves stay a few compares.
[[gnu::cold, gnu::noinline]] bool refuse(int32_t id, int arg, ArgKind kind, uint64_t addr, const uint64_t* size,
                                         const char* what, core::ExecEnv& env) noexcept {
  env.abort = true;
  try {
    const core::HelperSpec* spec = env.helpers ? env.helpers->find(id) : nullptr;
    std::string msg = spec ? "bpf_" + spec->name : "helper " + std::to_string(id);
    msg += ": arg " + std::to_string(arg) + " (" + describe(kind);
    if (size) msg += ", " + std::to_string(*size) + (*size == 1 ? " byte" : " bytes");
    msg += ") at " + run_errors::hex(addr) + " " + what;
    env.abort_reason = std::move(msg);
  } catch (...) {  // no memory for the message: still stop the run
  }
  return false;
}

}  // namespace

bool check_helper_args(int32_t id, const core::HelperProto& proto, const uint64_t (&args)[5],
                       HelperStack stack, core::ExecEnv& env) noexcept {
  const void* map = nullptr;  // the latest map argument, which sizes keys and values
  for (int i = 0; i < 5; ++i) {
    const ArgKind kind = proto.args[size_t(i)];
    const uint64_t a = args[i];
    uint64_t size = 0;
    bool write = false;
    switch (kind) {
      case ArgKind::ConstMapPtr:
        map = reinterpret_cast<const void*>(a);
        // Not a map of the run: the helper refuses it, before it reads keys or values.
        if (std::find(env.maps.begin(), env.maps.end(), map) == env.maps.end()) return true;
        continue;
      case ArgKind::PtrToMapKey:
      case ArgKind::PtrToMapValue:
      case ArgKind::PtrToUninitMapValue: {
        const core::MapSizesFn sizes = env.helpers ? env.helpers->map_sizes() : nullptr;
        if (!map || !sizes)
          return refuse(id, i + 1, kind, a, nullptr, "cannot be checked: the call names no map whose sizes "
                        "the helper table knows", env);
        const core::MapSizes s = sizes(map);
        size = kind == ArgKind::PtrToMapKey ? s.key_size : s.value_size;
        write = kind == ArgKind::PtrToUninitMapValue;
        break;
      }
      case ArgKind::PtrToMem:
      case ArgKind::PtrToMemOrNull:
      case ArgKind::PtrToUninitMem:
        // The size is the next argument; a pointer without one must reach at least a byte.
        size = i + 1 < 5 && is_size(proto.args[size_t(i + 1)]) ? args[i + 1] : 1;
        write = kind == ArgKind::PtrToUninitMem;
        break;
      case ArgKind::PtrToConstStr: {
        uint64_t end = 0;
        if (locate(a, 1, false, stack, env, &end) != Where::Inside)
          return refuse(id, i + 1, kind, a, nullptr, "is outside the program's memory", env);
        if (!std::memchr(reinterpret_cast<const void*>(a), 0, end - a))
          return refuse(id, i + 1, kind, a, nullptr, "has no NUL before the end of its memory", env);
        continue;
      }
      case ArgKind::PtrToCtx:
        if (a != env.ctx) return refuse(id, i + 1, kind, a, nullptr, "is not the program's context", env);
        continue;
      case ArgKind::PtrToStackOrNull:
        if (a == 0) continue;
        [[fallthrough]];
      case ArgKind::PtrToStack:
        if (a - stack.lo >= stack.top - stack.lo)
          return refuse(id, i + 1, kind, a, nullptr, "is not on the program's stack", env);
        continue;
      case ArgKind::PtrToAllocMem:
        size = 1;
        write = true;
        break;
      default: continue;  // scalars, sizes, callbacks: nothing to dereference
    }
    if (size == 0) continue;  // nothing is read or written: any pointer (NULL too) will do
    const uint64_t* shown = kind == ArgKind::PtrToAllocMem ? nullptr : &size;  // its size is the record's
    switch (locate(a, size, write, stack, env)) {
      case Where::Inside: break;
      case Where::ReadOnly:
        return refuse(id, i + 1, kind, a, shown, "is read-only memory, which the helper writes", env);
      case Where::Outside: return refuse(id, i + 1, kind, a, shown, "is outside the program's memory", env);
    }
  }
  return true;
}

}  // namespace bpfkit::vm
