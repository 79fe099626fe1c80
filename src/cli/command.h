// Subcommands of the `bpfkit` executable register themselves here, one file
// each (cmd_<name>.cpp), so adding a command touches no other file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace bpfkit::cli {

// Adds the subcommand to `app`; the returned callback runs it and gives the exit code.
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

struct CommandRegistration {
  CommandRegistration(std::string name, CommandSetup setup);
};

struct RegisteredCommand {
  std::string name;
  CommandSetup setup;
};
std::vector<RegisteredCommand>& registered_commands();

}  // namespace bpfkit::cli
