#include "stacklens/core/pipeline/ml_pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>

namespace stacklens::core::pipeline {
namespace {

// FNV-1a: a stable (platform-independent) hash of the service name for per-service seeds.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::string number(double v) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

// A flat JSON object from ordered key/value text (values already JSON-encoded).
std::string jsonObject(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string s = "{";
  for (std::size_t i = 0; i < fields.size(); ++i)
    s += (i ? "," : "") + ("\"" + fields[i].first + "\":" + fields[i].second);
  return s + "}";
}

}  // namespace

struct MlPipeline::ServiceModels {
  std::string name;
  std::deque<ServiceMetrics> history;
  int version = 0;
  int messagesSinceTraining = 0;
  detect::AnomalyDetector detector;
  detect::PatternModel patterns;
  detect::Baseline baseline;
  std::vector<detect::OnlineChangeDetector> changes;
};

MlPipeline::MlPipeline(MlPipelineConfig config, Clock clock) : config_(std::move(config)), clock_(std::move(clock)) {
  if (config_.minTrainingSamples < 2) throw std::invalid_argument("MlPipeline: minTrainingSamples must be ≥ 2");
  if (config_.historyCapacity < config_.minTrainingSamples)
    throw std::invalid_argument("MlPipeline: historyCapacity must be ≥ minTrainingSamples");
  if (config_.trendWindow < config_.trends.trend.degree + 2)
    throw std::invalid_argument("MlPipeline: trendWindow must be ≥ trend degree + 2");
}

MlPipeline::~MlPipeline() = default;
MlPipeline::MlPipeline(MlPipeline&&) noexcept = default;
MlPipeline& MlPipeline::operator=(MlPipeline&&) noexcept = default;

std::vector<std::string> MlPipeline::services() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : services_) names.push_back(name);
  return names;
}

int MlPipeline::modelVersion(const std::string& service) const {
  const auto it = services_.find(service);
  return it == services_.end() ? 0 : it->second->version;
}

ServiceState MlPipeline::state(const std::string& service) const {
  return modelVersion(service) > 0 ? ServiceState::kDetecting : ServiceState::kWarmingUp;
}

MlPipeline::ServiceModels& MlPipeline::modelsFor(const std::string& service) {
  auto& slot = services_[service];
  if (!slot) {
    slot = std::make_unique<ServiceModels>();
    slot->name = service;
  }
  return *slot;
}

void MlPipeline::validate(const ServiceMetrics& sample, const std::string& service) {
  auto reject = [&](const std::string& reason) {
    ++statistics_.messagesRejected;
    throw InvalidSample(reason);
  };
  if (sample.service.empty()) reject("field 'service' is empty");
  if (sample.service != service)
    reject("sample of service '" + sample.service + "' in the history of '" + service + "'");
  if (sample.windowSeconds <= 0) reject("field 'window' must be positive");
  const FeatureVector f = sample.features();
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    if (!std::isfinite(f[i])) reject("field '" + std::string(kFeatureNames[i]) + "' is not a finite number");
    if (f[i] < 0) reject("field '" + std::string(kFeatureNames[i]) + "' is negative");
  }
}

