// bpfkit test-run: BPF_PROG_TEST_RUN on either target — run one program of an
// object on a packet (and/or a context) N times; print the return value, the
// average duration and the output packet.
#include <iostream>

#include "cli/command.h"
#include "cli/program_input.h"
#include "cli/run_object.h"

namespace bpfkit::cli {
namespace {

struct TestRunOptions {
  std::string input, prog, data, ctx_in, data_out, ctx_out, target = "user", engine = "jit";
  std::vector<std::string> map_fills;
  uint32_t repeat = 1;
  bool dump_maps = false;
  bool unverified = false;
  bool checked = false;
};

int test_run(const TestRunOptions& o) {
  auto obj = open_object(o.input);
  target::TargetOptions topts;
  topts.jit = o.engine != "interp";
  topts.verify = !o.unverified;
  topts.checked = o.unverified || o.checked;
  topts.on_printk = [](std::string_view line) { std::cout << "bpf_trace_printk: " << line << '\n'; };
  auto tgt = o.target == "linux" ? target::make_linux_target(topts) : target::make_user_target(topts);
  auto loaded = tgt->load(obj);
  fill_maps(*loaded, o.map_fills);
  target::ProgramHandle& prog = choose_program(*loaded, o.prog, o.input);
  target::TestRunRequest req;
  if (!o.data.empty()) req.data_in = read_file_bytes(o.data);
  if (!o.ctx_in.empty()) req.ctx_in = read_file_bytes(o.ctx_in);
  req.repeat = o.repeat;
  const target::TestRunResult r = prog.test_run(req);
  std::cout << prog.name() << " on the " << tgt->name() << " target: retval " << r.retval << " (0x" << std::hex
            << r.retval << std::dec << "), duration " << r.duration_ns << " ns (average of " << o.repeat << ")\n";
  std::cout << "data out: " << r.data_out.size() << " bytes\n";
  if (!o.data_out.empty()) write_file_bytes(o.data_out, r.data_out);
  if (!o.ctx_out.empty()) write_file_bytes(o.ctx_out, r.ctx_out);
  if (o.dump_maps) std::cout << dump_maps_json(*loaded).dump(2) << '\n';
  return 0;
}

CommandRegistration reg("test-run", [](CLI::App& app) {
  app.description(
      "Run one program of an object as BPF_PROG_TEST_RUN does: on --data (the packet) and/or --ctx-in (the\n"
      "context, e.g. an xdp_md or __sk_buff), --repeat times; print the return value and the average duration,\n"
      "write the packet after the run to --data-out. --target linux runs it in the kernel instead (root).");
  auto o = std::make_shared<TestRunOptions>();
  app.add_option("object", o->input, "clang-compiled BPF object")->required();
  app.add_flag("--unverified", o->unverified, "user target: do not run the verifier first (runs checked)");
  app.add_flag("--checked", o->checked,
               "user target: check every memory access at run time even though the program is verified");
  app.add_option("-p,--prog", o->prog, "program (function or section name); default: the only one");
  app.add_option("--data", o->data, "input packet (data_in) from a file");
  app.add_option("--ctx-in", o->ctx_in, "input context (ctx_in) from a file");
  app.add_option("--data-out", o->data_out, "write data_out to this file");
  app.add_option("--ctx-out", o->ctx_out, "write ctx_out to this file");
  app.add_option("--repeat", o->repeat, "number of runs")->check(CLI::Range(1u, 100'000'000u));
  app.add_option("--map", o->map_fills, "fill map NAME from FILE.json first (NAME=FILE)");
  app.add_flag("--dump-maps", o->dump_maps, "print every map as JSON after the run");
  app.add_option("-t,--target", o->target, "user (default) or linux")->check(CLI::IsMember({"user", "linux"}));
  app.add_option("-e,--engine", o->engine, "user target: jit or interp")->check(CLI::IsMember({"jit", "interp"}));
  return [o] { return test_run(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
