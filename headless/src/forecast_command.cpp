// `stacklens forecast`: forecasts one series (`timestamp,value`) or many (`series_id,timestamp,value`)
// from a CSV file with ARIMA/SARIMA, writing `series_id,step,mean,lower,upper` and optionally a JSON
// summary of each fitted model.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "commands.h"
#include "forecast_methods.h"
#include "stacklens/connect/csv_table.h"

namespace stacklens::headless {
namespace {

constexpr const char* kCommand = "forecast";

struct ForecastOptions {
  std::string input;
  std::string output;
  std::string summary;
  int horizon = 24;
  int season = 1;
  std::string order = "auto";
  double level = 90;
  bool consecutive = false;
};

struct SeriesInput {
  std::string id;
  std::vector<core::EpochSeconds> times;
  std::vector<double> values;  // regular grid; NaN where a timestamp is missing or the value is empty
  core::EpochSeconds step = 0;
};

// Groups rows by series (in order of first appearance), checks that time increases strictly within a
// series, and places the values on a regular grid: rows missing from the grid become NaN.
std::vector<SeriesInput> readSeries(const std::string& path, bool consecutive) {
  const connect::CsvTable table = connect::readCsvFile(path);
  const int idColumn = table.columnIndex("series_id");
  const int timeColumn = table.columnIndex("timestamp");
  const int valueColumn = table.columnIndex("value");
  if (timeColumn < 0 || valueColumn < 0)
    throw connect::CsvError(path + ":1: the header must be 'timestamp,value' or 'series_id,timestamp,value'");
  std::vector<SeriesInput> series;
  std::map<std::string, std::size_t> index;
  std::map<std::string, std::vector<std::size_t>> rowsOf;
  for (std::size_t r = 0; r < table.rowCount(); ++r) {
    const std::string id = idColumn >= 0 ? table.rows[r][static_cast<std::size_t>(idColumn)] : std::string();
    if (idColumn >= 0 && id.empty()) table.fail(r, static_cast<std::size_t>(idColumn), "empty series_id");
    if (!index.count(id)) {
      index[id] = series.size();
      series.push_back({id, {}, {}, 0});
    }
    SeriesInput& s = series[index[id]];
    const core::EpochSeconds t = table.time(r, static_cast<std::size_t>(timeColumn));
    if (!s.times.empty() && t <= s.times.back())
      table.fail(r, static_cast<std::size_t>(timeColumn),
                 t == s.times.back() ? "duplicate timestamp" : "timestamps must increase within a series");
    s.times.push_back(t);
    s.values.push_back(table.number(r, static_cast<std::size_t>(valueColumn), true));
    rowsOf[id].push_back(r);
  }
  if (series.empty()) throw connect::CsvError(path + ": no data rows");
  for (SeriesInput& s : series) {
    // The grid step is the smallest gap; every gap must be a multiple of it.
    core::EpochSeconds step = 0;
    for (std::size_t i = 1; i < s.times.size(); ++i) {
      const core::EpochSeconds gap = s.times[i] - s.times[i - 1];
      step = step == 0 ? gap : std::min(step, gap);
    }
    s.step = step;
    if (step == 0 || consecutive) continue;
    std::vector<double> grid;
    for (std::size_t i = 0; i < s.times.size(); ++i) {
      if (i > 0) {
        const core::EpochSeconds gap = s.times[i] - s.times[i - 1];
        if (gap % step != 0)
          table.fail(rowsOf[s.id][i], static_cast<std::size_t>(timeColumn),
                     "irregular spacing: a gap of " + std::to_string(gap) + " s is not a multiple of the " +
                         std::to_string(step) + " s step (--consecutive takes rows as consecutive steps)");
        for (core::EpochSeconds k = 1; k < gap / step; ++k) grid.push_back(std::nan(""));
      }
      grid.push_back(s.values[i]);
    }
    s.values = std::move(grid);
  }
  return series;
}

std::string label(const SeriesInput& s) { return s.id.empty() ? std::string("the series") : "series '" + s.id + "'"; }

int run(const ForecastOptions& o) {
  ForecastMethod method;
  try {
    method = parseForecastMethod(o.order, o.season);
  } catch (const std::invalid_argument& e) {
    failCommand(kCommand, std::string("--order: ") + e.what(), kExitBadInput);
  }
  std::vector<SeriesInput> series;
  try {
    series = readSeries(o.input, o.consecutive);
  } catch (const connect::CsvError& e) {
    failCommand(kCommand, e.what(), kExitBadInput);
  }

  std::ostringstream csv;
  csv << std::setprecision(10) << "series_id,step,mean,lower,upper\n";
  nlohmann::json summary = nlohmann::json::array();
  for (const SeriesInput& s : series) {
    const auto start = std::chrono::steady_clock::now();
    MethodResult result;
    try {
      result = runForecastMethod(method, s.values, o.horizon, o.level);
    } catch (const std::exception& e) {
      failCommand(kCommand, o.input + ": " + label(s) + ": " + e.what(), kExitBadInput);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (std::size_t h = 0; h < result.path.mean.size(); ++h)
      csv << s.id << ',' << h + 1 << ',' << result.path.mean[h] << ',' << result.path.lower[h] << ','
          << result.path.upper[h] << '\n';
    nlohmann::json entry{{"series_id", s.id},
                         {"observations", s.values.size()},
                         {"step_seconds", s.step},
                         {"last_timestamp", core::formatTimestamp(s.times.back())},
                         {"fit_seconds", seconds}};
    if (result.arima) {
      const auto& m = *result.arima;
      nlohmann::json coefficients = nlohmann::json::object();
      const auto names = m.coefficientNames();
      const auto values = m.coefficients();
      for (std::size_t i = 0; i < names.size(); ++i) coefficients[names[i]] = values[i];
      entry["model"] = m.describe();
      entry["order"] = {m.order.p, m.order.d, m.order.q};
      entry["seasonal_order"] = {m.order.P, m.order.D, m.order.Q, m.order.period};
      entry["coefficients"] = coefficients;
      entry["sigma2"] = m.sigma2;
      entry["log_likelihood"] = m.logLikelihood;
      entry["aicc"] = m.aicc;
      entry["converged"] = m.converged;
    } else {
      entry["model"] = describeForecastMethod(method);
    }
    summary.push_back(entry);
  }

  std::ofstream out(o.output);
  if (!out) failCommand(kCommand, "cannot write " + o.output, kExitFailure);
  out << csv.str();
  if (!o.summary.empty()) {
    std::ofstream json(o.summary);
    if (!json) failCommand(kCommand, "cannot write " + o.summary, kExitFailure);
    json << nlohmann::json{{"horizon", o.horizon}, {"level", o.level}, {"series", summary}}.dump(2) << '\n';
  }
  return 0;
}

}  // namespace

void addForecastCommand(CLI::App& app) {
  auto options = std::make_shared<ForecastOptions>();
  CLI::App* sub = app.add_subcommand("forecast", "Forecast one or many series from a CSV file with ARIMA/SARIMA");
  sub->add_option("--input", options->input, "CSV: timestamp,value or series_id,timestamp,value")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--horizon", options->horizon, "Steps to forecast")->required()->check(CLI::Range(1, 100000));
  sub->add_option("--season", options->season, "Seasonal period in steps (24 for hourly data with a daily cycle)")
      ->check(CLI::Range(1, 10000));
  sub->add_option("--order", options->order, forecastMethodHelp());
  sub->add_option("--level", options->level, "Prediction interval level in percent")->check(CLI::Range(1.0, 99.9));
  sub->add_option("--output", options->output, "Forecast CSV: series_id,step,mean,lower,upper")->required();
  sub->add_option("--summary", options->summary, "JSON summary of each series' model");
  sub->add_flag("--consecutive", options->consecutive,
                "Take rows as consecutive steps instead of placing them on a regular time grid (gaps become "
                "missing values by default)");
  sub->callback([options] {
    const int code = run(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace stacklens::headless
