#include "stacklens/ui/tuning/tuning_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>

#include "stacklens/core/backtest/forecast_replay.h"
#include "stacklens/core/forecast/capacity_planner.h"

namespace stacklens::ui {
namespace {

namespace fc = core::forecast;

// What a fitted model depends on besides the data: a different key means a new fit.
std::string modelKey(const core::backtest::ForecastConfig& c) {
  return (c.order ? c.order->toString() : std::string("auto")) + "/s" + std::to_string(c.period) + "/w" +
         std::to_string(c.fitWindow);
}

const TuningCache::Fitted* lookup(const TuningCache& cache, const std::string& metric, const std::string& key) {
  if (const auto it = cache.models.find(metric); it != cache.models.end() && it->second.key == key) return &it->second;
  for (const auto& [m, fitted] : cache.earlier)
    if (m == metric && fitted.key == key) return &fitted;
  return nullptr;
}

// Keeps `fitted` as the metric's model; the one it replaces goes to the front of `earlier`.
void keep(TuningCache& cache, const std::string& metric, TuningCache::Fitted fitted) {
  auto& slot = cache.models[metric];
  if (slot.key == fitted.key) {
    slot = std::move(fitted);
    return;
  }
  auto& earlier = cache.earlier;
  earlier.erase(std::remove_if(earlier.begin(), earlier.end(),
                               [&](const auto& e) { return e.first == metric && e.second.key == fitted.key; }),
                earlier.end());
  if (!slot.key.empty()) earlier.insert(earlier.begin(), {metric, std::move(slot)});
  if (earlier.size() > TuningCache::kKeptEarlierFits) earlier.resize(TuningCache::kKeptEarlierFits);
  slot = std::move(fitted);
}

// What a metric's drawn forecast depends on besides its model: a different key means drawing anew.
std::string outcomeKey(const std::string& metric, const ForecastSettings& settings,
                       const core::backtest::ForecastConfig& forecast) {
  auto limit = [&](const std::map<std::string, double>& limits) {
    const auto it = limits.find(metric);
    char text[32] = "none";
    if (it != limits.end()) std::snprintf(text, sizeof text, "%.17g", it->second);
    return std::string(text);
  };
  char text[96];
  std::snprintf(text, sizeof text, "/h%d/l%.17g/p%.17g/n%d/", forecast.horizon, forecast.level,
                forecast.alertProbability, forecast.simulations);
  return modelKey(forecast) + text + "t" + limit(settings.thresholds) + "/c" + limit(settings.capacity);
}

core::EpochSeconds stepOf(const ServiceData& data) {
  const auto& t = data.timestamps;
  return t.size() >= 2 && t[t.size() - 1] > t[t.size() - 2] ? t[t.size() - 1] - t[t.size() - 2] : 3600;
}

// The capacity projection of the model that runs out first (the plan's own rule), drawn over
// kCapacityHorizonHours with the last seasonal cycle added back.
CapacityProjection projectCapacity(std::span<const double> y, double limit, double level, core::EpochSeconds last,
                                   core::EpochSeconds step, int period) {
  fc::CapacityOptions options;
  options.capacity = limit;
  options.horizon = kCapacityHorizonHours;
  options.levelPercent = level;
  options.stepHours = static_cast<double>(step) / 3600.0;
  options.period = period;
  const fc::CapacityPlan plan = fc::planCapacity(y, options);
  const bool linearFirst =
      plan.linearExhaustion.expected &&
      (!plan.dampedExhaustion.expected || *plan.linearExhaustion.expected < *plan.dampedExhaustion.expected);
  const fc::ForecastPath path = linearFirst ? fc::forecastLinearTrend(plan.linear, options.horizon, level)
                                            : fc::forecastDampedTrend(plan.damped, options.horizon, level);
  const fc::Exhaustion& exhaustion = linearFirst ? plan.linearExhaustion : plan.dampedExhaustion;
  CapacityProjection p;
  p.limit = limit;
  for (std::size_t h = 0; h < path.mean.size(); ++h) {
    const double season = plan.seasonalCycle.empty() ? 0.0 : plan.seasonalCycle[h % plan.seasonalCycle.size()];
    p.t.push_back(last + static_cast<core::EpochSeconds>(h + 1) * step);
    p.value.push_back(path.mean[h] + season);
  }
  if (exhaustion.expected) p.exhaustionAt = last + *exhaustion.expected * step;
  return p;
}

// One shown metric's forecast, breach window and capacity projection.
struct MetricOutcome : ForecastOutcome {
  std::string metric;
  std::optional<TuningCache::Fitted> fitted;
};

MetricOutcome forecastMetric(const ServiceData& data, const std::string& metric, const TuningConfig& config,
                             const core::backtest::ForecastConfig& forecast, const TuningCache::Fitted* fitted) {
  MetricOutcome out;
  out.metric = metric;
  const std::span<const double> y = data.column(metric);
  const std::string key = modelKey(forecast);
  try {
    out.fitted = fitted ? *fitted : TuningCache::Fitted{key, core::backtest::fitForecastModel(y, forecast)};
  } catch (const std::invalid_argument& e) {
    out.note = " · " + metric + ": no forecast (" + e.what() + ")";
    return out;
  }
  const fc::ArimaModel& model = out.fitted->model;
  const core::EpochSeconds step = stepOf(data);
  const core::EpochSeconds last = data.timestamps.back();
  const fc::ForecastPath path = fc::forecastArima(model, forecast.horizon, forecast.level);
  ForecastBand band;
  band.level = forecast.level;
  for (std::size_t h = 0; h < path.mean.size(); ++h)
    band.t.push_back(last + static_cast<core::EpochSeconds>(h + 1) * step);
  band.mean = path.mean;
  band.lower = path.lower;
  band.upper = path.upper;
  // A metric that was never negative (rates, latencies, counts) cannot become so: the Gaussian
  // interval is cut at zero for the chart.
  if (std::none_of(y.begin(), y.end(), [](double v) { return v < 0; })) {
    for (double& v : band.mean) v = std::max(v, 0.0);
    for (double& v : band.lower) v = std::max(v, 0.0);
  }
  out.band = std::move(band);
  out.note = " · " + metric + " " + model.describe();

  if (const auto t = forecast.thresholds.find(metric); t != forecast.thresholds.end()) {
    const fc::BreachPrediction breach = core::backtest::predictThresholdBreach(model, forecast, t->second);
    if (breach.windowStart && breach.probability >= forecast.alertProbability) {
      out.breach = BreachWindow{last + *breach.windowStart * step, last + *breach.windowEnd * step, breach.probability};
      char text[64];
      std::snprintf(text, sizeof text, ", breach %.0f %%", 100 * breach.probability);
      out.note += text;
    }
  }
  if (const auto c = config.forecast.capacity.find(metric); c != config.forecast.capacity.end() && c->second > 0) {
    try {
      out.capacity = projectCapacity(y, c->second, forecast.level, last, step, forecast.period);
    } catch (const std::invalid_argument& e) {
      out.note += ", capacity: " + std::string(e.what());
    }
  }
  return out;
}

}  // namespace

core::backtest::ServiceHistory toServiceHistory(const ServiceData& data) {
  core::backtest::ServiceHistory h;
  h.service = data.name;
  h.samples = data.samples();
  for (const LabelWindow& w : data.labels) h.labels.push_back({w.start, w.end});
  return h;
}

ServiceResults runTuning(const ServiceData& data, const TuningConfig& config, const std::function<bool()>& cancelled,
                         const TuningRequest& request) {
  const auto begin = std::chrono::steady_clock::now();
  ServiceResults results;
  TuningCache scratch;
  TuningCache& next = request.next ? *request.next : scratch;
  const TuningCache* previous = request.previous.get();
  if (previous && previous->data.get() != &data) previous = nullptr;  // another service or reloaded data
  if (previous) {                                                     // metrics not shown now stay fitted for later
    next.models = previous->models;
    next.earlier = previous->earlier;
  }

  // The forecasts run on their own threads (one per shown metric) while detection runs here: the
  // engine's parts are independent values.
  const core::backtest::ForecastConfig forecast = forecastConfig(config.forecast);
  core::backtest::validate(forecast);
  const std::string key = modelKey(forecast);
  std::vector<std::future<MetricOutcome>> forecasts;
  for (const std::string& metric : request.forecastMetrics) {
    if (data.rowCount() == 0 || data.metricIndex(metric) < 0) continue;
    const TuningCache::Fitted* fitted = previous ? lookup(*previous, metric, key) : nullptr;
    if (fitted) {
      const auto drawn = previous->outcomes.find(metric);
      if (drawn != previous->outcomes.end() && drawn->second.first == outcomeKey(metric, config.forecast, forecast)) {
        std::promise<MetricOutcome> reused;
        MetricOutcome outcome;
        static_cast<ForecastOutcome&>(outcome) = drawn->second.second;
        outcome.metric = metric;
        outcome.fitted = *fitted;
        reused.set_value(std::move(outcome));
        forecasts.push_back(reused.get_future());
        continue;
      }
    }
    forecasts.push_back(std::async(std::launch::async, [&data, metric, &config, &forecast, fitted] {
      return forecastMetric(data, metric, config, forecast, fitted);
    }));
  }

  // Detection: the production pipeline over the whole history, unless the same settings ran
  // already or only the verdicts' settings changed (see the file comment of tuning_job.h).
  if (previous && previous->detectedWith && sameDetection(*previous->detectedWith, config)) {
    next.detection = previous->detection;
    next.trace = previous->trace;
    next.detectedWith = previous->detectedWith;
  } else if (data.rowCount() > 0) {
    const core::backtest::ServiceHistory history = toServiceHistory(data);
    core::backtest::BacktestConfig backtest;
    backtest.pipeline = config.detection;
    const auto startup = std::min(history.samples.size(), static_cast<std::size_t>(config.detection.historyCapacity));
    backtest.startupSamples = static_cast<int>(startup);
    if (previous && previous->trace && previous->trace->complete && previous->detectedWith &&
        sameDetectionModels(*previous->detectedWith, config)) {
      next.detection = core::backtest::redecideService(history, backtest, previous->detection, *previous->trace);
      next.trace = previous->trace;
    } else {
      auto trace = std::make_shared<core::backtest::DetectionTrace>();
      next.detection = core::backtest::replayService(history, backtest, cancelled, {}, trace.get());
      next.trace = std::move(trace);
    }
    next.detectedWith = config;
  }
  results.anomalies = next.detection.anomalies;
  for (const auto& [metric, threshold] : config.forecast.thresholds)
    if (data.metricIndex(metric) >= 0) results.thresholds[metric] = threshold;

  std::string forecastNote;
  for (std::future<MetricOutcome>& f : forecasts) {
    MetricOutcome outcome = f.get();  // rethrows what the engine threw
    forecastNote += outcome.note;
    if (outcome.band) results.forecasts[outcome.metric] = *outcome.band;
    if (outcome.breach) results.breaches[outcome.metric] = *outcome.breach;
    if (outcome.capacity) results.capacity[outcome.metric] = *outcome.capacity;
    if (outcome.fitted) {
      next.outcomes[outcome.metric] = {outcomeKey(outcome.metric, config.forecast, forecast),
                                       static_cast<ForecastOutcome>(outcome)};
      keep(next, outcome.metric, std::move(*outcome.fitted));
    }
  }

  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  char note[160];
  std::snprintf(note, sizeof note, "%zu anomalies in %zu replayed hours", next.detection.anomalies.size(),
                next.detection.timestamps.size());
  results.note = note + forecastNote;
  std::snprintf(note, sizeof note, " · %.0f ms", ms);
  results.note += note;
  return results;
}

}  // namespace stacklens::ui
