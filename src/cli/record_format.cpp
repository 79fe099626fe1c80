#include "cli/record_format.h"

#include "object/btf_json.h"

namespace bpfkit::cli {

RecordFormatter::RecordFormatter(const object::BpfObject& object, const std::string& type_name) {
  if (type_name.empty()) return;
  const object::Btf* btf = object.btf().get();
  if (!btf) throw Error(object.name() + ": --event-type needs BTF (compile with -g)");
  auto id = btf->find_by_name(type_name, object::BtfKind::Struct);
  if (!id) throw Error(object.name() + ": no struct '" + type_name + "' in the object's BTF");
  btf_ = btf;
  type_id_ = *id;
}

std::string RecordFormatter::format(std::span<const uint8_t> record) const {
  if (btf_ && btf_->size_of(type_id_) <= record.size()) {
    return object::btf_to_json(*btf_, type_id_, record.first(btf_->size_of(type_id_))).dump();
  }
  return hex_bytes(record);
}

std::string hex_bytes(std::span<const uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace bpfkit::cli
