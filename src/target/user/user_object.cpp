// Loading an object on the userspace target: maps first (global data filled,
// .values slots set), then every program relocated onto them.
#include <linux/bpf.h>

#include <cstring>

#include "maps/cpu.h"
#include "maps/fd_array_map.h"
#include "maps/ringbuf_map.h"
#include "target/user/ctx_narrow_loads.h"
#include "helpers/runtime_helpers.h"
#include "target/user/user_target.h"
#include "target/verify_object.h"

namespace bpfkit::target::user {

namespace {

// Map names are at most 15 characters in the kernel; libbpf truncates longer ones.
std::string kernel_map_name(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, BPF_OBJ_NAME_LEN - 1)) {
    out += (isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') ? c : '_';
  }
  return out;
}

maps::MapSpec to_map_spec(const object::MapDefinition& d) {
  maps::MapSpec s;
  s.type = d.type;
  s.key_size = d.key_size;
  s.value_size = d.value_size;
  s.max_entries = d.max_entries;
  s.flags = d.flags;
  s.map_extra = d.map_extra;
  s.name = kernel_map_name(d.name);
  // libbpf sizes a perf event array with max_entries 0 to the number of CPUs.
  if (d.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && s.max_entries == 0) s.max_entries = maps::possible_cpus();
  return s;
}

constexpr uint32_t kFirstProgramId = 1u << 20;  // ids below are maps', above programs'

}  // namespace

UserObject::UserObject(std::shared_ptr<const object::BpfObject> object, const TargetOptions& options)
    : object_(std::move(object)), options_(options) {
  // Without the verifier's proof only checked mode keeps a program inside its memory.
  if (!options_.verify && !options_.checked)
    throw TargetError(object_->name() + ": unverified programs run only in checked mode");
  create_maps();
  const auto& defs = object_->programs();
  programs_.reserve(defs.size());
  if (options_.verify) {
    for (const object::ProgramDefinition& def : defs) {
      const verifier::VerifyResult v = verify_object_program(*object_, def, {}, &helpers::runtime_helpers());
      if (!v.ok) {
        throw TargetError(object_->name() + ": program '" + def.name + "' (section " + def.section +
                          ") was rejected by the verifier: " + v.message +
                          "\n(`bpfkit verify --log-level 1` shows the path; --unverified runs it checked instead)");
      }
    }
  }
  for (size_t i = 0; i < defs.size(); ++i) {
    std::vector<uint32_t> callbacks;
    std::vector<isa::RawInsn> insns = relocate(defs[i], &callbacks);
    programs_.push_back(std::make_unique<UserProgram>(*this, defs[i], std::move(insns), std::move(callbacks), options_,
                                                      kFirstProgramId + uint32_t(i)));
  }
  fill_initial_slots();
}

UserObject::~UserObject() = default;

void UserObject::create_maps() {
  const auto& defs = object_->maps();
  maps_.resize(defs.size());
  for (size_t i = 0; i < defs.size(); ++i) {
    const object::MapDefinition& d = defs[i];
    if (d.inner_template) continue;
    maps::MapSpec spec = to_map_spec(d);
    if (d.inner) spec.inner = std::make_shared<maps::MapSpec>(to_map_spec(defs.at(*d.inner)));
    std::unique_ptr<maps::Map> map;
    try {
      map = maps::create_map(spec);
    } catch (const maps::MapSpecError& e) {
      throw TargetError(object_->name() + ": map '" + d.name + "': " + e.what());
    }
    if (!d.initial_value.empty()) {
      const uint32_t zero = 0;
      std::vector<uint8_t> value = d.initial_value;
      value.resize(map->user_value_size());
      // .rodata is read-only for programs, not for the loader.
      if (int rc = map->update(&zero, value.data(), BPF_ANY); rc != 0) {
        throw TargetError(object_->name() + ": map '" + d.name + "': initial value refused (" +
                          std::to_string(rc) + ")");
      }
    }
    map_handles_.push_back(map.get());
    if (d.origin == object::MapOrigin::GlobalData || d.origin == object::MapOrigin::Kconfig) {
      const uint32_t zero = 0;
      void* value = map->lookup(&zero);
      global_regions_.push_back({reinterpret_cast<uint64_t>(value), d.value_size,
                                 (d.flags & BPF_F_RDONLY_PROG) == 0});
    }
    maps_[i] = std::make_unique<UserMap>(d, std::move(map), uint32_t(i + 1));
  }
  for (auto& m : maps_) {
    if (!m) continue;
    auto resolver = [this, type = m->definition().type](uint32_t id) {
      return resolve_id(id, type == BPF_MAP_TYPE_PROG_ARRAY);
    };
    if (auto* pa = dynamic_cast<maps::ProgArrayMap*>(&m->map())) pa->set_resolver(resolver);
    if (auto* mm = dynamic_cast<maps::MapOfMaps*>(&m->map())) mm->set_resolver(resolver);
  }
}

const void* UserObject::resolve_id(uint32_t id, bool want_program) const {
  if (want_program) {
    if (id < kFirstProgramId || id - kFirstProgramId >= programs_.size()) return nullptr;
    return programs_[id - kFirstProgramId].get();
  }
  if (id == 0 || id > maps_.size() || !maps_[id - 1]) return nullptr;
  return &maps_[id - 1]->map();
}

