// The declarative end-to-end test format for `bpfkit trace` (tests/trace/*.test).
//
// A file holds cases; each case starts with a NAME line and runs until the next NAME.
// Every other line is `KEY value` (the value is the rest of the line, leading blanks
// removed). Lines starting with '#' and blank lines are ignored.
//
//   NAME opens by filename           the case's name (gtest: <file>_<name with _ for blanks>)
//   PROG tracepoint:... { ... }      program text passed with -e; several PROG lines are joined
//                                    with newlines, so line numbers in errors are predictable
//   SCRIPT scripts/x.bt              a script file (relative to the .test file's folder)
//   TOOL opensnoop                   run `bpfkit tool opensnoop` instead of `bpfkit trace`
//   ARGS -f json 5 'two words'       extra arguments (shell-like quoting, no expansion); a case
//                                    with ARGS and no PROG/SCRIPT/TOOL runs `trace ARGS` (-l)
//   TARGET user | linux              adds `--target X` (bpfkit only)
//   AFTER shell command              trigger: run with /bin/sh once the program printed
//                                    "Attaching N probes..." (or the JSON attached_probes
//                                    line); the runner waits for it to finish, then WAIT
//                                    seconds, then sends SIGINT unless the program exited.
//                                    Several AFTER lines run one after another.
//   WAIT 0.3                         seconds between the trigger's end and SIGINT (default 0.3)
//   TIMEOUT 10                       hard limit in seconds for the whole case (default 10):
//                                    then SIGKILL, and the case fails showing the output so far
//   EXPECT regex                     some stdout line must match (ECMAScript, searched)
//   EXPECT_NOT regex                 no stdout line may match
//   EXPECT_FIRST regex               the first stdout line after "Attaching N probes..." must
//                                    match (BEGIN output comes before any other probe's)
//   EXPECT_ERR regex                 some stderr line must match
//   EXPECT_ERR_NOT regex             no stderr line may match
//   EXPECT_JSON {"type": "map"}      some stdout line must be JSON containing this object
//                                    (a subset match: objects by key, arrays element-wise,
//                                    the string "*" matches anything present, a string
//                                    starting with "~" is a regex for a string value)
//   EXPECT_EXIT 0                    the exit status (default 0; "nonzero" for any failure)
//   REQUIRES kernel root bpftrace    skip unless all hold: kernel (bpf(2) works), root,
//                                    bpftrace (the peer is installed), block-io (a real disk),
//                                    cc, bash, python3 (/usr/bin/python3), script (util-linux),
//                                    no-kprobes (a kernel without CONFIG_KPROBES)
//   PEER [keys] [buckets]            also run the same program and trigger under bpftrace and
//                                    compare the maps' structure: the same map names, key
//                                    shapes (int / string / stack / arity) and value kinds
//                                    (int, hist, stats, tuple...); `keys` also requires the
//                                    same key sets, `buckets` the same histogram bucket labels
//
// Placeholders, replaced in PROG, ARGS, AFTER and (regex-escaped) in EXPECT*:
//   {tmp}    a fresh directory for the case        {comm}  a unique 15-char-max process name
//   {src}    the source tree                       {bin}   the build tree
//   {marker} a unique word (for file names etc.)   {uprobe_target} the helper program
//                                                  (tests/trace_e2e/uprobe_target.c, built on use)
#pragma once

#include <string>
#include <vector>

namespace bpfkit::trace_e2e {

struct TraceCase {
  std::string file;  // the .test file
  int line = 0;      // the NAME line
  std::string name;
  std::string test_name;  // gtest-safe, unique across files

  std::vector<std::string> prog_lines;
  std::string script;  // resolved path
  std::string tool;
  std::vector<std::string> args;
  std::string target;
  std::vector<std::string> after;
  double wait = 0.3;
  double timeout = 10;
  std::vector<std::string> expect, expect_not, expect_err, expect_err_not, expect_json;
  std::string expect_first;
  std::string expect_exit = "0";
  std::vector<std::string> requirements;
  bool peer = false;
  bool peer_keys = false;
  bool peer_buckets = false;

  std::string parse_error;  // a malformed case fails with this message
};

// Splits an ARGS value as a shell would split words: blanks separate, '...' and "..."
// quote (no expansion inside either; \ escapes in "..." and outside). Throws on an
// unterminated quote.
std::vector<std::string> split_words(const std::string& text);

// Reads one .test file. A malformed line does not throw: the case it belongs to gets
// `parse_error` ("file:line: ...") so that the problem shows up as a failing test.
std::vector<TraceCase> parse_case_file(const std::string& path);

// Every case of every *.test file in `dir`, sorted by file name.
std::vector<TraceCase> load_case_dir(const std::string& dir);

}  // namespace bpfkit::trace_e2e
