// BpfObject: reads sections, symbols and BTF, then links every program with the
// subprograms it reaches (libbpf's bpf_object__relocate: subprograms appended
// after the program, call and callback offsets rewritten, map references turned
// into fd_array-style MapIdx / MapIdxValue lddw).
#include "object/bpf_object.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "isa/codec.h"
#include "object/core_relocation.h"
#include "object/object_reader.h"

namespace bpfkit::object {

namespace {

constexpr uint8_t kLddw = BPF_LD | BPF_IMM | BPF_DW;
constexpr uint8_t kCall = BPF_JMP | BPF_CALL;
constexpr uint32_t kRelo64_64 = 1, kRelo64_32 = 10;

std::string basename_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

const char* relocation_type_name(uint32_t type) {
  switch (type) {
    case 0:
      return "R_BPF_NONE";
    case 1:
      return "R_BPF_64_64";
    case 2:
      return "R_BPF_64_ABS64";
    case 3:
      return "R_BPF_64_ABS32";
    case 4:
      return "R_BPF_64_NODYLD32";
    case 10:
      return "R_BPF_64_32";
    default:
      return nullptr;
  }
}

namespace {

std::string relocation_type_string(uint32_t type) {
  const char* n = relocation_type_name(type);
  return n ? n : "unknown relocation type " + std::to_string(type);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Locations and lookups

ObjectReader::ObjectReader(BpfObject& obj, const ObjectLoadOptions& options, std::vector<uint8_t> bytes)
    : obj_(obj), options_(options), elf_(ElfFile::parse(std::move(bytes))) {}

std::string ObjectReader::where(size_t sec) const {
  return obj_.name_ + ": section '" + (sec < elf_.sections().size() ? elf_.sections()[sec].name : "?") + "'";
}

std::string ObjectReader::where(size_t sec, size_t insn) const {
  std::string out = where(sec) + ", instruction " + std::to_string(insn);
  if (ext_ && sec < elf_.sections().size()) {
    const std::string& name = elf_.sections()[sec].name;
    for (const auto& s : ext_->line_info()) {
      if (s.name != name) continue;
      const BtfLineInfo* best = nullptr;
      for (const auto& l : s.records)
        if (l.insn_off / 8 <= insn && (!best || l.insn_off >= best->insn_off)) best = &l;
      if (best) out += " (" + basename_of(best->file_name) + ":" + std::to_string(best->line_num) + ")";
      break;
    }
  }
  return out;
}

void ObjectReader::fail_at(size_t sec, size_t insn, const std::string& what) const {
  throw ObjectError(where(sec, insn) + ": " + what);
}

void ObjectReader::fail(const std::string& what) const { throw ObjectError(obj_.name_ + ": " + what); }

const ElfSection& ObjectReader::section(size_t index) const {
  if (index >= elf_.sections().size()) fail("section index " + std::to_string(index) + " does not exist");
  return elf_.sections()[index];
}

const ElfSymbol& ObjectReader::symbol(uint32_t index, size_t rel_section, uint64_t rel_offset) const {
  if (index == 0 || index >= syms_.size())
    fail("relocation at byte " + std::to_string(rel_offset) + " of '" + section(rel_section).name +
         "' names symbol " + std::to_string(index) + ", which does not exist");
  return syms_[index];
}

std::string ObjectReader::symbol_name(const ElfSymbol& s) const {
  if (s.type == STT_SECTION && s.section < elf_.sections().size()) return elf_.sections()[s.section].name;
  return s.name;
}

// ---------------------------------------------------------------------------------------------
// Reading

namespace {

bool is_exec(const ElfSection& s) { return s.type == SHT_PROGBITS && (s.flags & SHF_EXECINSTR); }

}  // namespace

ProgramDefinition link_program(ObjectReader& r, const ObjectReader::Function& f);

void ObjectReader::run() {
  if (elf_.machine() != EM_BPF)
    fail("not a BPF object (ELF machine " + std::to_string(elf_.machine()) + ", expected EM_BPF)");
  {  // sections whose bytes overlap: a malformed (or malicious) file
    std::vector<const ElfSection*> placed;
    for (const auto& s : elf_.sections())
      if (s.index != 0 && s.type != SHT_NOBITS && s.size > 0) placed.push_back(&s);
    std::sort(placed.begin(), placed.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < placed.size(); ++i)
      if (placed[i - 1]->offset + placed[i - 1]->size > placed[i]->offset)
        fail("sections '" + placed[i - 1]->name + "' and '" + placed[i]->name + "' overlap at byte " +
             std::to_string(placed[i]->offset));
  }
  syms_ = elf_.symbols();
  for (size_t i = 0; i < syms_.size(); ++i) {
    const auto& s = syms_[i];
    if (s.section != SHN_UNDEF && s.section < SHN_LORESERVE && s.section >= elf_.sections().size())
      fail("symbol " + std::to_string(i) + " '" + s.name + "' is in section " + std::to_string(s.section) +
           ", which does not exist");
  }

  if (const auto* lic = elf_.find_section("license")) {
    auto d = elf_.section_data(*lic);
    const auto* p = reinterpret_cast<const char*>(d.data());
    obj_.license_ = std::string(p, strnlen(p, d.size()));
  }
  if (const auto* ver = elf_.find_section("version")) {
    auto d = elf_.section_data(*ver);
    if (d.size() != 4) fail("section 'version' is " + std::to_string(d.size()) + " bytes, expected 4");
    std::memcpy(&obj_.kernel_version_, d.data(), 4);
  }
  if (const auto* b = elf_.find_section(".BTF")) {
    auto d = elf_.section_data(*b);
    obj_.btf_bytes_.assign(d.begin(), d.end());
    obj_.btf_ = std::make_shared<Btf>(Btf::parse(obj_.btf_bytes_));
  }

  read_maps();
  if (obj_.btf_) {
    fix_btf_datasecs();
    obj_.btf_ = std::make_shared<Btf>(Btf::parse(obj_.btf_bytes_));
    if (const auto* e = elf_.find_section(".BTF.ext"))
      ext_ = BtfExt::parse(elf_.section_data(*e), *obj_.btf_);
  }

  // Code, functions and the relocations of executable sections.
  for (const auto& s : elf_.sections()) {
    if (!is_exec(s) || s.size == 0) continue;
    if (s.size % 8 != 0)
      fail("section '" + s.name + "' size " + std::to_string(s.size) + " is not a multiple of 8");
    code_[s.index] = isa::raw_from_bytes(elf_.section_data(s));
  }
  for (const auto& sym : syms_) {
    if (sym.type != STT_FUNC || sym.section == SHN_UNDEF || sym.section >= SHN_LORESERVE) continue;
    auto it = code_.find(sym.section);
    if (it == code_.end()) continue;
    const size_t n = it->second.size();
    if (sym.value % 8 != 0 || sym.size % 8 != 0 || sym.value / 8 > n || sym.size / 8 > n - sym.value / 8)
      fail("function '" + sym.name + "' (bytes " + std::to_string(sym.value) + "+" +
           std::to_string(sym.size) + ") does not fit section '" + section(sym.section).name + "'");
    functions_.push_back(
        {sym.name, sym.section, size_t(sym.value / 8), size_t(sym.size / 8), sym.bind != STB_LOCAL});
  }
  std::sort(functions_.begin(), functions_.end(), [](const Function& a, const Function& b) {
    return std::tie(a.section, a.start) < std::tie(b.section, b.start);
  });
  for (size_t i = 0; i < functions_.size(); ++i) {  // a size-0 symbol runs to the next function
    auto& f = functions_[i];
    if (f.count != 0) continue;
    size_t end = code_[f.section].size();
    for (size_t j = i + 1; j < functions_.size() && functions_[j].section == f.section; ++j)
      if (functions_[j].start > f.start) {
        end = functions_[j].start;
        break;
      }
    f.count = end - f.start;
  }
  for (size_t i = 1; i < functions_.size(); ++i) {
    const auto& a = functions_[i - 1];
    const auto& b = functions_[i];
    if (a.section == b.section && a.start + a.count > b.start)
      fail_at(b.section, b.start, "function '" + b.name + "' overlaps function '" + a.name + "'");
  }
  for (const auto& rs : elf_.sections()) {
    if (rs.type != SHT_REL && rs.type != SHT_RELA) continue;
    if (rs.info >= elf_.sections().size() || !code_.count(rs.info)) continue;  // data and debug relocations
    auto& table = code_relocs_[rs.info];
    const size_t n = code_[rs.info].size();
    for (const auto& r : elf_.relocations(rs)) {
      if (r.offset % 8 != 0 || r.offset / 8 >= n)
        throw ObjectError(where(rs.info) + ": relocation at byte " + std::to_string(r.offset) +
                          " is outside its " + std::to_string(n) + " instructions");
      symbol(r.symbol, rs.index, r.offset);
      table[r.offset / 8] = r;
    }
  }

  // CO-RE, per section, before linking (records index the section's own slots).
  if (ext_) {
    std::shared_ptr<const Btf> target = options_.target_btf;
    for (const auto& sec : ext_->core_relos()) {
      const auto* s = elf_.find_section(sec.name);
      if (!s || !code_.count(s->index))
        fail("CO-RE relocations for section '" + sec.name + "', which has no code");
      if (sec.records.empty()) continue;
      if (!target) target = std::make_shared<Btf>(Btf::load_vmlinux());
      apply_core_relocations(code_[s->index], sec.name, *obj_.btf_, sec.records, *target);
    }
  }

  for (const auto& f : functions_) {
    const auto& s = section(f.section);
    if (s.name == ".text") continue;
    if (!f.global) fail_at(f.section, f.start, "program '" + f.name + "' is static; programs must be global");
  }
  for (const auto& f : functions_)
    if (section(f.section).name != ".text") obj_.programs_.push_back(link_program(*this, f));

  read_map_slots();
}

// ---------------------------------------------------------------------------------------------
// Linking

namespace {

struct Linker {
  ObjectReader& r;
  ProgramDefinition out;
  std::vector<std::pair<size_t, size_t>> placed;  // (function index, first slot in out.insns)

  size_t function_at(size_t sec, int64_t slot, size_t from_sec, size_t from_insn) {
    for (size_t i = 0; i < r.functions_.size(); ++i) {
      const auto& f = r.functions_[i];
      if (f.section == sec && slot >= int64_t(f.start) && slot < int64_t(f.start + f.count)) return i;
    }
    r.fail_at(from_sec, from_insn,
              "jumps to instruction " + std::to_string(slot) + " of section '" + r.section(sec).name +
                  "', which is not inside a function");
  }

  size_t place(size_t fi) {
    for (const auto& [f, at] : placed)
      if (f == fi) return at;
    const auto& f = r.functions_[fi];
    const auto& code = r.code_.at(f.section);
    const size_t at = out.insns.size();
    out.insns.insert(out.insns.end(), code.begin() + f.start, code.begin() + f.start + f.count);
    placed.emplace_back(fi, at);
    return at;
  }

  // The new slot of section `sec`'s slot `slot`, appending its function when needed.
  size_t target(size_t sec, int64_t slot, size_t from_sec, size_t from_insn) {
    const size_t fi = function_at(sec, slot, from_sec, from_insn);
    return place(fi) + size_t(slot - int64_t(r.functions_[fi].start));
  }

  void relocate_lddw(size_t sec, size_t slot, const ElfRelocation& rel, isa::RawInsn& lo, isa::RawInsn& hi,
                     size_t at) {
    const ElfSymbol& sym = r.symbol(rel.symbol, sec, rel.offset);
    const std::string name = r.symbol_name(sym);
    if (rel.type != kRelo64_64)
      r.fail_at(sec, slot, relocation_type_string(rel.type) + " against '" + name + "' on an lddw");
    if (sym.section == SHN_UNDEF) {
      auto it = r.kconfig_offset_.find(sym.name);
      if (it == r.kconfig_offset_.end() || !r.kconfig_map_)
        r.fail_at(sec, slot, "extern '" + sym.name + "' is not supported (only .kconfig externs are)");
      const int64_t off = int64_t(it->second) + lo.imm;
      if (off < 0 || off > int64_t(r.map_value_size(*r.kconfig_map_)))
        r.fail_at(sec, slot, "offset " + std::to_string(off) + " into .kconfig is outside its value");
      lo.src = uint8_t(isa::Pseudo::MapIdxValue);
      hi.imm = int32_t(off);
      lo.imm = int32_t(*r.kconfig_map_);
      return;
    }
    if (sym.section >= SHN_LORESERVE)
      r.fail_at(sec, slot, "lddw refers to absolute or common symbol '" + name + "'");
    // Unsigned: a malformed symbol value must wrap, not overflow. REL objects keep the addend in imm.
    const int64_t off = int64_t(sym.value + uint64_t(rel.addend) + uint64_t(int64_t(lo.imm)));
    const ElfSection& ts = r.section(sym.section);
    if (r.code_.count(sym.section)) {  // a callback: the address of a function
      if (off % 8 != 0) r.fail_at(sec, slot, "function reference '" + name + "' is not instruction-aligned");
      const size_t t = target(sym.section, off / 8, sec, slot);
      lo.src = uint8_t(isa::Pseudo::Func);
      lo.imm = int32_t(int64_t(t) - int64_t(at) - 1);
      hi.imm = 0;
      return;
    }
    if (sym.section == r.maps_section_) {
      for (const auto& v : r.btf_map_vars_)
        if (int64_t(v.offset) == off) {
          lo.src = uint8_t(isa::Pseudo::MapIdx);
          lo.imm = int32_t(v.map);
          hi.imm = 0;
          return;
        }
      r.fail_at(sec, slot, "'" + name + "' (offset " + std::to_string(off) + " of '.maps') is not a map");
    }
    if (sym.section == r.legacy_maps_section_) {
      auto it = r.legacy_map_at_.find(uint64_t(off));
      if (off < 0 || it == r.legacy_map_at_.end())
        r.fail_at(sec, slot, "'" + name + "' (offset " + std::to_string(off) + " of 'maps') is not a map");
      lo.src = uint8_t(isa::Pseudo::MapIdx);
      lo.imm = int32_t(it->second);
      hi.imm = 0;
      return;
    }
    if (auto it = r.data_map_of_section_.find(sym.section); it != r.data_map_of_section_.end()) {
      const uint32_t value_size = r.map_value_size(it->second);
      if (off < 0 || uint64_t(off) > value_size)
        r.fail_at(sec, slot,
                  "offset " + std::to_string(off) + " into '" + ts.name + "' is outside its " +
                      std::to_string(value_size) + " bytes");
      lo.src = uint8_t(isa::Pseudo::MapIdxValue);
      lo.imm = int32_t(it->second);
      hi.imm = int32_t(off);
      return;
    }
    r.fail_at(sec, slot,
              "lddw refers to '" + name + "' in section '" + ts.name +
                  "', which is neither code, a map nor global data");
  }

  void relocate_function(size_t pi) {
    const auto [fi, base] = placed[pi];
    const auto f = r.functions_[fi];  // copy: place() may grow functions_' users, not functions_ itself
    const auto rit = r.code_relocs_.find(f.section);
    for (size_t k = 0; k < f.count; ++k) {
      const size_t slot = f.start + k, at = base + k;
      const ElfRelocation* rel = nullptr;
      if (rit != r.code_relocs_.end())
        if (auto it = rit->second.find(slot); it != rit->second.end()) rel = &it->second;
      const isa::RawInsn insn = out.insns[at];
      if (insn.opcode == kLddw) {
        if (k + 1 >= f.count) r.fail_at(f.section, slot, "lddw is missing its second half");
        if (rel) {
          isa::RawInsn lo = insn, hi = out.insns[at + 1];
          relocate_lddw(f.section, slot, *rel, lo, hi, at);
          out.insns[at] = lo;
          out.insns[at + 1] = hi;
        } else if (insn.src == uint8_t(isa::Pseudo::Func)) {
          const size_t t = target(f.section, int64_t(slot) + insn.imm + 1, f.section, slot);
          out.insns[at].imm = int32_t(int64_t(t) - int64_t(at) - 1);
        }
        ++k;
        continue;
      }
      if (insn.opcode == kCall && insn.src == BPF_PSEUDO_CALL) {
        size_t tsec = f.section;
        int64_t tslot = int64_t(slot) + insn.imm + 1;
        if (rel) {
          const ElfSymbol& sym = r.symbol(rel->symbol, f.section, rel->offset);
          if (rel->type != kRelo64_32)
            r.fail_at(f.section, slot,
                      relocation_type_string(rel->type) + " against '" + r.symbol_name(sym) + "' on a call");
          if (sym.section == SHN_UNDEF || sym.section >= SHN_LORESERVE || !r.code_.count(sym.section))
            r.fail_at(f.section, slot,
                      "calls '" + r.symbol_name(sym) + "', which is not a function in the object");
          tsec = sym.section;
          tslot = int64_t((sym.value + uint64_t(rel->addend)) / 8) + insn.imm + 1;
        }
        const size_t t = target(tsec, tslot, f.section, slot);
        out.insns[at].imm = int32_t(int64_t(t) - int64_t(at) - 1);
        continue;
      }
      if (rel) {
        const ElfSymbol& sym = r.symbol(rel->symbol, f.section, rel->offset);
        if (insn.opcode == kCall && sym.section == SHN_UNDEF)
          r.fail_at(f.section, slot, "calls extern function '" + sym.name + "' (kfuncs are not supported)");
        r.fail_at(
            f.section, slot,
            relocation_type_string(rel->type) + " against '" + r.symbol_name(sym) +
                "' on an instruction that is neither lddw nor a call (opcode 0x" +
                [&] {
                  char b[8];
                  snprintf(b, sizeof b, "%02x", insn.opcode);
                  return std::string(b);
                }() +
                ")");
      }
    }
  }

  // .BTF.ext func and line info of every placed function, at their new slots.
  void carry_btf_ext() {
    if (!r.ext_) return;
    for (const auto& pl : placed) {
      const auto& f = r.functions_[pl.first];
      const size_t base = pl.second;
      const std::string& sname = r.section(f.section).name;
      auto in_range = [&](uint32_t off, size_t& at) {
        if (off % 8 != 0 || off / 8 < f.start || off / 8 >= f.start + f.count) return false;
        at = base + (off / 8 - f.start);
        return true;
      };
      for (const auto& s : r.ext_->func_info()) {
        if (s.name != sname) continue;
        for (const auto& rec : s.records)
          if (size_t at; in_range(rec.insn_off, at)) out.funcs.push_back({at, rec.type_id});
      }
      for (const auto& s : r.ext_->line_info()) {
        if (s.name != sname) continue;
        for (const auto& rec : s.records)
          if (size_t at; in_range(rec.insn_off, at))
            out.lines.push_back({at, rec.file_name, rec.line, rec.line_num, rec.column});
      }
    }
    std::stable_sort(out.funcs.begin(), out.funcs.end(), [](auto& a, auto& b) { return a.insn < b.insn; });
    std::stable_sort(out.lines.begin(), out.lines.end(), [](auto& a, auto& b) { return a.insn < b.insn; });
  }
};

}  // namespace

ProgramDefinition link_program(ObjectReader& r, const ObjectReader::Function& f) {
  Linker l{r, {}, {}};
  l.out.name = f.name;
  l.out.section = r.section(f.section).name;
  if (auto def = parse_section_name(l.out.section)) l.out.def = std::move(*def);
  size_t fi = 0;
  while (&r.functions_[fi] != &f) ++fi;
  l.place(fi);
  for (size_t i = 0; i < l.placed.size(); ++i) l.relocate_function(i);
  l.carry_btf_ext();
  return std::move(l.out);
}

// ---------------------------------------------------------------------------------------------
// Public API

BpfObject BpfObject::parse(std::vector<uint8_t> bytes, const ObjectLoadOptions& options) {
  BpfObject obj;
  obj.name_ = options.name.empty() ? "object" : options.name;
  ObjectReader reader(obj, options, std::move(bytes));
  reader.run();
  return obj;
}

BpfObject BpfObject::open(const std::string& path, ObjectLoadOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ObjectError(path + ": cannot open");
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  if (options.name.empty()) {
    options.name = std::filesystem::path(path).filename().string();
    if (const auto dot = options.name.find('.'); dot != std::string::npos) options.name.resize(dot);
  }
  return parse(std::move(bytes), options);
}

const ProgramDefinition* BpfObject::find_program(std::string_view name) const {
  for (const auto& p : programs_)
    if (p.name == name) return &p;
  for (const auto& p : programs_)
    if (p.section == name) return &p;
  return nullptr;
}

const MapDefinition* BpfObject::find_map(std::string_view name) const {
  auto i = map_index(name);
  return i ? &maps_[*i] : nullptr;
}

std::optional<size_t> BpfObject::map_index(std::string_view name) const {
  for (size_t i = 0; i < maps_.size(); ++i)
    if (maps_[i].name == name) return i;
  return std::nullopt;
}

const SourceLine* ProgramDefinition::line_of(size_t insn) const {
  auto it = std::upper_bound(lines.begin(), lines.end(), insn,
                             [](size_t v, const SourceLine& l) { return v < l.insn; });
  return it == lines.begin() ? nullptr : &*std::prev(it);
}

}  // namespace bpfkit::object
