#pragma once
// Backtests: replay a time range of recorded service metrics through the production ML pipeline
// (pipeline::MlPipeline, the code `stacklens ml-service` runs) and score what it finds against
// labelled incidents. Pure: data in, results out, no I/O; progress and cancellation through
// callbacks. The workbench's tuning panel runs the same function on the service it shows.
//
// Replay, per service (services are independent, as in the daemon):
//   - the samples before `from` are the history the daemon would load at start-up
//     (MlPipeline::train keeps the last historyCapacity of them and trains when there are at least
//     minTrainingSamples); with too few, the replay warms up from the stream like a cold start;
//   - every sample in [from, to] goes through MlPipeline::process, in time order; retraining
//     happens exactly when the daemon would retrain.
//
// Scoring against labels (incident windows [start, end]), event-based as an SRE counts pages:
//   - a window is detected when an anomaly falls in [start, end + tolerance];
//   - an anomaly is a true alarm when it falls in some window [start, end + tolerance];
//   - precision = true alarms / anomalies, recall = detected windows / windows, F1 their harmonic
//     mean (0 when both are 0). Only windows that overlap the replayed range count.
//   - known false positives (windows an SRE triaged as false positives in production): an anomaly
//     in such a window is a false alarm even inside an incident window (the triage is the more
//     specific verdict), and the score counts how many of them the replay flags again.
// And NAB-style (eval::scoreCorpus, standard profile): each service is a "file" whose causal
// scores are the consensus anomaly scores and whose windows are its labelled incidents.
//
// With BacktestConfig::forecast set, the replayed range is also forecast from rolling origins
// (forecast_replay.h): sMAPE, MASE, interval coverage and the predictive alerts' materialization.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stacklens/core/backtest/forecast_replay.h"
#include "stacklens/core/eval/nab_scorer.h"
#include "stacklens/core/pipeline/ml_pipeline.h"
#include "stacklens/core/records.h"

