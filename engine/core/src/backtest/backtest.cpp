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
  finish();
}

void DetectionScore::finish() {
  precision = anomalies > 0 ? static_cast<double>(trueAlarms) / anomalies : 0.0;
  recall = windows > 0 ? static_cast<double>(detectedWindows) / windows : 0.0;
  f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

DetectionScore scoreDetections(std::span<const EpochSeconds> anomalyTimes, std::span<const LabelWindow> windows,
                               EpochSeconds tolerance) {
  std::vector<LabelWindow> sorted(windows.begin(), windows.end());
  std::sort(sorted.begin(), sorted.end(), [](const LabelWindow& a, const LabelWindow& b) { return a.start < b.start; });
  std::vector<bool> detected(sorted.size(), false);
  DetectionScore score;
  score.anomalies = static_cast<int>(anomalyTimes.size());
  score.windows = static_cast<int>(sorted.size());
  for (EpochSeconds t : anomalyTimes) {
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
  score.finish();
  return score;
}

ServiceBacktest replayService(const ServiceHistory& history, const BacktestConfig& config,
                              const std::function<bool()>& cancelled,
                              const std::function<void(std::size_t)>& advanced) {
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

  pipeline::MlPipeline pipeline(config.pipeline);
  // Start-up: the daemon loads the recent history and trains on it. Rows the pipeline refuses are
  // left out (the daemon's history would never have stored them); they count as rejected.
  std::vector<ServiceMetrics> startup(samples.begin(), first);
  try {
    pipeline.train(history.service, startup);
  } catch (const pipeline::InvalidSample&) {
    std::vector<ServiceMetrics> clean;
    for (const ServiceMetrics& m : startup) {
      try {
        pipeline::MlPipeline check(config.pipeline);  // one sample never trains: a cheap validation
        check.train(history.service, std::span<const ServiceMetrics>(&m, 1));
        clean.push_back(m);
      } catch (const pipeline::InvalidSample&) {
        ++out.rejected;
      }
    }
    pipeline.train(history.service, clean);
  }

  const auto count = static_cast<std::size_t>(last - first);
  out.timestamps.reserve(count);
  out.scores.reserve(count);
  std::size_t done = 0;
  for (auto it = first; it != last; ++it) {
    if (cancelled && (done % 64 == 0) && cancelled()) break;
    out.timestamps.push_back(it->timestamp);
    try {
      pipeline::PipelineOutput result = pipeline.process(*it);
      out.scores.push_back(result.state == pipeline::ServiceState::kDetecting && result.consensus.voters > 0
                               ? result.consensus.anomalyScore
                               : 0.0);
      if (result.consensus.voters == 0) ++out.warmupSamples;
      for (AnomalyRecord& a : result.anomalies) out.anomalies.push_back(std::move(a));
    } catch (const pipeline::InvalidSample&) {
      out.scores.push_back(0.0);
      ++out.rejected;
    }
    ++done;
    if (advanced) advanced(done);
  }

  out.modelVersions = pipeline.modelVersion(history.service);
  if (config.forecast && !(cancelled && cancelled()))
    out.forecast =
        replayForecasts(samples, firstIndex, lastIndex, *config.forecast, cancelled, [&](std::size_t forecasts) {
          if (advanced) advanced(done + kForecastWork * forecasts);
        });
  const EpochSeconds rangeStart = out.timestamps.empty() ? config.from : out.timestamps.front();
  const EpochSeconds rangeEnd = out.timestamps.empty() ? config.from : out.timestamps.back();
  for (const LabelWindow& w : history.labels)
    if (w.end >= rangeStart && w.start <= rangeEnd) out.labels.push_back(w);
  std::vector<EpochSeconds> times;
  times.reserve(out.anomalies.size());
  for (const AnomalyRecord& a : out.anomalies) times.push_back(a.timestamp);
  out.detection = scoreDetections(times, out.labels, config.tolerance);
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
