#include "stacklens/connect/message_codec.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
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

// A non-negative finite number no larger than `max`; sets `error` otherwise.
bool checkMeasure(const char* field, double value, double max, std::string& error) {
  if (!std::isfinite(value)) return error = std::string("field '") + field + "': not a finite number", false;
  if (value < 0)
    return error = std::string("field '") + field + "': must not be negative (" + formatNumber(value) + ")", false;
  if (value > max)
    return error = std::string("field '") + field + "': absurd value " + formatNumber(value) + " (limit " +
                   formatNumber(max) + ")",
           false;
  return true;
}

// Reads a required non-negative finite number no larger than `max`; sets `error` otherwise.
bool readMeasure(const json& object, const char* field, double max, double& out, std::string& error) {
  const auto it = object.find(field);
  if (it == object.end()) return error = std::string("missing field '") + field + "'", false;
  if (!it->is_number())
    return error = std::string("field '") + field + "': expected a number, got " + typeName(*it), false;
  const double value = it->get<double>();
  if (!checkMeasure(field, value, max, error)) return false;
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

// The eight measures of an analytics-alerts message, in the order they are checked.
struct Measure {
  const char* field;
  double ValidationLimits::*limit;
  double core::ServiceMetrics::*target;
};
constexpr std::array<Measure, 8> kMeasures{{
    {"total_requests", &ValidationLimits::maxCount, &core::ServiceMetrics::totalRequests},
    {"error_rate", &ValidationLimits::maxErrorRatePercent, &core::ServiceMetrics::errorRate},
    {"latency_p99_ms", &ValidationLimits::maxLatencyMs, &core::ServiceMetrics::latencyP99Ms},
    {"latency_p95_ms", &ValidationLimits::maxLatencyMs, &core::ServiceMetrics::latencyP95Ms},
    {"latency_mean_ms", &ValidationLimits::maxLatencyMs, &core::ServiceMetrics::latencyMeanMs},
    {"unique_users", &ValidationLimits::maxCount, &core::ServiceMetrics::uniqueUsers},
    {"unique_ips", &ValidationLimits::maxCount, &core::ServiceMetrics::uniqueIps},
    {"risk_score", &ValidationLimits::maxRiskScore, &core::ServiceMetrics::riskScore},
}};

// m.service (already read) and the timestamp's text, checked; sets m.timestamp.
bool checkServiceAndTime(std::string_view timestamp, const ValidationLimits& limits, core::ServiceMetrics& m,
                         std::string& error) {
  if (m.service.empty()) return error = "field 'service': must not be empty", false;
  if (m.service.size() > limits.maxServiceNameLength)
    return error = "field 'service': longer than " + std::to_string(limits.maxServiceNameLength) + " characters",
           false;
  for (unsigned char c : m.service)
    if (c < 0x20 || c == 0x7F) return error = "field 'service': contains control characters", false;
  const auto parsed = core::parseTimestamp(timestamp);
  if (!parsed)
    return error = "field 'timestamp': '" + std::string(timestamp) + "' is not an ISO-8601 timestamp", false;
  if (*parsed < limits.earliestTimestamp)
    return error = "field 'timestamp': absurd value '" + std::string(timestamp) + "'", false;
  m.timestamp = *parsed;
  return true;
}

// "3600s": seconds, positive, at most 31 days; sets m.windowSeconds.
bool checkWindow(const std::string& window, core::ServiceMetrics& m, std::string& error) {
  std::size_t used = 0;
  long seconds = 0;
  try {
    seconds = std::stol(window, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || window.substr(used) != "s" || seconds <= 0 || seconds > 31 * 86400)
    return error = "field 'window': '" + window + "' is not a window like \"3600s\"", false;
  m.windowSeconds = static_cast<int>(seconds);
  return true;
}

// An analytics-alerts message read straight from its text, for the shape producers send: one
// flat object whose keys and string values are printable ASCII without escapes and whose numbers
// are unsigned JSON numbers, each known field once, all required ones present. On that shape
// the general parser (nlohmann) reads the same strings and the same doubles (both round
// correctly); anything else (escapes, other value types, a minus sign, duplicates, a missing
// field, bad JSON) is left to it, so that it names the problem.
class FlatScanner {
 public:
  explicit FlatScanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool next(char c) {
    skipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool atEnd() {
    skipSpace();
    return p_ == end_;
  }
  std::optional<std::string_view> string() {
    if (!next('"')) return std::nullopt;
    const char* begin = p_;
    for (; p_ != end_ && *p_ != '"'; ++p_)
      if (const auto c = static_cast<unsigned char>(*p_); c < 0x20 || c >= 0x7F || c == '\\') return std::nullopt;
    if (p_ == end_) return std::nullopt;
    return std::string_view(begin, static_cast<std::size_t>(p_++ - begin));
  }
  std::optional<double> number() {
    skipSpace();
    const char* begin = p_;
    bool significant = false;  // a non-zero digit before the exponent
    auto digits = [&](bool mantissa) {
      const char* first = p_;
      for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_) significant = significant || (mantissa && *p_ != '0');
      return p_ != first;
    };
    if (p_ != end_ && *p_ == '0')
      ++p_;
    else if (!digits(true))
      return std::nullopt;
    if (p_ != end_ && *p_ == '.' && (++p_, !digits(true))) return std::nullopt;
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits(false)) return std::nullopt;
    }
    double value = 0;
    const auto [stop, status] = std::from_chars(begin, p_, value);
    // Overflow and underflow are left to the general parser and its messages.
    if (status != std::errc() || stop != p_ || (significant && value < std::numeric_limits<double>::min()))
      return std::nullopt;
    return value;
  }

 private:
  void skipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  const char* p_;
  const char* end_;
};

