#pragma once
// The three detectors vote (isolation forest, DBSCAN pattern shift, trend change); the result
// becomes an AnomalyRecord with a type, a severity, a confidence, the metric details and a
// readable description. Also the detection statistics the original service tracked.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "stacklens/core/records.h"

namespace stacklens::core::detect {

enum class ConsensusRule {
  kAny,        ///< one vote is enough
  kMajority,   ///< more than half of the available methods (the default: 2 of 3)
  kUnanimous,  ///< every available method
  kWeighted,   ///< the weighted mean score reaches ConsensusConfig::weightedThreshold
};
std::string_view toString(ConsensusRule rule);  ///< "any", "majority", "unanimous", "weighted"
std::optional<ConsensusRule> consensusRuleFromString(std::string_view name);

/// One method's opinion of one sample.
struct MethodVote {
  bool available = false;  ///< false: the method has no model yet and does not vote
  bool anomalous = false;  ///< past the method's own threshold
  double score = 0;        ///< [0,1], 0.5 at the method's own threshold
};

struct Votes {
  MethodVote isolationForest;  ///< score: IsolationForest::confidence()
  MethodVote pattern;          ///< score: PatternMatch::score (outside every DBSCAN pattern)
  MethodVote trend;            ///< score: the strongest per-metric change-point score
  std::string trendMetric;     ///< the metric whose change point voted, if any
};

/// Severity from the consensus score: below `medium` is low.
struct SeverityCutoffs {
  double medium = 0.6;
  double high = 0.75;
  double critical = 0.9;
};

struct ConsensusConfig {
  ConsensusRule rule = ConsensusRule::kMajority;
  double forestWeight = 1.0;
  double patternWeight = 1.0;
  double trendWeight = 1.0;
  double weightedThreshold = 0.6;  ///< kWeighted only
  SeverityCutoffs severity;
  /// A metric-specific type (error_spike, latency_degradation, ...) needs the dominant metric
  /// this many robust standard deviations from its baseline; otherwise the type falls back to
  /// pattern_shift, trend_change or outlier.
  double typeZThreshold = 3.0;
};

struct ConsensusResult {
  bool anomalous = false;
  int votes = 0;   ///< methods that voted anomalous
  int voters = 0;  ///< methods available
  /// Weighted mean of the available methods' scores, [0,1]; drives the severity.
  double anomalyScore = 0;
  /// Weighted score mass of the methods that agree with the verdict, over all available weight,
  /// [0,1]: three strong agreeing votes ≈ 1, a bare majority at the thresholds ≈ 0.33.
  double confidence = 0;
};

ConsensusResult decide(const Votes& votes, const ConsensusConfig& config = {});
Severity severityFor(double anomalyScore, const SeverityCutoffs& cutoffs = {});

/// Per-feature robust baseline of a service: median and MAD·1.4826 (the standard deviation when
/// the MAD is 0, and at least 10⁻⁹·max(1, |median|)).
struct Baseline {
  FeatureVector center{};
  FeatureVector scale{};
  static Baseline fromSamples(std::span<const FeatureVector> samples);
  /// (observed − center) / scale per feature.
  FeatureVector zScores(const FeatureVector& observed) const;
};

/// The metric-specific type of a deviation of one named feature (`deviation` > 0: above its
/// baseline): error_rate up → error_spike, a latency up → latency_degradation, users/IPs/requests
/// down → traffic_drop and up → traffic_surge, risk_score up → risk_elevation; otherwise nullopt.
std::optional<AnomalyType> typeForFeature(std::string_view feature, double deviation);

/// The anomaly type for a sample that the consensus flagged (see ConsensusConfig::typeZThreshold).
/// `dominantFeature` receives the index of the metric that decided (or −1).
AnomalyType classify(const FeatureVector& observed, const Baseline& baseline, const Votes& votes,
                     double zThreshold = 3.0, int* dominantFeature = nullptr);

/// The record for a sample, or nullopt when the consensus does not flag it. anomaly_id =
/// makeAnomalyId(service, timestamp, type); metricValues/expectedValues hold the 8 features.
std::optional<AnomalyRecord> buildAnomalyRecord(const ServiceMetrics& sample, const Votes& votes,
                                                const Baseline& baseline, const ConsensusConfig& config = {});

/// What the original MLOrchestrator counted.
struct DetectionStatistics {
  std::uint64_t messagesProcessed = 0;  ///< accepted messages, warm-up included
  std::uint64_t messagesRejected = 0;   ///< invalid messages (to the dead-letter queue)
  std::uint64_t messagesReplayed = 0;   ///< samples at a timestamp already taken, skipped
  std::uint64_t warmupMessages = 0;     ///< accepted while the service had no model yet
  std::uint64_t anomaliesDetected = 0;
  std::uint64_t modelsTrained = 0;  ///< training runs (each yields one model version per type)
  std::map<AnomalyType, std::uint64_t> byType;
  std::map<Severity, std::uint64_t> bySeverity;
  std::map<std::string, std::uint64_t> byService;  ///< anomalies per service
  std::map<std::string, std::uint64_t> byMethod;   ///< votes per method among the anomalies
  double confidenceSum = 0;

  void recordAnomaly(const AnomalyRecord& record);
  /// anomaliesDetected / (messagesProcessed − warmupMessages), 0 when nothing was scored.
  double anomalyRate() const;
  double meanConfidence() const;
};

}  // namespace stacklens::core::detect
