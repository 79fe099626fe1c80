// Helpers that call back into the program: bpf_loop and bpf_for_each_map_elem. The
// callback argument holds the callback's instruction slot (the userspace target
// loads it there); the engine running the program provides env->call_subprogram.
#include <linux/bpf.h>

#include <vector>

#include "helpers/helper_support.h"

namespace bpfkit::helpers::detail {
namespace {

uint64_t neg(int err) { return uint64_t(int64_t(err)); }

constexpr uint64_t kMaxLoops = 1ull << 23;  // BPF_MAX_LOOPS

bool can_call_back(core::ExecEnv* env, std::string_view helper) {
  if (env->call_subprogram) return true;
  abort_run(env, helper, "the engine running this program cannot call a callback");
  return false;
}

// callback(index, ctx) for index in [0, nr_loops), until it returns non-zero.
// Returns the number of calls made.
uint64_t loop(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  const uint32_t nr_loops = uint32_t(r1);
  if (r4 != 0) return neg(-EINVAL);
  if (nr_loops > kMaxLoops) return neg(-E2BIG);
  if (!can_call_back(env, "loop")) return 0;
  for (uint32_t i = 0; i < nr_loops; ++i) {
    const uint64_t ret = env->call_subprogram(env, size_t(r2), i, r3, 0, 0, 0);
    if (env->abort) return 0;  // the callback stopped the run (a tail call or an error)
    if (ret) return uint64_t(i) + 1;
  }
  return nr_loops;
}

// callback(map, &key, value, ctx) for every element, until it returns non-zero.
// The keys are taken first, so that a callback deleting elements does not disturb
// the walk; elements gone by their turn are skipped. Returns the number of calls.
uint64_t for_each_map_elem(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r1, "for_each_map_elem");
  if (!m) return 0;
  if (r4 != 0) return neg(-EINVAL);
  switch (m->type()) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      break;
    default:
      abort_run(env, "for_each_map_elem",
                "map '" + m->name() + "' of type " + maps::map_type_name(m->type()) +
                    " cannot be iterated (arrays and hash maps can)");
      return 0;
  }
  if (!can_call_back(env, "for_each_map_elem")) return 0;
  const size_t ks = m->key_size();
  std::vector<uint8_t> keys;
  std::vector<uint8_t> key(ks), next(ks);
  for (int err = m->get_next_key(nullptr, next.data()); err == 0;
       err = m->get_next_key(key.data(), next.data())) {
    keys.insert(keys.end(), next.begin(), next.end());
    key = next;
  }
  const bool writable = !(m->flags() & BPF_F_RDONLY_PROG);
  uint64_t calls = 0;
  for (size_t off = 0; off < keys.size(); off += ks) {
    void* value = m->lookup(keys.data() + off);
    if (!value) continue;
    // The callback may read the key and read (write) the value in checked mode.
    const size_t region = env->regions.size();
    env->allow(reinterpret_cast<uint64_t>(keys.data() + off), ks, false);
    env->allow(reinterpret_cast<uint64_t>(value), m->value_size(), writable);
    const uint64_t ret =
        env->call_subprogram(env, size_t(r2), r1, reinterpret_cast<uint64_t>(keys.data() + off),
                             reinterpret_cast<uint64_t>(value), r3, 0);
    // The key buffer dies with this call: take its region back (the value stays valid).
    if (env->regions.size() > region) env->regions.erase(env->regions.begin() + ptrdiff_t(region));
    ++calls;
    if (env->abort) return 0;
    if (ret) break;
  }
  return calls;
}

}  // namespace

void add_callback_helpers(core::HelperTable& t) {
  using A = ArgKind;
  t.add({BPF_FUNC_loop, "loop",
         proto(RetKind::Integer, {A::Anything, A::PtrToFunc, A::PtrToStackOrNull, A::Anything}), loop});
  t.add({BPF_FUNC_for_each_map_elem, "for_each_map_elem",
         proto(RetKind::Integer, {A::ConstMapPtr, A::PtrToFunc, A::PtrToStackOrNull, A::Anything}),
         for_each_map_elem});
}

}  // namespace bpfkit::helpers::detail
