// Checked mode checks the pointers a program gives a helper against the helper's prototype
// before the call (vm/helper_args.h), on both engines; unchecked mode trusts them.
#include <linux/bpf.h>

#include "helper_test_util.h"
#include "maps/map.h"

namespace bpfkit::helpers::testing {
namespace {

std::unique_ptr<maps::Map> make(uint32_t type, uint32_t key, uint32_t value, uint32_t max) {
  maps::MapSpec spec;
  spec.type = type;
  spec.key_size = key;
  spec.value_size = value;
  spec.max_entries = max;
  spec.name = "m";
  return maps::create_map(spec);
}

class HelperArgCheck : public ::testing::TestWithParam<EngineKind> {
 protected:
  // The message of the run's failure, or "" when it succeeds.
  std::string error_of(const std::string& text, uint64_t ctx = 0, std::vector<uint32_t> callbacks = {}) {
    try {
      run_asm(GetParam(), text, env, ctx, std::move(callbacks));
    } catch (const vm::RuntimeError& e) {
      return e.what();
    }
    return "";
  }
  core::ExecEnv env = runtime_env();
};

TEST_P(HelperArgCheck, AWildKeyPointerStopsTheRun) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 4);
  env.maps.push_back(m.get());
  const std::string text = "r1 = " + hex(addr(m.get())) + R"( ll
      r2 = 0x12345678
      call 1
      exit
  )";
  EXPECT_EQ(error_of(text),
            "instruction 3: bpf_map_lookup_elem: arg 2 (key, 4 bytes) at 0x12345678 is outside the program's "
            "memory");
  EXPECT_TRUE(env.abort);
}

TEST_P(HelperArgCheck, AKeyThatRunsPastTheStackTop) {
  auto m = make(BPF_MAP_TYPE_HASH, 8, 8, 4);
  env.maps.push_back(m.get());
  // The 8-byte key starts 4 bytes below r10: half of it lies above the stack.
  const std::string text = "r1 = " + hex(addr(m.get())) + R"( ll
      r2 = r10
      r2 += -4
      call 1
      exit
  )";
  const std::string e = error_of(text);
  EXPECT_EQ(e.rfind("instruction 4: bpf_map_lookup_elem: arg 2 (key, 8 bytes) at 0x", 0), 0u) << e;
  EXPECT_NE(e.find(" is outside the program's memory"), std::string::npos) << e;
}

TEST_P(HelperArgCheck, AWildValuePointerToUpdate) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 16, 4);
  env.maps.push_back(m.get());
  const std::string text = R"(
      *(u32 *)(r10 - 4) = 1
      r1 = )" + hex(addr(m.get())) + R"( ll
      r2 = r10
      r2 += -4
      r3 = 0x5000
      r4 = 0
      call 2
      exit
  )";
  EXPECT_EQ(error_of(text),
            "instruction 7: bpf_map_update_elem: arg 3 (value, 16 bytes) at 0x5000 is outside the program's "
            "memory");
  uint32_t key = 1;
  EXPECT_EQ(m->lookup(&key), nullptr);  // the helper never ran
}

TEST_P(HelperArgCheck, ATooShortStackBuffer) {
  // get_current_comm writes 16 bytes; 8 bytes below r10 only 8 of them are stack.
  const std::string text = R"(
      r1 = r10
      r1 += -8
      r2 = 16
      call 16
      exit
  )";
  const std::string e = error_of(text);
  EXPECT_EQ(e.rfind("instruction 3: bpf_get_current_comm: arg 1 (buffer, 16 bytes) at 0x", 0), 0u) << e;
  EXPECT_NE(e.find(" is outside the program's memory"), std::string::npos) << e;
  // Sixteen bytes below r10 it fits.
  env.abort = false;
  EXPECT_EQ(error_of("r1 = r10\n r1 += -16\n r2 = 16\n call 16\n exit"), "");
}

