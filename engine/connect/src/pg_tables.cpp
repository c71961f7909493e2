#include "pg_tables.h"

#include <algorithm>
#include <set>
#include <unordered_set>
#include <nlohmann/json.hpp>

namespace stacklens::connect::detail {

using enum ColumnType;

namespace {

bool inRange(double value, double low, double high) {
  return value >= low && value <= high;
}  // false for NaN

bool isMd5Hex(std::string_view id) {
  return id.size() == 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

core::EpochSeconds epochAt(const PgResult& result, int row, int column) {
  return result.toInt64(row, column);
}

std::optional<core::EpochSeconds> optionalEpochAt(const PgResult& result, int row, int column) {
  if (result.isNull(row, column)) return std::nullopt;
  return result.toInt64(row, column);
}

std::string textAt(const PgResult& result, int row, int column) {
  return std::string(result.text(row, column));
}

nlohmann::json jsonAt(const PgResult& result, int row, int column) {
  const nlohmann::json parsed = nlohmann::json::parse(result.text(row, column), nullptr, false);
  if (parsed.is_discarded())
    throw PgError("column '" + result.columnName(column) + "' row " + std::to_string(row) + " is not JSON");
  return parsed;
}

std::map<std::string, double> numberMapAt(const PgResult& result, int row, int column) {
  const nlohmann::json object = jsonAt(result, row, column);
  std::map<std::string, double> values;
  for (const auto& [key, value] : object.items())
    values[key] = value.is_number() ? value.get<double>() : std::nan("");  // null: stored from NaN
  return values;
}

std::string bytesOfHex(std::string_view text) {
  if (text.substr(0, 2) != "\\x" || text.size() % 2 != 0) throw PgError("bytea value is not in hex format");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw PgError("bytea value has a non-hex digit");
  };
  std::string bytes;
  bytes.reserve(text.size() / 2 - 1);
  for (std::size_t i = 2; i < text.size(); i += 2)
    bytes += static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1]));
  return bytes;
}

template <typename Enum>
Enum enumAt(const PgResult& result, int row, int column, std::optional<Enum> (*parse)(std::string_view)) {
  if (auto value = parse(result.text(row, column))) return *value;
  throw PgError("column '" + result.columnName(column) + "' row " + std::to_string(row) + ": unknown value '" +
                textAt(result, row, column) + "'");
}

}  // namespace

// ==== analytics_metrics_1hour (core::ServiceMetrics) ====

constexpr ColumnType kMetricsColumns[] = {kText,   kTimestamptz, kInt8,   kFloat8, kFloat8, kFloat8,
                                          kFloat8, kFloat8,      kFloat8, kFloat8, kFloat8};
const BatchTable kMetricsTable{"analytics_metrics_1hour", kMetricsColumns, "merge_metrics", R"sql(
INSERT INTO analytics_metrics_1hour AS t (service, "timestamp", window_seconds, total_requests, error_rate,
       latency_p99_ms, latency_p95_ms, latency_mean_ms, unique_users, unique_ips, risk_score)
SELECT DISTINCT ON (service, "timestamp") service, "timestamp", window_seconds, total_requests, error_rate,
       latency_p99_ms, latency_p95_ms, latency_mean_ms, unique_users, unique_ips, risk_score
FROM unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
            $8::float8[], $9::float8[], $10::float8[], $11::float8[])
     WITH ORDINALITY AS s(service, "timestamp", window_seconds, total_requests, error_rate, latency_p99_ms,
                          latency_p95_ms, latency_mean_ms, unique_users, unique_ips, risk_score, ord)
ORDER BY service, "timestamp", ord DESC
ON CONFLICT (service, "timestamp") DO UPDATE SET
    window_seconds = excluded.window_seconds, total_requests = excluded.total_requests,
    error_rate = excluded.error_rate, latency_p99_ms = excluded.latency_p99_ms,
    latency_p95_ms = excluded.latency_p95_ms, latency_mean_ms = excluded.latency_mean_ms,
    unique_users = excluded.unique_users, unique_ips = excluded.unique_ips, risk_score = excluded.risk_score
WHERE (t.window_seconds, t.total_requests, t.error_rate, t.latency_p99_ms, t.latency_p95_ms, t.latency_mean_ms,
       t.unique_users, t.unique_ips, t.risk_score)
      IS DISTINCT FROM (excluded.window_seconds, excluded.total_requests, excluded.error_rate,
       excluded.latency_p99_ms, excluded.latency_p95_ms, excluded.latency_mean_ms, excluded.unique_users,
       excluded.unique_ips, excluded.risk_score))sql"};

