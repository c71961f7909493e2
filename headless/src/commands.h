#pragma once
// Every subcommand of `stacklens` lives in its own file and adds itself to the CLI here.
// A subcommand's callback throws CLI::RuntimeError(code) to exit with a non-zero status.

#include <CLI/CLI.hpp>

namespace stacklens::headless {

void addMockClusterCommand(CLI::App& app);
void addDbCommand(CLI::App& app);

/// Subcommands whose implementation has not landed yet: listed in --help, and a clear error
/// when invoked.
void addPlannedCommands(CLI::App& app);

}  // namespace stacklens::headless
