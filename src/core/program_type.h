// The program-type table: for every program type bpfkit knows, its context layout
// (which fields a program may read or write, and which hold packet pointers), the
// helpers it may call and the range its return value must lie in. The verifier
// checks programs against it; the targets build contexts from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfkit::core {

// What a context field holds.
enum class CtxFieldKind : uint8_t {
  Scalar,      // a number
  PacketData,  // 32-bit copy of the packet start (xdp_md.data, __sk_buff.data)
  PacketEnd,   // 32-bit copy of the packet end
  PacketMeta,  // 32-bit copy of the metadata start
  Socket,      // 64-bit pointer to a socket or nullptr (__sk_buff.sk); read-only
};

struct CtxField {
  std::string name;
  uint32_t offset = 0, size = 0;
  CtxFieldKind kind = CtxFieldKind::Scalar;
  bool writable = false;
  // Narrower loads the kernel accepts (e.g. a 1-byte load of a u32 field); 0: only `size`.
  bool narrow_reads = false;
  // Narrower (and, inside the field, wider) aligned stores too: __sk_buff.cb[], which the
  // table holds as one 20-byte field because the kernel lets an 8-byte access span cb[0..1].
  bool narrow_writes = false;
  // The size of the kernel's own field behind this one when it is narrower (protocol: a
  // __be16, pkt_type: 3 bits in a byte). The kernel rewrites a narrow load of at least
  // that size into a load of the whole kernel field, whatever the load's offset: a u16
  // load at protocol+2 reads the protocol, not 0. 0: the same as `size`.
  uint32_t kernel_size = 0;
  // Set: only programs loaded with this expected_attach_type see the field
  // (xdp_md.egress_ifindex: BPF_XDP_DEVMAP).
  std::optional<uint32_t> attach_type;
};

struct ReturnRange {
  int64_t min = 0, max = 0;
};

struct ProgramTypeInfo {
  uint32_t type = 0;       // bpf_prog_type
  std::string name;        // "xdp", "sched_cls", "tracepoint", ... as bpftool names them
  std::string ctx_struct;  // "xdp_md", "__sk_buff", "pt_regs", ... ("" when the layout is per attach point)
  uint32_t ctx_size = 0;   // 0: variable (tracepoint: from its format file)
  std::vector<CtxField> ctx_fields;  // empty when any in-bounds read is allowed (tracepoint, raw_tracepoint)
  bool ctx_writable_any = false;
  std::optional<ReturnRange> ret;  // nullopt: any value
  bool packet = false;             // runs on packets (data/data_end in its context)
  bool kernel_test_run = false;    // BPF_PROG_TEST_RUN supports it
  std::vector<int32_t> helpers;    // helper ids it may call, sorted
  // Where ctx_fields is empty: the first readable byte (tracepoint: 8, the common fields are
  // hidden) and the alignment every access needs beyond its own size (tracing: 8).
  uint32_t ctx_read_begin = 0;
  uint32_t ctx_align = 0;
  uint32_t load_flags = 0;  // prog_flags the kernel requires at load (syscall: BPF_F_SLEEPABLE)

  bool allows_helper(int32_t id) const;
  const CtxField* field_at(uint32_t offset) const;  // the field containing byte `offset`
  // Whether the kernel's is_valid_access accepts a `size`-byte load (store when `write`) at
  // `offset` of the context. `ctx_size_hint` bounds variable contexts (a tracepoint's record);
  // 0: the type's own bound.
  bool ctx_access_ok(uint32_t offset, uint32_t size, bool write, uint32_t ctx_size_hint = 0,
                     uint32_t expected_attach_type = 0) const;
  // The range the verifier enforces for programs loaded with `expected_attach_type`
  // (cgroup_skb egress allows 0..3, tracing's fentry/fexit must return 0, tp_btf anything).
  std::optional<ReturnRange> return_range(uint32_t expected_attach_type) const;
};

// Every program type bpfkit knows, and lookup by type id or name.
const std::vector<ProgramTypeInfo>& program_types();
const ProgramTypeInfo* find_program_type(uint32_t type);
const ProgramTypeInfo* find_program_type(std::string_view name);

}  // namespace bpfkit::core
