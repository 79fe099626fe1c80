#include "lang/btf_fields.h"

#include <functional>
#include <vector>

#include "target/linux/tracefs.h"

namespace bpfkit::lang {

std::optional<BtfMemberHit> find_btf_member(const object::Btf& btf, uint32_t struct_id, std::string_view name,
                                            std::string& error) {
  const uint32_t outer = btf.resolve(struct_id);
  std::string closest;
  size_t best = 3;
  std::function<std::optional<BtfMemberHit>(uint32_t, uint32_t, int)> search =
      [&](uint32_t id, uint32_t base, int depth) -> std::optional<BtfMemberHit> {
    const object::BtfType& t = btf.type(btf.resolve(id));
    const auto* comp = t.as<object::BtfComposite>();
    if (!comp || depth > 8) return std::nullopt;
    for (const object::BtfMember& m : comp->members) {
      uint32_t offset = base + m.bit_offset / 8;
      if (m.name.empty()) {
        if (auto hit = search(m.type, offset, depth + 1)) return hit;
        continue;
      }
      if (m.name == name) {
        if (m.bitfield_size != 0 || m.bit_offset % 8 != 0) {
          error = "field '" + std::string(name) + "' of " + btf.type_name(outer) + " is a bitfield, which cannot be read yet";
          return std::nullopt;
        }
        return BtfMemberHit{m.type, offset};
      }
      size_t d = target::linux_kernel::edit_distance(m.name, name);
      if (d < best) {
        best = d;
        closest = std::string(m.name);
      }
    }
    return std::nullopt;
  };
  if (auto hit = search(outer, 0, 0)) return hit;
  if (error.empty()) {
    error = btf.type_name(outer) + " has no field '" + std::string(name) + "'";
    if (!closest.empty()) error += "; did you mean '" + closest + "'?";
  }
  return std::nullopt;
}

}  // namespace bpfkit::lang
