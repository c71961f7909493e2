#pragma once
// When a predictive alert comes true ("materializes"): the one rule of the predictive alerter
// (PredictivePipeline, what `stacklens predictive-alerter` runs) and of backtests
// (backtest::materializeAlerts), so that a backtest's materialization rate is the rate the
// daemon would report for the same anomalies.
//
// The alerter learns what happens from the anomalies of the service (the ml-anomalies stream), so
// an alert materializes on an anomaly of its service whose window timestamp lies in the alert's
// predicted window and that concerns the alert's metric: by its type (error_spike → error_rate,
// latency_degradation → the latencies, traffic_drop/surge → requests, users, IPs, risk_elevation →
// risk_score), or because the anomaly's observed value of the metric is above the alert's threshold.

#include <string_view>

#include "stacklens/core/records.h"

namespace stacklens::core::pipeline {

/// Whether an anomaly type is about a metric (one of core::kFeatureNames); types not listed above
/// (pattern_shift, trend_change, outlier) concern no metric by type.
bool anomalyConcerns(AnomalyType type, std::string_view metric);

/// What an alert predicts: `metric` above `threshold` within [start, end] (inclusive, UTC seconds).
struct PredictedBreach {
  std::string_view metric;
  double threshold = 0;
  EpochSeconds start = 0;
  EpochSeconds end = 0;
};

/// True when `anomaly` (of the alert's service) materializes the alert (see the file comment).
/// O(log m) in the anomaly's metric values.
bool materializes(const PredictedBreach& alert, const AnomalyRecord& anomaly);

}  // namespace stacklens::core::pipeline
