// The verifier corpus (tests/verifier/corpus/*.vcase) against the running kernel's
// verifier: every case's label must be the kernel's verdict, unless the case says
// (`kernel:` with a justification) where and why the kernel differs. One test per
// corpus file, so a failure names the file; each mismatch names file:line and case
// and shows the end of the kernel's log.
//
// BPFKIT_VCASE_DUMP=1 prints every case's kernel verdict and error line, which is
// how a new case's `kernel-log:` is found.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/program_type.h"
#include "kernel_test_util.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/kernel_verify.h"
#include "target/linux/bpf_syscall.h"
#include "testing/verifier_case.h"
#include "target/verify_object.h"

namespace bpfkit {
namespace {

namespace lk = target::linux_kernel;
// BPF_LOG_STATS, which linux/bpf.h does not name: the errors and statistics, no per-insn trace.
constexpr uint32_t kLogStats = 4;
using testgen::VerifierCase;

const std::string kCorpusDir = std::string(BPFKIT_SOURCE_DIR) + "/tests/verifier/corpus";

struct KernelVerdict {
  bool accepted = false;
  int err = 0;  // errno of a rejection
  std::string log;
};

long sys_bpf(int cmd, bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

// The last `n` lines of a log.
std::string log_tail(const std::string& log, size_t n) {
  size_t pos = log.size();
  for (size_t i = 0; i < n && pos > 0; ++i) {
    pos = log.rfind('\n', pos - 1);
    if (pos == std::string::npos) return log;
  }
  return log.substr(pos + 1);
}

// The line that says why: the last one before the kernel's statistics.
std::string error_line(const std::string& log) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t eol = log.find('\n', pos);
    if (eol == std::string::npos) eol = log.size();
    lines.push_back(log.substr(pos, eol - pos));
    pos = eol + 1;
  }
  for (size_t i = lines.size(); i-- > 0;) {
    const std::string& l = lines[i];
    if (l.empty() || l.starts_with("processed ") || l.starts_with("verification time ") ||
        l.starts_with("stack depth ")) {
      continue;
    }
    return l;
  }
  return {};
}

// Where subprograms start: bpf-to-bpf call targets and `r = func(...)` targets.
// Empty when a target lies outside the program (the kernel reports that itself).
std::vector<uint32_t> subprogram_starts(const std::vector<isa::RawInsn>& insns) {
  std::vector<uint32_t> starts;
  for (size_t i = 0; i < insns.size(); ++i) {
    const isa::RawInsn& in = insns[i];
    const bool call = in.opcode == (BPF_JMP | BPF_CALL) && in.src == BPF_PSEUDO_CALL;
    const bool func = in.opcode == (BPF_LD | BPF_IMM | BPF_DW) && in.src == BPF_PSEUDO_FUNC;
    if (call || func) {
      const int64_t target = int64_t(i) + 1 + in.imm;
      if (target < 0 || target >= int64_t(insns.size())) return {};
      starts.push_back(uint32_t(target));
    }
    if (in.opcode == (BPF_LD | BPF_IMM | BPF_DW)) ++i;
  }
  if (starts.empty()) return {};
  starts.push_back(0);
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  return starts;
}

// Programs with subprograms carry BTF func_info, as clang emits it: the kernel needs it
// for callbacks (bpf_loop) and tail calls in subprograms. One `int fN(void)` per
// subprogram, static linkage (the kernel does not check a static function's arguments).
// Returns an invalid fd when the kernel refuses the BTF.
lk::UniqueFd load_func_btf(size_t count) {
  const std::vector<uint8_t> blob = lk::func_info_btf(count);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.btf = reinterpret_cast<uintptr_t>(blob.data());
  attr.btf_size = uint32_t(blob.size());
  return lk::UniqueFd(int(sys_bpf(BPF_BTF_LOAD, &attr)));  // invalid (-1) on failure, errno set
}

// One BPF_PROG_LOAD. Maps are referenced by index (BPF_PSEUDO_MAP_IDX) into fd_array,
// which is padded with -1 so that an index past the case's maps reads no stray memory.
KernelVerdict kernel_load(const VerifierCase& c, const std::vector<int>& map_fds, uint32_t log_level,
                          size_t log_size) {
  const core::ProgramTypeInfo* info = core::find_program_type(c.prog_type);
  std::vector<int> fd_array(map_fds);
  fd_array.resize(map_fds.size() + 64, -1);
  const std::vector<uint32_t> starts = subprogram_starts(c.insns);
  lk::UniqueFd btf;
  std::vector<bpf_func_info> func_info;
  if (!starts.empty()) {
    btf = load_func_btf(starts.size());
    if (!btf) {
      // No throwing here: this may run on the unprivileged helper thread.
      const int err = errno;
      return {false, err,
              "bpfkit test: BPF_BTF_LOAD of the func_info BTF failed: " + std::string(strerror(err))};
    }
    for (size_t k = 0; k < starts.size(); ++k) func_info.push_back({starts[k], uint32_t(3 + k)});
  }
  std::vector<char> log(log_size);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = c.prog_type;
  attr.insn_cnt = uint32_t(c.insns.size());
  attr.insns = reinterpret_cast<uintptr_t>(c.insns.data());
  attr.license = reinterpret_cast<uintptr_t>("GPL");
  attr.log_level = log_level;
  attr.log_size = uint32_t(log.size());
  attr.log_buf = reinterpret_cast<uintptr_t>(log.data());
  attr.expected_attach_type = c.expected_attach_type;
  attr.prog_flags = info ? info->load_flags : 0;
  attr.fd_array = reinterpret_cast<uintptr_t>(fd_array.data());
  if (btf) {
    attr.prog_btf_fd = uint32_t(btf.get());
    attr.func_info_rec_size = sizeof(bpf_func_info);
    attr.func_info = reinterpret_cast<uintptr_t>(func_info.data());
    attr.func_info_cnt = uint32_t(func_info.size());
  }
  std::memcpy(attr.prog_name, "vcase", 6);
  const int fd = int(sys_bpf(BPF_PROG_LOAD, &attr));
  KernelVerdict v;
  v.err = fd < 0 ? errno : 0;
  v.accepted = fd >= 0;
  if (fd >= 0) close(fd);
  v.log.assign(log.data(), strnlen(log.data(), log.size()));
  return v;
}

// The verdict with the kernel's messages but not its per-instruction trace
// (kLogStats): fast even for programs that run into the 1M-instruction limit.
// The log can only overflow for pathological programs; then the verdict is
// retaken without a log.
KernelVerdict kernel_verify(const VerifierCase& c, const std::vector<int>& map_fds) {
  KernelVerdict v = kernel_load(c, map_fds, kLogStats, 1u << 20);
  if (!v.accepted && v.err == ENOSPC) {
    KernelVerdict quiet = kernel_load(c, map_fds, 0, 0);
    quiet.log = v.log;
    return quiet;
  }
  return v;
}

// The failing path's per-instruction states, for a person reading a mismatch. The
// kernel keeps the end of an overflowing log, which is the part that matters.
std::string kernel_trace(const VerifierCase& c, const std::vector<int>& map_fds) {
  return kernel_load(c, map_fds, 1, 4u << 20).log;
}

// Capabilities are per thread on Linux: this thread keeps CAP_BPF (and CAP_NET_ADMIN for
// the networking program types) but gives up CAP_PERFMON and CAP_SYS_ADMIN, which is what
// the kernel's verifier treats as unprivileged (no pointer leaks or comparisons, no
// uninitialised stack reads, Spectre v1 mitigations). The kernel.unprivileged_bpf_disabled
// sysctl does not apply: it gates callers without CAP_BPF, and this thread keeps CAP_BPF.
// Returns an empty string, or why the drop failed.
std::string drop_to_cap_bpf_in_this_thread() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) != 0) return std::string("capget: ") + strerror(errno);
  const auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
  if (!has(CAP_BPF)) return "this process has no CAP_BPF";
  const auto clear = [&](int cap) {
    const uint32_t bit = ~(1u << (cap % 32));
    data[cap / 32].effective &= bit;
    data[cap / 32].permitted &= bit;
    data[cap / 32].inheritable &= bit;
  };
  clear(CAP_PERFMON);
  clear(CAP_SYS_ADMIN);
  if (syscall(SYS_capset, &header, data) != 0) return std::string("capset: ") + strerror(errno);
  if (syscall(SYS_capget, &header, data) != 0) return std::string("capget: ") + strerror(errno);
  if (has(CAP_PERFMON) || has(CAP_SYS_ADMIN) || !has(CAP_BPF)) return "capset did not take effect";
  return {};
}

