#pragma once
// Simple reference forecasts with prediction intervals: the yardsticks a model must beat.

#include <span>

#include "stacklens/core/forecast/arima.h"

namespace stacklens::core::forecast {

/// Seasonal naive: y_{n+h} = y_{n+h-period*k} for the smallest k >= 1 in the sample; interval from
/// the root mean square of the in-sample seasonal differences times sqrt(k) (as R's snaive).
/// period 1 gives the naive (random walk) forecast. NaN values are skipped for sigma and the last
/// observed value of each position is used. Throws std::invalid_argument without observed values.
/// O(n + horizon).
ForecastPath seasonalNaive(std::span<const double> y, int period, int horizon, double levelPercent = 90);

}  // namespace stacklens::core::forecast
