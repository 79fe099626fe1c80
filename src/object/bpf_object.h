// A clang-compiled BPF object (clang -O2 -g -target bpf), read with libbpf's
// conventions: programs by SEC() name, maps from `.maps` (BTF-defined) and `maps`
// (struct bpf_map_def), global data (.data, .rodata*, .bss) as array maps,
// subprograms in .text linked into every program that calls them, relocations
// applied, CO-RE relocations resolved against a target BTF.
//
// The result is target-neutral: a map reference is an lddw whose pseudo source is
// MapIdx (imm = index into maps()) or MapIdxValue (imm = index, next imm = offset
// into the value), and a callback reference is an lddw with pseudo Func (imm =
// instruction offset relative to the next instruction), exactly as the kernel's
// fd_array loading understands them. A target turns the indexes into its own map
// handles (file descriptors in the kernel, pointers in user space).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "isa/instruction.h"
#include "object/btf.h"
#include "object/btf_ext.h"
#include "object/section_name.h"

namespace bpfkit::object {

// A malformed or unsupported object. The message names the object, the section
// and, where there is one, the instruction index (and its C source line when the
// object carries line info), or the byte offset.
class ObjectError : public Error {
 public:
  using Error::Error;
};

// Where a map came from in the object.
enum class MapOrigin : uint8_t {
  BtfDefined,  // SEC(".maps") struct with __uint/__type fields
  Legacy,      // SEC("maps") struct bpf_map_def
  GlobalData,  // .data, .rodata, .rodata.*, .bss: a one-entry array map
  Kconfig,     // .kconfig externs (LINUX_KERNEL_VERSION, CONFIG_*)
};

// `.values = { [i] = &prog_or_map }` in a BTF-defined prog_array or map-in-map.
struct MapInitialSlot {
  uint32_t index = 0;
  enum class Kind : uint8_t { Program, Map } kind = Kind::Program;
  size_t target = 0;  // index into programs() or maps()
};

struct MapDefinition {
  std::string name;     // the variable's name; global data: libbpf's "<object>.<section>" (e.g. "blocklis.rodata")
  std::string section;  // ".maps", "maps", ".data", ".rodata.str1.1", ...
  MapOrigin origin = MapOrigin::BtfDefined;
  uint32_t type = 0;  // bpf_map_type
  uint32_t key_size = 0, value_size = 0, max_entries = 0;
  uint32_t flags = 0;  // BPF_F_* (global .rodata gets BPF_F_RDONLY_PROG, as libbpf does)
  uint64_t map_extra = 0;
  uint32_t numa_node = 0;
  uint32_t pinning = 0;  // LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1)
  // BTF type ids of key and value in btf() (0 when the object has none for this map).
  uint32_t btf_key_type_id = 0, btf_value_type_id = 0;
  // Map-in-map: the inner map's definition (an index into maps() whose entry has
  // inner_template set: it describes inner maps and is not created on its own).
  std::optional<size_t> inner;
  bool inner_template = false;
  // Global data: the section's bytes (zeros for .bss), the value of key 0.
  std::vector<uint8_t> initial_value;
  std::vector<MapInitialSlot> initial_slots;
};

// A source position from .BTF.ext line info, attached to an instruction of a linked program.
struct SourceLine {
  size_t insn = 0;  // instruction (slot) index in ProgramDefinition::insns
  std::string file, text;
  uint32_t line = 0, column = 0;
};

struct FuncInfo {
  size_t insn = 0;  // slot index where the function starts in ProgramDefinition::insns
  uint32_t btf_type_id = 0;  // a FUNC in btf()
};

struct ProgramDefinition {
  std::string name;     // the function's symbol
  std::string section;  // its ELF section, the SEC() name
  SectionDefinition def;  // program type, expected attach type, attach target, parsed from `section`
  // The program followed by every subprogram it calls (directly or through a
  // callback), relocated. Map references use pseudo MapIdx/MapIdxValue.
  std::vector<isa::RawInsn> insns;
  std::vector<FuncInfo> funcs;    // sorted by insn; empty without BTF
  std::vector<SourceLine> lines;  // sorted by insn; empty without line info
  // The source line of slot `insn` (the last line-info entry at or before it), or nullptr.
  const SourceLine* line_of(size_t insn) const;
};

struct ObjectLoadOptions {
  // Object name for map names and messages; default: the file's stem up to its first
  // '.' ("prog" for "prog.bpf.o"), or "object" for parse() of bytes.
  std::string name;
  // BTF that CO-RE relocations resolve against. nullptr: /sys/kernel/btf/vmlinux,
  // read only when the object has CO-RE relocations.
  std::shared_ptr<const Btf> target_btf;
};

class BpfObject {
 public:
  // Reads an object. Throws ObjectError (or ElfError/BtfError, which it derives from Error)
  // naming where the object is malformed or what it uses that bpfkit does not support.
  static BpfObject parse(std::vector<uint8_t> bytes, const ObjectLoadOptions& options = {});
  static BpfObject open(const std::string& path, ObjectLoadOptions options = {});
  // An object made by a code generator rather than read from ELF (the tracing
  // language's compiler): programs already linked, map references by index, no BTF.
  static BpfObject assemble(std::string name, std::string license, std::vector<ProgramDefinition> programs,
                            std::vector<MapDefinition> maps) {
    BpfObject o;
    o.name_ = std::move(name);
    o.license_ = std::move(license);
    o.programs_ = std::move(programs);
    o.maps_ = std::move(maps);
    return o;
  }

  const std::string& name() const { return name_; }
  const std::string& license() const { return license_; }
  uint32_t kernel_version() const { return kernel_version_; }  // the "version" section, 0 when absent
  const std::vector<ProgramDefinition>& programs() const { return programs_; }
  const std::vector<MapDefinition>& maps() const { return maps_; }
  const ProgramDefinition* find_program(std::string_view name) const;  // by function or section name
  const MapDefinition* find_map(std::string_view name) const;
  std::optional<size_t> map_index(std::string_view name) const;
  // Changes a global-data map's initial bytes before loading (libbpf's
  // bpf_map__set_initial_value, what skeletons do to set `const volatile` knobs).
  // False when there is no such map or the size differs.
  bool set_initial_value(std::string_view map_name, std::span<const uint8_t> bytes) {
    for (MapDefinition& m : maps_) {
      if (m.name == map_name && m.origin == MapOrigin::GlobalData && m.initial_value.size() == bytes.size()) {
        m.initial_value.assign(bytes.begin(), bytes.end());
        return true;
      }
    }
    return false;
  }
  // The object's BTF, nullptr when it has none (compiled without -g).
  const std::shared_ptr<const Btf>& btf() const { return btf_; }
  // The raw .BTF section bytes (for loading into the kernel), empty when absent.
  const std::vector<uint8_t>& btf_bytes() const { return btf_bytes_; }

 private:
  friend class ObjectReader;
  std::string name_, license_;
  uint32_t kernel_version_ = 0;
  std::vector<ProgramDefinition> programs_;
  std::vector<MapDefinition> maps_;
  std::shared_ptr<const Btf> btf_;
  std::vector<uint8_t> btf_bytes_;
};

}  // namespace bpfkit::object
