// The userspace target on clang-compiled programs: global data, subprograms,
// tail calls, map-in-map, callbacks, printk, and errors that name the source line.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>

#include "../support/compile_bpf.h"
#include "object/bpf_object.h"
#include "target/target.h"
#include "target/user/user_target.h"

namespace bpfkit::target {
namespace {

using test_support::compile_bpf;

struct Loaded {
  std::shared_ptr<object::BpfObject> object;
  std::unique_ptr<LoadedObject> loaded;
  std::vector<std::string> printk;
};

std::unique_ptr<Loaded> load_source(const std::string& source, bool jit = true, bool verify = true) {
  auto l = std::make_unique<Loaded>();
  const std::string path = compile_bpf(source);
  if (path.empty()) return nullptr;
  l->object = std::make_shared<object::BpfObject>(object::BpfObject::open(path));
  TargetOptions o;
  o.jit = jit;
  o.verify = verify;
  o.checked = !verify;  // unverified programs run only in checked mode
  o.on_printk = [p = l.get()](std::string_view line) { p->printk.emplace_back(line); };
  l->loaded = make_user_target(o)->load(l->object);
  return l;
}

const char* kPrelude = R"(
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
)";

uint32_t run_xdp(LoadedObject& lo, const std::string& prog, std::vector<uint8_t> packet = std::vector<uint8_t>(64, 0)) {
  ProgramHandle* p = lo.find_program(prog);
  EXPECT_NE(p, nullptr) << prog;
  TestRunRequest req;
  req.data_in = std::move(packet);
  return p ? p->test_run(req).retval : ~0u;
}

class UserTarget : public ::testing::TestWithParam<bool> {};  // param: JIT (true) or interpreter

TEST_P(UserTarget, GlobalDataAndSubprograms) {
  BPFKIT_REQUIRE_BPF_CLANG();
  auto l = load_source(std::string(kPrelude) + R"(
int counter = 5;
const volatile int step = 3;
long seen;
static __attribute__((noinline)) int add_step(int x) { return x + step; }
__attribute__((noinline)) int twice(int x) { return x * 2; }
SEC("xdp") int prog_a(struct xdp_md *ctx) { counter = add_step(counter); seen++; return counter; }
SEC("xdp") int prog_b(struct xdp_md *ctx) { return twice(add_step(1)); }
)", GetParam());
  ASSERT_TRUE(l);
  EXPECT_EQ(run_xdp(*l->loaded, "prog_a"), 8u);
  EXPECT_EQ(run_xdp(*l->loaded, "prog_a"), 11u);
  EXPECT_EQ(run_xdp(*l->loaded, "prog_b"), 8u);
  // The .bss map holds `seen`, visible from user space as libbpf names the map.
  MapHandle* bss = l->loaded->find_map("prog.bss");
  ASSERT_NE(bss, nullptr);
  std::vector<uint8_t> value(bss->value_buffer_size());
  const uint32_t zero = 0;
  ASSERT_EQ(bss->lookup(&zero, value.data()), 0);
  int64_t seen;
  std::memcpy(&seen, value.data(), 8);
  EXPECT_EQ(seen, 2);
}

TEST_P(UserTarget, RodataCanBeSetBeforeLoading) {
  BPFKIT_REQUIRE_BPF_CLANG();
  const std::string path = compile_bpf(std::string(kPrelude) + R"(
const volatile unsigned int answer = 1;
SEC("xdp") int knob(struct xdp_md *ctx) { return answer; }
)");
  ASSERT_FALSE(path.empty());
  auto obj = std::make_shared<object::BpfObject>(object::BpfObject::open(path));
  const uint32_t v = 3;
  ASSERT_TRUE(obj->set_initial_value("prog.rodata", {reinterpret_cast<const uint8_t*>(&v), 4}));
  TargetOptions o;
  o.jit = GetParam();
  auto lo = make_user_target(o)->load(obj);
  EXPECT_EQ(run_xdp(*lo, "knob"), 3u);
}

TEST_P(UserTarget, TailCallsThroughAProgArray) {
  BPFKIT_REQUIRE_BPF_CLANG();
  auto l = load_source(std::string(kPrelude) + R"(
int hops;
SEC("xdp") int second(struct xdp_md *ctx) { hops++; return XDP_TX; }
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __uint(key_size, 4);
  __array(values, int (void *));
} jumps SEC(".maps") = { .values = { [1] = (void *)&second } };
SEC("xdp") int first(struct xdp_md *ctx) {
  hops++;
  bpf_tail_call(ctx, &jumps, 2);  // empty slot: falls through
  bpf_tail_call(ctx, &jumps, 1);
  return XDP_DROP;                // not reached
}
)", GetParam());
  ASSERT_TRUE(l);
  EXPECT_EQ(run_xdp(*l->loaded, "first"), uint32_t(XDP_TX));
}

TEST_P(UserTarget, MapInMap) {
  BPFKIT_REQUIRE_BPF_CLANG();
  auto l = load_source(std::string(kPrelude) + R"(
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); };
struct inner inner_a SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 2);
  __type(key, __u32);
  __array(values, struct inner);
} outer SEC(".maps") = { .values = { [0] = &inner_a } };
SEC("xdp") int bump(struct xdp_md *ctx) {
  __u32 k = 0;
  void *m = bpf_map_lookup_elem(&outer, &k);
  if (!m) return 100;
  __u64 *v = bpf_map_lookup_elem(m, &k);
  if (!v) return 101;
  return ++*v;
}
)", GetParam());
  ASSERT_TRUE(l);
  EXPECT_EQ(run_xdp(*l->loaded, "bump"), 1u);
  EXPECT_EQ(run_xdp(*l->loaded, "bump"), 2u);
  MapHandle* inner = l->loaded->find_map("inner_a");
  ASSERT_NE(inner, nullptr);
  uint64_t v = 0;
  const uint32_t k = 0;
  ASSERT_EQ(inner->lookup(&k, &v), 0);
  EXPECT_EQ(v, 2u);
}

