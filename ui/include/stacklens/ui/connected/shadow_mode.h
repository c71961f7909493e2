#pragma once
// Shadow mode: the local engine, with the configuration being tuned, runs on the same live
// stream production consumes (analytics-alerts) and its anomalies are set side by side with what
// production published (ml-anomalies). A window (service, timestamp) is a disagreement when only
// one side flagged it, or both did with a different type or severity. Qt-free logic; the Live
// panel feeds it from the tail.
//
// Production's verdict on a window is known once its anomaly message arrived; until then a window
// only the local engine flagged counts as "local only" (production may be behind).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stacklens/core/pipeline/ml_pipeline.h"
#include "stacklens/core/records.h"

namespace stacklens::ui {

struct ShadowRow {
  enum class Verdict { kAgree, kLocalOnly, kProductionOnly, kDiffer };
  std::string service;
  core::EpochSeconds timestamp = 0;
  std::optional<core::AnomalyRecord> local;
  std::optional<core::AnomalyRecord> production;
  Verdict verdict() const;
};

class ShadowMode {
 public:
  /// Runs a fresh pipeline with `config` (it warms up from the stream, or from train()).
  explicit ShadowMode(core::pipeline::MlPipelineConfig config);

  /// Trains a service's local models on its history (e.g. analytics_metrics_1hour), as ml-service does.
  void train(const std::string& service, const std::vector<core::ServiceMetrics>& history);
  /// One analytics-alerts message; returns false (and counts it) when the pipeline refuses it.
  bool addInput(const core::ServiceMetrics& sample);
  /// One anomaly production published.
  void addProduction(const core::AnomalyRecord& anomaly);

  /// Every window either side flagged, by service and time.
  std::vector<ShadowRow> rows() const;
  /// The rows that are not kAgree.
  std::vector<ShadowRow> disagreements() const;
  int inputs() const { return inputs_; }
  int rejected() const { return rejected_; }

 private:
  core::pipeline::MlPipeline pipeline_;
  std::map<std::pair<std::string, core::EpochSeconds>, ShadowRow> rows_;
  int inputs_ = 0;
  int rejected_ = 0;
};

}  // namespace stacklens::ui
