// Maps of an object, in libbpf's order of kinds: BTF-defined maps in `.maps`,
// legacy `struct bpf_map_def` maps in `maps`, global data sections as one-entry
// arrays, the `.kconfig` externs' array, and last the inner-map templates of
// map-in-map definitions. Also the fix-up of the DATASECs clang leaves with size
// 0 and global variables at offset 0 (libbpf's btf_fixup_datasec), so that the
// BTF describes the global data maps' values.
#include <elf.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "object/object_reader.h"

namespace bpfkit::object {

namespace {

// Larger global data is surely a malformed header (and would be allocated here).
constexpr uint64_t kMaxGlobalData = 64 << 20;

bool has_prefix_section(std::string_view name, std::string_view base) {
  return name == base || (name.starts_with(base) && name.size() > base.size() && name[base.size()] == '.');
}

uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void wr32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

std::optional<uint32_t> find_datasec(const Btf& btf, std::string_view name) {
  for (uint32_t id = 1; id < btf.type_count(); ++id) {
    const auto& t = btf.type(id);
    if (t.kind == BtfKind::Datasec && t.name == name) return id;
  }
  return std::nullopt;
}

// KERNEL_VERSION(a, b, c) of the running kernel, patch clamped to 255 as libbpf does.
uint32_t running_kernel_version() {
  struct utsname u;
  if (uname(&u) != 0) return 0;
  unsigned a = 0, b = 0, c = 0;
  if (sscanf(u.release, "%u.%u.%u", &a, &b, &c) < 2) return 0;
  return (a << 16) | (b << 8) | std::min(c, 255u);
}

}  // namespace

std::string ObjectReader::internal_map_name(std::string_view real) const {
  // libbpf: the suffix keeps at least 7 characters; a section name with a second
  // '.' (".rodata.str1.1") gets no object prefix; 15 characters at most.
  const size_t sfx_len = std::max<size_t>(7, real.size());
  const size_t pfx_len = real.find('.', 1) != std::string_view::npos
                             ? 0
                             : std::min(sfx_len >= 15 ? 0 : 15 - sfx_len, obj_.name_.size());
  std::string name = obj_.name_.substr(0, pfx_len) + std::string(real.substr(0, sfx_len));
  if (name.size() > 15) name.resize(15);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
  return name;
}

namespace {

struct BtfMapParser {
  const ObjectReader& r;
  const Btf& btf;

  [[noreturn]] void err(const std::string& map, const std::string& what) const {
    r.fail("map '" + map + "' (section '.maps'): " + what);
  }

  // __uint(name, N) is `int (*name)[N]`: N is the array's element count.
  uint32_t uint_field(const std::string& map, const BtfMember& m) const {
    const auto& p = btf.type(btf.resolve(m.type));
    const BtfType* a = p.kind == BtfKind::Ptr ? &btf.type(p.type) : nullptr;
    if (!a || a->kind != BtfKind::Array)
      err(map, "field '" + std::string(m.name) + "' is not __uint(" + std::string(m.name) + ", N)");
    return a->as<BtfArray>()->nelems;
  }

  // __type(key, T) is `typeof(T) *key`: the pointee is the key's type.
  void type_field(const std::string& map, const BtfMember& m, uint32_t& size, uint32_t& id) const {
    const auto& p = btf.type(btf.resolve(m.type));
    if (p.kind != BtfKind::Ptr)
      err(map, "field '" + std::string(m.name) + "' is not __type(" + std::string(m.name) + ", T)");
    uint64_t sz = 0;
    try {
      sz = btf.size_of(p.type);
    } catch (const BtfError& e) {
      err(map, "type of '" + std::string(m.name) + "' has no size: " + e.what());
    }
    if (sz > UINT32_MAX) err(map, "'" + std::string(m.name) + "' is too large");
    if (size != 0 && size != sz)
      err(map, std::string(m.name) + "_size " + std::to_string(size) + " does not match __type(" +
                   std::string(m.name) + ") of " + std::to_string(sz) + " bytes");
    size = uint32_t(sz);
    id = p.type;
  }

