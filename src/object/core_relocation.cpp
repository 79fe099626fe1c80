// CO-RE relocation: follows the semantics libbpf documents for .BTF.ext
// bpf_core_relo records. Each record's access string is turned into a "spec"
// (a path of accessors through the local BTF), the target BTF is searched for
// candidate types with the same essential name, each candidate is matched along
// the spec, and the instruction is patched with the value the target gives.
#include "object/core_relocation.h"

#include <linux/bpf.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace bpfkit::object {
namespace {

constexpr int32_t kPoisonHelperId = 0xbad2310;  // "bad relo": libbpf's invalid helper id
constexpr size_t kMaxSpecLen = 64;              // deepest access path accepted
constexpr int kMaxTypeDepth = 32;               // recursion budget when comparing types

bool is_field_kind(uint32_t k) { return k <= BPF_CORE_FIELD_RSHIFT_U64; }
bool is_type_kind(uint32_t k) {
  return k == BPF_CORE_TYPE_ID_LOCAL || k == BPF_CORE_TYPE_ID_TARGET || k == BPF_CORE_TYPE_EXISTS ||
         k == BPF_CORE_TYPE_SIZE || k == BPF_CORE_TYPE_MATCHES;
}
bool is_enumval_kind(uint32_t k) { return k == BPF_CORE_ENUMVAL_EXISTS || k == BPF_CORE_ENUMVAL_VALUE; }

const char* kind_name(uint32_t k) {
  static const char* const names[] = {
      "field_byte_offset", "field_byte_size", "field_exists",   "field_signed", "field_lshift_u64",
      "field_rshift_u64",  "type_id_local",   "type_id_target", "type_exists",  "type_size",
      "enumval_exists",    "enumval_value",   "type_matches"};
  return k < std::size(names) ? names[k] : "unknown";
}

// "task_struct___old" -> "task_struct": everything from the last "___" that sits
// between two non-underscore characters is a flavor and is ignored.
std::string_view essential_name(std::string_view name) {
  for (size_t i = name.size() >= 5 ? name.size() - 5 + 1 : 0; i-- > 0;) {
    if (name[i] != '_' && name.compare(i + 1, 3, "___") == 0 && name[i + 4] != '_')
      return name.substr(0, i + 1);
  }
  return name;
}

bool is_composite(const BtfType& t) { return t.kind == BtfKind::Struct || t.kind == BtfKind::Union; }
bool is_any_enum(const BtfType& t) { return t.kind == BtfKind::Enum || t.kind == BtfKind::Enum64; }
bool kinds_compatible(const BtfType& a, const BtfType& b) {
  return a.kind == b.kind || (is_any_enum(a) && is_any_enum(b));
}
const std::vector<BtfMember>& members_of(const BtfType& t) { return t.as<BtfComposite>()->members; }

uint64_t checked_mul(uint64_t a, uint64_t b) {
  const unsigned __int128 r = (unsigned __int128)a * b;
  if (r > UINT64_MAX) throw CoreRelocationError("offset overflows 64 bits");
  return uint64_t(r);
}
uint64_t checked_add(uint64_t a, uint64_t b) {
  if (a > UINT64_MAX - b) throw CoreRelocationError("offset overflows 64 bits");
  return a + b;
}

// One step of a spec: a named member (struct/union), or an index (the root's
// pointer arithmetic, or an array element). type_id is the composite for a
// member, the element type for an index.
struct Accessor {
  uint32_t type_id = 0;
  uint32_t idx = 0;
  std::string_view name;  // empty for an index
};

struct Spec {
  const Btf* btf = nullptr;
  uint32_t root_type_id = 0;
  std::vector<Accessor> acc;  // named members and indices only (anonymous members are skipped)
  std::vector<uint32_t> raw;  // the full access path, anonymous members included
  uint64_t bit_offset = 0;
};

std::string format_spec(const Spec& s, uint32_t kind) {
  const Btf& btf = *s.btf;
  std::string out = btf.type_name(s.root_type_id);
  if (is_enumval_kind(kind) && !s.acc.empty()) {
    out += "::" + std::string(s.acc[0].name);
  } else if (is_field_kind(kind)) {
    for (size_t i = 0; i < s.acc.size(); ++i) {
      const Accessor& a = s.acc[i];
      if (!a.name.empty())
        out += "." + std::string(a.name);
      else if (i > 0 || a.idx != 0)
        out += "[" + std::to_string(a.idx) + "]";
    }
  }
  out += " (";
  for (size_t i = 0; i < s.raw.size(); ++i) out += (i ? ":" : "") + std::to_string(s.raw[i]);
  return out + ")";
}

std::vector<uint32_t> parse_access(const std::string& access) {
  std::vector<uint32_t> raw;
  const char* p = access.data();
  const char* end = p + access.size();
  if (p == end) throw CoreRelocationError("empty access string");
  for (;;) {
    uint32_t v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || next == p) throw CoreRelocationError("malformed access string '" + access + "'");
    raw.push_back(v);
    if (raw.size() > kMaxSpecLen) throw CoreRelocationError("access string '" + access + "' is too long");
    p = next;
    if (p == end) break;
    if (*p != ':') throw CoreRelocationError("malformed access string '" + access + "'");
    ++p;
  }
  return raw;
}

