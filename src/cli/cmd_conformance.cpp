// bpfkit conformance: run the eBPF instruction-set conformance suite (.data files).
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "conformance/runner.h"

namespace bpfkit::cli {
namespace {

struct ConformanceOptions {
  std::string dir, engine = "interp", filter;
  bool verbose = false;
};

int run_conformance(const ConformanceOptions& o) {
  conformance::SuiteOptions options{conformance::parse_engine_kind(o.engine), o.filter};
  const conformance::SuiteReport report = conformance::run_suite(o.dir, options);
  for (const conformance::TestOutcome& t : report.outcomes) {
    if (!t.ok)
      std::cout << (t.negative ? "ACCEPTED " : "FAIL ") << t.where << ": " << t.detail << "\n";
    else if (o.verbose)
      std::cout << (t.negative ? "rejected " : "ok ") << t.where << ": " << t.detail << "\n";
  }
  if (report.rejected + report.accepted > 0) {
    std::cout << "negative: " << report.rejected << " rejected, " << report.accepted << " accepted";
    if (report.accepted_needing_verifier > 0)
      std::cout << " (" << report.accepted_needing_verifier << " need a verifier to be rejected)";
    std::cout << "\n";
    if (report.unused_total > 0)
      std::cout << "negative unused-*: " << report.unused_rejected << " of " << report.unused_total
                << " rejected\n";
  }
  std::cout << report.passed << " passed, " << report.failed << " failed\n";
  return report.ok() ? 0 : 1;
}

CommandRegistration reg("conformance", [](CLI::App& app) {
  app.description(
      "Run the eBPF instruction-set conformance suite (the bpf_conformance .data format) on bpfkit's\n"
      "interpreter or JIT. DIR is a conformance-data directory (its tests/ and negative/ are run), a\n"
      "directory of .data files, or one .data file. Each program runs in checked mode with r1 pointing to\n"
      "a private copy of its -- mem (r2 = its length); r0 must equal its -- result. Files under negative/\n"
      "must be rejected: by the parser, the assembler, the decoder, a failing run, or a wrong r0.\n"
      "Prints one line per failure, then 'negative: N rejected, N accepted' and 'N passed, N failed';\n"
      "exits 1 when a test failed or a negative file was accepted (except, until bpfkit has a verifier,\n"
      "well-formed negative programs that only a verifier could reject: they are listed, not failed).");
  auto o = std::make_shared<ConformanceOptions>();
  app.add_option("dir", o->dir, "conformance-data directory, directory of .data files, or a .data file")
      ->required();
  app.add_option("-e,--engine", o->engine, "interp or jit")->check(CLI::IsMember({"interp", "jit"}));
  app.add_flag("-v,--verbose", o->verbose, "also print every passing test with its r0");
  app.add_option("-f,--filter", o->filter, "run only the files whose name contains this text");
  return [o] { return run_conformance(*o); };
});

}  // namespace
}  // namespace bpfkit::cli
