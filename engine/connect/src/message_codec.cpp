#include "stacklens/connect/message_codec.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace stacklens::connect {
namespace {

using nlohmann::json;

std::string typeName(const json& value) {
  return value.type_name();
}

std::string formatNumber(double value) {
  std::string text = json(value).dump();
  return text;
}

// Reads a required non-negative finite number no larger than `max`; sets `error` otherwise.
bool readMeasure(const json& object, const char* field, double max, double& out, std::string& error) {
  const auto it = object.find(field);
  if (it == object.end()) return error = std::string("missing field '") + field + "'", false;
  if (!it->is_number())
    return error = std::string("field '") + field + "': expected a number, got " + typeName(*it), false;
  const double value = it->get<double>();
  if (!std::isfinite(value)) return error = std::string("field '") + field + "': not a finite number", false;
  if (value < 0)
    return error = std::string("field '") + field + "': must not be negative (" + formatNumber(value) + ")", false;
  if (value > max)
    return error = std::string("field '") + field + "': absurd value " + formatNumber(value) + " (limit " +
                   formatNumber(max) + ")",
           false;
  out = value;
  return true;
}

bool readString(const json& object, const char* field, std::string& out, std::string& error) {
  const auto it = object.find(field);
  if (it == object.end()) return error = std::string("missing field '") + field + "'", false;
  if (!it->is_string())
    return error = std::string("field '") + field + "': expected a string, got " + typeName(*it), false;
  out = it->get<std::string>();
  return true;
}

std::optional<json> parseObject(std::string_view payload, std::string& error) {
  json document;
  try {
    document = json::parse(payload);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    error = std::string("bad JSON: ") + e.what();
    return std::nullopt;
  }
  if (!document.is_object()) {
    error = "expected a JSON object, got " + typeName(document);
    return std::nullopt;
  }
  return document;
}

json doubleMap(const std::map<std::string, double>& values) {
  json object = json::object();
  for (const auto& [name, value] : values) object[name] = std::isfinite(value) ? json(value) : json(nullptr);
  return object;
}

}  // namespace

