// The context of a packet program on the userspace target, built the way the
// kernel's BPF_PROG_TEST_RUN builds it: a buffer below 4 GiB (the UAPI context
// holds 32-bit packet pointers) with XDP_PACKET_HEADROOM bytes of headroom, the
// packet, and tailroom; the context struct (xdp_md, __sk_buff) filled from the
// packet and from an optional ctx_in, as the kernel fills it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/error.h"
#include "core/exec_env.h"

namespace bpfkit::core {

class PacketContext {
 public:
  // For xdp, sched_cls, sched_act, socket_filter, cgroup_skb, lwt_*: throws Error otherwise.
  explicit PacketContext(uint32_t prog_type, size_t max_packet = 9216);
  ~PacketContext();
  PacketContext(const PacketContext&) = delete;
  PacketContext& operator=(const PacketContext&) = delete;

  static bool supports(uint32_t prog_type);

  // Resets the buffer to `packet` and the context to its defaults or to `ctx_in`
  // (checked as the kernel checks ctx_in: Error naming the field it refuses).
  // Cheap: meant to run once per packet (XDP without ctx_in: a few stores and the copy).
  void reset(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in = {}) {
    if (xdp_ && ctx_in.empty() && packet.size() >= kMinPacket && packet.size() <= max_packet_) [[likely]] {
      reset_xdp_plain(packet);
    } else {
      reset_checked(packet, ctx_in);
    }
  }

  // Both fixed for the context's life; inline because a run reads them per packet.
  uint64_t ctx() const { return ctx_; }         // r1 for the run
  PacketState& state() { return *state_; }      // ExecEnv::packet
  const PacketState& state() const { return *state_; }
  // Grants the context and the whole buffer in checked mode.
  void add_regions(ExecEnv& env) const;
  // After the run: the packet ([data, data_end)) and the context as
  // BPF_PROG_TEST_RUN returns them (ctx_out).
  std::span<const uint8_t> packet_out() const;
  std::vector<uint8_t> ctx_out() const;

 private:
  static constexpr size_t kMinPacket = 14;  // ETH_HLEN: the kernel refuses shorter data
  void reset_xdp_plain(std::span<const uint8_t> packet);
  void reset_checked(std::span<const uint8_t> packet, std::span<const uint8_t> ctx_in);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t ctx_ = 0;
  PacketState* state_ = nullptr;
  bool xdp_ = false;
  size_t max_packet_ = 0;
};

}  // namespace bpfkit::core
