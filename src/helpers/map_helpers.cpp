// bpf_map_lookup_elem / update / delete and the queue/stack/bloom trio push / pop / peek.
#include <linux/bpf.h>

#include <algorithm>

#include "helpers/helper_support.h"

namespace bpfkit::helpers::detail {
namespace {

bool is_map_of_maps(const maps::Map& m) {
  return m.type() == BPF_MAP_TYPE_ARRAY_OF_MAPS || m.type() == BPF_MAP_TYPE_HASH_OF_MAPS;
}

// The verifier refuses program writes to a BPF_F_RDONLY_PROG map; an unverified
// program that tries one is stopped here instead.
bool writable_or_abort(core::ExecEnv* env, const maps::Map& m, std::string_view helper) {
  if (!(m.flags() & BPF_F_RDONLY_PROG)) return true;
  abort_run(env, helper, "map '" + m.name() + "' is read-only for programs (BPF_F_RDONLY_PROG)");
  return false;
}

uint64_t map_lookup_elem(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r1, "map_lookup_elem");
  if (!m) return 0;
  void* value = m->lookup(reinterpret_cast<const void*>(r2));
  if (!value) return 0;
  if (is_map_of_maps(*m)) {
    // The inner map becomes a map this program may pass on to map helpers.
    const void* inner = value;
    if (std::find(env->maps.begin(), env->maps.end(), inner) == env->maps.end()) env->maps.push_back(inner);
  } else {
    env->allow(reinterpret_cast<uint64_t>(value), m->value_size(), !(m->flags() & BPF_F_RDONLY_PROG));
  }
  return reinterpret_cast<uint64_t>(value);
}

uint64_t map_update_elem(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r1, "map_update_elem");
  if (!m || !writable_or_abort(env, *m, "map_update_elem")) return 0;
  return uint64_t(
      int64_t(m->update(reinterpret_cast<const void*>(r2), reinterpret_cast<const void*>(r3), r4)));
}

uint64_t map_delete_elem(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r1, "map_delete_elem");
  if (!m || !writable_or_abort(env, *m, "map_delete_elem")) return 0;
  return uint64_t(int64_t(m->delete_elem(reinterpret_cast<const void*>(r2))));
}

uint64_t map_push_elem(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r1, "map_push_elem");
  if (!m || !writable_or_abort(env, *m, "map_push_elem")) return 0;
  return uint64_t(int64_t(m->push(reinterpret_cast<const void*>(r2), r3)));
}

uint64_t map_pop_elem(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r1, "map_pop_elem");
  if (!m || !writable_or_abort(env, *m, "map_pop_elem")) return 0;
  return uint64_t(int64_t(m->pop(reinterpret_cast<void*>(r2))));
}

uint64_t map_peek_elem(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  maps::Map* m = map_arg(env, r1, "map_peek_elem");
  if (!m) return 0;
  return uint64_t(int64_t(m->peek(reinterpret_cast<void*>(r2))));
}

// A handle in ExecEnv::maps is a maps::Map: what checked mode sizes keys and values with.
core::MapSizes map_sizes(const void* handle) {
  const auto* m = static_cast<const maps::Map*>(handle);
  return {m->key_size(), m->value_size()};
}

}  // namespace

void add_map_helpers(core::HelperTable& t) {
  using A = ArgKind;
  t.set_map_sizes(map_sizes);
  t.add({BPF_FUNC_map_lookup_elem, "map_lookup_elem",
         proto(RetKind::PtrToMapValueOrNull, {A::ConstMapPtr, A::PtrToMapKey}), map_lookup_elem});
  t.add({BPF_FUNC_map_update_elem, "map_update_elem",
         proto(RetKind::Integer, {A::ConstMapPtr, A::PtrToMapKey, A::PtrToMapValue, A::Anything}),
         map_update_elem});
  t.add({BPF_FUNC_map_delete_elem, "map_delete_elem",
         proto(RetKind::Integer, {A::ConstMapPtr, A::PtrToMapKey}), map_delete_elem});
  t.add({BPF_FUNC_map_push_elem, "map_push_elem",
         proto(RetKind::Integer, {A::ConstMapPtr, A::PtrToMapValue, A::Anything}), map_push_elem});
  t.add({BPF_FUNC_map_pop_elem, "map_pop_elem",
         proto(RetKind::Integer, {A::ConstMapPtr, A::PtrToUninitMapValue}), map_pop_elem});
  t.add({BPF_FUNC_map_peek_elem, "map_peek_elem",
         proto(RetKind::Integer, {A::ConstMapPtr, A::PtrToUninitMapValue}), map_peek_elem});
}

}  // namespace bpfkit::helpers::detail