TEST_P(UserTarget, BpfLoopCallsTheCallback) {
  BPFKIT_REQUIRE_BPF_CLANG();
  auto l = load_source(std::string(kPrelude) + R"(
static long add_index(__u32 index, void *sum) { *(__u64 *)sum += index; return index == 9; }
SEC("xdp") int looper(struct xdp_md *ctx) {
  __u64 sum = 0;
  long n = bpf_loop(100, add_index, &sum, 0);
  return sum * 100 + n;
}
)", GetParam());
  ASSERT_TRUE(l);
  EXPECT_EQ(run_xdp(*l->loaded, "looper"), 45u * 100 + 10);
}

TEST_P(UserTarget, PrintkReachesTheSink) {
  BPFKIT_REQUIRE_BPF_CLANG();
  auto l = load_source(std::string(kPrelude) + R"(
SEC("xdp") int hello(struct xdp_md *ctx) {
  bpf_printk("len %d, %s", (int)(ctx->data_end - ctx->data), "ok");
  return XDP_PASS;
}
)", GetParam());
  ASSERT_TRUE(l);
  EXPECT_EQ(run_xdp(*l->loaded, "hello", std::vector<uint8_t>(60, 1)), uint32_t(XDP_PASS));
  ASSERT_EQ(l->printk.size(), 1u);
  EXPECT_EQ(l->printk[0], "len 60, ok");
}

const char* kReckless = R"(
SEC("xdp") int reckless(struct xdp_md *ctx) {
  unsigned char *p = (unsigned char *)(long)ctx->data;
  return p[100000];
}
)";

TEST_P(UserTarget, UnsafeProgramIsRefusedAtLoadWithItsSourceLine) {
  BPFKIT_REQUIRE_BPF_CLANG();
  try {
    load_source(std::string(kPrelude) + kReckless, GetParam());
    FAIL() << "the verifier accepted a packet read with no bounds check";
  } catch (const TargetError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("program 'reckless'"), std::string::npos) << what;
    EXPECT_NE(what.find("rejected by the verifier"), std::string::npos) << what;
    EXPECT_NE(what.find("p[100000]"), std::string::npos) << what;
  }
}

TEST_P(UserTarget, OutOfBoundsPacketReadNamesTheSourceLine) {
  BPFKIT_REQUIRE_BPF_CLANG();
  // No bounds check, and --unverified: only checked mode stops this.
  auto l = load_source(std::string(kPrelude) + kReckless, GetParam(), /*verify=*/false);
  ASSERT_TRUE(l);
  try {
    run_xdp(*l->loaded, "reckless");
    FAIL() << "expected an error";
  } catch (const TargetError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("program 'reckless'"), std::string::npos) << what;
    EXPECT_NE(what.find("prog.bpf.c:"), std::string::npos) << what;
    EXPECT_NE(what.find("p[100000]"), std::string::npos) << what;
  }
}

TEST_P(UserTarget, UnverifiedProgramsMustRunChecked) {
  BPFKIT_REQUIRE_BPF_CLANG();
  const std::string path = compile_bpf(std::string(kPrelude) + kReckless);
  ASSERT_FALSE(path.empty());
  TargetOptions o;
  o.jit = GetParam();
  o.verify = false;
  o.checked = false;
  try {
    make_user_target(o)->load(std::make_shared<object::BpfObject>(object::BpfObject::open(path)));
    FAIL() << "an unverified, unchecked load was accepted";
  } catch (const TargetError& e) {
    EXPECT_NE(std::string(e.what()).find("only in checked mode"), std::string::npos) << e.what();
  }
}

TEST_P(UserTarget, TracepointContextAndTask) {
  BPFKIT_REQUIRE_BPF_CLANG();
  auto l = load_source(std::string(kPrelude) + R"(
struct args { __u64 common; long nr; unsigned long a0; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } last SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_close") int on_close(struct args *ctx) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  __u64 fd = ctx->a0;
  bpf_map_update_elem(&last, &pid, &fd, BPF_ANY);
  return 0;
}
)", GetParam());
  ASSERT_TRUE(l);
  auto* prog = dynamic_cast<user::UserProgram*>(l->loaded->find_program("on_close"));
  ASSERT_NE(prog, nullptr);
  core::TaskIdentity task;
  task.pid = task.tgid = 4242;
  prog->set_task(task);
  std::vector<uint8_t> ctx(24, 0);
  ctx[16] = 9;
  EXPECT_EQ(prog->run_context(ctx), 0u);
  const uint32_t key = 4242;
  uint64_t fd = 0;
  ASSERT_EQ(l->loaded->find_map("last")->lookup(&key, &fd), 0);
  EXPECT_EQ(fd, 9u);
}

INSTANTIATE_TEST_SUITE_P(Engines, UserTarget, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "jit" : "interp"; });

}  // namespace
}  // namespace bpfkit::target
