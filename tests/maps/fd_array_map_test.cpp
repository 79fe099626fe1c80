// Prog arrays and maps of maps: handles through a resolver, ids read back,
// the kernel's errnos, and inner maps checked against the template.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "maps/fd_array_map.h"
#include "maps/map.h"

namespace bpfkit::maps {
namespace {

template <typename T>
std::unique_ptr<T> make_as(const MapSpec& spec) {
  auto m = create_map(spec);
  auto* t = dynamic_cast<T*>(m.get());
  EXPECT_NE(t, nullptr) << map_type_name(spec.type);
  m.release();
  return std::unique_ptr<T>(t);
}

MapSpec with_inner(MapSpec outer, const MapSpec& inner) {
  outer.inner = std::make_shared<const MapSpec>(inner);
  return outer;
}

TEST(ProgArray, ResolverIdsAndErrnos) {
  auto pa = make_as<ProgArrayMap>(MapSpec{BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0, "jmp"});
  int prog_a = 0, prog_b = 0;
  pa->set_resolver([&](uint32_t id) -> const void* {
    return id == 10 ? &prog_a : id == 11 ? &prog_b : nullptr;
  });
  uint32_t k = 1, id = 10, out = 0;
  EXPECT_EQ(pa->program_at(1), nullptr);
  EXPECT_EQ(pa->lookup_user(&k, &out), -ENOENT);
  EXPECT_EQ(pa->update_user(&k, &id, BPF_NOEXIST), -EINVAL);
  ASSERT_EQ(pa->update_user(&k, &id, BPF_ANY), 0);
  EXPECT_EQ(pa->program_at(1), &prog_a);
  ASSERT_EQ(pa->lookup_user(&k, &out), 0);
  EXPECT_EQ(out, 10u);
  id = 11;
  ASSERT_EQ(pa->update_user(&k, &id, BPF_ANY), 0);  // replaces
  EXPECT_EQ(pa->program_at(1), &prog_b);
  id = 12;
  EXPECT_EQ(pa->update_user(&k, &id, BPF_ANY), -EBADF);
  EXPECT_EQ(pa->program_at(1), &prog_b);
  k = 4;
  id = 10;
  EXPECT_EQ(pa->update_user(&k, &id, BPF_ANY), -E2BIG);
  EXPECT_EQ(pa->delete_user(&k), -E2BIG);
  EXPECT_EQ(pa->program_at(4), nullptr);
  EXPECT_EQ(pa->program_at(uint64_t{1} << 32 | 1), nullptr);
  k = 1;
  EXPECT_EQ(pa->lookup(&k), nullptr) << "programs cannot read prog arrays";
  EXPECT_EQ(pa->delete_user(&k), 0);
  EXPECT_EQ(pa->delete_user(&k), -ENOENT);
  EXPECT_EQ(pa->program_at(1), nullptr);
  EXPECT_EQ(pa->set(3, &prog_a, 77), 0);
  EXPECT_EQ(pa->set(4, &prog_a, 77), -E2BIG);
  k = 3;
  ASSERT_EQ(pa->lookup_user(&k, &out), 0);
  EXPECT_EQ(out, 77u);
}

TEST(ArrayOfMaps, InnerMapsMustMatchTheTemplate) {
  MapSpec inner{BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, "inner"};
  auto outer = make_as<MapOfMaps>(with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, 0, "outer"}, inner));
  auto same = create_map(inner);
  auto other_size = create_map(MapSpec{BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0, 0, "bigger"});
  auto other_value = create_map(MapSpec{BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, 0, "wider"});
  auto other_type = create_map(MapSpec{BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 0, "hash"});
  std::map<uint32_t, Map*> ids = {{1, same.get()}, {2, other_size.get()}, {3, other_value.get()}, {4, other_type.get()}};
  outer->set_resolver([&](uint32_t id) -> const void* { return ids.count(id) ? ids[id] : nullptr; });
  uint32_t k = 0, id = 1, out = 0;
  EXPECT_EQ(outer->lookup(&k), nullptr);
  ASSERT_EQ(outer->update_user(&k, &id, BPF_ANY), 0);
  EXPECT_EQ(outer->lookup(&k), same.get()) << "programs get the inner map itself";
  ASSERT_EQ(outer->lookup_user(&k, &out), 0);
  EXPECT_EQ(out, 1u);
  for (uint32_t bad : {2u, 3u, 4u}) EXPECT_EQ(outer->update_user(&k, &bad, BPF_ANY), -EINVAL) << bad;
  id = 9;
  EXPECT_EQ(outer->update_user(&k, &id, BPF_ANY), -EBADF);
  id = 1;
  EXPECT_EQ(outer->update_user(&k, &id, BPF_EXIST), -EINVAL);
  k = 2;
  EXPECT_EQ(outer->update_user(&k, &id, BPF_ANY), -E2BIG);
  EXPECT_EQ(outer->lookup(&k), nullptr);
  EXPECT_EQ(outer->set(&k, same.get(), 1), -E2BIG);
  k = 1;
  EXPECT_EQ(outer->set(&k, other_type.get(), 4), -EINVAL);
  EXPECT_EQ(outer->set(&k, same.get(), 5), 0);
  ASSERT_EQ(outer->lookup_user(&k, &out), 0);
  EXPECT_EQ(out, 5u);
  EXPECT_EQ(outer->delete_user(&k), 0);
  EXPECT_EQ(outer->delete_user(&k), -ENOENT);
  EXPECT_EQ(outer->lookup_user(&k, &out), -ENOENT);
}

