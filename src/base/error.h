// Errors that reach users. Every error says where: an instruction index, a
// line:column of assembly text, or a byte offset of a file.
#pragma once

#include <stdexcept>
#include <string>

namespace bpfkit {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bpfkit
