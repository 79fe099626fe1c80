// BTF-shaped JSON for map keys and values: a reader that walks the type over the
// bytes, and a writer that walks it over the JSON. Both address the value by bit
// position so that bitfields and old-style int offsets need no special layout.
#include "object/btf_json.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

namespace bpfkit::object {
namespace {

using json = nlohmann::json;
using u128 = unsigned __int128;

constexpr int kMaxDepth = 64;             // type nesting (malformed BTF may nest a struct in itself)
constexpr uint64_t kMaxNodes = 1u << 22;  // values visited (zero-sized elements can repeat a lot)

bool is_composite(const BtfType& t) { return t.kind == BtfKind::Struct || t.kind == BtfKind::Union; }

// A char: what bpftool prints arrays of as strings; a one-character JSON string
// is its value (for other 1-byte ints a string is a number: "0x1f", "7").
bool is_char_int(const BtfType& t) {
  if (t.kind != BtfKind::Int || t.size != 1) return false;
  return (t.as<BtfInt>()->encoding & kBtfIntChar) || t.name == "char";
}
bool is_char(const Btf& btf, uint32_t id) { return is_char_int(btf.type(btf.resolve(id))); }

bool is_byte_int(const Btf& btf, uint32_t id) {
  const BtfType& t = btf.type(btf.resolve(id));
  return t.kind == BtfKind::Int && t.size == 1 && t.as<BtfInt>()->bits == 8 && t.as<BtfInt>()->offset == 0;
}

std::string int_type_name(bool is_signed, unsigned bits) {
  return (is_signed ? "s" : "u") + std::to_string(bits);
}

std::string hex128(u128 v) {
  char buf[40];
  const uint64_t hi = uint64_t(v >> 64), lo = uint64_t(v);
  if (hi)
    snprintf(buf, sizeof buf, "0x%llx%016llx", (unsigned long long)hi, (unsigned long long)lo);
  else
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)lo);
  return buf;
}

u128 sign_extend(u128 v, unsigned bits) {
  if (bits == 0 || bits >= 128) return v;
  const u128 sign = u128(1) << (bits - 1);
  return (v ^ sign) - sign;
}

// ---------------------------------------------------------------- reading

class Reader {
 public:
  Reader(const Btf& btf, std::span<const uint8_t> bytes) : btf_(btf), bytes_(bytes) {}

  json value(uint32_t id, uint64_t bit_pos, const std::string& path, int depth) {
    if (depth > kMaxDepth) throw BtfJsonError(path, "types nest too deeply");
    if (++nodes_ > kMaxNodes) throw BtfJsonError(path, "too many elements to format");
    const uint32_t rid = btf_.resolve(id);
    const BtfType& t = btf_.type(rid);
    switch (t.kind) {
      case BtfKind::Int: {
        const BtfInt& in = *t.as<BtfInt>();
        return integer(t, bit_pos + in.offset, in.bits, path);
      }
      case BtfKind::Enum:
      case BtfKind::Enum64:
        return enumeration(t, bit_pos, t.size * 8u, path);
      case BtfKind::Ptr:
        return uint64_t(bits(bit_pos, 64, path));
      case BtfKind::Float:
        return floating(t, bit_pos, path);
      case BtfKind::Array:
        return array(t, bit_pos, path, depth);
      case BtfKind::Struct:
      case BtfKind::Union: {
        json obj = json::object();
        members(t, bit_pos, path, depth, obj);
        return obj;
      }
      case BtfKind::Datasec: {
        json obj = json::object();
        for (const auto& v : t.as<BtfDatasec>()->vars) {
          const BtfType& var = btf_.type(v.type);
          const std::string name(var.name);
          obj[name] = value(v.type, bit_pos + uint64_t(v.offset) * 8, path + "." + name, depth + 1);
        }
        return obj;
      }
      case BtfKind::Var:
        return value(t.type, bit_pos, path, depth + 1);
      default:
        throw BtfJsonError(path, btf_.type_name(id) + " has no value to format");
    }
  }

 private:
  u128 bits(uint64_t pos, unsigned n, const std::string& path) const {
    if (n > 128 || pos + n > uint64_t(bytes_.size()) * 8)
      throw BtfJsonError(path,
                         "lies outside the " + std::to_string(bytes_.size()) + " bytes (malformed BTF)");
    u128 v = 0;
    if (pos % 8 == 0 && n % 8 == 0) {
      for (unsigned i = n / 8; i-- > 0;) v = (v << 8) | bytes_[pos / 8 + i];
      return v;
    }
    for (unsigned i = 0; i < n; ++i)
      if ((bytes_[(pos + i) / 8] >> ((pos + i) % 8)) & 1) v |= u128(1) << i;
    return v;
  }