TEST(ArrayOfMaps, InnerMapFlagLetsArraySizesDiffer) {
  MapSpec inner{BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_INNER_MAP, 0, "inner"};
  auto outer = make_as<MapOfMaps>(with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, 0, ""}, inner));
  auto bigger = create_map(MapSpec{BPF_MAP_TYPE_ARRAY, 4, 8, 64, BPF_F_INNER_MAP, 0, ""});
  uint32_t k = 0;
  EXPECT_EQ(outer->set(&k, bigger.get(), 1), 0);
  // Other types never compare max_entries.
  MapSpec hash_inner{BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 0, ""};
  auto outer2 = make_as<MapOfMaps>(with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, 0, ""}, hash_inner));
  auto big_hash = create_map(MapSpec{BPF_MAP_TYPE_HASH, 4, 8, 1000, 0, 0, ""});
  EXPECT_EQ(outer2->set(&k, big_hash.get(), 1), 0);
  auto flagged = create_map(MapSpec{BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_NO_PREALLOC, 0, ""});
  EXPECT_EQ(outer2->set(&k, flagged.get(), 1), -EINVAL) << "flags must match";
}

TEST(HashOfMaps, FlagsKeysAndIteration) {
  MapSpec inner{BPF_MAP_TYPE_HASH, 8, 8, 16, 0, 0, ""};
  auto outer = make_as<MapOfMaps>(with_inner({BPF_MAP_TYPE_HASH_OF_MAPS, 8, 4, 2, 0, 0, "hom"}, inner));
  auto a = create_map(inner), b = create_map(inner);
  outer->set_resolver([&](uint32_t id) -> const void* { return id == 1 ? a.get() : id == 2 ? b.get() : nullptr; });
  uint64_t k1 = 100, k2 = 200, k3 = 300;
  uint32_t id = 1, out = 0;
  EXPECT_EQ(outer->update_user(&k1, &id, BPF_EXIST), -ENOENT);
  ASSERT_EQ(outer->update_user(&k1, &id, BPF_NOEXIST), 0);
  EXPECT_EQ(outer->update_user(&k1, &id, BPF_NOEXIST), -EEXIST);
  id = 2;
  ASSERT_EQ(outer->update_user(&k2, &id, BPF_ANY), 0);
  EXPECT_EQ(outer->update_user(&k3, &id, BPF_ANY), -E2BIG);
  id = 5;
  EXPECT_EQ(outer->update_user(&k3, &id, BPF_ANY), -EBADF) << "the fd is resolved before the map is full";
  EXPECT_EQ(outer->lookup(&k1), a.get());
  EXPECT_EQ(outer->lookup(&k2), b.get());
  EXPECT_EQ(outer->lookup(&k3), nullptr);
  ASSERT_EQ(outer->lookup_user(&k2, &out), 0);
  EXPECT_EQ(out, 2u);
  uint64_t first = 0, second = 0, third = 0;
  ASSERT_EQ(outer->get_next_key_user(nullptr, &first), 0);
  ASSERT_EQ(outer->get_next_key_user(&first, &second), 0);
  EXPECT_EQ(outer->get_next_key_user(&second, &third), -ENOENT);
  EXPECT_EQ(first + second, 300u);
  EXPECT_EQ(outer->delete_user(&k1), 0);
  EXPECT_EQ(outer->delete_user(&k1), -ENOENT);
  EXPECT_EQ(outer->lookup_and_delete_user(&k2, &out), -524);
}

TEST(MapOfMapsCreate, NeedsAUsableInnerTemplate) {
  auto errno_of = [](const MapSpec& s) {
    try {
      create_map(s);
    } catch (const MapSpecError& e) {
      return e.kernel_errno();
    }
    return 0;
  };
  MapSpec outer{BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, 0, ""};
  EXPECT_EQ(errno_of(outer), EINVAL) << "no inner map";
  EXPECT_EQ(errno_of(with_inner(outer, {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, ""})), 0);
  EXPECT_EQ(errno_of(with_inner(outer, {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0, ""})), 524);
  EXPECT_EQ(errno_of(with_inner(outer, with_inner(outer, {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, ""}))), EINVAL);
  EXPECT_EQ(errno_of(with_inner(outer, {BPF_MAP_TYPE_ARRAY, 4, 0, 4, 0, 0, ""})), EINVAL) << "bad inner spec";
  MapSpec wide = with_inner(outer, {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, ""});
  wide.value_size = 8;
  EXPECT_EQ(errno_of(wide), EINVAL);
  try {
    create_map(with_inner(outer, {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0, ""}));
    ADD_FAILURE() << "created";
  } catch (const MapSpecError& e) {
    EXPECT_NE(std::string(e.what()).find("inner"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bpfkit::maps