void encodeRow(ColumnBatch& out, std::size_t index, const core::ServiceMetrics& row) {
  out.beginRow(index, "service '" + row.service + "' at " + core::formatTimestamp(row.timestamp));
  out.require(!row.service.empty(), "service", "is empty");
  out.require(row.windowSeconds > 0, "window_seconds", "must be positive");
  const core::FeatureVector features = row.features();
  for (std::size_t i = 0; i < core::kFeatureCount; ++i)
    out.require(features[i] >= 0, core::kFeatureNames[i], "must be a number >= 0");
  out.text("service", row.service);
  out.timestamp("timestamp", row.timestamp);
  out.integer(row.windowSeconds);
  for (double value : {row.totalRequests, row.errorRate, row.latencyP99Ms, row.latencyP95Ms, row.latencyMeanMs,
                       row.uniqueUsers, row.uniqueIps, row.riskScore})
    out.number(value);
  out.endRow();
}

constexpr const char* kLoadHistorySql = R"sql(
SELECT service, floor(extract(epoch FROM "timestamp"))::bigint, window_seconds, total_requests, error_rate,
       latency_p99_ms, latency_p95_ms, latency_mean_ms, unique_users, unique_ips, risk_score
FROM analytics_metrics_1hour
WHERE service = $1 AND "timestamp" > to_timestamp($2::bigint) AND "timestamp" <= to_timestamp($3::bigint)
ORDER BY "timestamp")sql";

constexpr const char* kHistoryServicesSql = R"sql(
SELECT DISTINCT service FROM analytics_metrics_1hour
WHERE "timestamp" > to_timestamp($1::bigint) AND "timestamp" <= to_timestamp($2::bigint)
ORDER BY service)sql";

core::ServiceMetrics decodeMetrics(const PgResult& result, int row) {
  core::ServiceMetrics metrics;
  metrics.service = textAt(result, row, 0);
  metrics.timestamp = epochAt(result, row, 1);
  metrics.windowSeconds = static_cast<int>(result.toInt64(row, 2));
  metrics.totalRequests = result.toDouble(row, 3);
  metrics.errorRate = result.toDouble(row, 4);
  metrics.latencyP99Ms = result.toDouble(row, 5);
  metrics.latencyP95Ms = result.toDouble(row, 6);
  metrics.latencyMeanMs = result.toDouble(row, 7);
  metrics.uniqueUsers = result.toDouble(row, 8);
  metrics.uniqueIps = result.toDouble(row, 9);
  metrics.riskScore = result.toDouble(row, 10);
  return metrics;
}

// ==== ml_anomalies (core::AnomalyRecord) ====
// First version wins: resolved belongs to operators, and an id already archived is not revived.
// The id encodes the timestamp, so a row newer than everything archived needs no archive probe.

constexpr ColumnType kAnomalyColumns[] = {kText,   kText, kTimestamptz, kText,  kText, kFloat8,
                                          kFloat8, kText, kJsonb,       kJsonb, kText, kBool};
const std::string kInsertAnomaliesSql = R"sql(
INSERT INTO ml_anomalies (anomaly_id, service, "timestamp", anomaly_type, severity, confidence_score,
       anomaly_score, detection_methods, metric_values, expected_values, description, resolved, resolved_at)
SELECT s.anomaly_id, s.service, s."timestamp", s.anomaly_type, s.severity, s.confidence_score, s.anomaly_score,
       s.detection_methods::text[], s.metric_values, s.expected_values, s.description, s.resolved,
       CASE WHEN s.resolved THEN now() END
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::float8[], $7::float8[],
            $8::text[], $9::jsonb[], $10::jsonb[], $11::text[], $12::boolean[])
     WITH ORDINALITY AS s(anomaly_id, service, "timestamp", anomaly_type, severity, confidence_score, anomaly_score,
                          detection_methods, metric_values, expected_values, description, resolved, ord)
WHERE s."timestamp" > COALESCE((SELECT max(a."timestamp") FROM ml_anomalies_archive a), '-infinity')
   OR NOT EXISTS (SELECT 1 FROM ml_anomalies_archive a WHERE a.anomaly_id = s.anomaly_id)