// Runs `load` on a thread of its own that dropped to CAP_BPF.
template <typename Load>
auto unprivileged(Load load, std::string* why_not) {
  decltype(load()) result{};
  std::thread t([&] {
    *why_not = drop_to_cap_bpf_in_this_thread();
    if (why_not->empty()) result = load();
  });
  t.join();
  return result;
}

lk::UniqueFd create_map(const verifier::MapInfo& m) {
  lk::UniqueFd fd = lk::map_create(target::map_spec_of(m));
  if (!m.initial_value.empty()) {
    const uint32_t key = 0;
    const int rc = lk::map_update_elem(fd.get(), &key, m.initial_value.data(), BPF_ANY);
    if (rc != 0) throw lk::BpfError("writing the initial value of a corpus map", -rc);
  }
  if (m.frozen) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.map_fd = uint32_t(fd.get());
    if (sys_bpf(BPF_MAP_FREEZE, &attr) != 0) throw lk::BpfError("freezing a corpus map", errno);
  }
  return fd;
}

std::string verdict_name(bool accept) { return accept ? "accept" : "reject"; }

std::string expectation(const VerifierCase& c) {
  std::string s =
      c.expect_accept ? "accept" : "reject " + std::string(verifier::reject_kind_name(c.expect_kind));
  if (c.kernel_accepts) s += " (kernel: " + verdict_name(*c.kernel_accepts) + " -- " + c.justification + ")";
  return s;
}

