// Decoding raw slots into typed instructions and encoding them back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "isa/instruction.h"

namespace bpfkit::isa {

// A malformed encoding: names the slot index and the offending field.
class DecodeError : public Error {
 public:
  DecodeError(size_t slot, const std::string& what)
      : Error("instruction " + std::to_string(slot) + ": " + what), slot_(slot) {}
  size_t slot() const { return slot_; }

 private:
  size_t slot_;
};

// One decoded instruction and the raw slot it starts at (jump offsets count slots).
struct DecodedInsn {
  uint32_t slot = 0;
  Instruction insn;
};

// Raw bytes to slots. Throws Error when the length is not a multiple of 8.
std::vector<RawInsn> raw_from_bytes(std::span<const uint8_t> bytes);
std::vector<uint8_t> bytes_from_raw(std::span<const RawInsn> raw);

// Decodes the instruction starting at `slot`. Throws DecodeError for unknown
// opcodes, non-zero reserved fields, invalid registers and truncated lddw.
Instruction decode_insn(std::span<const RawInsn> raw, size_t slot);

// Decodes every instruction and checks the program's shape: not empty, jump and
// call targets inside the program and never into the second slot of an lddw.
std::vector<DecodedInsn> decode_program(std::span<const RawInsn> raw);

// Encodes one instruction into its 1 or 2 slots.
void encode_insn(const Instruction& insn, std::vector<RawInsn>& out);
std::vector<RawInsn> encode_program(std::span<const Instruction> insns);

}  // namespace bpfkit::isa
