#include "stacklens/core/detect/consensus.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "detect/statistics.h"

namespace stacklens::core::detect {
namespace {

std::string format(const char* fmt, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, value);
  return buffer;
}

std::string readableType(AnomalyType type) {
  std::string s(toString(type));
  std::replace(s.begin(), s.end(), '_', ' ');
  s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

}  // namespace

std::string_view toString(ConsensusRule rule) {
  switch (rule) {
    case ConsensusRule::kAny:
      return "any";
    case ConsensusRule::kMajority:
      return "majority";
    case ConsensusRule::kUnanimous:
      return "unanimous";
    case ConsensusRule::kWeighted:
      return "weighted";
  }
  return "majority";
}

std::optional<ConsensusRule> consensusRuleFromString(std::string_view name) {
  for (auto r : {ConsensusRule::kAny, ConsensusRule::kMajority, ConsensusRule::kUnanimous, ConsensusRule::kWeighted})
    if (toString(r) == name) return r;
  return std::nullopt;
}

ConsensusResult decide(const Votes& votes, const ConsensusConfig& config) {
  const std::pair<const MethodVote*, double> methods[] = {{&votes.isolationForest, config.forestWeight},
                                                          {&votes.pattern, config.patternWeight},
                                                          {&votes.trend, config.trendWeight}};
  ConsensusResult r;
  double weight = 0, weighted = 0;
  for (const auto& [vote, w] : methods) {
    if (!vote->available || w <= 0) continue;
    ++r.voters;
    r.votes += vote->anomalous;
    weight += w;
    weighted += w * std::clamp(vote->score, 0.0, 1.0);
  }
  if (r.voters == 0) return r;
  r.anomalyScore = weighted / weight;
  switch (config.rule) {
    case ConsensusRule::kAny:
      r.anomalous = r.votes >= 1;
      break;
    case ConsensusRule::kMajority:
      r.anomalous = 2 * r.votes > r.voters;
      break;
    case ConsensusRule::kUnanimous:
      r.anomalous = r.votes == r.voters;
      break;
    case ConsensusRule::kWeighted:
      r.anomalous = r.anomalyScore >= config.weightedThreshold;
      break;
  }
  double agreeing = 0;
  for (const auto& [vote, w] : methods) {
    if (!vote->available || w <= 0) continue;
    const double s = std::clamp(vote->score, 0.0, 1.0);
    if (vote->anomalous == r.anomalous) agreeing += w * (r.anomalous ? s : 1.0 - s);
  }
  r.confidence = agreeing / weight;
  return r;
}

Severity severityFor(double anomalyScore, const SeverityCutoffs& cutoffs) {
  if (anomalyScore >= cutoffs.critical) return Severity::kCritical;
  if (anomalyScore >= cutoffs.high) return Severity::kHigh;
  if (anomalyScore >= cutoffs.medium) return Severity::kMedium;
  return Severity::kLow;
}

Baseline Baseline::fromSamples(std::span<const FeatureVector> samples) {
  Baseline b;
  if (samples.empty()) {
    b.scale.fill(1.0);
    return b;
  }
  std::vector<double> column(samples.size());
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    for (std::size_t i = 0; i < samples.size(); ++i) column[i] = samples[i][f];
    const double center = internal::median(column);
    double scale = internal::madSigma(column, center);
    if (!(scale > 0)) scale = internal::stddev(column);
    b.center[f] = center;
    b.scale[f] = std::max(scale, 1e-9 * std::max(1.0, std::abs(center)));
  }
  return b;
}

FeatureVector Baseline::zScores(const FeatureVector& observed) const {
  FeatureVector z{};
  for (std::size_t f = 0; f < kFeatureCount; ++f) z[f] = (observed[f] - center[f]) / scale[f];
  return z;
}

std::optional<AnomalyType> typeForFeature(std::string_view feature, double deviation) {
  if (deviation == 0) return std::nullopt;
  const bool up = deviation > 0;
  if (feature == "error_rate") return up ? std::optional(AnomalyType::kErrorSpike) : std::nullopt;
  if (feature == "latency_p99_ms" || feature == "latency_p95_ms" || feature == "latency_mean_ms")
    return up ? std::optional(AnomalyType::kLatencyDegradation) : std::nullopt;
  if (feature == "unique_users" || feature == "unique_ips" || feature == "total_requests")
    return up ? AnomalyType::kTrafficSurge : AnomalyType::kTrafficDrop;
  if (feature == "risk_score") return up ? std::optional(AnomalyType::kRiskElevation) : std::nullopt;
  return std::nullopt;
}

