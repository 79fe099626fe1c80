// The new map types against the running kernel: BPF_MAP_CREATE's errnos for
// ringbuf, perf_event_array, prog_array and maps of maps; their user-space element
// commands; and the ring buffer's semantics, where a kernel program and
// RingBufMap run the same sequence of output / reserve / submit / discard /
// query and must agree on every return code, position and delivered record.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "maps/fd_array_map.h"
#include "maps/map.h"
#include "maps/ringbuf_map.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::target::linux_kernel {
namespace {

using kernel_test::KernelTest;
using maps::MapSpec;

class NewMapTypesKernel : public KernelTest {};

std::shared_ptr<const MapSpec> inner(MapSpec s) { return std::make_shared<const MapSpec>(std::move(s)); }

MapSpec with_inner(MapSpec outer, MapSpec in) {
  outer.inner = inner(std::move(in));
  return outer;
}

std::string describe(const MapSpec& s) {
  std::ostringstream o;
  o << maps::map_type_name(s.type) << " key " << s.key_size << " value " << s.value_size << " max "
    << s.max_entries << " flags 0x" << std::hex << s.flags << std::dec << " extra " << s.map_extra;
  if (s.inner) o << " inner {" << describe(*s.inner) << "}";
  return o.str();
}

TEST_F(NewMapTypesKernel, CreateErrnosMatchTheKernel) {
  const uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  const MapSpec arr{BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, ""};
  const MapSpec aom{BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, 0, 0, ""};
  const MapSpec hom{BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 4, 0, 0, ""};
  std::vector<MapSpec> specs = {
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page, 0, 0, "rb"},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, 4 * page, 0, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, 0, 0, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page - 1, 0, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, 3 * page, 0, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page / 2, 0, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 4, 0, page, 0, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 4, page, 0, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page, BPF_F_RDONLY_PROG, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page, BPF_F_RDONLY, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page, BPF_F_MMAPABLE, 0, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page, 0, 1, ""},
      {BPF_MAP_TYPE_RINGBUF, 0, 0, page, 0, 0, "bad name"},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, 0, 0, "events"},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 0, 4, 0, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 8, 4, 4, 0, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_PRESERVE_ELEMS, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_MMAPABLE, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_INNER_MAP, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_RDONLY_PROG, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_RDONLY, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_NO_PREALLOC, 0, ""},
      {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_NUMA_NODE, 0, ""},
      {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0, "jmp"},
      {BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 4, 0, 0, ""},
      {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 0, 0, 0, ""},
      {BPF_MAP_TYPE_PROG_ARRAY, 0, 4, 4, 0, 0, ""},
      {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPF_F_PRESERVE_ELEMS, 0, ""},
      {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPF_F_WRONLY_PROG, 0, ""},
      {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPF_F_WRONLY, 0, ""},
      {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPF_F_RDONLY | BPF_F_WRONLY, 0, ""},
      with_inner(aom, arr),
      with_inner(aom, {BPF_MAP_TYPE_HASH, 8, 16, 10, 0, 0, ""}),
      with_inner(aom, {BPF_MAP_TYPE_RINGBUF, 0, 0, page, 0, 0, ""}),
      with_inner(aom, {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0, 0, ""}),
      with_inner(aom, {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0, 0, ""}),
      with_inner(aom, {BPF_MAP_TYPE_QUEUE, 0, 4, 2, 0, 0, ""}),
      with_inner(aom, {BPF_MAP_TYPE_LPM_TRIE, 8, 4, 2, BPF_F_NO_PREALLOC, 0, ""}),
      with_inner(aom, {BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 2, 0, 3, ""}),
      with_inner(aom, {BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 2, 0, 0, ""}),
      with_inner(aom, with_inner(aom, arr)),
      with_inner(aom, with_inner(hom, arr)),
      with_inner(aom, {BPF_MAP_TYPE_ARRAY, 8, 8, 4, 0, 0, ""}),
      with_inner(aom, {BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_INNER_MAP, 0, ""}),
      with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 8, 4, 0, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 8, 4, 4, 0, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 0, 0, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, BPF_F_INNER_MAP, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, BPF_F_RDONLY_PROG, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 8, 4, 0, 0, ""}, {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0, 0, ""}),
      with_inner(hom, arr),
      with_inner(hom, {BPF_MAP_TYPE_LRU_HASH, 4, 4, 8, 0, 0, ""}),
      with_inner(hom, {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0, 0, ""}),
      with_inner(hom, with_inner(aom, arr)),
      with_inner({BPF_MAP_TYPE_HASH_OF_MAPS, 4, 8, 4, 0, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_HASH_OF_MAPS, 0, 4, 4, 0, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_HASH_OF_MAPS, 16, 4, 0, 0, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_HASH_OF_MAPS, 16, 4, 4, BPF_F_NO_PREALLOC, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_HASH_OF_MAPS, 16, 4, 4, BPF_F_NO_COMMON_LRU, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_HASH_OF_MAPS, 16, 4, 4, BPF_F_RDONLY_PROG, 0, ""}, arr),
      with_inner({BPF_MAP_TYPE_HASH_OF_MAPS, 4, 8, 4, 0, 0, ""}, {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0, 0, ""}),
      aom,
      hom,
  };
  // "No inner map" is an inner_map_fd that names no map: /dev/null, so that the
  // kernel's answer does not depend on what fd 0 is.
  UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(devnull.valid());
  for (const MapSpec& spec : specs) {
    bool map_of_maps = spec.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || spec.type == BPF_MAP_TYPE_HASH_OF_MAPS;
    int fd = try_map_create(spec, map_of_maps && !spec.inner ? devnull.get() : -1);
    if (fd >= 0) close(fd);
    int expected = fd < 0 ? -fd : 0;
    int got = 0;
    std::string message;
    try {
      maps::create_map(spec);
    } catch (const maps::MapSpecError& e) {
      got = e.kernel_errno();
      message = e.what();
    }
    EXPECT_EQ(got, expected) << describe(spec) << ": mine says: " << (message.empty() ? "created" : message);
  }
}

