// BTF-typed hooks (tp_btf, fentry, fexit, fmod_ret, lsm, iter) name the kernel
// function or tracepoint they attach to by its type id in the kernel's BTF; the id
// goes into BPF_PROG_LOAD (attach_btf_id), and the verifier checks the program's
// context accesses against that type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "object/btf.h"
#include "object/section_name.h"

namespace bpfkit::target::linux_kernel {

// /sys/kernel/btf/vmlinux, parsed once. TargetError when the kernel has none.
std::shared_ptr<const object::Btf> vmlinux_btf();

// The vmlinux BTF id that loading a program of section `def` needs: tp_btf/NAME ->
// TYPEDEF btf_trace_NAME, fentry|fexit|fmod_ret/FUNC -> FUNC, lsm/HOOK -> FUNC
// bpf_lsm_HOOK, iter/NAME -> FUNC bpf_iter_NAME. 0 for sections that need none.
// TargetError with one sentence when the name is missing or not in vmlinux.
uint32_t resolve_attach_btf_id(const object::SectionDefinition& def);
// The same against a given BTF (tests, or a module's split BTF).
uint32_t resolve_attach_btf_id(const object::SectionDefinition& def, const object::Btf& btf);

// The hook kind as its section prefix spells it ("fentry", "lsm", "tp_btf", ...), or "" for
// sections that are not BTF-typed hooks.
std::string btf_hook_kind(const object::SectionDefinition& def);

// When the kernel refused to load a program of section `def` with `error_number`
// and a known restriction of this kernel explains it (fentry/fexit/fmod_ret/LSM
// refused with EPERM under kernel lockdown), one sentence saying so and what to use
// instead; "" otherwise. The loader appends it to its error.
std::string explain_load_refusal(const object::SectionDefinition& def, int error_number);

}  // namespace bpfkit::target::linux_kernel
