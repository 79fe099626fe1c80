// Test helpers: bpftool as an oracle (run it, print our types in its raw format).
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "object/btf.h"

namespace bpfkit::object::testing {

inline std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

inline bool have_bpftool() { return std::system("bpftool version >/dev/null 2>&1") == 0; }

inline std::string q(std::string_view name) {
  return "'" + (name.empty() ? std::string("(anon)") : std::string(name)) + "'";
}

inline const char* linkage(BtfLinkage l) {
  switch (l) {
    case BtfLinkage::Static: return "static";
    case BtfLinkage::Global: return "global";
    default: return "extern";
  }
}

// One type in the shape of `bpftool btf dump ... format raw`.
inline std::string raw(const Btf& btf, uint32_t id) {
  const BtfType& t = btf.type(id);
  std::ostringstream o;
  o << "[" << id << "] " << btf_kind_name(t.kind) << " " << q(t.name);
  switch (t.kind) {
    case BtfKind::Int: {
      const auto* i = t.as<BtfInt>();
      const char* enc = i->encoding & kBtfIntSigned ? "SIGNED"
                        : i->encoding & kBtfIntChar ? "CHAR"
                        : i->encoding & kBtfIntBool ? "BOOL"
                                                    : "(none)";
      o << " size=" << t.size << " bits_offset=" << int(i->offset) << " nr_bits=" << int(i->bits)
        << " encoding=" << enc;
      break;
    }
    case BtfKind::Ptr:
    case BtfKind::Typedef:
    case BtfKind::Volatile:
    case BtfKind::Const:
    case BtfKind::Restrict:
    case BtfKind::TypeTag: o << " type_id=" << t.type; break;
    case BtfKind::Array: {
      const auto* a = t.as<BtfArray>();
      o << " type_id=" << a->elem_type << " index_type_id=" << a->index_type << " nr_elems=" << a->nelems;
      break;
    }
    case BtfKind::Struct:
    case BtfKind::Union: {
      const auto* c = t.as<BtfComposite>();
      o << " size=" << t.size << " vlen=" << c->members.size();
      for (const auto& m : c->members) {
        o << "\n\t" << q(m.name) << " type_id=" << m.type << " bits_offset=" << m.bit_offset;
        if (m.bitfield_size) o << " bitfield_size=" << int(m.bitfield_size);
      }
      break;
    }
    case BtfKind::Enum:
    case BtfKind::Enum64: {
      const auto* e = t.as<BtfEnum>();
      o << " encoding=" << (e->is_signed ? "SIGNED" : "UNSIGNED") << " size=" << t.size
        << " vlen=" << e->values.size();
      for (const auto& v : e->values) {
        o << "\n\t" << q(v.name) << " val=";
        if (t.kind == BtfKind::Enum) {
          if (e->is_signed)
            o << value_signed(v);
          else
            o << value_unsigned(v);
        } else {
          if (e->is_signed)
            o << value_signed(v) << "LL";
          else
            o << value_unsigned(v) << "ULL";
        }
      }
      break;
    }
    case BtfKind::Fwd: o << " fwd_kind=" << (t.as<BtfFwd>()->is_union ? "union" : "struct"); break;
    case BtfKind::Func: o << " type_id=" << t.type << " linkage=" << linkage(t.as<BtfFunc>()->linkage); break;
    case BtfKind::FuncProto: {
      const auto* p = t.as<BtfFuncProto>();
      o << " ret_type_id=" << t.type << " vlen=" << p->params.size();
      for (const auto& prm : p->params) o << "\n\t" << q(prm.name) << " type_id=" << prm.type;
      break;
    }
    case BtfKind::Var: o << " type_id=" << t.type << ", linkage=" << linkage(t.as<BtfVar>()->linkage); break;
    case BtfKind::Datasec: {
      const auto* d = t.as<BtfDatasec>();
      o << " size=" << t.size << " vlen=" << d->vars.size();
      for (const auto& v : d->vars)
        o << "\n\ttype_id=" << v.type << " offset=" << v.offset << " size=" << v.size << " ("
          << btf_kind_name(btf.type(v.type).kind) << " " << q(btf.type(v.type).name) << ")";
      break;
    }
    case BtfKind::Float: o << " size=" << t.size; break;
    case BtfKind::DeclTag:
      o << " type_id=" << t.type << " component_idx=" << t.as<BtfDeclTag>()->component_idx;
      break;
    case BtfKind::Void: break;
  }
  return o.str();
}

inline std::string squash(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (isspace(static_cast<unsigned char>(c))) {
      space = true;
    } else {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

// Compares our raw dump of every type with bpftool's; returns the line count compared.
inline size_t expect_raw_matches(const Btf& btf, const std::string& bpftool_raw) {
  std::istringstream expected(bpftool_raw);
  std::string ours;
  for (uint32_t id = btf.first_own_id(); id < btf.type_count(); ++id) ours += raw(btf, id) + "\n";
  std::istringstream got(ours);
  std::string want_line, got_line;
  size_t line = 0, mismatches = 0;
  while (std::getline(expected, want_line)) {
    ++line;
    if (!std::getline(got, got_line)) {
      ADD_FAILURE() << "ours ends before bpftool's line " << line;
      return line;
    }
    if (want_line != got_line && ++mismatches <= 5)
      ADD_FAILURE() << "line " << line << "\n bpftool: " << want_line << "\n ours:    " << got_line;
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_FALSE(std::getline(got, got_line)) << "ours has extra lines";
  return line;
}

}  // namespace bpfkit::object::testing