ORDER BY s.ord)sql";
const std::string kMergeAnomaliesSql = kInsertAnomaliesSql + "\nON CONFLICT (anomaly_id) DO NOTHING";
const BatchTable kAnomaliesTable{"ml_anomalies",     kAnomalyColumns,    "merge_anomalies",
                                 kMergeAnomaliesSql, "insert_anomalies", kInsertAnomaliesSql};

void encodeRow(ColumnBatch& out, std::size_t index, const core::AnomalyRecord& row) {
  out.beginRow(index, "anomaly_id '" + row.anomalyId + "'");
  out.require(isMd5Hex(row.anomalyId), "anomaly_id", "must be 32 lowercase hex digits (core::makeAnomalyId)");
  out.require(!row.service.empty(), "service", "is empty");
  out.require(inRange(row.confidence, 0, 1), "confidence_score", "must be in [0, 1]");
  out.require(inRange(row.anomalyScore, 0, 1), "anomaly_score", "must be in [0, 1]");
  out.text("anomaly_id", row.anomalyId);
  out.text("service", row.service);
  out.timestamp("timestamp", row.timestamp);
  out.text("anomaly_type", toString(row.type));
  out.text("severity", toString(row.severity));
  out.number(row.confidence);
  out.number(row.anomalyScore);
  out.textArray("detection_methods", row.detectionMethods);
  out.jsonObject("metric_values", row.metricValues);
  out.jsonObject("expected_values", row.expectedValues);
  out.text("description", row.description);
  out.boolean(row.resolved);
  out.endRow();
}

constexpr const char* kLoadAnomaliesSql = R"sql(
SELECT anomaly_id, service, floor(extract(epoch FROM "timestamp"))::bigint, anomaly_type, severity, confidence_score,
       anomaly_score, array_to_json(detection_methods)::text, metric_values::text, expected_values::text, description,
       resolved
FROM ml_anomalies
WHERE service = $1 AND "timestamp" >= to_timestamp($2::bigint) AND "timestamp" < to_timestamp($3::bigint)
ORDER BY "timestamp", anomaly_id)sql";

// The note reaches the history trigger through a transaction-local setting.
constexpr const char* kSetAnomalyResolvedSql = R"sql(
WITH note AS (SELECT set_config('stacklens.note', $3, true))
UPDATE ml_anomalies SET resolved = $2::boolean FROM note
WHERE anomaly_id = $1 AND resolved IS DISTINCT FROM $2::boolean)sql";

core::AnomalyRecord decodeAnomaly(const PgResult& result, int row) {
  core::AnomalyRecord anomaly;
  anomaly.anomalyId = textAt(result, row, 0);
  anomaly.service = textAt(result, row, 1);
  anomaly.timestamp = epochAt(result, row, 2);
  anomaly.type = enumAt(result, row, 3, core::anomalyTypeFromString);
  anomaly.severity = enumAt(result, row, 4, core::severityFromString);
  anomaly.confidence = result.toDouble(row, 5);
  anomaly.anomalyScore = result.toDouble(row, 6);
  for (const auto& method : jsonAt(result, row, 7)) anomaly.detectionMethods.push_back(method.get<std::string>());
  anomaly.metricValues = numberMapAt(result, row, 8);
  anomaly.expectedValues = numberMapAt(result, row, 9);
  anomaly.description = textAt(result, row, 10);
  anomaly.resolved = result.toBool(row, 11);
  return anomaly;
}

// ==== ml_patterns (core::PatternRecord) ====

constexpr ColumnType kPatternColumns[] = {kText, kText,   kInt8,        kText,       kText,
                                          kInt8, kFloat8, kTimestamptz, kTimestamptz};
const BatchTable kPatternsTable{"ml_patterns", kPatternColumns, "merge_patterns", R"sql(
INSERT INTO ml_patterns AS t (pattern_id, service, cluster_label, centroid, spread, cluster_size, share,
       first_seen, last_seen)
SELECT DISTINCT ON (pattern_id) pattern_id, service, cluster_label, centroid::float8[], spread::float8[],
       cluster_size, share, first_seen, last_seen
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::float8[],
            $8::timestamptz[], $9::timestamptz[])
     WITH ORDINALITY AS s(pattern_id, service, cluster_label, centroid, spread, cluster_size, share, first_seen,
                          last_seen, ord)
