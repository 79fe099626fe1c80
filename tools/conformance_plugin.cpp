// bpfkit-conformance-plugin: bpfkit as a plugin of the bpf_conformance runner.
//
//   bpfkit-conformance-plugin [MEMORY_HEX] [--engine interp|jit]  < PROGRAM_HEX
//
// The program arrives on stdin as hex text (two digits per byte, separated by
// whitespace); the optional first argument is the input memory in the same form.
// The runner passes its plugin options as one argument ("--engine jit"), so every
// argument after the memory is split on whitespace. On success prints r0 in hex
// (printf %lx) and exits 0; on failure prints the error and exits 1. Both go to
// stdout, which is what the runner reads and compares.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "conformance/runner.h"
#include "isa/codec.h"

namespace {

using bpfkit::Error;

// Whitespace-separated hex bytes ("b7  00  00  00 ..."); `what` names the input in errors.
std::vector<uint8_t> parse_hex_bytes(const std::string& text, const std::string& what) {
  std::vector<uint8_t> out;
  std::istringstream in(text);
  std::string tok;
  size_t index = 0;
  while (in >> tok) {
    if (tok.size() > 2 || tok.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      throw Error(what + ": token " + std::to_string(index) + " '" + tok + "' is not a hex byte");
    out.push_back(uint8_t(std::stoul(tok, nullptr, 16)));
    ++index;
  }
  return out;
}

constexpr const char* kUsage =
    "usage: bpfkit-conformance-plugin [MEMORY_HEX] [--engine interp|jit] < PROGRAM_HEX\n"
    "Runs one eBPF program for the bpf_conformance runner and prints r0 in hex.\n";

int run(int argc, char** argv) {
  std::string memory_hex;
  std::vector<std::string> options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i == 1 && !arg.starts_with("-")) {
      memory_hex = arg;
      continue;
    }
    std::istringstream split(arg);
    for (std::string t; split >> t;) options.push_back(t);
  }
  auto engine = bpfkit::conformance::EngineKind::Interpreter;
  for (size_t i = 0; i < options.size(); ++i) {
    if (options[i] == "-h" || options[i] == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (options[i] == "--engine" && i + 1 < options.size()) {
      engine = bpfkit::conformance::parse_engine_kind(options[++i]);
    } else if (options[i].starts_with("--engine=")) {
      engine = bpfkit::conformance::parse_engine_kind(options[i].substr(9));
    } else {
      throw Error("unknown option '" + options[i] + "'\n" + kUsage);
    }
  }
  const std::string program_hex(std::istreambuf_iterator<char>(std::cin), {});
  const std::vector<uint8_t> memory = parse_hex_bytes(memory_hex, "memory");
  const std::vector<uint8_t> bytes = parse_hex_bytes(program_hex, "program");
  if (bytes.empty()) throw Error("program: stdin holds no instructions");
  const std::vector<bpfkit::isa::RawInsn> program = bpfkit::isa::raw_from_bytes(bytes);
  const uint64_t r0 = bpfkit::conformance::run_program(program, memory, engine);
  std::printf("%lx\n", static_cast<unsigned long>(r0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cout << e.what() << std::endl;
    return 1;
  }
}
