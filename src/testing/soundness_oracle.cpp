// The soundness oracle: runs a verified program on four engines (interpreter and
// JIT, checked and unchecked), each with maps of its own filled alike, and
// compares what they did. Checked engines see exactly the memory the kernel lets
// a verified program touch: the context, the packet [data_meta, data_end), and
// what helpers hand out (map values, ring buffer records), plus the stack.
#include <linux/bpf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "core/packet_context.h"
#include "helpers/runtime_helpers.h"
#include "maps/map.h"
#include "maps/ringbuf_map.h"
#include "target/user/ctx_narrow_loads.h"
#include "testing/differential.h"
#include "testing/verifier_soundness.h"
#include "vm/engine.h"
#include "target/verify_object.h"

namespace bpfkit::testgen {
namespace {

struct EngineConfig {
  const char* name;
  bool jit;
  bool checked;
};
constexpr EngineConfig kEngines[] = {
    {"checked interpreter", false, true},
    {"checked jit", true, true},
    {"unchecked interpreter", false, false},
    {"unchecked jit", true, false},
};

struct RunOutcome {
  bool ok = false;
  std::string error;
  uint64_t r0 = 0;
  std::vector<uint8_t> packet;
  std::vector<uint8_t> maps;  // every map's contents, serialised
};

// Fills host stack below the caller with a pattern, so that an unchecked engine
// reading stack nobody wrote sees it rather than zeros.
[[gnu::noinline]] void poison_host_stack() {
  volatile uint8_t area[48 * 1024];
  for (size_t i = 0; i < sizeof area; ++i) area[i] = uint8_t(0xa5 ^ i);
}

// One engine with maps of its own.
class Runner {
 public:
  Runner(const SoundProgram& p, const EngineConfig& config) : config_(config), prog_type_(p.prog_type) {
    Rng fill(p.seed ^ 0x6d61707321ull);
    for (const verifier::MapInfo& info : p.maps) {
      maps_.push_back(maps::create_map(target::map_spec_of(info)));
      maps::Map& m = *maps_.back();
      std::vector<uint8_t> value(m.user_value_size());
      if (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_HASH) {
        const uint32_t n = info.type == BPF_MAP_TYPE_ARRAY ? info.max_entries : info.max_entries / 2;
        for (uint32_t k = 0; k < n; ++k) {
          // Random bytes, or words at the edges (0, -1, INT_MIN, ...) that a wrong bound would miss.
          for (size_t w = 0; w + 8 <= value.size(); w += 8) {
            const uint64_t x = fill.chance(40) ? fill.interesting64() : fill.next();
            std::memcpy(value.data() + w, &x, 8);
          }
          m.update_user(&k, value.data(), BPF_ANY);
        }
      }
      env_.maps.push_back(&m);
    }
    std::vector<isa::RawInsn> insns = p.insns;
    std::vector<uint32_t> callbacks;
    for (size_t i = 0; i + 1 < insns.size(); ++i) {
      isa::RawInsn& lo = insns[i];
      if (lo.opcode != (BPF_LD | BPF_IMM | BPF_DW)) continue;
      uint64_t value = 0;
      // The verifier reads a map fd as an index into VerifyInput::maps, as it reads map_idx: so does this
      // loader.
      const auto pseudo = isa::Pseudo(lo.src);
      if (pseudo == isa::Pseudo::MapIdx || pseudo == isa::Pseudo::MapFd) {
        value = reinterpret_cast<uint64_t>(maps_.at(size_t(uint32_t(lo.imm))).get());
      } else if (pseudo == isa::Pseudo::MapIdxValue || pseudo == isa::Pseudo::MapValue) {
        maps::Map& m = *maps_.at(size_t(uint32_t(lo.imm)));
        const uint32_t zero = 0, off = uint32_t(insns[i + 1].imm);
        void* base = m.lookup(&zero);
        if (base == nullptr || off >= m.value_size()) {
          throw Error("instruction " + std::to_string(i) + ": direct value access at offset " +
                      std::to_string(off) + " of map '" + m.name() + "' has no value there");
        }
        value = reinterpret_cast<uint64_t>(base) + off;
        direct_values_.push_back({reinterpret_cast<uint64_t>(base), m.value_size(), true});
      } else if (lo.src == BPF_PSEUDO_FUNC) {
        value = uint64_t(int64_t(i) + 1 + lo.imm);
        callbacks.push_back(uint32_t(value));
      } else {
        ++i;
        continue;
      }
      lo.src = 0;
      lo.imm = int32_t(uint32_t(value));
      insns[i + 1].imm = int32_t(uint32_t(value >> 32));
      ++i;
    }
    target::user::rewrite_narrow_ctx_loads(insns, p.prog_type, callbacks);
    program_ = std::make_unique<vm::Program>(std::move(insns), std::move(callbacks));
    vm::EngineOptions eo;
    eo.checked = config.checked;
    eo.budget = 20'000'000;
    engine_ = config.jit ? vm::make_jit(*program_, eo) : vm::make_interpreter(*program_, eo);
    packet_ = std::make_unique<core::PacketContext>(p.prog_type);
    env_.helpers = &helpers::runtime_helpers();
    env_.track_regions = config.checked;
  }