void MlPipeline::fitModels(ServiceModels& s, PipelineOutput& out) {
  std::vector<FeatureVector> samples;
  for (const auto& m : s.history) samples.push_back(m.features());
  const detect::Matrix x = detect::toMatrix(samples);
  ++s.version;
  ++statistics_.modelsTrained;
  s.messagesSinceTraining = 0;

  detect::AnomalyDetectorParams anomaly = config_.anomaly;
  anomaly.forest.seed =
      config_.anomaly.forest.seed ^ fnv1a(s.name) ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(s.version));
  s.detector = detect::AnomalyDetector::fit(x, anomaly);
  s.patterns = detect::PatternModel::fit(x, config_.patterns);
  s.baseline = detect::Baseline::fromSamples(samples);
  // Change-point detectors start from the history, so that the next sample is judged against it.
  s.changes.assign(kFeatureCount, detect::OnlineChangeDetector(config_.trends.changePoints));
  for (const auto& f : samples)
    for (std::size_t i = 0; i < kFeatureCount; ++i) s.changes[i].update(f[i]);

  const EpochSeconds now = clock_ ? clock_() : s.history.back().timestamp;
  const auto n = static_cast<int>(samples.size());

  // Model records with what is known without labels.
  auto record = [&](const std::string& type) {
    ModelRecord m;
    m.service = s.name;
    m.modelType = type;
    m.version = s.version;
    m.modelId = md5Hex(s.name + "|" + type + "|" + std::to_string(s.version));
    m.trainedAt = now;
    m.trainingSamples = n;
    return m;
  };
  const auto training = s.detector.detect(x);
  const double flagged =
      static_cast<double>(std::count_if(training.begin(), training.end(), [](const auto& d) { return d.isAnomaly; }));
  ModelRecord forest = record("isolation_forest");
  const auto& f = s.detector.forest();
  forest.metrics = {{"threshold", f.threshold()},
                    {"score_spread", f.scoreSpread()},
                    {"training_anomaly_rate", flagged / n},
                    {"trees", f.trees()},
                    {"max_samples", f.sampleSize()}};
  const auto& contamination = s.detector.params().forest.contamination;
  forest.hyperparametersJson = jsonObject({{"n_estimators", std::to_string(f.trees())},
                                           {"max_samples", std::to_string(f.sampleSize())},
                                           {"contamination", contamination ? number(*contamination) : "\"auto\""},
                                           {"seed", std::to_string(anomaly.forest.seed)},
                                           {"standardize", anomaly.standardize ? "true" : "false"}});
  forest.blob = s.detector.serialize();

  ModelRecord dbscan = record("dbscan");
  dbscan.metrics = {{"clusters", static_cast<double>(s.patterns.signatures().size())},
                    {"eps", s.patterns.eps()},
                    {"noise_share", s.patterns.noiseShare()}};
  dbscan.hyperparametersJson = jsonObject({{"eps", config_.patterns.eps ? number(*config_.patterns.eps) : "\"auto\""},
                                           {"min_samples", std::to_string(config_.patterns.minSamples)}});
  dbscan.blob = s.patterns.serialize();
  out.models.push_back(std::move(forest));
  out.models.push_back(std::move(dbscan));

  // Pattern records, with the time span of each cluster's members.
  const auto& labels = s.patterns.trainingLabels();
  for (const auto& sig : s.patterns.signatures()) {
    PatternRecord p;
    p.patternId = md5Hex(s.name + "|" + std::to_string(sig.label) + "|" + std::to_string(s.version));
    p.service = s.name;
    p.clusterLabel = sig.label;
    std::copy_n(sig.centroid.begin(), kFeatureCount, p.centroid.begin());
    std::copy_n(sig.spread.begin(), kFeatureCount, p.spread.begin());
    p.size = sig.size;
    p.share = sig.share;
    bool first = true;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] != sig.label) continue;
      const EpochSeconds t = s.history[i].timestamp;
      p.firstSeen = first ? t : std::min(p.firstSeen, t);
      p.lastSeen = first ? t : std::max(p.lastSeen, t);
      first = false;
    }
    out.patterns.push_back(p);
  }

  // Trend records over the most recent window, one per metric.
  const std::size_t window = std::min<std::size_t>(s.history.size(), static_cast<std::size_t>(config_.trendWindow));
  const std::size_t start = s.history.size() - window;
  const detect::TrendAnalyzer analyzer(config_.trends);
  const double hoursPerSample = s.history.back().windowSeconds / 3600.0;
  for (std::size_t feature = 0; feature < kFeatureCount; ++feature) {
    std::vector<double> y;
    for (std::size_t i = start; i < s.history.size(); ++i) y.push_back(samples[i][feature]);
    const detect::TrendAnalysis a = analyzer.analyze(y);
    TrendRecord t;
    t.service = s.name;
    t.metric = std::string(kFeatureNames[feature]);
    t.timestamp = s.history.back().timestamp;
    t.direction = a.trend.direction;
    t.magnitude = a.trend.magnitude;
    t.slope = a.trend.slope / hoursPerSample;
    t.seasonalityScore = a.seasonality.score;
    t.seasonalPeriod =
        a.seasonality.seasonal ? static_cast<int>(std::lround(a.seasonality.period * hoursPerSample)) : 0;
    t.changePoint = !a.changePoints.empty();
    if (t.changePoint) t.changePointAt = s.history[start + a.changePoints.back().index].timestamp;
    out.trends.push_back(std::move(t));
  }
}

