// End-to-end tests of `bpfkit trace` and `bpfkit tool`, driven by the declarative case
// files in tests/trace/*.test (format: case_file.h and tests/trace/README.md). Each case
// is one gtest (TraceE2E/Case.Run/<file>_<name>), so ctest lists them by name.
//
// A case runs the bpfkit executable of this build tree with the program, waits for
// "Attaching N probes...", runs the trigger (AFTER), sends SIGINT, and checks stdout and
// stderr against the EXPECT lines; with PEER it runs bpftrace the same way and compares
// the printed maps' structure. Nothing can hang: past TIMEOUT everything is SIGKILLed
// and the case fails with the output so far.
//
// BPFKIT_TRACE_TESTS=<dir> runs the .test files of another folder;
// BPFKIT_TRACE_E2E_TRACER=bpftrace runs the cases against bpftrace (checks the expectations).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "../support/run_command.h"
#include "case_file.h"
#include "child_process.h"
#include "map_structure.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::trace_e2e {

// gtest prints parameters of failing tests: a short form instead of a byte dump.
// (ctest shows it after the test name, so it is kept short: file:line of the case.)
void PrintTo(const TraceCase& c, std::ostream* os) {
  *os << std::filesystem::path(c.file).filename().string() << ":" << c.line;
}

namespace {

namespace fs = std::filesystem;

const std::string kBpfkit = BPFKIT_BINARY_DIR "/bpfkit";
const std::string kSourceDir = BPFKIT_SOURCE_DIR;
const std::string kBinaryDir = BPFKIT_BINARY_DIR;

std::string case_dir() {
  const char* env = std::getenv("BPFKIT_TRACE_TESTS");
  return env && *env ? env : kSourceDir + "/tests/trace";
}

bool in_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

std::string bpftrace_path() {
  const char* env = std::getenv("BPFTRACE");
  if (env && *env) return env;
  return in_path("/usr/bin/bpftrace") ? "/usr/bin/bpftrace" : "bpftrace";
}

// A disk whose requests go through the block layer (not a RAM or compressed-RAM device).
bool have_block_device() {
  std::error_code ec;
  for (auto& e : fs::directory_iterator("/sys/block", ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("loop", 0) == 0 || name.rfind("ram", 0) == 0 || name.rfind("zram", 0) == 0) continue;
    std::ifstream size(e.path() / "size");
    unsigned long long sectors = 0;
    if (size >> sectors && sectors > 0) return true;
  }
  return false;
}

// Why the case cannot run here, or "" when it can.
std::string missing_requirement(const TraceCase& c) {
  for (auto& r : c.requirements) {
    if (r == "kernel" && !target::linux_kernel::kernel_bpf_available())
      return "the kernel's bpf(2) is not available (needs root and CONFIG_BPF_SYSCALL)";
    if (r == "root" && geteuid() != 0) return "needs root";
    if (r == "bpftrace" && !in_path(bpftrace_path())) return "bpftrace is not installed";
    if (r == "block-io" && !have_block_device()) return "no block device that issues block-layer requests";
    if (r == "cc" && !in_path("cc")) return "no C compiler (cc)";
    if (r == "bash" && !in_path("/bin/bash")) return "no /bin/bash";
    if (r == "python3" && !in_path("/usr/bin/python3")) return "no /usr/bin/python3";
    if (r == "script" && !in_path("script")) return "no script(1) (util-linux)";
    if (r == "no-kprobes" && (fs::exists("/sys/bus/event_source/devices/kprobe") ||
                              fs::exists("/sys/kernel/tracing/kprobe_events") ||
                              fs::exists("/sys/kernel/debug/tracing/kprobe_events")))
      return "this kernel has kprobes (the case checks how their absence is reported)";
  }
  if (c.peer && !in_path(bpftrace_path())) return "PEER case and bpftrace is not installed";
  return "";
}

// The helper program for uprobe cases, compiled once per build tree (atomically, so
// that parallel ctest runs do not see a half-written file).
std::string uprobe_target(std::string& error) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  const std::string src = kSourceDir + "/tests/trace_e2e/uprobe_target.c";
  const std::string dir = kBinaryDir + "/trace_e2e";
  const std::string bin = dir + "/uprobe_target";
  std::error_code ec;
  if (fs::exists(bin, ec) && fs::last_write_time(bin, ec) >= fs::last_write_time(src, ec)) return bin;
  fs::create_directories(dir, ec);
  const std::string tmp = bin + "." + std::to_string(getpid());
  // -O1 with noinline: real calls with arguments in registers, as a release binary has.
  auto r = test_support::run_command("cc -O1 -g -fno-omit-frame-pointer -o " + tmp + " " + src);
  if (r.status != 0) {
    error = "compiling " + src + " failed:\n" + r.output;
    return "";
  }
  fs::rename(tmp, bin, ec);
  return bin;
}