ORDER BY pattern_id, ord DESC
ON CONFLICT (pattern_id) DO UPDATE SET
    service = excluded.service, cluster_label = excluded.cluster_label, centroid = excluded.centroid,
    spread = excluded.spread, cluster_size = excluded.cluster_size, share = excluded.share,
    first_seen = least(t.first_seen, excluded.first_seen), last_seen = greatest(t.last_seen, excluded.last_seen),
    updated_at = now()
WHERE (t.service, t.cluster_label, t.centroid, t.spread, t.cluster_size, t.share)
      IS DISTINCT FROM (excluded.service, excluded.cluster_label, excluded.centroid, excluded.spread,
                        excluded.cluster_size, excluded.share)
   OR excluded.first_seen < t.first_seen OR excluded.last_seen > t.last_seen)sql"};

void encodeRow(ColumnBatch& out, std::size_t index, const core::PatternRecord& row) {
  out.beginRow(index, "pattern_id '" + row.patternId + "'");
  out.require(!row.patternId.empty(), "pattern_id", "is empty");
  out.require(!row.service.empty(), "service", "is empty");
  out.require(row.size >= 0, "cluster_size", "must be >= 0");
  out.require(inRange(row.share, 0, 1), "share", "must be in [0, 1]");
  out.require(row.lastSeen >= row.firstSeen, "last_seen", "is before first_seen");
  out.text("pattern_id", row.patternId);
  out.text("service", row.service);
  out.integer(row.clusterLabel);
  out.numberArray(row.centroid);
  out.numberArray(row.spread);
  out.integer(row.size);
  out.number(row.share);
  out.timestamp("first_seen", row.firstSeen);
  out.timestamp("last_seen", row.lastSeen);
  out.endRow();
}

// ==== ml_trends (core::TrendRecord) ====

constexpr ColumnType kTrendColumns[] = {kText,   kText,   kTimestamptz, kText, kFloat8,
                                        kFloat8, kFloat8, kInt8,        kBool, kTimestamptz};
const BatchTable kTrendsTable{"ml_trends", kTrendColumns, "merge_trends", R"sql(
INSERT INTO ml_trends AS t (service, metric, "timestamp", direction, magnitude, slope, seasonality_score,
       seasonal_period, change_point, change_point_at)
SELECT DISTINCT ON (service, metric, "timestamp") service, metric, "timestamp", direction, magnitude, slope,
       seasonality_score, seasonal_period, change_point, change_point_at
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::float8[], $6::float8[], $7::float8[],
            $8::bigint[], $9::boolean[], $10::timestamptz[])
     WITH ORDINALITY AS s(service, metric, "timestamp", direction, magnitude, slope, seasonality_score,
                          seasonal_period, change_point, change_point_at, ord)
ORDER BY service, metric, "timestamp", ord DESC
ON CONFLICT (service, metric, "timestamp") DO UPDATE SET
    direction = excluded.direction, magnitude = excluded.magnitude, slope = excluded.slope,
    seasonality_score = excluded.seasonality_score, seasonal_period = excluded.seasonal_period,
    change_point = excluded.change_point, change_point_at = excluded.change_point_at
WHERE (t.direction, t.magnitude, t.slope, t.seasonality_score, t.seasonal_period, t.change_point, t.change_point_at)
      IS DISTINCT FROM (excluded.direction, excluded.magnitude, excluded.slope, excluded.seasonality_score,
                        excluded.seasonal_period, excluded.change_point, excluded.change_point_at))sql"};

void encodeRow(ColumnBatch& out, std::size_t index, const core::TrendRecord& row) {
  out.beginRow(index,
               "service '" + row.service + "' metric '" + row.metric + "' at " + core::formatTimestamp(row.timestamp));
  out.require(!row.service.empty(), "service", "is empty");
  out.require(!row.metric.empty(), "metric", "is empty");
  out.require(inRange(row.magnitude, -1, 1), "magnitude", "must be in [-1, 1]");
  out.require(inRange(row.seasonalityScore, -1, 1), "seasonality_score", "must be in [-1, 1]");
  out.require(row.seasonalPeriod >= 0, "seasonal_period", "must be >= 0");
  out.require(row.changePoint || !row.changePointAt, "change_point_at", "is set but change_point is false");
  out.text("service", row.service);
  out.text("metric", row.metric);
  out.timestamp("timestamp", row.timestamp);
  out.text("direction", toString(row.direction));
  out.number(row.magnitude);
  out.number(row.slope);
  out.number(row.seasonalityScore);
  out.integer(row.seasonalPeriod);
  out.boolean(row.changePoint);
  if (row.changePointAt)
    out.timestamp("change_point_at", *row.changePointAt);
  else
    out.null();
  out.endRow();
}

