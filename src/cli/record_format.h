// Ring buffer and perf buffer records as text: JSON through the object's BTF when
// the user named the record's struct (--event-type), hex bytes otherwise.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "object/bpf_object.h"

namespace bpfkit::cli {

class RecordFormatter {
 public:
  // Throws Error when `type_name` is given but the object has no BTF or no such struct.
  RecordFormatter(const object::BpfObject& object, const std::string& type_name);
  std::string format(std::span<const uint8_t> record) const;

 private:
  const object::Btf* btf_ = nullptr;
  uint32_t type_id_ = 0;
};

std::string hex_bytes(std::span<const uint8_t> bytes);

}  // namespace bpfkit::cli