std::string regex_escape(const std::string& s) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{})";
  std::string out;
  for (char c : s) {
    if (kSpecial.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

struct Placeholders {
  std::vector<std::pair<std::string, std::string>> values;

  std::string apply(std::string text, bool for_regex) const {
    for (auto& [name, value] : values) {
      const std::string token = "{" + name + "}";
      const std::string with = for_regex ? regex_escape(value) : value;
      for (size_t pos = 0; (pos = text.find(token, pos)) != std::string::npos; pos += with.size())
        text.replace(pos, token.size(), with);
    }
    return text;
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool any_line_matches(const std::vector<std::string>& lines, const std::regex& re) {
  for (auto& l : lines)
    if (std::regex_search(l, re)) return true;
  return false;
}

// `expected` is contained in `actual`: objects key by key, arrays element by element
// (same length), "*" matches any value, "~regex" matches a string by regex.
bool json_contains(const nlohmann::json& actual, const nlohmann::json& expected) {
  if (expected.is_string()) {
    const std::string e = expected.get<std::string>();
    if (e == "*") return true;
    if (!e.empty() && e[0] == '~')
      return actual.is_string() && std::regex_search(actual.get<std::string>(), std::regex(e.substr(1)));
    return actual == expected;
  }
  if (expected.is_object()) {
    if (!actual.is_object()) return false;
    for (auto& [k, v] : expected.items())
      if (!actual.contains(k) || !json_contains(actual.at(k), v)) return false;
    return true;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) return false;
    for (size_t i = 0; i < expected.size(); ++i)
      if (!json_contains(actual[i], expected[i])) return false;
    return true;
  }
  return actual == expected;
}

// BPFKIT_TRACE_E2E_TRACER=bpftrace runs the cases against bpftrace instead of bpfkit:
// a check of the case files' expectations against the reference implementation.
bool reference_mode() {
  const char* env = std::getenv("BPFKIT_TRACE_E2E_TRACER");
  return env && std::string(env) == "bpftrace";
}

// The tracer's command line for a case; `peer` builds bpftrace's.
std::vector<std::string> command_line(const TraceCase& c, const Placeholders& ph, bool peer) {
  std::vector<std::string> argv;
  if (peer || reference_mode()) {
    peer = true;
    argv.push_back(bpftrace_path());
    if (!c.tool.empty()) argv.push_back(kSourceDir + "/tools/trace/" + c.tool + ".bt");
  } else if (!c.tool.empty()) {
    argv = {kBpfkit, "tool", c.tool};
  } else {
    argv = {kBpfkit, "trace"};
  }
  if (!c.prog_lines.empty()) {
    std::string prog;
    for (size_t i = 0; i < c.prog_lines.size(); ++i)
      prog += (i ? "\n" : "") + ph.apply(c.prog_lines[i], false);
    argv.push_back("-e");
    argv.push_back(prog);
  } else if (!c.script.empty()) {
    argv.push_back(c.script);
  }
  if (!peer && !c.target.empty()) {
    argv.push_back("--target");
    argv.push_back(c.target);
  }
  for (auto& a : c.args) argv.push_back(ph.apply(a, false));
  return argv;
}

std::string shell_quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (auto& a : argv) {
    std::string q = "'";
    for (char ch : a) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    out += (out.empty() ? "" : " ") + q + "'";
  }
  return out;
}

class Case : public ::testing::TestWithParam<TraceCase> {};

TEST_P(Case, Run) {
  const TraceCase& c = GetParam();
  const std::string where = c.file + ":" + std::to_string(c.line) + ": case '" + c.name + "'";
  ASSERT_TRUE(c.parse_error.empty()) << c.parse_error;
  if (std::string why = missing_requirement(c); !why.empty()) GTEST_SKIP() << why;

  static std::atomic<int> counter{0};
  const int n = ++counter;
  const std::string id = std::to_string(getpid() % 100000) + "_" + std::to_string(n);
  const fs::path tmp = fs::temp_directory_path() / ("bpfkit-trace-e2e-" + id);
  fs::create_directories(tmp);

  Placeholders ph;
  ph.values = {{"tmp", tmp.string()},
               {"comm", "e2e" + id},
               {"marker", "bpfkit_e2e_" + id},
               {"src", kSourceDir},
               {"bin", kBinaryDir}};
  std::string all_text;
  for (auto& l : c.prog_lines) all_text += l;
  for (auto& l : c.after) all_text += l;
  for (auto& l : c.args) all_text += l;
  if (all_text.find("{uprobe_target}") != std::string::npos) {
    std::string error;
    std::string bin = uprobe_target(error);
    ASSERT_FALSE(bin.empty()) << where << ": " << error;
    ph.values.push_back({"uprobe_target", bin});
  }

  auto run_one = [&](bool peer) {
    TracerRun run;
    run.argv = command_line(c, ph, peer);
    for (auto& a : c.after) run.triggers.push_back(ph.apply(a, false));
    run.trigger_log = (tmp / (peer ? "trigger-peer.log" : "trigger.log")).string();
    run.settle_seconds = c.wait;
    // bpftrace prints "Attaching N probes..." before attaching them (bpfkit after).
    if (peer || reference_mode()) run.attach_grace_seconds = 1.0;
    run.timeout_seconds = c.timeout;
    return run_tracer(run);
  };
  auto trigger_log = [&](bool peer) {
    std::ifstream in(tmp / (peer ? "trigger-peer.log" : "trigger.log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };

  const auto argv = command_line(c, ph, false);
  TracerResult r = run_one(false);
  const std::string context =
      where + "\n$ " + shell_quoted(argv) + "\n" + r.describe() +
      (c.after.empty() ? "" : "\n--- trigger output ---\n" + trigger_log(false) + "---");

  // Every unmet expectation is listed, then the command and its output once.
  std::vector<std::string> failed;
  if (r.timed_out) failed.push_back("timed out after " + std::to_string(c.timeout) + " s (TIMEOUT)");
  if (c.expect_exit == "nonzero" ? r.exit_status == 0 : std::to_string(r.exit_status) != c.expect_exit)
    failed.push_back("EXPECT_EXIT " + c.expect_exit + ": the exit status is " +
                     std::to_string(r.exit_status));
  if (!c.after.empty() && !r.attached)
    failed.push_back("the trigger never ran: no \"Attaching N probes...\" line");
  const auto out = lines_of(r.out), err = lines_of(r.err);
  auto check = [&](const std::vector<std::string>& patterns, const std::vector<std::string>& lines, bool want,
                   const char* what) {
    for (auto& p : patterns) {
      const std::string pattern = ph.apply(p, true);
      try {
        if (any_line_matches(lines, std::regex(pattern)) != want)
          failed.push_back(std::string(what) + " " + pattern);
      } catch (const std::regex_error& e) {
        failed.push_back(std::string(what) + " " + pattern + ": not a valid regex (" + e.what() + ")");
      }
    }
  };
  check(c.expect, out, true, "EXPECT");
  check(c.expect_not, out, false, "EXPECT_NOT");
  if (!c.expect_first.empty()) {
    size_t first = 0;
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].rfind("Attaching ", 0) == 0) first = i + 1;
    const std::string pattern = ph.apply(c.expect_first, true);
    if (first >= out.size() || !std::regex_search(out[first], std::regex(pattern)))
      failed.push_back("EXPECT_FIRST " + pattern + " (the first line after Attaching is \"" +
                       (first < out.size() ? out[first] : "") + "\")");
  }
  check(c.expect_err, err, true, "EXPECT_ERR");
  check(c.expect_err_not, err, false, "EXPECT_ERR_NOT");
  for (auto& j : c.expect_json) {
    nlohmann::json expected;
    try {
      expected = nlohmann::json::parse(ph.apply(j, false));
    } catch (const std::exception& e) {
      failed.push_back("EXPECT_JSON " + j + ": not JSON (" + e.what() + ")");
      continue;
    }
    bool found = false;
    for (auto& l : out) {
      auto actual = nlohmann::json::parse(l, nullptr, false);
      if (!actual.is_discarded() && json_contains(actual, expected)) found = true;
    }
    if (!found) failed.push_back("EXPECT_JSON " + expected.dump());
  }
  if (!failed.empty()) {
    std::string listed;
    for (auto& f : failed) listed += "  unmet: " + f + "\n";
    ADD_FAILURE() << "\n" << listed << context;
  }

  if (c.peer) {
    TracerResult p = run_one(true);
    const std::string peer_context = "\n$ " + shell_quoted(command_line(c, ph, true)) + "\n" + p.describe();
    ASSERT_FALSE(p.timed_out) << where << ": bpftrace timed out" << peer_context;
    ASSERT_EQ(p.exit_status, 0) << where << ": bpftrace failed" << peer_context;
    auto ours = parse_map_output(r.out), theirs = parse_map_output(p.out);
    EXPECT_FALSE(theirs.empty()) << where << ": bpftrace printed no maps" << peer_context;
    auto diffs = compare_map_structure(ours, theirs, c.peer_keys, c.peer_buckets);
    std::string listed;
    for (auto& d : diffs) listed += "  " + d + "\n";
    EXPECT_TRUE(diffs.empty()) << "structure differs from bpftrace's:\n"
                               << listed
                               << (failed.empty() ? context : "(bpfkit's command and output: above)")
                               << peer_context;
  }

  // BPFKIT_TRACE_E2E_KEEP=1 keeps the directories of failed cases (their trigger logs are
  // in the failure message already).
  const char* keep = std::getenv("BPFKIT_TRACE_E2E_KEEP");
  if (!HasFailure() || !keep || std::string(keep) != "1") fs::remove_all(tmp);
}

std::vector<TraceCase> all_cases() { return load_case_dir(case_dir()); }

INSTANTIATE_TEST_SUITE_P(TraceE2E, Case, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<TraceCase>& info) {
                           return info.param.test_name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Case);

// The runner itself: the pieces a wrong case file or a wrong comparison would hide behind.
TEST(TraceE2ERunner, CaseFileParsing) {
  const fs::path dir = fs::temp_directory_path() / ("bpfkit-trace-e2e-parse-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "x.test") << "# comment\n"
                                   "NAME first one\n"
                                   "PROG BEGIN { printf(\"a\\n\");\n"
                                   "PROG   exit(); }\n"
                                   "ARGS -f json 'a b' \"c d\"\n"
                                   "EXPECT ^a$\n"
                                   "TIMEOUT 3\n"
                                   "\n"
                                   "NAME second\n"
                                   "SCRIPT scripts/s.bt\n"
                                   "BOGUS 1\n"
                                   "EXPECT x\n"
                                   "NAME third\n"
                                   "PROG BEGIN {}\n";
  auto cases = parse_case_file((dir / "x.test").string());
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(cases[0].test_name, "x_first_one");
  EXPECT_EQ(cases[0].parse_error, "");
  ASSERT_EQ(cases[0].prog_lines.size(), 2u);
  EXPECT_EQ(cases[0].args, (std::vector<std::string>{"-f", "json", "a b", "c d"}));
  EXPECT_EQ(cases[0].timeout, 3);
  EXPECT_NE(cases[1].parse_error.find("x.test:11: unknown key 'BOGUS'"), std::string::npos)
      << cases[1].parse_error;
  EXPECT_NE(cases[2].parse_error.find("needs at least one EXPECT"), std::string::npos)
      << cases[2].parse_error;
  fs::remove_all(dir);
}

TEST(TraceE2ERunner, MapStructureOfBpftraceOutput) {
  const std::string out =
      "Attaching 2 probes...\n\n\n"
      "@bytes[cat]: \n"
      "[4K, 8K)               7 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
      "[8K, 16K)              0 |                                                    |\n"
      "[16K, 32K)             2 |@@@@@@@@@@@@@@                                      |\n\n"
      "@c[sh, 12]: 5\n"
      "@s: count 3, average 4, total 12\n"
      "@[yes, \n    vfs_write+150\n    ksys_write+111\n, \n    0x561c60b73249\n]: 1\n"
      "@[yes, , \n    0x561c60b73278\n]: 4\n";
  auto e = parse_map_output(out);
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].map, "@bytes");
  EXPECT_EQ(e[0].value_kind, "hist");
  EXPECT_EQ(e[0].buckets, (std::vector<std::string>{"[4K, 8K)", "[8K, 16K)", "[16K, 32K)"}));
  EXPECT_EQ(e[1].shape, (std::vector<std::string>{"str", "int"}));
  EXPECT_EQ(e[2].value_kind, "stats");
  EXPECT_EQ(e[3].shape, (std::vector<std::string>{"str", "stack", "stack"}));
  EXPECT_EQ(e[4].shape, (std::vector<std::string>{"str", "any", "stack"}));
  EXPECT_TRUE(compare_map_structure(e, e, true, true).empty());

  auto other = parse_map_output("@bytes[cat]: 5\n@c[sh]: 5\n@t: count 1, average 1, total 1\n");
  auto diffs = compare_map_structure(e, other, false, false);
  std::string all;
  for (auto& d : diffs) all += d + "\n";
  EXPECT_NE(all.find("map @bytes: values are hist (bpfkit) vs int (bpftrace)"), std::string::npos) << all;
  EXPECT_NE(all.find("map @c: key shape [str, int] (bpfkit) vs [str] (bpftrace)"), std::string::npos) << all;
  EXPECT_NE(all.find("map @s is printed by bpfkit only"), std::string::npos) << all;
  EXPECT_NE(all.find("map @t is printed by bpftrace only"), std::string::npos) << all;
}

TEST(TraceE2ERunner, HangingTracerIsKilledAtTheDeadline) {
  TracerRun run;
  // Ignores SIGINT and never exits: only the SIGKILL at the deadline ends it.
  run.argv = {"/bin/sh", "-c", "trap '' INT; echo 'Attaching 1 probe...'; while :; do sleep 1; done"};
  run.triggers = {"true"};
  run.settle_seconds = 0.05;
  run.timeout_seconds = 1;
  auto r = run_tracer(run);
  EXPECT_TRUE(r.attached);
  EXPECT_TRUE(r.sent_sigint);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.seconds, 3);
  EXPECT_EQ(r.out, "Attaching 1 probe...\n");
}

TEST(TraceE2ERunner, TriggerRunsAfterAttachingAndSigintStops) {
  TracerRun run;
  run.argv = {"/bin/sh", "-c",
              "trap 'echo stopped; exit 0' INT; echo 'Attaching 1 probe...'; "
              "while :; do sleep 0.05; done"};
  run.triggers = {"echo trig"};
  run.settle_seconds = 0.05;
  run.timeout_seconds = 5;
  auto r = run_tracer(run);
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_EQ(r.exit_status, 0) << r.describe();
  EXPECT_EQ(r.out, "Attaching 1 probe...\nstopped\n");
  ASSERT_EQ(r.trigger_status.size(), 1u);
  EXPECT_EQ(r.trigger_status[0], 0);
}

}  // namespace
}  // namespace bpfkit::trace_e2e
