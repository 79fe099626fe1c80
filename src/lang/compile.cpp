#include "lang/compile.h"

#include <time.h>

#include "lang/parser.h"
#include "lang/semantic.h"

namespace bpfkit::lang {

CompiledScript compile_script(const Source& source, const CompileOptions& options) {
  auto ast = std::make_shared<Program>(parse_program(source));
  SemanticOptions so;
  so.positional = options.positional;
  so.unsafe = options.unsafe;
  so.kernel_probes = options.kernel_probes;
  so.cpid = options.cpid;
  std::shared_ptr<const object::Btf> vmlinux;
  bool tried = false;
  so.vmlinux_btf = [&]() -> std::shared_ptr<const object::Btf> {
    if (!tried) {
      tried = true;
      try {
        vmlinux = std::make_shared<const object::Btf>(object::Btf::load_vmlinux());
      } catch (const Error&) {
        vmlinux = nullptr;  // no BTF: typed field access reports that it cannot type the pointer
      }
    }
    return vmlinux;
  };
  ScriptInfo info = analyse_script(source, *ast, so);
  CodegenOptions co;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  co.start_ns = uint64_t(now.tv_sec) * 1000000000ull + uint64_t(now.tv_nsec);
  return generate_code(source, ast, std::move(info), co);
}

}  // namespace bpfkit::lang