// A zero-length array that is the last member of the struct it was reached by name in.
bool is_flex_array(const Btf& btf, const Accessor& prev, const BtfArray& arr) {
  if (prev.name.empty() || arr.nelems != 0) return false;
  const BtfType& t = btf.type(prev.type_id);
  return is_composite(t) && prev.idx + 1 == members_of(t).size();
}

Spec parse_spec(const Btf& btf, uint32_t root, const std::string& access, uint32_t kind) {
  Spec s;
  s.btf = &btf;
  s.root_type_id = root;
  btf.type(root);  // must exist
  s.raw = parse_access(access);
  if (is_type_kind(kind)) {
    if (s.raw.size() != 1 || s.raw[0] != 0)
      throw CoreRelocationError("a type relocation's access string must be \"0\", not '" + access + "'");
    return s;
  }
  const uint32_t first = s.raw[0];
  if (is_enumval_kind(kind)) {
    const uint32_t id = btf.resolve(root);
    const BtfType& t = btf.type(id);
    if (!is_any_enum(t)) throw CoreRelocationError("enum value relocation on " + btf.type_name(root));
    const auto& values = t.as<BtfEnum>()->values;
    if (s.raw.size() != 1 || first >= values.size())
      throw CoreRelocationError("access string '" + access + "' does not name a value of " +
                                btf.type_name(root));
    s.acc.push_back({id, first, values[first].name});
    return s;
  }
  if (!is_field_kind(kind)) throw CoreRelocationError("unknown relocation kind " + std::to_string(kind));

  s.acc.push_back({root, first, {}});
  s.bit_offset = checked_mul(first, checked_mul(btf.size_of(root), 8));
  uint32_t id = root;
  for (size_t i = 1; i < s.raw.size(); ++i) {
    id = btf.resolve(id);
    const BtfType& t = btf.type(id);
    const uint32_t idx = s.raw[i];
    if (is_composite(t)) {
      const auto& ms = members_of(t);
      if (idx >= ms.size())
        throw CoreRelocationError("member index " + std::to_string(idx) + " is out of range for " +
                                  btf.type_name(id));
      s.bit_offset = checked_add(s.bit_offset, ms[idx].bit_offset);
      if (!ms[idx].name.empty()) s.acc.push_back({id, idx, ms[idx].name});
      id = ms[idx].type;
    } else if (t.kind == BtfKind::Array) {
      const BtfArray& arr = *t.as<BtfArray>();
      const uint32_t elem = btf.resolve(arr.elem_type);
      if (!is_flex_array(btf, s.acc.back(), arr) && idx >= arr.nelems)
        throw CoreRelocationError("index " + std::to_string(idx) + " is out of range for " +
                                  btf.type_name(id));
      s.acc.push_back({elem, idx, {}});
      s.bit_offset = checked_add(s.bit_offset, checked_mul(idx, checked_mul(btf.size_of(elem), 8)));
      id = elem;
    } else {
      throw CoreRelocationError("access index " + std::to_string(i) + " of '" + access + "' reaches " +
                                btf.type_name(id) + ", which is neither a struct, a union nor an array");
    }
  }
  return s;
}

