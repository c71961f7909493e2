#include "stacklens/core/pipeline/ml_pipeline.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>

#include "stacklens/core/timestamp.h"

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

// What the pipeline keeps of a sample: 80 bytes, where a ServiceMetrics (with its copy of the
// service's name) is 112 or more; ml-service keeps a week of them for each of a thousand services.
struct MlPipeline::HistorySample {
  EpochSeconds timestamp = 0;
  int windowSeconds = 0;
  FeatureVector features{};

  explicit HistorySample(const ServiceMetrics& m)
      : timestamp(m.timestamp), windowSeconds(m.windowSeconds), features(m.features()) {}
};

// Everything a refit needs, copied out of the pipeline so that it can run on any thread.
struct MlPipeline::FitJob {
  std::string service;
  int version = 0;
  EpochSeconds trainedAt = 0;
  std::vector<HistorySample> history;
};

// The models that score a service's samples.
struct MlPipeline::ModelSet {
  int version = 0;  // 0: not trained
  detect::AnomalyDetector detector;
  detect::PatternModel patterns;
  detect::Baseline baseline;
  std::vector<detect::OnlineChangeDetector> changes;
};

// The models and records of one refit, ready to be swapped in.
struct MlPipeline::FittedModels : ModelSet {
  std::vector<double> trainingScores;  // the forest's score of each training row
  std::vector<ModelRecord> models;
  std::vector<PatternRecord> patternRecords;
  std::vector<TrendRecord> trends;
};

// A refit in flight: the executor's task fills `result` (or `error`) and signals.
struct MlPipeline::PendingFit {
  FitJob job;
  int swapIn = 0;  // messages of the service until the swap
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  std::optional<FittedModels> result;
  std::exception_ptr error;
};

struct MlPipeline::ServiceModels : ModelSet {
  std::string name;
  std::deque<HistorySample> history;
  int messagesSinceTraining = 0;
  std::shared_ptr<PendingFit> pending;
};

MlPipeline::MlPipeline(MlPipelineConfig config, Clock clock, Executor executor)
    : config_(std::move(config)), clock_(std::move(clock)), executor_(std::move(executor)) {
  if (config_.minTrainingSamples < 2) throw std::invalid_argument("MlPipeline: minTrainingSamples must be ≥ 2");
  if (config_.historyCapacity < config_.minTrainingSamples)
    throw std::invalid_argument("MlPipeline: historyCapacity must be ≥ minTrainingSamples");
  if (config_.trendWindow < config_.trends.trend.degree + 2)
    throw std::invalid_argument("MlPipeline: trendWindow must be ≥ trend degree + 2");
  if (config_.retrainSwapAfter < 1) throw std::invalid_argument("MlPipeline: retrainSwapAfter must be ≥ 1");
}

MlPipeline::~MlPipeline() = default;
MlPipeline::MlPipeline(MlPipeline&&) noexcept = default;
MlPipeline& MlPipeline::operator=(MlPipeline&&) noexcept = default;

std::vector<std::string> MlPipeline::services() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : services_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

int MlPipeline::modelVersion(const std::string& service) const {
  const auto it = services_.find(service);
  return it == services_.end() ? 0 : it->second->version;
}

void MlPipeline::prefetch(const std::string& service) const {
  const auto it = services_.find(service);
  if (it != services_.end()) it->second->detector.forest().prefetch();
}

int MlPipeline::pendingRefits() const {
  int pending = 0;
  for (const auto& [_, s] : services_) pending += s->pending != nullptr;
  return pending;
}

