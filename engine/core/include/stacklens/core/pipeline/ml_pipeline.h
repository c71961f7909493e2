#pragma once
// The detection half of the original MLOrchestrator as pure logic: "message in → records out".
// No Kafka, no SQL, no clock of its own: the production service (`stacklens ml-service`) and the
// workbench's backtest call this same code, so the same input and configuration give the same
// records.
//
// Per service it keeps a bounded history and a model set (scaler + isolation forest, DBSCAN
// patterns with a robust baseline, one online change-point detector per metric):
//   - train(service, history) fits the models when the history holds ≥ minTrainingSamples
//     samples (the original's "> 100 samples" rule); with fewer, the samples seed the warm-up;
//   - process(sample) during warm-up stores the sample and reports the warm-up in the output
//     (state kWarmingUp, note "warming up: 37/100 samples ..."); once the stream has supplied
//     enough samples the service trains on them;
//   - afterwards each sample is scored by the three methods, the consensus may emit an
//     AnomalyRecord, and every retrainEvery messages the models are refitted on the history
//     (new ModelRecord versions, PatternRecords and TrendRecords).
//
// Retraining off the hot path: with an Executor (e.g. a worker thread of ml-service) a refit is a
// job on a snapshot of the history; the previous models keep scoring until the service's
// retrainSwapAfter-th next message, before which the new ones are swapped in (waiting for the job
// if it is still running). The swap point depends on the input only, so the records are the same
// whichever thread fitted and however long it took, and the same as without an executor.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "stacklens/core/detect/anomaly_detector.h"
#include "stacklens/core/detect/consensus.h"
#include "stacklens/core/detect/pattern_analyzer.h"
#include "stacklens/core/detect/trend_analyzer.h"
#include "stacklens/core/records.h"

namespace stacklens::core::pipeline {

/// Every detection setting in one place (the workbench edits it, ml-service loads it).
struct MlPipelineConfig {
  int minTrainingSamples = 100;  ///< fewer samples: warm-up, no detection
  int historyCapacity = 168;     ///< samples kept per service (7 days of hourly windows)
  int retrainEvery = 100;        ///< messages between refits; ≤ 0 never refits
  /// Messages of the service between a refit's snapshot and the swap of its models (≥ 1). The
  /// refit runs on the Executor meanwhile; without one it runs at the swap, on the caller's thread.
  int retrainSwapAfter = 1;
  /// Isolation forest: contamination 0.1, 100 trees, max_samples auto, seed 0 (combined with the
  /// service name and model version, so each service's models are reproducible).
  detect::AnomalyDetectorParams anomaly;
  detect::PatternParams patterns;  ///< DBSCAN: eps auto (or fixed), min_samples 3
  /// Trend records: polynomial degree 1, seasonality lag 12 (≤ 0: automatic period), and the
  /// change-point method (CUSUM by default; two_window is the original's) that also votes.
  detect::TrendAnalyzerConfig trends;
  int trendWindow = 48;               ///< most recent samples analysed for each TrendRecord
  detect::ConsensusConfig consensus;  ///< rule (majority), weights, severity cut-offs
};

enum class ServiceState { kWarmingUp, kDetecting };

/// A message that cannot be processed (goes to the dead-letter queue with what()).
class InvalidSample : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// What one call produced.
struct PipelineOutput {
  std::string service;
  ServiceState state = ServiceState::kWarmingUp;
  int samplesAvailable = 0;           ///< history size after the call
  int samplesNeeded = 0;              ///< minTrainingSamples
  std::string note;                   ///< human-readable state, e.g. the warm-up progress or "retrained"
  detect::Votes votes;                ///< the three methods' opinions of the sample (process only)
  detect::ConsensusResult consensus;  ///< their consensus (process only)
  std::vector<AnomalyRecord> anomalies;
  std::vector<PatternRecord> patterns;  ///< after a training run
  std::vector<TrendRecord> trends;      ///< after a training run, one per feature
  std::vector<ModelRecord> models;      ///< after a training run: isolation_forest and dbscan
  /// The isolation forest's score s of the sample (process only, once detecting): the number the
  /// forest's vote was decided from.
  double forestScore = 0;
  /// After a training run: the new forest's score of each training row (history order) and the
  /// baseline of those rows - what a backtest keeps to decide its replay again for another
  /// contamination (core::backtest::DetectionTrace) without scoring the rows a second time.
  std::vector<double> trainingForestScores;
  std::optional<detect::Baseline> trainingBaseline;
  /// process only: the service already took a sample at this timestamp (a redelivery by an
  /// at-least-once consumer or a retrying producer). Nothing changed and nothing is emitted.
  bool replayed = false;
  /// process only: this sample started a refit; the service's next sample swaps it in, waiting
  /// for the job if it has not finished. A caller with more of the service's samples at hand can
  /// take other services' first to give the job time.
  bool refitStarted = false;
};

/// Seconds since the epoch, UTC. Injected so that tests and backtests control time.
using Clock = std::function<EpochSeconds()>;

/// Runs a task, on any thread (the task is self-contained and thread-safe). Empty: refits run
/// on the thread that calls process().
using Executor = std::function<void(std::function<void()>)>;

class MlPipeline {
 public:
  /// `clock` stamps ModelRecord::trainedAt; when empty, the time of the latest sample is used.
  /// `executor` runs the periodic refits (see above); the initial training stays synchronous.
  /// Throws std::invalid_argument for inconsistent settings.
  explicit MlPipeline(MlPipelineConfig config = {}, Clock clock = {}, Executor executor = {});
  ~MlPipeline();
  MlPipeline(MlPipeline&&) noexcept;
  MlPipeline& operator=(MlPipeline&&) noexcept;

