#include "stacklens/core/backtest/backtest.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace stacklens::core::backtest {
namespace {

constexpr EpochSeconds kDay = 86400;
// Progress counts a forecast (a model fit and a breach simulation) as this many replayed samples.
constexpr std::size_t kForecastWork = 200;

EpochSeconds dayOf(EpochSeconds t) { return t - ((t % kDay) + kDay) % kDay; }

// The replayed samples: indices [first, last) of the history.
std::pair<std::size_t, std::size_t> replayedRange(const std::vector<ServiceMetrics>& samples,
                                                  const BacktestConfig& config) {
  const EpochSeconds to = config.to > config.from ? config.to : std::numeric_limits<EpochSeconds>::max();
  const auto first = config.startupSamples >= 0
                         ? samples.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                 samples.size(), static_cast<std::size_t>(config.startupSamples)))
                         : std::lower_bound(samples.begin(), samples.end(), config.from,
                                            [](const ServiceMetrics& m, EpochSeconds t) { return m.timestamp < t; });
  const auto last = std::upper_bound(first, samples.end(), to,
                                     [](EpochSeconds t, const ServiceMetrics& m) { return t < m.timestamp; });
  return {static_cast<std::size_t>(first - samples.begin()), static_cast<std::size_t>(last - samples.begin())};
}

// Progress units of one service: its samples and its forecasts.
std::size_t workOf(const ServiceHistory& h, const BacktestConfig& config) {
  std::size_t work = h.samples.size();
  if (config.forecast) {
    const auto [first, last] = replayedRange(h.samples, config);
    work += kForecastWork * forecastCount(h.samples.size(), first, last, *config.forecast);
  }
  return work;
}

}  // namespace

void DetectionScore::add(const DetectionScore& other) {
  anomalies += other.anomalies;
  trueAlarms += other.trueAlarms;
  windows += other.windows;
  detectedWindows += other.detectedWindows;
  knownFalsePositives += other.knownFalsePositives;
  repeatedFalsePositives += other.repeatedFalsePositives;
  finish();
}

