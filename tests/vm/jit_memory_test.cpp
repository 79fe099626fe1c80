// JIT loads, stores and atomics on every base/value register combination, and
// checked mode: every access outside the stack frames and env.regions stops the
// run with the interpreter's message, naming the instruction.
#include <cstring>
#include <random>

#include "jit_test_util.h"

namespace bpfkit::jit_test {
namespace {

uint64_t addr_of(const void* p) { return uint64_t(reinterpret_cast<uintptr_t>(p)); }

uint64_t read_le(const uint8_t* p, int size) {
  uint64_t v = 0;
  std::memcpy(&v, p, size);
  return v;
}

uint64_t extend(uint64_t v, int size, bool sign) {
  if (size == 8) return v;
  const int shift = 64 - 8 * size;
  return sign ? uint64_t(int64_t(v << shift) >> shift) : v << shift >> shift;
}

std::array<uint64_t, 10> random_registers(std::mt19937_64& rng) {
  std::array<uint64_t, 10> r;
  for (auto& v : r) v = rng();
  return r;
}

Snapshot expect_of(const std::array<uint64_t, 10>& regs) {
  Snapshot s;
  std::copy(regs.begin(), regs.end(), s.v.begin());
  return s;
}

const int16_t kOffsets[] = {0, 5, -16, 100, -100};

TEST(JitMemory, LoadsOnEveryRegisterPair) {
  alignas(16) uint8_t buf[256];
  for (size_t i = 0; i < sizeof buf; ++i) buf[i] = uint8_t(i * 37 + 0x81);
  core::ExecEnv regions;
  regions.allow(addr_of(buf), sizeof buf, false);
  std::mt19937_64 rng(10);
  for (uint8_t size : {1, 2, 4, 8})
    for (bool sx : {false, true}) {
      if (sx && size == 8) continue;
      for (uint8_t base = 0; base < 10; ++base)
        for (uint8_t dst = 0; dst < 10; ++dst)
          for (int16_t off : kOffsets)
            for (bool checked : {true, false}) {
              const uint8_t* at = buf + 120 + rng() % 8;
              std::array<uint64_t, 10> init = random_registers(rng);
              init[base] = addr_of(at) - off;
              std::array<uint64_t, 10> want = init;
              want[dst] = extend(read_le(at, size), size, sx);
              RunConfig c;
              c.checked = checked;
              c.env = &regions;
              ASSERT_EQ(run_snapshot({ldx(size, dst, base, off, sx)}, init, c), expect_of(want))
                  << "size " << int(size) << (sx ? " sx" : "") << " r" << int(dst) << " = [r" << int(base)
                  << "+" << off << "]";
            }
    }
}

TEST(JitMemory, StackLoadsAndStoresThroughR10) {
  for (uint8_t size : {1, 2, 4, 8})
    for (bool sx : {false, true})
      for (int16_t off : {-512, -511, -300, -16, -9, -8})
        for (bool checked : {true, false}) {
          if (sx && size == 8) continue;
          if (off + size > 0) continue;
          // The pattern fills the aligned slot holding `off` and the next one (if inside the frame).
          const uint64_t pattern = 0x8899aabbccddeeff;
          const int16_t slot = int16_t(off & ~7);
          const int16_t next = slot + 8 < 0 ? int16_t(slot + 8) : slot;
          const std::vector<Instruction> p = {lddw(1, pattern), stx(8, 10, slot, 1), stx(8, 10, next, 1),
                                              ldx(size, 0, 10, off, sx), exit_insn()};
          uint8_t bytes[16];
          std::memcpy(bytes, &pattern, 8);
          std::memcpy(bytes + 8, &pattern, 8);
          const uint64_t want = extend(read_le(bytes + (off - slot), size), size, sx);
          RunConfig c;
          c.checked = checked;
          EXPECT_EQ(run_jit(p, c), want) << "size " << int(size) << " off " << off;
        }
}

TEST(JitMemory, StoresOnEveryRegisterPair) {
  alignas(16) uint8_t buf[256];
  core::ExecEnv regions;
  regions.allow(addr_of(buf), sizeof buf, true);
  std::mt19937_64 rng(11);
  for (uint8_t size : {1, 2, 4, 8})
    for (uint8_t base = 0; base < 10; ++base)
      for (uint8_t src = 0; src < 10; ++src)
        for (int16_t off : kOffsets)
          for (bool checked : {true, false}) {
            std::memset(buf, 0xa5, sizeof buf);
            uint8_t* at = buf + 120 + rng() % 8;
            std::array<uint64_t, 10> init = random_registers(rng);
            init[base] = addr_of(at) - off;
            RunConfig c;
            c.checked = checked;
            c.env = &regions;
            ASSERT_EQ(run_snapshot({stx(size, base, off, src)}, init, c), expect_of(init));
            uint8_t want[256];
            std::memset(want, 0xa5, sizeof want);
            std::memcpy(want + (at - buf), &init[src], size);
            ASSERT_EQ(std::memcmp(buf, want, sizeof buf), 0)
                << "size " << int(size) << " [r" << int(base) << "+" << off << "] = r" << int(src);
          }
}

TEST(JitMemory, ImmediateStores) {
  alignas(16) uint8_t buf[64];
  core::ExecEnv regions;
  regions.allow(addr_of(buf), sizeof buf, true);
  for (uint8_t size : {1, 2, 4, 8})
    for (uint8_t base = 0; base < 10; ++base)
      for (int32_t imm : {0, 1, -1, 127, -128, 0x1234, -0x8000, 0x7fffffff, INT32_MIN, 0x12345678}) {
        std::memset(buf, 0x5a, sizeof buf);
        std::array<uint64_t, 10> init{};
        init[base] = addr_of(buf + 16) + 3;
        RunConfig c;
        c.env = &regions;
        run_snapshot({st(size, base, -3, imm)}, init, c);
        const uint64_t v = uint64_t(int64_t(imm));  // a 64-bit store sign-extends the immediate
        uint8_t want[64];
        std::memset(want, 0x5a, sizeof want);
        std::memcpy(want + 16, &v, size);
        ASSERT_EQ(std::memcmp(buf, want, sizeof buf), 0) << "size " << int(size) << " imm " << imm;
      }
}

// --- atomics ---

uint64_t apply(AtomicOp op, uint64_t mem, uint64_t src) {
  switch (op) {
    case AtomicOp::Add: return mem + src;
    case AtomicOp::Or: return mem | src;
    case AtomicOp::And: return mem & src;
    case AtomicOp::Xor: return mem ^ src;
    default: return src;
  }
}

TEST(JitMemory, AtomicsOnEveryRegisterPair) {
  alignas(16) uint8_t buf[64];
  core::ExecEnv regions;
  regions.allow(addr_of(buf), sizeof buf, true);
  std::mt19937_64 rng(12);
  struct Kind {
    AtomicOp op;
    bool fetch;
  };
  const Kind kinds[] = {{AtomicOp::Add, false},   {AtomicOp::Add, true},  {AtomicOp::Or, false},
                        {AtomicOp::Or, true},     {AtomicOp::And, false}, {AtomicOp::And, true},
                        {AtomicOp::Xor, false},   {AtomicOp::Xor, true},  {AtomicOp::Xchg, true},
                        {AtomicOp::CmpXchg, true}};
  for (const Kind& k : kinds)
    for (uint8_t size : {4, 8})
      for (uint8_t base = 0; base < 10; ++base)
        for (uint8_t src = 0; src < 10; ++src)
          for (int round = 0; round < 4; ++round) {
            const int16_t off = int16_t(8 * (int(rng() % 3) - 1));
            uint8_t* at = buf + 24;
            std::array<uint64_t, 10> init = random_registers(rng);
            init[base] = addr_of(at) - off;
            const uint64_t mask = size == 8 ? ~0ull : 0xffffffffull;
            uint64_t mem0 = rng();
            // cmpxchg: make every other round compare equal with r0.
            if (k.op == AtomicOp::CmpXchg && round % 2 == 0) mem0 = (mem0 & ~mask) | (init[0] & mask);
            std::memset(buf, 0x33, sizeof buf);
            std::memcpy(at, &mem0, 8);
            const uint64_t old = mem0 & mask, s = init[src] & mask;
            uint64_t updated;
            if (k.op == AtomicOp::CmpXchg)
              updated = old == (init[0] & mask) ? s : old;
            else
              updated = apply(k.op, old, s) & mask;
            std::array<uint64_t, 10> want = init;
            if (k.op == AtomicOp::CmpXchg)
              want[0] = old;
            else if (k.fetch)
              want[src] = old;
            RunConfig c;
            c.checked = round % 2 == 1;
            c.env = &regions;
            ASSERT_EQ(run_snapshot({Atomic{k.op, k.fetch, size, base, off, src}}, init, c), expect_of(want))
                << "op " << int(k.op) << (k.fetch ? " fetch" : "") << " size " << int(size) << " [r"
                << int(base) << "] r" << int(src);
            const uint64_t mem1 = read_le(at, 8);
            ASSERT_EQ(mem1, (mem0 & ~mask) | updated) << "op " << int(k.op) << " memory";
          }
}

TEST(JitMemory, AtomicsOnTheStack) {
  // lock cmpxchg on [r10-8], the conformance suite's lock_cmpxchg in typed form.
  const std::vector<Instruction> p = {
      lddw(0, 0x123456789abcdef0),
      stx(8, 10, -8, 0),
      lddw(1, 0x1122334455667788),
      lddw(0, 0x0fedcba987654321),
      Atomic{AtomicOp::CmpXchg, true, 8, 10, -8, 1},  // fails: r0 receives the old value
      lddw(2, 0x123456789abcdef0),
      jmp(JmpCond::Ne, 0, Operand::Reg(2), 4),
      Atomic{AtomicOp::CmpXchg, true, 8, 10, -8, 1},  // succeeds
      ldx(8, 0, 10, -8),
      jmp(JmpCond::Ne, 0, Operand::Reg(1), 1),
      mov(0, 7),
      exit_insn(),
  };
  EXPECT_EQ(run_jit(p), 7u);
  EXPECT_EQ(run_jit(p, {.checked = false}), 7u);
  // 32-bit fetch add zero-extends the old value into the source register.
  const std::vector<Instruction> q = {st(8, 10, -8, -1),
                                      mov(1, -1),
                                      Atomic{AtomicOp::Add, true, 4, 10, -8, 1},
                                      ldx(8, 0, 10, -8),
                                      alu(AluOp::Add, true, 0, Operand::Reg(1)),
                                      exit_insn()};
  // memory: low half 0xffffffff + 0xffffffff = 0xfffffffe, high half untouched; r1 = 0xffffffff.
  EXPECT_EQ(run_jit(q), 0xfffffffffffffffeull + 0xffffffffull);
}

// --- checked mode ---

std::string hexs(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// Runs in checked mode and expects this message; the interpreter must say the same.
void expect_error(const std::vector<Instruction>& p, const std::string& want, RunConfig c = {}) {
  EXPECT_EQ(jit_error(p, c), want);
  EXPECT_EQ(interp_error(p, c), want) << "(the interpreter disagrees)";
}

TEST(JitChecked, AccessesOutsideEveryRegionStop) {
  expect_error({ldx(4, 0, 1, 0), exit_insn()},
               "instruction 0: load of 4 bytes at r1 (0x0) is outside every region the program may access");
  expect_error(
      {mov(0, 0), mov(2, 4096), stx(8, 2, 16, 0), exit_insn()},
      "instruction 2: store of 8 bytes at r2+16 (0x1010) is outside every region the program may access");
  expect_error(
      {mov(0, 0), mov(2, 64), st(2, 2, -8, 1), exit_insn()},
      "instruction 2: store of 2 bytes at r2-8 (0x38) is outside every region the program may access");
  expect_error(
      {mov(0, 0), mov(3, 64), Atomic{AtomicOp::Add, true, 8, 3, 0, 0}, exit_insn()},
      "instruction 2: atomic fetch add of 8 bytes at r3 (0x40) is outside every region the program may "
      "access");
  expect_error(
      {mov(0, 0), mov(3, 64), Atomic{AtomicOp::CmpXchg, true, 4, 3, 0, 0}, exit_insn()},
      "instruction 2: atomic cmpxchg of 4 bytes at r3 (0x40) is outside every region the program may "
      "access");
}

TEST(JitChecked, RegionBoundsAreExact) {
  alignas(16) uint8_t buf[16] = {};
  const uint64_t a = addr_of(buf);
  core::ExecEnv env;
  env.allow(a, sizeof buf, true);
  auto load = [&](uint8_t size, int16_t off) {
    return std::vector<Instruction>{ldx(size, 0, 1, off), exit_insn()};
  };
  RunConfig c;
  c.env = &env;
  c.r1 = a;
  EXPECT_EQ(jit_error(load(8, 8), c), "no error");
  EXPECT_EQ(jit_error(load(1, 15), c), "no error");
  EXPECT_EQ(jit_error(load(8, 0), c), "no error");
  expect_error(load(8, 9),
               "instruction 0: load of 8 bytes at r1+9 (" + hexs(a + 9) +
                   ") is outside every region the program may access",
               c);
  expect_error(load(1, 16),
               "instruction 0: load of 1 byte at r1+16 (" + hexs(a + 16) +
                   ") is outside every region the program may access",
               c);
  expect_error(load(1, -1),
               "instruction 0: load of 1 byte at r1-1 (" + hexs(a - 1) +
                   ") is outside every region the program may access",
               c);
  // Addresses that wrap around 2^64 are outside too.
  RunConfig wrap = c;
  wrap.r1 = ~0ull - 3;
  expect_error(load(8, 0),
               "instruction 0: load of 8 bytes at r1 (0xfffffffffffffffc) is outside every region the "
               "program may access",
               wrap);
}

// The first access to a region fills the inline cache; later ones are checked against it.
TEST(JitChecked, CachedRegionBoundsAreExact) {
  alignas(16) uint8_t buf[32] = {};
  alignas(16) uint8_t other[16] = {};
  const uint64_t a = addr_of(buf);
  core::ExecEnv env;
  env.allow(a, sizeof buf, true);
  env.allow(addr_of(other), sizeof other, false);
  RunConfig c;
  c.env = &env;
  c.r1 = a;
  c.r2 = addr_of(other);
  for (bool write : {false, true})
    for (uint8_t size : {1, 2, 4, 8})
      for (int16_t off : {-8, -1, 0, 1, 24, 25, 31, 32, 40}) {
        const bool inside = off >= 0 && off + size <= 32;
        std::vector<Instruction> p;
        // Fill the cache, touch the other region (it must not confuse the cache), then the access.
        p.push_back(write ? stx(8, 1, 8, 1) : ldx(8, 0, 1, 8));
        p.push_back(ldx(4, 3, 2, 4));
        p.push_back(write ? stx(8, 1, 0, 1) : ldx(8, 0, 1, 0));
        p.push_back(write ? stx(size, 1, off, 1) : ldx(size, 0, 1, off));
        p.push_back(mov(0, 0));
        p.push_back(exit_insn());
        const std::string e = jit_error(p, c);
        if (inside) {
          EXPECT_EQ(e, "no error") << (write ? "store " : "load ") << int(size) << " at +" << off;
        } else {
          EXPECT_NE(e.find("instruction 3: "), std::string::npos) << e;
          EXPECT_NE(e.find("is outside every region"), std::string::npos) << e;
          EXPECT_EQ(e, interp_error(p, c));
        }
      }
  // A region cached for loads does not allow stores.
  RunConfig ro = c;
  ro.r1 = addr_of(other);
  const std::vector<Instruction> p = {ldx(8, 0, 1, 0), ldx(8, 0, 1, 8), stx(8, 1, 0, 0), exit_insn()};
  EXPECT_EQ(jit_error(p, ro), "instruction 2: store of 8 bytes at r1 (" + hexs(addr_of(other)) +
                                  ") writes to memory the program may only read");
}

uint64_t revoke_regions(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv* env) {
  env->regions.clear();
  return 0;
}

TEST(JitChecked, HelpersMayRevokeRegions) {
  core::HelperTable table;
  table.add({2000, "revoke", {}, revoke_regions});
  uint64_t word = 5;
  core::ExecEnv env;
  env.helpers = &table;
  env.allow(addr_of(&word), 8, true);
  RunConfig c;
  c.env = &env;
  c.r1 = addr_of(&word);
  // r6 keeps the pointer across the call; the load after it must fail.
  const std::vector<Instruction> p = {movr(6, 1),        ldx(8, 0, 6, 0), stx(8, 6, 0, 0),
                                      call_helper(2000), ldx(8, 0, 6, 0), exit_insn()};
  EXPECT_EQ(jit_error(p, c), "instruction 4: load of 8 bytes at r6 (" + hexs(addr_of(&word)) +
                                 ") is outside every region the program may access");
  env.allow(addr_of(&word), 8, true);
  const std::vector<Instruction> q = {movr(6, 1), stx(8, 6, 0, 6), call_helper(2000), stx(8, 6, 0, 6),
                                      exit_insn()};
  EXPECT_EQ(jit_error(q, c), "instruction 3: store of 8 bytes at r6 (" + hexs(addr_of(&word)) +
                                 ") is outside every region the program may access");
  // Regions granted by the caller between runs are seen by the next run.
  env.regions.clear();
  auto engine = vm::make_jit(program_of({ldx(8, 0, 1, 0), exit_insn()}));
  EXPECT_THROW(engine->run(addr_of(&word), 0, env), vm::RuntimeError);
  env.allow(addr_of(&word), 8, false);
  EXPECT_EQ(engine->run(addr_of(&word), 0, env), word);
  env.regions.clear();
  EXPECT_THROW(engine->run(addr_of(&word), 0, env), vm::RuntimeError);
}

TEST(JitChecked, ReadOnlyRegionsRefuseWrites) {
  uint64_t word = 0x1234;
  core::ExecEnv env;
  env.allow(addr_of(&word), 8, false);
  RunConfig c;
  c.env = &env;
  c.r1 = addr_of(&word);
  EXPECT_EQ(run_jit({ldx(8, 0, 1, 0), exit_insn()}, c), 0x1234u);
  expect_error({mov(2, 1), stx(8, 1, 0, 2), exit_insn()},
               "instruction 1: store of 8 bytes at r1 (" + hexs(addr_of(&word)) +
                   ") writes to memory the program may only read",
               c);
  expect_error({mov(2, 1), Atomic{AtomicOp::Or, false, 8, 1, 0, 2}, exit_insn()},
               "instruction 1: atomic or of 8 bytes at r1 (" + hexs(addr_of(&word)) +
                   ") writes to memory the program may only read",
               c);
  EXPECT_EQ(word, 0x1234u);
  // A writable region covering the same bytes makes the write legal.
  env.allow(addr_of(&word), 8, true);
  EXPECT_EQ(jit_error({mov(2, 1), stx(8, 1, 0, 2), mov(0, 0), exit_insn()}, c), "no error");
  EXPECT_EQ(word, 1u);
}

TEST(JitChecked, AtomicsMustBeAligned) {
  alignas(16) uint8_t buf[32] = {};
  core::ExecEnv env;
  env.allow(addr_of(buf), sizeof buf, true);
  RunConfig c;
  c.env = &env;
  c.r1 = addr_of(buf);
  expect_error({mov(2, 1), Atomic{AtomicOp::Add, false, 8, 1, 4, 2}, exit_insn()},
               "instruction 1: atomic add of 8 bytes at r1+4 (" + hexs(addr_of(buf) + 4) +
                   ") is not aligned to 8 bytes, as atomic operations must be",
               c);
  // On the stack too (the address is the host's, so only its surroundings are compared).
  const std::vector<Instruction> p = {mov(2, 1), Atomic{AtomicOp::Xchg, true, 4, 10, -6, 2}, exit_insn()};
  const std::string e = jit_error(p, c);
  EXPECT_EQ(e.rfind("instruction 1: atomic xchg of 4 bytes at r10-6 (0x", 0), 0u) << e;
  EXPECT_NE(e.find(") is not aligned to 4 bytes, as atomic operations must be"), std::string::npos) << e;
}

TEST(JitChecked, StackFramesBoundTheStack) {
  // Outside the outermost frame on either side.
  const std::string e1 = jit_error({mov(0, 0), stx(8, 10, 0, 0), exit_insn()});
  EXPECT_EQ(e1.rfind("instruction 1: store of 8 bytes at r10 (0x", 0), 0u) << e1;
  EXPECT_NE(e1.find("is outside every region the program may access"), std::string::npos);
  const std::string e2 = jit_error({ldx(1, 0, 10, -513), exit_insn()});
  EXPECT_NE(e2.find("instruction 0: load of 1 byte at r10-513"), std::string::npos) << e2;
  const std::string e3 = jit_error({ldx(8, 0, 10, -4), exit_insn()});  // straddles the top
  EXPECT_NE(e3.find("is outside every region"), std::string::npos) << e3;
  // A pointer into the frame held in another register is checked like any other.
  EXPECT_EQ(run_jit({st(8, 10, -16, 99), movr(1, 10), alu(AluOp::Add, true, 1, Operand::Imm(-16)),
                     ldx(8, 0, 1, 0), exit_insn()}),
            99u);
  const std::string e4 = jit_error({movr(1, 10), ldx(8, 0, 1, -520), exit_insn()});
  EXPECT_NE(e4.find("instruction 1: load of 8 bytes at r1-520"), std::string::npos) << e4;
}

TEST(JitChecked, CalleesReachTheirCallersFramesButNotTheReverse) {
  // main: [r10-8] = 77; r1 = r10; call f; exit.  f: r0 = [r1-8] + [r10+504] (both the caller's slot).
  const std::vector<Instruction> reach = {
      st(8, 10, -8, 77),
      movr(1, 10),
      call_local(1),
      exit_insn(),
      ldx(8, 0, 1, -8),
      ldx(8, 2, 10, 504),
      alu(AluOp::Add, true, 0, Operand::Reg(2)),
      exit_insn(),
  };
  EXPECT_EQ(run_jit(reach), 154u);
  EXPECT_EQ(run_interp(reach), 154u);
  // f returns its own r10; after the return its frame is gone.
  const std::vector<Instruction> stale = {
      call_local(2), ldx(8, 0, 0, -8), exit_insn(), st(8, 10, -8, 5), movr(0, 10), exit_insn(),
  };
  const std::string e = jit_error(stale);
  EXPECT_NE(e.find("instruction 1: load of 8 bytes at r0-8"), std::string::npos) << e;
  EXPECT_NE(e.find("is outside every region"), std::string::npos) << e;
  EXPECT_EQ(without_addresses(e), without_addresses(interp_error(stale)));
}

TEST(JitChecked, FramesStartZeroed) {
  // f writes its frame; g, called next at the same depth, must read zeros, as must main.
  const std::vector<Instruction> p = {
      ldx(8, 6, 10, -8),                          // 0: main's frame
      call_local(3),                              // 1: f
      call_local(4),                              // 2: g
      alu(AluOp::Add, true, 0, Operand::Reg(6)),  // 3
      exit_insn(),                                // 4
      st(8, 10, -8, 0x55),                        // 5: f
      exit_insn(),                                // 6
      ldx(8, 0, 10, -8),                          // 7: g
      ldx(8, 1, 10, -512),                        // 8
      alu(AluOp::Add, true, 0, Operand::Reg(1)),  // 9
      exit_insn(),                                // 10
  };
  EXPECT_EQ(run_jit(p), 0u);
  EXPECT_EQ(run_interp(p), 0u);
}

TEST(JitChecked, UncheckedModeNeedsNoRegions) {
  uint64_t word = 41;
  RunConfig c;
  c.checked = false;
  c.r1 = addr_of(&word);
  EXPECT_EQ(
      run_jit({ldx(8, 0, 1, 0), alu(AluOp::Add, true, 0, Operand::Imm(1)), stx(8, 1, 0, 0), exit_insn()}, c),
      42u);
  EXPECT_EQ(word, 42u);
  // The same program in checked mode without a region is refused before it writes.
  c.checked = true;
  EXPECT_NE(jit_error({ldx(8, 0, 1, 0), exit_insn()}, c), "no error");
}

TEST(JitChecked, R10IsReadOnly) {
  for (const Instruction& w : {mov(10, 0), Instruction{Neg{true, 10}}, ldx(8, 10, 1, 0), lddw(10, 1),
                               Instruction{Atomic{AtomicOp::Add, true, 8, 1, 0, 10}},
                               Instruction{Endian{EndianKind::ToBe, 16, 10}}}) {
    const std::vector<Instruction> p = {mov(0, 0), w, exit_insn()};
    EXPECT_EQ(jit_error(p), "instruction 1: r10 is the read-only frame pointer and cannot be written");
    EXPECT_EQ(jit_error(p, {.checked = false}),
              "instruction 1: r10 is the read-only frame pointer and cannot be written");
    // Behind a jump that skips it, the same write is dead code and the program runs.
    const std::vector<Instruction> dead = {mov(0, 7), ja(slot_count(w)), w, exit_insn()};
    EXPECT_EQ(jit_error(dead), "no error");
    EXPECT_EQ(run_jit(dead, {.checked = false}), 7u);
  }
}

}  // namespace
}  // namespace bpfkit::jit_test
