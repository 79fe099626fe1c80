// Shared by bpfkit's bpftool-like commands (prog, map, link, feature): bpftool's
// word grammar (`id 12`, `name foo`, `pinned /sys/fs/bpf/x`, `key hex 01 00`),
// selecting kernel objects by it, and printing JSON as bpftool does (-j, -p).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "object/btf.h"
#include "target/linux/kernel_objects.h"

namespace bpfkit::cli {

// The words after the verb, consumed left to right; errors name the word's position.
class Words {
 public:
  explicit Words(std::vector<std::string> words) : words_(std::move(words)) {}
  bool done() const { return pos_ >= words_.size(); }
  const std::string& peek() const;
  bool peek_is(const char* word) const { return !done() && words_[pos_] == word; }
  // The next word; `what` says what was expected when there is none.
  std::string next(const std::string& what);
  uint32_t next_u32(const std::string& what);
  size_t position() const { return pos_ + 1; }
  // Throws when words are left over.
  void expect_end(const std::string& command) const;

 private:
  std::vector<std::string> words_;
  size_t pos_ = 0;
};

struct ToolOptions {
  bool json = false;
  bool pretty = false;
};

// Prints `j` as bpftool does with -j (one line) or -j -p (indented by 4).
void print_json(const nlohmann::json& j, const ToolOptions& options);
void print_json(const nlohmann::ordered_json& j, const ToolOptions& options);

// The kernel must be usable: one sentence otherwise (not root, no bpf(2)).
void require_kernel_bpf();

// Whether the next words select exactly one object by id or pin (bpftool then prints
// one JSON object rather than a list).
bool selects_one(const Words& words);

// Selects objects by `id N`, `name X` (programs and maps), `tag T` (programs) or
// `pinned PATH`; with no selector word, every object of that kind.
std::vector<target::linux_kernel::UniqueFd> select_objects(target::linux_kernel::KernelObjectKind kind,
                                                           Words& words, bool require_one);

// "2026-11-26T08:00:23+0000", as bpftool prints loaded_at.
std::string format_wall_time(int64_t seconds);

// Bytes as bpftool prints them in plain mode: "0a 00 00 00".
std::string hex_bytes(const std::vector<uint8_t>& bytes);

// Number of possible CPUs as the kernel counts them for per-CPU maps.
uint32_t kernel_possible_cpus();

// `key`/`value` data as bpftool takes it: numbers "0x01 0 0 0" (one per byte),
// `hex 01 00 00 00`, or — when the map has BTF — `json '{"a": 1}'` or a single
// JSON word that is not a full byte list. Stops before `stop_word`.
std::vector<uint8_t> parse_data(Words& words, size_t size, const object::Btf* btf, uint32_t type_id,
                                const std::string& what, const char* stop_word);

}  // namespace bpfkit::cli