// Types a field may have in local and target and still be read the same way.
bool fields_compatible(const Btf& lb, uint32_t lid, const Btf& tb, uint32_t tid) {
  for (int depth = 0; depth < kMaxTypeDepth; ++depth) {
    const BtfType& l = lb.type(lb.resolve(lid));
    const BtfType& t = tb.type(tb.resolve(tid));
    if (is_composite(l) && is_composite(t)) return true;
    if (!kinds_compatible(l, t)) return false;
    switch (l.kind) {
      case BtfKind::Ptr:
      case BtfKind::Float:
        return true;
      case BtfKind::Fwd:
      case BtfKind::Enum:
      case BtfKind::Enum64: {
        const std::string_view ln = essential_name(l.name), tn = essential_name(t.name);
        return ln.empty() || tn.empty() || ln == tn;
      }
      case BtfKind::Int:  // bitfield-style ints (offset != 0) are not supported
        return l.as<BtfInt>()->offset == 0 && t.as<BtfInt>()->offset == 0;
      case BtfKind::Array:
        lid = l.as<BtfArray>()->elem_type;
        tid = t.as<BtfArray>()->elem_type;
        continue;
      default:
        return false;
    }
  }
  return false;
}

// For TYPE_EXISTS, TYPE_SIZE and TYPE_ID_TARGET: a shallow compatibility.
bool types_compatible(const Btf& lb, uint32_t lid, const Btf& tb, uint32_t tid, int depth = kMaxTypeDepth) {
  for (; depth > 0; --depth) {
    const BtfType& l = lb.type(lb.resolve(lid));
    const BtfType& t = tb.type(tb.resolve(tid));
    if (!kinds_compatible(l, t)) return false;
    switch (l.kind) {
      case BtfKind::Void:
      case BtfKind::Struct:
      case BtfKind::Union:
      case BtfKind::Enum:
      case BtfKind::Enum64:
      case BtfKind::Fwd:
      case BtfKind::Float:
        return true;
      case BtfKind::Int:
        return l.as<BtfInt>()->offset == 0 && t.as<BtfInt>()->offset == 0;
      case BtfKind::Ptr:
        lid = l.type;
        tid = t.type;
        continue;
      case BtfKind::Array:
        lid = l.as<BtfArray>()->elem_type;
        tid = t.as<BtfArray>()->elem_type;
        continue;
      case BtfKind::FuncProto: {
        const auto& lp = l.as<BtfFuncProto>()->params;
        const auto& tp = t.as<BtfFuncProto>()->params;
        if (lp.size() != tp.size()) return false;
        for (size_t i = 0; i < lp.size(); ++i)
          if (!types_compatible(lb, lp[i].type, tb, tp[i].type, depth - 1)) return false;
        lid = l.type;
        tid = t.type;
        continue;
      }
      default:
        return false;
    }
  }
  throw CoreRelocationError("types nest too deeply to compare");
}

bool names_match(std::string_view local, std::string_view target) {
  return essential_name(local) == essential_name(target);
}

// For TYPE_MATCHES: a stricter, recursive comparison (libbpf's "type match").
bool types_match(const Btf& lb, uint32_t lid, const Btf& tb, uint32_t tid, bool behind_ptr, int depth);

bool enums_match(const BtfType& l, const BtfType& t) {
  if (l.size != t.size) return false;
  for (const auto& lv : l.as<BtfEnum>()->values) {
    bool found = false;
    for (const auto& tv : t.as<BtfEnum>()->values)
      if (names_match(lv.name, tv.name)) {
        found = true;
        break;
      }
    if (!found) return false;
  }
  return true;
}