void UserObject::fill_initial_slots() {
  const auto& defs = object_->maps();
  for (size_t i = 0; i < defs.size(); ++i) {
    for (const object::MapInitialSlot& slot : defs[i].initial_slots) {
      int rc = -EINVAL;
      if (auto* pa = dynamic_cast<maps::ProgArrayMap*>(&maps_[i]->map());
          pa && slot.kind == object::MapInitialSlot::Kind::Program) {
        rc = pa->set(slot.index, programs_.at(slot.target).get(), kFirstProgramId + uint32_t(slot.target));
      } else if (auto* mm = dynamic_cast<maps::MapOfMaps*>(&maps_[i]->map());
                 mm && slot.kind == object::MapInitialSlot::Kind::Map && maps_.at(slot.target)) {
        rc = mm->set(&slot.index, &maps_[slot.target]->map(), uint32_t(slot.target + 1));
      }
      if (rc != 0) {
        throw TargetError(object_->name() + ": map '" + defs[i].name + "': cannot set .values[" +
                          std::to_string(slot.index) + "] (" + std::to_string(rc) + ")");
      }
    }
  }
}

std::vector<isa::RawInsn> UserObject::relocate(const object::ProgramDefinition& def,
                                              std::vector<uint32_t>* callbacks) const {
  std::vector<isa::RawInsn> insns = def.insns;
  auto fail = [&](size_t slot, const std::string& what) -> TargetError {
    std::string where = object_->name() + ": program '" + def.name + "', instruction " + std::to_string(slot);
    if (const object::SourceLine* line = def.line_of(slot)) {
      where += " (" + line->file + ":" + std::to_string(line->line) + ")";
    }
    return TargetError(where + ": " + what);
  };
  for (size_t i = 0; i + 1 < insns.size(); ++i) {
    isa::RawInsn& lo = insns[i];
    if (lo.opcode != (BPF_LD | BPF_IMM | BPF_DW)) continue;
    isa::RawInsn& hi = insns[i + 1];
    const auto pseudo = isa::Pseudo(lo.src);
    uint64_t value = 0;
    switch (pseudo) {
      case isa::Pseudo::Imm64:
        ++i;
        continue;
      case isa::Pseudo::MapIdx:
      case isa::Pseudo::MapIdxValue: {
        const size_t idx = uint32_t(lo.imm);
        if (idx >= maps_.size() || !maps_[idx]) throw fail(i, "references map #" + std::to_string(idx) + ", which the object does not create");
        maps::Map& map = maps_[idx]->map();
        if (pseudo == isa::Pseudo::MapIdx) {
          value = reinterpret_cast<uint64_t>(&map);
        } else {
          const uint32_t zero = 0, off = uint32_t(hi.imm);
          void* base = map.lookup(&zero);
          if (!base || off >= map.value_size()) {
            throw fail(i, "offset " + std::to_string(off) + " into map '" + map.name() + "' is out of its value");
          }
          value = reinterpret_cast<uint64_t>(base) + off;
        }
        break;
      }
      case isa::Pseudo::Func:
        // A callback: the engines' call_subprogram takes the slot it starts at.
        value = uint64_t(int64_t(i) + 1 + lo.imm);
        if (callbacks) callbacks->push_back(uint32_t(value));
        break;
      default:
        throw fail(i, "lddw with pseudo source " + std::to_string(lo.src) + " is not supported on the userspace target");
    }
    lo.src = 0;
    lo.imm = int32_t(uint32_t(value));
    hi.imm = int32_t(uint32_t(value >> 32));
    ++i;
  }
  // Narrow context loads read what the kernel's rewritten ones read (see ctx_narrow_loads.h).
  rewrite_narrow_ctx_loads(insns, def.def.prog_type, callbacks ? *callbacks : std::vector<uint32_t>{});
  return insns;
}

std::vector<ProgramHandle*> UserObject::programs() {
  std::vector<ProgramHandle*> out;
  for (auto& p : programs_) out.push_back(p.get());
  return out;
}

std::vector<MapHandle*> UserObject::maps() {
  std::vector<MapHandle*> out;
  for (auto& m : maps_) {
    if (m) out.push_back(m.get());
  }
  return out;
}

UserProgram* UserObject::user_program(std::string_view name) {
  for (auto& p : programs_) {
    if (p->definition().name == name || p->definition().section == name) return p.get();
  }
  return nullptr;
}

UserMap* UserObject::user_map(std::string_view name) {
  for (auto& m : maps_) {
    if (m && m->definition().name == name) return m.get();
  }
  return nullptr;
}

size_t UserMap::consume_ringbuf(const std::function<void(std::span<const uint8_t>)>& on_record) {
  auto* rb = dynamic_cast<maps::RingBufMap*>(map_.get());
  return rb ? rb->consume(on_record) : 0;
}

namespace {

class UserTarget : public Target {
 public:
  explicit UserTarget(TargetOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "user"; }
  std::unique_ptr<LoadedObject> load(std::shared_ptr<const object::BpfObject> object) override {
    return std::make_unique<UserObject>(std::move(object), options_);
  }

 private:
  TargetOptions options_;
};

}  // namespace
}  // namespace bpfkit::target::user

namespace bpfkit::target {

std::unique_ptr<Target> make_user_target(TargetOptions options) {
  return std::make_unique<user::UserTarget>(std::move(options));
}

}  // namespace bpfkit::target
