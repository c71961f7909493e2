#pragma once
// Forecast combination: the equally weighted mean of several methods' forecasts. Averaging models
// that err differently is one of the most reliable ways to improve accuracy (the M4 competition's
// best statistical entries were combinations).

#include <span>

#include "stacklens/core/forecast/arima.h"

namespace stacklens::core::forecast {

/// Averages means, interval bounds and standard errors step by step (the interval of the combination
/// is the average of the intervals). All paths need the same length and level; throws
/// std::invalid_argument otherwise or when `paths` is empty. O(paths * horizon).
ForecastPath combineForecasts(std::span<const ForecastPath> paths);

}  // namespace stacklens::core::forecast