struct FlatMessage {
  std::string_view service, timestamp;
  std::optional<std::string_view> window;
  std::array<double, kMeasures.size()> measures{};
};

std::optional<FlatMessage> scanFlatMessage(std::string_view text) {
  FlatScanner in(text);
  FlatMessage m;
  std::uint32_t seen = 0;  // bits: the measures, then service, timestamp, window
  constexpr std::uint32_t kService = 1u << kMeasures.size(), kTimestamp = kService << 1, kWindow = kTimestamp << 1;
  constexpr std::uint32_t kRequired = kTimestamp | kService | (kService - 1);
  auto once = [&](std::uint32_t bit) { return !(seen & bit) && (seen |= bit); };
  if (!in.next('{')) return std::nullopt;
  do {
    const auto key = in.string();
    if (!key || !in.next(':')) return std::nullopt;
    if (*key == "service" || *key == "timestamp" || *key == "window") {
      const std::uint32_t bit = *key == "service" ? kService : *key == "timestamp" ? kTimestamp : kWindow;
      const auto value = once(bit) ? in.string() : std::nullopt;
      if (!value) return std::nullopt;
      (bit == kService ? m.service : bit == kTimestamp ? m.timestamp : m.window.emplace()) = *value;
      continue;
    }
    const auto measure =
        std::find_if(kMeasures.begin(), kMeasures.end(), [&](const Measure& x) { return *key == x.field; });
    if (measure == kMeasures.end()) {  // an unknown field: ignored, as the parser does
      if (!in.string() && !in.number()) return std::nullopt;
      continue;
    }
    const auto i = static_cast<std::size_t>(measure - kMeasures.begin());
    const auto value = once(1u << i) ? in.number() : std::nullopt;
    if (!value) return std::nullopt;
    m.measures[i] = *value;
  } while (in.next(','));
  if (!in.next('}') || !in.atEnd() || (seen & kRequired) != kRequired) return std::nullopt;
  return m;
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
  core::ServiceMetrics m;
  if (const auto flat = scanFlatMessage(payload)) {  // the common shape, without a JSON document
    m.service.assign(flat->service);
    if (!checkServiceAndTime(flat->timestamp, limits, m, out.error)) return out;
    if (flat->window && !checkWindow(std::string(*flat->window), m, out.error)) return out;
    for (std::size_t i = 0; i < kMeasures.size(); ++i) {
      if (!checkMeasure(kMeasures[i].field, flat->measures[i], limits.*kMeasures[i].limit, out.error)) return out;
      m.*kMeasures[i].target = flat->measures[i];
    }
    out.value = std::move(m);
    return out;
  }

  const auto document = parseObject(payload, out.error);
  if (!document) return out;
  const json& object = *document;
  std::string timestamp;
  if (!readString(object, "service", m.service, out.error) || !readString(object, "timestamp", timestamp, out.error))
    return out;
  if (!checkServiceAndTime(timestamp, limits, m, out.error)) return out;
  if (const auto it = object.find("window"); it != object.end()) {
    if (!it->is_string())
      return out.error = "field 'window': expected a string like \"3600s\", got " + typeName(*it), out;
    if (!checkWindow(it->get_ref<const std::string&>(), m, out.error)) return out;
  }
  for (const Measure& measure : kMeasures)
    if (!readMeasure(object, measure.field, limits.*measure.limit, m.*measure.target, out.error)) return out;
  out.value = std::move(m);
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
