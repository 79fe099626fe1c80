// The userspace target: an object's maps created in bpfkit's maps layer, its
// programs relocated onto them (an lddw of a map loads the Map*, of global data
// the value's address) and run by the interpreter or the JIT with the runtime
// helpers. Packet programs get a context built as BPF_PROG_TEST_RUN builds it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/exec_env.h"
#include "core/packet_context.h"
#include "maps/map.h"
#include "target/target.h"
#include "vm/engine.h"

namespace bpfkit::target::user {

class UserObject;

class UserMap : public MapHandle {
 public:
  UserMap(const object::MapDefinition& def, std::unique_ptr<maps::Map> map, uint32_t id)
      : def_(def), map_(std::move(map)), id_(id) {}
  const object::MapDefinition& definition() const override { return def_; }
  size_t value_buffer_size() const override { return map_->user_value_size(); }
  int lookup(const void* key, void* value) override { return map_->lookup_user(key, value); }
  int update(const void* key, const void* value, uint64_t flags) override {
    return map_->update_user(key, value, flags);
  }
  int delete_elem(const void* key) override { return map_->delete_user(key); }
  int get_next_key(const void* key, void* next_key) override { return map_->get_next_key_user(key, next_key); }
  size_t consume_ringbuf(const std::function<void(std::span<const uint8_t>)>& on_record) override;

  maps::Map& map() { return *map_; }
  uint32_t id() const { return id_; }

 private:
  const object::MapDefinition& def_;
  std::unique_ptr<maps::Map> map_;
  uint32_t id_;
};

// One loaded program. run_packet/run_context are the hot paths (no allocation);
// test_run is BPF_PROG_TEST_RUN on top of them.
class UserProgram : public ProgramHandle {
 public:
  UserProgram(UserObject& owner, const object::ProgramDefinition& def, std::vector<isa::RawInsn> insns,
              std::vector<uint32_t> callbacks, const TargetOptions& options, uint32_t id);
  ~UserProgram() override;

  const object::ProgramDefinition& definition() const override { return def_; }
  TestRunResult test_run(const TestRunRequest& request) override;

  // Runs once on `packet` (packet program types). The packet after the run is
  // packet_out() until the next run. Throws vm::RuntimeError naming the
  // instruction (and its C source line when the object has line info).
  uint32_t run_packet(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in = {});
  std::span<const uint8_t> packet_out() const;
  const core::PacketState& packet_state() const;
  // Runs once with a context of its own (trace types): `ctx` is copied into the
  // context buffer, which the program may read (and write where its type allows).
  uint64_t run_context(std::span<const uint8_t> ctx);
  std::span<const uint8_t> context_out() const { return ctx_buffer_; }

  // The task trace helpers report (get_current_pid_tgid, ...); nullopt: the calling thread.
  void set_task(std::optional<core::TaskIdentity> task);

  const vm::Program& program() const { return program_; }
  uint32_t id() const { return id_; }
  bool is_packet_program() const { return packet_ != nullptr; }

 private:
  uint64_t run_with_tail_calls(uint64_t ctx);
  void reset_env(uint64_t ctx);
  [[noreturn]] void rethrow_located(const std::exception& e, const UserProgram& where) const;

  UserObject& owner_;
  const object::ProgramDefinition& def_;
  vm::Program program_;
  std::unique_ptr<vm::Engine> engine_;
  std::unique_ptr<core::PacketContext> packet_;
  std::vector<uint8_t> ctx_buffer_;
  core::ExecEnv env_;
  std::optional<core::TaskIdentity> task_;
  size_t base_regions_ = 0;
  uint32_t id_;
};

class UserObject : public LoadedObject {
 public:
  UserObject(std::shared_ptr<const object::BpfObject> object, const TargetOptions& options);
  ~UserObject() override;

  const object::BpfObject& object() const override { return *object_; }
  std::vector<ProgramHandle*> programs() override;
  std::vector<MapHandle*> maps() override;
  UserProgram* user_program(std::string_view name);
  UserMap* user_map(std::string_view name);

  // What every run of this object's programs may use: the maps' handles, and
  // (checked mode) the global data regions.
  const std::vector<const void*>& map_handles() const { return map_handles_; }
  const std::vector<core::MemoryRegion>& global_regions() const { return global_regions_; }
  const TargetOptions& options() const { return options_; }

 private:
  // Map references become pointers; callback references their slot (collected in `callbacks`).
  std::vector<isa::RawInsn> relocate(const object::ProgramDefinition& def, std::vector<uint32_t>* callbacks) const;
  void create_maps();
  void fill_initial_slots();
  const void* resolve_id(uint32_t id, bool want_program) const;

  std::shared_ptr<const object::BpfObject> object_;
  TargetOptions options_;
  std::vector<std::unique_ptr<UserMap>> maps_;        // index = object map index (nullptr: inner template)
  std::vector<std::unique_ptr<UserProgram>> programs_;
  std::vector<const void*> map_handles_;
  std::vector<core::MemoryRegion> global_regions_;
};

}  // namespace bpfkit::target::user