PipelineOutput MlPipeline::train(const std::string& service, std::span<const ServiceMetrics> history) {
  for (const auto& m : history) validate(m, service);
  ServiceModels& s = modelsFor(service);
  PipelineOutput out;
  out.service = service;
  out.samplesNeeded = config_.minTrainingSamples;
  const std::size_t keep = std::min<std::size_t>(history.size(), static_cast<std::size_t>(config_.historyCapacity));
  s.history.assign(history.end() - static_cast<std::ptrdiff_t>(keep), history.end());
  out.samplesAvailable = static_cast<int>(s.history.size());
  if (out.samplesAvailable >= config_.minTrainingSamples) {
    fitModels(s, out);
    out.note = "trained version " + std::to_string(s.version) + " on " + std::to_string(out.samplesAvailable) +
               " historical samples";
  } else {
    s.version = 0;
    out.note = "history has " + std::to_string(out.samplesAvailable) + " samples, fewer than " +
               std::to_string(config_.minTrainingSamples) + ": warming up from the stream";
  }
  out.state = state(service);
  return out;
}

PipelineOutput MlPipeline::process(const ServiceMetrics& sample) {
  validate(sample, sample.service);
  ServiceModels& s = modelsFor(sample.service);
  ++statistics_.messagesProcessed;
  PipelineOutput out;
  out.service = sample.service;
  out.samplesNeeded = config_.minTrainingSamples;
  auto remember = [&] {
    s.history.push_back(sample);
    while (s.history.size() > static_cast<std::size_t>(config_.historyCapacity)) s.history.pop_front();
    out.samplesAvailable = static_cast<int>(s.history.size());
  };

  if (s.version == 0) {
    ++statistics_.warmupMessages;
    remember();
    if (out.samplesAvailable >= config_.minTrainingSamples) {
      fitModels(s, out);
      out.note = "warm-up complete: trained version " + std::to_string(s.version) + " on " +
                 std::to_string(out.samplesAvailable) + " samples from the stream";
    } else {
      out.note = "warming up: " + std::to_string(out.samplesAvailable) + "/" +
                 std::to_string(config_.minTrainingSamples) + " samples from the stream; no detection until then";
    }
    out.state = state(sample.service);
    return out;
  }

  const FeatureVector features = sample.features();
  const detect::Detection d = s.detector.detect(features);
  out.votes.isolationForest = {true, d.isAnomaly, d.confidence};
  const detect::PatternMatch m = s.patterns.match(features);
  out.votes.pattern = {!s.patterns.signatures().empty(), m.isShift, m.score};
  // Trend vote: a change point completed by this sample in any metric; the strongest one names it.
  int changed = -1;
  double changedScore = -1, strongestScore = -1;
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    const auto u = s.changes[i].update(features[i]);
    if (u.changePoint && u.score > changedScore) changedScore = u.score, changed = static_cast<int>(i);
    strongestScore = std::max(strongestScore, u.score);
  }
  out.votes.trend = {true, changed >= 0, changed >= 0 ? changedScore : strongestScore};
  if (changed >= 0) out.votes.trendMetric = std::string(kFeatureNames[static_cast<std::size_t>(changed)]);
  out.consensus = detect::decide(out.votes, config_.consensus);
  if (auto record = detect::buildAnomalyRecord(sample, out.votes, s.baseline, config_.consensus)) {
    statistics_.recordAnomaly(*record);
    out.anomalies.push_back(std::move(*record));
  }
  remember();
  ++s.messagesSinceTraining;
  if (config_.retrainEvery > 0 && s.messagesSinceTraining >= config_.retrainEvery) {
    fitModels(s, out);
    out.note =
        "retrained: version " + std::to_string(s.version) + " on " + std::to_string(out.samplesAvailable) + " samples";
  } else {
    out.note = "scored with model version " + std::to_string(s.version);
  }
  out.state = ServiceState::kDetecting;
  return out;
}

}  // namespace stacklens::core::pipeline