  json integer(const BtfType& t, uint64_t pos, unsigned n, const std::string& path) const {
    const uint8_t enc = t.as<BtfInt>()->encoding;
    const u128 v = bits(pos, n, path);
    if (enc & kBtfIntBool) return v != 0;
    if ((enc & kBtfIntChar) && n == 8) {
      if (v >= 0x20 && v < 0x7f) return std::string(1, char(v));
      return uint64_t(v);
    }
    if (n > 64) return hex128(v);
    if (enc & kBtfIntSigned) return int64_t(uint64_t(sign_extend(v, n)));
    return uint64_t(v);
  }

  json enumeration(const BtfType& t, uint64_t pos, unsigned n, const std::string& path) const {
    const BtfEnum& e = *t.as<BtfEnum>();
    u128 v = bits(pos, n, path);
    // As bpftool: a 32-bit-kind ENUM is read as signed (its BTF records hold s32),
    // ENUM64 and enum bitfields by their signedness flag.
    const bool is_signed = e.is_signed || (t.kind == BtfKind::Enum && n == t.size * 8u);
    if (is_signed) v = sign_extend(v, n);
    for (const auto& ev : e.values) {
      // Stored values are sign-extended for signed enums; compare within n bits.
      const u128 mask = n >= 128 ? ~u128(0) : (u128(1) << n) - 1;
      if ((u128(ev.raw) & mask) == (v & mask)) return std::string(ev.name);
    }
    if (is_signed) return int64_t(uint64_t(v));
    return uint64_t(v);
  }

  json floating(const BtfType& t, uint64_t pos, const std::string& path) const {
    double d;
    if (t.size == 4) {
      const uint32_t raw = uint32_t(bits(pos, 32, path));
      float f;
      memcpy(&f, &raw, 4);
      d = f;
    } else if (t.size == 8) {
      const uint64_t raw = uint64_t(bits(pos, 64, path));
      memcpy(&d, &raw, 8);
    } else {  // half or long double: the raw bytes
      if (pos % 8) throw BtfJsonError(path, "float is not byte aligned");
      if (pos / 8 + t.size > bytes_.size())
        throw BtfJsonError(path, "lies outside the value (malformed BTF)");
      return bytes_to_json(bytes_.subspan(pos / 8, t.size));
    }
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    return d;
  }

  json array(const BtfType& t, uint64_t pos, const std::string& path, int depth) {
    const BtfArray& a = *t.as<BtfArray>();
    const uint64_t elem_bits = btf_.size_of(a.elem_type) * 8;
    if (a.nelems > 0 && is_char(btf_, a.elem_type) && pos % 8 == 0 && pos / 8 + a.nelems <= bytes_.size()) {
      // Printable text then only NULs: a string (round-trips exactly).
      const uint8_t* s = bytes_.data() + pos / 8;
      size_t len = 0;
      while (len < a.nelems && s[len] >= 0x20 && s[len] < 0x7f) ++len;
      bool text = len < a.nelems;  // needs a terminator
      for (size_t i = len; text && i < a.nelems; ++i) text = s[i] == 0;
      if (text) return std::string(reinterpret_cast<const char*>(s), len);
    }
    json list = json::array();
    for (uint32_t i = 0; i < a.nelems; ++i)
      list.push_back(
          value(a.elem_type, pos + i * elem_bits, path + "[" + std::to_string(i) + "]", depth + 1));
    return list;
  }

