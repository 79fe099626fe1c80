// Internal to the object loader: the state of reading one BpfObject, shared by
// bpf_object.cpp (sections, programs, linking) and object_maps.cpp (maps, global
// data, .kconfig, BTF DATASEC fix-up).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "object/bpf_object.h"
#include "object/elf_file.h"

namespace bpfkit::object {

class ObjectReader {
 public:
  ObjectReader(BpfObject& obj, const ObjectLoadOptions& options, std::vector<uint8_t> bytes);
  void run();

  // --- bpf_object.cpp ---
  // A function (FUNC symbol) in an executable section: a program or a subprogram.
  struct Function {
    std::string name;
    size_t section = 0;
    size_t start = 0, count = 0;  // in instruction slots of the section
    bool global = false;
  };
  // "OBJ: section 'S', instruction N (file.c:LINE): " (line only when line info covers it).
  std::string where(size_t section, size_t insn) const;
  std::string where(size_t section) const;
  [[noreturn]] void fail_at(size_t section, size_t insn, const std::string& what) const;
  [[noreturn]] void fail(const std::string& what) const;  // "OBJ: what"
  const ElfSection& section(size_t index) const;
  const ElfSymbol& symbol(uint32_t index, size_t rel_section, uint64_t rel_offset) const;
  std::string symbol_name(const ElfSymbol& s) const;  // its name, or its section's for STT_SECTION
  uint32_t map_value_size(size_t map) const { return obj_.maps_.at(map).value_size; }

  // --- object_maps.cpp ---
  void read_maps();         // .maps, maps, global data, .kconfig (before programs)
  void read_map_slots();    // .rel.maps .values initialisers (after programs)
  void fix_btf_datasecs();  // DATASEC sizes and offsets from the ELF, as libbpf does
  std::string internal_map_name(std::string_view section) const;

  BpfObject& obj_;
  const ObjectLoadOptions& options_;
  ElfFile elf_;
  std::vector<ElfSymbol> syms_;
  std::optional<BtfExt> ext_;

  size_t maps_section_ = 0, legacy_maps_section_ = 0;  // 0: absent
  struct MapVar {
    uint64_t offset = 0, size = 0;
    size_t map = 0;
    uint64_t values_offset = 0;  // of the `values` member, for .values initialisers
    bool has_values = false;
  };
  std::vector<MapVar> btf_map_vars_;              // in .maps, by offset
  std::map<uint64_t, size_t> legacy_map_at_;      // offset in `maps` -> map index
  std::map<size_t, size_t> data_map_of_section_;  // section index -> global data map index
  std::optional<size_t> kconfig_map_;
  std::map<std::string, uint32_t, std::less<>> kconfig_offset_;  // extern name -> offset in the map value

  std::vector<Function> functions_;
  std::map<size_t, std::vector<isa::RawInsn>> code_;               // executable section -> its slots
  std::map<size_t, std::map<size_t, ElfRelocation>> code_relocs_;  // section -> slot -> relocation
};

const char* relocation_type_name(uint32_t type);

}  // namespace bpfkit::object
