#pragma once
// The command-line side of a service: `stacklens <service> [--config FILE]`, whose --help lists
// every configuration key with its environment variable, and the start-up that turns a
// configuration into a running ServiceRuntime with the service's BatchHandler.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "service/batch_handler.h"
#include "service/service_runtime.h"
#include "stacklens/connect/service_config.h"

namespace stacklens::headless::service {

/// Builds the service's handler once the runtime is connected (it may read the store and
/// register metrics).
using HandlerFactory = std::function<std::unique_ptr<BatchHandler>(ServiceRuntime&)>;

/// Adds subcommand `name` with --config FILE (env STACKLENS_CONFIG) and the key list as its
/// --help footer. The callback loads the configuration (file, then STACKLENS_* variables; a bad
/// key or value ends the command with exit code 2 naming it) and calls `run`, whose result is the
/// exit code.
CLI::App* addServiceCommand(CLI::App& app, const std::string& name, const std::string& description,
                            std::function<int(const connect::ServiceConfig&)> run);

/// Sets up the JSON log, connects the runtime, builds the handler and runs the loop. Start-up
/// failures (database, brokers, port) are logged and give exit code 1.
int runService(const connect::ServiceConfig& config, const ServiceIdentity& identity,
               const HandlerFactory& makeHandler);

}  // namespace stacklens::headless::service