std::vector<std::string> corpus_file_names() {
  std::vector<std::string> names;
  try {
    for (const std::string& f : testgen::verifier_corpus_files(kCorpusDir)) {
      names.push_back(std::filesystem::path(f).filename().string());
    }
  } catch (const Error&) {
    // No corpus: the parameterized test has no instance, and CorpusIsPresent fails.
  }
  return names;
}

class VerifierCorpusKernel : public kernel_test::KernelTest,
                             public ::testing::WithParamInterface<std::string> {};

TEST_P(VerifierCorpusKernel, EveryLabelIsTheKernelsVerdict) {
  const std::vector<VerifierCase> cases = testgen::load_verifier_case_file(kCorpusDir + "/" + GetParam());
  ASSERT_FALSE(cases.empty()) << GetParam() << " holds no case";
  const bool dump = std::getenv("BPFKIT_VCASE_DUMP") != nullptr;
  for (const VerifierCase& c : cases) {
    std::vector<lk::UniqueFd> owned;
    std::vector<int> fds;
    try {
      for (const verifier::MapInfo& m : c.maps) {
        owned.push_back(create_map(m));
        fds.push_back(owned.back().get());
      }
    } catch (const Error& e) {
      ADD_FAILURE() << c.where() << ": creating its maps failed: " << e.what();
      continue;
    }
    KernelVerdict v;
    if (c.privileged) {
      v = kernel_verify(c, fds);
    } else {
      std::string why_not;
      v = unprivileged([&] { return kernel_verify(c, fds); }, &why_not);
      if (!why_not.empty()) {
        ADD_FAILURE() << c.where() << ": cannot drop to CAP_BPF for an unprivileged load: " << why_not;
        continue;
      }
    }
    if (dump) {
      std::printf("%s:%d: [%s] kernel %s%s: %s\n", c.file.c_str(), c.line, c.name.c_str(),
                  verdict_name(v.accepted).c_str(),
                  v.accepted ? "" : (" errno " + std::to_string(v.err)).c_str(),
                  v.accepted ? "" : error_line(v.log).c_str());
    }
    if (v.accepted != c.kernel_expected_accept()) {
      std::string why_not;
      const std::string trace =
          c.privileged ? kernel_trace(c, fds) : unprivileged([&] { return kernel_trace(c, fds); }, &why_not);
      ADD_FAILURE() << c.where() << ": expected " << expectation(c) << ", but the kernel says "
                    << verdict_name(v.accepted)
                    << (v.accepted ? std::string() : " (" + lk::describe_bpf_errno(v.err) + ")")
                    << "\nkernel log tail:\n"
                    << log_tail(trace, 16);
      continue;
    }
    if (!c.kernel_log.empty() && v.log.find(c.kernel_log) == std::string::npos) {
      ADD_FAILURE() << c.where() << ": the kernel's log does not contain '" << c.kernel_log
                    << "'\nkernel log tail:\n"
                    << log_tail(v.log, 12);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, VerifierCorpusKernel, ::testing::ValuesIn(corpus_file_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(VerifierCorpusKernelSetup, CorpusIsPresent) {
  EXPECT_FALSE(corpus_file_names().empty()) << "no *.vcase file in " << kCorpusDir;
}

class VerifierCorpusPrivilege : public kernel_test::KernelTest {};

// The unprivileged mode must really be unprivileged: returning the frame pointer is
// fine with CAP_PERFMON and a pointer leak without it.
TEST_F(VerifierCorpusPrivilege, DroppingToCapBpfMakesPointerLeaksFail) {
  VerifierCase c;
  c.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  c.insns = {{uint8_t(BPF_ALU64 | BPF_MOV | BPF_X), 0, 10, 0, 0}, {uint8_t(BPF_JMP | BPF_EXIT), 0, 0, 0, 0}};
  EXPECT_TRUE(kernel_verify(c, {}).accepted);
  std::string why_not;
  const KernelVerdict v = unprivileged([&] { return kernel_verify(c, {}); }, &why_not);
  ASSERT_EQ(why_not, "");
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.log.find("leaks addr"), std::string::npos) << v.log;
  // The process itself keeps its capabilities (only the helper thread dropped them).
  EXPECT_TRUE(kernel_verify(c, {}).accepted);
}

}  // namespace
}  // namespace bpfkit
