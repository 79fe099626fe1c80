// bpfkit tool NAME [args]: runs a bundled tracing tool (tools/trace/NAME.bt) as
// `bpfkit trace NAME.bt args` would. `bpfkit tool --list` lists them.
//
// Where tools are found, first match wins:
//   1. $BPFKIT_TOOLS_DIR
//   2. <dir of the bpfkit executable>/../share/bpfkit/tools   (an installed bpfkit)
//   3. <dir of the bpfkit executable>/tools/trace              (a copy next to the binary)
//   4. the source tree's tools/trace                           (a build tree)
//
// A tool whose header has the line `// bpfkit-tool: fold-stacks` has its printed map
// entries keyed by stacks rewritten as folded stacks ("comm;outer;...;inner COUNT"), the
// input of flame graph generators; bpftrace's language has no such output mode.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "base/error.h"
#include "cli/command.h"

namespace bpfkit::cli {
namespace {

namespace fs = std::filesystem;

fs::path self_exe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : p;
}

std::vector<fs::path> tool_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("BPFKIT_TOOLS_DIR"); env && *env) dirs.emplace_back(env);
  if (fs::path exe = self_exe(); !exe.empty()) {
    dirs.push_back(exe.parent_path() / ".." / "share" / "bpfkit" / "tools");
    dirs.push_back(exe.parent_path() / "tools" / "trace");
  }
#ifdef BPFKIT_TOOLS_SOURCE_DIR
  dirs.emplace_back(BPFKIT_TOOLS_SOURCE_DIR);
#endif
  return dirs;
}

struct ToolInfo {
  std::string name;
  fs::path path;
  std::string summary;  // the first comment line after "NAME:" or the first comment line
  bool fold_stacks = false;
};

ToolInfo read_tool(const fs::path& path) {
  ToolInfo t;
  t.name = path.stem().string();
  t.path = path;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line) && line.rfind("//", 0) == 0) {
    std::string text = line.substr(2);
    text.erase(0, text.find_first_not_of(' '));
    if (text.rfind("bpfkit-tool:", 0) == 0) {
      if (text.find("fold-stacks") != std::string::npos) t.fold_stacks = true;
    } else if (t.summary.empty()) {
      t.summary = text.rfind(t.name + ":", 0) == 0 ? text.substr(t.name.size() + 1) : text;
      t.summary.erase(0, t.summary.find_first_not_of(' '));
    }
  }
  return t;
}

// Every tool, the first directory's copy winning, sorted by name.
std::vector<ToolInfo> all_tools() {
  std::map<std::string, ToolInfo> found;
  for (auto& dir : tool_dirs()) {
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() != ".bt") continue;
      std::string name = e.path().stem().string();
      if (!found.count(name)) found[name] = read_tool(e.path());
    }
  }
  std::vector<ToolInfo> out;
  for (auto& [_, t] : found) out.push_back(t);
  return out;
}

ToolInfo find_tool(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
    throw Error("tool: '" + name + "' is not a tool name; `bpfkit tool --list` shows the tools");
  for (auto& dir : tool_dirs()) {
    fs::path p = dir / (name + ".bt");
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return read_tool(p);
  }
  std::string dirs;
  for (auto& d : tool_dirs()) dirs += "\n  " + d.lexically_normal().string();
  throw Error("tool: no tool named '" + name + "' (looked for " + name + ".bt in:" + dirs +
              ")\n`bpfkit tool --list` shows the tools");
}

int list_tools() {
  auto tools = all_tools();
  if (tools.empty()) {
    std::string dirs;
    for (auto& d : tool_dirs()) dirs += " " + d.lexically_normal().string();
    throw Error("tool: no tools found (looked in" + dirs + "); set BPFKIT_TOOLS_DIR");
  }
  size_t width = 0;
  for (auto& t : tools) width = std::max(width, t.name.size());
  for (auto& t : tools) {
    std::string pad(width - t.name.size() + 2, ' ');
    std::cout << t.name << pad << t.summary << "\n";
  }
  return 0;
}

