// Compiles BPF C source with clang at test time, as users build their programs
// (clang -O2 -g -target bpf, libbpf's headers from libbpf-dev).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "run_command.h"

namespace bpfkit::test_support {

inline bool have_bpf_clang() {
  static const bool ok = run_command("command -v clang").status == 0 &&
                         std::filesystem::exists("/usr/include/bpf/bpf_helpers.h");
  return ok;
}

#define BPFKIT_REQUIRE_BPF_CLANG()                                                              \
  do {                                                                                          \
    if (!::bpfkit::test_support::have_bpf_clang())                                              \
      GTEST_SKIP() << "clang or libbpf-dev is not installed (scripts/install-deps.sh installs them)"; \
  } while (0)

// Compiles `source` and returns the object's path (in a fresh temporary directory).
// Fails the test (and returns "") when clang fails, printing its output.
inline std::string compile_bpf(const std::string& source, const std::string& extra_flags = "") {
  static std::atomic<int> counter{0};
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
      ("bpfkit-cc-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  const auto src = dir / "prog.bpf.c", obj = dir / "prog.bpf.o";
  std::ofstream(src) << source;
  const auto r = run_command("clang -O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu " + extra_flags +
                             " -c " + src.string() + " -o " + obj.string());
  if (r.status != 0) {
    ADD_FAILURE() << "clang failed:\n" << r.output;
    return "";
  }
  return obj.string();
}

inline std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace bpfkit::test_support
