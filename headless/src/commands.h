#pragma once
// Every subcommand of `stacklens` lives in its own file and adds itself to the CLI here.
// Exit codes: 0 success, 1 a runtime failure (I/O, Kafka, PostgreSQL), 2 bad usage or bad input.

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace stacklens::headless {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;

/// Prints "stacklens COMMAND: MESSAGE" to stderr and ends the command with `exitCode`
/// (CLI11 does not print RuntimeError messages itself).
[[noreturn]] void failCommand(std::string_view command, std::string_view message, int exitCode);

void addMockClusterCommand(CLI::App& app);
void addSimulateCommand(CLI::App& app);
void addReplayCommand(CLI::App& app);
void addDbCommand(CLI::App& app);
void addHealthcheckCommand(CLI::App& app);
void addDetectCommand(CLI::App& app);
/// `eval` subcommands take the `eval` parent.
void addEvalNabCommand(CLI::App& eval);
void addForecastCommand(CLI::App& app);
/// `eval m4` under the `eval` parent subcommand.
void addEvalM4Command(CLI::App& eval);

/// `stacklens ml-service` (ml_service/ml_service_command.cpp).
void addMlServiceCommand(CLI::App& app);

/// `stacklens predictive-alerter` (predictive_alerter/predictive_alerter_command.cpp).
void addPredictiveAlerterCommand(CLI::App& app);

}  // namespace stacklens::headless
