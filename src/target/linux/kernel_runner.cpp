#include "target/linux/kernel_runner.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <linux/bpf.h>

#include "base/error.h"
#include "isa/opcodes.h"
#include "target/linux/program_rewrite.h"

namespace bpfkit::target::linux_kernel {
namespace {

using isa::RawInsn;

RawInsn make(uint8_t opcode, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  RawInsn insn;
  insn.opcode = opcode;
  insn.dst = dst & 0xf;
  insn.src = src & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}

constexpr uint8_t alu64_imm(uint8_t op) { return isa::kClassAlu64 | op | isa::kSrcK; }
const RawInsn kExit = make(isa::kClassJmp | isa::kJmpExit, 0, 0, 0, 0);

// r1 = data, r2 = LEN, with data + LEN <= data_end proven; only r1 and r2 (and r0
// on the never-taken failure path) are written, so the verifier still refuses
// programs that read other registers before writing them.
std::vector<RawInsn> prologue(size_t mem_len) {
  const int32_t len = int32_t(mem_len);
  if (mem_len == 0) {
    return {make(alu64_imm(isa::kAluMov), 1, 0, 0, 0), make(alu64_imm(isa::kAluMov), 2, 0, 0, 0)};
  }
  const uint8_t ldxw = isa::kClassLdx | isa::kModeMem | isa::kSizeW;
  return {
      make(ldxw, 2, 1, int16_t(offsetof(xdp_md, data_end)), 0),      // r2 = ctx->data_end
      make(ldxw, 1, 1, int16_t(offsetof(xdp_md, data)), 0),          // r1 = ctx->data
      make(alu64_imm(isa::kAluAdd), 1, 0, 0, len),                   // r1 += LEN
      make(isa::kClassJmp | isa::kJmpJle | isa::kSrcX, 1, 2, 2, 0),  // if r1 <= r2 goto +2
      make(alu64_imm(isa::kAluMov), 0, 0, 0, 0),                     // r0 = 0 (never: LEN bytes are there)
      kExit,
      make(alu64_imm(isa::kAluSub), 1, 0, 0, len),                   // r1 -= LEN
      make(alu64_imm(isa::kAluMov), 2, 0, 0, len),                   // r2 = LEN
  };
}

// Sends every exit of the main function to an appended `r0 >>= 32; exit`.
std::vector<RawInsn> return_high_half(std::span<const RawInsn> program) {
  std::vector<size_t> starts = function_starts(program);
  size_t main_end = starts.size() > 1 ? starts[1] : program.size();
  const RawInsn epilogue[] = {make(alu64_imm(isa::kAluRsh), 0, 0, 0, 32), kExit};
  std::vector<RawInsn> out = insert_instructions(program, main_end, epilogue);
  for (size_t i = 0; i < main_end; ++i) {
    if (out[i].opcode == kExit.opcode) {
      int64_t off = int64_t(main_end) - int64_t(i) - 1;
      if (off <= INT16_MAX) {
        out[i] = make(isa::kClassJmp | isa::kJmpJa, 0, 0, int16_t(off), 0);
      } else {
        out[i] = make(isa::kClassJmp32 | isa::kJmpJa, 0, 0, 0, int32_t(off));  // gotol
      }
    } else if (out[i].opcode == (isa::kClassLd | isa::kModeImm | isa::kSizeDw)) {
      ++i;
    }
  }
  return out;
}

bool is_verdict_errno(int err, const std::string& log) {
  switch (err) {
    case EACCES:
    case EINVAL:
    case E2BIG:
    case ENOTSUP:
    case 524:  // ENOTSUPP
      return true;
    case EPERM:
      return !log.empty();  // the verifier spoke: a refusal of the program, not of us
    default:
      return false;
  }
}

}  // namespace

std::vector<RawInsn> wrap_bare_program(std::span<const RawInsn> program, size_t mem_len, ResultHalf half) {
  if (mem_len > kMaxBareMemory) {
    throw Error("the kernel harness takes at most " + std::to_string(kMaxBareMemory) +
                " bytes of memory, not " + std::to_string(mem_len));
  }
  if (program.empty()) throw Error("instruction 0: the program is empty");
  std::vector<RawInsn> body(program.begin(), program.end());
  if (half == ResultHalf::High) body = return_high_half(body);
  return insert_instructions(body, 0, prologue(mem_len));
}

std::vector<uint8_t> bare_packet(std::span<const uint8_t> memory) {
  std::vector<uint8_t> packet(memory.begin(), memory.end());
  if (packet.size() < kMinXdpPacket) packet.resize(kMinXdpPacket, 0);
  return packet;
}

KernelProgram::KernelProgram(std::span<const RawInsn> program, size_t mem_len, bool with_high)
    : mem_len_(mem_len) {
  LoadOptions options;
  options.name = "bpfkit_bare_lo";
  low_ = load_program(BPF_PROG_TYPE_XDP, wrap_bare_program(program, mem_len, ResultHalf::Low), options);
  if (with_high) {
    options.name = "bpfkit_bare_hi";
    high_ = load_program(BPF_PROG_TYPE_XDP, wrap_bare_program(program, mem_len, ResultHalf::High), options);
  }
}

KernelProgram::Result KernelProgram::run(std::span<const uint8_t> memory, uint32_t repeat) const {
  if (memory.size() != mem_len_) {
    throw Error("kernel program was loaded for " + std::to_string(mem_len_) + " bytes of memory, got " +
                std::to_string(memory.size()));
  }
  std::vector<uint8_t> packet = bare_packet(memory);
  Result result;
  TestRunResult low = test_run_program(low_.get(), packet, repeat);
  result.r0 = low.retval;
  result.duration_ns = low.duration_ns;
  result.memory.assign(low.data_out.begin(),
                       low.data_out.begin() + std::min(mem_len_, low.data_out.size()));
  if (high_) {
    TestRunResult high = test_run_program(high_.get(), packet, repeat);
    result.r0 |= uint64_t(high.retval) << 32;
  }
  return result;
}

KernelVerdict run_in_kernel(std::span<const RawInsn> program, std::span<const uint8_t> memory) {
  KernelVerdict verdict;
  try {
    KernelProgram loaded(program, memory.size());
    KernelProgram::Result r = loaded.run(memory);
    verdict.accepted = true;
    verdict.r0 = r.r0;
    verdict.memory = std::move(r.memory);
  } catch (const BpfError& e) {
    if (!is_verdict_errno(e.error_number(), e.verifier_log())) throw;
    verdict.reason = e.what();
  }
  return verdict;
}

}  // namespace bpfkit::target::linux_kernel
