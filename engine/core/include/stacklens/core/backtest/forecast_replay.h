#pragma once
// The predictive alerter's forecasting step and its backtest: forecast a service metric with a
// (seasonal) ARIMA model of fixed or automatic orders, predict whether it breaches its threshold
// within the horizon, and - replayed over recorded history - score the forecasts (sMAPE, MASE,
// interval coverage, as the M4 competition does) and the predictive alerts (how many materialized).
// Pure: data in, results out. The workbench's metric view and its backtest use the same functions.
//
// Rolling-origin replay, per service and metric:
//   - forecast origins are the replayed samples at indices first, first + originEvery, ... (an
//     origin's forecast uses that sample and the fitWindow - 1 before it) that have horizon samples
//     after them;
//   - automatic orders are chosen once, at the first origin, and kept (re-running the order
//     search at each origin would cost 10-40 fits instead of one, and orders of hourly service
//     metrics hardly change within a replay); the coefficients are refitted every refitEvery-th
//     origin, and in between the last fit is applied to the moved window (forecast::refilterArima:
//     one filter pass instead of an optimisation), as a forecasting service refits periodically;
//   - each forecast is scored against the next horizon samples: sMAPE and MASE per forecast
//     (eval/forecast_metrics.h, MASE scaled by the seasonal naive error of the fitted window), the
//     coverage over all (origin, step) pairs;
//   - a predictive alert is raised when P(breach within the horizon) >= alertProbability and the
//     breach prediction gives a window (inclusive, its first to its last predicted step); whether it
//     materialized is decided by materializeAlerts from the service's anomalies, with the predictive
//     alerter's rule (pipeline/alert_materialization.h). Materialization rate = materialized / alerts.

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/forecast/arima.h"
#include "stacklens/core/forecast/breach_prediction.h"
#include "stacklens/core/records.h"

namespace stacklens::core::backtest {

/// How a metric is forecast and when a predictive alert is raised.
struct ForecastConfig {
  /// Fixed orders (period taken from order.period), or nullopt for automatic orders
  /// (forecast::autoArima with `period`).
  std::optional<forecast::ArimaOrder> order;
  int period = 24;    ///< seasonal period of automatic orders, in samples (24: daily cycle of hourly data)
  int horizon = 24;   ///< steps ahead, >= 1
  double level = 90;  ///< prediction interval level, percent, (0, 100)
  /// Breach thresholds per metric (core::kFeatureNames); a breach is the metric rising above it.
  std::map<std::string, double> thresholds;
  /// Metrics the backtest forecasts; empty: the metrics that have a threshold.
  std::vector<std::string> metrics;
  int fitWindow = 14 * 24;  ///< models are fitted to the last fitWindow samples (>= 2 periods for seasonal orders)
  int originEvery = 24;     ///< samples between forecast origins in a backtest, >= 1
  int refitEvery = 7;       ///< origins between coefficient refits in a backtest (1: every origin), >= 1
  double alertProbability = 0.5;  ///< raise an alert when P(breach within the horizon) >= this
  int simulations = 1000;         ///< simulated paths of the breach prediction
  std::uint64_t seed = 1;         ///< breach simulation seed: same inputs, same outputs
  /// Time bound of one automatic order search; 0 = none. A bound makes the chosen orders depend on
  /// the machine's speed, so backtests and tests leave it at 0.
  double searchSeconds = 0;
};

/// Throws std::invalid_argument naming the field that is out of range.
void validate(const ForecastConfig& config);

/// The model for the last config.fitWindow values of `history` (NaN = missing): the fixed orders,
/// or - with automatic orders - the orders of `keepOrdersOf` when given (coefficients refitted),
/// else an automatic order search. Throws std::invalid_argument when the window has too few
/// observed values for the model. Cost: one fit, or an order search (10-40 fits).
forecast::ArimaModel fitForecastModel(std::span<const double> history, const ForecastConfig& config,
                                      const forecast::ArimaModel* keepOrdersOf = nullptr);

/// P(breach of `threshold` within config.horizon) and its window, by simulating the model
/// (config.simulations paths, config.seed). O(simulations * horizon * state size).
forecast::BreachPrediction predictThresholdBreach(const forecast::ArimaModel& model, const ForecastConfig& config,
                                                  double threshold);

/// The value of a metric (one of core::kFeatureNames) in a sample; NaN for an unknown name.
double metricValue(const ServiceMetrics& sample, std::string_view metric);

/// One predictive alert raised during a replay.
struct ReplayedAlert {
  std::string metric;
  EpochSeconds origin = 0;                      ///< time of the last sample the forecast used
  EpochSeconds windowStart = 0, windowEnd = 0;  ///< predicted breach window (sample times, inclusive)
  double probability = 0;
  double threshold = 0;       ///< the metric's threshold the alert predicts a breach of
  bool materialized = false;  ///< set by materializeAlerts
};

/// Forecast accuracy and alert outcomes; sums so that services add up (micro-averages).
struct ForecastScore {
  int forecasts = 0;    ///< (origin, metric) forecasts scored
  double smapeSum = 0;  ///< sum of per-forecast sMAPE (percent)
  double maseSum = 0;   ///< sum of per-forecast MASE (forecasts with a zero MASE scale are left out)
  int maseForecasts = 0;
  int points = 0, covered = 0;  ///< (origin, step) pairs, and those inside the interval
  int alerts = 0, materialized = 0;
  int failedFits = 0;  ///< origins whose model could not be fitted (skipped)

  double smape() const { return forecasts > 0 ? smapeSum / forecasts : std::numeric_limits<double>::quiet_NaN(); }
  double mase() const { return maseForecasts > 0 ? maseSum / maseForecasts : std::numeric_limits<double>::quiet_NaN(); }
  double coverage() const {
    return points > 0 ? static_cast<double>(covered) / points : std::numeric_limits<double>::quiet_NaN();
  }
  double materializationRate() const {
    return alerts > 0 ? static_cast<double>(materialized) / alerts : std::numeric_limits<double>::quiet_NaN();
  }
  void add(const ForecastScore& other);
};

struct ForecastReplay {
  ForecastScore score;
  std::vector<ReplayedAlert> alerts;                   ///< in origin order, metric by metric
  std::map<std::string, forecast::ArimaOrder> orders;  ///< the orders used per metric
};

/// Replays forecasts over samples[first, last) (indices into `samples`, one service, oldest first;
/// samples before `first` are history the first models may use); no alert is materialized yet
/// (materializeAlerts). `cancelled` is polled between
/// origins; `advanced` is told how many forecasts of `forecastCount(...)` are done.
/// Throws std::invalid_argument for an invalid configuration.
ForecastReplay replayForecasts(std::span<const ServiceMetrics> samples, std::size_t first, std::size_t last,
                               const ForecastConfig& config, const std::function<bool()>& cancelled = {},
                               const std::function<void(std::size_t done)>& advanced = {});

/// Decides (again) which alerts of `replay` materialized, by the predictive alerter's rule
/// (pipeline::materializes), from the anomalies the detection found for the same service, and
/// counts them in replay.score.materialized. O(alerts · log anomalies + matches); `anomalies`
/// in time order, as a replay produces them.
void materializeAlerts(ForecastReplay& replay, std::span<const AnomalyRecord> anomalies);

/// How many forecasts replayForecasts makes for these indices (for progress).
std::size_t forecastCount(std::size_t samples, std::size_t first, std::size_t last, const ForecastConfig& config);

}  // namespace stacklens::core::backtest