TEST_P(HelperArgCheck, AReadOnlyRegionAsAWriteBuffer) {
  char buf[16] = "unchanged";
  env.allow(addr(buf), sizeof buf, false);
  const std::string text = "r1 = " + hex(addr(buf)) + " ll\n r2 = 16\n call 16\n exit";
  EXPECT_EQ(error_of(text), "instruction 3: bpf_get_current_comm: arg 1 (buffer, 16 bytes) at " + hex(addr(buf)) +
                                " is read-only memory, which the helper writes");
  EXPECT_STREQ(buf, "unchanged");
  // Read-only memory is fine where the helper only reads: a key.
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 4);
  env.maps.push_back(m.get());
  env.abort = false;
  EXPECT_EQ(error_of("r1 = " + hex(addr(m.get())) + " ll\n r2 = " + hex(addr(buf)) + " ll\n call 1\n exit"), "");
}

TEST_P(HelperArgCheck, PopIntoReadOnlyMemory) {
  auto q = make(BPF_MAP_TYPE_QUEUE, 0, 8, 4);
  env.maps.push_back(q.get());
  uint64_t v = 42;
  ASSERT_EQ(q->push(&v, BPF_ANY), 0);
  uint64_t out = 7;
  env.allow(addr(&out), sizeof out, false);
  const std::string text = "r1 = " + hex(addr(q.get())) + " ll\n r2 = " + hex(addr(&out)) + " ll\n call 88\n exit";
  EXPECT_EQ(error_of(text), "instruction 4: bpf_map_pop_elem: arg 2 (value buffer, 8 bytes) at " +
                                hex(addr(&out)) + " is read-only memory, which the helper writes");
  EXPECT_EQ(out, 7u);
  EXPECT_EQ(q->peek(&v), 0);  // still queued
}

TEST_P(HelperArgCheck, SizesComeFromTheSizeArgument) {
  // trace_printk reads r2 bytes of its format: 100 bytes from r10 - 8 leave the stack.
  const std::string text = R"(
      *(u64 *)(r10 - 8) = 0
      r1 = r10
      r1 += -8
      r2 = 100
      call 6
      exit
  )";
  const std::string e = error_of(text);
  EXPECT_EQ(e.rfind("instruction 4: bpf_trace_printk: arg 1 (memory, 100 bytes) at 0x", 0), 0u) << e;
  // Size zero: nothing is read, and NULL will do (csum_diff of nothing returns its seed folded).
  env.abort = false;
  EXPECT_EQ(error_of("r1 = 0\n r2 = 0\n r3 = 0\n r4 = 0\n r5 = 0\n call 28\n exit"), "");
  // NULL with a size is no buffer.
  EXPECT_EQ(error_of("r1 = 0\n r2 = 4\n r3 = 0\n r4 = 0\n r5 = 0\n call 28\n exit"),
            "instruction 5: bpf_csum_diff: arg 1 (memory, 4 bytes) at 0x0 is outside the program's memory");
}

TEST_P(HelperArgCheck, AStringWithoutItsNul) {
  char s[4] = {'a', 'b', 'c', 'd'};
  env.allow(addr(s), sizeof s, false);
  // strncmp(s1 = r10 - 8, 8, s2): s2 must end inside its memory.
  const std::string text = R"(
      *(u64 *)(r10 - 8) = 0
      r1 = r10
      r1 += -8
      r2 = 8
      r3 = )" + hex(addr(s)) + R"( ll
      call 182
      exit
  )";
  EXPECT_EQ(error_of(text), "instruction 6: bpf_strncmp: arg 3 (string) at " + hex(addr(s)) +
                                " has no NUL before the end of its memory");
  s[3] = 0;
  env.abort = false;
  EXPECT_EQ(error_of(text), "");
}

TEST_P(HelperArgCheck, TheContextMustBeTheRunsContext) {
  const uint8_t bytes[64] = {};
  TestPacket packet(bytes);
  packet.attach(env);
  const std::string text = "r1 += 8\n r2 = 0\n r3 = 0\n r4 = 0\n r5 = 2\n call 10\n exit";
  EXPECT_EQ(error_of(text, addr(packet.ctx)), "instruction 5: bpf_l3_csum_replace: arg 1 (context) at " +
                                                   hex(addr(packet.ctx) + 8) + " is not the program's context");
}

