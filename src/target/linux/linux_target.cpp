// The Linux target: an object's maps created with BPF_MAP_CREATE (global data
// filled and .rodata frozen, as libbpf does), its programs relocated onto the map
// file descriptors and loaded with BPF_PROG_LOAD, runs through BPF_PROG_TEST_RUN.
#include <linux/bpf.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>

#include "target/linux/attach_btf.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/kernel_btf.h"
#include "target/linux/kernel_objects.h"
#include "target/linux/linux_target.h"
#include "target/linux/ring_buffer.h"
#include "target/linux/test_run_ctx.h"
#include "target/target.h"

namespace bpfkit::target {

namespace {

using linux_kernel::BpfError;
using linux_kernel::UniqueFd;

long bpf(int cmd, bpf_attr& attr) { return syscall(__NR_bpf, cmd, &attr, sizeof(attr)); }

uint32_t possible_cpu_count() { return uint32_t(sysconf(_SC_NPROCESSORS_CONF)); }

// With btf_fd >= 0, the map carries its key and value types (what bpftool's formatted
// dumps use); a kernel that refuses them gets the map without, as libbpf retries.
UniqueFd create_kernel_map(const object::MapDefinition& d, int inner_fd, const std::string& where,
                           int btf_fd = -1) {
  bpf_attr attr{};
  attr.map_type = d.type;
  attr.key_size = d.key_size;
  attr.value_size = d.value_size;
  attr.max_entries = d.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && d.max_entries == 0 ? possible_cpu_count() : d.max_entries;
  attr.map_flags = d.flags;
  attr.map_extra = d.map_extra;
  attr.numa_node = d.numa_node;
  attr.inner_map_fd = inner_fd < 0 ? 0 : uint32_t(inner_fd);
  std::strncpy(attr.map_name, d.name.c_str(), BPF_OBJ_NAME_LEN - 1);
  for (char* c = attr.map_name; *c; ++c) {
    if (!isalnum(static_cast<unsigned char>(*c)) && *c != '_' && *c != '.') *c = '_';
  }
  if (btf_fd >= 0 && d.btf_value_type_id) {
    attr.btf_fd = uint32_t(btf_fd);
    attr.btf_key_type_id = d.btf_key_type_id;
    attr.btf_value_type_id = d.btf_value_type_id;
    if (const long fd = bpf(BPF_MAP_CREATE, attr); fd >= 0) return UniqueFd(int(fd));
    attr.btf_fd = attr.btf_key_type_id = attr.btf_value_type_id = 0;
  }
  const long fd = bpf(BPF_MAP_CREATE, attr);
  if (fd < 0) throw BpfError(where + ": BPF_MAP_CREATE failed", errno);
  return UniqueFd(int(fd));
}

class LinuxMap : public MapHandle {
 public:
  LinuxMap(const object::MapDefinition& def, UniqueFd fd) : def_(def), fd_(std::move(fd)) {}
  const object::MapDefinition& definition() const override { return def_; }
  size_t value_buffer_size() const override {
    switch (def_.type) {
      case BPF_MAP_TYPE_PERCPU_ARRAY:
      case BPF_MAP_TYPE_PERCPU_HASH:
      case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        return size_t(possible_cpu_count()) * ((def_.value_size + 7) & ~7u);
      default:
        return def_.value_size;
    }
  }
  int lookup(const void* key, void* value) override { return linux_kernel::map_lookup_elem(fd_.get(), key, value); }
  int update(const void* key, const void* value, uint64_t flags) override {
    return linux_kernel::map_update_elem(fd_.get(), key, value, flags);
  }
  int delete_elem(const void* key) override { return linux_kernel::map_delete_elem(fd_.get(), key); }
  int get_next_key(const void* key, void* next_key) override {
    return linux_kernel::map_get_next_key(fd_.get(), key, next_key);
  }
  size_t consume_ringbuf(const std::function<void(std::span<const uint8_t>)>& on_record) override {
    if (def_.type != BPF_MAP_TYPE_RINGBUF) return 0;
    if (!ring_) ring_ = std::make_unique<linux_kernel::RingReader>(fd_.get(), def_.name);
    return ring_->consume([&](std::span<const uint8_t> record) {
                   on_record(record);
                   return 0;
                 }).records;
  }
  int fd() const { return fd_.get(); }

 private:
  const object::MapDefinition& def_;
  UniqueFd fd_;
  std::unique_ptr<linux_kernel::RingReader> ring_;
};

class LinuxProgram : public ProgramHandle {
 public:
  LinuxProgram(const object::ProgramDefinition& def, UniqueFd fd) : def_(def), fd_(std::move(fd)) {}
  const object::ProgramDefinition& definition() const override { return def_; }
  TestRunResult test_run(const TestRunRequest& request) override {
    // Raw tracepoint runs (what runs BEGIN/END of a script) take no repeat and give no
    // context back: the kernel refuses either with EINVAL.
    const bool raw_tp = def_.def.prog_type == BPF_PROG_TYPE_RAW_TRACEPOINT;
    const auto r = linux_kernel::test_run_with_ctx(fd_.get(), request.data_in, request.ctx_in,
                                                   raw_tp ? 0 : request.ctx_in.size(),
                                                   raw_tp ? 0 : request.repeat == 0 ? 1 : request.repeat);
    return {r.retval, r.data_out, r.ctx_out, r.duration_ns};
  }
  int fd() const { return fd_.get(); }