// A userspace map and the same kernel map, with ids on our side standing for fds.
struct Pair {
  std::unique_ptr<maps::Map> mine;
  UniqueFd kernel;
};

Pair make_pair(const MapSpec& spec) {
  Pair p;
  p.mine = maps::create_map(spec);
  p.kernel = map_create(spec);
  return p;
}

TEST_F(NewMapTypesKernel, RingbufAndPerfEventArrayElementCommands) {
  for (const MapSpec& spec : {MapSpec{BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, 0, ""}}) {
    Pair p = make_pair(spec);
    uint8_t value[8] = {};
    uint8_t next[8] = {};
    EXPECT_EQ(p.mine->lookup_user(nullptr, value), map_lookup_elem(p.kernel.get(), nullptr, value)) << "lookup";
    EXPECT_EQ(p.mine->update_user(nullptr, value, 0), map_update_elem(p.kernel.get(), nullptr, value, 0));
    EXPECT_EQ(p.mine->delete_user(nullptr), map_delete_elem(p.kernel.get(), nullptr)) << "delete";
    EXPECT_EQ(p.mine->get_next_key_user(nullptr, next), map_get_next_key(p.kernel.get(), nullptr, next));
    EXPECT_EQ(p.mine->lookup_and_delete_user(nullptr, value),
              map_lookup_and_delete_elem(p.kernel.get(), nullptr, value));
  }
  Pair p = make_pair({BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 3, 0, 0, ""});
  for (uint32_t k : {0u, 2u, 3u, 100u}) {
    uint32_t v = 0, w = 0;
    EXPECT_EQ(p.mine->lookup_user(&k, &v), map_lookup_elem(p.kernel.get(), &k, &w)) << "lookup " << k;
    EXPECT_EQ(p.mine->delete_user(&k), map_delete_elem(p.kernel.get(), &k)) << "delete " << k;
    EXPECT_EQ(p.mine->update_user(&k, &v, BPF_EXIST), map_update_elem(p.kernel.get(), &k, &w, BPF_EXIST))
        << "update flags " << k;
    uint32_t n1 = 99, n2 = 99;
    EXPECT_EQ(p.mine->get_next_key_user(&k, &n1), map_get_next_key(p.kernel.get(), &k, &n2)) << "next " << k;
    EXPECT_EQ(n1, n2);
  }
}