int MlPipeline::servicesWarmingUp() const {
  int warming = 0;
  for (const auto& [_, s] : services_) warming += s->version == 0;
  return warming;
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

MlPipeline::FitJob MlPipeline::snapshot(const ServiceModels& s) const {
  FitJob job;
  job.service = s.name;
  job.version = s.version + 1;
  job.history.assign(s.history.begin(), s.history.end());
  job.trainedAt = clock_ ? clock_() : job.history.back().timestamp;
  return job;
}

void MlPipeline::install(ServiceModels& s, FittedModels fitted, PipelineOutput& out) {
  static_cast<ModelSet&>(s) = std::move(static_cast<ModelSet&>(fitted));
  ++statistics_.modelsTrained;
  out.trainingForestScores = std::move(fitted.trainingScores);
  out.trainingBaseline = s.baseline;
  for (auto& m : fitted.models) {
    m.blob = m.modelType == "dbscan" ? s.patterns.serialize() : s.detector.serialize();
    out.models.push_back(std::move(m));
  }
  for (auto& p : fitted.patternRecords) out.patterns.push_back(std::move(p));
  for (auto& t : fitted.trends) out.trends.push_back(std::move(t));
}

MlPipeline::FittedModels MlPipeline::fit(const FitJob& job, const MlPipelineConfig& config) {
  const auto& history = job.history;
  std::vector<FeatureVector> samples;
  for (const auto& m : history) samples.push_back(m.features);
  const detect::Matrix x = detect::toMatrix(samples);
  FittedModels s;
  s.version = job.version;

  detect::AnomalyDetectorParams anomaly = config.anomaly;
  anomaly.forest.seed =
      config.anomaly.forest.seed ^ fnv1a(job.service) ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(s.version));
  s.detector = detect::AnomalyDetector::fit(x, anomaly, s.trainingScores);
  s.patterns = detect::PatternModel::fit(x, config.patterns);
  s.baseline = detect::Baseline::fromSamples(samples);
  // Change-point detectors start from the history, so that the next sample is judged against it.
  s.changes.assign(kFeatureCount, detect::OnlineChangeDetector(config.trends.changePoints));
  for (const auto& f : samples)
    for (std::size_t i = 0; i < kFeatureCount; ++i) s.changes[i].update(f[i]);

  const EpochSeconds now = job.trainedAt;
  const auto n = static_cast<int>(samples.size());

  // Model records with what is known without labels.
  auto record = [&](const std::string& type) {
    ModelRecord m;
    m.service = job.service;
    m.modelType = type;
    m.version = s.version;
    m.modelId = md5Hex(job.service + "|" + type + "|" + std::to_string(s.version));
    m.trainedAt = now;
    m.trainingSamples = n;
    return m;
  };
  const auto& f = s.detector.forest();
  const double flagged = static_cast<double>(
      std::count_if(s.trainingScores.begin(), s.trainingScores.end(), [&](double score) { return f.isAnomaly(score); }));
  ModelRecord forest = record("isolation_forest");
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
  // The blobs are written at the swap (install()): a finished refit waits for its service's next
  // message, and with many services that is many model sets' worth of blobs held for nothing.

  ModelRecord dbscan = record("dbscan");
  dbscan.metrics = {{"clusters", static_cast<double>(s.patterns.signatures().size())},
                    {"eps", s.patterns.eps()},
                    {"noise_share", s.patterns.noiseShare()}};
  dbscan.hyperparametersJson = jsonObject({{"eps", config.patterns.eps ? number(*config.patterns.eps) : "\"auto\""},
                                           {"min_samples", std::to_string(config.patterns.minSamples)}});
  s.models.push_back(std::move(forest));
  s.models.push_back(std::move(dbscan));

  // Pattern records, with the time span of each cluster's members.
  const auto& labels = s.patterns.trainingLabels();
  for (const auto& sig : s.patterns.signatures()) {
    PatternRecord p;
    p.patternId = md5Hex(job.service + "|" + std::to_string(sig.label) + "|" + std::to_string(s.version));
    p.service = job.service;
    p.clusterLabel = sig.label;
    std::copy_n(sig.centroid.begin(), kFeatureCount, p.centroid.begin());
    std::copy_n(sig.spread.begin(), kFeatureCount, p.spread.begin());
    p.size = sig.size;
    p.share = sig.share;
    bool first = true;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] != sig.label) continue;
      const EpochSeconds t = history[i].timestamp;
      p.firstSeen = first ? t : std::min(p.firstSeen, t);
      p.lastSeen = first ? t : std::max(p.lastSeen, t);
      first = false;
    }
    s.patternRecords.push_back(p);
  }

  // Trend records over the most recent window, one per metric.
  const std::size_t window = std::min<std::size_t>(history.size(), static_cast<std::size_t>(config.trendWindow));
  const std::size_t start = history.size() - window;
  const detect::TrendAnalyzer analyzer(config.trends);
  const double hoursPerSample = history.back().windowSeconds / 3600.0;
  for (std::size_t feature = 0; feature < kFeatureCount; ++feature) {
    std::vector<double> y;
    for (std::size_t i = start; i < history.size(); ++i) y.push_back(samples[i][feature]);
    const detect::TrendAnalysis a = analyzer.analyze(y);
    TrendRecord t;
    t.service = job.service;
    t.metric = std::string(kFeatureNames[feature]);
    t.timestamp = history.back().timestamp;
    t.direction = a.trend.direction;
    t.magnitude = a.trend.magnitude;
    t.slope = a.trend.slope / hoursPerSample;
    t.seasonalityScore = a.seasonality.score;
    t.seasonalPeriod =
        a.seasonality.seasonal ? static_cast<int>(std::lround(a.seasonality.period * hoursPerSample)) : 0;
    t.changePoint = !a.changePoints.empty();
    if (t.changePoint) t.changePointAt = history[start + a.changePoints.back().index].timestamp;
    s.trends.push_back(std::move(t));
  }
  return s;
}

void MlPipeline::startRefit(ServiceModels& s) {
  auto pending = std::make_shared<PendingFit>();
  pending->job = snapshot(s);
  pending->swapIn = config_.retrainSwapAfter;
  s.pending = pending;
  if (!executor_) return;  // fitted at the swap, on this thread
  executor_([pending, config = config_] {
    std::optional<FittedModels> result;
    std::exception_ptr error;
    try {
      result = fit(pending->job, config);
    } catch (...) {
      error = std::current_exception();
    }
    const std::lock_guard lock(pending->mutex);
    std::vector<HistorySample>().swap(pending->job.history);  // done with; the result may wait long
    pending->result = std::move(result);
    pending->error = error;
    pending->finished = true;
    pending->done.notify_all();
  });
}

