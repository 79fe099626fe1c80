#include "conformance/runner.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/exec_env.h"
#include "isa/assembler.h"
#include "isa/codec.h"
#include "vm/engine.h"

namespace bpfkit::conformance {
namespace {

namespace fs = std::filesystem;

constexpr int32_t kSuiteHelperId = 5;

// Helper 5 of the suite (uBPF's "unwind"): r0 = r1, and a 0 stops the program.
uint64_t suite_helper(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, core::ExecEnv* env) {
  if (r1 == 0) env->abort = true;
  return r1;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::vector<fs::path> data_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".data") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

void add(SuiteReport& report, TestOutcome outcome) {
  if (outcome.negative) {
    (outcome.ok ? report.rejected : report.accepted)++;
    if (outcome.needs_verifier) report.accepted_needing_verifier++;
    if (fs::path(outcome.name).filename().string().starts_with("unused-")) {
      report.unused_total++;
      if (outcome.ok) report.unused_rejected++;
    }
  } else {
    (outcome.ok ? report.passed : report.failed)++;
  }
  report.outcomes.push_back(std::move(outcome));
}

}  // namespace

EngineKind parse_engine_kind(std::string_view name) {
  if (name == "interp" || name == "interpreter") return EngineKind::Interpreter;
  if (name == "jit") return EngineKind::Jit;
  throw Error("unknown engine '" + std::string(name) + "': use interp or jit");
}

const char* engine_kind_name(EngineKind kind) { return kind == EngineKind::Jit ? "jit" : "interp"; }

const core::HelperTable& conformance_helpers() {
  static const core::HelperTable table = [] {
    core::HelperTable t = core::HelperTable::standard();
    core::HelperProto proto{core::RetKind::Integer, {core::ArgKind::Anything}};
    t.add({kSuiteHelperId, "conformance_unwind", proto, suite_helper});
    return t;
  }();
  return table;
}

uint64_t run_program(std::span<const isa::RawInsn> program, std::span<const uint8_t> mem, EngineKind engine) {
  const vm::Program decoded(std::vector<isa::RawInsn>(program.begin(), program.end()));
  const vm::EngineOptions options{.checked = true};
  std::unique_ptr<vm::Engine> e =
      engine == EngineKind::Jit ? vm::make_jit(decoded, options) : vm::make_interpreter(decoded, options);
  std::vector<uint8_t> copy(mem.begin(), mem.end());  // the program may write its memory
  core::ExecEnv env;
  env.helpers = &conformance_helpers();
  const uint64_t r1 = copy.empty() ? 0 : reinterpret_cast<uint64_t>(copy.data());
  if (!copy.empty()) env.allow(r1, copy.size(), true);
  return e->run(r1, copy.size(), env);
}

std::vector<isa::RawInsn> program_of(const DataFile& file) {
  if (file.raw) return *file.raw;
  if (!file.asm_text)
    throw DataFileError(file.name, 0, "no -- asm or -- raw section: the file holds no program");
  return isa::assemble(*file.asm_text);
}

TestOutcome run_test_file(const fs::path& path, const std::string& name, EngineKind engine, bool negative) {
  TestOutcome out{name, negative, false, name, ""};
  // Something refused the test: that is its purpose when it is negative.
  auto refused = [&](const std::string& why) {
    out.ok = out.negative;
    out.detail = why;
    return out;
  };
  DataFile file;
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataFileError(name, 0, "cannot open " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    file = parse_data_file(text.str(), name);
  } catch (const DataFileError& e) {
    if (e.line() > 0) out.where += ":" + std::to_string(e.line());
    return refused(e.reason());
  }
  out.negative = negative || (file.error && !file.result);
  std::vector<isa::RawInsn> program;
  try {
    program = program_of(file);
  } catch (const isa::AsmError& e) {
    out.where += ":" + std::to_string(e.line()) + ":" + std::to_string(e.column());
    return refused(e.reason());
  } catch (const DataFileError& e) {
    return refused(e.reason());
  }
  if (!out.negative && !file.result) return refused("no -- result section to compare r0 with");
  uint64_t r0 = 0;
  try {
    r0 = run_program(program, file.mem ? std::span<const uint8_t>(*file.mem) : std::span<const uint8_t>(),
                     engine);
  } catch (const std::exception& e) {  // RuntimeError, DecodeError, or an engine that cannot be built
    return refused(e.what());
  }
  if (out.negative) {
    out.ok = file.result && r0 != *file.result;
    if (out.ok)
      out.detail = "r0 = " + hex(r0) + " differs from -- result " + hex(*file.result);
    else
      out.detail = "ran and returned r0 = " + hex(r0) + " but must be rejected" +
                   (file.error && !file.error->empty() ? " (expected error: " + *file.error + ")" : "");
    out.needs_verifier = !out.ok && !file.result;
    if (out.needs_verifier) out.detail += "; only a verifier can reject it, and bpfkit has none yet";
    return out;
  }
  out.ok = r0 == *file.result;
  out.detail = "r0 = " + hex(r0) + (out.ok ? "" : ", expected " + hex(*file.result));
  return out;
}

SuiteReport run_suite(const fs::path& dir, const SuiteOptions& options) {
  struct Job {
    fs::path path;
    std::string name;
    bool negative;
  };
  std::vector<Job> jobs;
  auto add_dir = [&](const fs::path& d, const std::string& prefix, bool negative) {
    for (const fs::path& p : data_files(d)) jobs.push_back({p, prefix + p.filename().string(), negative});
  };
  if (fs::is_regular_file(dir)) {
    jobs.push_back({dir, dir.filename().string(), dir.parent_path().filename() == "negative"});
  } else if (fs::is_directory(dir / "tests") || fs::is_directory(dir / "negative")) {
    if (fs::is_directory(dir / "tests")) add_dir(dir / "tests", "tests/", false);
    if (fs::is_directory(dir / "negative")) add_dir(dir / "negative", "negative/", true);
  } else if (fs::is_directory(dir)) {
    add_dir(dir, "",
            fs::absolute(dir).lexically_normal().filename() == "negative" ||
                fs::absolute(dir).lexically_normal().parent_path().filename() == "negative");
  } else {
    throw Error(dir.string() + ": no such file or directory");
  }
  if (jobs.empty())
    throw Error(dir.string() + ": holds no .data files (nor tests/ or negative/ directories)");
  SuiteReport report;
  for (const Job& j : jobs)
    if (options.filter.empty() || j.name.find(options.filter) != std::string::npos)
      add(report, run_test_file(j.path, j.name, options.engine, j.negative));
  return report;
}

}  // namespace bpfkit::conformance