// Ids the kernel reports for fds, and the userspace objects standing for them.
class Registry {
 public:
  void add(int fd, const void* handle) { handles_[static_cast<uint32_t>(fd)] = handle; }
  maps::HandleResolver resolver() {
    return [this](uint32_t fd) -> const void* {
      auto it = handles_.find(fd);
      return it == handles_.end() ? nullptr : it->second;
    };
  }

 private:
  std::map<uint32_t, const void*> handles_;
};

TEST_F(NewMapTypesKernel, ProgArrayElementCommands) {
  Pair p = make_pair({BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0, ""});
  auto insns = isa::assemble("r0 = 0\nexit");
  UniqueFd prog = load_program(BPF_PROG_TYPE_SOCKET_FILTER, insns);
  Registry ids;
  int dummy = 0;
  ids.add(prog.get(), &dummy);
  auto& pa = dynamic_cast<maps::ProgArrayMap&>(*p.mine);
  pa.set_resolver(ids.resolver());
  const int64_t kernel_id = object_id(prog.get());
  ASSERT_GT(kernel_id, 0);
  auto both = [&](const char* what, uint32_t key, uint32_t value, uint64_t flags) {
    EXPECT_EQ(p.mine->update_user(&key, &value, flags), map_update_elem(p.kernel.get(), &key, &value, flags))
        << what;
  };
  const uint32_t fd = static_cast<uint32_t>(prog.get());
  both("bad flags", 0, fd, BPF_NOEXIST);
  both("out of range", 4, fd, BPF_ANY);
  both("not an fd", 1, 100000, BPF_ANY);
  both("ok", 1, fd, BPF_ANY);
  both("replace", 1, fd, BPF_ANY);
  for (uint32_t k : {0u, 1u, 4u}) {
    uint32_t a = 0, b = 0;
    int rc = p.mine->lookup_user(&k, &a);
    EXPECT_EQ(rc, map_lookup_elem(p.kernel.get(), &k, &b)) << "lookup " << k;
    if (rc == 0) {
      EXPECT_EQ(a, fd) << "ours reads back the id it was given";
      EXPECT_EQ(b, kernel_id) << "the kernel reads back the program's id";
    }
  }
  EXPECT_EQ(pa.program_at(1), &dummy);
  for (uint32_t k : {1u, 1u, 2u, 4u}) {
    EXPECT_EQ(p.mine->delete_user(&k), map_delete_elem(p.kernel.get(), &k)) << "delete " << k;
  }
}

