#include "stacklens/core/eval/forecast_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "stacklens/core/forecast/decomposition.h"

namespace stacklens::core::eval {

namespace {

void requireSameLength(std::size_t a, std::size_t b, const char* what) {
  if (a != b) throw std::invalid_argument(std::string(what) + ": lengths differ");
}

}  // namespace

double smape(std::span<const double> actual, std::span<const double> forecast) {
  requireSameLength(actual.size(), forecast.size(), "sMAPE");
  if (actual.empty()) return 0.0;
  double sum = 0.0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double denominator = std::abs(actual[i]) + std::abs(forecast[i]);
    if (denominator > 0.0) sum += 200.0 * std::abs(actual[i] - forecast[i]) / denominator;
  }
  return sum / static_cast<double>(actual.size());
}

double maseScale(std::span<const double> insample, int period) {
  const std::size_t lag = static_cast<std::size_t>(period) < insample.size() ? static_cast<std::size_t>(std::max(period, 1)) : 1;
  if (insample.size() <= lag) return std::nan("");
  double sum = 0.0;
  for (std::size_t t = lag; t < insample.size(); ++t) sum += std::abs(insample[t] - insample[t - lag]);
  return sum / static_cast<double>(insample.size() - lag);
}

double mase(std::span<const double> insample, std::span<const double> actual, std::span<const double> forecast,
            int period) {
  requireSameLength(actual.size(), forecast.size(), "MASE");
  double mae = 0.0;
  for (std::size_t i = 0; i < actual.size(); ++i) mae += std::abs(actual[i] - forecast[i]);
  return mae / static_cast<double>(std::max<std::size_t>(actual.size(), 1)) / maseScale(insample, period);
}

bool m4SeasonalityTest(std::span<const double> insample, int period) {
  const std::size_t n = insample.size();
  if (period < 2 || n < 3 * static_cast<std::size_t>(period)) return false;
  double mean = 0.0;
  for (double v : insample) mean += v;
  mean /= static_cast<double>(n);
  double denominator = 0.0;
  for (double v : insample) denominator += (v - mean) * (v - mean);
  if (denominator <= 0.0) return false;
  auto acf = [&](std::size_t lag) {
    double sum = 0.0;
    for (std::size_t t = lag; t < n; ++t) sum += (insample[t] - mean) * (insample[t - lag] - mean);
    return sum / denominator;
  };
  double cumulative = 1.0;
  for (int k = 1; k < period; ++k) {
    const double r = acf(static_cast<std::size_t>(k));
    cumulative += 2.0 * r * r;
  }
  const double limit = 1.645 / std::sqrt(static_cast<double>(n)) * std::sqrt(cumulative);
  return std::abs(acf(static_cast<std::size_t>(period))) > limit;
}

std::vector<double> naive2Forecast(std::span<const double> insample, int period, int horizon) {
  const std::size_t n = insample.size();
  if (n == 0) throw std::invalid_argument("Naive2 needs at least one value");
  std::vector<double> out(static_cast<std::size_t>(std::max(horizon, 0)));
  const bool positive = std::all_of(insample.begin(), insample.end(), [](double v) { return v > 0.0; });
  if (positive && m4SeasonalityTest(insample, period)) {
    const auto d = forecast::classicalDecomposition(insample, period, forecast::DecompositionType::kMultiplicative);
    const double lastAdjusted = insample[n - 1] / d.figure[(n - 1) % static_cast<std::size_t>(period)];
    for (std::size_t h = 0; h < out.size(); ++h) out[h] = lastAdjusted * d.figure[(n + h) % static_cast<std::size_t>(period)];
  } else {
    std::fill(out.begin(), out.end(), insample[n - 1]);
  }
  return out;
}

double intervalCoverage(std::span<const double> actual, std::span<const double> lower,
                        std::span<const double> upper) {
  requireSameLength(actual.size(), lower.size(), "coverage");
  requireSameLength(actual.size(), upper.size(), "coverage");
  if (actual.empty()) return std::nan("");
  std::size_t inside = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) inside += lower[i] <= actual[i] && actual[i] <= upper[i];
  return static_cast<double>(inside) / static_cast<double>(actual.size());
}

double msis(std::span<const double> insample, std::span<const double> actual, std::span<const double> lower,
            std::span<const double> upper, int period, double alpha) {
  requireSameLength(actual.size(), lower.size(), "MSIS");
  requireSameLength(actual.size(), upper.size(), "MSIS");
  if (actual.empty()) return std::nan("");
  double sum = 0.0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    sum += upper[i] - lower[i];
    if (actual[i] < lower[i]) sum += 2.0 / alpha * (lower[i] - actual[i]);
    if (actual[i] > upper[i]) sum += 2.0 / alpha * (actual[i] - upper[i]);
  }
  return sum / static_cast<double>(actual.size()) / maseScale(insample, period);
}

void M4Accumulator::add(std::span<const double> insample, std::span<const double> actual,
                        std::span<const double> forecast, std::span<const double> lower,
                        std::span<const double> upper) {
  requireSameLength(actual.size(), forecast.size(), "M4 score");
  const int horizon = static_cast<int>(actual.size());
  const std::vector<double> naive2 = naive2Forecast(insample, period_, horizon);
  smapeSum_ += smape(actual, forecast);
  maseSum_ += mase(insample, actual, forecast, period_);
  naive2SmapeSum_ += smape(actual, naive2);
  naive2MaseSum_ += mase(insample, actual, naive2, period_);
  ++series_;
  if (!lower.empty() || !upper.empty()) {
    requireSameLength(actual.size(), lower.size(), "M4 interval");
    requireSameLength(actual.size(), upper.size(), "M4 interval");
    msisSum_ += msis(insample, actual, lower, upper, period_, alpha_);
    for (std::size_t i = 0; i < actual.size(); ++i) covered_ += lower[i] <= actual[i] && actual[i] <= upper[i];
    intervalPoints_ += actual.size();
    ++intervalSeries_;
  }
}

void M4Accumulator::merge(const M4Accumulator& other) {
  series_ += other.series_;
  intervalSeries_ += other.intervalSeries_;
  intervalPoints_ += other.intervalPoints_;
  covered_ += other.covered_;
  smapeSum_ += other.smapeSum_;
  maseSum_ += other.maseSum_;
  naive2SmapeSum_ += other.naive2SmapeSum_;
  naive2MaseSum_ += other.naive2MaseSum_;
  msisSum_ += other.msisSum_;
}

M4Summary M4Accumulator::summary() const {
  M4Summary s;
  s.series = series_;
  if (series_ == 0) return s;
  const double n = static_cast<double>(series_);
  s.smape = smapeSum_ / n;
  s.mase = maseSum_ / n;
  s.naive2Smape = naive2SmapeSum_ / n;
  s.naive2Mase = naive2MaseSum_ / n;
  s.owa = 0.5 * (s.smape / s.naive2Smape + s.mase / s.naive2Mase);
  s.coverage = intervalPoints_ ? static_cast<double>(covered_) / static_cast<double>(intervalPoints_) : std::nan("");
  s.msis = intervalSeries_ ? msisSum_ / static_cast<double>(intervalSeries_) : std::nan("");
  return s;
}

}  // namespace stacklens::core::eval
