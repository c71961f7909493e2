#pragma once
// ml-service's part of the service loop: `analytics-alerts` messages in; anomalies, patterns,
// trends and model versions out (PostgreSQL ml_anomalies, ml_patterns, ml_trends, ml_models;
// topics ml-anomalies, ml-patterns). The detection itself is core::pipeline::MlPipeline.
//
// Per message: decode and validate (connect::decodeServiceMetrics; the key must name the
// message's service) — a failure is dead-lettered with its reason. The first message of a
// service loads ml.history_days of analytics_metrics_1hour before it and trains on it (≥
// ml.min_training_samples samples), else the service warms up from the stream (logged). Refits
// every ml.retrain_every messages run on the RefitWorker.
//
// Services are sharded over ml.scoring_threads lanes, each with its own pipeline: a batch's
// messages are decoded on the consumer thread, then every lane scores its services' messages at
// once, each service's in order. Models are seeded per service, so the records are the same
// whatever the number of lanes.

#include <memory>
#include <string>
#include <unordered_set>

#include "service/deployed_config.h"
#include "ml_service/lane_pool.h"
#include "ml_service/refit_worker.h"
#include "observability/metrics_registry.h"
#include "service/batch_handler.h"
#include "service/service_runtime.h"
#include "stacklens/connect/message_codec.h"
#include "stacklens/core/pipeline/ml_pipeline.h"

namespace stacklens::headless::ml_service {

class MlBatchHandler : public service::BatchHandler {
 public:
  /// Reads its settings from runtime.config() and history through runtime.store().
  explicit MlBatchHandler(service::ServiceRuntime& runtime);
  ~MlBatchHandler() override;

  void handle(std::span<const connect::KafkaMessage> batch, service::BatchOutput& out) override;

 private:
  struct Records;
  struct Metrics;
  struct Lane;
  void resetLanes(const connect::ServiceConfig& config);
  void score(Lane& lane);
  bool scoreOne(Lane& lane, std::size_t item);
  void firstSeen(Lane& lane, const core::ServiceMetrics& sample);
  void collect(core::pipeline::PipelineOutput& result, Records& records);
  void emit(Records& records, service::BatchOutput& out);

  service::ServiceRuntime& runtime_;
  connect::ValidationLimits limits_;
  RefitWorker worker_;  // declared before the lanes, so it outlives the pipelines that submit to it
  LanePool pool_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::unique_ptr<Metrics> metrics_;
  service::DeployedConfig deployed_;  // configurations deployed from the workbench (ml_config_versions)
};

}  // namespace stacklens::headless::ml_service
