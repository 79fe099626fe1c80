// Struct and union members by name in BTF, looking through anonymous members (the
// kernel nests many fields in anonymous unions), with their byte offsets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "object/btf.h"

namespace bpfkit::lang {

struct BtfMemberHit {
  uint32_t type_id = 0;
  uint32_t offset = 0;  // bytes from the start of the outer struct
};

// The member `name` of struct/union `struct_id`; std::nullopt with `error` set to one
// sentence (naming the struct, and a close member name when there is one) otherwise.
// Bitfields are refused (their value needs shifting, not just a load).
std::optional<BtfMemberHit> find_btf_member(const object::Btf& btf, uint32_t struct_id, std::string_view name,
                                            std::string& error);

}  // namespace bpfkit::lang