TEST_F(NewMapTypesKernel, MapOfMapsElementCommands) {
  for (uint32_t outer_type : {BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS}) {
    for (const MapSpec& templ : {MapSpec{BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, ""},
                                 MapSpec{BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_INNER_MAP, 0, ""},
                                 MapSpec{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0, 0, ""},
                                 MapSpec{BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 0, ""}}) {
      SCOPED_TRACE(maps::map_type_name(outer_type) + " of " + describe(templ));
      MapSpec outer_spec{outer_type, 4, 4, 3, 0, 0, ""};
      outer_spec.inner = inner(templ);
      Pair outer = make_pair(outer_spec);
      auto& mm = dynamic_cast<maps::MapOfMaps&>(*outer.mine);
      // Candidate inner maps: the template, other sizes, other flags, another type.
      std::vector<MapSpec> candidates = {templ};
      MapSpec bigger = templ;
      bigger.max_entries = 16;
      MapSpec wider = templ;
      wider.value_size = 16;
      MapSpec flagged = templ;
      flagged.flags ^= (templ.type == BPF_MAP_TYPE_HASH ? BPF_F_NO_PREALLOC : BPF_F_RDONLY_PROG);
      MapSpec rdonly = templ;
      rdonly.flags |= BPF_F_RDONLY;
      candidates.insert(candidates.end(), {bigger, wider, flagged, rdonly, MapSpec{BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0, 0, ""}});
      std::vector<Pair> inners;
      Registry ids;
      for (const MapSpec& c : candidates) {
        inners.push_back(make_pair(c));
        ids.add(inners.back().kernel.get(), inners.back().mine.get());
      }
      mm.set_resolver(ids.resolver());
      for (size_t i = 0; i < inners.size(); ++i) {
        for (uint64_t flags : {uint64_t{BPF_ANY}, uint64_t{BPF_NOEXIST}, uint64_t{BPF_EXIST}}) {
          for (uint32_t key : {0u, 2u, 3u}) {
            uint32_t fd = static_cast<uint32_t>(inners[i].kernel.get());
            EXPECT_EQ(outer.mine->update_user(&key, &fd, flags),
                      map_update_elem(outer.kernel.get(), &key, &fd, flags))
                << "candidate " << describe(candidates[i]) << " key " << key << " flags " << flags;
          }
        }
      }
      uint32_t key = 1, bad_fd = 100000;
      EXPECT_EQ(outer.mine->update_user(&key, &bad_fd, BPF_ANY),
                map_update_elem(outer.kernel.get(), &key, &bad_fd, BPF_ANY));
      for (uint32_t k : {0u, 1u, 2u, 3u}) {
        uint32_t a = 0, b = 0;
        EXPECT_EQ(outer.mine->lookup_user(&k, &a), map_lookup_elem(outer.kernel.get(), &k, &b)) << "lookup " << k;
        EXPECT_EQ(outer.mine->delete_user(&k), map_delete_elem(outer.kernel.get(), &k)) << "delete " << k;
      }
    }
  }
}

// ---------------------------------------------------------------- ring buffer

struct RbOp {
  enum Kind { Output, Reserve, Submit, Discard, Query } kind;
  uint32_t size = 0;   // Output, Reserve
  uint64_t flags = 0;  // the helper's flags (Query: which value)
  int slot = 0;        // Reserve, Submit, Discard: r6 + slot holds the record
};

constexpr int kMaxResults = 40;
constexpr int kBufferOffset = 464;  // the output buffer: 128 bytes at fp-464
constexpr int kKeyOffset = 472;

int result_offset(size_t i) { return 8 * static_cast<int>(i + 1); }

uint8_t buffer_byte(size_t i) { return static_cast<uint8_t>(i * 13 + 5); }
uint32_t marker(size_t op_index) { return 0x5A000000u | static_cast<uint32_t>(op_index); }

