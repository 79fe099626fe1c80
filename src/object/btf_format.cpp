// BTF types printed as C: declarators (type_name, declaration) and definitions
// (format_c) in the shape `bpftool btf dump format c` uses.
#include <cinttypes>
#include <cstdio>

#include "object/btf.h"

namespace bpfkit::object {

namespace {

constexpr int kNameBudget = 100000;  // nodes visited per call: stops exponential DAG blowups

// Base type text followed by the declarator: "char *p", "int[4]" (no space before '[').
std::string join(std::string base, const std::string& inner) {
  if (inner.empty()) return base;
  if (inner[0] == '[') return base + inner;
  return base + " " + inner;
}

std::string paren_if_ptr(const std::string& inner) {
  return !inner.empty() && inner[0] == '*' ? "(" + inner + ")" : inner;
}

const char* composite_word(BtfKind k) {
  switch (k) {
    case BtfKind::Struct: return "struct";
    case BtfKind::Union: return "union";
    default: return "enum";
  }
}

std::string enum_value_text(const BtfType& t, const BtfEnumValue& v) {
  const auto* e = t.as<BtfEnum>();
  char buf[32];
  if (t.kind == BtfKind::Enum64) {
    if (e->is_signed)
      std::snprintf(buf, sizeof buf, "%" PRId64 "LL", value_signed(v));
    else
      std::snprintf(buf, sizeof buf, "%" PRIu64 "ULL", value_unsigned(v));
  } else {
    if (e->is_signed)
      std::snprintf(buf, sizeof buf, "%" PRId64, value_signed(v));
    else
      std::snprintf(buf, sizeof buf, "%" PRIu64, value_unsigned(v));
  }
  return buf;
}

}  // namespace

// Builds the C declaration of `inner` (a declarator: "", "*", "name[4]", ...) with type `id`.
std::string Btf::decl(uint32_t id, std::string inner, bool param_names, int& budget) const {
  const BtfType& t = type(id);
  if (--budget < 0) throw BtfError(t.offset, id, "type too complex to name");
  switch (t.kind) {
    case BtfKind::Void: return join("void", inner);
    case BtfKind::Int:
    case BtfKind::Float:
    case BtfKind::Typedef: return join(std::string(t.name), inner);
    case BtfKind::Struct:
    case BtfKind::Union:
    case BtfKind::Enum:
    case BtfKind::Enum64:
      return join(
          std::string(composite_word(t.kind)) + " " + (t.name.empty() ? "{...}" : std::string(t.name)),
          inner);
    case BtfKind::Fwd:
      return join(std::string(t.as<BtfFwd>()->is_union ? "union " : "struct ") + std::string(t.name), inner);
    case BtfKind::Ptr: return decl(t.type, "*" + inner, param_names, budget);
    case BtfKind::Const:
    case BtfKind::Volatile:
    case BtfKind::Restrict:
    case BtfKind::TypeTag: {
      std::string q = t.kind == BtfKind::Const      ? "const"
                      : t.kind == BtfKind::Volatile ? "volatile"
                      : t.kind == BtfKind::Restrict
                          ? "restrict"
                          : "__attribute__((btf_type_tag(\"" + std::string(t.name) + "\")))";
      // A qualified pointer puts the qualifier after the '*'; type tags follow their type.
      if (type(t.type).kind == BtfKind::Ptr || t.kind == BtfKind::TypeTag)
        return decl(t.type,
                    (t.kind == BtfKind::TypeTag && !inner.empty() && inner[0] == '*' ? q + " " : " " + q) +
                        (inner.empty() || t.kind == BtfKind::TypeTag ? inner : " " + inner),
                    param_names, budget);
      return q + " " + decl(t.type, inner, param_names, budget);
    }
    case BtfKind::Array: {
      const auto* a = t.as<BtfArray>();
      return decl(a->elem_type, paren_if_ptr(inner) + "[" + std::to_string(a->nelems) + "]", param_names,
                  budget);
    }
    case BtfKind::FuncProto: {
      const auto* p = t.as<BtfFuncProto>();
      std::string params;
      for (size_t i = 0; i < p->params.size(); ++i) {
        if (i) params += ", ";
        const auto& prm = p->params[i];
        if (prm.type == 0)
          params += "...";
        else
          params += decl(prm.type, param_names ? std::string(prm.name) : std::string(), false, budget);
      }
      if (p->params.empty()) params = "void";
      return decl(t.type, paren_if_ptr(inner) + "(" + params + ")", false, budget);
    }
    case BtfKind::Func: return decl(t.type, std::string(t.name) + inner, true, budget);
    case BtfKind::Var: return decl(t.type, std::string(t.name) + inner, false, budget);
    case BtfKind::Datasec: return "SEC(\"" + std::string(t.name) + "\")";
    case BtfKind::DeclTag: return decl(t.type, inner, param_names, budget);
  }
  return join("?", inner);
}

std::string Btf::type_name(uint32_t id) const {
  int budget = kNameBudget;
  std::string s = decl(id, "", false, budget);
  // A top-level qualified pointer reads "char * const"; trailing spaces never remain.
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string Btf::declaration(uint32_t id, std::string_view name) const {
  int budget = kNameBudget;
  return decl(id, std::string(name), true, budget);
}

// Members of the struct/union/enum `id`, one per line at `indent` tabs, then "}".
void Btf::format_body(uint32_t id, int indent, std::string& out, int& budget) const {
  const BtfType& t = type(id);
  if (--budget < 0) throw BtfError(t.offset, id, "type too complex to print");
  if (indent > 64) throw BtfError(t.offset, id, "anonymous types nested too deeply");
  const std::string tabs(size_t(indent), '\t');
  out += std::string(composite_word(t.kind));
  if (!t.name.empty()) out.append(" ").append(t.name);
  out += " {\n";
  if (const auto* e = t.as<BtfEnum>()) {
    for (const auto& v : e->values)
      out += tabs + "\t" + std::string(v.name) + " = " + enum_value_text(t, v) + ",\n";
  } else if (const auto* c = t.as<BtfComposite>()) {
    for (const auto& m : c->members) {
      out += tabs + "\t";
      const BtfType& mt = type(m.type);
      const bool inline_body = mt.name.empty() && (mt.kind == BtfKind::Struct || mt.kind == BtfKind::Union ||
                                                   mt.kind == BtfKind::Enum || mt.kind == BtfKind::Enum64);
      if (inline_body) {
        format_body(m.type, indent + 1, out, budget);
        if (!m.name.empty()) out.append(" ").append(m.name);
      } else {
        out += decl(m.type, std::string(m.name), true, budget);
      }
      if (m.bitfield_size) out += ": " + std::to_string(m.bitfield_size);
      out += ";\n";
    }
  }
  out += tabs + "}";
}

std::string Btf::format_c(uint32_t id) const {
  const BtfType& t = type(id);
  int budget = kNameBudget;
  std::string out;
  switch (t.kind) {
    case BtfKind::Struct:
    case BtfKind::Union:
    case BtfKind::Enum:
    case BtfKind::Enum64: format_body(id, 0, out, budget); break;
    case BtfKind::Fwd: out = type_name(id); break;
    case BtfKind::Typedef: {
      const BtfType& target = type(t.type);
      const bool anon =
          target.name.empty() && (target.kind == BtfKind::Struct || target.kind == BtfKind::Union ||
                                  target.kind == BtfKind::Enum || target.kind == BtfKind::Enum64);
      out = "typedef ";
      if (anon) {
        format_body(t.type, 0, out, budget);
        out.append(" ").append(t.name);
      } else {
        out += decl(t.type, std::string(t.name), true, budget);
      }
      break;
    }
    default: out = type_name(id); break;
  }
  return out + ";\n";
}

}  // namespace bpfkit::object
