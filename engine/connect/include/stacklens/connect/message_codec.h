#pragma once
// JSON ↔ records for the Kafka topics. Decoding validates: a message that fails goes to the DLQ
// (`analytics-alerts-dlq`) with the reason this returns, and never stops a partition.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "stacklens/core/records.h"

namespace stacklens::connect {

/// What an `analytics-alerts` message may hold before it counts as absurd.
struct ValidationLimits {
  std::size_t maxMessageBytes = 64 * 1024;
  std::size_t maxServiceNameLength = 200;
  double maxErrorRatePercent = 100;
  double maxRiskScore = 1;
  double maxLatencyMs = 3'600'000;                   ///< one hour
  double maxCount = 1e12;                            ///< requests, users, IPs per window
  core::EpochSeconds earliestTimestamp = 946684800;  ///< 2000-01-01
};

/// The outcome of decoding: the record, or the reason it was rejected (naming the field).
template <typename Record>
struct Decoded {
  std::optional<Record> value;
  std::string error;  ///< empty on success, e.g. "field 'error_rate': must not be negative (-1)"
  explicit operator bool() const { return value.has_value(); }
};

/// Decodes and validates one `analytics-alerts` message: bad JSON, a non-object, missing or
/// mistyped fields, non-finite, negative or absurd values, and oversized messages are rejected.
/// Unknown fields are ignored. "window" is optional ("3600s" when absent).
Decoded<core::ServiceMetrics> decodeServiceMetrics(std::string_view payload, const ValidationLimits& limits = {});
std::string encodeServiceMetrics(const core::ServiceMetrics& metrics);

/// `ml-anomalies` messages. Decoding (the alerter's input) rejects bad JSON, oversized messages,
/// missing, empty or mistyped required fields (anomaly_id, service, timestamp, anomaly_type,
/// severity, confidence_score in [0, 1]), unknown types and severities, and non-numeric metric
/// values, naming the field; null metric values are skipped.
std::string encodeAnomaly(const core::AnomalyRecord& anomaly);
Decoded<core::AnomalyRecord> decodeAnomaly(std::string_view payload, const ValidationLimits& limits = {});

/// `ml-patterns` messages.
std::string encodePattern(const core::PatternRecord& pattern);

/// `predictive-alerts` messages: the ml_predictive_alerts columns (alert_id, service, metric,
/// predicted_event, prediction_confidence, breach_probability, threshold, predicted_time_start,
/// predicted_time_end, severity, recommendation, created_at, alert_sent, materialized,
/// materialized_at), timestamps as ISO-8601.
std::string encodePredictiveAlert(const core::PredictiveAlert& alert);
Decoded<core::PredictiveAlert> decodePredictiveAlert(std::string_view payload);

/// The DLQ envelope: the original payload (as text), why it was rejected and where it came from.
std::string encodeDeadLetter(std::string_view payload, std::string_view reason, std::string_view topic, int partition,
                             std::int64_t offset);

}  // namespace stacklens::connect