// The kernel program: the ops in a row, each result spilled to the stack, then
// copied into the results array (one value of kMaxResults u64s).
std::string script_program(const std::vector<RbOp>& ops, int ring_fd, int results_fd) {
  std::ostringstream p;
  for (int i = 0; i < 128; i += 8) {
    uint64_t w = 0;
    for (int b = 0; b < 8; ++b) w |= uint64_t{buffer_byte(i + b)} << (8 * b);
    p << "r1 = " << w << " ll\n*(u64 *)(r10 - " << kBufferOffset - i << ") = r1\n";
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    const RbOp& op = ops[i];
    int reg = 6 + op.slot;
    std::string res = "*(u64 *)(r10 - " + std::to_string(result_offset(i)) + ")";
    switch (op.kind) {
      case RbOp::Output:
        p << "r1 = map_fd(" << ring_fd << ") ll\nr2 = r10\nr2 += -" << kBufferOffset << "\nr3 = " << op.size
          << "\nr4 = " << op.flags << "\ncall " << BPF_FUNC_ringbuf_output << "\n" << res << " = r0\n";
        break;
      case RbOp::Reserve:
        p << "r1 = map_fd(" << ring_fd << ") ll\nr2 = " << op.size << "\nr3 = " << op.flags << "\ncall "
          << BPF_FUNC_ringbuf_reserve << "\nr" << reg << " = r0\nr1 = 0\nif r0 == 0 goto +3\nr1 = "
          << marker(i) << "\n*(u32 *)(r0 + 0) = r1\nr1 = 1\n" << res << " = r1\n";
        break;
      case RbOp::Submit:
      case RbOp::Discard:
        p << "if r" << reg << " == 0 goto +3\nr1 = r" << reg << "\nr2 = " << op.flags << "\ncall "
          << (op.kind == RbOp::Submit ? BPF_FUNC_ringbuf_submit : BPF_FUNC_ringbuf_discard) << "\nr" << reg
          << " = 0\nr1 = 0\n" << res << " = r1\n";
        break;
      case RbOp::Query:
        p << "r1 = map_fd(" << ring_fd << ") ll\nr2 = " << op.flags << "\ncall " << BPF_FUNC_ringbuf_query << "\n"
          << res << " = r0\n";
        break;
    }
  }
  p << "*(u32 *)(r10 - " << kKeyOffset << ") = 0\nr1 = map_fd(" << results_fd << ") ll\nr2 = r10\nr2 += -"
    << kKeyOffset << "\ncall " << BPF_FUNC_map_lookup_elem << "\nif r0 == 0 goto done\n";
  for (size_t i = 0; i < ops.size(); ++i) {
    p << "r1 = *(u64 *)(r10 - " << result_offset(i) << ")\n*(u64 *)(r0 + " << 8 * i << ") = r1\n";
  }
  p << "done:\nr0 = 2\nexit\n";
  return p.str();
}

// The same ops on RingBufMap.
std::vector<uint64_t> run_script(maps::RingBufMap& rb, const std::vector<RbOp>& ops) {
  std::vector<uint8_t> buffer(128);
  for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = buffer_byte(i);
  void* slots[4] = {};
  std::vector<uint64_t> results;
  for (size_t i = 0; i < ops.size(); ++i) {
    const RbOp& op = ops[i];
    switch (op.kind) {
      case RbOp::Output:
        results.push_back(static_cast<uint64_t>(static_cast<int64_t>(rb.output(buffer.data(), op.size, op.flags))));
        break;
      case RbOp::Reserve:
        slots[op.slot] = rb.reserve(op.size, op.flags);
        if (slots[op.slot]) {
          uint32_t m = marker(i);
          std::memcpy(slots[op.slot], &m, 4);
        }
        results.push_back(slots[op.slot] ? 1 : 0);
        break;
      case RbOp::Submit:
      case RbOp::Discard:
        if (slots[op.slot]) {
          op.kind == RbOp::Submit ? rb.submit(slots[op.slot], op.flags) : rb.discard(slots[op.slot], op.flags);
        }
        slots[op.slot] = nullptr;
        results.push_back(0);
        break;
      case RbOp::Query: results.push_back(rb.query(op.flags)); break;
    }
  }
  return results;
}