 private:
  const object::ProgramDefinition& def_;
  UniqueFd fd_;
};

class LinuxObject : public LoadedObject {
 public:
  LinuxObject(std::shared_ptr<const object::BpfObject> obj, const TargetOptions& options)
      : object_(std::move(obj)), options_(options) {
    load_object_btf();
    create_maps();
    for (const object::ProgramDefinition& p : object_->programs()) load_program(p);
    fill_initial_slots();
  }
  const object::BpfObject& object() const override { return *object_; }
  const std::string& btf_error() const { return btf_error_; }
  int btf_fd() const { return btf_fd_.get(); }
  std::vector<ProgramHandle*> programs() override {
    std::vector<ProgramHandle*> out;
    for (auto& p : programs_) out.push_back(p.get());
    return out;
  }
  std::vector<MapHandle*> maps() override {
    std::vector<MapHandle*> out;
    for (auto& m : maps_) {
      if (m) out.push_back(m.get());
    }
    return out;
  }

 private:
  std::string map_where(const object::MapDefinition& d) const { return object_->name() + ": map '" + d.name + "'"; }

  // The object's BTF goes into the kernel first: maps name their key/value types in it,
  // programs their functions and source lines. Without it everything still loads (as
  // libbpf, which warns and goes on), only less legibly.
  void load_object_btf() {
    if (object_->btf_bytes().empty()) return;
    try {
      btf_fd_ = linux_kernel::load_btf(object_->btf_bytes());
      btf_strings_.emplace(object_->btf_bytes());
    } catch (const BpfError& e) {
      btf_error_ = object_->name() + ": the kernel refused the object's BTF, loading without it: " + e.what();
    }
  }

  void create_maps() {
    const auto& defs = object_->maps();
    maps_.resize(defs.size());
    for (size_t i = 0; i < defs.size(); ++i) {
      const object::MapDefinition& d = defs[i];
      if (d.inner_template) continue;
      UniqueFd inner;
      if (d.inner) inner = create_kernel_map(defs.at(*d.inner), -1, map_where(defs.at(*d.inner)), btf_fd_.get());
      const bool pinned = d.pinning == kPinByName;
      UniqueFd fd = pinned ? reuse_pinned_map(d) : UniqueFd();
      if (fd) {
        // A map pinned by an earlier load is shared as it is: not created, not refilled (libbpf).
        maps_[i] = std::make_unique<LinuxMap>(d, std::move(fd));
        continue;
      }
      fd = create_kernel_map(d, inner.get(), map_where(d), btf_fd_.get());
      if (!d.initial_value.empty()) {
        const uint32_t zero = 0;
        if (int rc = linux_kernel::map_update_elem(fd.get(), &zero, d.initial_value.data(), BPF_ANY)) {
          throw BpfError(map_where(d) + ": setting its initial value failed", -rc);
        }
        // libbpf freezes read-only global data, so the verifier may treat it as constant.
        if (d.flags & BPF_F_RDONLY_PROG) {
          bpf_attr attr{};
          attr.map_fd = uint32_t(fd.get());
          if (bpf(BPF_MAP_FREEZE, attr) < 0) throw BpfError(map_where(d) + ": BPF_MAP_FREEZE failed", errno);
        }
      }
      if (pinned) linux_kernel::pin_object(fd.get(), pin_path(d));
      maps_[i] = std::make_unique<LinuxMap>(d, std::move(fd));
    }
  }

  static constexpr uint32_t kPinByName = 1;  // LIBBPF_PIN_BY_NAME

  std::string pin_path(const object::MapDefinition& d) const { return options_.pin_root + "/" + d.name; }

  // The map pinned at PIN_ROOT/NAME, when there is one; it must match the definition.
  UniqueFd reuse_pinned_map(const object::MapDefinition& d) {
    const std::string path = pin_path(d);
    if (access(path.c_str(), F_OK) != 0) return UniqueFd();
    UniqueFd fd = linux_kernel::pinned_object(path);
    const linux_kernel::KernelMapInfo info = linux_kernel::map_info(fd.get());
    const bool same = info.type == d.type && info.key_size == d.key_size && info.value_size == d.value_size &&
                      info.max_entries == d.max_entries && info.flags == d.flags;
    if (!same) {
      throw TargetError(map_where(d) + ": the map pinned at " + path + " has a different definition (type " +
                        std::to_string(info.type) + ", key " + std::to_string(info.key_size) + ", value " +
                        std::to_string(info.value_size) + ", max_entries " + std::to_string(info.max_entries) +
                        "); remove the pin or rename the map");
    }
    return fd;
  }

