#include "target/linux/stack_format.h"

#include <cstdio>

namespace bpfkit::target::linux_kernel {
namespace {

std::string hex_digits(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// The frames a trace prints: stack maps pad short traces with zeros.
std::span<const uint64_t> frames_of(std::span<const uint64_t> ips, size_t limit) {
  size_t n = 0;
  while (n < ips.size() && n < limit && ips[n] != 0) ++n;
  return ips.first(n);
}

std::string name_plus_offset(const std::optional<SymbolHit>& hit, uint64_t addr) {
  if (!hit) return format_unknown_address(addr);
  return hit->name + "+" + std::to_string(hit->offset);
}

std::string fold_name(std::string name) {
  for (char& c : name) {
    if (c == ';') c = ':';
    else if (c == '\n') c = ' ';
  }
  return name;
}

}  // namespace

std::string format_unknown_address(uint64_t addr) { return addr == 0 ? "0" : "0x" + hex_digits(addr); }

std::string format_kstack(std::span<const uint64_t> ips, const KernelSymbols& symbols, StackMode mode, size_t limit,
                          int indent) {
  const auto frames = frames_of(ips, limit);
  if (frames.empty()) return "";
  std::string out = "\n";
  const std::string padding(size_t(indent > 0 ? indent : 0), ' ');
  for (const uint64_t ip : frames) {
    if (mode == StackMode::perf) {
      out += "\t" + hex_digits(ip) + " ";
    } else {
      out += padding;
    }
    out += name_plus_offset(symbols.resolve(ip), ip);
    out += "\n";
  }
  return out;
}

std::string format_ustack(std::span<const uint64_t> ips, const UserSymbols& symbols, StackMode mode, size_t limit,
                          int indent) {
  const auto frames = frames_of(ips, limit);
  if (frames.empty()) return "";
  std::string out = "\n";
  const std::string padding(size_t(indent > 0 ? indent : 0), ' ');
  for (const uint64_t ip : frames) {
    const auto hit = symbols.resolve(ip);
    if (mode == StackMode::perf) {
      out += "\t" + hex_digits(ip) + " " + name_plus_offset(hit, ip) + " (" + (hit ? hit->module : "[unknown]") + ")";
    } else {
      out += padding + name_plus_offset(hit, ip);
    }
    out += "\n";
  }
  return out;
}

std::string format_ksym(uint64_t addr, const KernelSymbols& symbols) {
  const auto hit = symbols.resolve(addr);
  return hit ? hit->name : format_unknown_address(addr);
}

std::string format_usym(uint64_t addr, const UserSymbols& symbols) {
  const auto hit = symbols.resolve(addr);
  return hit ? hit->name : format_unknown_address(addr);
}

std::string fold_stack(std::string_view comm, std::span<const uint64_t> user_ips, const UserSymbols* user,
                       std::span<const uint64_t> kernel_ips, const KernelSymbols* kernel,
                       const FoldOptions& options) {
  std::vector<std::string> parts;
  if (!comm.empty()) parts.push_back(fold_name(std::string(comm)));
  if (user) {
    const auto frames = frames_of(user_ips, options.limit);
    for (size_t i = frames.size(); i-- > 0;) {
      const auto hit = user->resolve(frames[i]);
      parts.push_back(hit ? fold_name(hit->name) : "[unknown]");
    }
  }
  if (kernel) {
    const auto frames = frames_of(kernel_ips, options.limit);
    if (options.delimiter && !frames.empty()) parts.push_back("-");
    for (size_t i = frames.size(); i-- > 0;) {
      const auto hit = kernel->resolve(frames[i]);
      std::string name = hit ? fold_name(hit->name) : "[unknown]";
      if (options.annotate_kernel) name += "_[k]";
      parts.push_back(std::move(name));
    }
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ';';
    out += parts[i];
  }
  return out;
}

std::string folded_line(std::string_view folded, uint64_t count) {
  return std::string(folded) + " " + std::to_string(count) + "\n";
}

}  // namespace bpfkit::target::linux_kernel
