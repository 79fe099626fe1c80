// Executable memory for JIT code, W^X: the pages are mapped read-write, filled,
// then switched to read-execute; they are never writable and executable at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace bpfkit::vm::jit {

class ExecutableMemory {
 public:
  ExecutableMemory() = default;
  // Copies `code` into fresh pages and makes them read-execute. Throws bpfkit::Error.
  explicit ExecutableMemory(std::span<const uint8_t> code);
  ~ExecutableMemory();
  ExecutableMemory(ExecutableMemory&& other) noexcept;
  ExecutableMemory& operator=(ExecutableMemory&& other) noexcept;
  ExecutableMemory(const ExecutableMemory&) = delete;
  ExecutableMemory& operator=(const ExecutableMemory&) = delete;

  const uint8_t* data() const { return static_cast<const uint8_t*>(base_); }
  size_t size() const { return size_; }           // of the code
  size_t mapped_size() const { return mapped_; }  // whole pages

 private:
  void release();

  void* base_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
};

}  // namespace bpfkit::vm::jit
