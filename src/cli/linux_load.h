// Loading an object into the kernel for the CLI. When the kernel refuses a program,
// the error shows the end of the kernel verifier's log and, beside it, bpfkit's own
// verifier's verdict on the same program (which usually says more plainly what is wrong).
#pragma once

#include <memory>

#include "object/bpf_object.h"
#include "target/target.h"

namespace bpfkit::cli {

std::unique_ptr<target::LoadedObject> load_on_linux(std::shared_ptr<const object::BpfObject> object,
                                                    const target::TargetOptions& options);

}  // namespace bpfkit::cli
