// The format engine of bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf: the
// kernel's rules (bpf_bprintf_prepare) for what a format may contain, and its
// rendering (bstr_printf / vsprintf) of what it does contain.
//
// Accepted: %d %i %u %x %X with an optional l or ll, %c, %s, %% and the pointer
// forms %p %pK %px %ps %pS %pB %pks %pus %pI4 %pi4 %pI6 %pi6 (%pI6c prints as %pI6, as in the kernel),
// each with optional flags from "0-+ " and a width. Anything else (precision, '#',
// %h, %f, %n, ...) makes the whole call fail with -EINVAL, as do non-printable
// characters and more specifiers than arguments. %s and %pI* read program-given
// addresses without faulting (an unreadable string prints as ""; an unreadable
// address as zeros). Pointers print unhashed: user space has no kernel secret to
// hide them with. Symbol forms (%ps %pS %pB) print "0x" and the address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bpfkit::helpers {

// Kernel limits: arguments of bpf_trace_printk / of the array forms, the buffer the
// arguments (strings included) are copied into, and the rendered output buffer.
inline constexpr size_t kTracePrintkMaxArgs = 3;
inline constexpr size_t kBprintfMaxArgs = 12;
inline constexpr size_t kBprintfBinArgsSize = 512;
inline constexpr size_t kBprintfBufSize = 1024;

// Formats `fmt` (the text before its NUL) with `args`; at most `max_args`
// specifiers may consume an argument (args.size() must be >= max_args or the
// extra ones read as 0). Returns 0 and the full rendering in `out`, or a negative
// errno: -EINVAL for a format the kernel refuses, -ENOSPC when the copied
// arguments overflow the kernel's 512-byte argument buffer.
int bprintf_format(std::string_view fmt, std::span<const uint64_t> args, size_t max_args, std::string& out);

}  // namespace bpfkit::helpers