  RunOutcome run(const SoundInput& input) {
    RunOutcome out;
    packet_->reset(input.packet);
    core::PacketState& st = packet_->state();
    env_.regions.clear();
    env_.abort = false;
    env_.abort_reason.clear();
    env_.tail_call = nullptr;
    env_.tail_call_count = 0;
    env_.ctx = packet_->ctx();
    env_.packet = &st;
    if (config_.checked) {
      const bool xdp = prog_type_ == BPF_PROG_TYPE_XDP;
      env_.allow(env_.ctx, xdp ? sizeof(xdp_md) : sizeof(__sk_buff), !xdp);
      uint8_t* const first = st.meta ? st.meta : st.data;
      env_.allow(reinterpret_cast<uint64_t>(first), uint64_t(st.data_end - first), true);
      for (const core::MemoryRegion& r : direct_values_) env_.allow(r.begin, r.size, r.writable);
    }
    try {
      if (!config_.checked) poison_host_stack();
      out.r0 = engine_->run(env_.ctx, 0, env_);
      out.ok = true;
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    const auto pkt = packet_->packet_out();
    out.packet.assign(pkt.begin(), pkt.end());
    dump_maps(out.maps);
    return out;
  }

 private:
  void dump_maps(std::vector<uint8_t>& out) {
    auto put = [&](const void* p, size_t n) {
      const auto* b = static_cast<const uint8_t*>(p);
      out.insert(out.end(), b, b + n);
    };
    for (auto& m : maps_) {
      if (auto* rb = dynamic_cast<maps::RingBufMap*>(m.get())) {
        // Record contents may hold bytes nobody wrote: compare their number and sizes.
        rb->consume([&](std::span<const uint8_t> rec) {
          const uint64_t n = rec.size();
          put(&n, sizeof n);
        });
        continue;
      }
      std::vector<std::pair<uint32_t, std::vector<uint8_t>>> entries;
      uint32_t key = 0, next = 0;
      const uint32_t* prev = nullptr;
      std::vector<uint8_t> value(m->user_value_size());
      while (m->get_next_key_user(prev, &next) == 0) {
        if (m->lookup_user(&next, value.data()) == 0) entries.emplace_back(next, value);
        key = next;
        prev = &key;
        if (entries.size() > 4096) break;
      }
      std::sort(entries.begin(), entries.end());
      for (const auto& [k, v] : entries) {
        put(&k, sizeof k);
        put(v.data(), v.size());
      }
    }
  }

  EngineConfig config_;
  uint32_t prog_type_;
  std::vector<std::unique_ptr<maps::Map>> maps_;
  std::vector<core::MemoryRegion> direct_values_;  // values lddw map_value points into
  std::unique_ptr<vm::Program> program_;
  std::unique_ptr<vm::Engine> engine_;
  std::unique_ptr<core::PacketContext> packet_;
  core::ExecEnv env_;
};

std::string describe(const RunOutcome& o) {
  if (!o.ok) return "error: " + o.error;
  char buf[64];
  std::snprintf(buf, sizeof buf, "r0 = 0x%llx", static_cast<unsigned long long>(o.r0));
  return buf;
}

// The first difference between two outcomes, or "".
std::string difference(const RunOutcome& a, const RunOutcome& b) {
  if (a.r0 != b.r0) return "r0 differs";
  if (a.packet != b.packet) {
    for (size_t i = 0; i < std::min(a.packet.size(), b.packet.size()); ++i) {
      if (a.packet[i] != b.packet[i]) return "packet byte " + std::to_string(i) + " differs";
    }
    return "packet length differs";
  }
  if (a.maps != b.maps) return "map contents differ";
  return "";
}

// False when the program calls a helper whose result may differ between runs (a
// clock, prandom, ...): a mutation can turn any call into one of those.
bool deterministic(const SoundProgram& p) {
  static constexpr int32_t kDeterministic[] = {
      BPF_FUNC_map_lookup_elem,  BPF_FUNC_map_update_elem, BPF_FUNC_map_delete_elem,
      BPF_FUNC_ringbuf_output,   BPF_FUNC_ringbuf_reserve, BPF_FUNC_ringbuf_submit,
      BPF_FUNC_ringbuf_discard,  BPF_FUNC_ringbuf_query,   BPF_FUNC_loop,
      BPF_FUNC_get_smp_processor_id};
  if (!p.deterministic) return false;
  for (const isa::RawInsn& r : p.insns) {
    if (r.opcode != (BPF_JMP | BPF_CALL) || r.src != 0) continue;
    if (std::find(std::begin(kDeterministic), std::end(kDeterministic), r.imm) == std::end(kDeterministic)) {
      return false;
    }
  }
  return true;
}

}  // namespace

SoundnessVerdict check_soundness(const SoundProgram& program, std::span<const SoundInput> inputs,
                                 bool run_rejected) {
  SoundnessVerdict verdict;
  const verifier::VerifyResult v = verify_sound_program(program);
  verdict.accepted = v.ok;
  if (!v.ok) verdict.rejection = std::string(verifier::reject_kind_name(v.kind)) + ": " + v.message;
  if (!v.ok && !run_rejected) return verdict;

  // For a crash (an unchecked engine, or an engine bug): BPFKIT_SOUNDFUZZ_TRACE=1 shows each program first.
  static const bool trace = std::getenv("BPFKIT_SOUNDFUZZ_TRACE") != nullptr;
  if (trace)
    std::fprintf(stderr, "running seed %llu:\n%s", static_cast<unsigned long long>(program.seed),
                 program_listing(program.insns).c_str());
  std::vector<std::vector<RunOutcome>> outcomes;  // [engine][input]
  std::string problem;
  for (const EngineConfig& config : kEngines) {
    // A checked engine that stopped on a check: the unchecked ones would do the damage for real.
    if (!config.checked && !problem.empty()) break;
    std::vector<RunOutcome> runs;
    std::unique_ptr<Runner> runner;
    try {
      runner = std::make_unique<Runner>(program, config);
    } catch (const std::exception& e) {
      // Every engine refusing what the verifier accepted: an engine false positive
      // (e.g. an unreachable `r10 = r10`, which the kernel accepts), reported apart.
      const std::string refusal = e.what();
      if (&config == &kEngines[0] || refusal == verdict.refused) {
        verdict.refused = refusal;
        continue;
      }
      problem = std::string(config.name) + " could not load the program: " + refusal;
      break;
    }
    if (!verdict.refused.empty()) {
      problem =
          std::string(config.name) + " loads the program other engines refuse (" + verdict.refused + ")";
      break;
    }
    for (const SoundInput& in : inputs) runs.push_back(runner->run(in));
    for (size_t i = 0; i < runs.size() && problem.empty(); ++i) {
      if (!runs[i].ok) problem = std::string(config.name) + " failed on input " + std::to_string(i);
    }
    outcomes.push_back(std::move(runs));
  }
  if (problem.empty() && deterministic(program) && !program.privileged) {
    for (size_t e = 1; e < outcomes.size() && problem.empty(); ++e) {
      for (size_t i = 0; i < inputs.size() && problem.empty(); ++i) {
        const std::string d = difference(outcomes[0][i], outcomes[e][i]);
        if (!d.empty()) {
          problem = std::string(kEngines[e].name) + " disagrees with the checked interpreter on input " +
                    std::to_string(i) + ": " + d;
        }
      }
    }
  }
  if (problem.empty()) {
    if (!verdict.refused.empty()) {
      verdict.report = "ENGINES REFUSE A VERIFIED PROGRAM (seed " + std::to_string(program.seed) +
                       "): " + verdict.refused + "\nprogram:\n" + program_listing(program.insns);
    }
    return verdict;
  }

  verdict.bug = true;
  std::string& r = verdict.report;
  r += "SOUNDNESS BUG (seed " + std::to_string(program.seed) + ", prog type " +
       std::to_string(program.prog_type) + (program.privileged ? ", privileged" : ", unprivileged") +
       "): " + problem + "\n";
  r += "program:\n" + program_listing(program.insns);
  r += "maps:";
  for (const verifier::MapInfo& m : program.maps) {
    r += " " + m.name + "(type " + std::to_string(m.type) + ", value " + std::to_string(m.value_size) +
         ", entries " + std::to_string(m.max_entries) + ")";
  }
  r += "\n";
  for (size_t i = 0; i < inputs.size(); ++i) {
    r += "input " + std::to_string(i) + " (" + std::to_string(inputs[i].packet.size()) + " bytes):\n" +
         hex_dump(inputs[i].packet);
  }
  for (size_t e = 0; e < outcomes.size(); ++e) {
    for (size_t i = 0; i < outcomes[e].size(); ++i) {
      r += std::string(kEngines[e].name) + ", input " + std::to_string(i) + ": " + describe(outcomes[e][i]) +
           "\n";
    }
  }
  r += "verifier log (level 2):\n" + verify_sound_program(program, 2).log + "\n";
  return verdict;
}

void soundness_round(uint64_t seed, size_t mutations, SoundnessStats& stats,
                     const SoundnessGenOptions& options, void (*on_bug)(const std::string&)) {
  const SoundProgram original = generate_sound_program(seed, options);
  Rng rng(seed ^ 0x736f756e64ull);
  const std::vector<SoundInput> inputs = sound_inputs(rng, 3);
  auto record = [&](const SoundnessVerdict& v, const std::string& what) {
    if (!v.bug) return;
    ++stats.bugs;
    const std::string report = what + "\n" + v.report;
    if (stats.first_bug.empty()) stats.first_bug = report;
    if (on_bug) on_bug(report);
  };
  ++stats.generated;
  const SoundnessVerdict v = check_soundness(original, inputs);
  if (v.accepted) {
    ++stats.accepted;
    ++stats.run;
  } else {
    const std::string kind = v.rejection.substr(0, v.rejection.find(':'));
    if (stats.rejections[kind]++ == 0) stats.rejection_examples[kind] = v.rejection;
  }
  auto reason = [](const std::string& refusal) {
    const size_t colon = refusal.find(": ");
    return colon == std::string::npos ? refusal : refusal.substr(colon + 2);
  };
  if (!v.refused.empty()) {
    ++stats.refusal_reasons[reason(v.refused)];
    ++stats.engine_refusals;
    if (stats.first_refusal.empty()) stats.first_refusal = v.report;
  }
  record(v, "generated program, seed " + std::to_string(seed));
  for (size_t m = 0; m < mutations; ++m) {
    SoundProgram mutant = original;
    const std::string change = mutate_sound_program(mutant, rng);
    ++stats.mutants;
    const SoundnessVerdict mv = check_soundness(mutant, inputs);
    if (mv.accepted) {
      ++stats.mutants_accepted;
      ++stats.run;
    }
    if (!mv.refused.empty()) {
      ++stats.refusal_reasons[reason(mv.refused)];
      ++stats.engine_refusals;
      if (stats.first_refusal.empty()) stats.first_refusal = change + "\n" + mv.report;
    }
    record(mv, "mutant " + std::to_string(m) + " of seed " + std::to_string(seed) + " (" + change + ")");
  }
}

}  // namespace bpfkit::testgen
