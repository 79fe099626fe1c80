#include "target/linux/kernel_btf.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bpfkit::target::linux_kernel {

namespace {

uint32_t read_u32(std::span<const uint8_t> b, size_t at) {
  uint32_t v = 0;
  if (at + 4 <= b.size()) std::memcpy(&v, b.data() + at, 4);
  return v;
}

}  // namespace

namespace {

long try_load_btf(std::span<const uint8_t> blob, std::vector<char>* log) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.btf = reinterpret_cast<uintptr_t>(blob.data());
  attr.btf_size = uint32_t(blob.size());
  if (log) {
    attr.btf_log_buf = reinterpret_cast<uintptr_t>(log->data());
    attr.btf_log_size = uint32_t(log->size());
    attr.btf_log_level = 1;
  }
  return syscall(__NR_bpf, BPF_BTF_LOAD, &attr, sizeof(attr));
}

}  // namespace

UniqueFd load_btf(std::span<const uint8_t> blob) {
  // Without a log first (the kernel formats nothing); the log only to explain a refusal.
  long fd = try_load_btf(blob, nullptr);
  if (fd >= 0) return UniqueFd(int(fd));
  const int err = errno;
  std::vector<char> log(1u << 20);
  fd = try_load_btf(blob, &log);
  if (fd >= 0) return UniqueFd(int(fd));
  std::string text(log.data(), strnlen(log.data(), log.size()));
  throw BpfError("loading BTF (" + std::to_string(blob.size()) + " bytes) failed", err, std::move(text));
}

BtfStrings::BtfStrings(std::span<const uint8_t> blob) {
  // struct btf_header: magic, version, flags, hdr_len, type_off, type_len, str_off, str_len.
  if (blob.size() < 24) return;
  const uint64_t start = uint64_t(read_u32(blob, 4)) + read_u32(blob, 16);
  const uint64_t end = start + read_u32(blob, 20);
  if (end > blob.size()) return;
  const char* base = reinterpret_cast<const char*>(blob.data());
  for (uint64_t at = start; at < end;) {
    const size_t len = strnlen(base + at, size_t(end - at));
    offsets_.try_emplace(std::string_view(base + at, len), uint32_t(at - start));
    at += len + 1;
  }
}

std::optional<uint32_t> BtfStrings::offset_of(std::string_view s) const {
  auto it = offsets_.find(s);
  if (it == offsets_.end()) return std::nullopt;
  return it->second;
}

ProgramBtfInfo program_btf_info(const object::ProgramDefinition& program, const BtfStrings& strings) {
  ProgramBtfInfo info;
  for (const object::FuncInfo& f : program.funcs) info.funcs.push_back({uint32_t(f.insn), f.btf_type_id});
  // The kernel wants line info only beside func info, and every record's strings valid.
  if (info.funcs.empty()) return info;
  for (const object::SourceLine& l : program.lines) {
    const auto file = strings.offset_of(l.file), text = strings.offset_of(l.text);
    if (!file || !text) {
      info.lines.clear();
      break;
    }
    info.lines.push_back({uint32_t(l.insn), *file, *text, (l.line << 10) | (l.column & 0x3ff)});
  }
  return info;
}

}  // namespace bpfkit::target::linux_kernel