  void load_program(const object::ProgramDefinition& p) {
    std::vector<isa::RawInsn> insns = p.insns;
    for (size_t i = 0; i + 1 < insns.size(); ++i) {
      isa::RawInsn& lo = insns[i];
      if (lo.opcode != (BPF_LD | BPF_IMM | BPF_DW)) continue;
      const auto pseudo = isa::Pseudo(lo.src);
      if (pseudo == isa::Pseudo::MapIdx || pseudo == isa::Pseudo::MapIdxValue) {
        const size_t idx = uint32_t(lo.imm);
        if (idx >= maps_.size() || !maps_[idx]) {
          throw TargetError(object_->name() + ": program '" + p.name + "', instruction " + std::to_string(i) +
                            ": references map #" + std::to_string(idx) + ", which the object does not create");
        }
        lo.src = uint8_t(pseudo == isa::Pseudo::MapIdx ? isa::Pseudo::MapFd : isa::Pseudo::MapValue);
        lo.imm = maps_[idx]->fd();
      }
      ++i;
    }
    linux_kernel::LoadOptions lo;
    lo.license = object_->license();
    lo.name = std::string_view(p.name).substr(0, BPF_OBJ_NAME_LEN - 1);
    lo.expected_attach_type = p.def.expected_attach_type;
    if (p.def.sleepable) lo.prog_flags |= BPF_F_SLEEPABLE;  // uprobe.s, lsm.s, fentry.s, ...
    lo.log_level = options_.log_level;
    // tp_btf / fentry / fexit / lsm name their hook by its BTF id in vmlinux.
    try {
      lo.attach_btf_id = linux_kernel::resolve_attach_btf_id(p.def);
    } catch (const Error& e) {
      throw TargetError(object_->name() + ": program '" + p.name + "' (section " + p.section + "): " + e.what());
    }
    linux_kernel::ProgramBtfInfo btf_info;
    if (btf_fd_) {
      btf_info = linux_kernel::program_btf_info(p, *btf_strings_);
      lo.prog_btf_fd = btf_fd_.get();
      lo.func_info = btf_info.funcs;
      lo.line_info = btf_info.lines;
    }
    std::string log;
    if (options_.log_level) lo.log = &log;
    try {
      programs_.push_back(std::make_unique<LinuxProgram>(
          p, linux_kernel::load_program(static_cast<bpf_prog_type>(p.def.prog_type), insns, lo)));
    } catch (const BpfError& e) {
      std::string why = "the kernel refused it: " + linux_kernel::describe_bpf_errno(e.error_number());
      if (const std::string known = linux_kernel::explain_load_refusal(p.def, e.error_number()); !known.empty())
        why += ": " + known;
      throw linux_kernel::ProgramLoadError(
          p.name, object_->name() + ": program '" + p.name + "' (section " + p.section + "): " + why,
          e.error_number(), e.verifier_log());
    }
  }

  void fill_initial_slots() {
    const auto& defs = object_->maps();
    for (size_t i = 0; i < defs.size(); ++i) {
      for (const object::MapInitialSlot& slot : defs[i].initial_slots) {
        const int fd = slot.kind == object::MapInitialSlot::Kind::Program ? programs_.at(slot.target)->fd()
                                                                          : maps_.at(slot.target)->fd();
        uint32_t value = uint32_t(fd);
        if (int rc = maps_[i]->update(&slot.index, &value, BPF_ANY)) {
          throw BpfError(map_where(defs[i]) + ": setting .values[" + std::to_string(slot.index) + "] failed", -rc);
        }
      }
    }
  }

  std::shared_ptr<const object::BpfObject> object_;
  TargetOptions options_;
  UniqueFd btf_fd_;
  std::optional<linux_kernel::BtfStrings> btf_strings_;
  std::string btf_error_;
  std::vector<std::unique_ptr<LinuxMap>> maps_;
  std::vector<std::unique_ptr<LinuxProgram>> programs_;
};

class LinuxTarget : public Target {
 public:
  explicit LinuxTarget(TargetOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "linux"; }
  std::unique_ptr<LoadedObject> load(std::shared_ptr<const object::BpfObject> object) override {
    return std::make_unique<LinuxObject>(std::move(object), options_);
  }

 private:
  TargetOptions options_;
};

}  // namespace

int linux_kernel::program_fd(const ProgramHandle& program) {
  const auto* p = dynamic_cast<const LinuxProgram*>(&program);
  return p ? p->fd() : -1;
}

int linux_kernel::map_fd(const MapHandle& map) {
  const auto* m = dynamic_cast<const LinuxMap*>(&map);
  return m ? m->fd() : -1;
}

std::string linux_kernel::btf_load_error(const LoadedObject& object) {
  const auto* o = dynamic_cast<const LinuxObject*>(&object);
  return o ? o->btf_error() : std::string();
}

int linux_kernel::btf_fd(const LoadedObject& object) {
  const auto* o = dynamic_cast<const LinuxObject*>(&object);
  return o ? o->btf_fd() : -1;
}

std::unique_ptr<Target> make_linux_target(TargetOptions options) {
  return std::make_unique<LinuxTarget>(std::move(options));
}

}  // namespace bpfkit::target
