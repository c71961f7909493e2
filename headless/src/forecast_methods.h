#pragma once
// The forecasting methods the command line offers (`forecast --order`, `eval m4 --method`), by
// name, over the engine's models.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "stacklens/core/forecast/arima.h"

namespace stacklens::headless {

struct ForecastMethod {
  enum class Kind {
    kAutoArima,      ///< "auto": seasonal ARIMA with automatic orders
    kArima,          ///< fixed orders
    kSeasonalNaive,  ///< "snaive"
    kStl,            ///< "stl": SeasonalForecast (STL + automatic non-seasonal ARIMA)
    kCombination,    ///< "combo": mean of auto and stl
  };
  Kind kind = Kind::kAutoArima;
  core::forecast::ArimaOrder order;  ///< kArima
  int period = 1;
  double timeLimitSeconds = 0;  ///< kAutoArima: bound of the order search per series
};

/// "auto", "snaive", or ARIMA orders "p,d,q" / "p,d,q,P,D,Q" (optionally prefixed "arima:").
/// Throws std::invalid_argument naming what is wrong.
ForecastMethod parseForecastMethod(std::string_view text, int period);
std::string describeForecastMethod(const ForecastMethod& method);
std::string forecastMethodHelp();

struct MethodResult {
  core::forecast::ForecastPath path;
  std::optional<core::forecast::ArimaModel> arima;  ///< the fitted model of ARIMA methods
};

MethodResult runForecastMethod(const ForecastMethod& method, std::span<const double> y, int horizon, double level);

}  // namespace stacklens::headless
