#include "stacklens/core/backtest/forecast_replay.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "stacklens/core/eval/forecast_metrics.h"
#include "stacklens/core/forecast/auto_arima.h"
#include "stacklens/core/pipeline/alert_materialization.h"

namespace stacklens::core::backtest {
namespace {

// The part of the history a model is fitted to.
std::span<const double> fitWindowOf(std::span<const double> history, const ForecastConfig& config) {
  return history.last(std::min(history.size(), static_cast<std::size_t>(std::max(config.fitWindow, 1))));
}

}  // namespace

void validate(const ForecastConfig& c) {
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("forecast configuration: ") + what);
  };
  require(c.horizon >= 1, "horizon must be at least 1");
  require(c.level > 0 && c.level < 100, "level must lie in (0, 100)");
  require(c.period >= 1, "period must be at least 1");
  require(c.fitWindow >= 3, "fit_window must be at least 3");
  require(c.originEvery >= 1, "origin_every must be at least 1");
  require(c.refitEvery >= 1, "refit_every must be at least 1");
  require(c.alertProbability > 0 && c.alertProbability <= 1, "alert_probability must lie in (0, 1]");
  require(c.simulations >= 1, "simulations must be at least 1");
  if (c.order) {
    const forecast::ArimaOrder& o = *c.order;
    require(o.p >= 0 && o.d >= 0 && o.q >= 0 && o.P >= 0 && o.D >= 0 && o.Q >= 0, "orders must not be negative");
    require(o.period >= 1, "the order's period must be at least 1");
  }
}

forecast::ArimaModel fitForecastModel(std::span<const double> history, const ForecastConfig& config,
                                      const forecast::ArimaModel* keepOrdersOf) {
  const std::span<const double> window = fitWindowOf(history, config);
  if (config.order || keepOrdersOf) {
    forecast::ArimaSpec spec;
    spec.order = config.order ? *config.order : keepOrdersOf->order;
    if (!config.order) spec.includeConstant = keepOrdersOf->constant != forecast::ArimaConstant::kNone;
    return forecast::fitArima(window, spec);
  }
  forecast::AutoArimaOptions options;
  options.period = config.period;
  options.timeLimitSeconds = config.searchSeconds;
  return forecast::autoArima(window, options).model;
}

forecast::BreachPrediction predictThresholdBreach(const forecast::ArimaModel& model, const ForecastConfig& config,
                                                  double threshold) {
  forecast::BreachOptions options;
  options.threshold = threshold;
  options.direction = forecast::BreachDirection::kAbove;
  options.simulations = config.simulations;
  options.seed = config.seed;
  return forecast::predictBreach(model, config.horizon, options);
}

double metricValue(const ServiceMetrics& sample, std::string_view metric) {
  const auto index = featureIndex(metric);
  return index ? sample.features()[*index] : std::nan("");
}

void ForecastScore::add(const ForecastScore& o) {
  forecasts += o.forecasts;
  smapeSum += o.smapeSum;
  maseSum += o.maseSum;
  maseForecasts += o.maseForecasts;
  points += o.points;
  covered += o.covered;
  alerts += o.alerts;
  materialized += o.materialized;
  failedFits += o.failedFits;
}

namespace {

std::vector<std::string> forecastMetrics(const ForecastConfig& config) {
  if (!config.metrics.empty()) return config.metrics;
  std::vector<std::string> out;
  for (const auto& [metric, threshold] : config.thresholds) out.push_back(metric);
  return out;
}

// Origins are every originEvery-th index from `first` with a whole horizon left before `last`.
std::size_t originsIn(std::size_t first, std::size_t last, const ForecastConfig& config) {
  const auto h = static_cast<std::size_t>(config.horizon);
  if (last <= first + h) return 0;
  return (last - h - first - 1) / static_cast<std::size_t>(config.originEvery) + 1;
}

}  // namespace

std::size_t forecastCount(std::size_t samples, std::size_t first, std::size_t last, const ForecastConfig& config) {
  last = std::min(last, samples);
  return first >= last ? 0 : originsIn(first, last, config) * forecastMetrics(config).size();
}