  void members(const BtfType& t, uint64_t pos, const std::string& path, int depth, json& obj) {
    if (depth > kMaxDepth) throw BtfJsonError(path, "types nest too deeply");
    for (const auto& m : t.as<BtfComposite>()->members) {
      const uint64_t mpos = pos + m.bit_offset;
      if (m.name.empty()) {
        const BtfType& mt = btf_.type(btf_.resolve(m.type));
        if (is_composite(mt)) members(mt, mpos, path, depth + 1, obj);  // C reads these as the parent's
        continue;
      }
      const std::string name(m.name), mpath = path + "." + name;
      if (m.bitfield_size) {
        const BtfType& mt = btf_.type(btf_.resolve(m.type));
        if (mt.kind == BtfKind::Int)
          obj[name] = integer(mt, mpos, m.bitfield_size, mpath);
        else if (mt.kind == BtfKind::Enum || mt.kind == BtfKind::Enum64)
          obj[name] = enumeration(mt, mpos, m.bitfield_size, mpath);
        else
          throw BtfJsonError(mpath, "bitfield of " + btf_.type_name(m.type));
        continue;
      }
      obj[name] = value(m.type, mpos, mpath, depth + 1);
    }
  }

  const Btf& btf_;
  std::span<const uint8_t> bytes_;
  uint64_t nodes_ = 0;
};

// ---------------------------------------------------------------- writing

// A number from JSON: sign and magnitude, so every int type's range can be checked.
struct Number {
  bool negative = false;
  u128 magnitude = 0;
};

std::optional<Number> parse_number_string(std::string_view s) {
  Number n;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    n.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = unsigned(c - '0');
    else if (base == 16 && std::isxdigit(static_cast<unsigned char>(c)))
      d = unsigned(std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    else
      return std::nullopt;
    if (n.magnitude > (~u128(0) - d) / base) return std::nullopt;  // beyond 128 bits
    n.magnitude = n.magnitude * base + d;
  }
  if (n.magnitude == 0) n.negative = false;
  return n;
}

class Writer {
 public:
  Writer(const Btf& btf, size_t size) : btf_(btf), out_(size, 0), written_(size, 0) {}
  std::vector<uint8_t> take() { return std::move(out_); }

  void value(uint32_t id, uint64_t bit_pos, const json& j, const std::string& path, int depth) {
    if (depth > kMaxDepth) throw BtfJsonError(path, "types nest too deeply");
    if (++nodes_ > kMaxNodes) throw BtfJsonError(path, "too many elements");
    const BtfType& t = btf_.type(btf_.resolve(id));
    switch (t.kind) {
      case BtfKind::Int: {
        const BtfInt& in = *t.as<BtfInt>();
        return integer(t, bit_pos + in.offset, in.bits, j, path);
      }
      case BtfKind::Enum:
      case BtfKind::Enum64:
        return enumeration(t, bit_pos, t.size * 8u, j, path);
      case BtfKind::Ptr: {
        const Number n = number(j, path);
        check_range(n, false, 64, j, path, "a pointer");
        return put(bit_pos, 64, n.magnitude, path);
      }
      case BtfKind::Float:
        return floating(t, bit_pos, j, path);
      case BtfKind::Array:
        return array(t, bit_pos, j, path, depth);
      case BtfKind::Struct:
      case BtfKind::Union:
        return composite(t, bit_pos, j, path, depth);
      case BtfKind::Datasec:
        return datasec(t, bit_pos, j, path, depth);
      case BtfKind::Var:
        return value(t.type, bit_pos, j, path, depth + 1);
      default:
        throw BtfJsonError(path, btf_.type_name(id) + " cannot hold a value");
    }
  }

 private:
  static std::string shown(const json& j) { return j.dump(); }

  // Sets bits [pos, pos+n) to v; a bit already set by another member must agree.
  void put(uint64_t pos, unsigned n, u128 v, const std::string& path) {
    if (n > 128 || pos + n > uint64_t(out_.size()) * 8)
      throw BtfJsonError(path, "lies outside the " + std::to_string(out_.size()) + " bytes (malformed BTF)");
    for (unsigned i = 0; i < n; ++i) {
      const uint64_t b = pos + i;
      const uint8_t bit = uint8_t(1u << (b % 8));
      const bool one = (v >> i) & 1;
      if (written_[b / 8] & bit) {
        if (bool(out_[b / 8] & bit) != one)
          throw BtfJsonError(path, "conflicts with another member written to byte " + std::to_string(b / 8));
        continue;
      }
      written_[b / 8] |= bit;
      if (one) out_[b / 8] |= bit;
    }
  }

