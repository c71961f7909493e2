#pragma once
// CapacityPlanner (the original system's capacity forecaster, extended): how fast a resource's
// usage grows and when it will exhaust a capacity limit, from two models:
//   - an ordinary least-squares line (the original's model): growth rate with a standard error;
//   - damped-trend exponential smoothing, ETS(A,Ad,N) in the innovations state-space form of
//     Hyndman, Koehler, Ord & Snyder (2008), fitted by maximum likelihood: recent growth weighs
//     more, and the trend flattens unless the data say otherwise.
// Time to exhaustion comes with an interval from each model's forecast distribution, and the plan
// ends with recommendations in plain words.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stacklens/core/forecast/arima.h"

namespace stacklens::core::forecast {

/// y_t = intercept + slope * t (t = 0..n-1, in steps), by ordinary least squares.
struct LinearTrend {
  double intercept = 0;
  double slope = 0;            ///< units per step
  double slopeStdError = 0;
  double residualSigma = 0;    ///< sqrt(RSS / (n - 2))
  double rSquared = 0;
  int observations = 0;
};

/// Fits the line to the non-missing values. Throws std::invalid_argument with fewer than 3. O(n).
LinearTrend fitLinearTrend(std::span<const double> y);
/// Forecasts steps n..n+h-1 with OLS prediction intervals (Student t quantile approximated by the
/// normal one for n > 30; exact enough for capacity horizons).
ForecastPath forecastLinearTrend(const LinearTrend& model, int horizon, double levelPercent = 90);

/// ETS(A,Ad,N): y_t = l_{t-1} + phi b_{t-1} + e_t, l_t = l_{t-1} + phi b_{t-1} + alpha e_t,
/// b_t = phi b_{t-1} + beta e_t, with 0 < beta < alpha < 1 and 0.8 <= phi <= 0.98 (R ets bounds).
struct DampedTrendModel {
  double alpha = 0.5, beta = 0.1, phi = 0.95;
  double initialLevel = 0, initialTrend = 0;
  double level = 0, trend = 0;  ///< states after the last observation
  double sigma2 = 0;            ///< sum of squared errors / (n - parameters), as R's ets
  double logLikelihood = 0;     ///< -n/2 log(SSE) (R ets' convention for additive errors)
  int observations = 0;
  int seriesLength = 0;
};

/// Fits by maximum likelihood (L-BFGS-B from LBFGSpp; initial states from a line through the first
/// observations, then optimised). Missing values skip the update (the error is taken as 0).
/// Throws std::invalid_argument with fewer than 4 observed values. O(n) per evaluation.
DampedTrendModel fitDampedTrend(std::span<const double> y);
/// Runs the model with the given parameters and initial states over y (states, sigma2, likelihood).
DampedTrendModel evaluateDampedTrend(std::span<const double> y, double alpha, double beta, double phi,
                                     double initialLevel, double initialTrend);
/// Forecast with variance sigma2 (1 + sum_{j<h} (alpha + beta (phi + ... + phi^j))^2).
ForecastPath forecastDampedTrend(const DampedTrendModel& model, int horizon, double levelPercent = 90);

/// When a forecast crosses a limit: the step at which the mean crosses, and the interval from the
/// steps at which the upper and the lower band cross (latest absent when the lower band stays below
/// within the horizon). Steps are 1-based, counted after the last observation.
struct Exhaustion {
  std::optional<int> expected;
  std::optional<int> earliest;
  std::optional<int> latest;
};
Exhaustion exhaustionFromForecast(const ForecastPath& path, double capacity);

enum class CapacityStatus { kOk, kWatch, kWarning, kCritical, kExhausted };

struct CapacityOptions {
  double capacity = 0;            ///< the limit, in the units of the series
  double stepHours = 1;           ///< duration of one step, for the words of the plan
  int horizon = 24 * 30;          ///< steps to look ahead
  double levelPercent = 90;       ///< interval level of the exhaustion times
  double warningUtilisation = 0.8;  ///< current/capacity at which to warn even without growth
  /// Seasonal period in steps (24 for hourly data). When >= 2 and the series holds two periods, the
  /// models are fitted to the STL-adjusted series and the last seasonal cycle is added back, so the
  /// daily peak - not the average - decides when the limit is reached.
  int period = 1;
};

struct CapacityPlan {
  double current = 0;             ///< last observed value
  std::vector<double> seasonalCycle;  ///< added to the trend models' forecasts (empty without a period)
  double utilisation = 0;         ///< current / capacity
  LinearTrend linear;
  DampedTrendModel damped;
  double growthPerStep = 0;       ///< linear slope
  double growthPercentPerDay = 0; ///< slope per day relative to the current value
  Exhaustion linearExhaustion;
  Exhaustion dampedExhaustion;
  CapacityStatus status = CapacityStatus::kOk;
  std::vector<std::string> recommendations;  ///< plain-words advice, most urgent first
};

/// Plans capacity for a usage series (equally spaced, NaN = missing). Throws std::invalid_argument
/// for capacity <= 0 or fewer than 4 observed values. O(n) + O(horizon).
CapacityPlan planCapacity(std::span<const double> usage, const CapacityOptions& options);

std::string toString(CapacityStatus status);

}  // namespace stacklens::core::forecast
