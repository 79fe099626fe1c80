#include "target/linux/kernel_verify.h"

#include <linux/btf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/program_type.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/program_rewrite.h"

namespace bpfkit::target::linux_kernel {
namespace {

long bpf_call(int cmd, bpf_attr& attr) { return syscall(__NR_bpf, cmd, &attr, sizeof(attr)); }

// The number after `key` in `line` ("total_states 12" -> 12), if there is one.
std::optional<uint64_t> number_after(std::string_view line, std::string_view key) {
  const size_t at = line.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + key.size();
  while (i < line.size() && line[i] == ' ') ++i;
  if (i >= line.size() || line[i] < '0' || line[i] > '9') return std::nullopt;
  uint64_t v = 0;
  for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) v = v * 10 + uint64_t(line[i] - '0');
  return v;
}


}  // namespace

// BTF holding one `static int fK(void)` per function, for func_info: the kernel wants
// it for callbacks (bpf_loop) and treats static functions in their caller's context.
std::vector<uint8_t> func_info_btf(size_t count) {
  std::vector<uint32_t> types;
  std::string strings(1, '\0');
  const auto add_string = [&strings](const std::string& s) {
    const uint32_t off = uint32_t(strings.size());
    strings += s;
    strings += '\0';
    return off;
  };
  // [1] int: signed, 32 bits.
  types.insert(types.end(),
               {add_string("int"), uint32_t(BTF_KIND_INT) << 24, 4, (BTF_INT_SIGNED << 24) | 32});
  // [2] int (void).
  types.insert(types.end(), {0, uint32_t(BTF_KIND_FUNC_PROTO) << 24, 1});
  // [3 + k] fK, static linkage (vlen 0).
  for (size_t k = 0; k < count; ++k) {
    types.insert(types.end(), {add_string("f" + std::to_string(k)), uint32_t(BTF_KIND_FUNC) << 24, 2});
  }
  btf_header h{};
  h.magic = BTF_MAGIC;
  h.version = BTF_VERSION;
  h.hdr_len = sizeof(h);
  h.type_len = uint32_t(types.size() * sizeof(uint32_t));
  h.str_off = h.type_len;
  h.str_len = uint32_t(strings.size());
  std::vector<uint8_t> blob(sizeof(h) + h.type_len + h.str_len);
  std::memcpy(blob.data(), &h, sizeof(h));
  std::memcpy(blob.data() + sizeof(h), types.data(), h.type_len);
  std::memcpy(blob.data() + sizeof(h) + h.type_len, strings.data(), strings.size());
  return blob;
}

std::optional<KernelVerifierStats> parse_kernel_verifier_stats(std::string_view log) {
  KernelVerifierStats s;
  bool found = false;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t eol = log.find('\n', pos);
    if (eol == std::string_view::npos) eol = log.size();
    const std::string_view line = log.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("processed ", 0) == 0 && line.find(" insns") != std::string_view::npos) {
      const auto insns = number_after(line, "processed");
      if (!insns) continue;
      found = true;
      s.insns_processed = *insns;
      s.max_states_per_insn = number_after(line, "max_states_per_insn").value_or(0);
      s.total_states = number_after(line, "total_states").value_or(0);
      s.peak_states = number_after(line, "peak_states").value_or(0);
    } else if (line.rfind("verification time", 0) == 0) {
      s.time_usec = number_after(line, "verification time").value_or(0);
    }
  }
  if (!found) return std::nullopt;
  return s;
}

KernelVerifyResult kernel_verify(const KernelVerifyRequest& req) {
  KernelVerifyResult result;
  // Padded with -1 so an index past the given maps names no stray descriptor.
  std::vector<int> fd_array(req.map_fds.begin(), req.map_fds.end());
  fd_array.resize(fd_array.size() + 16, -1);
  std::vector<size_t> starts;
  try {
    starts = function_starts(req.insns);
  } catch (...) {
    starts.clear();  // a malformed program: the kernel says why
  }
  UniqueFd btf;
  std::vector<bpf_func_info> func_info;
  if (starts.size() > 1) {
    const std::vector<uint8_t> blob = func_info_btf(starts.size());
    std::vector<char> btf_log(1 << 16);
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.btf = reinterpret_cast<uintptr_t>(blob.data());
    attr.btf_size = uint32_t(blob.size());
    attr.btf_log_buf = reinterpret_cast<uintptr_t>(btf_log.data());
    attr.btf_log_size = uint32_t(btf_log.size());
    attr.btf_log_level = 1;
    btf.reset(int(bpf_call(BPF_BTF_LOAD, attr)));
    if (!btf) {
      result.err = errno;
      result.log = "BPF_BTF_LOAD of the func_info BTF failed: " + std::string(strerror(result.err)) + "\n" +
                   std::string(btf_log.data(), strnlen(btf_log.data(), btf_log.size()));
      return result;
    }
    for (size_t k = 0; k < starts.size(); ++k) func_info.push_back({uint32_t(starts[k]), uint32_t(3 + k)});
  }
  std::string license(req.license);
  std::vector<char> log(req.log_level ? req.log_size : 0);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = req.prog_type;
  attr.expected_attach_type = req.expected_attach_type;
  attr.insn_cnt = uint32_t(req.insns.size());
  attr.insns = reinterpret_cast<uintptr_t>(req.insns.data());
  attr.license = reinterpret_cast<uintptr_t>(license.c_str());
  const core::ProgramTypeInfo* info = core::find_program_type(req.prog_type);
  if (info != nullptr) attr.prog_flags = info->load_flags;
  attr.fd_array = reinterpret_cast<uintptr_t>(fd_array.data());
  if (!log.empty()) {
    attr.log_level = req.log_level;
    attr.log_size = uint32_t(log.size());
    attr.log_buf = reinterpret_cast<uintptr_t>(log.data());
  }
  if (btf) {
    attr.prog_btf_fd = uint32_t(btf.get());
    attr.func_info_rec_size = sizeof(bpf_func_info);
    attr.func_info = reinterpret_cast<uintptr_t>(func_info.data());
    attr.func_info_cnt = uint32_t(func_info.size());
  }
  std::memcpy(attr.prog_name, "bpfkit_vbench", 14);
  UniqueFd fd(int(bpf_call(BPF_PROG_LOAD, attr)));
  result.err = fd ? 0 : errno;
  result.accepted = bool(fd);
  if (!log.empty()) result.log.assign(log.data(), strnlen(log.data(), log.size()));
  result.stats = parse_kernel_verifier_stats(result.log);
  return result;
}

}  // namespace bpfkit::target::linux_kernel
