#include "vm/jit_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/error.h"

namespace bpfkit::vm::jit {

ExecutableMemory::ExecutableMemory(std::span<const uint8_t> code) {
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  const size_t mapped = (code.size() + page - 1) / page * page;
  if (mapped == 0) return;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw Error("JIT: cannot map " + std::to_string(mapped) +
                " bytes for machine code: " + std::strerror(errno));
  std::memcpy(p, code.data(), code.size());
  if (mprotect(p, mapped, PROT_READ | PROT_EXEC) != 0) {
    const int err = errno;
    munmap(p, mapped);
    throw Error(std::string("JIT: cannot make machine code executable: ") + std::strerror(err));
  }
  base_ = p;
  size_ = code.size();
  mapped_ = mapped;
}

ExecutableMemory::~ExecutableMemory() { release(); }

ExecutableMemory::ExecutableMemory(ExecutableMemory&& other) noexcept
    : base_(other.base_), size_(other.size_), mapped_(other.mapped_) {
  other.base_ = nullptr;
  other.size_ = other.mapped_ = 0;
}

ExecutableMemory& ExecutableMemory::operator=(ExecutableMemory&& other) noexcept {
  if (this != &other) {
    release();
    base_ = other.base_, size_ = other.size_, mapped_ = other.mapped_;
    other.base_ = nullptr;
    other.size_ = other.mapped_ = 0;
  }
  return *this;
}

void ExecutableMemory::release() {
  if (base_) munmap(base_, mapped_);
  base_ = nullptr;
  size_ = mapped_ = 0;
}

}  // namespace bpfkit::vm::jit