AnomalyType classify(const FeatureVector& observed, const Baseline& baseline, const Votes& votes, double zThreshold,
                     int* dominantFeature) {
  const FeatureVector z = baseline.zScores(observed);
  int best = -1;
  double bestZ = zThreshold;
  AnomalyType type = AnomalyType::kOutlier;
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    const auto candidate = typeForFeature(kFeatureNames[f], z[f]);
    if (candidate && std::abs(z[f]) >= bestZ) bestZ = std::abs(z[f]), best = static_cast<int>(f), type = *candidate;
  }
  if (best < 0) {
    const bool forest = votes.isolationForest.available && votes.isolationForest.anomalous;
    const bool pattern = votes.pattern.available && votes.pattern.anomalous;
    const bool trend = votes.trend.available && votes.trend.anomalous;
    if (pattern && !forest && !trend)
      type = AnomalyType::kPatternShift;
    else if (trend && !forest && !pattern)
      type = AnomalyType::kTrendChange;
    else
      type = AnomalyType::kOutlier;
    // The most deviant metric still explains the record best, even below the type threshold.
    double largest = -1;
    for (std::size_t f = 0; f < kFeatureCount; ++f)
      if (std::abs(z[f]) > largest) largest = std::abs(z[f]), best = static_cast<int>(f);
  }
  if (dominantFeature) *dominantFeature = best;
  return type;
}

std::optional<AnomalyRecord> buildAnomalyRecord(const ServiceMetrics& sample, const Votes& votes,
                                                const Baseline& baseline, const ConsensusConfig& config) {
  const ConsensusResult verdict = decide(votes, config);
  if (!verdict.anomalous) return std::nullopt;
  const FeatureVector observed = sample.features();
  int dominant = -1;
  AnomalyRecord r;
  r.service = sample.service;
  r.timestamp = sample.timestamp;
  r.type = classify(observed, baseline, votes, config.typeZThreshold, &dominant);
  r.anomalyId = makeAnomalyId(sample.service, sample.timestamp, r.type);
  r.severity = severityFor(verdict.anomalyScore, config.severity);
  r.confidence = verdict.confidence;
  r.anomalyScore = verdict.anomalyScore;
  if (votes.isolationForest.available && votes.isolationForest.anomalous)
    r.detectionMethods.push_back("isolation_forest");
  if (votes.pattern.available && votes.pattern.anomalous) r.detectionMethods.push_back("dbscan");
  if (votes.trend.available && votes.trend.anomalous) r.detectionMethods.push_back("trend");
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    r.metricValues[std::string(kFeatureNames[f])] = observed[f];
    r.expectedValues[std::string(kFeatureNames[f])] = baseline.center[f];
  }
  // "Error spike on api: error_rate 5.2 vs expected 0.5 (+47.0σ); 3/3 methods agree
  //  (isolation_forest, dbscan, trend)."
  std::string text = readableType(r.type) + " on " + sample.service;
  if (dominant >= 0) {
    const auto f = static_cast<std::size_t>(dominant);
    const double z = (observed[f] - baseline.center[f]) / baseline.scale[f];
    text += ": " + std::string(kFeatureNames[f]) + " " + format("%.4g", observed[f]) + " vs expected " +
            format("%.4g", baseline.center[f]) + " (" + format("%+.1f", z) + "σ)";
  }
  if (r.type == AnomalyType::kTrendChange && !votes.trendMetric.empty())
    text += ", change point in " + votes.trendMetric;
  text += "; " + std::to_string(verdict.votes) + "/" + std::to_string(verdict.voters) + " methods agree (";
  for (std::size_t i = 0; i < r.detectionMethods.size(); ++i) text += (i ? ", " : "") + r.detectionMethods[i];
  text += ").";
  r.description = std::move(text);
  return r;
}

void DetectionStatistics::recordAnomaly(const AnomalyRecord& record) {
  ++anomaliesDetected;
  ++byType[record.type];
  ++bySeverity[record.severity];
  ++byService[record.service];
  for (const auto& m : record.detectionMethods) ++byMethod[m];
  confidenceSum += record.confidence;
}

double DetectionStatistics::anomalyRate() const {
  const std::uint64_t scored = messagesProcessed - std::min(messagesProcessed, warmupMessages);
  return scored == 0 ? 0.0 : static_cast<double>(anomaliesDetected) / static_cast<double>(scored);
}

double DetectionStatistics::meanConfidence() const {
  return anomaliesDetected == 0 ? 0.0 : confidenceSum / static_cast<double>(anomaliesDetected);
}

}  // namespace stacklens::core::detect
