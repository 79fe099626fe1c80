// BTF (BPF Type Format) reader: the type and string sections of a raw .BTF blob
// or /sys/kernel/btf/vmlinux, as a typed model with C-style naming and printing.
// Layout per the kernel's Documentation/bpf/btf.rst and <linux/btf.h>.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/error.h"

namespace bpfkit::object {

// Malformed BTF: names the byte offset in the blob and, when known, the type id.
class BtfError : public Error {
 public:
  static constexpr uint32_t kNoType = UINT32_MAX;
  BtfError(uint64_t offset, uint32_t type_id, const std::string& what);
  uint64_t offset() const { return offset_; }
  uint32_t type_id() const { return type_id_; }

 private:
  uint64_t offset_;
  uint32_t type_id_;
};

enum class BtfKind : uint8_t {
  Void = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
};
const char* btf_kind_name(BtfKind kind);  // "INT", "STRUCT", ... as bpftool prints them

// INT encoding bits.
inline constexpr uint8_t kBtfIntSigned = 1, kBtfIntChar = 2, kBtfIntBool = 4;

struct BtfInt {
  uint8_t encoding = 0;  // kBtfInt* bits
  uint8_t offset = 0;    // bit offset of the value inside the storage
  uint8_t bits = 0;
};

struct BtfArray {
  uint32_t elem_type = 0, index_type = 0, nelems = 0;
};

struct BtfMember {
  std::string_view name;  // empty for an anonymous struct/union member
  uint32_t type = 0;
  uint32_t bit_offset = 0;
  uint8_t bitfield_size = 0;  // 0 unless a bitfield (kind_flag layout)
};

struct BtfComposite {  // STRUCT, UNION
  std::vector<BtfMember> members;
};

struct BtfEnumValue {
  std::string_view name;
  uint64_t raw = 0;  // as stored; read through value_signed()/value_unsigned()
};

struct BtfEnum {           // ENUM (32-bit values, sign-extended into raw when signed) and ENUM64
  bool is_signed = false;  // kind_flag
  std::vector<BtfEnumValue> values;
};

struct BtfFwd {
  bool is_union = false;  // kind_flag
};

enum class BtfLinkage : uint32_t { Static = 0, Global = 1, Extern = 2 };

struct BtfFunc {
  BtfLinkage linkage = BtfLinkage::Static;  // stored in vlen
};

struct BtfParam {
  std::string_view name;
  uint32_t type = 0;  // 0 with no name as the last parameter: "..."
};

struct BtfFuncProto {
  std::vector<BtfParam> params;
  bool variadic() const { return !params.empty() && params.back().type == 0 && params.back().name.empty(); }
};

struct BtfVar {
  BtfLinkage linkage = BtfLinkage::Static;
};

struct BtfVarSecinfo {
  uint32_t type = 0, offset = 0, size = 0;
};

struct BtfDatasec {
  std::vector<BtfVarSecinfo> vars;
};

struct BtfDeclTag {
  int32_t component_idx = -1;  // -1: the whole type; else a member or parameter index
};

// Kinds with nothing beyond the common fields (PTR, TYPEDEF, VOLATILE, CONST,
// RESTRICT, TYPE_TAG, FLOAT, void) carry std::monostate.
using BtfDetail = std::variant<std::monostate, BtfInt, BtfArray, BtfComposite, BtfEnum, BtfFwd, BtfFunc,
                               BtfFuncProto, BtfVar, BtfDatasec, BtfDeclTag>;

struct BtfType {
  uint32_t id = 0;
  BtfKind kind = BtfKind::Void;
  bool kind_flag = false;
  std::string_view name;
  // `size` for INT, ENUM, ENUM64, STRUCT, UNION, DATASEC, FLOAT; `type` for the
  // kinds that refer to another type. 0 where the kind uses neither.
  uint32_t size = 0;
  uint32_t type = 0;
  uint32_t offset = 0;  // of the btf_type record in the blob
  BtfDetail detail;

  template <class T>
  const T* as() const {
    return std::get_if<T>(&detail);
  }
  bool is_modifier() const;  // TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
};

inline int64_t value_signed(const BtfEnumValue& v) { return static_cast<int64_t>(v.raw); }
inline uint64_t value_unsigned(const BtfEnumValue& v) { return v.raw; }

class Btf {
 public:
  // Parses and validates a raw BTF blob: every record and string in bounds, every
  // referenced type id defined, no reference cycles outside struct/union members.
  // With `base`, parses split BTF (a module's): ids and string offsets continue
  // after the base's.
  static Btf parse(std::span<const uint8_t> blob, std::shared_ptr<const Btf> base = nullptr);
  // Reads and parses /sys/kernel/btf/vmlinux (or `path`).
  static Btf load_vmlinux(const std::string& path = "/sys/kernel/btf/vmlinux");

  // Ids run from 0 (void) to type_count() - 1, base types included.
  uint32_t type_count() const { return first_id_ + uint32_t(types_.size()); }
  uint32_t first_own_id() const { return base_ ? first_id_ : 1; }
  const Btf* base() const { return base_.get(); }
  const BtfType& type(uint32_t id) const;  // BtfError when out of range
  // String at `offset` of the string section (the base's first for split BTF).
  std::string_view string_at(uint32_t offset) const;
  uint32_t string_section_size() const;  // base's included

  std::optional<uint32_t> find_by_name(std::string_view name, BtfKind kind) const;
  std::optional<uint32_t> find_by_name(std::string_view name) const;  // any kind
  // Skips TYPEDEF, VOLATILE, CONST, RESTRICT and TYPE_TAG.
  uint32_t resolve(uint32_t id) const;
  // Size in bytes following modifiers; arrays multiply. BtfError for kinds without
  // a size (void, FWD, FUNC, FUNC_PROTO, DECL_TAG) or on overflow.
  uint64_t size_of(uint32_t id) const;
  // The type as C spells it: "struct task_struct *", "unsigned int[16]", "int (*)(void *, long)".
  std::string type_name(uint32_t id) const;
  // A C declaration of `name` with type `id`, e.g. "char *comm[16]"-style declarators.
  std::string declaration(uint32_t id, std::string_view name) const;
  // A definition in C as `bpftool btf dump format c` prints one: struct/union/enum
  // with members (anonymous members inline, bitfields), typedefs, and otherwise a
  // declaration. Ends with ";\n".
  std::string format_c(uint32_t id) const;

 private:
  static Btf parse_owned(std::shared_ptr<std::vector<uint8_t>> bytes, std::shared_ptr<const Btf> base);
  void validate() const;
  std::string decl(uint32_t id, std::string inner, bool param_names, int& budget) const;
  void format_body(uint32_t id, int indent, std::string& out, int& budget) const;

  std::shared_ptr<const Btf> base_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;  // owns what names point into
  uint32_t first_id_ = 0;                              // id of types_[0]: 0 (void) without a base
  uint32_t str_start_ = 0, str_len_ = 0;               // this blob's string section (bytes_-relative)
  uint32_t base_str_len_ = 0;
  std::vector<BtfType> types_;
};

}  // namespace bpfkit::object