namespace stacklens::core::backtest {

/// A labelled incident, both ends inclusive, UTC seconds.
struct LabelWindow {
  EpochSeconds start = 0;
  EpochSeconds end = 0;
};

/// One service's recorded samples (oldest first, one service) and its labelled incidents.
struct ServiceHistory {
  std::string service;
  std::vector<ServiceMetrics> samples;
  std::vector<LabelWindow> labels;
  /// Window times (AnomalyRecord::timestamp) that triage marked as false positives.
  std::vector<EpochSeconds> falsePositives;
};

struct BacktestConfig {
  pipeline::MlPipelineConfig pipeline;
  EpochSeconds from = 0;  ///< first replayed sample time; earlier samples are the start-up history
  EpochSeconds to = 0;    ///< last replayed sample time (inclusive); ≤ from: up to the end of the data
  /// When ≥ 0, each service's first startupSamples samples are its start-up history instead of
  /// those before `from` (services whose data starts at different times, or the whole history).
  int startupSamples = -1;
  EpochSeconds tolerance = 3600;  ///< how long after an incident's end an anomaly still counts for it
  int threads = 0;  ///< services replayed in parallel; 0 = hardware concurrency (the result does not depend on it)
  /// Forecasts to replay over the same range (the predictive alerter's part); none when absent.
  std::optional<ForecastConfig> forecast;
};

/// Event-based detection quality (see the file comment).
struct DetectionScore {
  int anomalies = 0;
  int trueAlarms = 0;  ///< anomalies inside a window (with tolerance)
  int windows = 0;
  int detectedWindows = 0;
  int knownFalsePositives = 0;    ///< triaged false-positive windows in the replayed range
  int repeatedFalsePositives = 0;  ///< of them, the windows the replay flagged again
  double precision = 0;  ///< trueAlarms / anomalies; 0 without anomalies
  double recall = 0;     ///< detectedWindows / windows; 0 without windows
  double f1 = 0;
  /// Adds another score's counts and recomputes the ratios (micro-average).
  void add(const DetectionScore& other);
  void finish();
};

/// Scores anomaly times against windows and known false positives (see the file comment).
/// Windows must not be empty-ended (end ≥ start). O((a + w + f) log(w + f)).
DetectionScore scoreDetections(std::span<const EpochSeconds> anomalyTimes, std::span<const LabelWindow> windows,
                               EpochSeconds tolerance, std::span<const EpochSeconds> falsePositives = {});

struct ServiceBacktest {
  std::string service;
  std::vector<EpochSeconds> timestamps;  ///< the replayed samples
  /// Consensus anomaly score of each replayed sample, [0,1]; 0 while warming up. The causal score
  /// NAB-style scoring needs.
  std::vector<double> scores;
  std::vector<AnomalyRecord> anomalies;
  std::vector<LabelWindow> labels;  ///< the windows that overlap the replayed range
  std::vector<EpochSeconds> falsePositives;  ///< the triaged false positives inside the replayed range
  DetectionScore detection;
  int rejected = 0;        ///< samples the pipeline refused (InvalidSample): skipped, as the daemon's DLQ
  int warmupSamples = 0;   ///< replayed samples that only fed the warm-up
  int modelVersions = 0;   ///< the model version at the end: trainings, start-up training included
  ForecastReplay forecast;  ///< empty without BacktestConfig::forecast
};

struct BacktestResult {
  std::vector<ServiceBacktest> services;  ///< in input order
  DetectionScore detection;               ///< micro-average over services
  /// Anomalies per UTC day (key: midnight) and severity (index: core::Severity), over all services.
  std::map<EpochSeconds, std::array<int, 4>> anomaliesPerDay;
  int days = 0;  ///< days in the replayed range (for rates)
  double anomaliesPerDayMean = 0;
  /// NAB standard-profile score over the services (see the file comment); only meaningful when
  /// nab.windows > 0.
  eval::NabResult nab;
  ForecastScore forecast;  ///< summed over services; empty without BacktestConfig::forecast
  bool cancelled = false;  ///< stopped early: the result holds what was done
};

struct BacktestCallbacks {
  /// Called with the fraction done (0..1), from the calling thread or a worker; may be empty.
  std::function<void(double)> progress;
  /// Polled between samples; returning true stops the replay soon.
  std::function<bool()> cancelled;
};

/// Replays every service and scores it. Throws std::invalid_argument for an invalid pipeline
/// configuration (as MlPipeline does) or a history mixing services. Cost: the pipeline's, about
/// O(samples) process calls plus one model fit per retrainEvery samples, per service.
BacktestResult runBacktest(std::span<const ServiceHistory> services, const BacktestConfig& config,
                           const BacktestCallbacks& callbacks = {});

/// What a replay's verdicts rest on, kept so that they can be decided again for other consensus
/// settings (rule, weights, severity cut-offs) or another isolation-forest contamination without a
/// replay (redecideService). Neither the forest's trees, the DBSCAN patterns, the change points, the
/// baselines nor the retraining schedule depend on those settings, only the forest's threshold and
/// confidence spread (IsolationForest::calibrate) and the consensus do. About 150 bytes per
/// replayed sample plus 8 bytes per training row of each model version.
struct DetectionTrace {
  struct Model {                         ///< one trained model version
    std::vector<double> trainingScores;  ///< the forest's score of each training row, in row order
    detect::Baseline baseline;
  };
  struct Step {                ///< one replayed sample that the pipeline scored
    std::size_t position = 0;  ///< index in ServiceBacktest::timestamps and scores
    std::size_t sample = 0;    ///< index in ServiceHistory::samples
    std::size_t model = 0;     ///< index in models
    double forestScore = 0;    ///< the forest's score s of the sample
    detect::Votes votes;       ///< the replay's votes; the forest's vote is derived again
  };
  std::vector<Model> models;
  std::vector<Step> steps;
  /// False when the replay could not be followed (e.g. cancelled): redecideService refuses it.
  bool complete = false;
};

/// The replay of one service (what runBacktest does per service), for callers that need only one.
/// With `trace`, also fills it from what the pipeline reports (the forest scores of each model's
/// training rows and of each scored sample): no extra scoring.
ServiceBacktest replayService(const ServiceHistory& history, const BacktestConfig& config,
                              const std::function<bool()>& cancelled = {},
                              const std::function<void(std::size_t done)>& advanced = {},
                              DetectionTrace* trace = nullptr);

/// What replayService(history, config) returns, from an earlier replay of the same history and
/// its trace, when `config` differs from that replay's configuration at most in
/// pipeline.anomaly.forest.contamination and pipeline.consensus (the caller guarantees it): the
/// anomalies, scores and detection score are decided again, the rest is copied. Throws
/// std::invalid_argument for an incomplete trace or an invalid contamination.
/// O(models · n log n + samples) instead of the replay's fits.
ServiceBacktest redecideService(const ServiceHistory& history, const BacktestConfig& config,
                                const ServiceBacktest& replayed, const DetectionTrace& trace);

}  // namespace stacklens::core::backtest
