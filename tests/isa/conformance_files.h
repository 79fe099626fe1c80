// Reading the bpf_conformance data files (see /work/shared/conformance-data/README.md)
// for the ISA tests: sections, the asm text and raw encodings.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace bpfkit::isa::testdata {

// BPFKIT_CONFORMANCE_DIR wins over the copy next to the source tree.
inline std::filesystem::path conformance_dir() {
  if (const char* env = std::getenv("BPFKIT_CONFORMANCE_DIR"); env && *env) return env;
  return BPFKIT_SOURCE_DIR "/../shared/conformance-data";
}

struct DataFile {
  std::string name;
  // Section name ("asm", "raw", "error", ...) -> its lines, in order. A line starting
  // with "--" opens a section; lines before the first one are the header.
  std::map<std::string, std::vector<std::string>> sections;

  bool has(const std::string& s) const { return sections.count(s) != 0; }
  std::string text(const std::string& s) const {
    std::string out;
    if (auto it = sections.find(s); it != sections.end())
      for (const auto& l : it->second) out += l + "\n";
    return out;
  }
};

inline DataFile read_data_file(const std::filesystem::path& path) {
  DataFile f;
  f.name = path.filename().string();
  std::ifstream in(path);
  std::string line, current = "header";
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start != std::string::npos && line.compare(start, 2, "--") == 0) {
      current = line.substr(start + 2);
      current.erase(0, current.find_first_not_of(" \t"));
      f.sections[current];
      continue;
    }
    f.sections[current].push_back(line);
  }
  return f;
}

// All *.data files in `subdir` whose name starts with `prefix`, sorted.
inline std::vector<std::filesystem::path> data_files(const std::string& subdir,
                                                     const std::string& prefix = "") {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(conformance_dir() / subdir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".data" && name.rfind(prefix, 0) == 0) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The `-- raw` section as bytes: either one byte per token ("07 00 01 ...") or one
// whole little-endian 64-bit slot per token ("0x5566778800000018").
inline std::vector<uint8_t> raw_bytes(const DataFile& f) {
  std::vector<uint8_t> out;
  for (const auto& line : f.sections.at("raw")) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string w;
    while (words >> w) {
      const uint64_t v = std::stoull(w, nullptr, 16);
      if (w.size() <= 2) {
        out.push_back(uint8_t(v));
      } else {
        for (int i = 0; i < 8; ++i) out.push_back(uint8_t(v >> (8 * i)));
      }
    }
  }
  return out;
}

}  // namespace bpfkit::isa::testdata
