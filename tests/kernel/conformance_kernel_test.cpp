// The conformance suite with the Linux kernel as the oracle: every test the
// kernel's verifier accepts must give the expected r0 in the kernel, in bpfkit's
// interpreter and in bpfkit's JIT (and the three must leave the same memory).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/data_file.h"
#include "conformance/runner.h"
#include "isa/opcodes.h"
#include "kernel_test_util.h"
#include "target/linux/kernel_runner.h"
#include "testing/differential.h"

namespace bpfkit {
namespace {

namespace fs = std::filesystem;

fs::path conformance_tests_dir() {
  fs::path root = std::getenv("BPFKIT_CONFORMANCE_DIR")
                      ? fs::path(std::getenv("BPFKIT_CONFORMANCE_DIR"))
                      : fs::path(BPFKIT_SOURCE_DIR) / ".." / "shared" / "conformance-data";
  return fs::is_directory(root / "tests") ? root / "tests" : root;
}

std::vector<fs::path> conformance_files() {
  std::vector<fs::path> files;
  fs::path dir = conformance_tests_dir();
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".data") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Helper calls mean something else in the kernel (the suite's helper 5 returns
// its argument; the kernel's helper 5 is ktime_get_ns), so those tests have no
// kernel oracle. Returns why, or "" when the program calls no helper.
std::string helper_call_reason(const std::vector<isa::RawInsn>& prog) {
  for (size_t i = 0; i < prog.size(); ++i) {
    const isa::RawInsn& r = prog[i];
    if (r.opcode == (BPF_JMP | BPF_CALL) && r.src == 0) {
      return "calls helper " + std::to_string(r.imm) +
             ", which the suite defines differently from the kernel";
    }
    if (r.opcode == (BPF_JMP | BPF_CALL | BPF_X)) return "uses callx, which calls a helper by register";
    if (r.opcode == (BPF_LD | BPF_IMM | BPF_DW)) ++i;
  }
  return "";
}

// The verifier's own words: the last line of the log that is not a statistic.
std::string short_reason(const std::string& reason) {
  std::istringstream in(reason);
  std::string line, last, first = "";
  while (std::getline(in, line)) {
    if (first.empty()) first = line;
    if (!line.empty() && line.rfind("processed ", 0) != 0 && line.rfind("verification time", 0) != 0 &&
        line.rfind("stack depth", 0) != 0) {
      last = line;
    }
  }
  return last.empty() ? first : last;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

class ConformanceInKernel : public kernel_test::KernelTest {};

TEST_F(ConformanceInKernel, AcceptedTestsMatchExpectedInterpreterAndJit) {
  std::vector<fs::path> files = conformance_files();
  ASSERT_FALSE(files.empty()) << "no conformance tests in " << conformance_tests_dir()
                              << " (set BPFKIT_CONFORMANCE_DIR)";
  int accepted = 0, rejected = 0, not_compared = 0;
  std::string rejected_list, not_compared_list;
  for (const fs::path& file : files) {
    const std::string name = file.stem().string();
    std::vector<isa::RawInsn> prog;
    std::vector<uint8_t> mem;
    uint64_t expected = 0;
    try {
      conformance::DataFile df = conformance::read_data_file(file);
      if (!df.result) continue;  // a rejection test: nothing to compare
      expected = *df.result;
      prog = conformance::program_of(df);
      mem = df.mem.value_or(std::vector<uint8_t>{});
    } catch (const Error& e) {
      ADD_FAILURE() << name << ": cannot read the test: " << e.what();
      continue;
    }

    if (std::string why = helper_call_reason(prog); !why.empty()) {
      ++not_compared;
      not_compared_list += "  " + name + ": " + why + "\n";
      continue;
    }
    target::linux_kernel::KernelVerdict kernel = target::linux_kernel::run_in_kernel(prog, mem);
    if (!kernel.accepted) {
      ++rejected;
      rejected_list += "  " + name + ": " + short_reason(kernel.reason) + "\n";
      continue;
    }
    ++accepted;
    // Helper-free programs: bpfkit's engines with the standard helpers are the
    // suite's contract, and they also give back the memory to compare.
    EXPECT_EQ(hex(kernel.r0), hex(expected)) << name << ": the kernel disagrees with the expected result";
    for (testgen::EngineKind kind : {testgen::EngineKind::Interpreter, testgen::EngineKind::Jit}) {
      testgen::EngineOutcome out = testgen::run_engine(kind, prog, mem);
      const char* engine = testgen::engine_name(kind);
      if (!out.ran) {
        ADD_FAILURE() << name << ": the " << engine << " failed where the kernel ran: " << out.error;
        continue;
      }
      EXPECT_EQ(hex(out.r0), hex(kernel.r0)) << name << ": " << engine << " vs kernel";
      EXPECT_EQ(out.memory, kernel.memory) << name << ": " << engine << " left different memory";
    }
  }
  std::printf("conformance in the kernel: %d accepted and compared, %d rejected by the verifier, "
              "%d not comparable (of %zu files)\n",
              accepted, rejected, not_compared, files.size());
  std::printf("rejected by the kernel's verifier:\n%snot comparable:\n%s", rejected_list.c_str(),
              not_compared_list.c_str());
  EXPECT_GE(accepted, 150) << "the kernel accepted too few conformance tests: the harness is suspect";
}

}  // namespace
}  // namespace bpfkit
