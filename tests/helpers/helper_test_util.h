// Shared by the helper tests: calling a helper through the runtime table, running a
// small assembled program on both engines, and a packet buffer laid out as the
// kernel's BPF_PROG_TEST_RUN lays it out (256 bytes of headroom, below 4 GiB).
#pragma once

#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/exec_env.h"
#include "helpers/runtime_helpers.h"
#include "isa/assembler.h"
#include "vm/engine.h"

namespace bpfkit::helpers::testing {

inline uint64_t call(int32_t id, core::ExecEnv& env, uint64_t r1 = 0, uint64_t r2 = 0, uint64_t r3 = 0,
                     uint64_t r4 = 0, uint64_t r5 = 0) {
  const core::HelperSpec* spec = runtime_helpers().find(id);
  EXPECT_NE(spec, nullptr) << "helper " << id;
  if (!spec) return 0;
  return spec->fn(r1, r2, r3, r4, r5, &env);
}

template <typename T>
uint64_t addr(T* p) {
  return reinterpret_cast<uint64_t>(p);
}
inline std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

inline core::ExecEnv runtime_env() {
  core::ExecEnv env;
  env.helpers = &runtime_helpers();
  return env;
}

enum class EngineKind { Interpreter, Jit };
inline std::string engine_name(const ::testing::TestParamInfo<EngineKind>& info) {
  return info.param == EngineKind::Interpreter ? "Interpreter" : "Jit";
}

// Assembles and runs `text` once (checked mode) with r1 = ctx.
inline uint64_t run_asm(EngineKind kind, const std::string& text, core::ExecEnv& env, uint64_t ctx = 0,
                        std::vector<uint32_t> callbacks = {}) {
  vm::Program program(isa::assemble(text), std::move(callbacks));
  auto engine = kind == EngineKind::Interpreter ? vm::make_interpreter(program) : vm::make_jit(program);
  env.ctx = ctx;
  return engine->run(ctx, 0, env);
}

// headroom | packet | tailroom, as test-run's XDP buffer: 256 bytes of headroom and
// room to grow the packet to `max_packet` bytes; an xdp_md-shaped context.
class TestPacket {
 public:
  static constexpr size_t kHeadroom = 256;
  explicit TestPacket(std::span<const uint8_t> bytes, uint32_t prog_type = BPF_PROG_TYPE_XDP,
                      size_t max_packet = 3520) {
    size_ = kHeadroom + max_packet;
    void* p =
        mmap(nullptr, size_ + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap below 4 GiB failed");
    base_ = static_cast<uint8_t*>(p);
    auto* md = reinterpret_cast<xdp_md*>(base_ + size_);
    state.head = base_;
    state.end = base_ + size_;
    state.data = state.meta = base_ + kHeadroom;
    std::memcpy(state.data, bytes.data(), bytes.size());
    state.data_end = state.data + bytes.size();
    state.prog_type = prog_type;
    state.ctx_data = &md->data;
    state.ctx_data_end = &md->data_end;
    state.ctx_data_meta = &md->data_meta;
    md->data = uint32_t(addr(state.data));
    md->data_end = uint32_t(addr(state.data_end));
    md->data_meta = uint32_t(addr(state.meta));
    ctx = md;
  }
  ~TestPacket() { munmap(base_, size_ + 4096); }
  TestPacket(const TestPacket&) = delete;
  TestPacket& operator=(const TestPacket&) = delete;

  std::vector<uint8_t> bytes() const { return {state.data, state.data_end}; }
  void attach(core::ExecEnv& env) {
    env.packet = &state;
    env.allow(addr(base_), size_, true);
    env.allow(addr(ctx), sizeof(xdp_md), true);
  }

  core::PacketState state;
  xdp_md* ctx = nullptr;

 private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bpfkit::helpers::testing
