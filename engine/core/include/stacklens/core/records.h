#pragma once
// The records StackLens reads and writes: one input sample per service and window, and the
// outputs that go to Kafka topics and PostgreSQL tables. Names follow the original system's
// contracts (topics analytics-alerts, ml-anomalies, ml-patterns, predictive-alerts; tables
// ml_anomalies, ml_patterns, ml_trends, ml_forecasts, ml_predictive_alerts, ml_models).
// Plain values: the codec in stacklens::connect maps them to JSON and SQL rows.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/timestamp.h"

namespace stacklens::core {

/// The 8 features of a service sample, in the order of the feature vector.
inline constexpr std::size_t kFeatureCount = 8;
inline constexpr std::array<std::string_view, kFeatureCount> kFeatureNames = {
    "error_rate",      "latency_p99_ms", "latency_p95_ms", "latency_mean_ms",
    "unique_users",    "unique_ips",     "risk_score",     "total_requests"};

/// The position of a feature in kFeatureNames; nullopt for a name that is not one of them.
constexpr std::optional<std::size_t> featureIndex(std::string_view name) {
  for (std::size_t i = 0; i < kFeatureCount; ++i)
    if (kFeatureNames[i] == name) return i;
  return std::nullopt;
}

using FeatureVector = std::array<double, kFeatureCount>;

/// One message of `analytics-alerts` / one row of `analytics_metrics_1hour` (the original's
/// ServiceMetrics). error_rate is in percent (0.5 = 0.5 %), latencies in milliseconds.
struct ServiceMetrics {
  std::string service;
  EpochSeconds timestamp = 0;  ///< start of the aggregation window, UTC
  int windowSeconds = 3600;
  double errorRate = 0;
  double latencyP99Ms = 0;
  double latencyP95Ms = 0;
  double latencyMeanMs = 0;
  double uniqueUsers = 0;
  double uniqueIps = 0;
  double riskScore = 0;
  double totalRequests = 0;