  /// Loads a service's history (oldest first; e.g. 7 days of analytics_metrics_1hour) and
  /// trains when it has ≥ minTrainingSamples samples. Samples of another service or with
  /// non-finite features throw InvalidSample. Cost: one isolation forest and one DBSCAN fit,
  /// O(trees · ψ log ψ + n log n).
  PipelineOutput train(const std::string& service, std::span<const ServiceMetrics> history);

  /// One message. Throws InvalidSample (empty service, non-finite or negative feature) and
  /// counts it as rejected. A sample at the timestamp of one in the service's history is a
  /// replay (a redelivery): counted and returned with `replayed`, the models untouched, so
  /// redelivered messages do not skew the detection. Cost without training: microseconds; at
  /// a swap point it may wait for the service's refit job.
  PipelineOutput process(const ServiceMetrics& sample);

  /// Starts bringing the service's models into cache (see IsolationForest::prefetch), for a
  /// caller that knows which service comes next. Changes nothing observable.
  void prefetch(const std::string& service) const;

  /// Refit jobs started and not swapped in yet (all services).
  int pendingRefits() const;
  /// Services known to the pipeline that have no model yet (warming up). O(services), no lookups.
  int servicesWarmingUp() const;

  const MlPipelineConfig& config() const { return config_; }
  const detect::DetectionStatistics& statistics() const { return statistics_; }
  std::vector<std::string> services() const;  ///< sorted
  /// Current model version of a service (0: not trained).
  int modelVersion(const std::string& service) const;
  ServiceState state(const std::string& service) const;

 private:
  struct HistorySample;
  struct ModelSet;
  struct ServiceModels;
  struct FitJob;
  struct FittedModels;
  struct PendingFit;
  ServiceModels& modelsFor(const std::string& service);
  FitJob snapshot(const ServiceModels& s) const;
  static FittedModels fit(const FitJob& job, const MlPipelineConfig& config);
  void install(ServiceModels& s, FittedModels fitted, PipelineOutput& out);
  void startRefit(ServiceModels& s);
  void swapIn(ServiceModels& s, PipelineOutput& out);
  void validate(const ServiceMetrics& sample, const std::string& service);
  static bool isReplay(const ServiceModels& s, const ServiceMetrics& sample);

  MlPipelineConfig config_;
  Clock clock_;
  Executor executor_;
  detect::DetectionStatistics statistics_;
  // Hashed: looked up once per message, and names of a fleet share long prefixes.
  std::unordered_map<std::string, std::unique_ptr<ServiceModels>> services_;
};

}  // namespace stacklens::core::pipeline
