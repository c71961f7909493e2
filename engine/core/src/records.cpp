#include "stacklens/core/records.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace stacklens::core {
namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> fromString(std::string_view name, const std::array<Enum, N>& all) {
  for (Enum value : all)
    if (toString(value) == name) return value;
  return std::nullopt;
}

}  // namespace

std::string_view toString(AnomalyType type) {
  switch (type) {
    case AnomalyType::kErrorSpike: return "error_spike";
    case AnomalyType::kLatencyDegradation: return "latency_degradation";
    case AnomalyType::kTrafficDrop: return "traffic_drop";
    case AnomalyType::kTrafficSurge: return "traffic_surge";
    case AnomalyType::kRiskElevation: return "risk_elevation";
    case AnomalyType::kPatternShift: return "pattern_shift";
    case AnomalyType::kTrendChange: return "trend_change";
    case AnomalyType::kOutlier: return "outlier";
  }
  return "outlier";
}

std::string_view toString(Severity severity) {
  switch (severity) {
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "low";
}

std::string_view toString(TrendDirection direction) {
  switch (direction) {
    case TrendDirection::kDown: return "down";
    case TrendDirection::kStable: return "stable";
    case TrendDirection::kUp: return "up";
  }
  return "stable";
}

std::optional<AnomalyType> anomalyTypeFromString(std::string_view name) { return fromString(name, kAllAnomalyTypes); }

std::optional<Severity> severityFromString(std::string_view name) { return fromString(name, kAllSeverities); }

std::string md5Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_md5(), nullptr) != 1)
    throw std::runtime_error("MD5 digest failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return hex;
}

std::string makeAnomalyId(std::string_view service, EpochSeconds windowTimestamp, AnomalyType type) {
  std::string key(service);
  key += '|';
  key += formatTimestamp(windowTimestamp);
  key += '|';
  key += toString(type);
  return md5Hex(key);
}

}  // namespace stacklens::core