  FeatureVector features() const {
    return {errorRate, latencyP99Ms, latencyP95Ms, latencyMeanMs, uniqueUsers, uniqueIps, riskScore, totalRequests};
  }
};

enum class AnomalyType {
  kErrorSpike,          ///< error rate far above its baseline
  kLatencyDegradation,  ///< latency percentiles far above baseline
  kTrafficDrop,         ///< requests/users/IPs far below baseline
  kTrafficSurge,        ///< requests/users/IPs far above baseline
  kRiskElevation,       ///< risk score far above baseline
  kPatternShift,        ///< the sample fits none of the service's usual behaviour patterns
  kTrendChange,         ///< a change point in a metric's level or trend
  kOutlier,             ///< multivariate outlier with no single dominant metric
};

enum class Severity { kLow, kMedium, kHigh, kCritical };

/// snake_case names used in JSON, SQL and the CLI ("error_spike", "critical" ...).
std::string_view toString(AnomalyType type);
std::string_view toString(Severity severity);
std::optional<AnomalyType> anomalyTypeFromString(std::string_view name);
std::optional<Severity> severityFromString(std::string_view name);
inline constexpr std::array kAllAnomalyTypes = {
    AnomalyType::kErrorSpike,   AnomalyType::kLatencyDegradation, AnomalyType::kTrafficDrop,
    AnomalyType::kTrafficSurge, AnomalyType::kRiskElevation,      AnomalyType::kPatternShift,
    AnomalyType::kTrendChange,  AnomalyType::kOutlier};
inline constexpr std::array kAllSeverities = {Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical};

/// Stable id of an anomaly: lowercase MD5 hex of "service|timestamp|type" with the timestamp
/// formatted as by formatTimestamp(). A replayed message yields the same id, so writes are
/// idempotent.
std::string makeAnomalyId(std::string_view service, EpochSeconds windowTimestamp, AnomalyType type);

/// MD5 of arbitrary bytes as 32 lowercase hex digits (ids of patterns, alerts, models).
std::string md5Hex(std::string_view bytes);

/// One detected anomaly (`ml_anomalies`, `ml-anomalies`; the original's AnomalyRecord).
struct AnomalyRecord {
  std::string anomalyId;
  std::string service;
  EpochSeconds timestamp = 0;  ///< the sample's window timestamp
  AnomalyType type = AnomalyType::kOutlier;
  Severity severity = Severity::kLow;
  double confidence = 0;    ///< [0,1]: agreement and strength of the detectors
  double anomalyScore = 0;  ///< [0,1]: the consensus score
  std::vector<std::string> detectionMethods;  ///< e.g. {"isolation_forest", "dbscan", "trend"}
  std::map<std::string, double> metricValues;    ///< observed feature values
  std::map<std::string, double> expectedValues;  ///< the baseline for the same features
  std::string description;                       ///< one readable sentence
  bool resolved = false;
};

/// A behaviour pattern of a service (`ml_patterns`, `ml-patterns`): one DBSCAN cluster.
struct PatternRecord {
  std::string patternId;  ///< md5Hex of service, cluster and model version
  std::string service;
  int clusterLabel = 0;
  FeatureVector centroid{};  ///< in original units
  FeatureVector spread{};    ///< per-feature standard deviation, original units
  int size = 0;              ///< samples in the cluster
  double share = 0;          ///< size / samples, [0,1]
  EpochSeconds firstSeen = 0;
  EpochSeconds lastSeen = 0;
};

enum class TrendDirection { kDown, kStable, kUp };
std::string_view toString(TrendDirection direction);

/// Trend analysis of one metric of one service (`ml_trends`).
struct TrendRecord {
  std::string service;
  std::string metric;
  EpochSeconds timestamp = 0;  ///< last sample analysed
  TrendDirection direction = TrendDirection::kStable;
  double magnitude = 0;          ///< [-1,1]: normalised slope
  double slope = 0;              ///< metric units per hour
  double seasonalityScore = 0;   ///< autocorrelation at the seasonal period, [-1,1]
  int seasonalPeriod = 0;        ///< hours; 0 when none found
  bool changePoint = false;      ///< a change point was detected in the window
  std::optional<EpochSeconds> changePointAt;
};

/// One forecast step of one metric (`ml_forecasts`).
struct ForecastRecord {
  std::string service;
  std::string metric;
  EpochSeconds createdAt = 0;
  EpochSeconds targetTime = 0;
  int step = 0;        ///< 1-based horizon step
  double mean = 0;
  double lower = 0;
  double upper = 0;
  double level = 90;   ///< interval level in percent
  std::string model;   ///< e.g. "ARIMA(1,1,1)(0,1,1)[24]"
};

/// A warning before it happens (`ml_predictive_alerts`, `predictive-alerts`).
struct PredictiveAlert {
  std::string alertId;  ///< md5Hex of service, metric, event and predicted start
  std::string service;
  std::string metric;
  std::string predictedEvent;  ///< e.g. "threshold_breach", "capacity_exhaustion"
  double predictionConfidence = 0;  ///< [0,1]
  double breachProbability = 0;     ///< [0,1]
  double threshold = 0;
  EpochSeconds predictedTimeStart = 0;
  EpochSeconds predictedTimeEnd = 0;
  Severity severity = Severity::kMedium;
  std::string recommendation;
  EpochSeconds createdAt = 0;
  bool alertSent = false;
  bool materialized = false;
  std::optional<EpochSeconds> materializedAt;
};

/// One trained model version (`ml_models`).
struct ModelRecord {
  std::string modelId;  ///< md5Hex of service, model type and version
  std::string service;
  std::string modelType;  ///< e.g. "isolation_forest", "dbscan", "arima"
  int version = 1;
  EpochSeconds trainedAt = 0;
  int trainingSamples = 0;
  std::map<std::string, double> metrics;  ///< accuracy, precision, recall, f1, ... when known
  std::string hyperparametersJson = "{}";
  std::string blob;  ///< the serialized model (versioned engine format)
  bool active = true;
};

}  // namespace stacklens::core