Decoded<core::ServiceMetrics> decodeServiceMetrics(std::string_view payload, const ValidationLimits& limits) {
  Decoded<core::ServiceMetrics> out;
  if (payload.size() > limits.maxMessageBytes) {
    out.error = "oversized message: " + std::to_string(payload.size()) + " bytes (limit " +
                std::to_string(limits.maxMessageBytes) + ")";
    return out;
  }
  const auto document = parseObject(payload, out.error);
  if (!document) return out;
  const json& object = *document;

  core::ServiceMetrics m;
  std::string timestamp;
  if (!readString(object, "service", m.service, out.error) || !readString(object, "timestamp", timestamp, out.error))
    return out;
  if (m.service.empty()) return out.error = "field 'service': must not be empty", out;
  if (m.service.size() > limits.maxServiceNameLength)
    return out.error = "field 'service': longer than " + std::to_string(limits.maxServiceNameLength) + " characters",
           out;
  for (unsigned char c : m.service)
    if (c < 0x20 || c == 0x7F) return out.error = "field 'service': contains control characters", out;
  const auto parsed = core::parseTimestamp(timestamp);
  if (!parsed) return out.error = "field 'timestamp': '" + timestamp + "' is not an ISO-8601 timestamp", out;
  if (*parsed < limits.earliestTimestamp) return out.error = "field 'timestamp': absurd value '" + timestamp + "'", out;
  m.timestamp = *parsed;

  if (const auto it = object.find("window"); it != object.end()) {
    if (!it->is_string())
      return out.error = "field 'window': expected a string like \"3600s\", got " + typeName(*it), out;
    const std::string window = it->get<std::string>();
    std::size_t used = 0;
    long seconds = 0;
    try {
      seconds = std::stol(window, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || window.substr(used) != "s" || seconds <= 0 || seconds > 31 * 86400)
      return out.error = "field 'window': '" + window + "' is not a window like \"3600s\"", out;
    m.windowSeconds = static_cast<int>(seconds);
  }

  const bool valid = readMeasure(object, "total_requests", limits.maxCount, m.totalRequests, out.error) &&
                     readMeasure(object, "error_rate", limits.maxErrorRatePercent, m.errorRate, out.error) &&
                     readMeasure(object, "latency_p99_ms", limits.maxLatencyMs, m.latencyP99Ms, out.error) &&
                     readMeasure(object, "latency_p95_ms", limits.maxLatencyMs, m.latencyP95Ms, out.error) &&
                     readMeasure(object, "latency_mean_ms", limits.maxLatencyMs, m.latencyMeanMs, out.error) &&
                     readMeasure(object, "unique_users", limits.maxCount, m.uniqueUsers, out.error) &&
                     readMeasure(object, "unique_ips", limits.maxCount, m.uniqueIps, out.error) &&
                     readMeasure(object, "risk_score", limits.maxRiskScore, m.riskScore, out.error);
  if (valid) out.value = std::move(m);
  return out;
}

std::string encodeServiceMetrics(const core::ServiceMetrics& m) {
  return json{{"service", m.service},
              {"timestamp", core::formatTimestamp(m.timestamp)},
              {"window", std::to_string(m.windowSeconds) + "s"},
              {"total_requests", m.totalRequests},
              {"error_rate", m.errorRate},
              {"latency_p99_ms", m.latencyP99Ms},
              {"latency_p95_ms", m.latencyP95Ms},
              {"latency_mean_ms", m.latencyMeanMs},
              {"unique_users", m.uniqueUsers},
              {"unique_ips", m.uniqueIps},
              {"risk_score", m.riskScore}}
      .dump();
}

std::string encodeAnomaly(const core::AnomalyRecord& a) {
  return json{{"anomaly_id", a.anomalyId},
              {"service", a.service},
              {"timestamp", core::formatTimestamp(a.timestamp)},
              {"anomaly_type", core::toString(a.type)},
              {"severity", core::toString(a.severity)},
              {"confidence_score", a.confidence},
              {"anomaly_score", a.anomalyScore},
              {"detection_methods", a.detectionMethods},
              {"metric_values", doubleMap(a.metricValues)},
              {"expected_values", doubleMap(a.expectedValues)},
              {"description", a.description},
              {"resolved", a.resolved}}
      .dump();
}

Decoded<core::AnomalyRecord> decodeAnomaly(std::string_view payload, const ValidationLimits& limits) {
  Decoded<core::AnomalyRecord> out;
  if (payload.size() > limits.maxMessageBytes) {
    out.error = "oversized message: " + std::to_string(payload.size()) + " bytes (limit " +
                std::to_string(limits.maxMessageBytes) + ")";
    return out;
  }
  const auto document = parseObject(payload, out.error);
  if (!document) return out;
  const json& o = *document;
  core::AnomalyRecord a;
  std::string timestamp, type, severity;
  if (!readString(o, "anomaly_id", a.anomalyId, out.error) || !readString(o, "service", a.service, out.error) ||
      !readString(o, "timestamp", timestamp, out.error) || !readString(o, "anomaly_type", type, out.error) ||
      !readString(o, "severity", severity, out.error) ||
      !readMeasure(o, "confidence_score", 1.0, a.confidence, out.error))
    return out;
  if (a.anomalyId.empty()) return out.error = "field 'anomaly_id': must not be empty", out;
  if (a.service.empty()) return out.error = "field 'service': must not be empty", out;
  if (a.service.size() > limits.maxServiceNameLength)
    return out.error = "field 'service': longer than " + std::to_string(limits.maxServiceNameLength) + " characters",
           out;
  const auto t = core::parseTimestamp(timestamp);
  if (!t) return out.error = "field 'timestamp': '" + timestamp + "' is not an ISO-8601 timestamp", out;
  if (*t < limits.earliestTimestamp) return out.error = "field 'timestamp': absurd value '" + timestamp + "'", out;
  const auto parsedType = core::anomalyTypeFromString(type);
  if (!parsedType) return out.error = "field 'anomaly_type': unknown type '" + type + "'", out;
  const auto parsedSeverity = core::severityFromString(severity);
  if (!parsedSeverity) return out.error = "field 'severity': unknown severity '" + severity + "'", out;
  a.timestamp = *t;
  a.type = *parsedType;
  a.severity = *parsedSeverity;
  a.anomalyScore = a.confidence;
  if (o.contains("anomaly_score") && !readMeasure(o, "anomaly_score", 1.0, a.anomalyScore, out.error)) return out;
  if (const auto it = o.find("detection_methods"); it != o.end()) {
    if (!it->is_array()) return out.error = "field 'detection_methods': expected an array, got " + typeName(*it), out;
    for (const json& method : *it) {
      if (!method.is_string()) return out.error = "field 'detection_methods': expected strings", out;
      a.detectionMethods.push_back(method.get<std::string>());
    }
  }
  for (const char* field : {"metric_values", "expected_values"}) {
    auto& target = std::string_view(field) == "metric_values" ? a.metricValues : a.expectedValues;
    const auto it = o.find(field);
    if (it == o.end()) continue;
    if (!it->is_object())
      return out.error = std::string("field '") + field + "': expected an object, got " + typeName(*it), out;
    for (const auto& [name, value] : it->items()) {
      if (value.is_null()) continue;  // a value the producer could not compute
      if (!value.is_number())
        return out.error = std::string("field '") + field + "." + name + "': expected a number, got " +
                           typeName(value),
               out;
      target[name] = value.get<double>();
    }
  }
  if (const auto it = o.find("description"); it != o.end() && !it->is_null()) {
    if (!it->is_string()) return out.error = "field 'description': expected a string, got " + typeName(*it), out;
    a.description = it->get<std::string>();
  }
  if (const auto it = o.find("resolved"); it != o.end()) {
    if (!it->is_boolean()) return out.error = "field 'resolved': expected a boolean, got " + typeName(*it), out;
    a.resolved = it->get<bool>();
  }
  out.value = std::move(a);
  return out;
}

std::string encodePattern(const core::PatternRecord& p) {
  json centroid = json::object(), spread = json::object();
  for (std::size_t i = 0; i < core::kFeatureCount; ++i) {
    centroid[std::string(core::kFeatureNames[i])] = p.centroid[i];
    spread[std::string(core::kFeatureNames[i])] = p.spread[i];
  }
  return json{{"pattern_id", p.patternId},
              {"service", p.service},
              {"cluster_label", p.clusterLabel},
              {"centroid", centroid},
              {"spread", spread},
              {"size", p.size},
              {"share", p.share},
              {"first_seen", core::formatTimestamp(p.firstSeen)},
              {"last_seen", core::formatTimestamp(p.lastSeen)}}
      .dump();
}

std::string encodePredictiveAlert(const core::PredictiveAlert& a) {
  json object{{"alert_id", a.alertId},
              {"service", a.service},
              {"metric", a.metric},
              {"predicted_event", a.predictedEvent},
              {"prediction_confidence", a.predictionConfidence},
              {"breach_probability", a.breachProbability},
              {"threshold", a.threshold},
              {"predicted_time_start", core::formatTimestamp(a.predictedTimeStart)},
              {"predicted_time_end", core::formatTimestamp(a.predictedTimeEnd)},
              {"severity", core::toString(a.severity)},
              {"recommendation", a.recommendation},
              {"created_at", core::formatTimestamp(a.createdAt)},
              {"alert_sent", a.alertSent},
              {"materialized", a.materialized},
              {"materialized_at", a.materializedAt ? json(core::formatTimestamp(*a.materializedAt)) : json(nullptr)}};
  return object.dump();
}

Decoded<core::PredictiveAlert> decodePredictiveAlert(std::string_view payload) {
  Decoded<core::PredictiveAlert> out;
  const auto document = parseObject(payload, out.error);
  if (!document) return out;
  const json& o = *document;
  core::PredictiveAlert a;
  std::string severity;
  if (!readString(o, "alert_id", a.alertId, out.error) || !readString(o, "service", a.service, out.error) ||
      !readString(o, "predicted_event", a.predictedEvent, out.error) ||
      !readString(o, "severity", severity, out.error) ||
      !readMeasure(o, "prediction_confidence", 1.0, a.predictionConfidence, out.error))
    return out;
  const auto parsedSeverity = core::severityFromString(severity);
  if (!parsedSeverity) return out.error = "field 'severity': unknown severity '" + severity + "'", out;
  a.severity = *parsedSeverity;
  for (auto [field, target] : {std::pair{"predicted_time_start", &a.predictedTimeStart},
                               std::pair{"predicted_time_end", &a.predictedTimeEnd},
                               std::pair{"created_at", &a.createdAt}}) {
    std::string text;
    if (!readString(o, field, text, out.error)) return out;
    const auto t = core::parseTimestamp(text);
    if (!t) return out.error = std::string("field '") + field + "': '" + text + "' is not an ISO-8601 timestamp", out;
    *target = *t;
  }
  try {
    a.metric = o.value("metric", std::string{});
    a.breachProbability = o.value("breach_probability", 0.0);
    a.threshold = o.value("threshold", 0.0);
    a.recommendation = o.value("recommendation", std::string{});
    a.alertSent = o.value("alert_sent", false);
    a.materialized = o.value("materialized", false);
    if (const auto it = o.find("materialized_at"); it != o.end() && it->is_string())
      a.materializedAt = core::parseTimestamp(it->get<std::string>());
  } catch (const json::exception& e) {
    return out.error = std::string("predictive-alerts message: ") + e.what(), out;
  }
  out.value = std::move(a);
  return out;
}

std::string encodeDeadLetter(std::string_view payload, std::string_view reason, std::string_view topic, int partition,
                             std::int64_t offset) {
  // The payload may not be valid UTF-8; replace bad bytes rather than fail to report it.
  return json{{"reason", reason},
              {"source_topic", topic},
              {"source_partition", partition},
              {"source_offset", offset},
              {"payload", std::string(payload)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace stacklens::connect
