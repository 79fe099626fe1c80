// The seam between everything that uses eBPF (CLI, tools, language, apps) and
// where programs run: the userspace target (bpfkit's VM, maps and helpers) or
// the Linux target (bpf(2)). The same object loaded on both, given the same
// input, gives the same result; tests compare them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "object/bpf_object.h"

namespace bpfkit::target {

// Loading or running failed on a target: names the program or map.
class TargetError : public Error {
 public:
  using Error::Error;
};

struct TargetOptions {
  // Userspace target: the engine (JIT or interpreter), and checked mode: every
  // memory access bounds-checked at run time. Verified programs need no checks and
  // run without them, as the kernel runs its JIT's code; checked mode is for
  // unverified programs (and for debugging, --checked).
  bool jit = true;
  bool checked = false;
  // Userspace target: run the verifier on every program at load and refuse the
  // object when it rejects one (as BPF_PROG_LOAD does). false: --unverified, which
  // needs checked mode (the load refuses it otherwise).
  bool verify = true;
  // bpf_printk output; unset: stderr ("<comm>-<pid> [cpu] bpf_trace_printk: ..." lines on the Linux target come from trace_pipe).
  std::function<void(std::string_view)> on_printk;
  // Linux target: verifier log level for loads (0: only on failure).
  uint32_t log_level = 0;
  // Linux target: where maps declared with `__uint(pinning, LIBBPF_PIN_BY_NAME)` are pinned
  // (PIN_ROOT/NAME) and, when already there, reused (libbpf's pin_root_path).
  std::string pin_root = "/sys/fs/bpf";
};

// A run like BPF_PROG_TEST_RUN: data_in is the packet (packet programs), ctx_in
// the context (e.g. xdp_md with ingress_ifindex; or a raw_tracepoint's args).
struct TestRunRequest {
  std::vector<uint8_t> data_in;
  std::vector<uint8_t> ctx_in;
  uint32_t repeat = 1;
  uint32_t cpu = 0;
};

struct TestRunResult {
  uint32_t retval = 0;
  std::vector<uint8_t> data_out;  // the packet after the run
  std::vector<uint8_t> ctx_out;   // the context after the run (when ctx_in was given)
  uint64_t duration_ns = 0;       // average per run
};

// A map as user space sees it (BPF_MAP_*_ELEM semantics: values copied; per-CPU
// maps exchange all CPUs' values, each rounded up to 8 bytes). Return codes are 0
// or -errno, as the kernel's.
class MapHandle {
 public:
  virtual ~MapHandle() = default;
  virtual const object::MapDefinition& definition() const = 0;
  const std::string& name() const { return definition().name; }
  // Bytes of the value buffer lookup/update exchange.
  virtual size_t value_buffer_size() const = 0;
  virtual int lookup(const void* key, void* value) = 0;
  virtual int update(const void* key, const void* value, uint64_t flags) = 0;
  virtual int delete_elem(const void* key) = 0;
  virtual int get_next_key(const void* key, void* next_key) = 0;  // key nullptr: first
  // Ring buffer maps: delivers every available record; returns how many.
  virtual size_t consume_ringbuf(const std::function<void(std::span<const uint8_t>)>& on_record) = 0;
};

class ProgramHandle {
 public:
  virtual ~ProgramHandle() = default;
  virtual const object::ProgramDefinition& definition() const = 0;
  const std::string& name() const { return definition().name; }
  virtual TestRunResult test_run(const TestRunRequest& request) = 0;
};

class LoadedObject {
 public:
  virtual ~LoadedObject() = default;
  virtual const object::BpfObject& object() const = 0;
  virtual std::vector<ProgramHandle*> programs() = 0;
  virtual std::vector<MapHandle*> maps() = 0;  // in object().maps() order, inner templates excluded
  ProgramHandle* find_program(std::string_view name);
  MapHandle* find_map(std::string_view name);
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;  // "user" or "linux"
  // Creates the object's maps, relocates and loads every program. Throws TargetError.
  virtual std::unique_ptr<LoadedObject> load(std::shared_ptr<const object::BpfObject> object) = 0;
};

std::unique_ptr<Target> make_user_target(TargetOptions options = {});
std::unique_ptr<Target> make_linux_target(TargetOptions options = {});

}  // namespace bpfkit::target