// ==== ml_forecasts (core::ForecastRecord) ====
// A re-run forecast replaces the predicted values; an actual value already recorded stays.

constexpr ColumnType kForecastColumns[] = {kText,   kText,   kTimestamptz, kInt8,   kTimestamptz,
                                           kFloat8, kFloat8, kFloat8,      kFloat8, kText};
const BatchTable kForecastsTable{"ml_forecasts", kForecastColumns, "merge_forecasts", R"sql(
INSERT INTO ml_forecasts AS t (service, metric, created_at, step, target_time, forecast_value, lower_bound,
       upper_bound, confidence_level, model)
SELECT DISTINCT ON (service, metric, created_at, step) service, metric, created_at, step, target_time,
       forecast_value, lower_bound, upper_bound, confidence_level, model
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::timestamptz[], $6::float8[],
            $7::float8[], $8::float8[], $9::float8[], $10::text[])
     WITH ORDINALITY AS s(service, metric, created_at, step, target_time, forecast_value, lower_bound, upper_bound,
                          confidence_level, model, ord)
ORDER BY service, metric, created_at, step, ord DESC
ON CONFLICT (service, metric, created_at, step) DO UPDATE SET
    target_time = excluded.target_time, forecast_value = excluded.forecast_value,
    lower_bound = excluded.lower_bound, upper_bound = excluded.upper_bound,
    confidence_level = excluded.confidence_level, model = excluded.model
WHERE (t.target_time, t.forecast_value, t.lower_bound, t.upper_bound, t.confidence_level, t.model)
      IS DISTINCT FROM (excluded.target_time, excluded.forecast_value, excluded.lower_bound, excluded.upper_bound,
                        excluded.confidence_level, excluded.model))sql"};

void encodeRow(ColumnBatch& out, std::size_t index, const core::ForecastRecord& row) {
  out.beginRow(index, "service '" + row.service + "' metric '" + row.metric + "' step " + std::to_string(row.step));
  out.require(!row.service.empty(), "service", "is empty");
  out.require(!row.metric.empty(), "metric", "is empty");
  out.require(row.step >= 1, "step", "must be >= 1");
  out.require(row.lower <= row.upper, "lower_bound", "is above upper_bound (or NaN)");
  out.require(row.level > 0 && row.level < 100, "confidence_level", "must be in (0, 100) percent");
  out.text("service", row.service);
  out.text("metric", row.metric);
  out.timestamp("created_at", row.createdAt);
  out.integer(row.step);
  out.timestamp("target_time", row.targetTime);
  out.number(row.mean);
  out.number(row.lower);
  out.number(row.upper);
  out.number(row.level);
  out.text("model", row.model);
  out.endRow();
}

constexpr const char* kRecordForecastActualSql = R"sql(
UPDATE ml_forecasts SET actual_value = $4::double precision
WHERE service = $1 AND metric = $2 AND target_time = to_timestamp($3::bigint))sql";

// ==== ml_predictive_alerts (core::PredictiveAlert) ====
// First version wins: alert_sent and materialized are tracked after the alert was written.

constexpr ColumnType kAlertColumns[] = {kText,   kText,        kText,        kText,        kFloat8,
                                        kFloat8, kFloat8,      kTimestamptz, kTimestamptz, kText,
                                        kText,   kTimestamptz, kBool,        kBool,        kTimestamptz};
const BatchTable kAlertsTable{"ml_predictive_alerts", kAlertColumns, "merge_alerts", R"sql(
INSERT INTO ml_predictive_alerts (alert_id, service, metric, predicted_event, prediction_confidence,
       breach_probability, threshold, predicted_time_start, predicted_time_end, severity, recommendation, created_at,
       alert_sent, sent_at, materialized, materialized_at)
SELECT alert_id, service, metric, predicted_event, prediction_confidence, breach_probability, threshold,
       predicted_time_start, predicted_time_end, severity, recommendation, created_at, alert_sent,
       CASE WHEN alert_sent THEN now() END, materialized, materialized_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[],
            $8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[], $12::timestamptz[], $13::boolean[],
            $14::boolean[], $15::timestamptz[])
     WITH ORDINALITY AS s(alert_id, service, metric, predicted_event, prediction_confidence, breach_probability,
                          threshold, predicted_time_start, predicted_time_end, severity, recommendation, created_at,
                          alert_sent, materialized, materialized_at, ord)
