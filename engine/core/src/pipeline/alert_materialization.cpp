#include "stacklens/core/pipeline/alert_materialization.h"

#include <string>

namespace stacklens::core::pipeline {

bool anomalyConcerns(AnomalyType type, std::string_view metric) {
  switch (type) {
    case AnomalyType::kErrorSpike:
      return metric == "error_rate";
    case AnomalyType::kLatencyDegradation:
      return metric == "latency_p99_ms" || metric == "latency_p95_ms" || metric == "latency_mean_ms";
    case AnomalyType::kTrafficDrop:
    case AnomalyType::kTrafficSurge:
      return metric == "total_requests" || metric == "unique_users" || metric == "unique_ips";
    case AnomalyType::kRiskElevation:
      return metric == "risk_score";
    default:
      return false;
  }
}

bool materializes(const PredictedBreach& alert, const AnomalyRecord& anomaly) {
  if (anomaly.timestamp < alert.start || anomaly.timestamp > alert.end) return false;
  if (anomalyConcerns(anomaly.type, alert.metric)) return true;
  const auto value = anomaly.metricValues.find(std::string(alert.metric));
  return value != anomaly.metricValues.end() && value->second > alert.threshold;
}

}  // namespace stacklens::core::pipeline
