// libFuzzer target: BpfObject::parse must load any bytes or reject them with a
// bpfkit::Error (ObjectError, ElfError, BtfError, CoreRelocationError), never crash.
// Seed it with clang-compiled objects (e.g. the tests' prog.bpf.o files).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "object/bpf_object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bpfkit::object::ObjectLoadOptions options = [] {
    bpfkit::object::ObjectLoadOptions o;
    o.name = "fuzz";
    // CO-RE resolves against an empty BTF: the fuzzer must not read /sys/kernel/btf/vmlinux.
    const std::vector<uint8_t> empty_btf{0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0,    0,    0, 0, 0,  0, 0, 1, 0, 0, 0, 0};
    o.target_btf = std::make_shared<const bpfkit::object::Btf>(bpfkit::object::Btf::parse(empty_btf));
    return o;
  }();
  try {
    auto obj = bpfkit::object::BpfObject::parse(std::vector<uint8_t>(data, data + size), options);
    for (const auto& p : obj.programs())
      if (!p.insns.empty()) p.line_of(p.insns.size() - 1);
  } catch (const bpfkit::Error&) {
  }
  return 0;
}