ORDER BY ord
ON CONFLICT (alert_id) DO NOTHING)sql"};

void encodeRow(ColumnBatch& out, std::size_t index, const core::PredictiveAlert& row) {
  out.beginRow(index, "alert_id '" + row.alertId + "'");
  out.require(!row.alertId.empty(), "alert_id", "is empty");
  out.require(!row.service.empty(), "service", "is empty");
  out.require(!row.predictedEvent.empty(), "predicted_event", "is empty");
  out.require(inRange(row.predictionConfidence, 0, 1), "prediction_confidence", "must be in [0, 1]");
  out.require(inRange(row.breachProbability, 0, 1), "breach_probability", "must be in [0, 1]");
  out.require(row.predictedTimeEnd >= row.predictedTimeStart, "predicted_time_end", "is before predicted_time_start");
  out.require(row.materialized || !row.materializedAt, "materialized_at", "is set but materialized is false");
  out.text("alert_id", row.alertId);
  out.text("service", row.service);
  out.text("metric", row.metric);
  out.text("predicted_event", row.predictedEvent);
  out.number(row.predictionConfidence);
  out.number(row.breachProbability);
  out.number(row.threshold);
  out.timestamp("predicted_time_start", row.predictedTimeStart);
  out.timestamp("predicted_time_end", row.predictedTimeEnd);
  out.text("severity", toString(row.severity));
  out.text("recommendation", row.recommendation);
  out.timestamp("created_at", row.createdAt);
  out.boolean(row.alertSent);
  out.boolean(row.materialized);
  if (row.materializedAt)
    out.timestamp("materialized_at", *row.materializedAt);
  else
    out.null();
  out.endRow();
}

constexpr const char* kLoadAlertsSql = R"sql(
SELECT alert_id, service, metric, predicted_event, prediction_confidence, breach_probability, threshold,
       floor(extract(epoch FROM predicted_time_start))::bigint, floor(extract(epoch FROM predicted_time_end))::bigint,
       severity, recommendation, floor(extract(epoch FROM created_at))::bigint, alert_sent, materialized,
       floor(extract(epoch FROM materialized_at))::bigint
FROM ml_predictive_alerts
WHERE ($1 = '' OR service = $1) AND created_at >= to_timestamp($2::bigint) AND (NOT $3::boolean OR NOT alert_sent)
ORDER BY created_at DESC, alert_id
LIMIT $4::integer)sql";

constexpr const char* kMarkAlertsSentSql = R"sql(
UPDATE ml_predictive_alerts SET alert_sent = true, sent_at = now()
WHERE alert_id = ANY($1::text[]) AND NOT alert_sent)sql";

constexpr const char* kMarkAlertMaterializedSql = R"sql(
UPDATE ml_predictive_alerts SET materialized = true, materialized_at = to_timestamp($2::bigint)
WHERE alert_id = $1 AND NOT materialized)sql";

// Not materialized and with a window that has not ended by $2: what may still come true.
constexpr const char* kLoadOpenAlertsSql = R"sql(
SELECT alert_id, service, metric, predicted_event, prediction_confidence, breach_probability, threshold,
       floor(extract(epoch FROM predicted_time_start))::bigint, floor(extract(epoch FROM predicted_time_end))::bigint,
       severity, recommendation, floor(extract(epoch FROM created_at))::bigint, alert_sent, materialized,
       floor(extract(epoch FROM materialized_at))::bigint
FROM ml_predictive_alerts
WHERE service = $1 AND NOT materialized AND predicted_time_end >= to_timestamp($2::bigint)
ORDER BY predicted_time_start, alert_id
LIMIT $3::integer)sql";

// Several matches of one alert in a batch: the earliest anomaly counts.
constexpr const char* kMarkAlertsMaterializedSql = R"sql(
UPDATE ml_predictive_alerts AS a SET materialized = true, materialized_at = to_timestamp(m.at)
FROM (SELECT alert_id, min(at) AS at FROM unnest($1::text[], $2::bigint[]) AS u(alert_id, at) GROUP BY alert_id) AS m
WHERE a.alert_id = m.alert_id AND NOT a.materialized)sql";

