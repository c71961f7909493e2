// `stacklens ml-service`: the anomaly-detection service (analytics-alerts in; ml-anomalies,
// ml-patterns and the ml_* tables out) on the shared service runtime.
#include "commands.h"
#include "ml_service/ml_batch_handler.h"
#include "service/service_command.h"

namespace stacklens::headless {

void addMlServiceCommand(CLI::App& app) {
  service::addServiceCommand(
      app, "ml-service",
      "Run the anomaly-detection service (Kafka analytics-alerts in; ml-anomalies, ml-patterns and PostgreSQL "
      "out; HTTP /healthz /readyz /metrics on 8005)",
      [](const connect::ServiceConfig& config) {
        const service::ServiceIdentity identity{.name = "ml-service",
                                                .defaultHttpPort = 8005,
                                                .inputTopic = config.ml.inputTopic,
                                                .deadLetterTopic = config.ml.deadLetterTopic,
                                                .batchSize = config.ml.batchSize,
                                                .batchTimeout = std::chrono::milliseconds(config.ml.batchTimeoutMs),
                                                .batchesInFlight = config.ml.batchesInFlight};
        return service::runService(config, identity, [](service::ServiceRuntime& runtime) {
          return std::make_unique<ml_service::MlBatchHandler>(runtime);
        });
      });
}

}  // namespace stacklens::headless
