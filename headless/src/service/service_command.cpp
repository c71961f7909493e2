#include "service/service_command.h"

#include <spdlog/spdlog.h>

#include "commands.h"
#include "observability/logging.h"

namespace stacklens::headless::service {

CLI::App* addServiceCommand(CLI::App& app, const std::string& name, const std::string& description,
                            std::function<int(const connect::ServiceConfig&)> run) {
  auto configFile = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand(name, description);
  sub->add_option("--config", *configFile, "TOML configuration file (keys below)")->envname("STACKLENS_CONFIG");
  sub->footer("\n" + connect::describeServiceConfig());
  sub->callback([name, configFile, run = std::move(run)] {
    connect::ServiceConfig config;
    try {
      config = connect::loadServiceConfig(*configFile, connect::processEnvironment());
    } catch (const connect::ConfigError& e) {
      failCommand(name, e.what(), kExitBadInput);
    }
    if (const int code = run(config); code != 0) throw CLI::RuntimeError(code);
  });
  return sub;
}

int runService(const connect::ServiceConfig& config, const ServiceIdentity& identity,
               const HandlerFactory& makeHandler) {
  setupLogging(identity.name, config.log.level, config.log.format);
  std::unique_ptr<ServiceRuntime> runtime;
  std::unique_ptr<BatchHandler> handler;
  try {
    runtime = std::make_unique<ServiceRuntime>(config, identity);
    handler = makeHandler(*runtime);
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return kExitFailure;
  }
  const int code = runtime->run(*handler);
  spdlog::default_logger()->flush();
  return code;
}

}  // namespace stacklens::headless::service