void MlPipeline::swapIn(ServiceModels& s, PipelineOutput& out) {
  const std::shared_ptr<PendingFit> pending = std::move(s.pending);
  FittedModels fitted;
  if (!executor_) {
    fitted = fit(pending->job, config_);
  } else {
    std::unique_lock lock(pending->mutex);
    pending->done.wait(lock, [&] { return pending->finished; });
    if (pending->error) std::rethrow_exception(pending->error);
    fitted = std::move(*pending->result);
  }
  // The samples that arrived after the snapshot also update the new change-point detectors.
  const std::size_t since = static_cast<std::size_t>(config_.retrainSwapAfter - 1);
  for (std::size_t i = s.history.size() - std::min(since, s.history.size()); i < s.history.size(); ++i) {
    const FeatureVector& f = s.history[i].features;
    for (std::size_t k = 0; k < kFeatureCount; ++k) fitted.changes[k].update(f[k]);
  }
  install(s, std::move(fitted), out);
}

PipelineOutput MlPipeline::train(const std::string& service, std::span<const ServiceMetrics> history) {
  for (const auto& m : history) validate(m, service);
  ServiceModels& s = modelsFor(service);
  PipelineOutput out;
  out.service = service;
  out.samplesNeeded = config_.minTrainingSamples;
  const std::size_t keep = std::min<std::size_t>(history.size(), static_cast<std::size_t>(config_.historyCapacity));
  s.history.clear();
  for (const auto& m : history.last(keep)) s.history.emplace_back(m);
  out.samplesAvailable = static_cast<int>(s.history.size());
  s.pending.reset();  // a refit of the replaced history is moot
  s.messagesSinceTraining = 0;
  if (out.samplesAvailable >= config_.minTrainingSamples) {
    install(s, fit(snapshot(s), config_), out);
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

// A service's samples normally arrive in time order, so a newer one is never a replay and costs
// one comparison; an older one is looked up in the history (late samples are still taken).
bool MlPipeline::isReplay(const ServiceModels& s, const ServiceMetrics& sample) {
  if (s.history.empty() || sample.timestamp > s.history.back().timestamp) return false;
  return std::any_of(s.history.rbegin(), s.history.rend(),
                     [&](const HistorySample& taken) { return taken.timestamp == sample.timestamp; });
}

PipelineOutput MlPipeline::process(const ServiceMetrics& sample) {
  validate(sample, sample.service);
  ServiceModels& s = modelsFor(sample.service);
  PipelineOutput out;
  out.service = sample.service;
  if (isReplay(s, sample)) {
    ++statistics_.messagesReplayed;
    out.replayed = true;
    out.note = "replay of the sample at " + formatTimestamp(sample.timestamp) + ": already taken";
    out.state = state(sample.service);
    out.samplesAvailable = static_cast<int>(s.history.size());
    out.samplesNeeded = config_.minTrainingSamples;
    return out;
  }
  ++statistics_.messagesProcessed;
  out.samplesNeeded = config_.minTrainingSamples;
  auto remember = [&] {
    s.history.emplace_back(sample);
    while (s.history.size() > static_cast<std::size_t>(config_.historyCapacity)) s.history.pop_front();
    out.samplesAvailable = static_cast<int>(s.history.size());
  };

  if (s.version == 0) {
    ++statistics_.warmupMessages;
    remember();
    if (out.samplesAvailable >= config_.minTrainingSamples) {
      install(s, fit(snapshot(s), config_), out);
      s.messagesSinceTraining = 0;
      out.note = "warm-up complete: trained version " + std::to_string(s.version) + " on " +
                 std::to_string(out.samplesAvailable) + " samples from the stream";
    } else {
      out.note = "warming up: " + std::to_string(out.samplesAvailable) + "/" +
                 std::to_string(config_.minTrainingSamples) + " samples from the stream; no detection until then";
    }
    out.state = state(sample.service);
    return out;
  }

  bool swapped = false;
  if (s.pending && --s.pending->swapIn <= 0) {
    swapIn(s, out);
    swapped = true;
  }
  const FeatureVector features = sample.features();
  const detect::Detection d = s.detector.detect(features);
  out.votes.isolationForest = {true, d.isAnomaly, d.confidence};
  out.forestScore = d.score;
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
  if (config_.retrainEvery > 0 && s.messagesSinceTraining >= config_.retrainEvery && !s.pending) {
    startRefit(s);
    s.messagesSinceTraining = 0;
    out.refitStarted = true;
  }
  out.note = swapped ? "retrained: version " + std::to_string(s.version) + " on " +
                           std::to_string(out.models.empty() ? 0 : out.models.front().trainingSamples) +
                           " samples, scored with it"
                     : "scored with model version " + std::to_string(s.version);
  out.state = ServiceState::kDetecting;
  return out;
}

}  // namespace stacklens::core::pipeline
