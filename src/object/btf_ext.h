// .BTF.ext reader: per-section function info, line info and CO-RE relocation
// records of a clang-compiled BPF object. Strings resolve through the object's .BTF.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "object/btf.h"

namespace bpfkit::object {

struct BtfFuncInfo {
  uint32_t insn_off = 0;  // byte offset in the section, as stored in the object
  uint32_t type_id = 0;   // a FUNC
};

struct BtfLineInfo {
  uint32_t insn_off = 0;  // byte offset in the section
  std::string file_name;
  std::string line;  // the C source line's text
  uint32_t line_num = 0, column = 0;
};

struct BtfCoreRelo {
  uint32_t insn_off = 0;  // byte offset in the section
  uint32_t type_id = 0;   // root type
  std::string access;     // e.g. "0:1:2"
  uint32_t kind = 0;      // enum bpf_core_relo_kind
};

template <class Rec>
struct BtfExtSection {
  std::string name;  // ELF section name, e.g. "xdp" or ".text"
  std::vector<Rec> records;
};

class BtfExt {
 public:
  // Parses and bounds-checks `ext`; type ids and string offsets are checked against `btf`.
  static BtfExt parse(std::span<const uint8_t> ext, const Btf& btf);

  const std::vector<BtfExtSection<BtfFuncInfo>>& func_info() const { return func_info_; }
  const std::vector<BtfExtSection<BtfLineInfo>>& line_info() const { return line_info_; }
  const std::vector<BtfExtSection<BtfCoreRelo>>& core_relos() const { return core_relos_; }

 private:
  std::vector<BtfExtSection<BtfFuncInfo>> func_info_;
  std::vector<BtfExtSection<BtfLineInfo>> line_info_;
  std::vector<BtfExtSection<BtfCoreRelo>> core_relos_;
};

}  // namespace bpfkit::object