ForecastReplay replayForecasts(std::span<const ServiceMetrics> samples, std::size_t first, std::size_t last,
                               const ForecastConfig& config, const std::function<bool()>& cancelled,
                               const std::function<void(std::size_t)>& advanced) {
  validate(config);
  ForecastReplay out;
  last = std::min(last, samples.size());
  if (first >= last) return out;
  const std::size_t origins = originsIn(first, last, config);
  const auto h = static_cast<std::size_t>(config.horizon);
  const int period = std::max(config.order ? config.order->period : config.period, 1);
  std::size_t done = 0;
  for (const std::string& metric : forecastMetrics(config)) {
    std::vector<double> y(samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i) y[i] = metricValue(samples[i], metric);
    const auto threshold = config.thresholds.find(metric);
    std::optional<forecast::ArimaModel> chosen;  // automatic orders: found once, then kept
    std::optional<forecast::ArimaModel> fitted;  // the last fit, applied to later windows until the next refit
    // One forecast from the k-th origin (the sample at index `origin`), scored against the horizon after it.
    auto forecastAt = [&](std::size_t k, std::size_t origin) {
      const std::span<const double> history(y.data(), origin + 1);
      const std::span<const double> window = fitWindowOf(history, config);
      const std::span<const double> actual(y.data() + origin + 1, h);
      forecast::ArimaModel model;
      try {
        if (fitted && k % static_cast<std::size_t>(config.refitEvery) != 0) {
          model = forecast::refilterArima(*fitted, window);
        } else {
          model = fitForecastModel(history, config, chosen ? &*chosen : nullptr);
          fitted = model;
        }
      } catch (const std::invalid_argument&) {
        ++out.score.failedFits;
        return;
      }
      if (!chosen) {
        chosen = model;
        out.orders[metric] = model.order;
      }
      const forecast::ForecastPath path = forecast::forecastArima(model, config.horizon, config.level);
      ForecastScore& s = out.score;
      ++s.forecasts;
      s.smapeSum += eval::smape(actual, path.mean);
      if (eval::maseScale(window, period) > 0) {
        s.maseSum += eval::mase(window, actual, path.mean, period);
        ++s.maseForecasts;
      }
      for (std::size_t j = 0; j < h; ++j) {
        ++s.points;
        s.covered += actual[j] >= path.lower[j] && actual[j] <= path.upper[j];
      }
      if (threshold == config.thresholds.end()) return;
      const forecast::BreachPrediction breach = predictThresholdBreach(model, config, threshold->second);
      if (breach.probability < config.alertProbability || !breach.windowStart) return;
      ReplayedAlert alert;
      alert.metric = metric;
      alert.origin = samples[origin].timestamp;
      const auto from = static_cast<std::size_t>(*breach.windowStart);
      const auto to = static_cast<std::size_t>(*breach.windowEnd);
      alert.windowStart = samples[origin + from].timestamp;
      alert.windowEnd = samples[origin + to].timestamp;
      alert.probability = breach.probability;
      alert.threshold = threshold->second;
      ++s.alerts;
      out.alerts.push_back(std::move(alert));
    };
    for (std::size_t k = 0; k < origins; ++k) {
      if (cancelled && cancelled()) return out;
      forecastAt(k, first + k * static_cast<std::size_t>(config.originEvery));
      if (advanced) advanced(++done);
    }
  }
  return out;
}

void materializeAlerts(ForecastReplay& replay, std::span<const AnomalyRecord> anomalies) {
  replay.score.materialized = 0;
  for (ReplayedAlert& alert : replay.alerts) {
    const pipeline::PredictedBreach breach{alert.metric, alert.threshold, alert.windowStart, alert.windowEnd};
    auto it = std::lower_bound(anomalies.begin(), anomalies.end(), alert.windowStart,
                               [](const AnomalyRecord& a, EpochSeconds t) { return a.timestamp < t; });
    alert.materialized = false;
    for (; it != anomalies.end() && it->timestamp <= alert.windowEnd && !alert.materialized; ++it)
      alert.materialized = pipeline::materializes(breach, *it);
    replay.score.materialized += alert.materialized;
  }
}

}  // namespace stacklens::core::backtest
