// libFuzzer target: BTF and .BTF.ext parsing plus every accessor over every type
// id must either work or throw a BtfError; never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "object/btf.h"
#include "object/btf_ext.h"

using bpfkit::object::Btf;
using bpfkit::object::BtfError;
using bpfkit::object::BtfExt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // First 2 bytes: how many of the rest are the BTF blob; the remainder is .BTF.ext.
  if (size < 2) return 0;
  size_t btf_len = size_t(data[0] | (data[1] << 8));
  data += 2;
  size -= 2;
  if (btf_len > size) btf_len = size;
  try {
    Btf btf = Btf::parse({data, btf_len});
    for (uint32_t id = 0; id < btf.type_count(); ++id) {
      const auto& t = btf.type(id);
      btf.resolve(id);
      try {
        btf.size_of(id);
      } catch (const BtfError&) {
      }
      try {
        btf.type_name(id);
      } catch (const BtfError&) {
      }
      try {
        btf.format_c(id);
      } catch (const BtfError&) {
      }
      try {
        btf.declaration(id, "x");
      } catch (const BtfError&) {
      }
      if (!t.name.empty()) btf.find_by_name(t.name, t.kind);
    }
    try {
      BtfExt::parse({data + btf_len, size - btf_len}, btf);
    } catch (const BtfError&) {
    }
    // The same blob as split BTF on top of itself.
    auto base = std::make_shared<const Btf>(std::move(btf));
    try {
      Btf split = Btf::parse({data, btf_len}, base);
      for (uint32_t id = split.first_own_id(); id < split.type_count(); ++id) {
        try {
          split.type_name(id);
        } catch (const BtfError&) {
        }
        try {
          split.size_of(id);
        } catch (const BtfError&) {
        }
      }
    } catch (const BtfError&) {
    }
  } catch (const BtfError&) {
  }
  return 0;
}
