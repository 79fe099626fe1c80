// Where the conformance tests find the suite's data and the plugin executable.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace bpfkit::conformance_test {

// The conformance-data directory: $BPFKIT_CONFORMANCE_DIR, else the shared/ folder
// beside the checkout (as on the development machines and in CI). Empty when none exists.
inline std::filesystem::path data_dir() {
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("BPFKIT_CONFORMANCE_DIR")) candidates.emplace_back(env);
  candidates.emplace_back(BPFKIT_SOURCE_DIR "/../shared/conformance-data");
  for (const auto& c : candidates)
    if (std::filesystem::is_directory(c / "tests")) return c;
  return {};
}

// Sorted file names (not paths) of the .data files in data_dir()/sub.
inline std::vector<std::string> data_files(const std::string& sub) {
  std::vector<std::string> names;
  const std::filesystem::path dir = data_dir();
  if (dir.empty() || !std::filesystem::is_directory(dir / sub)) return names;
  for (const auto& e : std::filesystem::directory_iterator(dir / sub))
    if (e.path().extension() == ".data") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string plugin_path() { return BPFKIT_BINARY_DIR "/bpfkit-conformance-plugin"; }

}  // namespace bpfkit::conformance_test
