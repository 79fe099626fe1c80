#include "testing/large_programs.h"

#include <linux/bpf.h>

#include "helpers/runtime_helpers.h"
#include "isa/assembler.h"

namespace bpfkit::testgen {
namespace {

// xdp_md field offsets the programs read (scalars the verifier knows nothing about).
constexpr int kIngressIfindex = 12;
constexpr int kRxQueueIndex = 16;

std::string num(int64_t v) { return std::to_string(v); }

verifier::MapInfo map_of(uint32_t type, uint32_t key, uint32_t value, uint32_t entries, const char* name) {
  verifier::MapInfo m;
  m.type = type;
  m.key_size = key;
  m.value_size = value;
  m.max_entries = entries;
  m.name = name;
  return m;
}

// r0 = lookup(map_idx(map), key at fp-4 = `key`), then "if r0 == 0 goto `null_label`".
std::string lookup(int map, const std::string& key, const std::string& null_label) {
  return "  *(u32 *)(r10 - 4) = " + key + "\n  r1 = map_idx(" + num(map) + ") ll\n  r2 = r10\n  r2 += -4\n" +
         "  call " + num(BPF_FUNC_map_lookup_elem) + "\n  if r0 == 0 goto " + null_label + "\n";
}

// A loop the verifier must walk 1000 times: each iteration adds to a slot of a map
// value chosen by the counter (so the index is a different constant every time).
LargeProgram loop_map_1000() {
  LargeProgram p{"loop_1000", BPF_PROG_TYPE_XDP, {map_of(BPF_MAP_TYPE_ARRAY, 4, 512, 1, "slots")}, {}, {}};
  p.text = "  r6 = r1\n" + lookup(0, "0", "out") +
           "  r9 = r0\n"
           "  r7 = *(u32 *)(r6 + " + num(kIngressIfindex) + ")\n"
           "  r1 = 0\n"
           "loop:\n"
           "  r2 = r1\n"
           "  r2 &= 63\n"
           "  r2 <<= 3\n"
           "  r3 = r9\n"
           "  r3 += r2\n"
           "  r4 = *(u64 *)(r3 + 0)\n"
           "  r4 += r7\n"
           "  *(u64 *)(r3 + 0) = r4\n"
           "  r1 += 1\n"
           "  if r1 < 1000 goto loop\n"
           "out:\n"
           "  r0 = 2\n"
           "  exit\n";
  return p;
}

// A loop bounded by a value from the context and a constant: every iteration may
// leave, so the exits must be pruned against each other.
LargeProgram loop_ctx_bound() {
  LargeProgram p{"loop_ctx_bound_2000", BPF_PROG_TYPE_XDP, {}, {}, {}};
  p.text = "  r2 = *(u32 *)(r1 + " + num(kIngressIfindex) + ")\n"
           "  r0 = 0\n"
           "  r1 = 0\n"
           "loop:\n"
           "  if r1 >= r2 goto done\n"
           "  if r1 > 2000 goto done\n"
           "  r0 += r1\n"
           "  r0 &= 0xffff\n"
           "  r1 += 1\n"
           "  goto loop\n"
           "done:\n"
           "  r0 = 2\n"
           "  exit\n";
  return p;
}

// Two nested 32-iteration loops.
LargeProgram nested_loops() {
  LargeProgram p{"nested_loops_32x32", BPF_PROG_TYPE_XDP, {}, {}, {}};
  p.text = "  r0 = 0\n"
           "  r1 = 0\n"
           "outer:\n"
           "  r2 = 0\n"
           "inner:\n"
           "  r3 = r1\n"
           "  r3 *= r2\n"
           "  r0 += r3\n"
           "  r2 += 1\n"
           "  if r2 < 32 goto inner\n"
           "  r1 += 1\n"
           "  if r1 < 32 goto outer\n"
           "  r0 = 2\n"
           "  exit\n";
  return p;
}

// `count` independent if/else diamonds on bits of the context: each counts a packet
// in its own map value slot on one side. 2^count paths unless states are pruned
// where the sides meet (they differ only in scratch registers the code overwrites).
LargeProgram branches(int count) {
  LargeProgram p{"branches_" + num(count), BPF_PROG_TYPE_XDP,
                 {map_of(BPF_MAP_TYPE_ARRAY, 4, uint32_t(8 * count), 1, "counters")}, {}, {}};
  std::string t = "  r6 = r1\n" + lookup(0, "0", "out") +
                  "  r9 = r0\n"
                  "  r7 = *(u32 *)(r6 + " + num(kIngressIfindex) + ")\n"
                  "  r8 = *(u32 *)(r6 + " + num(kRxQueueIndex) + ")\n";
  for (int i = 0; i < count; ++i) {
    const std::string skip = "s" + num(i);
    t += "  r2 = " + std::string(i % 2 ? "r8" : "r7") + "\n";
    t += "  r2 &= " + num(int64_t(1) << (i / 2 % 24)) + "\n";
    t += "  if r2 == 0 goto " + skip + "\n";
    t += "  r3 = *(u64 *)(r9 + " + num(8 * i) + ")\n";
    t += "  r3 += 1\n";
    t += "  *(u64 *)(r9 + " + num(8 * i) + ") = r3\n";
    t += skip + ":\n";
  }
  t += "out:\n  r0 = 2\n  exit\n";
  p.text = t;
  return p;
}

// `count` diamonds, each ORing its own bit into one register (or, with `on_stack`, a
// spilled slot) that stays live to the end, where it is only stored into a map value.
// Its 2^count values matter to nothing the verifier checks: the kernel's precision
// tracking prunes the two sides of every diamond against each other, while comparing
// the register by value doubles the work with every diamond.
LargeProgram or_diamonds(int count, bool on_stack) {
  LargeProgram p{std::string(on_stack ? "or_diamonds_stack_" : "or_diamonds_") + num(count), BPF_PROG_TYPE_XDP,
                 {map_of(BPF_MAP_TYPE_ARRAY, 4, 8, 1, "bits")}, {}, {}};
  std::string t = "  r6 = r1\n  r9 = 0\n";
  if (on_stack) t += "  *(u64 *)(r10 - 16) = r9\n";
  for (int i = 0; i < count; ++i) {
    const std::string skip = "s" + num(i);
    t += "  r2 = *(u32 *)(r6 + " + num(i % 2 ? kRxQueueIndex : kIngressIfindex) + ")\n";
    t += "  if r2 > " + num(100 * (i + 1)) + " goto " + skip + "\n";
    if (on_stack) {
      t += "  r3 = *(u64 *)(r10 - 16)\n  r3 |= " + num(int64_t(1) << i) + "\n  *(u64 *)(r10 - 16) = r3\n";
    } else {
      t += "  r9 |= " + num(int64_t(1) << i) + "\n";
    }
    t += skip + ":\n";
  }
  if (on_stack) t += "  r9 = *(u64 *)(r10 - 16)\n";
  t += lookup(0, "0", "out") + "  *(u64 *)(r0 + 0) = r9\nout:\n  r0 = 2\n  exit\n";
  p.text = t;
  return p;
}

// `count` map lookups, each followed by a null check and an update of the value,
// alternating between a hash map and an array.
LargeProgram map_lookups(int count) {
  LargeProgram p{"map_lookups_" + num(count), BPF_PROG_TYPE_XDP,
                 {map_of(BPF_MAP_TYPE_HASH, 4, 8, 1024, "hash"),
                  map_of(BPF_MAP_TYPE_ARRAY, 4, 8, 256, "array")},
                 {},
                 {}};
  std::string t;
  for (int i = 0; i < count; ++i) {
    const std::string skip = "s" + num(i);
    t += lookup(i % 2, num(i), skip);
    t += "  r1 = *(u64 *)(r0 + 0)\n  r1 += 1\n  *(u64 *)(r0 + 0) = r1\n";
    t += skip + ":\n";
  }
  t += "  r0 = 2\n  exit\n";
  p.text = t;
  return p;
}

// `count` instructions of straight-line 64- and 32-bit ALU on five registers
// seeded from the context (a fixed pseudo-random sequence).
LargeProgram straight_alu(int count) {
  LargeProgram p{"straight_alu_" + num(count), BPF_PROG_TYPE_XDP, {}, {}, {}};
  std::string t = "  r2 = *(u32 *)(r1 + " + num(kIngressIfindex) + ")\n"
                  "  r3 = *(u32 *)(r1 + " + num(kRxQueueIndex) + ")\n"
                  "  r4 = r2\n  r5 = r3\n  r1 = 7\n";
  static const char* const kOps[] = {"+=", "-=", "^=", "|=", "&=", "*=", "<<=", ">>=", "s>>="};
  uint32_t x = 2463534242u;
  const auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  for (int i = 0; i < count; ++i) {
    const uint32_t r = next();
    const int op = int(r % 9);
    const bool is64 = (r >> 4) % 4 != 0;
    const char reg = is64 ? 'r' : 'w';
    const int dst = 1 + int((r >> 8) % 5);
    const int src = 1 + int((r >> 12) % 5);
    std::string operand;
    if (op >= 6) {
      operand = num((r >> 16) % (is64 ? 64 : 32));  // shifts by a constant in range
    } else if ((r >> 20) % 2) {
      operand = std::string(1, reg) + num(src);
    } else {
      operand = num(int32_t((r >> 21) % 2001) - 1000);
    }
    t += "  " + std::string(1, reg) + num(dst) + " " + kOps[op] + " " + operand + "\n";
  }
  t += "  r0 = 2\n  exit\n";
  p.text = t;
  return p;
}

// `count` bpf_loop calls, each with a callback of its own that looks up a map
// value and counts into the caller's stack through the callback context.
LargeProgram bpf_loops(int count) {
  LargeProgram p{"bpf_loop_" + num(count), BPF_PROG_TYPE_XDP,
                 {map_of(BPF_MAP_TYPE_ARRAY, 4, 8, 64, "totals")}, {}, {}};
  std::string t = "  r6 = r1\n"
                  "  r1 = *(u32 *)(r6 + " + num(kIngressIfindex) + ")\n"
                  "  *(u64 *)(r10 - 8) = r1\n";
  for (int k = 0; k < count; ++k) {
    t += "  r1 = " + num(64 + k) + "\n  r2 = func(cb" + num(k) + ") ll\n  r3 = r10\n  r3 += -8\n  r4 = 0\n";
    t += "  call " + num(BPF_FUNC_loop) + "\n";
  }
  t += "  r0 = 2\n  exit\n";
  for (int k = 0; k < count; ++k) {
    const std::string out = "cb" + num(k) + "_out";
    t += "cb" + num(k) + ":\n  r6 = r2\n  r7 = r1\n" + lookup(0, num(k % 64), out);
    t += "  r1 = *(u64 *)(r0 + 0)\n  r1 += r7\n  *(u64 *)(r0 + 0) = r1\n";
    t += "  r1 = *(u64 *)(r6 + 0)\n  r1 += 1\n  *(u64 *)(r6 + 0) = r1\n";
    t += out + ":\n  r0 = 0\n  exit\n";
  }
  p.text = t;
  return p;
}

// Chains of `depth` bpf-to-bpf calls, each function looking up a map value with a
// bounded variable key; the main program calls every chain `repeat` times.
LargeProgram bpf_calls(int chains, int depth, int repeat) {
  LargeProgram p{"bpf_calls_" + num(chains * depth) + "x" + num(repeat), BPF_PROG_TYPE_XDP,
                 {map_of(BPF_MAP_TYPE_ARRAY, 4, 8, 16, "per_key")}, {}, {}};
  std::string t = "  r6 = *(u32 *)(r1 + " + num(kIngressIfindex) + ")\n  r7 = 0\n";
  for (int rep = 0; rep < repeat; ++rep) {
    for (int c = 0; c < chains; ++c) {
      t += "  r1 = r6\n  r1 += " + num(rep * chains + c) + "\n  call f" + num(c * depth) + "\n  r7 += r0\n";
    }
  }
  t += "  r0 = 2\n  exit\n";
  for (int c = 0; c < chains; ++c) {
    for (int d = 0; d < depth; ++d) {
      const std::string f = "f" + num(c * depth + d);
      t += f + ":\n  r6 = r1\n  r1 &= 15\n" + lookup(0, "r1", f + "_next") +
           "  r7 = *(u64 *)(r0 + 0)\n  r7 += r6\n  *(u64 *)(r0 + 0) = r7\n  r7 &= 1\n  goto " + f + "_tail\n";
      t += f + "_next:\n  r7 = 0\n" + f + "_tail:\n";
      if (d + 1 < depth) t += "  r1 = r6\n  r1 += 1\n  call f" + num(c * depth + d + 1) + "\n  r7 += r0\n";
      t += "  r0 = r7\n  exit\n";
    }
  }
  p.text = t;
  return p;
}

}  // namespace

std::vector<LargeProgram> large_programs() {
  std::vector<LargeProgram> out;
  out.push_back(loop_map_1000());
  out.push_back(loop_ctx_bound());
  out.push_back(nested_loops());
  out.push_back(branches(48));
  out.push_back(map_lookups(64));
  out.push_back(straight_alu(20000));
  out.push_back(bpf_loops(8));
  out.push_back(bpf_calls(4, 4, 4));
  out.push_back(or_diamonds(20, false));
  out.push_back(or_diamonds(20, true));
  for (LargeProgram& p : out) p.insns = isa::assemble(p.text);
  return out;
}

verifier::VerifyInput large_program_input(const LargeProgram& p) {
  verifier::VerifyInput in;
  in.insns = p.insns;
  in.prog_type = p.prog_type;
  in.maps = p.maps;
  in.program_name = p.name;
  in.helpers = &helpers::runtime_helpers();  // the helpers the user target runs with
  return in;
}

}  // namespace bpfkit::testgen
