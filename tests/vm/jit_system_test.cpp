// The JIT as a whole: W^X machine code, concurrent runs of one engine, and the
// shape of the code it emits.
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "jit_test_util.h"
#include "vm/jit_compiler.h"
#include "vm/jit_memory.h"
#include "vm/jit_state.h"

namespace bpfkit::jit_test {
namespace {

struct Mapping {
  uint64_t begin = 0, end = 0;
  std::string perms;
};

std::vector<Mapping> read_maps() {
  std::ifstream in("/proc/self/maps");
  std::vector<Mapping> maps;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string range;
    Mapping m;
    s >> range >> m.perms;
    const size_t dash = range.find('-');
    m.begin = std::stoull(range.substr(0, dash), nullptr, 16);
    m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    maps.push_back(m);
  }
  return maps;
}

TEST(JitSystem, MachineCodeIsNeverWritableAndExecutable) {
  std::vector<std::unique_ptr<vm::Engine>> engines;
  for (int i = 0; i < 4; ++i) engines.push_back(vm::make_jit(program_of({mov(0, i), exit_insn()})));
  EXPECT_EQ(engines[3]->run(0, 0, *std::make_unique<core::ExecEnv>()), 3u);
  const std::vector<Mapping> maps = read_maps();
  ASSERT_FALSE(maps.empty());
  for (const Mapping& m : maps)
    EXPECT_FALSE(m.perms.size() >= 3 && m.perms[0] == 'r' && m.perms[1] == 'w' && m.perms[2] == 'x')
        << std::hex << m.begin << "-" << m.end << " " << m.perms;
  // Each engine's code sits in a read-execute, non-writable mapping.
  for (const auto& e : engines) {
    const std::span<const uint8_t> code = vm::jit_machine_code(*e);
    ASSERT_FALSE(code.empty());
    const uint64_t at = uint64_t(reinterpret_cast<uintptr_t>(code.data()));
    bool found = false;
    for (const Mapping& m : maps)
      if (at >= m.begin && at + code.size() <= m.end) {
        found = true;
        EXPECT_EQ(m.perms.substr(0, 3), "r-x");
      }
    EXPECT_TRUE(found);
  }
  // Destroying an engine unmaps its code.
  const uint64_t gone = uint64_t(reinterpret_cast<uintptr_t>(vm::jit_machine_code(*engines[0]).data()));
  engines.erase(engines.begin());
  for (const Mapping& m : read_maps()) EXPECT_FALSE(gone >= m.begin && gone < m.end && m.perms[2] == 'x');
}

TEST(JitSystem, OneEngineRunsOnManyThreadsAtOnce) {
  // r0 = sum of r1 .. 1, with a helper call and stack traffic in the loop.
  const std::vector<Instruction> p = {
      mov(0, 0),
      st(8, 10, -8, 0),
      movr(6, 1),
      ldx(8, 0, 10, -8),  // 3: loop
      alu(AluOp::Add, true, 0, Operand::Reg(6)),
      stx(8, 10, -8, 0),
      call_helper(8),  // get_smp_processor_id: a real helper call
      alu(AluOp::Sub, true, 6, Operand::Imm(1)),
      jmp(JmpCond::Ne, 6, Operand::Imm(0), -6),  // 8: back to 3
      ldx(8, 0, 10, -8),
      exit_insn(),
  };
  auto engine = vm::make_jit(program_of(p));
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      core::ExecEnv env;
      for (uint64_t n = 1; n < 300; ++n)
        if (engine->run(n + t, 0, env) != (n + t) * (n + t + 1) / 2) ++wrong;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(JitSystem, ShortJumpsAfterReemission) {
  // A loop whose jumps fit rel8 once the first emission has measured them.
  std::vector<Instruction> p = {mov(0, 0), mov(1, 10)};
  for (int i = 0; i < 10; ++i)
    p.push_back(jmp(JmpCond::Eq, 1, Operand::Imm(i * 100), 1)), p.push_back(mov(2, i));
  p.push_back(alu(AluOp::Add, true, 0, Operand::Imm(1)));
  p.push_back(alu(AluOp::Sub, true, 1, Operand::Imm(1)));
  p.push_back(jmp(JmpCond::Ne, 1, Operand::Imm(0), -23));
  p.push_back(exit_insn());
  vm::jit::CodegenOptions o;
  o.checked = false;
  const vm::jit::CompiledProgram c = vm::jit::compile(program_of(p), o);
  EXPECT_GE(c.passes, 2);
  // Unchecked code is small: prologue, one compare and jump per branch, no checks.
  EXPECT_LT(c.code.size(), 300u);
  EXPECT_EQ(run_jit(p, {.checked = false}), 10u);
  o.checked = true;
  EXPECT_GT(vm::jit::compile(program_of(p), o).code.size(), c.code.size());
}

TEST(JitSystem, UncheckedCodeHasNoChecks) {
  // Loads and stores through r1 compile to plain moves: no access sites, no calls into C++.
  const std::vector<Instruction> p = {ldx(8, 0, 1, 0), stx(8, 1, 8, 0),
                                      Atomic{AtomicOp::Add, false, 8, 1, 0, 0}, exit_insn()};
  vm::jit::CodegenOptions o;
  o.checked = false;
  EXPECT_TRUE(vm::jit::compile(program_of(p), o).sites.empty());
  o.checked = true;
  EXPECT_EQ(vm::jit::compile(program_of(p), o).sites.size(), 3u);
  // Stack accesses at constant offsets inside the frame need no check even in checked mode.
  const std::vector<Instruction> q = {st(8, 10, -8, 1), ldx(8, 0, 10, -512), stx(4, 10, -4, 0),
                                      Atomic{AtomicOp::Add, true, 8, 10, -16, 0}, exit_insn()};
  EXPECT_TRUE(vm::jit::compile(program_of(q), o).sites.empty());
}

// uint64_t call_with_sentinels(EntryFn fn, uint64_t r1, uint64_t r2, RunState* state):
// calls fn(r1, r2, state) with rbx, rbp and r12-r15 holding sentinels and returns a
// bit mask of those that did not survive (bit i: the i-th of rbx rbp r12 r13 r14 r15).
extern "C" uint64_t bpfkit_call_with_sentinels(vm::jit::EntryFn, uint64_t, uint64_t, vm::jit::RunState*);
asm(R"(
  .text
  .globl bpfkit_call_with_sentinels
  .type bpfkit_call_with_sentinels, @function
bpfkit_call_with_sentinels:
  push %rbp
  push %rbx
  push %r12
  push %r13
  push %r14
  push %r15
  sub $8, %rsp
  mov %rdi, %rax
  mov %rsi, %rdi
  mov %rdx, %rsi
  mov %rcx, %rdx
  movabs $0x5e41000000000001, %rbx
  movabs $0x5e41000000000002, %rbp
  movabs $0x5e41000000000003, %r12
  movabs $0x5e41000000000004, %r13
  movabs $0x5e41000000000005, %r14
  movabs $0x5e41000000000006, %r15
  call *%rax
  xor %eax, %eax
  movabs $0x5e41000000000001, %rcx
  cmp %rcx, %rbx
  je 1f
  or $1, %eax
1:movabs $0x5e41000000000002, %rcx
  cmp %rcx, %rbp
  je 2f
  or $2, %eax
2:movabs $0x5e41000000000003, %rcx
  cmp %rcx, %r12
  je 3f
  or $4, %eax
3:movabs $0x5e41000000000004, %rcx
  cmp %rcx, %r13
  je 4f
  or $8, %eax
4:movabs $0x5e41000000000005, %rcx
  cmp %rcx, %r14
  je 5f
  or $16, %eax
5:movabs $0x5e41000000000006, %rcx
  cmp %rcx, %r15
  je 6f
  or $32, %eax
6:add $8, %rsp
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbx
  pop %rbp
  ret
  .size bpfkit_call_with_sentinels, .-bpfkit_call_with_sentinels
)");

// Runs compiled code as the engine does, through the sentinel thunk.
uint64_t clobbered_registers(const std::vector<Instruction>& p, bool checked, uint32_t* error_kind) {
  vm::jit::CodegenOptions o;
  o.checked = checked;
  const vm::Program program = program_of(p);
  const vm::jit::CompiledProgram c = vm::jit::compile(program, o);
  const vm::jit::ExecutableMemory code(c.code);
  core::ExecEnv env;
  std::vector<core::HelperFn> fns;
  for (int32_t id : c.helper_ids) {
    const core::HelperSpec* spec = env.helpers->find(id);
    fns.push_back(spec ? spec->fn : nullptr);
  }
  vm::jit::RunState state{};
  state.env = &env;
  state.helpers = fns.data();
  state.abort = &env.abort;
  state.sites = c.sites.data();
  state.budget = 1000;
  state.error_kind = 0;
  const uint64_t mask = bpfkit_call_with_sentinels(
      reinterpret_cast<vm::jit::EntryFn>(const_cast<uint8_t*>(code.data())), 0, 0, &state);
  *error_kind = state.error_kind;
  return mask;
}

TEST(JitSystem, CallerRegistersSurviveEveryExit) {
  // Each program writes r6-r9 and r10-relative memory somewhere, in a callee or in main.
  const std::vector<Instruction> writes_everything = {
      mov(6, 1), mov(7, 2), mov(8, 3), mov(9, 4), st(8, 10, -8, 1), call_local(1), exit_insn(),
      mov(6, 5), mov(7, 6), mov(8, 7), mov(9, 8), st(8, 10, -8, 2), exit_insn()};
  // Only the callee writes r6-r9, then fails (unknown helper) two frames down.
  const std::vector<Instruction> callee_fails = {mov(0, 0), call_local(1),    exit_insn(), mov(6, 5),
                                                 mov(7, 6), call_local(1),    exit_insn(), mov(8, 7),
                                                 mov(9, 8), call_helper(999), exit_insn()};
  // Endless recursion in a callee that writes r6: the depth limit stops it.
  const std::vector<Instruction> too_deep = {call_local(1), exit_insn(), mov(6, 1), call_local(-2),
                                             exit_insn()};
  // Cross-function jump (uniform layout), then a checked-mode fault in the callee.
  // f (slot 3) jumps back to an exit in main's code, which returns from f's frame.
  const std::vector<Instruction> uniform = {call_local(2), exit_insn(), exit_insn(),
                                            mov(6, 9),     mov(9, 9),   ja(-4)};
  const std::vector<Instruction> faults = {call_local(1), exit_insn(), mov(8, 1), ldx(8, 0, 8, 0),
                                           exit_insn()};
  struct Case {
    const char* name;
    const std::vector<Instruction>* program;
    uint32_t error;  // ErrorKind expected in checked mode
  };
  const Case cases[] = {
      {"writes_everything", &writes_everything, uint32_t(vm::jit::ErrorKind::None)},
      {"callee_fails", &callee_fails, uint32_t(vm::jit::ErrorKind::NoHelper)},
      {"too_deep", &too_deep, uint32_t(vm::jit::ErrorKind::CallDepth)},
      {"uniform", &uniform, uint32_t(vm::jit::ErrorKind::None)},
      {"faults", &faults, uint32_t(vm::jit::ErrorKind::Access)},
  };
  for (const Case& c : cases)
    for (bool checked : {true, false}) {
      if (!checked && c.error == uint32_t(vm::jit::ErrorKind::Access)) continue;  // would really fault
      uint32_t error = 0;
      EXPECT_EQ(clobbered_registers(*c.program, checked, &error), 0u)
          << c.name << (checked ? " checked" : "");
      if (checked) {
        EXPECT_EQ(error, c.error) << c.name;
      }
    }
}

}  // namespace
}  // namespace bpfkit::jit_test
