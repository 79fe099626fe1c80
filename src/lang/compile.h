// The whole compiler as one call: parse, analyse, generate. Each pass lives in its
// own file (parser.cpp, semantic.cpp, codegen.cpp); this is only their order.
#pragma once

#include <string>
#include <vector>

#include "lang/codegen.h"
#include "lang/source.h"

namespace bpfkit::lang {

struct CompileOptions {
  std::vector<std::string> positional;  // $1, $2, ...
  bool unsafe = false;
  bool kernel_probes = true;  // false on the userspace target: BEGIN, END and interval only
  int cpid = 0;               // the `cpid` builtin: the pid of the -c command (0: none)
};

// Throws SyntaxError / SemanticError (both with file:line:col and a caret).
CompiledScript compile_script(const Source& source, const CompileOptions& options);

}  // namespace bpfkit::lang
