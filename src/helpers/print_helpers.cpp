// bpf_trace_printk, bpf_trace_vprintk, bpf_snprintf (over the format engine) and bpf_strncmp.
#include <linux/bpf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "helpers/helper_support.h"
#include "helpers/printk_format.h"

namespace bpfkit::helpers::detail {
namespace {

uint64_t neg(int err) { return uint64_t(int64_t(err)); }

// One trace line, as trace_pipe shows it: the rendered text, cut to the kernel's
// buffer, without its trailing newline.
void emit_line(core::ExecEnv* env, const std::string& text) {
  std::string_view line(text.data(), std::min(text.size(), kBprintfBufSize - 1));
  if (const size_t nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (env && env->on_printk) {
    env->on_printk(line);
  } else {
    std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
  }
}

// The format must hold a NUL within its size: the text before it.
bool format_text(uint64_t fmt, uint64_t fmt_size, std::string_view& text) {
  const auto* p = reinterpret_cast<const char*>(fmt);
  if (!p || fmt_size == 0) return false;
  const void* nul = std::memchr(p, 0, size_t(uint32_t(fmt_size)));
  if (!nul) return false;
  text = std::string_view(p, size_t(static_cast<const char*>(nul) - p));
  return true;
}

// Returns what bstr_printf does: the length of the whole rendering.
uint64_t trace_printk(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  std::string_view fmt;
  if (!format_text(r1, r2, fmt)) return neg(-EINVAL);
  const uint64_t args[kTracePrintkMaxArgs] = {r3, r4, r5};
  std::string out;
  if (int err = bprintf_format(fmt, args, kTracePrintkMaxArgs, out); err < 0) return neg(err);
  emit_line(env, out);
  return out.size();
}

// The array forms take data_len bytes of u64 arguments, at most 12.
bool array_args(uint64_t data, uint64_t data_len, std::span<const uint64_t>& args) {
  const uint32_t len = uint32_t(data_len);
  if (len % 8 || len > kBprintfMaxArgs * 8 || (len && !data)) return false;
  args = std::span<const uint64_t>(reinterpret_cast<const uint64_t*>(data), len / 8);
  return true;
}

uint64_t trace_vprintk(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  std::span<const uint64_t> args;
  if (!array_args(r3, r4, args)) return neg(-EINVAL);
  std::string_view fmt;
  if (!format_text(r1, r2, fmt)) return neg(-EINVAL);
  std::string out;
  if (int err = bprintf_format(fmt, args, args.size(), out); err < 0) return neg(err);
  emit_line(env, out);
  return out.size();
}

// Returns the size the whole rendering needs, its NUL included; writes at most str_size bytes.
uint64_t snprintf_helper(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  std::span<const uint64_t> args;
  if (!array_args(r4, r5, args)) return neg(-EINVAL);
  const auto* fmt = reinterpret_cast<const char*>(r3);
  if (!fmt) return neg(-EINVAL);
  std::string out;
  if (int err = bprintf_format(fmt, args, args.size(), out); err < 0) return neg(err);
  const uint32_t size = uint32_t(r2);
  if (size && r1) {
    const size_t n = std::min<size_t>(out.size(), size - 1);
    std::memcpy(reinterpret_cast<char*>(r1), out.data(), n);
    reinterpret_cast<char*>(r1)[n] = 0;
  }
  return out.size() + 1;
}

// The kernel's strncmp: -1, 0 or 1, comparing unsigned bytes.
uint64_t strncmp_helper(BPFKIT_HELPER_ARGS) {
  BPFKIT_HELPER_UNUSED;
  const auto* a = reinterpret_cast<const uint8_t*>(r1);
  const auto* b = reinterpret_cast<const uint8_t*>(r3);
  for (uint32_t i = 0; i < uint32_t(r2); ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? uint64_t(-1) : 1;
    if (!a[i]) break;
  }
  return 0;
}

}  // namespace

void add_print_helpers(core::HelperTable& t) {
  using A = ArgKind;
  t.add({BPF_FUNC_trace_printk, "trace_printk",
         proto(RetKind::Integer, {A::PtrToMem, A::ConstSize}),  // r3-r5 unchecked, as the kernel's
         trace_printk});
  t.add({BPF_FUNC_trace_vprintk, "trace_vprintk",
         proto(RetKind::Integer, {A::PtrToMem, A::ConstSize, A::PtrToMemOrNull, A::ConstSizeOrZero}),
         trace_vprintk});
  t.add({BPF_FUNC_snprintf, "snprintf",
         proto(RetKind::Integer, {A::PtrToMemOrNull, A::ConstSizeOrZero, A::PtrToConstStr, A::PtrToMemOrNull,
                                  A::ConstSizeOrZero}),
         snprintf_helper});
  t.add({BPF_FUNC_strncmp, "strncmp", proto(RetKind::Integer, {A::PtrToMem, A::ConstSize, A::PtrToConstStr}),
         strncmp_helper});
}

}  // namespace bpfkit::helpers::detail
