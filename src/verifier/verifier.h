// The verifier: proves a program safe before it runs, as the kernel's does.
//
// verify_program() takes the raw instructions of one program (subprograms
// linked in, as BPF_PROG_LOAD receives them), what its maps are and its program
// type, and returns a verdict with a log a person can read: on rejection, the
// instruction, the register and why, the C source line when line info exists,
// and the branch decisions that led there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "isa/instruction.h"

namespace bpfkit::core {
class HelperTable;
}

namespace bpfkit::verifier {

// What the verifier needs to know about a map a program references
// (lddw with Pseudo::MapIdx / MapIdxValue: `imm` indexes VerifyInput::maps).
struct MapInfo {
  uint32_t type = 0;  // bpf_map_type
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t flags = 0;  // BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, ...
  std::string name;
  std::shared_ptr<const MapInfo> inner;  // map-in-map: the inner maps' shape
  bool frozen = false;  // a frozen read-only map: constant loads from it are known values
  std::vector<uint8_t> initial_value;  // frozen maps (.rodata): the bytes constant loads read
};

// A source location for an instruction (from BTF line info).
struct SourceLocation {
  size_t insn = 0;
  std::string file, text;
  uint32_t line = 0, column = 0;
};

struct VerifyInput {
  std::span<const isa::RawInsn> insns;
  uint32_t prog_type = 0;             // bpf_prog_type
  uint32_t expected_attach_type = 0;  // bpf_attach_type, as BPF_PROG_LOAD takes it
  std::vector<MapInfo> maps;
  std::vector<SourceLocation> lines;  // sorted by insn; may be empty
  std::string program_name;           // for messages ("program 'xdp_prog'")
  uint32_t ctx_size_hint = 0;         // tracepoints: the record size from the format file
  bool privileged = true;             // CAP_BPF + CAP_PERFMON (pointer leaks, comparisons allowed)
  // A bare program (the conformance suite's contract, run by the kernel behind an XDP
  // prologue): r1 points to this many bytes of writable memory (r1 = 0 when 0) and
  // r2 holds the count, instead of r1 = the context. Unset: a program of prog_type.
  std::optional<uint32_t> bare_memory;
  // The helpers calls are checked against (prototypes); nullptr: core::HelperTable::standard().
  // The user target passes the table it runs with (helpers::runtime_helpers()).
  const core::HelperTable* helpers = nullptr;
};

// Why a program was rejected: one kind per rule, so tests can check the reason
// without depending on the wording of the message.
enum class RejectKind : uint8_t {
  None,
  InvalidInstruction,   // malformed encoding, reserved fields, unknown opcode
  BadJump,              // jump out of the program / into an lddw / out of a subprogram
  Unreachable,          // instruction no path reaches
  FallThroughEnd,       // the last instruction can fall off the end
  UninitRegister,       // read of a register never written (R0 after call is written)
  UninitStack,          // read of stack bytes never written
  FramePointerWrite,    // R10 is read-only
  InvalidMemAccess,     // dereference of a scalar, of a pointer type that cannot be read/written
  NullDereference,      // map_value_or_null / mem_or_null used before a null check
  OutOfBounds,          // map value / stack / memory access outside its size
  PacketBounds,         // packet access not proven below data_end
  CtxAccess,            // context field/size/direction the program type forbids
  ReadOnlyWrite,        // write to read-only memory (rodata, ctx field, map with RDONLY_PROG)
  Misaligned,           // access the kernel rejects for alignment (e.g. stack spill, ctx)
  PointerArithmetic,    // arithmetic on a pointer the kernel forbids (ctx += var, ptr *= ..)
  PointerComparison,    // comparison of pointers the kernel forbids
  PointerLeak,          // a pointer stored to a map / returned / passed where a scalar must be
  HelperUnknown,        // no such helper (or kfunc bpfkit does not support)
  HelperNotAllowed,     // helper exists but not for this program type
  HelperArgument,       // an argument does not match the helper's prototype
  ReferenceLeak,        // acquired reference (ringbuf record, socket) not released on a path
  ReferenceInvalid,     // release of something not acquired / use after release
  ReturnValue,          // R0 not initialised or outside the program type's range at exit
  InfiniteLoop,         // a loop the verifier cannot bound
  TooComplex,           // instruction/state limit reached (BPF_COMPLEXITY_LIMIT_INSNS)
  StackLimit,           // more than 512 bytes of stack in a frame (or combined)
  CallDepth,            // more than 8 frames
  BadCall,              // malformed bpf-to-bpf call, callback, or tail call misuse
  Unsupported,          // a construct bpfkit's verifier does not handle yet (named in the message)
};

// The kernel-like name of a kind ("invalid_mem_access", ...), used in JSON and test files.
std::string_view reject_kind_name(RejectKind kind);
// The inverse: RejectKind::None for an unknown name.
RejectKind reject_kind_from_name(std::string_view name);

struct VerifyOptions {
  // 0: only the error; 1: the failing path's per-instruction states; 2: every instruction of every path.
  uint32_t log_level = 0;
  // BPF_COMPLEXITY_LIMIT_INSNS: instructions processed before giving up.
  uint64_t insn_limit = 1'000'000;
  // How stored states compare scalars when pruning. Track: by range only those whose
  // range mattered after the state (the kernel's precision tracking). AllPrecise: every
  // scalar by range (more states, never less safe). IgnoreForTesting: none by range —
  // UNSOUND, only for tests that show a program's rejection depends on precision.
  enum class Precision : uint8_t { Track, AllPrecise, IgnoreForTesting };
  Precision precision = Precision::Track;
};

struct VerifyStats {
  uint64_t insns_processed = 0;  // instructions symbolically executed (the kernel's "processed N insns")
  uint64_t states_total = 0;     // states stored for pruning
  uint64_t states_peak = 0;
  uint64_t peak_memory_bytes = 0;
  uint64_t time_ns = 0;
  uint32_t max_stack_depth = 0;  // deepest stack use of any frame chain
};

struct VerifyResult {
  bool ok = false;
  RejectKind kind = RejectKind::None;
  size_t insn = 0;        // the failing instruction (slot index), when !ok
  std::string message;    // one paragraph: "insn 12 (r0 = *(u64 *)(r0 + 0)): R0 may be NULL ..."
  std::string log;        // the log at the requested level (the message is its last part)
  VerifyStats stats;
};

// Never throws for a bad program: every problem becomes a rejection.
VerifyResult verify_program(const VerifyInput& input, const VerifyOptions& options = {});

}  // namespace bpfkit::verifier
