// `stacklens predictive-alerter`: forecasts and predictive alerts (ml-anomalies in;
// predictive-alerts, ml_predictive_alerts and ml_forecasts out) on the shared service runtime.
#include "commands.h"
#include "predictive_alerter/alerter_batch_handler.h"
#include "service/service_command.h"

namespace stacklens::headless {

void addPredictiveAlerterCommand(CLI::App& app) {
  service::addServiceCommand(
      app, "predictive-alerter",
      "Run the predictive alerter (Kafka ml-anomalies in; predictive-alerts, ml_predictive_alerts and ml_forecasts "
      "out; HTTP /healthz /readyz /metrics on 8006)",
      [](const connect::ServiceConfig& config) {
        try {
          connect::alerterPipelineConfig(config);  // a bad [alerter] combination is bad input, before connecting
        } catch (const connect::ConfigError& e) {
          failCommand("predictive-alerter", e.what(), kExitBadInput);
        }
        const auto& alerter = config.alerter;
        const service::ServiceIdentity identity{.name = "predictive-alerter",
                                                .defaultHttpPort = 8006,
                                                .inputTopic = alerter.inputTopic,
                                                .deadLetterTopic = alerter.deadLetterTopic,
                                                .batchSize = alerter.batchSize,
                                                .batchTimeout = std::chrono::milliseconds(alerter.batchTimeoutMs),
                                                .batchesInFlight = alerter.batchesInFlight};
        return service::runService(config, identity, [](service::ServiceRuntime& runtime) {
          return std::make_unique<predictive_alerter::AlerterBatchHandler>(runtime);
        });
      });
}

}  // namespace stacklens::headless
