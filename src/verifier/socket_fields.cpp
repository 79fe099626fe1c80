// What a program may read through a socket pointer: the fields of struct bpf_sock,
// as the kernel's bpf_sock_is_valid_access() and bpf_sock_common_is_valid_access()
// allow them (tests/kernel/socket_kernel_test.cpp checks every offset and size
// against the running kernel). Nothing may be written.
#include <linux/bpf.h>

#include <cstddef>
#include <string>

#include "verifier/analyzer.h"

namespace bpfkit::verifier {
namespace {

// Loads narrower than 4 bytes: none; only at the field's start (the kernel names these
// fields by their offset); anywhere inside (the addresses and dst_port, named by range).
enum class Narrow : uint8_t { None, AtStart, Anywhere };

struct SockField {
  const char* name;
  uint32_t offset, size;
  Narrow narrow;
  // Only a full socket (PTR_TO_SOCKET) has it: a sock_common may be a request or
  // timewait socket, whose type, protocol, mark and priority the kernel cannot read.
  bool full_only;
};

constexpr SockField kFields[] = {
    {"bound_dev_if", offsetof(bpf_sock, bound_dev_if), 4, Narrow::None, false},
    {"family", offsetof(bpf_sock, family), 4, Narrow::AtStart, false},
    {"type", offsetof(bpf_sock, type), 4, Narrow::AtStart, true},
    {"protocol", offsetof(bpf_sock, protocol), 4, Narrow::AtStart, true},
    {"mark", offsetof(bpf_sock, mark), 4, Narrow::None, true},
    {"priority", offsetof(bpf_sock, priority), 4, Narrow::None, true},
    {"src_ip4", offsetof(bpf_sock, src_ip4), 4, Narrow::Anywhere, false},
    {"src_ip6", offsetof(bpf_sock, src_ip6), 16, Narrow::Anywhere, false},
    {"src_port", offsetof(bpf_sock, src_port), 4, Narrow::AtStart, false},
    // A __be16 followed by 2 bytes of padding: a 4-byte load at its start reads both.
    {"dst_port", offsetof(bpf_sock, dst_port), 2, Narrow::Anywhere, false},
    {"dst_ip4", offsetof(bpf_sock, dst_ip4), 4, Narrow::Anywhere, false},
    {"dst_ip6", offsetof(bpf_sock, dst_ip6), 16, Narrow::Anywhere, false},
    {"state", offsetof(bpf_sock, state), 4, Narrow::AtStart, false},
    {"rx_queue_mapping", offsetof(bpf_sock, rx_queue_mapping), 4, Narrow::AtStart, false},
};

}  // namespace

bool sock_access_ok(bool common, int64_t off, uint32_t size, std::string* field) {
  if (off < 0 || off >= int64_t(sizeof(bpf_sock))) return false;
  const SockField* f = nullptr;
  for (const SockField& candidate : kFields) {
    if (uint64_t(off) >= candidate.offset && uint64_t(off) < candidate.offset + candidate.size)
      f = &candidate;
  }
  if (f == nullptr) return false;  // dst_port's padding
  if (field != nullptr) *field = f->name;
  if (common && f->full_only) return false;
  if (size == 0 || (size & (size - 1)) != 0 || off % size != 0) return false;
  if (size == 4) {
    // A whole word: any word of the field (the address arrays have four), dst_port's
    // together with its padding.
    return f->size >= 4 || uint64_t(off) == f->offset;
  }
  // 1 and 2 bytes where the field allows narrow loads; 8 bytes never.
  if (size > 2 || f->narrow == Narrow::None) return false;
  if (f->narrow == Narrow::AtStart) return uint64_t(off) == f->offset;
  return uint64_t(off) + size <= f->offset + f->size;
}

}  // namespace bpfkit::verifier
