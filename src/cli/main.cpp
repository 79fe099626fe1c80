// `bpfkit`: eBPF in C++. Each subcommand lives in its own cmd_*.cpp file.
#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "cli/command.h"

namespace bpfkit::cli {

std::vector<RegisteredCommand>& registered_commands() {
  static std::vector<RegisteredCommand> commands;
  return commands;
}

CommandRegistration::CommandRegistration(std::string name, CommandSetup setup) {
  registered_commands().push_back({std::move(name), std::move(setup)});
}

}  // namespace bpfkit::cli

namespace {

// bpftool takes its output options before the object (`bpftool -j prog list`); the
// bpftool-like subcommands take them after their name. Moves such leading options
// behind the subcommand so both spellings work.
std::vector<char*> bpftool_order(int argc, char** argv) {
  static const std::vector<std::string> kTools = {"prog", "map", "link", "feature"};
  static const std::vector<std::string> kOutput = {"-j", "--json", "-p", "--pretty"};
  std::vector<char*> args(argv, argv + argc);
  size_t first = 1;
  while (first < args.size() && std::find(kOutput.begin(), kOutput.end(), args[first]) != kOutput.end()) ++first;
  if (first == 1 || first >= args.size() ||
      std::find(kTools.begin(), kTools.end(), args[first]) == kTools.end()) {
    return args;
  }
  std::rotate(args.begin() + 1, args.begin() + first, args.begin() + first + 1);
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bpfkit::cli;
  std::vector<char*> args = bpftool_order(argc, argv);
  argc = int(args.size());
  argv = args.data();
  CLI::App app{"bpfkit: eBPF implemented in C++ (verifier, interpreter, JIT, maps, hooks, tracing)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bpfkit 0.1.0");
  auto commands = registered_commands();
  std::sort(commands.begin(), commands.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::map<CLI::App*, std::function<int()>> runners;
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name);
    runners[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const bpfkit::Error& e) {
    std::cerr << "bpfkit: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bpfkit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
