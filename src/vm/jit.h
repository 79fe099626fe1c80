// The x86-64 JIT engine beyond make_jit(): explicit code generation choices
// (tests cover both shift encodings with them) and access to the machine code.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "vm/engine.h"
#include "vm/jit_compiler.h"

namespace bpfkit::vm {

// make_jit(program, options) with codegen.checked taken from options.checked.
std::unique_ptr<Engine> make_jit(const Program& program, EngineOptions options, jit::CodegenOptions codegen);

// The machine code of an engine made by make_jit (entry at offset 0), empty for other engines.
std::span<const uint8_t> jit_machine_code(const Engine& engine);

}  // namespace bpfkit::vm
