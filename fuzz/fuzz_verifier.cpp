// libFuzzer target: any instruction slots through the whole verifier, as one of a
// few program types with a hash map, an array map and a ring buffer available.
// It must return a verdict — never crash, hang or throw — and a rejection must
// name an instruction inside the program with a kind and a message.
//
// Byte 0 picks the program type and privilege; the rest are 8-byte slots.
#include <linux/bpf.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "helpers/runtime_helpers.h"
#include "verifier/verifier.h"

using namespace bpfkit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  static const uint32_t kTypes[] = {BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER,
                                    BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_RAW_TRACEPOINT};
  std::vector<isa::RawInsn> insns((size - 1) / 8);
  std::memcpy(insns.data(), data + 1, insns.size() * 8);
  verifier::VerifyInput in;
  in.insns = insns;
  in.prog_type = kTypes[(data[0] >> 1) % (sizeof kTypes / sizeof kTypes[0])];
  in.privileged = (data[0] & 1) == 0;
  in.helpers = &helpers::runtime_helpers();
  in.maps.push_back({BPF_MAP_TYPE_HASH, 4, 8, 16, 0, "hash", nullptr, false, {}});
  in.maps.push_back({BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0, "array", nullptr, false, {}});
  in.maps.push_back({BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, "events", nullptr, false, {}});
  verifier::VerifyOptions o;
  o.insn_limit = 20'000;  // keeps every input fast; the limit's own path is what is exercised
  const verifier::VerifyResult r = verifier::verify_program(in, o);
  if (!r.ok) {
    if (r.kind == verifier::RejectKind::None || r.message.empty() || (r.insn >= insns.size() && !insns.empty())) {
      std::fprintf(stderr, "rejection without a kind, a message or an instruction: %s\n", r.message.c_str());
      std::abort();
    }
  }
  return 0;
}
