#include "lang/types.h"

#include <algorithm>

namespace bpfkit::lang {

uint32_t Type::storage_size() const {
  switch (kind) {
    case TypeKind::None: return 0;
    case TypeKind::Int:
    case TypeKind::Pointer:
    case TypeKind::Ksym: return 8;
    case TypeKind::String: return (size + 7) / 8 * 8;  // padded with zeros: keys and records stay aligned
    case TypeKind::Array:
    case TypeKind::Record: return (size + 7) / 8 * 8;
    case TypeKind::Buffer: return 8 + (size + 7) / 8 * 8;
    case TypeKind::Stack:
    case TypeKind::Usym: return 16;  // id or address, and the pid
    case TypeKind::Inet: return 24;  // family, 16 address bytes, padding
    case TypeKind::Tuple: {
      uint32_t total = 0;
      for (const Type& e : elems) total += e.storage_size();
      return total;
    }
  }
  return 0;
}

bool Type::compatible(const Type& other) const {
  if (kind != other.kind) {
    // Pointers are integers once stored.
    auto intlike = [](TypeKind k) { return k == TypeKind::Int || k == TypeKind::Pointer; };
    return intlike(kind) && intlike(other.kind);
  }
  if (kind == TypeKind::Tuple) {
    if (elems.size() != other.elems.size()) return false;
    for (size_t i = 0; i < elems.size(); ++i) {
      if (!elems[i].compatible(other.elems[i])) return false;
    }
  }
  if (kind == TypeKind::Stack) return user_stack == other.user_stack;
  if (kind == TypeKind::Record) return size == other.size && btf_id == other.btf_id;
  return true;
}

std::string type_name(const Type& type) {
  switch (type.kind) {
    case TypeKind::None: return "none";
    case TypeKind::Int: return std::string(type.is_signed ? "int" : "uint") + std::to_string(type.size * 8);
    case TypeKind::String: return "string[" + std::to_string(type.size) + "]";
    case TypeKind::Pointer: return type.btf_id ? "pointer (BTF type " + std::to_string(type.btf_id) + ")" : "pointer";
    case TypeKind::Record: return "record[" + std::to_string(type.size) + "]";
    case TypeKind::Stack: return type.user_stack ? "ustack" : "kstack";
    case TypeKind::Ksym: return "ksym";
    case TypeKind::Usym: return "usym";
    case TypeKind::Inet: return "inet";
    case TypeKind::Buffer: return "buffer[" + std::to_string(type.size) + "]";
    case TypeKind::Array: return type_name(type.elems.at(0)) + "[" + std::to_string(type.size / std::max<uint32_t>(1, type.elems.at(0).size)) + "]";
    case TypeKind::Tuple: {
      std::string out = "(";
      for (size_t i = 0; i < type.elems.size(); ++i) out += (i ? ", " : "") + type_name(type.elems[i]);
      return out + ")";
    }
  }
  return "?";
}

}  // namespace bpfkit::lang
