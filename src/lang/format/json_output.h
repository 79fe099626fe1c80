// bpftrace -f json's event lines (NDJSON, one object per line) other than maps, and the
// text-mode lines of the same events. Each function returns whole lines ending in '\n'.
// Checked against bpftrace 0.17: `{"type": "printf", "data": "..."}` with ": " and ", "
// separators, strings escaped by json_escape().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lang/format/value.h"

namespace bpfkit::lang::format {

// bpftrace 0.17's string escaping: \" \\ \n \r \t, every other byte up to 0x1f as \u00XX,
// and (a quirk kept for byte-for-byte output) every byte from 0x80 as \uffffffXX, the
// sign-extended char it prints. 0x7f passes through.
std::string json_escape(std::string_view text);

// {"type": "<type>", "data": "<escaped text>"}: the shape of printf, time, join, cat and
// system() output.
std::string json_message(std::string_view type, std::string_view text);
std::string json_printf_event(std::string_view text);   // printf(): the formatted text
std::string json_time_event(std::string_view text);     // time(): the strftime result
std::string json_join_event(std::string_view text);     // join(): the joined text, no '\n'
std::string json_cat_event(std::string_view text);      // cat(): the file's contents
std::string json_syscall_event(std::string_view text);  // system(): the command's output

// print(value) of a non-map value: {"type": "value", "data": 5} / "str" / [1,"a"].
std::string json_value_event(const Value& v);
// Text mode print(value): the value then '\n' (a stack's text already starts with '\n').
std::string text_value_event(const Value& v);
// Text mode join(): the joined text then '\n'.
std::string text_join_event(std::string_view text);

// {"type": "attached_probes", "data": {"probes": N}}
std::string json_attached_probes(size_t n);
// "Attaching 1 probe...\n" / "Attaching N probes...\n" (stdout).
std::string text_attached_probes(size_t n);

// "Lost N events\n": bpftrace writes it to stderr.
std::string text_lost_events(uint64_t n);
// bpftrace 0.17 -f json prints nothing for lost events (checked): always "".
std::string json_lost_events(uint64_t n);

}  // namespace bpfkit::lang::format
