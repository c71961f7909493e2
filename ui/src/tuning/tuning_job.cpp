#include "stacklens/ui/tuning/tuning_job.h"

#include <chrono>
#include <cstdio>

namespace stacklens::ui {

core::backtest::ServiceHistory toServiceHistory(const ServiceData& data) {
  core::backtest::ServiceHistory h;
  h.service = data.name;
  h.samples = data.samples();
  for (const LabelWindow& w : data.labels) h.labels.push_back({w.start, w.end});
  return h;
}

ServiceResults runTuning(const ServiceData& data, const TuningConfig& config, const std::function<bool()>& cancelled) {
  const auto begin = std::chrono::steady_clock::now();
  ServiceResults results;
  const core::backtest::ServiceHistory history = toServiceHistory(data);
  if (history.samples.empty()) return results;
  core::backtest::BacktestConfig backtest;
  backtest.pipeline = config.detection;
  const auto startup = std::min(history.samples.size(), static_cast<std::size_t>(config.detection.historyCapacity));
  backtest.startupSamples = static_cast<int>(startup);
  const core::backtest::ServiceBacktest replay = core::backtest::replayService(history, backtest, cancelled);
  results.anomalies = replay.anomalies;
  for (const auto& [metric, threshold] : config.forecast.thresholds)
    if (data.metricIndex(metric) >= 0) results.thresholds[metric] = threshold;
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  char note[160];
  std::snprintf(note, sizeof note, "%zu anomalies in %zu replayed hours (trained on %zu) · %.0f ms",
                replay.anomalies.size(), replay.timestamps.size(), startup, ms);
  results.note = note;
  return results;
}

}  // namespace stacklens::ui