core::PredictiveAlert decodeAlert(const PgResult& result, int row) {
  core::PredictiveAlert alert;
  alert.alertId = textAt(result, row, 0);
  alert.service = textAt(result, row, 1);
  alert.metric = textAt(result, row, 2);
  alert.predictedEvent = textAt(result, row, 3);
  alert.predictionConfidence = result.toDouble(row, 4);
  alert.breachProbability = result.toDouble(row, 5);
  alert.threshold = result.toDouble(row, 6);
  alert.predictedTimeStart = epochAt(result, row, 7);
  alert.predictedTimeEnd = epochAt(result, row, 8);
  alert.severity = enumAt(result, row, 9, core::severityFromString);
  alert.recommendation = textAt(result, row, 10);
  alert.createdAt = epochAt(result, row, 11);
  alert.alertSent = result.toBool(row, 12);
  alert.materialized = result.toBool(row, 13);
  alert.materializedAt = optionalEpochAt(result, row, 14);
  return alert;
}

// ==== ml_models (core::ModelRecord) ====
// A batch of model versions in one statement (a batch of refits is two rows per service, about
// 100 KB each), in the order of modelRowsInWriteOrder(). The UPDATE deactivates the stored
// active versions, outside the batch, of each service and model type the batch activates; the
// INSERT writes the batch's rows. They touch different rows, and the INSERT's condition on the
// UPDATE's count runs the UPDATE first (an InitPlan): the one-active index is checked row by
// row. Nothing is sorted, so the blobs are not copied through a sort. The four classic metrics
// are copied out of the metrics object into their columns.

constexpr ColumnType kModelColumns[] = {kText, kText,  kText,  kInt8,  kTimestamptz,
                                        kInt8, kJsonb, kJsonb, kBytea, kBool};
const BatchTable kModelsTable{"ml_models", kModelColumns, "merge_models", R"sql(
WITH deactivated AS (
  UPDATE ml_models m SET active = false, updated_at = now()
  FROM unnest($2::text[], $3::text[], $10::boolean[]) AS k(service, model_type, active)
  WHERE k.active AND m.service = k.service AND m.model_type = k.model_type AND m.active
    AND m.model_id <> ALL ($1::text[])
  RETURNING 1
)
INSERT INTO ml_models AS t (model_id, service, model_type, version, trained_at, training_samples, accuracy,
       "precision", recall, f1_score, metrics, hyperparameters, model_blob, active)
SELECT model_id, service, model_type, version, trained_at, training_samples,
       (metrics ->> 'accuracy')::double precision, (metrics ->> 'precision')::double precision,
       (metrics ->> 'recall')::double precision, COALESCE(metrics ->> 'f1', metrics ->> 'f1_score')::double precision,
       metrics, hyperparameters, model_blob, active
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::bigint[], $7::jsonb[],
            $8::jsonb[], $9::bytea[], $10::boolean[])
     AS s(model_id, service, model_type, version, trained_at, training_samples, metrics, hyperparameters,
          model_blob, active)
WHERE (SELECT count(*) FROM deactivated) >= 0
ON CONFLICT (model_id) DO UPDATE SET
    service = excluded.service, model_type = excluded.model_type, version = excluded.version,
    trained_at = excluded.trained_at, training_samples = excluded.training_samples, accuracy = excluded.accuracy,
    "precision" = excluded."precision", recall = excluded.recall, f1_score = excluded.f1_score,
    metrics = excluded.metrics, hyperparameters = excluded.hyperparameters, model_blob = excluded.model_blob,
    active = excluded.active, updated_at = now())sql"};

std::vector<ModelRow> modelRowsInWriteOrder(std::span<const core::ModelRecord> models) {
  std::unordered_set<std::string_view> ids;
  std::set<std::pair<std::string_view, std::string_view>> activated;
  std::vector<ModelRow> inactive, active;
  for (auto model = models.rbegin(); model != models.rend(); ++model) {  // the last of each wins
    if (!ids.insert(model->modelId).second) continue;
    const bool isActive = model->active && activated.emplace(model->service, model->modelType).second;
    (isActive ? active : inactive).push_back({&*model, isActive, model->service});
  }
  std::reverse(inactive.begin(), inactive.end());
  inactive.insert(inactive.end(), active.rbegin(), active.rend());
  return inactive;
}