TEST_P(HelperArgCheck, ACallbackContextOffTheStack) {
  uint64_t word = 0;
  env.allow(addr(&word), sizeof word, true);
  const std::string text = R"(
      r1 = 1
      r2 = 8 ll
      r3 = )" + hex(addr(&word)) + R"( ll
      r4 = 0
      call 181
      exit
      r0 = 1
      exit
  )";
  EXPECT_EQ(error_of(text, 0, {8}), "instruction 6: bpf_loop: arg 3 (stack pointer) at " + hex(addr(&word)) +
                                        " is not on the program's stack");
}

TEST_P(HelperArgCheck, CallxIsCheckedToo) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 4);
  env.maps.push_back(m.get());
  const std::string text = "r1 = " + hex(addr(m.get())) + " ll\n r2 = 0x1000\n r3 = 1\n callx r3\n exit";
  EXPECT_EQ(error_of(text),
            "instruction 4: bpf_map_lookup_elem: arg 2 (key, 4 bytes) at 0x1000 is outside the program's memory");
}

TEST_P(HelperArgCheck, ATableThatCannotSizeKeysFailsClosed) {
  core::HelperTable table;  // map_lookup_elem without the runtime table's map sizes
  table.add(*runtime_helpers().find(BPF_FUNC_map_lookup_elem));
  env.helpers = &table;
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 4);
  env.maps.push_back(m.get());
  const std::string text = "*(u32 *)(r10 - 4) = 0\n r1 = " + hex(addr(m.get())) +
                           " ll\n r2 = r10\n r2 += -4\n call 1\n exit";
  const std::string e = error_of(text);
  EXPECT_NE(e.find("bpf_map_lookup_elem: arg 2 (key) at 0x"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot be checked"), std::string::npos) << e;
}

TEST_P(HelperArgCheck, ValidCallsPass) {
  auto m = make(BPF_MAP_TYPE_HASH, 4, 8, 4);
  env.maps.push_back(m.get());
  // Key and value on the stack, then a lookup whose value pointer is passed back as a value.
  const std::string text = R"(
      *(u32 *)(r10 - 4) = 9
      *(u64 *)(r10 - 16) = 5
      r1 = )" + hex(addr(m.get())) + R"( ll
      r2 = r10
      r2 += -4
      r3 = r10
      r3 += -16
      r4 = 0
      call 2
      r1 = )" + hex(addr(m.get())) + R"( ll
      r2 = r10
      r2 += -4
      call 1
      if r0 == 0 goto out
      r3 = r0
      r1 = )" + hex(addr(m.get())) + R"( ll
      r2 = r10
      r2 += -4
      r4 = 0
      call 2
      r0 = 1
    out:
      exit
  )";
  EXPECT_EQ(run_asm(GetParam(), text, env), 1u);
  EXPECT_FALSE(env.abort);
}

TEST_P(HelperArgCheck, UncheckedModeTrustsThePointers) {
  // No check: the helper writes the read-only region (real memory here, so no harm).
  char buf[16] = "unchanged";
  env.allow(addr(buf), sizeof buf, false);
  vm::Program program(isa::assemble("r1 = " + hex(addr(buf)) + " ll\n r2 = 16\n call 16\n exit"));
  vm::EngineOptions options;
  options.checked = false;
  auto engine = GetParam() == EngineKind::Interpreter ? vm::make_interpreter(program, options)
                                                      : vm::make_jit(program, options);
  EXPECT_EQ(engine->run(0, 0, env), 0u);
  EXPECT_STRNE(buf, "unchanged");
}

INSTANTIATE_TEST_SUITE_P(Engines, HelperArgCheck, ::testing::Values(EngineKind::Interpreter, EngineKind::Jit),
                         engine_name);

}  // namespace
}  // namespace bpfkit::helpers::testing
