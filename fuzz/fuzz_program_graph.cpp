// libFuzzer target: any slots through build_program_graph. It must return a verdict
// (never crash, hang or throw); a rejection names an instruction inside the program;
// a graph that passes is well formed (subprograms tile the program, every successor
// is an instruction of the same subprogram, no chain deeper than 8 frames, every
// subprogram can return).
//
// Byte 0 chooses privileged (bit 0) and the input's form (bit 1): raw slots, 8 bytes
// each, or 2-byte codes for control-flow instructions (jumps, calls, func loads,
// exits, ALU), which reach the graph checks far more often than random opcodes do.
#include <linux/bpf.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "verifier/program_graph.h"

namespace {

using bpfkit::isa::RawInsn;
using namespace bpfkit::verifier;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "program graph broken: %s\n", what.c_str());
  std::abort();
}

std::vector<RawInsn> from_codes(const uint8_t* data, size_t size) {
  std::vector<RawInsn> raw;
  for (size_t i = 0; i + 1 < size; i += 2) {
    const int off = int(int8_t(data[i + 1]));  // small offsets, both ways
    switch (data[i] % 10) {
      case 0:
        raw.push_back({BPF_JMP | BPF_EXIT, 0, 0, 0, 0});
        break;
      case 1:
        raw.push_back({BPF_JMP | BPF_JA, 0, 0, int16_t(off), 0});
        break;
      case 2:
        raw.push_back({BPF_JMP32 | BPF_JA, 0, 0, 0, off});
        break;
      case 3:
        raw.push_back({BPF_JMP | BPF_JGT | BPF_K, 1, 0, int16_t(off), 0});
        break;
      case 4:
        raw.push_back({BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, off});
        break;
      case 5:
        raw.push_back({BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_loop});
        break;
      case 6:
        raw.push_back({BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0, off});
        raw.push_back({0, 0, 0, 0, 0});
        break;
      case 7:
        raw.push_back({BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, off});
        raw.push_back({0, 0, 0, 0, 0});
        break;
      case 8:
        raw.push_back({BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 0});
        break;
      default:
        raw.push_back({BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, off});
        break;
    }
  }
  return raw;
}

void check(const ProgramGraph& g) {
  const size_t n = g.size();
  if (g.subprogs.empty() || g.subprogs[0].start != 0) broken("no main program at insn 0");
  if (g.subprog_of.size() != n || g.prune_point.size() != n || g.loop_head.size() != n ||
      g.can_exit.size() != n)
    broken("per-slot vectors of the wrong size");
  for (size_t i = 0; i < g.subprogs.size(); ++i) {
    const Subprogram& sp = g.subprogs[i];
    const size_t end = i + 1 < g.subprogs.size() ? g.subprogs[i + 1].start : n;
    if (sp.start >= sp.end || sp.end != end) broken("subprogram " + std::to_string(i) + " does not tile");
    if (!g.insns[sp.start]) broken("subprogram starts in an lddw");
    if (sp.frames > kMaxCallFrames) broken("call chain too deep");
    if (!g.can_exit[sp.start]) broken("subprogram " + std::to_string(i) + " cannot return");
    for (size_t slot = sp.start; slot < sp.end; ++slot)
      if (g.subprog_of[slot] != i) broken("subprog_of wrong at " + std::to_string(slot));
  }
  for (size_t slot = 0; slot < n; ++slot) {
    if (!g.insns[slot]) continue;
    for (size_t w : g.successors(slot)) {
      if (w >= n || !g.insns[w] || g.subprog_of[w] != g.subprog_of[slot])
        broken("bad successor " + std::to_string(w) + " of " + g.describe(slot));
    }
    if (auto callee = g.callee(slot); callee && *callee >= g.subprogs.size()) broken("bad callee");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool privileged = data[0] & 1;
  std::vector<RawInsn> raw;
  if (data[0] & 2) {
    raw = from_codes(data + 1, size - 1);
  } else {
    raw.resize((size - 1) / sizeof(RawInsn));
    if (!raw.empty()) std::memcpy(raw.data(), data + 1, raw.size() * sizeof(RawInsn));
  }
  auto result = build_program_graph(raw, privileged);
  if (auto* g = std::get_if<ProgramGraph>(&result)) {
    check(*g);
  } else {
    const GraphError& e = std::get<GraphError>(result);
    if (e.kind == RejectKind::None || e.kind == RejectKind::Unsupported)
      broken("odd rejection: " + e.message);
    if (!raw.empty() && e.insn >= raw.size()) broken("rejection outside the program: " + e.message);
    if (e.message.empty()) broken("rejection without a message");
  }
  return 0;
}