  // Parses the struct `id` into `def`; with `inner` non-null, a `values` member's
  // inner-map template goes there. Returns the byte offset of `values`, if any.
  std::optional<uint64_t> parse(uint32_t id, MapDefinition& def, std::optional<MapDefinition>* inner) const {
    const std::string& name = def.name;
    const auto& st = btf.type(id);
    if (st.kind != BtfKind::Struct) err(name, "is not a struct (" + btf.type_name(id) + ")");
    std::optional<uint64_t> values_off;
    uint32_t values_pointee = 0;
    for (const auto& m : st.as<BtfComposite>()->members) {
      const std::string f(m.name);
      if (f == "type")
        def.type = uint_field(name, m);
      else if (f == "max_entries")
        def.max_entries = uint_field(name, m);
      else if (f == "map_flags")
        def.flags = uint_field(name, m);
      else if (f == "numa_node")
        def.numa_node = uint_field(name, m);
      else if (f == "map_extra")
        def.map_extra = uint_field(name, m);
      else if (f == "pinning")
        def.pinning = uint_field(name, m);
      else if (f == "key_size" || f == "value_size") {
        uint32_t& size = f == "key_size" ? def.key_size : def.value_size;
        const uint32_t v = uint_field(name, m);
        if (size != 0 && size != v)
          err(name, f + " " + std::to_string(v) + " does not match the size of its __type (" +
                        std::to_string(size) + ")");
        size = v;
      } else if (f == "key")
        type_field(name, m, def.key_size, def.btf_key_type_id);
      else if (f == "value")
        type_field(name, m, def.value_size, def.btf_value_type_id);
      else if (f == "values") {
        if (!inner) err(name, "an inner map cannot have 'values' (nested map-in-map)");
        const auto& a = btf.type(btf.resolve(m.type));
        const BtfType* p =
            a.kind == BtfKind::Array ? &btf.type(btf.resolve(a.as<BtfArray>()->elem_type)) : nullptr;
        if (!p || p->kind != BtfKind::Ptr) err(name, "'values' is not __array(values, T)");
        values_pointee = btf.resolve(p->type);
        values_off = m.bit_offset / 8;
      } else {
        err(name, "unknown field '" + f + "'");
      }
    }
    if (def.type == 0) err(name, "has no __uint(type, ...)");
    if (def.pinning > 1)
      err(name,
          "pinning " + std::to_string(def.pinning) + " is neither LIBBPF_PIN_NONE nor LIBBPF_PIN_BY_NAME");
    if (values_off) {
      const auto& pt = btf.type(values_pointee);
      if (def.type == BPF_MAP_TYPE_PROG_ARRAY) {
        if (pt.kind != BtfKind::FuncProto) err(name, "a prog_array's 'values' must be function pointers");
      } else if (def.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || def.type == BPF_MAP_TYPE_HASH_OF_MAPS) {
        if (pt.kind != BtfKind::Struct)
          err(name, "a map-in-map's 'values' must point to an inner map definition");
        MapDefinition in;
        in.name = name + ".inner";
        in.section = ".maps";
        in.inner_template = true;
        parse(values_pointee, in, nullptr);
        *inner = std::move(in);
      } else {
        err(name, "'values' is only for prog_array and map-in-map maps");
      }
      if (def.value_size != 0 && def.value_size != 4)
        err(name, "value_size " + std::to_string(def.value_size) + " must be 4 with 'values'");
      def.value_size = 4;
    }
    return values_off;
  }
};

}  // namespace

void ObjectReader::read_maps() {
  std::vector<std::pair<size_t, MapDefinition>> inner_templates;  // (outer map, template)

  // BTF-defined maps.
  if (const auto* ms = elf_.find_section(".maps"); ms && (ms->size > 0)) {
    maps_section_ = ms->index;
    if (!obj_.btf_) fail("section '.maps' needs BTF (compile with -g)");
    const Btf& btf = *obj_.btf_;
    auto sec_id = find_datasec(btf, ".maps");
    if (!sec_id) fail("section '.maps' has no BTF DATASEC");
    BtfMapParser parser{*this, btf};
    for (const auto& vi : btf.type(*sec_id).as<BtfDatasec>()->vars) {
      const auto& var = btf.type(vi.type);
      if (var.kind != BtfKind::Var)
        fail("DATASEC '.maps' lists a " + std::string(btf_kind_name(var.kind)) + ", not a VAR");
      MapDefinition def;
      def.name = std::string(var.name);
      def.section = ".maps";
      def.origin = MapOrigin::BtfDefined;
      const ElfSymbol* sym = nullptr;
      for (const auto& s : syms_)
        if (s.section == maps_section_ && s.name == def.name && s.type != STT_SECTION) sym = &s;
      if (!sym) fail("map '" + def.name + "' (section '.maps') has no symbol");
      if (sym->value > ms->size || sym->size > ms->size - sym->value)
        fail("map '" + def.name + "' (section '.maps'): bytes " + std::to_string(sym->value) + "+" +
             std::to_string(sym->size) + " are outside the section");
      std::optional<MapDefinition> inner;
      MapVar mv;
      mv.offset = sym->value;
      mv.size = sym->size ? sym->size : vi.size;
      mv.map = obj_.maps_.size();
      if (auto off = parser.parse(btf.resolve(var.type), def, &inner)) {
        mv.has_values = true;
        mv.values_offset = *off;
      }
      if (inner) inner_templates.emplace_back(mv.map, std::move(*inner));
      btf_map_vars_.push_back(mv);
      obj_.maps_.push_back(std::move(def));
    }
    std::sort(btf_map_vars_.begin(), btf_map_vars_.end(),
              [](auto& a, auto& b) { return a.offset < b.offset; });
  }

  // Legacy maps: struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }, one per symbol.
  if (const auto* ls = elf_.find_section("maps"); ls && ls->size > 0) {
    legacy_maps_section_ = ls->index;
    std::vector<const ElfSymbol*> defs;
    for (const auto& s : syms_)
      if (s.section == ls->index && s.type != STT_SECTION && !s.name.empty()) defs.push_back(&s);
    if (defs.empty()) fail("section 'maps' has no map symbols");
    if (ls->size % defs.size() != 0)
      fail("section 'maps' (" + std::to_string(ls->size) + " bytes) is not " + std::to_string(defs.size()) +
           " equal map definitions");
    const uint64_t def_size = ls->size / defs.size();
    std::sort(defs.begin(), defs.end(), [](auto* a, auto* b) { return a->value < b->value; });
    auto data = elf_.section_data(*ls);
    for (const auto* s : defs) {
      if (s->value > ls->size || def_size > ls->size - s->value)
        fail("map '" + s->name + "' (section 'maps'): its definition at byte " + std::to_string(s->value) +
             " runs past the section");
      const uint8_t* p = data.data() + s->value;
      uint32_t f[5] = {};
      for (uint64_t i = 0; i < 5 && (i + 1) * 4 <= def_size; ++i) f[i] = rd32(p + i * 4);
      for (uint64_t i = 20; i < def_size; ++i)
        if (p[i] != 0)
          fail("map '" + s->name + "' (section 'maps'): byte " + std::to_string(i) +
               " of its definition is set, beyond struct bpf_map_def");
      MapDefinition def;
      def.name = s->name;
      def.section = "maps";
      def.origin = MapOrigin::Legacy;
      def.type = f[0];
      def.key_size = f[1];
      def.value_size = f[2];
      def.max_entries = f[3];
      def.flags = f[4];
      if (def.type == 0) fail("map '" + s->name + "' (section 'maps') has type 0");
      legacy_map_at_[s->value] = obj_.maps_.size();
      obj_.maps_.push_back(std::move(def));
    }
  }

  // Global data.
  for (const auto& s : elf_.sections()) {
    const bool data = s.type == SHT_PROGBITS && !(s.flags & SHF_EXECINSTR) &&
                      (has_prefix_section(s.name, ".data") || has_prefix_section(s.name, ".rodata"));
    const bool bss = s.type == SHT_NOBITS && has_prefix_section(s.name, ".bss");
    const uint64_t size = bss ? s.nobits_size : s.size;
    if ((!data && !bss) || size == 0) continue;
    if (size > kMaxGlobalData)
      fail("section '" + s.name + "' (" + std::to_string(size) +
           " bytes) is too large for a global data map");
    MapDefinition def;
    def.name = internal_map_name(s.name);
    def.section = s.name;
    def.origin = MapOrigin::GlobalData;
    def.type = BPF_MAP_TYPE_ARRAY;
    def.key_size = 4;
    def.value_size = uint32_t(size);
    def.max_entries = 1;
    if (has_prefix_section(s.name, ".rodata")) def.flags = BPF_F_RDONLY_PROG;
    if (obj_.btf_)
      if (auto id = find_datasec(*obj_.btf_, s.name)) def.btf_value_type_id = *id;
    if (bss) {
      def.initial_value.assign(size, 0);
    } else {
      auto d = elf_.section_data(s);
      def.initial_value.assign(d.begin(), d.end());
    }
    data_map_of_section_[s.index] = obj_.maps_.size();
    obj_.maps_.push_back(std::move(def));
  }

  // .kconfig externs: laid out by alignment (largest first), then name, as libbpf does.
  if (obj_.btf_) {
    const Btf& btf = *obj_.btf_;
    if (auto sec_id = find_datasec(btf, ".kconfig")) {
      struct Ext {
        std::string name;
        uint32_t type = 0;
        uint64_t size = 0, align = 1;
      };
      std::vector<Ext> exts;
      for (const auto& vi : btf.type(*sec_id).as<BtfDatasec>()->vars) {
        const auto& var = btf.type(vi.type);
        if (var.kind != BtfKind::Var) fail("DATASEC '.kconfig' lists a non-VAR type");
        Ext e{std::string(var.name), var.type};
        try {
          e.size = btf.size_of(var.type);
        } catch (const BtfError& x) {
          fail("extern '" + e.name + "' (.kconfig): " + x.what());
        }
        uint32_t t = btf.resolve(var.type);
        while (btf.type(t).kind == BtfKind::Array) t = btf.resolve(btf.type(t).as<BtfArray>()->elem_type);
        const uint64_t elem = btf.size_of(t);
        e.align = elem >= 8 ? 8 : elem >= 4 ? 4 : elem >= 2 ? 2 : 1;
        if (e.size == 0 || e.size > 4096)
          fail("extern '" + e.name + "' (.kconfig) has size " + std::to_string(e.size));
        exts.push_back(std::move(e));
      }
      std::sort(exts.begin(), exts.end(), [](const Ext& a, const Ext& b) {
        return a.align != b.align ? a.align > b.align : a.name < b.name;
      });
      uint64_t off = 0;
      for (const auto& e : exts) {
        off = (off + e.align - 1) / e.align * e.align;
        kconfig_offset_[e.name] = uint32_t(off);
        off += e.size;
      }
      MapDefinition def;
      def.name = internal_map_name(".kconfig");
      def.section = ".kconfig";
      def.origin = MapOrigin::Kconfig;
      def.type = BPF_MAP_TYPE_ARRAY;
      def.key_size = 4;
      def.value_size = uint32_t(std::max<uint64_t>(off, 1));
      def.max_entries = 1;
      def.flags = BPF_F_RDONLY_PROG;
      def.btf_value_type_id = *sec_id;
      def.initial_value.assign(def.value_size, 0);
      std::string missing;
      for (const auto& e : exts) {
        uint8_t* p = def.initial_value.data() + kconfig_offset_[e.name];
        auto put_u32 = [&](uint32_t v) {
          if (e.size != 4) fail("extern '" + e.name + "' (.kconfig) must be 4 bytes");
          wr32(p, v);
        };
        if (e.name == "LINUX_KERNEL_VERSION") {
          put_u32(running_kernel_version());
        } else if (e.name == "LINUX_HAS_SYSCALL_WRAPPER" || e.name == "LINUX_HAS_BPF_COOKIE") {
          p[0] = 1;  // x86-64 kernels since 4.17 wrap syscalls; bpf cookies since 5.15
        } else {
          bool weak = false;
          for (const auto& s : syms_)
            if (s.name == e.name && s.section == SHN_UNDEF) weak = s.bind == STB_WEAK;
          if (!weak) missing += (missing.empty() ? "" : ", ") + e.name;
        }
      }
      if (!missing.empty())
        fail("unsupported .kconfig externs: " + missing +
             " (bpfkit provides LINUX_KERNEL_VERSION; declare others __weak to read 0)");
      kconfig_map_ = obj_.maps_.size();
      obj_.maps_.push_back(std::move(def));
    }
  }

  for (auto& [outer, tmpl] : inner_templates) {
    obj_.maps_[outer].inner = obj_.maps_.size();
    obj_.maps_.push_back(std::move(tmpl));
  }
}

void ObjectReader::fix_btf_datasecs() {
  const Btf& btf = *obj_.btf_;
  auto& bytes = obj_.btf_bytes_;
  for (uint32_t id = 1; id < btf.type_count(); ++id) {
    const auto& t = btf.type(id);
    if (t.kind != BtfKind::Datasec) continue;
    std::vector<BtfVarSecinfo> vars = t.as<BtfDatasec>()->vars;
    uint64_t size = 0;
    if (t.name == ".kconfig" && kconfig_map_) {
      size = obj_.maps_[*kconfig_map_].value_size;
      for (auto& v : vars) {
        const auto& var = btf.type(v.type);
        if (auto it = kconfig_offset_.find(var.name); it != kconfig_offset_.end()) v.offset = it->second;
        // The kernel refuses extern VARs; in the loaded object they live in the .kconfig map (libbpf does the
        // same).
        if (var.kind == BtfKind::Var && uint64_t(var.offset) + 16 <= bytes.size())
          wr32(bytes.data() + var.offset + 12, uint32_t(BtfLinkage::Global));
      }
    } else {
      const ElfSection* s = elf_.find_section(std::string(t.name));
      if (!s) continue;
      size = s->type == SHT_NOBITS ? s->nobits_size : s->size;
      for (auto& v : vars) {
        const auto& var = btf.type(v.type);
        const auto* vd = var.as<BtfVar>();
        if (var.kind != BtfKind::Var || !vd || vd->linkage == BtfLinkage::Static) continue;
        for (const auto& sym : syms_)
          if (sym.section == s->index && sym.name == var.name && sym.type != STT_SECTION)
            v.offset = uint32_t(sym.value);
      }
    }
    if (size > UINT32_MAX) continue;
    std::stable_sort(vars.begin(), vars.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
    const uint64_t rec = t.offset;
    if (rec + 12 + vars.size() * 12 > bytes.size())
      fail("BTF DATASEC '" + std::string(t.name) + "' runs past .BTF");
    wr32(bytes.data() + rec + 8, uint32_t(size));
    for (size_t i = 0; i < vars.size(); ++i) {
      uint8_t* p = bytes.data() + rec + 12 + i * 12;
      wr32(p, vars[i].type);
      wr32(p + 4, vars[i].offset);
      wr32(p + 8, vars[i].size);
    }
  }
}

void ObjectReader::read_map_slots() {
  if (!maps_section_) return;
  for (const auto& rs : elf_.sections()) {
    if ((rs.type != SHT_REL && rs.type != SHT_RELA) || rs.info != maps_section_) continue;
    for (const auto& rel : elf_.relocations(rs)) {
      const MapVar* v = nullptr;
      for (const auto& mv : btf_map_vars_)
        if (rel.offset >= mv.offset && rel.offset < mv.offset + mv.size) v = &mv;
      if (!v)
        fail("section '.maps': relocation at byte " + std::to_string(rel.offset) + " is not inside a map");
      MapDefinition& m = obj_.maps_[v->map];
      const std::string at =
          "map '" + m.name + "' (section '.maps'): relocation at byte " + std::to_string(rel.offset);
      if (!v->has_values || rel.offset < v->offset + v->values_offset ||
          (rel.offset - v->offset - v->values_offset) % 8 != 0)
        fail(at + " is not a slot of its .values");
      if (rel.type != 2 && rel.type != 1)
        fail(at + ": " +
             (relocation_type_name(rel.type) ? relocation_type_name(rel.type)
                                             : "unknown relocation type " + std::to_string(rel.type)) +
             " is not supported in .values");
      MapInitialSlot slot;
      slot.index = uint32_t((rel.offset - v->offset - v->values_offset) / 8);
      if (slot.index >= m.max_entries)
        fail(at + ": .values index " + std::to_string(slot.index) + " is beyond max_entries " +
             std::to_string(m.max_entries));
      const ElfSymbol& sym = symbol(rel.symbol, rs.index, rel.offset);
      if (m.type == BPF_MAP_TYPE_PROG_ARRAY) {
        slot.kind = MapInitialSlot::Kind::Program;
        auto it = std::find_if(obj_.programs_.begin(), obj_.programs_.end(),
                               [&](const ProgramDefinition& p) { return p.name == sym.name; });
        if (sym.type != STT_FUNC || it == obj_.programs_.end())
          fail(at + ": '" + symbol_name(sym) + "' is not a program");
        slot.target = size_t(it - obj_.programs_.begin());
      } else {
        slot.kind = MapInitialSlot::Kind::Map;
        const MapVar* t = nullptr;
        for (const auto& mv : btf_map_vars_)
          if (sym.section == maps_section_ && mv.offset == sym.value) t = &mv;
        if (!t) fail(at + ": '" + symbol_name(sym) + "' is not a map");
        slot.target = t->map;
      }
      m.initial_slots.push_back(slot);
    }
  }
}

}  // namespace bpfkit::object
