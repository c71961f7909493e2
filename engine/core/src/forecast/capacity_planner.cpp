#include "stacklens/core/forecast/capacity_planner.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "forecast/normal.h"
#include "forecast/optimizer.h"
#include "forecast/series_utils.h"
#include "stacklens/core/forecast/decomposition.h"

namespace stacklens::core::forecast {

namespace {

constexpr double kMinAlpha = 1e-4, kMaxAlpha = 0.9999;
constexpr double kMinPhi = 0.8, kMaxPhi = 0.98;

int observedCount(std::span<const double> y) {
  return static_cast<int>(std::count_if(y.begin(), y.end(), [](double v) { return !std::isnan(v); }));
}

std::string formatDuration(double hours) {
  std::ostringstream out;
  out.precision(hours < 10 ? 2 : 3);
  if (hours < 48)
    out << hours << " hours";
  else
    out << hours / 24.0 << " days";
  return out.str();
}

}  // namespace

LinearTrend fitLinearTrend(std::span<const double> y) {
  LinearTrend out;
  double sumT = 0, sumY = 0;
  int n = 0;
  for (std::size_t t = 0; t < y.size(); ++t)
    if (!std::isnan(y[t])) sumT += static_cast<double>(t), sumY += y[t], ++n;
  if (n < 3) throw std::invalid_argument("a linear trend needs at least 3 observed values");
  const double meanT = sumT / n, meanY = sumY / n;
  double stt = 0, sty = 0, syy = 0;
  for (std::size_t t = 0; t < y.size(); ++t) {
    if (std::isnan(y[t])) continue;
    const double dt = static_cast<double>(t) - meanT, dy = y[t] - meanY;
    stt += dt * dt;
    sty += dt * dy;
    syy += dy * dy;
  }
  out.observations = n;
  out.slope = sty / stt;
  out.intercept = meanY - out.slope * meanT;
  const double rss = std::max(syy - out.slope * sty, 0.0);
  out.residualSigma = std::sqrt(rss / (n - 2));
  out.slopeStdError = out.residualSigma / std::sqrt(stt);
  out.rSquared = syy > 0 ? 1.0 - rss / syy : 1.0;
  return out;
}

ForecastPath forecastLinearTrend(const LinearTrend& model, int horizon, double levelPercent) {
  ForecastPath path;
  path.level = levelPercent;
  const double z = detail::normalQuantile(0.5 + levelPercent / 200.0);
  const double n = model.observations;
  // Variance of a new observation at time x: sigma^2 (1 + 1/n) + (x - mean t)^2 se(slope)^2, with
  // the series assumed complete (mean t = (n - 1) / 2) for the interval.
  const double meanT = (n - 1) / 2.0;
  for (int h = 1; h <= horizon; ++h) {
    const double x = n - 1 + h;
    const double mean = model.intercept + model.slope * x;
    const double se = std::sqrt(model.residualSigma * model.residualSigma * (1 + 1 / n) +
                                (x - meanT) * (x - meanT) * model.slopeStdError * model.slopeStdError);
    path.mean.push_back(mean);
    path.standardError.push_back(se);
    path.lower.push_back(mean - z * se);
    path.upper.push_back(mean + z * se);
  }
  return path;
}

DampedTrendModel evaluateDampedTrend(std::span<const double> y, double alpha, double beta, double phi,
                                     double initialLevel, double initialTrend) {
  DampedTrendModel m;
  m.alpha = alpha;
  m.beta = beta;
  m.phi = phi;
  m.initialLevel = initialLevel;
  m.initialTrend = initialTrend;
  double level = initialLevel, trend = initialTrend, sse = 0;
  int n = 0;
  for (double value : y) {
    const double forecast = level + phi * trend;
    const double error = std::isnan(value) ? 0.0 : value - forecast;
    if (!std::isnan(value)) sse += error * error, ++n;
    level = forecast + alpha * error;
    trend = phi * trend + beta * error;
  }
  m.level = level;
  m.trend = trend;
  m.observations = n;
  m.seriesLength = static_cast<int>(y.size());
  constexpr int kParameters = 5;  // alpha, beta, phi, initial level and trend
  m.sigma2 = sse / std::max(n - kParameters, 1);
  m.logLikelihood = -0.5 * n * std::log(std::max(sse, 1e-300));
  return m;
}

DampedTrendModel fitDampedTrend(std::span<const double> y) {
  const int n = observedCount(y);
  if (n < 4) throw std::invalid_argument("damped-trend smoothing needs at least 4 observed values");
  // Initial states from a line through the first (up to) ten observations.
  std::vector<double> head;
  for (double v : y) {
    head.push_back(v);
    if (observedCount(head) >= 10) break;
  }
  const LinearTrend start = fitLinearTrend(head);
  double scale = fitLinearTrend(y).residualSigma;
  if (!(scale > 0)) scale = std::max(std::abs(start.intercept), 1.0) * 1e-3;
  // Parameters: alpha, beta / alpha, phi, and the initial states in units of the residual scale.
  auto unpack = [&](const Eigen::VectorXd& x) {
    return std::array<double, 5>{x[0], x[0] * x[1], x[2], start.intercept + x[3] * scale, start.slope + x[4] * scale};
  };
  auto objective = [&](const Eigen::VectorXd& x) {
    const auto p = unpack(x);
    return -evaluateDampedTrend(y, p[0], p[1], p[2], p[3], p[4]).logLikelihood / n;
  };
  Eigen::VectorXd lower(5), upper(5), x0(5);
  lower << kMinAlpha, 1e-4, kMinPhi, -1e4, -1e4;
  upper << kMaxAlpha, 0.9999, kMaxPhi, 1e4, 1e4;
  x0 << 0.5, 0.2, 0.95, 0.0, 0.0;
  const detail::MinimizeResult best = detail::minimizeBox(objective, x0, lower, upper);
  const auto p = unpack(best.x);
  return evaluateDampedTrend(y, p[0], p[1], p[2], p[3], p[4]);
}

ForecastPath forecastDampedTrend(const DampedTrendModel& m, int horizon, double levelPercent) {
  ForecastPath path;
  path.level = levelPercent;
  const double z = detail::normalQuantile(0.5 + levelPercent / 200.0);
  double phiSum = 0, phiPower = 1, varianceSum = 1;
  for (int h = 1; h <= horizon; ++h) {
    phiPower *= m.phi;
    phiSum += phiPower;  // phi + ... + phi^h
    const double mean = m.level + phiSum * m.trend;
    const double se = std::sqrt(m.sigma2 * varianceSum);
    path.mean.push_back(mean);
    path.standardError.push_back(se);
    path.lower.push_back(mean - z * se);
    path.upper.push_back(mean + z * se);
    const double c = m.alpha + m.beta * phiSum;  // c_h for the next step's variance
    varianceSum += c * c;
  }
  return path;
}

Exhaustion exhaustionFromForecast(const ForecastPath& path, double capacity) {
  Exhaustion out;
  for (std::size_t h = 0; h < path.mean.size(); ++h) {
    const int step = static_cast<int>(h) + 1;
    if (!out.earliest && path.upper[h] >= capacity) out.earliest = step;
    if (!out.expected && path.mean[h] >= capacity) out.expected = step;
    if (!out.latest && path.lower[h] >= capacity) out.latest = step;
  }
  return out;
}

std::string toString(CapacityStatus status) {
  switch (status) {
    case CapacityStatus::kOk:
      return "ok";
    case CapacityStatus::kWatch:
      return "watch";
    case CapacityStatus::kWarning:
      return "warning";
    case CapacityStatus::kCritical:
      return "critical";
    case CapacityStatus::kExhausted:
      return "exhausted";
  }
  return "ok";
}

CapacityPlan planCapacity(std::span<const double> usage, const CapacityOptions& options) {
  if (!(options.capacity > 0)) throw std::invalid_argument("capacity must be positive");
  if (options.horizon < 1) throw std::invalid_argument("capacity horizon must be at least one step");
  CapacityPlan plan;
  const auto last = std::find_if(usage.rbegin(), usage.rend(), [](double v) { return !std::isnan(v); });
  if (last == usage.rend()) throw std::invalid_argument("the usage series has no observed value");
  plan.current = *last;
  plan.utilisation = plan.current / options.capacity;
  std::vector<double> adjusted(usage.begin(), usage.end());
  if (options.period >= 2 && usage.size() >= 2 * static_cast<std::size_t>(options.period)) {
    StlOptions stl;
    stl.seasonalWindow = 11;
    const Decomposition d = stlDecomposition(detail::interpolateMissing(usage), options.period, stl);
    for (std::size_t t = 0; t < adjusted.size(); ++t) adjusted[t] -= d.seasonal[t];
    plan.seasonalCycle.assign(d.seasonal.end() - options.period, d.seasonal.end());
  }
  auto withSeason = [&](ForecastPath path) {
    for (std::size_t h = 0; h < path.mean.size() && !plan.seasonalCycle.empty(); ++h) {
      const double s = plan.seasonalCycle[h % plan.seasonalCycle.size()];
      path.mean[h] += s;
      path.lower[h] += s;
      path.upper[h] += s;
    }
    return path;
  };
  plan.linear = fitLinearTrend(adjusted);
  plan.damped = fitDampedTrend(adjusted);
  plan.growthPerStep = plan.linear.slope;
  const double stepsPerDay = 24.0 / options.stepHours;
  plan.growthPercentPerDay = plan.current != 0 ? 100.0 * plan.linear.slope * stepsPerDay / std::abs(plan.current) : 0;
  plan.linearExhaustion = exhaustionFromForecast(
      withSeason(forecastLinearTrend(plan.linear, options.horizon, options.levelPercent)), options.capacity);
  plan.dampedExhaustion = exhaustionFromForecast(
      withSeason(forecastDampedTrend(plan.damped, options.horizon, options.levelPercent)), options.capacity);

  // The more cautious of the two models decides the status.
  auto earliestOf = [](const Exhaustion& a, const Exhaustion& b) {
    std::optional<int> out = a.expected;
    if (b.expected && (!out || *b.expected < *out)) out = b.expected;
    return out;
  };
  const std::optional<int> expected = earliestOf(plan.linearExhaustion, plan.dampedExhaustion);
  std::optional<int> earliest = plan.linearExhaustion.earliest;
  if (plan.dampedExhaustion.earliest && (!earliest || *plan.dampedExhaustion.earliest < *earliest))
    earliest = plan.dampedExhaustion.earliest;
  const double hoursPerStep = options.stepHours;
  const std::string unit = "of capacity";
  std::ostringstream growth;
  growth.precision(3);
  growth << "Usage grows by " << plan.growthPercentPerDay << "% per day (linear fit, R^2 " << plan.linear.rSquared
         << ").";

  if (plan.utilisation >= 1.0) {
    plan.status = CapacityStatus::kExhausted;
    plan.recommendations.push_back("Capacity is exhausted now (" + std::to_string(static_cast<int>(100 * plan.utilisation)) +
                                   "% in use): add capacity or shed load immediately.");
  } else if (expected && *expected * hoursPerStep <= 24) {
    plan.status = CapacityStatus::kCritical;
    plan.recommendations.push_back("Capacity is expected to run out in about " +
                                   formatDuration(*expected * hoursPerStep) + ": scale up today.");
  } else if (expected && *expected * hoursPerStep <= 24 * 7) {
    plan.status = CapacityStatus::kWarning;
    plan.recommendations.push_back("Capacity is expected to run out in about " +
                                   formatDuration(*expected * hoursPerStep) + ": plan a scale-up this week.");
  } else if (expected || earliest || plan.utilisation >= options.warningUtilisation) {
    plan.status = CapacityStatus::kWatch;
    if (expected)
      plan.recommendations.push_back("Capacity is expected to run out in about " +
                                     formatDuration(*expected * hoursPerStep) + ": schedule capacity work.");
    else if (earliest)
      plan.recommendations.push_back("Capacity could run out in " + formatDuration(*earliest * hoursPerStep) +
                                     " if growth stays at the high end of its range: keep watching.");
    if (plan.utilisation >= options.warningUtilisation)
      plan.recommendations.push_back(std::to_string(static_cast<int>(100 * plan.utilisation)) + "% " + unit +
                                     " is in use: little headroom is left for spikes.");
  } else {
    plan.status = CapacityStatus::kOk;
    plan.recommendations.push_back("No exhaustion is expected within " +
                                   formatDuration(options.horizon * hoursPerStep) + ".");
  }
  if (plan.linearExhaustion.expected && !plan.dampedExhaustion.expected)
    plan.recommendations.push_back(
        "The straight-line trend reaches the limit but the damped trend levels off: recent growth is slowing.");
  if (plan.dampedExhaustion.expected && plan.linearExhaustion.expected &&
      *plan.dampedExhaustion.expected < *plan.linearExhaustion.expected)
    plan.recommendations.push_back("Recent growth is faster than the long-run trend.");
  plan.recommendations.push_back(growth.str());
  return plan;
}

}  // namespace stacklens::core::forecast