void encodeRow(ColumnBatch& out, std::size_t index, const ModelRow& model) {
  const core::ModelRecord& row = *model.record;
  out.beginRow(index, "model_id '" + row.modelId + "'");
  out.require(!row.modelId.empty(), "model_id", "is empty");
  out.require(!row.service.empty(), "service", "is empty");
  out.require(!row.modelType.empty(), "model_type", "is empty");
  out.require(row.version >= 1, "version", "must be >= 1");
  out.require(row.trainingSamples >= 0, "training_samples", "must be >= 0");
  for (const char* bounded : {"accuracy", "precision", "recall", "f1", "f1_score"})
    if (auto found = row.metrics.find(bounded); found != row.metrics.end())
      out.require(inRange(found->second, 0, 1), std::string("metrics.") + bounded, "must be in [0, 1]");
  const nlohmann::json hyperparameters = nlohmann::json::parse(row.hyperparametersJson, nullptr, false);
  out.require(!hyperparameters.is_discarded() && hyperparameters.is_object(), "hyperparameters",
              "must be a JSON object, got '" + row.hyperparametersJson.substr(0, 80) + "'");
  out.text("model_id", row.modelId);
  out.text("service", row.service);
  out.text("model_type", row.modelType);
  out.integer(row.version);
  out.timestamp("trained_at", row.trainedAt);
  out.integer(row.trainingSamples);
  out.jsonObject("metrics", row.metrics);
  out.jsonText("hyperparameters", row.hyperparametersJson);
  out.bytes(row.blob);
  out.boolean(model.active);
  out.endRow();
}

constexpr const char* kModelColumnsSql = R"sql(
SELECT model_id, service, model_type, version, floor(extract(epoch FROM trained_at))::bigint, training_samples,
       metrics::text, hyperparameters::text, model_blob, active
FROM ml_models)sql";

const std::string kLoadActiveModelSql =
    std::string(kModelColumnsSql) + " WHERE service = $1 AND model_type = $2 AND active";
const std::string kLoadModelsSql =
    std::string(kModelColumnsSql) + " WHERE service = $1 ORDER BY model_type, version DESC";

core::ModelRecord decodeModel(const PgResult& result, int row) {
  core::ModelRecord model;
  model.modelId = textAt(result, row, 0);
  model.service = textAt(result, row, 1);
  model.modelType = textAt(result, row, 2);
  model.version = static_cast<int>(result.toInt64(row, 3));
  model.trainedAt = epochAt(result, row, 4);
  model.trainingSamples = static_cast<int>(result.toInt64(row, 5));
  model.metrics = numberMapAt(result, row, 6);
  model.hyperparametersJson = textAt(result, row, 7);
  model.blob = bytesOfHex(result.text(row, 8));
  model.active = result.toBool(row, 9);
  return model;
}

// ==== the registry ====

std::vector<unsigned int> BatchTable::parameterTypes() const {
  std::vector<unsigned int> oids;
  for (ColumnType type : types) oids.push_back(arrayTypeOf(type));
  return oids;
}

std::span<const BatchTable* const> batchTables() {
  static const BatchTable* const kTables[] = {&kMetricsTable, &kAnomaliesTable, &kPatternsTable,
                                              &kTrendsTable,  &kForecastsTable, &kAlertsTable,
                                              &kModelsTable};
  return kTables;
}

std::span<const Statement> preparedStatements() {
  static const std::vector<Statement> kStatements = [] {
    std::vector<Statement> statements = {
        {kLoadHistory, kLoadHistorySql},
        {kHistoryServices, kHistoryServicesSql},
        {kLoadAnomalies, kLoadAnomaliesSql},
        {kSetAnomalyResolved, kSetAnomalyResolvedSql},
        {kLoadActiveModel, kLoadActiveModelSql},
        {kLoadModels, kLoadModelsSql},
        {kLoadAlerts, kLoadAlertsSql},
        {kMarkAlertsSent, kMarkAlertsSentSql},
        {kMarkAlertMaterialized, kMarkAlertMaterializedSql},
        {kRecordForecastActual, kRecordForecastActualSql},
        {kLoadOpenAlerts, kLoadOpenAlertsSql},
        {kMarkAlertsMaterialized, kMarkAlertsMaterializedSql},
        {kRollUpAnomalyStats, "SELECT ml_rollup_anomaly_stats()"},
    };
    return statements;
  }();
  return kStatements;
}

}  // namespace stacklens::connect::detail
