// bpfkit test-run: BPF_PROG_TEST_RUN on either target — run one program of an
// object on a packet (and/or a context) N times; print the return value, the
// average duration and the output packet.
#include <iostream>

#include "cli/command.h"
#include "cli/linux_load.h"
#include "cli/program_input.h"
#include "cli/run_object.h"
#include "cli/target_compare.h"

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

target::TargetOptions target_options(const TestRunOptions& o) {
  target::TargetOptions topts;
  topts.jit = o.engine != "interp";
  topts.verify = !o.unverified;
  topts.checked = o.unverified || o.checked;
  topts.on_printk = [](std::string_view line) { std::cout << "bpf_trace_printk: " << line << '\n'; };
  return topts;
}

struct OneTarget {
  std::unique_ptr<target::Target> target;
  std::unique_ptr<target::LoadedObject> loaded;
  target::ProgramHandle* prog = nullptr;
  target::TestRunResult result;
};

OneTarget run_on(std::unique_ptr<target::Target> tgt, const TestRunOptions& o,
                 std::shared_ptr<const object::BpfObject> obj, const target::TestRunRequest& req) {
  OneTarget t;
  t.target = std::move(tgt);
  t.loaded = t.target->name() == "linux" ? load_on_linux(std::move(obj), target_options(o))
                                          : t.target->load(std::move(obj));
  fill_maps(*t.loaded, o.map_fills);
  t.prog = &choose_program(*t.loaded, o.prog, o.input);
  t.result = t.prog->test_run(req);
  std::cout << t.prog->name() << " on the " << t.target->name() << " target: retval " << t.result.retval << " (0x"
            << std::hex << t.result.retval << std::dec << "), duration " << t.result.duration_ns
            << " ns (average of " << o.repeat << ")\n";
  std::cout << "data out: " << t.result.data_out.size() << " bytes\n";
  return t;
}

int test_run(const TestRunOptions& o) {
  auto obj = open_object(o.input);
  target::TestRunRequest req;
  if (!o.data.empty()) req.data_in = read_file_bytes(o.data);
  if (!o.ctx_in.empty()) req.ctx_in = read_file_bytes(o.ctx_in);
  req.repeat = o.repeat;
  if (o.target == "both") {
    // Same object, same maps, same input on each target; the kernel's answers are the reference.
    OneTarget user = run_on(target::make_user_target(target_options(o)), o, obj, req);
    OneTarget kernel = run_on(target::make_linux_target(target_options(o)), o, obj, req);
    TargetDifferences diffs = compare_test_runs(user.result, kernel.result, !req.ctx_in.empty(), "run");
    for (auto& d : compare_ring_buffers(*user.loaded, *kernel.loaded)) diffs.push_back(std::move(d));
    for (auto& d : compare_maps(*user.loaded, *kernel.loaded)) diffs.push_back(std::move(d));
    if (o.dump_maps) std::cout << dump_maps_json(*kernel.loaded).dump(2) << '\n';
    return report_differences(diffs);
  }
  OneTarget t = run_on(o.target == "linux" ? target::make_linux_target(target_options(o))
                                           : target::make_user_target(target_options(o)),
                       o, obj, req);
  if (!o.data_out.empty()) write_file_bytes(o.data_out, t.result.data_out);
  if (!o.ctx_out.empty()) write_file_bytes(o.ctx_out, t.result.ctx_out);
  if (o.dump_maps) std::cout << dump_maps_json(*t.loaded).dump(2) << '\n';
  return 0;
}

CommandRegistration reg("test-run", [](CLI::App& app) {
  app.description(
      "Run one program of an object as BPF_PROG_TEST_RUN does: on --data (the packet) and/or --ctx-in (the\n"
      "context, e.g. an xdp_md or __sk_buff), --repeat times; print the return value and the average duration,\n"
      "write the packet after the run to --data-out. --target linux runs it in the kernel instead (root);\n"
      "--target both runs it on both with the same maps and input and reports every difference in return\n"
      "value, output packet and context, ring buffer records and map contents (exit status 1 when they differ).");
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
  app.add_option("-t,--target", o->target, "user (default), linux or both")
      ->check(CLI::IsMember({"user", "linux", "both"}));
  app.add_option("-e,--engine", o->engine, "user target: jit or interp")->check(CLI::IsMember({"jit", "interp"}));
  return [o] { return test_run(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
