// bpfkit trace: bpftrace scripts compiled by bpfkit itself (no LLVM) and run on the
// kernel or the userspace target, with bpftrace's options and output.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "isa/codec.h"
#include "isa/disassembler.h"
#include "lang/compile.h"
#include "lang/probe_list.h"
#include "lang/trace_run.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted = true; }

struct TraceCli {
  std::string program_text;  // -e
  std::vector<std::string> words;  // FILE (without -e) then $1 $2 ...
  std::string list_pattern;
  bool list = false, verbose = false, unsafe = false, dump = false;
  std::string format = "text";
  std::string target = "auto";
  int pid = -1;
  std::string command;
  double duration = 0;
};

int trace(TraceCli& o) {
  if (o.list) {
    std::string pattern = o.list_pattern;
    if (pattern.empty() && !o.words.empty()) pattern = o.words[0];
    std::cout << lang::list_probes(pattern, o.verbose);
    return 0;
  }
  std::string name = "stdin", text;
  std::vector<std::string> positional = o.words;
  if (!o.program_text.empty()) {
    name = "-e";
    text = o.program_text;
  } else {
    if (positional.empty()) {
      std::cerr << "bpfkit trace: give a program with -e 'PROGRAM' or a script file (see --help)\n";
      return 2;
    }
    name = positional.front();
    positional.erase(positional.begin());
    std::ifstream in(name);
    if (!in) {
      std::cerr << "bpfkit trace: cannot read script '" << name << "'\n";
      return 2;
    }
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  bool linux_target = o.target == "linux" || (o.target == "auto" && target::linux_kernel::kernel_bpf_available());
  lang::Source source(name, text);
  std::unique_ptr<lang::TracedCommand> command;
  if (!o.command.empty()) command = std::make_unique<lang::TracedCommand>(o.command);
  lang::CompileOptions co;
  co.positional = positional;
  co.cpid = command ? command->pid() : 0;
  co.unsafe = o.unsafe;
  co.kernel_probes = linux_target;
  lang::CompiledScript script;
  try {
    script = lang::compile_script(source, co);
  } catch (const lang::SemanticError& e) {
    if (o.target != "auto" || linux_target) throw;
    // The automatic choice fell back to the userspace target: say why the kernel was not used.
    std::cerr << e.what() << "bpfkit trace: the kernel target is not usable here ("
              << target::linux_kernel::kernel_bpf_unavailable_reason() << "), so the userspace target was used\n";
    return 1;
  }
  if (o.dump) {
    const auto& programs = script.object->programs();
    for (size_t i = 0; i < programs.size(); ++i) {
      std::cout << programs[i].name << " (" << programs[i].section << ", "
                << script.info.probes[script.programs[i].probe].name << "):\n";
      for (const isa::DecodedInsn& d : isa::decode_program(programs[i].insns)) {
        const lang::Location& loc = script.programs[i].locations[d.slot];
        std::cout << "  " << d.slot << ": " << isa::format_insn(d.insn, d.slot, isa::AsmSyntax::Kernel) << "    ; line " << loc.line << "\n";
      }
    }
    return 0;
  }
  std::unique_ptr<target::Target> target =
      linux_target ? target::make_linux_target() : target::make_user_target();
  lang::TraceRunOptions ro;
  ro.json = o.format == "json";
  ro.on_linux = linux_target;
  ro.pid = o.pid;
  ro.command = command.get();
  ro.duration_s = o.duration;
  ro.write = [](std::string_view s) {
    std::cout << s;
    std::cout.flush();
  };
  ro.interrupted = &g_interrupted;
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  int status = lang::run_trace(source, script, *target, ro);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return status;
}

CommandRegistration reg("trace", [](CLI::App& app) {
  app.description(
      "Run a bpftrace program: compiled by bpfkit straight to BPF (no LLVM), loaded on the kernel (default when\n"
      "bpf(2) works here) or on the userspace target (--target user: BEGIN, END and interval probes), printed as\n"
      "bpftrace prints. Probes: BEGIN, END, tracepoint:CAT:NAME (wildcards), rawtracepoint:NAME, uprobe:BIN:FUNC,\n"
      "uretprobe:BIN:FUNC, kfunc:/fentry:FUNC, kretfunc:/fexit:FUNC, profile:hz:N, interval:ms:N. Maps print at exit.\n"
      "Examples:\n"
      "  bpfkit trace -e 'tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, str(args->filename)); }'\n"
      "  bpfkit trace -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'\n"
      "  bpfkit trace -l 'tracepoint:sched:*'");
  auto o = std::make_shared<TraceCli>();
  app.add_option("-e", o->program_text, "the program text");
  app.add_option("script", o->words, "a script file, then its positional parameters ($1, $2, ...)");
  app.add_flag("-l", o->list, "list probes matching the pattern (wildcards allowed)");
  app.add_flag("-v", o->verbose, "with -l: also show each probe's arguments");
  app.add_option("-p", o->pid, "trace only this process (uprobes, profile)");
  app.add_option("-c", o->command, "run this command and trace until it exits");
  app.add_option("-f", o->format, "output format: text (default) or json (bpftrace's NDJSON)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--unsafe", o->unsafe, "allow system(), cat() and signal()");
  app.add_option("--target", o->target, "auto (default), linux or user")->check(CLI::IsMember({"auto", "linux", "user"}));
  app.add_option("--duration", o->duration, "stop after this many seconds (as Ctrl-C would)");
  app.add_flag("-d,--dump", o->dump, "print the generated BPF instructions per probe instead of running");
  return [o]() { return trace(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
