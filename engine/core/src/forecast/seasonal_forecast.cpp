#include "stacklens/core/forecast/seasonal_forecast.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "forecast/series_utils.h"
#include "stacklens/core/forecast/auto_arima.h"

namespace stacklens::core::forecast {

SeasonalForecastModel fitSeasonalForecast(std::span<const double> y, const SeasonalForecastOptions& options) {
  if (options.period < 2) throw std::invalid_argument("SeasonalForecast needs a period >= 2");
  if (options.adjustedOrder && options.adjustedOrder->hasSeasonalPart())
    throw std::invalid_argument("the seasonally adjusted series takes a non-seasonal order");
  const std::vector<double> filled = detail::interpolateMissing(y);
  Decomposition d;
  switch (options.method) {
    case SeasonalMethod::kStl: {
      StlOptions stl;
      stl.seasonalWindow = options.stlSeasonalWindow;
      stl.robust = options.robust;
      d = stlDecomposition(filled, options.period, stl);
      break;
    }
    case SeasonalMethod::kClassicalAdditive:
      d = classicalDecomposition(filled, options.period, DecompositionType::kAdditive);
      break;
    case SeasonalMethod::kClassicalMultiplicative:
      d = classicalDecomposition(filled, options.period, DecompositionType::kMultiplicative);
      break;
  }
  const bool multiplicative = options.method == SeasonalMethod::kClassicalMultiplicative;
  std::vector<double> adjusted(y.size());
  for (std::size_t t = 0; t < y.size(); ++t)
    adjusted[t] = multiplicative ? y[t] / d.seasonal[t] : y[t] - d.seasonal[t];

  SeasonalForecastModel model;
  model.period = options.period;
  model.method = options.method;
  model.lastCycle.assign(d.seasonal.end() - options.period, d.seasonal.end());
  if (options.adjustedOrder) {
    ArimaSpec spec;
    spec.order = *options.adjustedOrder;
    spec.includeConstant = options.includeConstant;
    model.adjusted = fitArima(adjusted, spec);
  } else {
    AutoArimaOptions search;
    search.period = 1;
    model.adjusted = autoArima(adjusted, search).model;
  }
  return model;
}

ForecastPath forecastSeasonal(const SeasonalForecastModel& model, int horizon, double levelPercent) {
  ForecastPath path = forecastArima(model.adjusted, horizon, levelPercent);
  const bool multiplicative = model.method == SeasonalMethod::kClassicalMultiplicative;
  for (std::size_t h = 0; h < path.mean.size(); ++h) {
    const double s = model.lastCycle[h % model.lastCycle.size()];
    if (multiplicative) {
      path.mean[h] *= s;
      path.lower[h] *= s;
      path.upper[h] *= s;
      path.standardError[h] *= s;
    } else {
      path.mean[h] += s;
      path.lower[h] += s;
      path.upper[h] += s;
    }
  }
  return path;
}

std::string serializeSeasonalForecast(const SeasonalForecastModel& model) {
  std::ostringstream out;
  out.precision(17);
  out << "stacklens-seasonal-forecast 1\n";
  out << "period " << model.period << '\n';
  out << "method " << static_cast<int>(model.method) << '\n';
  out << "cycle";
  for (double v : model.lastCycle) out << ' ' << v;
  out << '\n' << serializeArimaModel(model.adjusted);
  return out.str();
}

SeasonalForecastModel deserializeSeasonalForecast(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  auto fail = [](const std::string& what) -> void {
    throw std::invalid_argument("seasonal forecast model text: " + what);
  };
  if (!std::getline(in, line) || line.rfind("stacklens-seasonal-forecast ", 0) != 0)
    fail("not a StackLens seasonal forecast model");
  if (line != "stacklens-seasonal-forecast 1") fail("unsupported version '" + line.substr(28) + "'");
  SeasonalForecastModel model;
  std::string key;
  int method = 0;
  if (!(in >> key >> model.period) || key != "period" || model.period < 2) fail("line 2: expected 'period N'");
  if (!(in >> key >> method) || key != "method" || method < 0 || method > 2) fail("line 3: expected 'method 0-2'");
  model.method = static_cast<SeasonalMethod>(method);
  std::getline(in, line);  // end of line 3
  if (!std::getline(in, line) || line.rfind("cycle", 0) != 0) fail("line 4: expected 'cycle'");
  std::istringstream cycle(line.substr(5));
  double v = 0;
  while (cycle >> v) model.lastCycle.push_back(v);
  if (static_cast<int>(model.lastCycle.size()) != model.period) fail("line 4: the cycle needs one value per period");
  std::ostringstream rest;
  rest << in.rdbuf();
  model.adjusted = deserializeArimaModel(rest.str());
  return model;
}

}  // namespace stacklens::core::forecast
