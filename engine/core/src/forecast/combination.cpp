#include "stacklens/core/forecast/combination.h"

#include <stdexcept>

namespace stacklens::core::forecast {

ForecastPath combineForecasts(std::span<const ForecastPath> paths) {
  if (paths.empty()) throw std::invalid_argument("no forecasts to combine");
  ForecastPath out;
  out.level = paths.front().level;
  const std::size_t horizon = paths.front().mean.size();
  out.mean.assign(horizon, 0.0);
  out.lower.assign(horizon, 0.0);
  out.upper.assign(horizon, 0.0);
  out.standardError.assign(horizon, 0.0);
  const double weight = 1.0 / static_cast<double>(paths.size());
  for (const ForecastPath& p : paths) {
    if (p.mean.size() != horizon || p.lower.size() != horizon || p.upper.size() != horizon ||
        p.standardError.size() != horizon)
      throw std::invalid_argument("forecasts to combine must have the same horizon");
    if (p.level != out.level) throw std::invalid_argument("forecasts to combine must have the same interval level");
    for (std::size_t h = 0; h < horizon; ++h) {
      out.mean[h] += weight * p.mean[h];
      out.lower[h] += weight * p.lower[h];
      out.upper[h] += weight * p.upper[h];
      out.standardError[h] += weight * p.standardError[h];
    }
  }
  return out;
}

}  // namespace stacklens::core::forecast
