#include "forecast_methods.h"

#include <stdexcept>
#include <vector>

#include "stacklens/core/forecast/auto_arima.h"
#include "stacklens/core/forecast/benchmark_forecasts.h"
#include "stacklens/core/forecast/combination.h"
#include "stacklens/core/forecast/seasonal_forecast.h"

namespace stacklens::headless {

namespace fc = core::forecast;

ForecastMethod parseForecastMethod(std::string_view text, int period) {
  ForecastMethod method;
  method.period = period;
  if (text == "auto") return method;
  if (text == "snaive" || text == "stl" || text == "combo") {
    method.kind = text == "snaive" ? ForecastMethod::Kind::kSeasonalNaive
                  : text == "stl"  ? ForecastMethod::Kind::kStl
                                   : ForecastMethod::Kind::kCombination;
    if (method.kind != ForecastMethod::Kind::kSeasonalNaive && period < 2)
      throw std::invalid_argument("'" + std::string(text) + "' needs a seasonal period of at least 2");
    return method;
  }
  if (text.rfind("arima:", 0) == 0) text.remove_prefix(6);
  const std::optional<std::vector<int>> numbers = fc::parseOrderNumbers(text);
  bool inRange = numbers.has_value();
  for (int value : numbers.value_or(std::vector<int>{})) inRange = inRange && value <= 10;
  if (!inRange)
    throw std::invalid_argument("'" + std::string(text) +
                                "' is not 'auto', 'snaive' or orders p,d,q[,P,D,Q] (integers 0-10)");
  const std::vector<int>& orders = *numbers;
  if (orders.size() != 3 && orders.size() != 6)
    throw std::invalid_argument("'" + std::string(text) + "': give 3 orders (p,d,q) or 6 (p,d,q,P,D,Q)");
  method.kind = ForecastMethod::Kind::kArima;
  method.order = {orders[0], orders[1], orders[2], 0, 0, 0, 1};
  if (orders.size() == 6) {
    if (period < 2 && (orders[3] || orders[4] || orders[5]))
      throw std::invalid_argument("seasonal orders need --season of at least 2");
    method.order = {orders[0], orders[1], orders[2], orders[3], orders[4], orders[5], std::max(period, 1)};
  }
  if (method.order.d > 2 || method.order.D > 1) throw std::invalid_argument("at most d = 2 and D = 1");
  return method;
}

std::string describeForecastMethod(const ForecastMethod& method) {
  switch (method.kind) {
    case ForecastMethod::Kind::kAutoArima:
      return "auto (ARIMA, Hyndman-Khandakar order selection, period " + std::to_string(method.period) + ")";
    case ForecastMethod::Kind::kArima:
      return method.order.toString();
    case ForecastMethod::Kind::kSeasonalNaive:
      return "seasonal naive (period " + std::to_string(method.period) + ")";
    case ForecastMethod::Kind::kStl:
      return "stl (STL decomposition + automatic ARIMA on the adjusted series, period " +
             std::to_string(method.period) + ")";
    case ForecastMethod::Kind::kCombination:
      return "combo (mean of auto and stl, period " + std::to_string(method.period) + ")";
  }
  return {};
}

std::string forecastMethodHelp() {
  return "auto (ARIMA with automatic orders), stl (STL + ARIMA), combo (mean of auto and stl), snaive (seasonal "
         "naive), or fixed ARIMA orders p,d,q[,P,D,Q]";
}

MethodResult runForecastMethod(const ForecastMethod& method, std::span<const double> y, int horizon, double level) {
  MethodResult result;
  switch (method.kind) {
    case ForecastMethod::Kind::kSeasonalNaive:
      result.path = fc::seasonalNaive(y, method.period, horizon, level);
      return result;
    case ForecastMethod::Kind::kArima: {
      fc::ArimaSpec spec;
      spec.order = method.order;
      result.arima = fc::fitArima(y, spec);
      break;
    }
    case ForecastMethod::Kind::kAutoArima: {
      fc::AutoArimaOptions options;
      options.period = method.period;
      options.timeLimitSeconds = method.timeLimitSeconds;
      result.arima = fc::autoArima(y, options).model;
      break;
    }
    case ForecastMethod::Kind::kStl: {
      fc::SeasonalForecastOptions options;
      options.period = method.period;
      const fc::SeasonalForecastModel model = fc::fitSeasonalForecast(y, options);
      result.path = fc::forecastSeasonal(model, horizon, level);
      result.arima = model.adjusted;
      return result;
    }
    case ForecastMethod::Kind::kCombination: {
      ForecastMethod part = method;
      part.kind = ForecastMethod::Kind::kAutoArima;
      MethodResult arima = runForecastMethod(part, y, horizon, level);
      part.kind = ForecastMethod::Kind::kStl;
      const fc::ForecastPath paths[] = {arima.path, runForecastMethod(part, y, horizon, level).path};
      result.path = fc::combineForecasts(paths);
      result.arima = std::move(arima.arima);
      return result;
    }
  }
  result.path = fc::forecastArima(*result.arima, horizon, level);
  return result;
}

}  // namespace stacklens::headless