// A consumer of the kernel's ring through mmap, as libbpf's: records in order,
// skipping discarded ones, stopping at a busy one.
class KernelRingReader {
 public:
  KernelRingReader(int fd, size_t size) : size_(size) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    cons_ = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    prod_ = mmap(nullptr, page_ + 2 * size, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(page_));
  }
  ~KernelRingReader() {
    if (cons_ != MAP_FAILED) munmap(cons_, page_);
    if (prod_ != MAP_FAILED) munmap(prod_, page_ + 2 * size_);
  }
  bool ok() const { return cons_ != MAP_FAILED && prod_ != MAP_FAILED; }
  std::vector<std::vector<uint8_t>> consume() {
    auto* cons_pos = static_cast<uint64_t*>(cons_);
    auto* prod_pos = static_cast<const uint64_t*>(prod_);
    const uint8_t* data = static_cast<const uint8_t*>(prod_) + page_;
    std::vector<std::vector<uint8_t>> out;
    uint64_t cons = __atomic_load_n(cons_pos, __ATOMIC_ACQUIRE);
    uint64_t prod = __atomic_load_n(prod_pos, __ATOMIC_ACQUIRE);
    while (cons < prod) {
      const uint8_t* hdr = data + (cons & (size_ - 1));
      uint32_t len = __atomic_load_n(reinterpret_cast<const uint32_t*>(hdr), __ATOMIC_ACQUIRE);
      if (len & (1u << 31)) break;
      uint32_t n = len & ~(3u << 30);
      if (!(len & (1u << 30))) out.emplace_back(hdr + 8, hdr + 8 + n);
      cons += (n + 8 + 7) & ~7ull;
      __atomic_store_n(cons_pos, cons, __ATOMIC_RELEASE);
    }
    return out;
  }

 private:
  size_t size_, page_;
  void* cons_;
  void* prod_;
};

std::string op_text(const RbOp& op) {
  static const char* names[] = {"output", "reserve", "submit", "discard", "query"};
  return std::string(names[op.kind]) + "(slot " + std::to_string(op.slot) + ", size " + std::to_string(op.size) +
         ", flags " + std::to_string(op.flags) + ")";
}

// A random script: every reservation is closed before the end.
std::vector<RbOp> random_script(std::mt19937& rng, uint32_t ring_size) {
  std::vector<RbOp> ops;
  bool open[4] = {};
  const size_t n = 8 + rng() % 16;
  while (ops.size() < n) {
    uint32_t r = rng() % 100;
    int slot = static_cast<int>(rng() % 4);
    if (r < 25) {
      uint64_t flags = rng() % 10 == 0 ? 4 : rng() % 3;  // 0, NO_WAKEUP, FORCE_WAKEUP, or invalid
      ops.push_back({RbOp::Output, static_cast<uint32_t>(rng() % 129), flags, 0});
    } else if (r < 55 && !open[slot]) {
      uint32_t size = rng() % 4 == 0 ? ring_size / 2 + rng() % ring_size : 4 + rng() % (ring_size / 4);
      ops.push_back({RbOp::Reserve, size, rng() % 15 == 0 ? 1u : 0u, slot});
      open[slot] = true;
    } else if (r < 80 && open[slot]) {
      ops.push_back({rng() % 3 == 0 ? RbOp::Discard : RbOp::Submit, 0, rng() % 3, slot});
      open[slot] = false;
    } else {
      uint64_t q = rng() % 5;
      ops.push_back({RbOp::Query, 0, q == 4 ? 9 : q, 0});
    }
  }
  for (int s = 0; s < 4; ++s) {
    if (open[s]) ops.push_back({RbOp::Submit, 0, 0, s});
  }
  return ops;
}

void check_script(maps::RingBufMap& mine, int ring_fd, int results_fd, const std::vector<RbOp>& ops,
                  const std::string& where) {
  ASSERT_LE(ops.size(), static_cast<size_t>(kMaxResults));
  std::string text = script_program(ops, ring_fd, results_fd);
  UniqueFd prog = load_program(BPF_PROG_TYPE_XDP, isa::assemble(text));
  std::vector<uint8_t> packet(64, 0);
  test_run_program(prog.get(), packet, 1);
  std::vector<uint64_t> kernel(kMaxResults);
  uint32_t zero = 0;
  ASSERT_EQ(map_lookup_elem(results_fd, &zero, kernel.data()), 0);
  std::vector<uint64_t> ours = run_script(mine, ops);
  for (size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(static_cast<int64_t>(ours[i]), static_cast<int64_t>(kernel[i]))
        << where << ": op " << i << " " << op_text(ops[i]);
  }
}

class RingbufKernel : public KernelTest {};

