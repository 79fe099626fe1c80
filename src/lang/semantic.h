// The semantic pass: resolves every probe (wildcards expanded against the running
// system, tracepoint formats read), every builtin, function, variable and map, and
// gives every expression a type. Errors are SemanticErrors at the script location.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lang/ast.h"
#include "lang/script_info.h"
#include "lang/source.h"
#include "object/btf.h"

namespace bpfkit::lang {

struct SemanticOptions {
  std::vector<std::string> positional;  // $1, $2, ...
  bool unsafe = false;                   // allows system(), cat(), signal()
  int cpid = 0;                          // the -c command's pid; cpid is an error without one
  // Kernel probes (tracepoints, uprobes, ...) are resolved against this machine; false on
  // the userspace target, which only has BEGIN, END and interval.
  bool kernel_probes = true;
  // vmlinux BTF, read when the script first needs it (curtask->..., kfunc args).
  std::function<std::shared_ptr<const object::Btf>()> vmlinux_btf;
};

ScriptInfo analyse_script(const Source& source, const Program& program, const SemanticOptions& options);

}  // namespace bpfkit::lang
