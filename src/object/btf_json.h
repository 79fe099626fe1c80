// Map keys and values as JSON, shaped by their BTF type the way `bpftool map
// dump` prints "formatted" values, and back (for filling maps from JSON):
//   - integers as numbers (bitfields too; 16-byte integers as "0x..." strings of
//     their bit pattern, as bpftool prints them, and read back as such),
//     _Bool as true/false;
//   - char arrays as strings when they hold printable text followed only by NULs,
//     other arrays as lists;
//   - structs, unions and DATASECs as objects keyed by member name (members of
//     anonymous structs/unions appear in the enclosing object, as C reads them);
//   - enums as the enumerator's name when one has the value, else the number;
//   - pointers as numbers, floats (4 or 8 bytes) as numbers;
//   - typedef/const/volatile/restrict/type tags resolved.
// Where bpftool differs, on purpose: it prints bitfields as hex strings ("0x1e",
// sign lost) where this prints numbers (and enumerator names), it nests anonymous
// members under a "" key, and it prints a char array as a string even when bytes
// follow the terminator (here those stay a list, so that the JSON round-trips).
// Without BTF, bytes are bpftool's list of hex strings ["0x0a", "0x00", ...].
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "object/btf.h"

namespace bpfkit::object {

// Bad JSON for a type (or bytes of the wrong size): names the JSON path,
// e.g. "value.addr[3]: 300 does not fit in u8".
class BtfJsonError : public Error {
 public:
  BtfJsonError(std::string path, const std::string& what)
      : Error(path + ": " + what), path_(std::move(path)) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Formats `bytes` (exactly size_of(type_id) of them) as the type says.
// BtfJsonError when the size differs or the type has no size; `root` names the
// value in messages.
nlohmann::json btf_to_json(const Btf& btf, uint32_t type_id, std::span<const uint8_t> bytes,
                           std::string_view root = "value");

// Encodes `json` as type `type_id`: the shapes btf_to_json produces, plus
//   - integers, enums, pointers and bools also as strings: "0x1f", "-3", "42";
//   - enums also as numbers; bools also as 0/1;
//   - char arrays also as lists of numbers or of one-character strings;
//   - struct/union members left out are zero; several members of a union (or of
//     an anonymous union) may be given when they agree on the bytes they share;
//   - bpftool's {"": {...}} for an anonymous struct/union member.
// Throws BtfJsonError naming the JSON path of what does not fit.
std::vector<uint8_t> json_to_btf(const Btf& btf, uint32_t type_id, const nlohmann::json& json,
                                 std::string_view root = "value");

// Raw bytes as bpftool prints them without BTF: ["0x0a", "0x00", ...].
nlohmann::json bytes_to_json(std::span<const uint8_t> bytes);

// The reverse: a list of exactly `size` bytes, each a number 0..255 or a string
// ("0x0a", "10"); also accepts one hex string of 2*size digits ("0a00...").
std::vector<uint8_t> json_to_bytes(const nlohmann::json& json, size_t size, std::string_view root = "value");

}  // namespace bpfkit::object
