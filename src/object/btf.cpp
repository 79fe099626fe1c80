// BTF parsing and validation: header, type records, strings; the reference graph.
#include "object/btf.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

namespace bpfkit::object {

namespace {

constexpr uint16_t kMagic = 0xeB9F;
constexpr uint32_t kHeaderSize = 24;
constexpr uint32_t kMaxTypeId = 0x000fffff;
constexpr uint32_t kMaxChainDepth = 128;  // longest reference chain we accept (kernel: 32 modifiers)

uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

std::string kind_str(uint32_t k) { return k <= 19 ? btf_kind_name(BtfKind(k)) : "kind " + std::to_string(k); }

// References of `t` that must not close a cycle: everything except struct/union
// members (a struct may point to itself through a member). Edge i < chain_edges(t).
size_t chain_edges(const BtfType& t) {
  switch (t.kind) {
    case BtfKind::Ptr:
    case BtfKind::Typedef:
    case BtfKind::Volatile:
    case BtfKind::Const:
    case BtfKind::Restrict:
    case BtfKind::TypeTag:
    case BtfKind::Func:
    case BtfKind::Var:
    case BtfKind::DeclTag: return 1;
    case BtfKind::Array: return 2;
    case BtfKind::FuncProto: return 1 + t.as<BtfFuncProto>()->params.size();
    case BtfKind::Datasec: return t.as<BtfDatasec>()->vars.size();
    default: return 0;
  }
}

uint32_t chain_edge(const BtfType& t, size_t i) {
  switch (t.kind) {
    case BtfKind::Array: return i == 0 ? t.as<BtfArray>()->elem_type : t.as<BtfArray>()->index_type;
    case BtfKind::FuncProto: return i == 0 ? t.type : t.as<BtfFuncProto>()->params[i - 1].type;
    case BtfKind::Datasec: return t.as<BtfDatasec>()->vars[i].type;
    default: return t.type;
  }
}

}  // namespace

BtfError::BtfError(uint64_t offset, uint32_t type_id, const std::string& what)
    : Error("BTF byte offset " + std::to_string(offset) +
            (type_id == kNoType ? std::string() : ", type id " + std::to_string(type_id)) + ": " + what),
      offset_(offset),
      type_id_(type_id) {}

const char* btf_kind_name(BtfKind kind) {
  static const char* const names[] = {"UNKN",    "INT",      "PTR",      "ARRAY",      "STRUCT",
                                      "UNION",   "ENUM",     "FWD",      "TYPEDEF",    "VOLATILE",
                                      "CONST",   "RESTRICT", "FUNC",     "FUNC_PROTO", "VAR",
                                      "DATASEC", "FLOAT",    "DECL_TAG", "TYPE_TAG",   "ENUM64"};
  auto k = size_t(kind);
  return k < std::size(names) ? names[k] : "?";
}

bool BtfType::is_modifier() const {
  return kind == BtfKind::Typedef || kind == BtfKind::Volatile || kind == BtfKind::Const ||
         kind == BtfKind::Restrict || kind == BtfKind::TypeTag;
}

Btf Btf::load_vmlinux(const std::string& path) {
  // sysfs reports no useful size, so read in large blocks until EOF.
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BtfError(0, BtfError::kNoType, "cannot open " + path);
  std::vector<uint8_t> bytes;
  size_t used = 0;
  for (;;) {
    bytes.resize(used + (1 << 20));
    in.read(reinterpret_cast<char*>(bytes.data() + used), 1 << 20);
    used += size_t(in.gcount());
    if (!in) break;
  }
  bytes.resize(used);
  return parse_owned(std::make_shared<std::vector<uint8_t>>(std::move(bytes)), nullptr);
}

Btf Btf::parse(std::span<const uint8_t> blob, std::shared_ptr<const Btf> base) {
  return parse_owned(std::make_shared<std::vector<uint8_t>>(blob.begin(), blob.end()), std::move(base));
}

Btf Btf::parse_owned(std::shared_ptr<std::vector<uint8_t>> bytes, std::shared_ptr<const Btf> base) {
  using E = BtfError;
  const uint32_t none = E::kNoType;
  Btf btf;
  btf.base_ = base;
  btf.bytes_ = bytes;
  const uint8_t* d = bytes->data();
  const uint64_t n = bytes->size();

  if (n < kHeaderSize)
    throw E(n, none,
            "truncated header: " + std::to_string(n) + " bytes, need " + std::to_string(kHeaderSize));
  uint16_t magic;
  std::memcpy(&magic, d, 2);
  if (magic == 0x9FeB) throw E(0, none, "big-endian BTF is not supported");
  if (magic != kMagic) throw E(0, none, "bad magic");
  if (d[2] != 1) throw E(2, none, "unsupported version " + std::to_string(d[2]));
  if (d[3] != 0) throw E(3, none, "unsupported flags");
  const uint32_t hdr_len = rd32(d + 4);
  if (hdr_len < kHeaderSize || hdr_len > n) throw E(4, none, "bad header length " + std::to_string(hdr_len));
  for (uint32_t i = kHeaderSize; i < hdr_len; ++i)
    if (d[i] != 0) throw E(i, none, "unknown non-zero header field");
  const uint64_t type_off = uint64_t(hdr_len) + rd32(d + 8), type_len = rd32(d + 12);
  const uint64_t str_off = uint64_t(hdr_len) + rd32(d + 16), str_len = rd32(d + 20);
  if (type_off % 4 != 0) throw E(8, none, "type section not 4-byte aligned");
  if (type_len % 4 != 0) throw E(12, none, "type section length not a multiple of 4");
  if (type_off + type_len > n) throw E(8, none, "type section runs past the end of the blob");
  if (str_off + str_len > n) throw E(16, none, "string section runs past the end of the blob");
  if (type_off < str_off + str_len && str_off < type_off + type_len)
    throw E(16, none, "type and string sections overlap");
  if (str_len > 0x00ffffff) throw E(20, none, "string section too large");
  if (!base && (str_len == 0 || d[str_off] != 0))
    throw E(str_off, none, "string section must start with an empty string");
  if (str_len > 0 && d[str_off + str_len - 1] != 0)
    throw E(str_off + str_len - 1, none, "string section is not NUL-terminated");
  btf.str_start_ = uint32_t(str_off);
  btf.str_len_ = uint32_t(str_len);
  btf.base_str_len_ = base ? base->string_section_size() : 0;
  btf.first_id_ = base ? base->type_count() : 0;
  if (!base) btf.types_.emplace_back();  // id 0: void

  auto name_at = [&](uint32_t name_off, uint64_t at, uint32_t id) -> std::string_view {
    if (name_off >= btf.string_section_size())
      throw E(at, id, "name offset " + std::to_string(name_off) + " past the string section");
    return btf.string_at(name_off);
  };

  uint64_t pos = type_off;
  const uint64_t end = type_off + type_len;
  btf.types_.reserve(btf.types_.size() + type_len / 16);
  while (pos < end) {
    const uint32_t id = btf.type_count();
    if (id > kMaxTypeId) throw E(pos, id, "too many types");
    if (end - pos < 12) throw E(pos, id, "truncated type record");
    const uint32_t name_off = rd32(d + pos), info = rd32(d + pos + 4), size_type = rd32(d + pos + 8);
    const uint32_t kind = (info >> 24) & 0x1f, vlen = info & 0xffff;
    const bool kflag = info >> 31;
    uint64_t extra = 0;
    switch (BtfKind(kind)) {
      case BtfKind::Int:
      case BtfKind::Var:
      case BtfKind::DeclTag: extra = 4; break;
      case BtfKind::Array: extra = 12; break;
      case BtfKind::Struct:
      case BtfKind::Union:
      case BtfKind::Enum64:
      case BtfKind::Datasec: extra = uint64_t(vlen) * 12; break;
      case BtfKind::Enum:
      case BtfKind::FuncProto: extra = uint64_t(vlen) * 8; break;
      case BtfKind::Ptr:
      case BtfKind::Fwd:
      case BtfKind::Typedef:
      case BtfKind::Volatile:
      case BtfKind::Const:
      case BtfKind::Restrict:
      case BtfKind::Func:
      case BtfKind::Float:
      case BtfKind::TypeTag: break;
      default: throw E(pos + 4, id, "unknown kind " + std::to_string(kind));
    }
    if (end - pos - 12 < extra)
      throw E(pos, id, kind_str(kind) + " with vlen " + std::to_string(vlen) + " runs past the type section");
    if (info & 0x60ff0000) throw E(pos + 4, id, "reserved info bits set");
    BtfType t;
    t.id = id;
    t.kind = BtfKind(kind);
    t.kind_flag = kflag;
    t.offset = uint32_t(pos);
    t.name = name_at(name_off, pos, id);
    const uint8_t* x = d + pos + 12;
    auto need_vlen0 = [&] {
      if (vlen != 0) throw E(pos + 4, id, kind_str(kind) + " must have vlen 0");
    };
    auto need_no_kflag = [&] {
      if (kflag) throw E(pos + 4, id, kind_str(kind) + " must not set kind_flag");
    };
    auto need_name = [&](bool want) {
      if (want && t.name.empty()) throw E(pos, id, kind_str(kind) + " needs a name");
      if (!want && !t.name.empty()) throw E(pos, id, kind_str(kind) + " must not have a name");
    };
    switch (t.kind) {
      case BtfKind::Int: {
        need_vlen0();
        need_no_kflag();
        t.size = size_type;
        const uint32_t v = rd32(x);
        BtfInt i{uint8_t((v >> 24) & 0x0f), uint8_t((v >> 16) & 0xff), uint8_t(v & 0xff)};
        if (v & 0xf000ff00) throw E(pos + 12, id, "reserved INT bits set");
        if (t.size != 1 && t.size != 2 && t.size != 4 && t.size != 8 && t.size != 16)
          throw E(pos + 8, id, "bad INT size " + std::to_string(t.size));
        if (i.bits == 0 || i.bits > 128 || uint32_t(i.offset) + i.bits > t.size * 8)
          throw E(pos + 12, id, "INT bits/offset do not fit its size");
        if (i.encoding & (i.encoding - 1)) throw E(pos + 12, id, "INT has more than one encoding");
        t.detail = i;
        break;
      }
      case BtfKind::Ptr:
        need_vlen0();
        need_no_kflag();
        need_name(false);
        t.type = size_type;
        break;
      case BtfKind::Typedef:
      case BtfKind::TypeTag:
        need_vlen0();
        need_name(true);
        if (t.kind == BtfKind::Typedef) need_no_kflag();
        t.type = size_type;
        break;
      case BtfKind::Volatile:
      case BtfKind::Const:
      case BtfKind::Restrict:
        need_vlen0();
        need_no_kflag();
        need_name(false);
        t.type = size_type;
        break;
      case BtfKind::Array: {
        need_vlen0();
        need_no_kflag();
        need_name(false);
        if (size_type != 0) throw E(pos + 8, id, "ARRAY size field must be 0");
        t.detail = BtfArray{rd32(x), rd32(x + 4), rd32(x + 8)};
        break;
      }
      case BtfKind::Struct:
      case BtfKind::Union: {
        t.size = size_type;
        BtfComposite c;
        c.members.resize(vlen);
        for (uint32_t i = 0; i < vlen; ++i) {
          const uint8_t* m = x + i * 12;
          const uint64_t at = pos + 12 + i * 12;
          auto& mem = c.members[i];
          mem.name = name_at(rd32(m), at, id);
          mem.type = rd32(m + 4);
          const uint32_t off = rd32(m + 8);
          mem.bit_offset = kflag ? off & 0xffffff : off;
          mem.bitfield_size = kflag ? uint8_t(off >> 24) : 0;
          if (uint64_t(mem.bit_offset) + mem.bitfield_size > uint64_t(t.size) * 8)
            throw E(at + 8, id,
                    "member '" + std::string(mem.name) + "' lies past the end of the " + kind_str(kind));
        }
        t.detail = std::move(c);
        break;
      }
      case BtfKind::Enum:
      case BtfKind::Enum64: {
        t.size = size_type;
        if (t.size != 1 && t.size != 2 && t.size != 4 && t.size != 8)
          throw E(pos + 8, id, "bad " + kind_str(kind) + " size " + std::to_string(t.size));
        BtfEnum e;
        e.is_signed = kflag;
        e.values.resize(vlen);
        const uint32_t rec = t.kind == BtfKind::Enum ? 8 : 12;
        for (uint32_t i = 0; i < vlen; ++i) {
          const uint8_t* v = x + i * rec;
          e.values[i].name = name_at(rd32(v), pos + 12 + i * rec, id);
          if (e.values[i].name.empty()) throw E(pos + 12 + i * rec, id, "enumerator without a name");
          if (t.kind == BtfKind::Enum) {
            const uint32_t lo = rd32(v + 4);
            e.values[i].raw = kflag ? uint64_t(int64_t(int32_t(lo))) : lo;
          } else {
            e.values[i].raw = rd32(v + 4) | (uint64_t(rd32(v + 8)) << 32);
          }
        }
        t.detail = std::move(e);
        break;
      }
      case BtfKind::Fwd:
        need_vlen0();
        need_name(true);
        t.detail = BtfFwd{kflag};
        break;
      case BtfKind::Func:
        need_no_kflag();
        need_name(true);
        if (vlen > 2) throw E(pos + 4, id, "bad FUNC linkage " + std::to_string(vlen));
        t.type = size_type;
        t.detail = BtfFunc{BtfLinkage(vlen)};
        break;
      case BtfKind::FuncProto: {
        need_no_kflag();
        need_name(false);
        t.type = size_type;
        BtfFuncProto p;
        p.params.resize(vlen);
        for (uint32_t i = 0; i < vlen; ++i) {
          p.params[i].name = name_at(rd32(x + i * 8), pos + 12 + i * 8, id);
          p.params[i].type = rd32(x + i * 8 + 4);
          if (p.params[i].type == 0 && (i + 1 != vlen || !p.params[i].name.empty()))
            throw E(pos + 12 + i * 8, id, "void parameter other than a trailing '...'");
        }
        t.detail = std::move(p);
        break;
      }
      case BtfKind::Var: {
        need_vlen0();
        need_no_kflag();
        need_name(true);
        t.type = size_type;
        const uint32_t linkage = rd32(x);
        if (linkage > 2) throw E(pos + 12, id, "bad VAR linkage " + std::to_string(linkage));
        t.detail = BtfVar{BtfLinkage(linkage)};
        break;
      }
      case BtfKind::Datasec: {
        need_no_kflag();
        need_name(true);
        t.size = size_type;
        BtfDatasec s;
        s.vars.resize(vlen);
        for (uint32_t i = 0; i < vlen; ++i)
          s.vars[i] = BtfVarSecinfo{rd32(x + i * 12), rd32(x + i * 12 + 4), rd32(x + i * 12 + 8)};
        t.detail = std::move(s);
        break;
      }
      case BtfKind::Float:
        need_vlen0();
        need_no_kflag();
        need_name(true);
        t.size = size_type;
        if (t.size != 2 && t.size != 4 && t.size != 8 && t.size != 12 && t.size != 16)
          throw E(pos + 8, id, "bad FLOAT size " + std::to_string(t.size));
        break;
      case BtfKind::DeclTag: {
        need_vlen0();
        need_name(true);
        t.type = size_type;
        const int32_t idx = int32_t(rd32(x));
        if (idx < -1) throw E(pos + 12, id, "bad DECL_TAG component index");
        t.detail = BtfDeclTag{idx};
        break;
      }
      default: break;
    }
    btf.types_.push_back(std::move(t));
    pos += 12 + extra;
  }
  btf.validate();
  return btf;
}

// Checks references: ids in range, kinds that must match, and that the graph of
// non-member references is acyclic and shallow (so naming and sizing terminate).
void Btf::validate() const {
  using E = BtfError;
  const uint32_t count = type_count();
  const size_t own_start = base_ ? 0 : 1;
  auto check_ref = [&](const BtfType& t, uint32_t ref, uint64_t at) {
    if (ref >= count) throw E(at, t.id, "refers to type id " + std::to_string(ref) + " which does not exist");
  };
  for (size_t i = own_start; i < types_.size(); ++i) {
    const BtfType& t = types_[i];
    const uint64_t at = t.offset;
    for (size_t e = 0, n = chain_edges(t); e < n; ++e) check_ref(t, chain_edge(t, e), at + 8);
    if (const auto* c = t.as<BtfComposite>())
      for (size_t m = 0; m < c->members.size(); ++m) {
        check_ref(t, c->members[m].type, at + 12 + m * 12 + 4);
        if (c->members[m].type == 0) throw E(at + 12 + m * 12 + 4, t.id, "member of type void");
      }
    switch (t.kind) {
      case BtfKind::Func:
        if (type(t.type).kind != BtfKind::FuncProto) throw E(at + 8, t.id, "FUNC must refer to a FUNC_PROTO");
        break;
      case BtfKind::Datasec:
        for (const auto& v : t.as<BtfDatasec>()->vars)
          if (type(v.type).kind != BtfKind::Var && type(v.type).kind != BtfKind::Func)
            throw E(at, t.id, "DATASEC entry " + std::to_string(v.type) + " is not a VAR");
        break;
      case BtfKind::DeclTag: {
        const auto& target = type(t.type);
        const int32_t idx = t.as<BtfDeclTag>()->component_idx;
        size_t n = 0;
        if (const auto* c = target.as<BtfComposite>()) n = c->members.size();
        if (target.kind == BtfKind::Func)  // the FUNC itself may not be checked yet
          if (const auto* p = type(target.type).as<BtfFuncProto>()) n = p->params.size();
        if (idx >= 0 && size_t(idx) >= n) throw E(at + 12, t.id, "DECL_TAG component index out of range");
        break;
      }
      default: break;
    }
  }

  // Iterative DFS with colours; depth[] is the longest chain below a type.
  std::vector<uint8_t> colour(types_.size(), 0);  // 0 new, 1 on stack, 2 done
  std::vector<uint16_t> depth(types_.size(), 0);
  struct Frame {
    uint32_t idx;
    uint32_t edge;
  };
  std::vector<Frame> stack;
  for (size_t root = own_start; root < types_.size(); ++root) {
    if (colour[root]) continue;
    stack.push_back({uint32_t(root), 0});
    colour[root] = 1;
    while (!stack.empty()) {
      Frame& f = stack.back();
      const BtfType& t = types_[f.idx];
      if (f.edge == chain_edges(t)) {
        colour[f.idx] = 2;
        const uint16_t dd = depth[f.idx];
        stack.pop_back();
        if (!stack.empty()) {
          auto& parent = depth[stack.back().idx];
          if (dd + 1 > parent) parent = uint16_t(dd + 1);
          if (parent > kMaxChainDepth) {
            const BtfType& pt = types_[stack.back().idx];
            throw E(pt.offset, pt.id, "reference chain deeper than " + std::to_string(kMaxChainDepth));
          }
        }
        continue;
      }
      const uint32_t r = chain_edge(t, f.edge++);
      if (r < first_id_ || r == 0) continue;  // void, or a base type (already validated)
      const uint32_t ri = r - first_id_;
      if (colour[ri] == 1) throw E(t.offset, t.id, "reference cycle through type id " + std::to_string(r));
      if (colour[ri] == 2) {
        if (depth[ri] + 1 > depth[f.idx]) depth[f.idx] = uint16_t(depth[ri] + 1);
        if (depth[f.idx] > kMaxChainDepth)
          throw E(t.offset, t.id, "reference chain deeper than " + std::to_string(kMaxChainDepth));
        continue;
      }
      if (stack.size() > kMaxChainDepth)
        throw E(t.offset, t.id, "reference chain deeper than " + std::to_string(kMaxChainDepth));
      colour[ri] = 1;
      stack.push_back({ri, 0});
    }
  }
}

const BtfType& Btf::type(uint32_t id) const {
  if (id < first_id_) return base_->type(id);
  if (id - first_id_ >= types_.size())
    throw BtfError(0, id, "no such type (count " + std::to_string(type_count()) + ")");
  return types_[id - first_id_];
}

uint32_t Btf::string_section_size() const { return base_str_len_ + str_len_; }

std::string_view Btf::string_at(uint32_t offset) const {
  if (base_ && offset < base_str_len_) return base_->string_at(offset);
  const uint32_t o = offset - base_str_len_;
  if (o >= str_len_)
    throw BtfError(0, BtfError::kNoType, "string offset " + std::to_string(offset) + " out of range");
  const char* s = reinterpret_cast<const char*>(bytes_->data() + str_start_ + o);
  return std::string_view(s, strnlen(s, str_len_ - o));
}

std::optional<uint32_t> Btf::find_by_name(std::string_view name, BtfKind kind) const {
  for (const auto& t : types_)
    if (t.kind == kind && t.name == name && t.id != 0) return t.id;
  if (base_) return base_->find_by_name(name, kind);
  return std::nullopt;
}

std::optional<uint32_t> Btf::find_by_name(std::string_view name) const {
  if (name.empty()) return std::nullopt;
  for (const auto& t : types_)
    if (t.name == name) return t.id;
  if (base_) return base_->find_by_name(name);
  return std::nullopt;
}

uint32_t Btf::resolve(uint32_t id) const {
  // Chains are acyclic and bounded (validate()), so this terminates.
  const BtfType* t = &type(id);
  while (t->is_modifier()) t = &type(t->type);
  return t->id;
}

uint64_t Btf::size_of(uint32_t id) const {
  const BtfType* t = &type(resolve(id));
  uint64_t mult = 1;
  for (;;) {
    switch (t->kind) {
      case BtfKind::Int:
      case BtfKind::Enum:
      case BtfKind::Enum64:
      case BtfKind::Struct:
      case BtfKind::Union:
      case BtfKind::Datasec:
      case BtfKind::Float: {
        const unsigned __int128 total = (unsigned __int128)mult * t->size;
        if (total > UINT64_MAX) throw BtfError(t->offset, id, "size overflows 64 bits");
        return uint64_t(total);
      }
      case BtfKind::Ptr:
        if (mult > UINT64_MAX / 8) throw BtfError(t->offset, id, "size overflows 64 bits");
        return mult * 8;
      case BtfKind::Array: {
        const uint32_t n = t->as<BtfArray>()->nelems;
        const unsigned __int128 m = (unsigned __int128)mult * n;
        if (m > UINT64_MAX) throw BtfError(t->offset, id, "size overflows 64 bits");
        mult = uint64_t(m);
        t = &type(resolve(t->as<BtfArray>()->elem_type));
        break;
      }
      case BtfKind::Var: t = &type(resolve(t->type)); break;
      default: throw BtfError(t->offset, id, std::string(btf_kind_name(t->kind)) + " has no size");
    }
  }
}

}  // namespace bpfkit::object