  Number number(const json& j, const std::string& path) const {
    Number n;
    if (j.is_number_unsigned()) {
      n.magnitude = j.get<uint64_t>();
    } else if (j.is_number_integer()) {
      const int64_t v = j.get<int64_t>();
      n.negative = v < 0;
      n.magnitude = n.negative ? u128(-(v + 1)) + 1 : u128(v);
    } else if (j.is_number_float()) {
      const double d = j.get<double>();
      if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740992.0)
        throw BtfJsonError(path, shown(j) + " is not an integer");
      n.negative = d < 0;
      n.magnitude = u128(uint64_t(std::fabs(d)));
    } else if (j.is_string()) {
      const auto p = parse_number_string(j.get<std::string>());
      if (!p) throw BtfJsonError(path, shown(j) + " is not a number");
      n = *p;
    } else {
      throw BtfJsonError(path, "expected a number, got " + std::string(j.type_name()));
    }
    return n;
  }

  // Range of an n-bit integer; `lenient` (enums) accepts both signed and unsigned ranges.
  static void check_range(const Number& n, bool is_signed, unsigned bits, const json& j,
                          const std::string& path, const std::string& what, bool lenient = false) {
    const u128 span = bits >= 128 ? ~u128(0) : (u128(1) << bits) - 1;  // max unsigned
    const u128 half = bits == 0 ? 0 : u128(1) << (bits - 1);           // |min signed|
    bool ok;
    if (n.negative)
      ok = (is_signed || lenient) && n.magnitude <= half;
    else
      ok = (is_signed && !lenient) ? n.magnitude < half : n.magnitude <= span;
    if (!ok) throw BtfJsonError(path, shown(j) + " does not fit in " + what);
  }

  static u128 twos(const Number& n) { return n.negative ? ~n.magnitude + 1 : n.magnitude; }

  void integer(const BtfType& t, uint64_t pos, unsigned bits, const json& j, const std::string& path) {
    const uint8_t enc = t.as<BtfInt>()->encoding;
    if (enc & kBtfIntBool) {
      if (j.is_boolean()) return put(pos, bits, j.get<bool>() ? 1 : 0, path);
      const Number n = number(j, path);
      if (n.negative || n.magnitude > 1) throw BtfJsonError(path, shown(j) + " is not a bool");
      return put(pos, bits, n.magnitude, path);
    }
    if (bits == 8 && is_char_int(t) && j.is_string() && j.get_ref<const std::string&>().size() == 1)
      return put(pos, bits, uint8_t(j.get_ref<const std::string&>()[0]), path);
    bool is_signed = enc & kBtfIntSigned;
    const Number n = number(j, path);
    // Wider than 64 bits prints as a hex bit pattern: read "0x..." back the same way.
    if (bits > 64 && j.is_string() && !n.negative &&
        j.get_ref<const std::string&>().find('x') != std::string::npos)
      is_signed = false;
    check_range(n, is_signed, bits, j, path, int_type_name(is_signed, bits));
    put(pos, bits, twos(n), path);
  }

  void enumeration(const BtfType& t, uint64_t pos, unsigned bits, const json& j, const std::string& path) {
    const BtfEnum& e = *t.as<BtfEnum>();
    if (j.is_string()) {
      const std::string& s = j.get_ref<const std::string&>();
      for (const auto& ev : e.values)
        if (ev.name == s) return put(pos, bits, u128(ev.raw), path);
      if (!parse_number_string(s)) {
        std::string names;
        for (size_t i = 0; i < e.values.size() && i < 8; ++i)
          names += (i ? ", " : "") + std::string(e.values[i].name);
        if (e.values.size() > 8) names += ", ...";
        throw BtfJsonError(
            path, shown(j) + " is not an enumerator of " + btf_.type_name(t.id) + " (" + names + ")");
      }
    }
    const Number n = number(j, path);
    check_range(n, e.is_signed, bits, j, path, btf_.type_name(t.id) + " (" + std::to_string(bits) + " bits)",
                true);
    put(pos, bits, twos(n), path);
  }

  void floating(const BtfType& t, uint64_t pos, const json& j, const std::string& path) {
    if (t.size != 4 && t.size != 8) {
      if (pos % 8) throw BtfJsonError(path, "float is not byte aligned");
      const auto raw = json_to_bytes(j, t.size, path);
      for (size_t i = 0; i < raw.size(); ++i) put(pos + i * 8, 8, raw[i], path);
      return;
    }
    double d;
    if (j.is_number()) {
      d = j.get<double>();
    } else if (j.is_string() && (j == "nan" || j == "inf" || j == "-inf")) {
      d = j == "nan" ? NAN : (j == "inf" ? INFINITY : -INFINITY);
    } else {
      throw BtfJsonError(path, "expected a number, got " + shown(j));
    }
    if (t.size == 4) {
      const float f = float(d);
      if (std::isfinite(d) && !std::isfinite(f))
        throw BtfJsonError(path, shown(j) + " does not fit in float");
      uint32_t raw;
      memcpy(&raw, &f, 4);
      put(pos, 32, raw, path);
    } else {
      uint64_t raw;
      memcpy(&raw, &d, 8);
      put(pos, 64, raw, path);
    }
  }

  void array(const BtfType& t, uint64_t pos, const json& j, const std::string& path, int depth) {
    const BtfArray& a = *t.as<BtfArray>();
    const uint64_t elem_bits = btf_.size_of(a.elem_type) * 8;
    if (j.is_string() && is_byte_int(btf_, a.elem_type)) {
      const std::string& s = j.get_ref<const std::string&>();
      if (s.size() > a.nelems)
        throw BtfJsonError(
            path, "string of " + std::to_string(s.size()) + " bytes does not fit in " + btf_.type_name(t.id));
      for (uint32_t i = 0; i < a.nelems; ++i)  // the NULs after the text are part of the value
        put(pos + uint64_t(i) * 8, 8, i < s.size() ? uint8_t(s[i]) : 0, path);
      return;
    }
    if (!j.is_array())
      throw BtfJsonError(path, "expected a list of " + std::to_string(a.nelems) + " elements for " +
                                   btf_.type_name(t.id) + ", got " + std::string(j.type_name()));
    if (j.size() != a.nelems)
      throw BtfJsonError(
          path, "expected " + std::to_string(a.nelems) + " elements, got " + std::to_string(j.size()));
    for (uint32_t i = 0; i < a.nelems; ++i)
      value(a.elem_type, pos + i * elem_bits, j[i], path + "[" + std::to_string(i) + "]", depth + 1);
  }

  // The member named `name` of composite `t`, looking inside anonymous members;
  // adds its bit offset to `pos`.
  const BtfMember* find_member(const BtfType& t, std::string_view name, uint64_t& pos, int depth) const {
    if (depth > kMaxDepth) return nullptr;
    for (const auto& m : t.as<BtfComposite>()->members) {
      if (m.name == name && !name.empty()) {
        pos += m.bit_offset;
        return &m;
      }
      if (m.name.empty()) {
        const BtfType& mt = btf_.type(btf_.resolve(m.type));
        if (!is_composite(mt)) continue;
        uint64_t inner = pos + m.bit_offset;
        if (const BtfMember* found = find_member(mt, name, inner, depth + 1)) {
          pos = inner;
          return found;
        }
      }
    }
    return nullptr;
  }

  void composite(const BtfType& t, uint64_t pos, const json& j, const std::string& path, int depth) {
    if (!j.is_object())
      throw BtfJsonError(
          path, "expected an object for " + btf_.type_name(t.id) + ", got " + std::string(j.type_name()));
    for (const auto& [key, v] : j.items()) {
      if (key.empty() && v.is_object()) {  // bpftool's shape for an anonymous member: {"": {...}}
        composite(t, pos, v, path, depth + 1);
        continue;
      }
      const std::string mpath = path + "." + key;
      uint64_t mpos = pos;
      const BtfMember* m = find_member(t, key, mpos, 0);
      if (!m) {
        std::string names;
        size_t count = 0;
        for (const auto& mm : t.as<BtfComposite>()->members)
          if (!mm.name.empty() && count++ < 12) names += (count > 1 ? ", " : "") + std::string(mm.name);
        throw BtfJsonError(mpath, btf_.type_name(t.id) + " has no member '" + key + "' (" + names + ")");
      }
      if (m->bitfield_size) {
        const BtfType& mt = btf_.type(btf_.resolve(m->type));
        if (mt.kind == BtfKind::Int)
          integer(mt, mpos, m->bitfield_size, v, mpath);
        else if (mt.kind == BtfKind::Enum || mt.kind == BtfKind::Enum64)
          enumeration(mt, mpos, m->bitfield_size, v, mpath);
        else
          throw BtfJsonError(mpath, "bitfield of " + btf_.type_name(m->type));
        continue;
      }
      value(m->type, mpos, v, mpath, depth + 1);
    }
  }

  void datasec(const BtfType& t, uint64_t pos, const json& j, const std::string& path, int depth) {
    if (!j.is_object()) throw BtfJsonError(path, "expected an object, got " + std::string(j.type_name()));
    for (const auto& [key, v] : j.items()) {
      const BtfVarSecinfo* found = nullptr;
      for (const auto& var : t.as<BtfDatasec>()->vars)
        if (btf_.type(var.type).name == key) found = &var;
      if (!found) throw BtfJsonError(path + "." + key, "no variable '" + key + "' in " + std::string(t.name));
      value(found->type, pos + uint64_t(found->offset) * 8, v, path + "." + key, depth + 1);
    }
  }

  const Btf& btf_;
  std::vector<uint8_t> out_;
  std::vector<uint8_t> written_;  // one bit per bit of out_: already set by a member
  uint64_t nodes_ = 0;
};