std::vector<std::string> trace_argv(const ToolInfo& tool, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"bpfkit", "trace", tool.path.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<char*> c_argv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// --- folded stacks ---

// "vfs_write+150" -> "vfs_write": one frame per function, as flame graphs merge them.
std::string frame_name(std::string frame) {
  frame.erase(0, frame.find_first_not_of(" \t"));
  static const std::regex kOffset(R"(\+(0x[0-9a-fA-F]+|[0-9]+)$)");
  return std::regex_replace(frame, kOffset, "");
}

// The key of one printed map entry ("@[" ... "]: N", over several lines) as folded
// elements: scalars as printed, each stack outermost frame first.
std::string fold_key(const std::vector<std::string>& key_lines) {
  std::vector<std::string> parts;
  std::vector<std::string> stack;
  auto flush_stack = [&] {
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) parts.push_back(*it);
    stack.clear();
  };
  for (auto& line : key_lines) {
    if (line.size() > 2 && line[0] == ' ' && line[1] == ' ') {
      stack.push_back(frame_name(line));
      continue;
    }
    flush_stack();
    size_t start = 0;
    while (start <= line.size()) {
      size_t comma = line.find(',', start);
      std::string piece = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      piece.erase(0, piece.find_first_not_of(" \t"));
      piece.erase(piece.find_last_not_of(" \t") + 1);
      if (!piece.empty()) parts.push_back(piece);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  flush_stack();
  std::string out;
  for (auto& p : parts) {
    for (char& c : p)
      if (c == ' ' || c == ';') c = '_';  // a folded line is "frames COUNT": no blanks inside
    out += (out.empty() ? "" : ";") + p;
  }
  return out;
}

// Rewrites the tracer's output: map entries whose keys hold stacks become folded lines
// (summed per folded key, printed when the tracer ends); everything else passes through.
class StackFolder {
 public:
  void line(const std::string& l) {
    if (!collecting_) {
      if (l.rfind("@", 0) != 0 || l.find('[') == std::string::npos) {
        std::cout << l << "\n" << std::flush;
        return;
      }
      // A keyed entry: on one line when its stacks are empty, else over several.
      collecting_ = true;
      key_.clear();
      std::string rest = l.substr(l.find('[') + 1);
      if (!closes(rest)) {
        key_.push_back(rest);
        return;
      }
      end_entry(rest);
      return;
    }
    if (!closes(l)) {
      key_.push_back(l);
      return;
    }
    end_entry(l);
  }
  void finish() {
    for (auto& k : order_) std::cout << k << " " << counts_[k] << "\n";
    std::cout << std::flush;
  }

 private:
  // `l` holds the end of the key ("...]: COUNT").
  void end_entry(const std::string& l) {
    size_t close = l.rfind("]:");
    key_.push_back(l.substr(0, close));
    std::string folded = fold_key(key_);
    unsigned long long count = std::strtoull(l.c_str() + close + 2, nullptr, 10);
    if (!counts_.count(folded)) order_.push_back(folded);
    counts_[folded] += count;
    collecting_ = false;
  }
  static bool closes(const std::string& l) {
    size_t close = l.rfind("]:");
    return close != std::string::npos && (close + 2 == l.size() || l[close + 2] == ' ');
  }
  bool collecting_ = false;
  std::vector<std::string> key_;
  std::vector<std::string> order_;
  std::map<std::string, unsigned long long> counts_;
};

pid_t g_child = -1;

// Ctrl-C in a terminal reaches the whole process group (the tracer too); a SIGINT or
// SIGTERM sent to this process alone (kill PID) is passed on to the tracer.
void forward_signal(int sig, siginfo_t* info, void*) {
  if (g_child > 0 && info && (info->si_code == SI_USER || info->si_code == SI_QUEUE)) kill(g_child, sig);
}

int run_folding(std::vector<std::string> argv) {
  int fds[2];
  if (pipe(fds) != 0) throw Error("tool: pipe() failed");
  std::string exe = self_exe().string();
  auto cargv = c_argv(argv);
  pid_t pid = fork();
  if (pid < 0) throw Error("tool: fork() failed");
  if (pid == 0) {
    close(fds[0]);
    // SIGINT from this process must stop the tracer even when a shell started us with
    // SIGINT ignored (a background job): the tracer is told to stop only through us.
    signal(SIGINT, SIG_DFL);
    dup2(fds[1], 1);
    close(fds[1]);
    execv(exe.c_str(), cargv.data());
    std::perror("bpfkit tool: exec");
    _exit(127);
  }
  close(fds[1]);
  g_child = pid;
  struct sigaction sa = {};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  StackFolder folder;
  std::string pending;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, size_t(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      folder.line(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  if (!pending.empty()) folder.line(pending);
  folder.finish();
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int run_tool(bool list, const std::vector<std::string>& words) {
  if (list) return list_tools();
  if (words.empty())
    throw Error("tool: which tool? `bpfkit tool NAME [args]`; `bpfkit tool --list` shows them");
  ToolInfo tool = find_tool(words[0]);
  std::vector<std::string> argv = trace_argv(tool, {words.begin() + 1, words.end()});
  if (tool.fold_stacks) return run_folding(argv);
  // Become `bpfkit trace TOOL.bt args`: signals, exit status and output are the tracer's own.
  std::string exe = self_exe().string();
  auto cargv = c_argv(argv);
  execv(exe.c_str(), cargv.data());
  throw Error("tool: cannot run " + exe + ": " + std::strerror(errno));
}

CommandRegistration reg("tool", [](CLI::App& app) {
  app.description(
      "Run a bundled tracing tool (opensnoop, execsnoop, syscount, biolatency, tcpconnlat, runqlat,\n"
      "profile, bashreadline) as `bpfkit trace TOOL.bt [args]`; the arguments after the name go to trace.\n"
      "  bpfkit tool opensnoop\n  bpfkit tool --list\n"
      "Tools are looked up in $BPFKIT_TOOLS_DIR, <bpfkit dir>/../share/bpfkit/tools, <bpfkit "
      "dir>/tools/trace\n"
      "and the source tree's tools/trace.");
  auto list = std::make_shared<bool>(false);
  app.add_flag("-l,--list", *list, "list the tools with a one-line summary each");
  // Everything from the tool's name on is passed through untouched (e.g. `-p 42`, `-f json`).
  app.prefix_command();
  return [list, &app] { return run_tool(*list, app.remaining()); };
});

}  // namespace
}  // namespace bpfkit::cli
