// Output to user space and tail calls: bpf_ringbuf_output / reserve / submit /
// discard / query, bpf_perf_event_output, bpf_tail_call.
#include <linux/bpf.h>

#include <cstring>
#include <vector>

#include "helpers/helper_support.h"
#include "maps/fd_array_map.h"
#include "maps/perf_event_array_map.h"
#include "maps/ringbuf_map.h"

namespace bpfkit::helpers::detail {
namespace {

uint64_t neg(int err) { return uint64_t(int64_t(err)); }

// The map argument, which must also be of `type` (the verifier's check, made at run time).
maps::Map* typed_map(core::ExecEnv* env, uint64_t reg, uint32_t type, std::string_view helper) {
  maps::Map* m = map_arg(env, reg, helper);
  if (m && m->type() != type) {
    abort_run(env, helper,
              "map '" + m->name() + "' is a " + maps::map_type_name(m->type()) + " map, not a " +
                  maps::map_type_name(type) + " map");
    return nullptr;
  }
  return m;
}

maps::RingBufMap* ringbuf(core::ExecEnv* env, uint64_t reg, std::string_view helper) {
  return static_cast<maps::RingBufMap*>(typed_map(env, reg, BPF_MAP_TYPE_RINGBUF, helper));
}

uint64_t ringbuf_output(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::RingBufMap* rb = ringbuf(env, r1, "ringbuf_output");
  if (!rb) return 0;
  return neg(rb->output(reinterpret_cast<const void*>(r2), r3, r4));
}

// A writable record, granted to the program in checked mode, or NULL.
uint64_t ringbuf_reserve(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::RingBufMap* rb = ringbuf(env, r1, "ringbuf_reserve");
  if (!rb) return 0;
  void* record = rb->reserve(r2, r3);
  if (record) env->allow(reinterpret_cast<uint64_t>(record), r2, true);
  return reinterpret_cast<uint64_t>(record);
}

// The ring buffer of the program's that holds `sample`, or nullptr after aborting.
maps::RingBufMap* owner_of(core::ExecEnv* env, uint64_t sample, std::string_view helper) {
  for (const void* handle : env->maps) {
    auto* m = static_cast<maps::Map*>(const_cast<void*>(handle));
    if (m->type() != BPF_MAP_TYPE_RINGBUF) continue;
    auto* rb = static_cast<maps::RingBufMap*>(m);
    if (rb->owns(reinterpret_cast<const void*>(sample))) return rb;
  }
  abort_run(env, helper, "argument 1 is not a record reserved from one of this program's ring buffers");
  return nullptr;
}

uint64_t ringbuf_submit(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  if (maps::RingBufMap* rb = owner_of(env, r1, "ringbuf_submit")) rb->submit(reinterpret_cast<void*>(r1), r2);
  return 0;
}

uint64_t ringbuf_discard(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  if (maps::RingBufMap* rb = owner_of(env, r1, "ringbuf_discard"))
    rb->discard(reinterpret_cast<void*>(r1), r2);
  return 0;
}

uint64_t ringbuf_query(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::RingBufMap* rb = ringbuf(env, r1, "ringbuf_query");
  return rb ? rb->query(r2) : 0;
}

// perf_event_output(ctx, map, flags, data, size). Packet programs may append the
// packet's first bytes (flags' BPF_F_CTXLEN_MASK) to the sample, as the kernel's
// skb and xdp variants do.
uint64_t perf_event_output(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  auto* m = static_cast<maps::PerfEventArrayMap*>(
      typed_map(env, r2, BPF_MAP_TYPE_PERF_EVENT_ARRAY, "perf_event_output"));
  if (!m) return 0;
  const uint64_t flags = r3;
  const core::PacketState* p = env->packet;
  const uint64_t allowed = uint64_t(BPF_F_INDEX_MASK) | (p ? uint64_t(BPF_F_CTXLEN_MASK) : 0);
  if (flags & ~allowed) return neg(-EINVAL);
  const uint64_t ctx_len = (flags & BPF_F_CTXLEN_MASK) >> 32;
  if (ctx_len == 0)
    return neg(m->output(flags & BPF_F_INDEX_MASK, reinterpret_cast<const void*>(r4), r5, env->cpu));
  if (!p || ctx_len > uint64_t(p->data_end - p->data)) return neg(-EFAULT);
  std::vector<uint8_t> sample(r5 + ctx_len);
  if (r5) std::memcpy(sample.data(), reinterpret_cast<const void*>(r4), r5);
  std::memcpy(sample.data() + r5, p->data, ctx_len);
  return neg(m->output(flags & BPF_F_INDEX_MASK, sample.data(), sample.size(), env->cpu));
}

constexpr uint32_t kMaxTailCalls = 33;  // MAX_TAIL_CALL_CNT

// On success the run stops (abort, no reason) and the runner starts env->tail_call
// with the same context. On failure the program goes on; this returns -ENOENT
// (the kernel's tail call leaves r0 undefined there). As in the kernel's JIT, a
// call through an empty slot still counts against the limit.
uint64_t tail_call(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  auto* m = static_cast<maps::ProgArrayMap*>(typed_map(env, r2, BPF_MAP_TYPE_PROG_ARRAY, "tail_call"));
  if (!m) return 0;
  const uint32_t index = uint32_t(r3);
  if (index >= m->max_entries()) return neg(-ENOENT);
  if (env->tail_call_count >= kMaxTailCalls) return neg(-ENOENT);
  ++env->tail_call_count;
  const void* prog = m->program_at(index);
  if (!prog) return neg(-ENOENT);
  env->tail_call = prog;
  env->abort = true;
  env->abort_reason.clear();
  return 0;
}

}  // namespace

void add_ringbuf_helpers(core::HelperTable& t) {
  using A = ArgKind;
  t.add({BPF_FUNC_ringbuf_output, "ringbuf_output",
         proto(RetKind::Integer, {A::ConstMapPtr, A::PtrToMem, A::ConstSizeOrZero, A::Anything}),
         ringbuf_output});
  t.add({BPF_FUNC_ringbuf_reserve, "ringbuf_reserve",
         proto(RetKind::PtrToAllocMemOrNull, {A::ConstMapPtr, A::ConstAllocSizeOrZero, A::Anything}),
         ringbuf_reserve});
  t.add({BPF_FUNC_ringbuf_submit, "ringbuf_submit", proto(RetKind::Void, {A::PtrToAllocMem, A::Anything}),
         ringbuf_submit});
  t.add({BPF_FUNC_ringbuf_discard, "ringbuf_discard", proto(RetKind::Void, {A::PtrToAllocMem, A::Anything}),
         ringbuf_discard});
  t.add({BPF_FUNC_ringbuf_query, "ringbuf_query", proto(RetKind::Integer, {A::ConstMapPtr, A::Anything}),
         ringbuf_query});
  t.add({BPF_FUNC_perf_event_output, "perf_event_output",
         proto(RetKind::Integer, {A::PtrToCtx, A::ConstMapPtr, A::Anything, A::PtrToMem, A::ConstSizeOrZero}),
         perf_event_output});
  t.add({BPF_FUNC_tail_call, "tail_call", proto(RetKind::Void, {A::PtrToCtx, A::ConstMapPtr, A::Anything}),
         tail_call});
}

}  // namespace bpfkit::helpers::detail