uint64_t value_size(const Btf& btf, uint32_t type_id, const std::string& root) {
  try {
    const uint64_t size = btf.size_of(type_id);
    if (size > (uint64_t(1) << 30))
      throw BtfJsonError(root, "type of " + std::to_string(size) + " bytes is too large");
    return size;
  } catch (const BtfError& e) {
    throw BtfJsonError(root, e.what());
  }
}

}  // namespace

json btf_to_json(const Btf& btf, uint32_t type_id, std::span<const uint8_t> bytes, std::string_view root) {
  const std::string path(root);
  const uint64_t size = value_size(btf, type_id, path);
  if (bytes.size() != size)
    throw BtfJsonError(path, btf.type_name(type_id) + " is " + std::to_string(size) + " bytes, got " +
                                 std::to_string(bytes.size()));
  try {
    return Reader(btf, bytes).value(type_id, 0, path, 0);
  } catch (const BtfError& e) {
    throw BtfJsonError(path, e.what());
  }
}

std::vector<uint8_t> json_to_btf(const Btf& btf, uint32_t type_id, const json& j, std::string_view root) {
  const std::string path(root);
  Writer w(btf, value_size(btf, type_id, path));
  try {
    w.value(type_id, 0, j, path, 0);
  } catch (const BtfError& e) {
    throw BtfJsonError(path, e.what());
  } catch (const json::exception& e) {
    throw BtfJsonError(path, e.what());
  }
  return w.take();
}

