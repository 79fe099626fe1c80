// The types the tracing language computes with. Every value has a storage form: how
// many bytes it takes in a map key or value, a printf record or a stack slot. Integers
// are always stored as 8 bytes (their width and sign only matter for casts, loads,
// comparisons and printing), strings as a fixed-capacity NUL-padded buffer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bpfkit::lang {

enum class TypeKind : uint8_t {
  None,     // statements, functions without a value
  Int,      // width 1/2/4/8, signed or not
  String,   // `size` bytes, NUL padded
  Tuple,    // elems, stored one after the other
  Pointer,  // an address in the kernel or a process; btf_id: the pointee in vmlinux BTF (0: untyped)
  Record,   // a struct read into the program (btf_id: the struct), or a tracepoint's args
  Stack,    // kstack / ustack: a stack id from bpf_get_stackid and the pid it belongs to
  Ksym,     // a kernel address printed as its symbol
  Usym,     // a user address (and pid) printed as its symbol
  Inet,     // ntop(): address family and 16 address bytes
  Array,    // a fixed array of elems[0] (a tracepoint field such as `unsigned long args[6]`)
  Buffer,   // buf(): a length (8 bytes) then up to `size` bytes, printed with %r
};

enum class AddrSpace : uint8_t { None, Kernel, User };

struct Type {
  TypeKind kind = TypeKind::None;
  uint32_t size = 0;  // Int: width; String/Record: bytes
  bool is_signed = false;
  AddrSpace space = AddrSpace::None;  // Pointer and String sources: which probe_read to use
  uint32_t btf_id = 0;
  bool user_stack = false;  // Stack: ustack
  uint32_t stack_limit = 127;
  bool perf_mode = false;  // Stack: kstack(perf)
  std::vector<Type> elems;  // Tuple

  static Type none() { return {}; }
  static Type integer(uint32_t width, bool is_signed) {
    Type t;
    t.kind = TypeKind::Int;
    t.size = width;
    t.is_signed = is_signed;
    return t;
  }
  static Type i64() { return integer(8, true); }
  static Type u64() { return integer(8, false); }
  static Type string(uint32_t capacity) {
    Type t;
    t.kind = TypeKind::String;
    t.size = capacity;
    return t;
  }
  static Type of_kind(TypeKind kind) {
    Type t;
    t.kind = kind;
    return t;
  }

  bool is_int() const { return kind == TypeKind::Int; }
  bool is_string() const { return kind == TypeKind::String; }
  // Bytes in a map key/value or an event record.
  uint32_t storage_size() const;
  // Same shape for map keys and values: strings of any capacity match, ints of any width.
  bool compatible(const Type& other) const;
};

// "int64", "string[64]", "(int64, string[16])", "struct task_struct *", "kstack".
std::string type_name(const Type& type);

// The default capacity of str() and string variables (bpftrace's BPFTRACE_STRLEN).
inline constexpr uint32_t kDefaultStringSize = 64;

}  // namespace bpfkit::lang
