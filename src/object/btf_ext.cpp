// .BTF.ext parsing: a header, then up to three blocks of per-section records,
// each block `rec_size` then {sec_name_off, num_info, records...}*.
#include "object/btf_ext.h"

#include <cstring>

namespace bpfkit::object {

namespace {

uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Walks one block at [off, off+len) of `d`, calling rec(ptr, at) per record.
template <class Rec, class ReadRec>
std::vector<BtfExtSection<Rec>> read_block(std::span<const uint8_t> d, uint64_t off, uint64_t len,
                                           uint32_t min_rec, const Btf& btf, const char* what, ReadRec read) {
  using E = BtfError;
  const uint32_t none = E::kNoType;
  std::vector<BtfExtSection<Rec>> out;
  if (len == 0) return out;
  if (off + len > d.size()) throw E(off, none, std::string(what) + " block runs past the end of .BTF.ext");
  if (len < 4) throw E(off, none, std::string(what) + " block too short for its record size");
  const uint32_t rec_size = rd32(d.data() + off);
  if (rec_size < min_rec || rec_size % 4 != 0)
    throw E(off, none, std::string(what) + " record size " + std::to_string(rec_size) + " is invalid");
  uint64_t pos = off + 4;
  const uint64_t end = off + len;
  while (pos < end) {
    if (end - pos < 8) throw E(pos, none, std::string(what) + " section header truncated");
    const uint32_t name_off = rd32(d.data() + pos), num = rd32(d.data() + pos + 4);
    if (name_off >= btf.string_section_size())
      throw E(pos, none, "section name offset " + std::to_string(name_off) + " past the string section");
    if (num == 0) throw E(pos + 4, none, std::string(what) + " section with no records");
    if (uint64_t(num) * rec_size > end - pos - 8)
      throw E(pos + 4, none,
              std::string(what) + " section with " + std::to_string(num) + " records runs past its block");
    BtfExtSection<Rec> sec;
    sec.name = std::string(btf.string_at(name_off));
    sec.records.reserve(num);
    pos += 8;
    for (uint32_t i = 0; i < num; ++i, pos += rec_size) sec.records.push_back(read(d.data() + pos, pos));
    out.push_back(std::move(sec));
  }
  return out;
}

}  // namespace

BtfExt BtfExt::parse(std::span<const uint8_t> d, const Btf& btf) {
  using E = BtfError;
  const uint32_t none = E::kNoType;
  if (d.size() < 24) throw E(d.size(), none, ".BTF.ext header truncated");
  uint16_t magic;
  std::memcpy(&magic, d.data(), 2);
  if (magic != 0xeB9F) throw E(0, none, ".BTF.ext bad magic");
  if (d[2] != 1) throw E(2, none, ".BTF.ext unsupported version " + std::to_string(d[2]));
  if (d[3] != 0) throw E(3, none, ".BTF.ext unsupported flags");
  const uint32_t hdr_len = rd32(d.data() + 4);
  if (hdr_len < 24 || hdr_len > d.size())
    throw E(4, none, ".BTF.ext bad header length " + std::to_string(hdr_len));

  auto str = [&](uint32_t off, uint64_t at) -> std::string {
    if (off >= btf.string_section_size())
      throw E(at, none, "string offset " + std::to_string(off) + " past the .BTF string section");
    return std::string(btf.string_at(off));
  };
  auto type_id = [&](uint32_t id, uint64_t at) {
    if (id >= btf.type_count()) throw E(at, id, "type id out of range");
    return id;
  };

  BtfExt ext;
  const uint8_t* h = d.data();
  ext.func_info_ = read_block<BtfFuncInfo>(d, uint64_t(hdr_len) + rd32(h + 8), rd32(h + 12), 8, btf,
                                           "func_info", [&](const uint8_t* p, uint64_t at) {
                                             BtfFuncInfo f{rd32(p), type_id(rd32(p + 4), at + 4)};
                                             if (btf.type(f.type_id).kind != BtfKind::Func)
                                               throw E(at + 4, f.type_id, "func_info names a non-FUNC type");
                                             return f;
                                           });
  ext.line_info_ = read_block<BtfLineInfo>(d, uint64_t(hdr_len) + rd32(h + 16), rd32(h + 20), 16, btf,
                                           "line_info", [&](const uint8_t* p, uint64_t at) {
                                             BtfLineInfo l;
                                             l.insn_off = rd32(p);
                                             l.file_name = str(rd32(p + 4), at + 4);
                                             l.line = str(rd32(p + 8), at + 8);
                                             const uint32_t lc = rd32(p + 12);
                                             l.line_num = lc >> 10;
                                             l.column = lc & 0x3ff;
                                             return l;
                                           });
  if (hdr_len >= 32) {
    ext.core_relos_ = read_block<BtfCoreRelo>(d, uint64_t(hdr_len) + rd32(h + 24), rd32(h + 28), 16, btf,
                                              "core_relo", [&](const uint8_t* p, uint64_t at) {
                                                BtfCoreRelo r;
                                                r.insn_off = rd32(p);
                                                r.type_id = type_id(rd32(p + 4), at + 4);
                                                r.access = str(rd32(p + 8), at + 8);
                                                r.kind = rd32(p + 12);
                                                return r;
                                              });
  }
  return ext;
}

}  // namespace bpfkit::object
