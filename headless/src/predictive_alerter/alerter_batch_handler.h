#pragma once
// predictive-alerter's part of the service loop: `ml-anomalies` messages in; forecasts and
// predictive alerts out (PostgreSQL ml_forecasts, ml_predictive_alerts; topic predictive-alerts).
// The forecasting itself is core::pipeline::PredictivePipeline.
//
// Per message: decode and validate (connect::decodeAnomaly with the default limits, 64 KiB; the
// key must name the anomaly's service) — a failure is dead-lettered to alerter.dead_letter_topic with its reason. The first
// anomaly of a service reads its open alerts back (so they can still materialize after a
// restart); every anomaly reads the history the pipeline asks for from analytics_metrics_1hour
// (alerter.model_history_hours the first time, then alerter.history_hours). New alerts are
// written (alert_sent = true: the runtime delivers the topic message before it commits, and a
// replay after a crash raises the same alert id again), then materializations are recorded.
// A configuration deployed from the workbench (ml_config_versions) replaces the forecasting
// settings at a batch boundary; open alerts are then read back into the new pipeline.

#include <memory>
#include <string>
#include <unordered_set>

#include "service/batch_handler.h"
#include "service/deployed_config.h"
#include "service/service_runtime.h"
#include "stacklens/connect/message_codec.h"
#include "stacklens/core/pipeline/predictive_pipeline.h"

namespace stacklens::headless::predictive_alerter {

class AlerterBatchHandler : public service::BatchHandler {
 public:
  /// Reads its settings from runtime.config() (throws connect::ConfigError for a bad [alerter]
  /// combination) and history through runtime.store().
  explicit AlerterBatchHandler(service::ServiceRuntime& runtime);
  ~AlerterBatchHandler() override;

  void handle(std::span<const connect::KafkaMessage> batch, service::BatchOutput& out) override;

 private:
  struct Records;
  struct Metrics;
  template <typename Read>
  auto readWithRetry(const std::string& what, Read&& read);
  void prepare(const core::AnomalyRecord& anomaly);
  void collect(core::pipeline::PredictiveOutput& result, Records& records);
  void emit(Records& records, service::BatchOutput& out);

  service::ServiceRuntime& runtime_;
  connect::ValidationLimits limits_;
  core::pipeline::PredictivePipeline pipeline_;
  std::unordered_set<std::string> seen_;
  std::unique_ptr<Metrics> metrics_;
  service::DeployedConfig deployed_;
};

}  // namespace stacklens::headless::predictive_alerter
