#pragma once
// SeasonalForecast (the original system's decomposition forecaster, extended): decompose the series
// into trend, seasonal and remainder, forecast the seasonally adjusted series with a non-seasonal
// ARIMA (automatic orders unless given), and add the last observed seasonal cycle back - the
// method of R forecast's stlf / forecast.stl. Intervals come from the adjusted series' model; for
// the multiplicative decomposition they are scaled by the seasonal index.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/forecast/arima.h"
#include "stacklens/core/forecast/decomposition.h"

namespace stacklens::core::forecast {

enum class SeasonalMethod {
  kStl,                      ///< STL (default; robust with SeasonalForecastOptions::robust)
  kClassicalAdditive,        ///< moving-average decomposition, y = T + S + R (as the original system)
  kClassicalMultiplicative,  ///< y = T * S * R; needs y > 0
};

struct SeasonalForecastOptions {
  int period = 24;
  SeasonalMethod method = SeasonalMethod::kStl;
  int stlSeasonalWindow = 11;  ///< STL s.window (R forecast's mstl/stlf default); 0 = periodic
  bool robust = false;         ///< robust STL (outliers get low weight in the seasonal and trend fits)
  /// Non-seasonal orders for the adjusted series (period must be 1); nullopt = automatic
  /// (Hyndman-Khandakar search, see auto_arima.h).
  std::optional<ArimaOrder> adjustedOrder;
  bool includeConstant = true;  ///< mean/drift for a fixed adjusted order
};

/// A fitted seasonal forecaster; a value.
struct SeasonalForecastModel {
  int period = 24;
  SeasonalMethod method = SeasonalMethod::kStl;
  /// Seasonal component of the last `period` observations: the forecast for step h uses
  /// lastCycle[(h - 1) % period].
  std::vector<double> lastCycle;
  ArimaModel adjusted;  ///< model of the seasonally adjusted series
};

/// Fits the decomposition and the adjusted-series model. Missing values (NaN) are interpolated for
/// the decomposition only; the adjusted series keeps them missing. Throws std::invalid_argument
/// for period < 2, fewer than two full periods, or non-positive values with the multiplicative
/// method. Cost: one decomposition (O(n)) plus one ARIMA fit or search.
SeasonalForecastModel fitSeasonalForecast(std::span<const double> y, const SeasonalForecastOptions& options = {});

/// Forecast `horizon` steps with a central interval at `levelPercent`.
ForecastPath forecastSeasonal(const SeasonalForecastModel& model, int horizon, double levelPercent = 90);

/// Versioned text form ("stacklens-seasonal-forecast 1", then the adjusted ARIMA model's text).
std::string serializeSeasonalForecast(const SeasonalForecastModel& model);
/// Throws std::invalid_argument naming what is wrong.
SeasonalForecastModel deserializeSeasonalForecast(std::string_view text);

}  // namespace stacklens::core::forecast