void DetectionScore::finish() {
  precision = anomalies > 0 ? static_cast<double>(trueAlarms) / anomalies : 0.0;
  recall = windows > 0 ? static_cast<double>(detectedWindows) / windows : 0.0;
  f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

DetectionScore scoreDetections(std::span<const EpochSeconds> anomalyTimes, std::span<const LabelWindow> windows,
                               EpochSeconds tolerance, std::span<const EpochSeconds> falsePositives) {
  std::vector<EpochSeconds> known(falsePositives.begin(), falsePositives.end());
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  std::vector<bool> repeated(known.size(), false);
  std::vector<LabelWindow> sorted(windows.begin(), windows.end());
  std::sort(sorted.begin(), sorted.end(), [](const LabelWindow& a, const LabelWindow& b) { return a.start < b.start; });
  std::vector<bool> detected(sorted.size(), false);
  DetectionScore score;
  score.anomalies = static_cast<int>(anomalyTimes.size());
  score.windows = static_cast<int>(sorted.size());
  score.knownFalsePositives = static_cast<int>(known.size());
  for (EpochSeconds t : anomalyTimes) {
    if (const auto fp = std::lower_bound(known.begin(), known.end(), t); fp != known.end() && *fp == t) {
      repeated[static_cast<std::size_t>(fp - known.begin())] = true;
      continue;  // a false alarm, whatever window it falls in
    }
    // Windows starting at or before t; any of them may still reach t (windows can overlap).
    const auto last = std::upper_bound(sorted.begin(), sorted.end(), t,
                                       [](EpochSeconds v, const LabelWindow& w) { return v < w.start; });
    bool inside = false;
    for (auto it = sorted.begin(); it != last; ++it) {
      if (t <= it->end + tolerance) {
        inside = true;
        detected[static_cast<std::size_t>(it - sorted.begin())] = true;
      }
    }
    score.trueAlarms += inside;
  }
  score.detectedWindows = static_cast<int>(std::count(detected.begin(), detected.end(), true));
  score.repeatedFalsePositives = static_cast<int>(std::count(repeated.begin(), repeated.end(), true));
  score.finish();
  return score;
}

namespace {

// Follows a replay for its DetectionTrace: which rows each model version was trained on (the last
// trainingSamples rows the pipeline accepted up to the row of its trainedAt), and the forest's
// score of every scored sample under the model that scored it.
class TraceRecorder {
 public:
  TraceRecorder(DetectionTrace* trace, const std::vector<ServiceMetrics>& samples) : trace_(trace), samples_(samples) {
    if (trace_) *trace_ = DetectionTrace{};
  }

  void accepted(std::size_t sample) {
    if (trace_) accepted_.push_back(sample);
  }

  void trained(const pipeline::PipelineOutput& out) {
    if (!trace_) return;
    for (const ModelRecord& m : out.models) {
      if (m.modelType != "isolation_forest") continue;
      std::size_t end = accepted_.size();  // one past the last training row
      while (end > 0 && samples_[accepted_[end - 1]].timestamp != m.trainedAt) --end;
      const auto n = static_cast<std::size_t>(m.trainingSamples);
      if (end < n || n == 0 || out.trainingForestScores.size() != n || !out.trainingBaseline) {
        broken_ = true;
        continue;
      }
      // The pipeline scored the training rows when it fitted the forest.
      trace_->models.push_back({out.trainingForestScores, *out.trainingBaseline});
    }
  }

  void scored(std::size_t position, std::size_t sample, const pipeline::PipelineOutput& out) {
    if (!trace_) return;
    if (trace_->models.empty()) {
      broken_ = true;
      return;
    }
    DetectionTrace::Step step;
    step.position = position;
    step.sample = sample;
    step.model = trace_->models.size() - 1;
    step.forestScore = out.forestScore;
    step.votes = out.votes;
    trace_->steps.push_back(std::move(step));
  }

  void finish(bool cancelled) {
    if (trace_) trace_->complete = !broken_ && !cancelled;
  }

 private:
  DetectionTrace* trace_;
  const std::vector<ServiceMetrics>& samples_;
  std::vector<std::size_t> accepted_;  // indices of the samples the pipeline took into its history
  bool broken_ = false;
};

// The event-based score of the anomalies against the labels of the replayed range.
void scoreService(const BacktestConfig& config, ServiceBacktest& out) {
  std::vector<EpochSeconds> times;
  times.reserve(out.anomalies.size());
  for (const AnomalyRecord& a : out.anomalies) times.push_back(a.timestamp);
  out.detection = scoreDetections(times, out.labels, config.tolerance, out.falsePositives);
}

}  // namespace

ServiceBacktest replayService(const ServiceHistory& history, const BacktestConfig& config,
                              const std::function<bool()>& cancelled, const std::function<void(std::size_t)>& advanced,
                              DetectionTrace* trace) {
  ServiceBacktest out;
  out.service = history.service;
  const auto& samples = history.samples;
  for (const ServiceMetrics& m : samples)
    if (m.service != history.service)
      throw std::invalid_argument("backtest: sample of service '" + m.service + "' in the history of '" +
                                  history.service + "'");
  const auto [firstIndex, lastIndex] = replayedRange(samples, config);
  const auto first = samples.begin() + static_cast<std::ptrdiff_t>(firstIndex);
  const auto last = samples.begin() + static_cast<std::ptrdiff_t>(lastIndex);
  TraceRecorder recorder(trace, samples);

  pipeline::MlPipeline pipeline(config.pipeline);
  // Start-up: the daemon loads the recent history and trains on it. Rows the pipeline refuses are
  // left out (the daemon's history would never have stored them); they count as rejected.
  std::vector<ServiceMetrics> startup(samples.begin(), first);
  pipeline::PipelineOutput trained;
  try {
    trained = pipeline.train(history.service, startup);
    for (std::size_t i = 0; i < firstIndex; ++i) recorder.accepted(i);
  } catch (const pipeline::InvalidSample&) {
    std::vector<ServiceMetrics> clean;
    for (std::size_t i = 0; i < firstIndex; ++i) {
      try {
        pipeline::MlPipeline check(config.pipeline);  // one sample never trains: a cheap validation
        check.train(history.service, std::span<const ServiceMetrics>(&samples[i], 1));
        clean.push_back(samples[i]);
        recorder.accepted(i);
      } catch (const pipeline::InvalidSample&) {
        ++out.rejected;
      }
    }
    trained = pipeline.train(history.service, clean);
  }
  recorder.trained(trained);

  const auto count = static_cast<std::size_t>(last - first);
  out.timestamps.reserve(count);
  out.scores.reserve(count);
  std::size_t done = 0;
  bool stopped = false;
  for (auto it = first; it != last; ++it) {
    if (cancelled && (done % 64 == 0) && cancelled()) {
      stopped = true;
      break;
    }
    const auto index = static_cast<std::size_t>(it - samples.begin());
    out.timestamps.push_back(it->timestamp);
    try {
      pipeline::PipelineOutput result = pipeline.process(*it);
      recorder.accepted(index);
      recorder.trained(result);
      const bool scored = result.state == pipeline::ServiceState::kDetecting && result.consensus.voters > 0;
      out.scores.push_back(scored ? result.consensus.anomalyScore : 0.0);
      if (scored) recorder.scored(out.scores.size() - 1, index, result);
      if (result.consensus.voters == 0) ++out.warmupSamples;
      for (AnomalyRecord& a : result.anomalies) out.anomalies.push_back(std::move(a));
    } catch (const pipeline::InvalidSample&) {
      out.scores.push_back(0.0);
      ++out.rejected;
    }
    ++done;
    if (advanced) advanced(done);
  }
  recorder.finish(stopped);

  out.modelVersions = pipeline.modelVersion(history.service);
  if (config.forecast && !(cancelled && cancelled()))
    out.forecast =
        replayForecasts(samples, firstIndex, lastIndex, *config.forecast, cancelled, [&](std::size_t forecasts) {
          if (advanced) advanced(done + kForecastWork * forecasts);
        });
  materializeAlerts(out.forecast, out.anomalies);
  const EpochSeconds rangeStart = out.timestamps.empty() ? config.from : out.timestamps.front();
  const EpochSeconds rangeEnd = out.timestamps.empty() ? config.from : out.timestamps.back();
  for (const LabelWindow& w : history.labels)
    if (w.end >= rangeStart && w.start <= rangeEnd) out.labels.push_back(w);
  for (const EpochSeconds t : history.falsePositives)
    if (t >= rangeStart && t <= rangeEnd) out.falsePositives.push_back(t);
  scoreService(config, out);
  return out;
}

ServiceBacktest redecideService(const ServiceHistory& history, const BacktestConfig& config,
                                const ServiceBacktest& replayed, const DetectionTrace& trace) {
  if (!trace.complete) throw std::invalid_argument("backtest: the detection trace is incomplete; replay instead");
  ServiceBacktest out = replayed;
  out.anomalies.clear();
  std::vector<detect::IsolationForest::Calibration> calibrations;
  for (const DetectionTrace::Model& m : trace.models)
    calibrations.push_back(
        detect::IsolationForest::calibrate(m.trainingScores, config.pipeline.anomaly.forest.contamination));
  const detect::ConsensusConfig& consensus = config.pipeline.consensus;
  for (const DetectionTrace::Step& step : trace.steps) {
    const detect::IsolationForest::Calibration& c = calibrations.at(step.model);
    detect::Votes votes = step.votes;
    votes.isolationForest = {true, c.isAnomaly(step.forestScore), c.confidence(step.forestScore)};
    out.scores.at(step.position) = detect::decide(votes, consensus).anomalyScore;
    if (auto record = detect::buildAnomalyRecord(history.samples.at(step.sample), votes,
                                                 trace.models[step.model].baseline, consensus))
      out.anomalies.push_back(std::move(*record));
  }
  materializeAlerts(out.forecast, out.anomalies);
  scoreService(config, out);
  return out;
}

BacktestResult runBacktest(std::span<const ServiceHistory> services, const BacktestConfig& config,
                           const BacktestCallbacks& callbacks) {
  pipeline::MlPipeline validateConfig(config.pipeline);  // throws for an invalid configuration, up front
  (void)validateConfig;
  if (config.forecast) validate(*config.forecast);
  BacktestResult result;
  result.services.resize(services.size());

  std::size_t total = 0;
  for (const ServiceHistory& h : services) total += workOf(h, config);
  std::atomic<std::size_t> processed{0};
  std::atomic<bool> stop{false};
  std::mutex progressMutex;
  auto cancelled = [&] {
    if (stop.load()) return true;
    if (callbacks.cancelled && callbacks.cancelled()) stop.store(true);
    return stop.load();
  };
  auto report = [&](std::size_t delta) {
    const std::size_t now = processed.fetch_add(delta) + delta;
    if (callbacks.progress && total > 0 && (now & 255) < delta) {
      const std::lock_guard<std::mutex> lock(progressMutex);
      callbacks.progress(static_cast<double>(now) / static_cast<double>(total));
    }
  };

  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failureMutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < services.size(); i = next++) {
      if (cancelled()) return;
      try {
        std::size_t last = 0;
        result.services[i] = replayService(services[i], config, cancelled, [&](std::size_t done) {
          report(done - last);
          last = done;
        });
        report(workOf(services[i], config) - last);  // the history part counts as done too
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failureMutex);
        if (!failure) failure = std::current_exception();
        stop.store(true);
      }
    }
  };
  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  const auto threads = static_cast<std::size_t>(config.threads > 0 ? static_cast<unsigned>(config.threads) : hardware);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < std::min(threads, services.size()); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  result.cancelled = stop.load();
  EpochSeconds first = std::numeric_limits<EpochSeconds>::max(), last = std::numeric_limits<EpochSeconds>::min();
  for (const ServiceBacktest& s : result.services) {
    result.detection.add(s.detection);
    result.forecast.add(s.forecast.score);
    for (const AnomalyRecord& a : s.anomalies)
      ++result.anomaliesPerDay[dayOf(a.timestamp)][static_cast<std::size_t>(a.severity)];
    if (!s.timestamps.empty()) {
      first = std::min(first, s.timestamps.front());
      last = std::max(last, s.timestamps.back());
    }
  }
  result.detection.finish();
  if (first <= last) {
    result.days = static_cast<int>((dayOf(last) - dayOf(first)) / kDay + 1);
    // Days with no anomaly are part of the range too (a quiet day is an answer).
    for (EpochSeconds d = dayOf(first); d <= dayOf(last); d += kDay) result.anomaliesPerDay.try_emplace(d);
    result.anomaliesPerDayMean = static_cast<double>(result.detection.anomalies) / result.days;
  }
  std::vector<eval::NabFile> files;
  for (const ServiceBacktest& s : result.services) {
    std::vector<std::pair<EpochSeconds, EpochSeconds>> windows;
    for (const LabelWindow& w : s.labels) windows.emplace_back(w.start, w.end);
    files.push_back({s.service, s.scores, eval::windowsToRows(s.timestamps, windows)});
  }
  result.nab = eval::scoreCorpus(files, eval::nabProfiles()[0]);
  if (callbacks.progress && !result.cancelled) callbacks.progress(1.0);
  return result;
}

}  // namespace stacklens::core::backtest