TEST_F(RingbufKernel, ScriptsAgreeOnReturnsPositionsAndRecords) {
  constexpr uint32_t kRing = 4096;
  MapSpec rb_spec{BPF_MAP_TYPE_RINGBUF, 0, 0, kRing, 0, 0, "xc_rb"};
  auto mine_map = maps::create_map(rb_spec);
  auto& mine = dynamic_cast<maps::RingBufMap&>(*mine_map);
  UniqueFd ring = map_create(rb_spec);
  UniqueFd results = map_create({BPF_MAP_TYPE_ARRAY, 4, 8 * kMaxResults, 1, 0, 0, "xc_results"});
  KernelRingReader reader(ring.get(), kRing);
  ASSERT_TRUE(reader.ok()) << "cannot mmap the kernel's ring buffer";
  // A fixed script first: the ring fills (the last 8 bytes never fill), busy records
  // hold back the consumer, discarded ones are skipped.
  std::vector<RbOp> fixed = {
      {RbOp::Output, 100, 0, 0},      {RbOp::Reserve, 1000, 0, 0},  {RbOp::Reserve, 2000, 0, 1},
      {RbOp::Query, 0, BPF_RB_AVAIL_DATA, 0}, {RbOp::Query, 0, BPF_RB_PROD_POS, 0},
      {RbOp::Reserve, 1000, 0, 2},    {RbOp::Reserve, 850, 0, 3},   {RbOp::Output, 0, 0, 0},
      {RbOp::Output, 1, 0, 0},        {RbOp::Output, 72, 0, 0},     {RbOp::Query, 0, BPF_RB_AVAIL_DATA, 0},
      {RbOp::Output, 0, 0, 0},  // 4088 bytes are taken: 8 more would fill the ring exactly

      {RbOp::Submit, 0, 0, 1},        {RbOp::Reserve, 5000, 0, 1},  {RbOp::Submit, 0, 0, 1},
      {RbOp::Discard, 0, 0, 0},
      {RbOp::Submit, 0, BPF_RB_NO_WAKEUP, 3}, {RbOp::Submit, 0, 0, 2}, {RbOp::Query, 0, BPF_RB_CONS_POS, 0},
      {RbOp::Query, 0, BPF_RB_RING_SIZE, 0},  {RbOp::Query, 0, 7, 0}, {RbOp::Output, 128, 4, 0},
  };
  check_script(mine, ring.get(), results.get(), fixed, "fixed script");
  std::mt19937 rng(20261125);
  for (int round = 0; round < 40 && !HasFailure(); ++round) {
    // Consume on both sides (sometimes not, so the ring fills up), then run a script.
    if (round % 3 != 2) {
      std::vector<std::vector<uint8_t>> ours;
      mine.consume([&](std::span<const uint8_t> r) { ours.emplace_back(r.begin(), r.end()); });
      auto kernel = reader.consume();
      ASSERT_EQ(ours.size(), kernel.size()) << "round " << round << ": records delivered";
      for (size_t i = 0; i < ours.size(); ++i) {
        ASSERT_EQ(ours[i].size(), kernel[i].size()) << "round " << round << " record " << i;
        // Reserved records hold a marker in their first 4 bytes (the rest is whatever
        // was there), output records the buffer's bytes.
        size_t n = std::min<size_t>(ours[i].size(), 4);
        EXPECT_TRUE(std::equal(ours[i].begin(), ours[i].begin() + n, kernel[i].begin()))
            << "round " << round << " record " << i;
      }
    }
    check_script(mine, ring.get(), results.get(), random_script(rng, kRing), "round " + std::to_string(round));
  }
  // The positions after everything.
  std::vector<RbOp> queries = {{RbOp::Query, 0, BPF_RB_AVAIL_DATA, 0},
                               {RbOp::Query, 0, BPF_RB_PROD_POS, 0},
                               {RbOp::Query, 0, BPF_RB_CONS_POS, 0}};
  check_script(mine, ring.get(), results.get(), queries, "final positions");
  EXPECT_GT(mine.query(BPF_RB_PROD_POS), 4u * kRing) << "the scripts should have wrapped the ring";
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel
