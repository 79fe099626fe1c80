// Soundness fuzzing of the verifier (issue 4, item 6): programs the verifier
// should accept often, exercising its rules (packet bounds, map values and null
// checks, stack initialisation, pointer arithmetic with bounded scalars, loops,
// helpers, callbacks, ring buffer references, bpf-to-bpf calls), plus one-
// instruction mutations of them. Whatever the verifier accepts is run on the
// checked interpreter and the checked JIT (every memory access checked against
// exactly the memory the program may touch: the packet [data, data_end), the
// context, map values and records helpers return, the stack) and on the
// unchecked interpreter and JIT; a check that fires, a run that fails, or engines
// that disagree (return value, packet out, map contents) is a soundness bug.
//
// An uninitialised stack read shows as a disagreement: checked engines zero the
// stack, the unchecked ones run on host stack poisoned just before the run.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "isa/instruction.h"
#include "testing/random_program.h"
#include "verifier/verifier.h"

namespace bpfkit::testgen {

struct SoundProgram {
  uint64_t seed = 0;
  uint32_t prog_type = 0;  // BPF_PROG_TYPE_XDP, _SCHED_CLS or _SOCKET_FILTER
  bool privileged = true;  // verified as CAP_BPF + CAP_PERFMON (pointer leaks allowed)
  // False when the program reads a clock or prandom: only safety is checked, not agreement.
  bool deterministic = true;
  std::vector<verifier::MapInfo> maps;  // lddw map_idx(i) refers to maps[i]
  std::vector<isa::RawInsn> insns;
};

struct SoundnessGenOptions {
  size_t snippets = 0;         // building blocks in the main function; 0: varies with the seed
  unsigned fault_percent = 5;  // chance that a block breaks one of its own rules
};

// The same seed gives the same program everywhere.
SoundProgram generate_sound_program(uint64_t seed, const SoundnessGenOptions& options = {});

// One random change to one instruction (offset, immediate, register, opcode,
// jump target, or a swap/drop of an instruction); returns what was changed.
std::string mutate_sound_program(SoundProgram& program, Rng& rng);

// The verifier's verdict on `program` with the user target's helper table.
verifier::VerifyResult verify_sound_program(const SoundProgram& program, uint32_t log_level = 0);

// One input of a run: the packet (packet types) or ignored.
struct SoundInput {
  std::vector<uint8_t> packet;
};
std::vector<SoundInput> sound_inputs(Rng& rng, size_t count);

struct SoundnessVerdict {
  bool accepted = false;
  std::string rejection;  // when !accepted: the verifier's message
  bool bug = false;
  std::string report;  // when bug: listing, verifier log (level 2), inputs, what each engine did
  // Set when every engine refused to load what the verifier accepted (not counted as a
  // bug: the program never runs; an engine false positive to look at).
  std::string refused;
};

// Verifies `program` and, when accepted, runs it on every input on the four engines.
// `run_rejected`: run it even when rejected (tests of the oracle itself: a rejected
// unsafe program must show as a bug).
SoundnessVerdict check_soundness(const SoundProgram& program, std::span<const SoundInput> inputs,
                                 bool run_rejected = false);

struct SoundnessStats {
  uint64_t generated = 0, accepted = 0, run = 0;
  uint64_t mutants = 0, mutants_accepted = 0;
  uint64_t bugs = 0;
  std::string first_bug;                                  // the report of the first bug
  std::map<std::string, uint64_t> rejections;             // generated (not mutated) programs, by reject kind
  std::map<std::string, std::string> rejection_examples;  // the first message of each kind
  uint64_t engine_refusals = 0;                           // accepted programs all engines refused to load
  std::string first_refusal;
  std::map<std::string, uint64_t> refusal_reasons;  // their messages, without the instruction index
};

// Generates the program of `seed`, checks it, then `mutations` mutants of it
// (each one change away from the original) and checks those; adds to `stats`.
// `on_bug` (may be empty) gets each bug's report.
void soundness_round(uint64_t seed, size_t mutations, SoundnessStats& stats,
                     const SoundnessGenOptions& options = {}, void (*on_bug)(const std::string&) = nullptr);

}  // namespace bpfkit::testgen