bool composites_match(const Btf& lb, const BtfType& l, const Btf& tb, const BtfType& t, bool behind_ptr,
                      int depth) {
  const auto& lm = members_of(l);
  const auto& tm = members_of(t);
  if (lm.size() > tm.size()) return false;
  for (const auto& m : lm) {
    bool found = false;
    for (const auto& n : tm) {
      if (!names_match(m.name, n.name)) continue;
      if (types_match(lb, m.type, tb, n.type, behind_ptr, depth - 1)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool types_match(const Btf& lb, uint32_t lid, const Btf& tb, uint32_t tid, bool behind_ptr, int depth) {
  for (; depth > 0; --depth) {
    const BtfType& l = lb.type(lb.resolve(lid));
    const BtfType& t = tb.type(tb.resolve(tid));
    if (!names_match(l.name, t.name)) return false;
    switch (l.kind) {
      case BtfKind::Void:
        return t.kind == BtfKind::Void;
      case BtfKind::Fwd: {
        const bool lu = l.as<BtfFwd>()->is_union;
        if (t.kind == BtfKind::Fwd) return lu == t.as<BtfFwd>()->is_union;
        if (!behind_ptr) return false;
        return (t.kind == BtfKind::Struct && !lu) || (t.kind == BtfKind::Union && lu);
      }
      case BtfKind::Enum:
      case BtfKind::Enum64:
        return is_any_enum(t) && enums_match(l, t);
      case BtfKind::Struct:
      case BtfKind::Union:
        if (behind_ptr) {
          if (l.kind == t.kind) return true;
          return t.kind == BtfKind::Fwd && t.as<BtfFwd>()->is_union == (l.kind == BtfKind::Union);
        }
        return l.kind == t.kind && composites_match(lb, l, tb, t, behind_ptr, depth);
      case BtfKind::Int: {
        if (t.kind != BtfKind::Int) return false;
        const bool ls = l.as<BtfInt>()->encoding & kBtfIntSigned,
                   ts = t.as<BtfInt>()->encoding & kBtfIntSigned;
        return l.size == t.size && ls == ts;
      }
      case BtfKind::Float:
        return t.kind == BtfKind::Float && l.size == t.size;
      case BtfKind::Ptr:
        if (t.kind != BtfKind::Ptr) return false;
        behind_ptr = true;
        lid = l.type;
        tid = t.type;
        continue;
      case BtfKind::Array:
        if (t.kind != BtfKind::Array || l.as<BtfArray>()->nelems != t.as<BtfArray>()->nelems) return false;
        lid = l.as<BtfArray>()->elem_type;
        tid = t.as<BtfArray>()->elem_type;
        continue;
      case BtfKind::FuncProto: {
        if (t.kind != BtfKind::FuncProto) return false;
        const auto& lp = l.as<BtfFuncProto>()->params;
        const auto& tp = t.as<BtfFuncProto>()->params;
        if (lp.size() != tp.size()) return false;
        for (size_t i = 0; i < lp.size(); ++i)
          if (!types_match(lb, lp[i].type, tb, tp[i].type, behind_ptr, depth - 1)) return false;
        lid = l.type;
        tid = t.type;
        continue;
      }
      default:
        return false;
    }
  }
  throw CoreRelocationError("types nest too deeply to compare");
}

// Finds the member named like `local` in target composite `targ_id`, looking
// through anonymous struct/union members; extends `ts` with the path taken.
bool match_member(const Btf& lb, const Accessor& local, const Btf& tb, uint32_t targ_id, Spec& ts,
                  uint32_t& next_targ_id) {
  const BtfMember& lm = members_of(lb.type(local.type_id))[local.idx];
  const uint32_t tid = tb.resolve(targ_id);
  const BtfType& t = tb.type(tid);
  if (!is_composite(t)) return false;
  const auto& ms = members_of(t);
  for (uint32_t i = 0; i < ms.size(); ++i) {
    if (ts.raw.size() >= kMaxSpecLen) throw CoreRelocationError("target struct/union nesting is too deep");
    ts.bit_offset += ms[i].bit_offset;  // tentatively: this member may be the one
    ts.raw.push_back(i);
    if (ms[i].name.empty()) {
      if (match_member(lb, local, tb, ms[i].type, ts, next_targ_id)) return true;
    } else if (ms[i].name == lm.name) {
      ts.acc.push_back({tid, i, ms[i].name});
      next_targ_id = ms[i].type;
      return fields_compatible(lb, lm.type, tb, ms[i].type);
    }
    ts.bit_offset -= ms[i].bit_offset;
    ts.raw.pop_back();
  }
  return false;
}

// Matches a local spec against candidate `targ_id`; fills `ts` when it matches.
bool match_spec(const Spec& local, uint32_t kind, const Btf& tb, uint32_t targ_id, Spec& ts) {
  const Btf& lb = *local.btf;
  ts = Spec{};
  ts.btf = &tb;
  ts.root_type_id = targ_id;
  if (is_type_kind(kind)) {
    ts.raw = {0};
    if (kind == BPF_CORE_TYPE_MATCHES)
      return types_match(lb, local.root_type_id, tb, targ_id, false, kMaxTypeDepth);
    return types_compatible(lb, local.root_type_id, tb, targ_id);
  }
  if (is_enumval_kind(kind)) {
    const uint32_t tid = tb.resolve(targ_id);
    const BtfType& t = tb.type(tid);
    if (!is_any_enum(t)) return false;
    const auto& values = t.as<BtfEnum>()->values;
    for (uint32_t i = 0; i < values.size(); ++i) {
      if (names_match(local.acc[0].name, values[i].name)) {
        ts.acc.push_back({tid, i, values[i].name});
        ts.raw.push_back(i);
        return true;
      }
    }
    return false;
  }
  for (size_t i = 0; i < local.acc.size(); ++i) {
    const Accessor& la = local.acc[i];
    if (!la.name.empty()) {
      if (!match_member(lb, la, tb, targ_id, ts, targ_id)) return false;
      continue;
    }
    if (i > 0) {  // an array element; the root index needs no array
      const BtfType& t = tb.type(tb.resolve(targ_id));
      if (t.kind != BtfKind::Array) return false;
      const BtfArray& arr = *t.as<BtfArray>();
      if (!is_flex_array(tb, ts.acc.back(), arr) && la.idx >= arr.nelems) return false;
      targ_id = tb.resolve(arr.elem_type);
    }
    if (ts.raw.size() >= kMaxSpecLen) throw CoreRelocationError("target nesting is too deep");
    ts.acc.push_back({targ_id, la.idx, {}});
    ts.raw.push_back(la.idx);
    ts.bit_offset = checked_add(ts.bit_offset, checked_mul(la.idx, checked_mul(tb.size_of(targ_id), 8)));
  }
  return true;
}

// A value computed from one spec (local or target).
struct Value {
  uint64_t val = 0;
  uint32_t mem_size = 0;  // size a load/store of the field uses; 0 for bitfields
  uint32_t type_id = 0;   // the field's type, for deciding whether a size change is safe
  bool validate = true;   // whether the instruction must hold this value (local spec)
};

// Returns false when there is no target and the relocation needs one (poison).
bool field_value(uint32_t kind, const Spec* s, Value& v) {
  if (kind == BPF_CORE_FIELD_EXISTS) {
    v.val = s ? 1 : 0;
    return true;
  }
  if (!s) return false;
  const Btf& btf = *s->btf;
  const Accessor& acc = s->acc.back();
  if (acc.name.empty()) {  // the last step is an array index (or the root)
    const uint64_t sz = btf.size_of(acc.type_id);
    if (kind == BPF_CORE_FIELD_BYTE_OFFSET) {
      v.val = s->bit_offset / 8;
      v.mem_size = uint32_t(std::min<uint64_t>(sz, UINT32_MAX));
      v.type_id = acc.type_id;
    } else if (kind == BPF_CORE_FIELD_BYTE_SIZE) {
      v.val = sz;
    } else {
      throw CoreRelocationError(std::string(kind_name(kind)) + " cannot be applied to an array element");
    }
    return true;
  }
  const BtfMember& m = members_of(btf.type(acc.type_id))[acc.idx];
  const uint32_t ftid = btf.resolve(m.type);
  const BtfType& mt = btf.type(ftid);
  const uint64_t bit_off = s->bit_offset;
  uint64_t bit_sz = m.bitfield_size, byte_sz, byte_off;
  const bool bitfield = bit_sz > 0;
  if (bitfield) {
    // The smallest naturally aligned load, starting at the field type's size, that covers the bits.
    byte_sz = mt.size;
    if (byte_sz == 0) throw CoreRelocationError("bitfield of a type without size");
    byte_off = bit_off / 8 / byte_sz * byte_sz;
    while (bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {
      if (byte_sz >= 8) throw CoreRelocationError("bitfield cannot be read with one 64-bit load");
      byte_sz *= 2;
      byte_off = bit_off / 8 / byte_sz * byte_sz;
    }
  } else {
    byte_sz = btf.size_of(ftid);
    byte_off = bit_off / 8;
    bit_sz = checked_mul(byte_sz, 8);
  }
  // Where a bitfield lands is the compiler's choice: only signedness and the
  // right shift are checked against the instruction for bitfields.
  v.validate = !bitfield;
  switch (kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET:
      v.val = byte_off;
      if (!bitfield) {
        v.mem_size = uint32_t(std::min<uint64_t>(byte_sz, UINT32_MAX));
        v.type_id = ftid;
      }
      break;
    case BPF_CORE_FIELD_BYTE_SIZE:
      v.val = byte_sz;
      break;
    case BPF_CORE_FIELD_SIGNED:
      v.val = (is_any_enum(mt) && mt.as<BtfEnum>()->is_signed) ||
              (mt.kind == BtfKind::Int && (mt.as<BtfInt>()->encoding & kBtfIntSigned));
      v.validate = true;
      break;
    case BPF_CORE_FIELD_LSHIFT_U64:  // little-endian target
      v.val = 64 - (bit_off + bit_sz - byte_off * 8);
      break;
    case BPF_CORE_FIELD_RSHIFT_U64:
      v.val = 64 - bit_sz;
      v.validate = true;
      break;
  }
  return true;
}

bool type_value(uint32_t kind, const Spec* s, Value& v) {
  if (!s) {
    v.val = 0;  // a missing type reads as 0 for every type relocation
    return true;
  }
  switch (kind) {
    case BPF_CORE_TYPE_ID_TARGET:
      v.val = s->root_type_id;
      break;
    case BPF_CORE_TYPE_EXISTS:
    case BPF_CORE_TYPE_MATCHES:
      v.val = 1;
      break;
    case BPF_CORE_TYPE_SIZE:
      v.val = s->btf->size_of(s->root_type_id);
      break;
  }
  return true;
}

bool enumval_value(uint32_t kind, const Spec* s, Value& v) {
  if (kind == BPF_CORE_ENUMVAL_EXISTS) {
    v.val = s ? 1 : 0;
    return true;
  }
  if (!s) return false;
  const BtfType& t = s->btf->type(s->acc[0].type_id);
  v.val = t.as<BtfEnum>()->values[s->acc[0].idx].raw;
  return true;
}

struct Outcome {
  uint64_t orig = 0, target = 0;
  bool validate = true, poison = false;
  uint32_t orig_size = 0, new_size = 0;
  bool bad_size_change = false;  // a load/store of this field cannot simply be resized
};

Outcome compute(uint32_t kind, const Spec& local, const Spec* target) {
  Value lv, tv;
  bool ok = true;
  if (is_field_kind(kind)) {
    field_value(kind, &local, lv);
    ok = field_value(kind, target, tv);
  } else if (is_type_kind(kind)) {
    type_value(kind, &local, lv);
    ok = type_value(kind, target, tv);
  } else {
    enumval_value(kind, &local, lv);
    ok = enumval_value(kind, target, tv);
  }
  Outcome o;
  o.orig = lv.val;
  o.validate = lv.validate;
  if (!ok) {
    o.poison = true;
    return o;
  }
  o.target = tv.val;
  o.orig_size = lv.mem_size;
  o.new_size = tv.mem_size;
  if (o.orig_size != o.new_size) {
    // Resizing is safe for pointers (a 32-bit kernel pointer read into a 64-bit
    // register) and unsigned integers (zero extension keeps the value).
    const BtfType& a = local.btf->type(lv.type_id);
    const BtfType& b = target->btf->type(tv.type_id);
    const bool ptrs = a.kind == BtfKind::Ptr && b.kind == BtfKind::Ptr;
    const bool uints = a.kind == BtfKind::Int && b.kind == BtfKind::Int &&
                       !(a.as<BtfInt>()->encoding & kBtfIntSigned) &&
                       !(b.as<BtfInt>()->encoding & kBtfIntSigned);
    o.bad_size_change = !ptrs && !uints;
  }
  return o;
}

void poison(isa::RawInsn& insn) {
  insn = isa::RawInsn{};
  insn.opcode = BPF_JMP | BPF_CALL;
  insn.imm = kPoisonHelperId;
}

int size_bytes(uint8_t opcode) {
  switch (opcode & 0x18) {
    case BPF_B:
      return 1;
    case BPF_H:
      return 2;
    case BPF_W:
      return 4;
    default:
      return 8;
  }
}

std::optional<uint8_t> size_code(uint32_t bytes) {
  switch (bytes) {
    case 1:
      return BPF_B;
    case 2:
      return BPF_H;
    case 4:
      return BPF_W;
    case 8:
      return BPF_DW;
    default:
      return std::nullopt;
  }
}

bool is_lddw(const isa::RawInsn& insn) { return insn.opcode == (BPF_LD | BPF_IMM | BPF_DW); }

// Patches insns[i] with the outcome; returns whether it was poisoned.
bool patch(std::span<isa::RawInsn> insns, size_t i, const Outcome& o) {
  isa::RawInsn& insn = insns[i];
  auto do_poison = [&] {
    if (is_lddw(insn) && i + 1 < insns.size()) poison(insns[i + 1]);  // no stray second half
    poison(insn);
    return true;
  };
  if (o.poison) return do_poison();
  const uint8_t cls = insn.opcode & 0x07;
  const uint64_t want = o.orig, value = o.target;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      if ((insn.opcode & BPF_X) != BPF_K)
        throw CoreRelocationError("instruction is an ALU with a register source, not an immediate");
      const uint64_t have = uint64_t(int64_t(insn.imm));
      if (o.validate && have != want)
        throw CoreRelocationError("ALU immediate is " + std::to_string(insn.imm) + ", expected " +
                                  std::to_string(want));
      if (value > UINT32_MAX && (int64_t(value) >= 0 || int64_t(value) < INT32_MIN))
        throw CoreRelocationError("value " + std::to_string(value) + " does not fit a 32-bit immediate");
      insn.imm = int32_t(uint32_t(value));
      return false;
    }
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      const uint64_t have = uint64_t(int64_t(insn.off));
      if (o.validate && have != want)
        throw CoreRelocationError("load/store offset is " + std::to_string(insn.off) + ", expected " +
                                  std::to_string(want));
      if (value > uint64_t(INT16_MAX))
        throw CoreRelocationError("new offset " + std::to_string(value) +
                                  " does not fit the 16-bit offset field");
      if (o.bad_size_change) return do_poison();  // as libbpf: only fails if reached
      insn.off = int16_t(value);
      if (o.new_size != o.orig_size) {
        if (size_bytes(insn.opcode) != int(o.orig_size))
          throw CoreRelocationError("load/store size is " + std::to_string(size_bytes(insn.opcode)) +
                                    " bytes, expected the field's " + std::to_string(o.orig_size));
        const auto code = size_code(o.new_size);
        if (!code)
          throw CoreRelocationError("target field size " + std::to_string(o.new_size) +
                                    " cannot be loaded or stored in one instruction");
        insn.opcode = uint8_t((insn.opcode & ~0x18) | *code);
      }
      return false;
    }
    case BPF_LD: {
      if (!is_lddw(insn) || i + 1 >= insns.size() || insn.src != 0 || insn.off != 0 ||
          insns[i + 1].opcode != 0 || insns[i + 1].dst != 0 || insns[i + 1].src != 0 || insns[i + 1].off != 0)
        throw CoreRelocationError("instruction is not a plain 64-bit immediate load");
      isa::RawInsn& hi = insns[i + 1];
      const uint64_t have = uint64_t(uint32_t(insn.imm)) | (uint64_t(uint32_t(hi.imm)) << 32);
      if (o.validate && have != want)
        throw CoreRelocationError("64-bit immediate is " + std::to_string(have) + ", expected " +
                                  std::to_string(want));
      insn.imm = int32_t(uint32_t(value));
      hi.imm = int32_t(uint32_t(value >> 32));
      return false;
    }
    default: {
      char buf[8];
      snprintf(buf, sizeof buf, "0x%02x", insn.opcode);
      throw CoreRelocationError(std::string("instruction with opcode ") + buf + " cannot be relocated");
    }
  }
}

// Target types by essential name, built once per call.
class CandidateIndex {
 public:
  explicit CandidateIndex(const Btf& target) {
    for (uint32_t id = 1; id < target.type_count(); ++id) {
      const BtfType& t = target.type(id);
      if (!t.name.empty()) by_name_[essential_name(t.name)].push_back(id);
    }
  }
  const std::vector<uint32_t>& find(std::string_view essential) const {
    static const std::vector<uint32_t> none;
    auto it = by_name_.find(essential);
    return it == by_name_.end() ? none : it->second;
  }

 private:
  std::unordered_map<std::string_view, std::vector<uint32_t>> by_name_;
};

}  // namespace

std::vector<CoreRelocationResult> apply_core_relocations(std::span<isa::RawInsn> insns,
                                                         const std::string& section, const Btf& local,
                                                         const std::vector<BtfCoreRelo>& relocations,
                                                         const Btf& target) {
  std::vector<CoreRelocationResult> results;
  std::optional<CandidateIndex> index;
  for (const BtfCoreRelo& r : relocations) {
    std::string where = "section '" + section + "' insn " + std::to_string(r.insn_off / 8) + ": " +
                        kind_name(r.kind) + " [" + std::to_string(r.type_id) + "] (" + r.access + ")";
    try {
      if (r.insn_off % 8 != 0 || r.insn_off / 8 >= insns.size())
        throw CoreRelocationError("instruction byte offset " + std::to_string(r.insn_off) +
                                  " is not an instruction of the section (" + std::to_string(insns.size()) +
                                  " slots)");
      const Spec spec = parse_spec(local, r.type_id, r.access, r.kind);
      where = "section '" + section + "' insn " + std::to_string(r.insn_off / 8) + ": " + kind_name(r.kind) +
              " " + format_spec(spec, r.kind);
      Outcome out;
      if (r.kind == BPF_CORE_TYPE_ID_LOCAL) {
        // The local id is what the instruction must hold; linking may have changed it.
        out.orig = out.target = r.type_id;
        out.validate = false;
      } else {
        const BtfType& root = local.type(r.type_id);
        if (root.name.empty())
          throw CoreRelocationError("relocations against anonymous types are not supported");
        if (!index) index.emplace(target);
        size_t matches = 0;
        Spec chosen;
        for (uint32_t cand : index->find(essential_name(root.name))) {
          if (!kinds_compatible(root, target.type(cand))) continue;
          Spec ts;
          if (!match_spec(spec, r.kind, target, cand, ts)) continue;
          const Outcome o = compute(r.kind, spec, &ts);
          if (matches == 0) {
            out = o;
            chosen = ts;
          } else if (ts.bit_offset != chosen.bit_offset) {
            throw CoreRelocationError("ambiguous: candidates " + format_spec(chosen, r.kind) + " and " +
                                      format_spec(ts, r.kind) + " give different offsets");
          } else if (o.poison != out.poison || o.target != out.target) {
            throw CoreRelocationError("ambiguous: candidates " + format_spec(chosen, r.kind) + " and " +
                                      format_spec(ts, r.kind) + " give " + std::to_string(out.target) +
                                      " and " + std::to_string(o.target));
          }
          ++matches;
        }
        if (matches == 0) out = compute(r.kind, spec, nullptr);
      }
      const size_t i = r.insn_off / 8;
      CoreRelocationResult res;
      res.insn = i;
      res.kind = r.kind;
      res.local_value = out.orig;
      res.target_value = out.target;
      res.poisoned = patch(insns, i, out);
      res.description = std::string(kind_name(r.kind)) + " " + format_spec(spec, r.kind) + ": " +
                        std::to_string(out.orig) + " -> " +
                        (res.poisoned ? std::string("poisoned") : std::to_string(out.target));
      results.push_back(std::move(res));
    } catch (const CoreRelocationError& e) {
      throw CoreRelocationError(where + ": " + e.what());
    } catch (const BtfError& e) {
      throw CoreRelocationError(where + ": " + e.what());
    }
  }
  return results;
}

}  // namespace bpfkit::object
