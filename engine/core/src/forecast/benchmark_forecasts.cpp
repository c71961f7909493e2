#include "stacklens/core/forecast/benchmark_forecasts.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "forecast/normal.h"

namespace stacklens::core::forecast {

ForecastPath seasonalNaive(std::span<const double> y, int period, int horizon, double levelPercent) {
  if (!(levelPercent > 0.0 && levelPercent < 100.0))
    throw std::invalid_argument("interval level must be between 0 and 100 (exclusive)");
  const std::size_t n = y.size();
  const std::size_t m = static_cast<std::size_t>(std::max(period, 1));
  // Last observed value at each position of the cycle, counted back from the end.
  std::vector<double> last(m, std::nan(""));
  for (std::size_t k = 0; k < m && k < n; ++k)
    for (std::size_t t = n - 1 - k;; t -= m) {
      if (!std::isnan(y[t])) {
        last[m - 1 - k] = y[t];
        break;
      }
      if (t < m) break;
    }
  double sum = 0.0;
  std::size_t count = 0;
  for (std::size_t t = m; t < n; ++t)
    if (!std::isnan(y[t]) && !std::isnan(y[t - m])) sum += (y[t] - y[t - m]) * (y[t] - y[t - m]), ++count;
  if (std::all_of(last.begin(), last.end(), [](double v) { return std::isnan(v); }))
    throw std::invalid_argument("seasonal naive needs observed values");
  const double sigma = count ? std::sqrt(sum / static_cast<double>(count)) : 0.0;
  const double z = detail::normalQuantile(0.5 + levelPercent / 200.0);
  ForecastPath path;
  path.level = levelPercent;
  for (int h = 1; h <= horizon; ++h) {
    // Positions are counted so that h = 1 continues the cycle after the last observation.
    const std::size_t position = (static_cast<std::size_t>(h) - 1) % m;
    double value = last[position];
    if (std::isnan(value)) value = *std::find_if(last.rbegin(), last.rend(), [](double v) { return !std::isnan(v); });
    const double se = sigma * std::sqrt(static_cast<double>((static_cast<std::size_t>(h) - 1) / m + 1));
    path.mean.push_back(value);
    path.standardError.push_back(se);
    path.lower.push_back(value - z * se);
    path.upper.push_back(value + z * se);
  }
  return path;
}

}  // namespace stacklens::core::forecast
