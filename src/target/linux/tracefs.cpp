#include "target/linux/tracefs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/tracepoint_format.h"
#include "target/target.h"

namespace bpfkit::target::linux_kernel {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTracefs = "/sys/kernel/tracing";
// Names of the subdirectories of `dir` (empty when it cannot be read).
std::vector<std::string> subdirectories(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  }
  return names;
}

// The `limit` candidates closest to `wanted`, best first; only plausible ones (distance
// at most a third of the longer name, and at least 1).
std::vector<std::string> closest(std::string_view wanted, const std::vector<std::string>& candidates,
                                 size_t limit) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(wanted, c);
    const size_t allowed = std::max<size_t>(1, std::max(wanted.size(), c.size()) / 3);
    if (d <= allowed) scored.emplace_back(d, c);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < limit; ++i) out.push_back(scored[i].second);
  return out;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += "'" + names[i] + "'";
  }
  return out;
}

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string tracefs_path() {
  // core::tracefs_root finds tracefs and mounts it when /sys/kernel/tracing is empty.
  if (std::optional<std::string> root = core::tracefs_root()) return *root;
  throw TargetError(std::string("tracefs is not mounted at ") + kTracefs + " and mounting it failed: run `mount -t "
                    "tracefs nodev " + kTracefs + "` as root (the kernel needs CONFIG_TRACING)");
}

TracepointName parse_tracepoint_name(std::string_view text) {
  const size_t sep = text.find_first_of("/:");
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == text.size()) {
    throw TargetError("tracepoint '" + std::string(text) +
                      "' is not of the form CATEGORY/NAME (e.g. syscalls/sys_enter_openat)");
  }
  TracepointName tp{std::string(text.substr(0, sep)), std::string(text.substr(sep + 1))};
  // Both parts are directory names under events/: nothing that walks elsewhere.
  for (const std::string* part : {&tp.category, &tp.name}) {
    if (*part == "." || *part == ".." || part->find_first_of("/:") != std::string::npos) {
      throw TargetError("tracepoint '" + std::string(text) + "': '" + *part + "' is not a tracepoint " +
                        (part == &tp.category ? "category" : "name"));
    }
  }
  return tp;
}

std::vector<std::string> similar_tracepoints(const TracepointName& tp, size_t limit) {
  const fs::path events = fs::path(tracefs_path()) / "events";
  std::error_code ec;
  if (fs::is_directory(events / tp.category, ec)) {
    std::vector<std::string> out;
    for (const std::string& n : closest(tp.name, subdirectories(events / tp.category), limit)) {
      out.push_back(tp.category + ":" + n);
    }
    return out;
  }
  // Unknown category: the name under other categories first, then close category names.
  std::vector<std::string> out;
  const std::vector<std::string> categories = subdirectories(events);
  for (const std::string& c : categories) {
    if (out.size() < limit && fs::exists(events / c / tp.name / "id", ec)) out.push_back(c + ":" + tp.name);
  }
  for (const std::string& c : closest(tp.category, categories, limit)) {
    if (out.size() >= limit) break;
    if (fs::exists(events / c / tp.name / "id", ec)) {
      if (std::find(out.begin(), out.end(), c + ":" + tp.name) == out.end()) out.push_back(c + ":" + tp.name);
    } else {
      for (const std::string& n : closest(tp.name, subdirectories(events / c), 1)) out.push_back(c + ":" + n);
    }
  }
  return out;
}

uint32_t tracepoint_id(const TracepointName& tp) {
  const fs::path id_file = fs::path(tracefs_path()) / "events" / tp.category / tp.name / "id";
  std::ifstream in(id_file);
  uint32_t id = 0;
  if (in >> id) return id;
  std::string message = "unknown tracepoint '" + tp.str() + "' (there is no " + id_file.string() + ")";
  const std::vector<std::string> similar = similar_tracepoints(tp);
  if (!similar.empty()) message += "; did you mean " + quoted_list(similar) + "?";
  throw TargetError(message);
}

}  // namespace bpfkit::target::linux_kernel