json bytes_to_json(std::span<const uint8_t> bytes) {
  json list = json::array();
  char buf[8];
  for (uint8_t b : bytes) {
    snprintf(buf, sizeof buf, "0x%02x", b);
    list.push_back(buf);
  }
  return list;
}

std::vector<uint8_t> json_to_bytes(const json& j, size_t size, std::string_view root) {
  const std::string path(root);
  std::vector<uint8_t> out;
  if (j.is_string()) {  // one hex string: "0a00ff..."
    std::string_view s = j.get_ref<const std::string&>();
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    if (s.size() != size * 2)
      throw BtfJsonError(path, "expected " + std::to_string(size) + " bytes (" + std::to_string(size * 2) +
                                   " hex digits), got " + std::to_string(s.size()) + " digits");
    for (size_t i = 0; i < size; ++i) {
      const auto n = parse_number_string("0x" + std::string(s.substr(i * 2, 2)));
      if (!n) throw BtfJsonError(path, "'" + std::string(s.substr(i * 2, 2)) + "' is not a hex byte");
      out.push_back(uint8_t(n->magnitude));
    }
    return out;
  }
  if (!j.is_array()) throw BtfJsonError(path, "expected a list of bytes, got " + std::string(j.type_name()));
  if (j.size() != size)
    throw BtfJsonError(path, "expected " + std::to_string(size) + " bytes, got " + std::to_string(j.size()));
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    const std::string epath = path + "[" + std::to_string(i) + "]";
    std::optional<Number> n;
    if (e.is_number_unsigned())
      n = Number{false, e.get<uint64_t>()};
    else if (e.is_number_integer())
      n = Number{true, 1};  // negative
    else if (e.is_string())
      n = parse_number_string(e.get<std::string>());
    else
      throw BtfJsonError(epath, "expected a byte, got " + std::string(e.type_name()));
    if (!n) throw BtfJsonError(epath, e.dump() + " is not a number");
    if (n->negative || n->magnitude > 255) throw BtfJsonError(epath, e.dump() + " does not fit in a byte");
    out.push_back(uint8_t(n->magnitude));
  }
  return out;
}

}  // namespace bpfkit::object
