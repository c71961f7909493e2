#include "stacklens/core/forecast/unit_root.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "forecast/series_utils.h"
#include "stacklens/core/forecast/decomposition.h"

namespace stacklens::core::forecast {

double kpssStatistic(std::span<const double> x, int lags) {
  std::vector<double> e;
  for (double v : x)
    if (!std::isnan(v)) e.push_back(v);
  const std::size_t n = e.size();
  if (n < 2) return 0.0;
  double mean = 0.0;
  for (double v : e) mean += v;
  mean /= static_cast<double>(n);
  for (double& v : e) v -= mean;
  double partial = 0.0, numerator = 0.0, variance = 0.0;
  for (double v : e) {
    partial += v;
    numerator += partial * partial;
    variance += v * v;
  }
  const double nn = static_cast<double>(n);
  numerator /= nn * nn;
  variance /= nn;
  const int l = std::clamp(lags, 0, static_cast<int>(n) - 1);
  for (int lag = 1; lag <= l; ++lag) {
    double cov = 0.0;
    for (std::size_t t = static_cast<std::size_t>(lag); t < n; ++t) cov += e[t] * e[t - static_cast<std::size_t>(lag)];
    variance += 2.0 / nn * (1.0 - lag / (l + 1.0)) * cov;
  }
  return variance > 0.0 ? numerator / variance : 0.0;
}

double kpssPValue(double statistic) {
  static constexpr std::array<double, 4> kCritical = {0.347, 0.463, 0.574, 0.739};
  static constexpr std::array<double, 4> kLevel = {0.10, 0.05, 0.025, 0.01};
  if (statistic <= kCritical.front()) return kLevel.front();
  if (statistic >= kCritical.back()) return kLevel.back();
  std::size_t i = 1;
  while (statistic > kCritical[i]) ++i;
  const double f = (statistic - kCritical[i - 1]) / (kCritical[i] - kCritical[i - 1]);
  return kLevel[i - 1] + f * (kLevel[i] - kLevel[i - 1]);
}

int regularDifferences(std::span<const double> x, double alpha, int maxD) {
  std::vector<double> series = detail::dropMissing(x);
  int d = 0;
  while (d < maxD && series.size() > 2 && !detail::isConstant(series)) {
    const int lags = static_cast<int>(3.0 * std::sqrt(static_cast<double>(series.size())) / 13.0);
    if (!(kpssPValue(kpssStatistic(series, lags)) < alpha)) break;
    series = detail::difference(series, 1);
    ++d;
  }
  return d;
}

int seasonalDifferences(std::span<const double> x, int period, int maxD) {
  if (period < 2) return 0;
  std::vector<double> series = detail::interpolateMissing(x);
  int seasonalD = 0;
  while (seasonalD < maxD && static_cast<int>(series.size()) > 2 * period && !detail::isConstant(series)) {
    if (!(seasonalStrength(series, period) > 0.64)) break;
    series = detail::difference(series, period);
    ++seasonalD;
  }
  return seasonalD;
}

}  // namespace stacklens::core::forecast
