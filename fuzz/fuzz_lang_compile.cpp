// libFuzzer target: arbitrary text compiled as a bpftrace script for the userspace
// target (no kernel probes, nothing attached). Every pass may only refuse with a located
// SyntaxError/SemanticError; what compiles must pass bpfkit's verifier or be refused by
// it with a verdict, never crash it. The verifier check runs only on small programs
// to keep the fuzzer fast.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "helpers/runtime_helpers.h"
#include "lang/compile.h"
#include "target/verify_object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfkit;
  if (size > 4096) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  lang::CompileOptions options;
  options.kernel_probes = false;
  options.positional = {"7", "word"};
  lang::CompiledScript script;
  try {
    script = lang::compile_script(lang::Source("fuzz.bt", text), options);
  } catch (const lang::SyntaxError& e) {
    if (e.location().line < 1 || e.location().column < 1) {
      std::fprintf(stderr, "error without a location: %s\n", e.what());
      std::abort();
    }
    return 0;
  }
  for (const object::ProgramDefinition& p : script.object->programs()) {
    if (p.insns.size() > 2000) continue;
    verifier::VerifyOptions vo;
    (void)target::verify_object_program(*script.object, p, vo, &helpers::runtime_helpers());
  }
  return 0;
}
