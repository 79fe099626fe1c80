#include "cli/linux_load.h"

#include <sstream>
#include <vector>

#include "helpers/runtime_helpers.h"
#include "target/linux/linux_target.h"
#include "target/verify_object.h"

namespace bpfkit::cli {

namespace {

constexpr size_t kLogLines = 25;

// The last `n` lines of a log (the kernel ends it with the failing instruction and why).
std::string log_tail(const std::string& log, size_t n, size_t& total) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  total = lines.size();
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += "  " + lines[i] + '\n';
  return out;
}

}  // namespace

std::unique_ptr<target::LoadedObject> load_on_linux(std::shared_ptr<const object::BpfObject> object,
                                                    const target::TargetOptions& options) {
  try {
    return target::make_linux_target(options)->load(object);
  } catch (const target::linux_kernel::ProgramLoadError& e) {
    std::string text = e.what();
    if (!e.verifier_log().empty()) {
      size_t total = 0;
      const std::string tail = log_tail(e.verifier_log(), kLogLines, total);
      text += "\nthe kernel's verifier log (" + (total > kLogLines ? "last " + std::to_string(kLogLines) + " of " : "") +
              std::to_string(total) + " lines):\n" + tail;
    }
    if (const object::ProgramDefinition* prog = object->find_program(e.program())) {
      const verifier::VerifyResult mine = target::verify_object_program(*object, *prog, {}, &helpers::runtime_helpers());
      text += mine.ok ? "bpfkit's verifier accepts this program (" + std::to_string(mine.stats.insns_processed) +
                            " instructions processed): the kernel's refusal is about something bpfkit does not "
                            "model, see its log above"
                      : "bpfkit's verifier: " + mine.message;
    }
    throw Error(text);
  }
}

}  // namespace bpfkit::cli
