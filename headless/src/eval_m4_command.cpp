// `stacklens eval m4`: holds out the last H points of each M4 series, forecasts them and scores
// the forecasts the M4 way (sMAPE, MASE, OWA against Naive2, 95% coverage, MSIS).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "commands.h"
#include "forecast_methods.h"
#include "stacklens/connect/csv_table.h"
#include "stacklens/core/eval/forecast_metrics.h"

namespace stacklens::headless {
namespace {

constexpr const char* kCommand = "eval m4";

struct EvalM4Options {
  std::string train;
  int horizon = 48;
  int period = 24;
  std::string method = "auto";
  double level = 95;
  int threads = 1;
  int every = 1;
  int limit = 0;
  double timeLimit = 0;
  std::string forecastsOut;
  std::string scoreForecasts;
};

struct M4Series {
  std::string id;
  std::vector<double> values;  // without the trailing NA padding
};

// M4's wide layout: first column the id, then values padded with NA.
std::vector<M4Series> loadWide(const std::string& path) {
  const connect::CsvTable table = connect::readCsvFile(path);
  std::vector<M4Series> out;
  out.reserve(table.rowCount());
  for (std::size_t r = 0; r < table.rowCount(); ++r) {
    M4Series series;
    series.id = table.rows[r][0];
    for (std::size_t c = 1; c < table.header.size(); ++c) series.values.push_back(table.number(r, c, true));
    while (!series.values.empty() && std::isnan(series.values.back())) series.values.pop_back();
    if (std::any_of(series.values.begin(), series.values.end(), [](double v) { return std::isnan(v); }))
      table.fail(r, 0, "series '" + series.id + "' has a missing value before its end");
    out.push_back(std::move(series));
  }
  return out;
}

struct Scored {
  core::forecast::ForecastPath path;
  double cpuSeconds = 0;
};

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Forecasts from another tool (R's auto.arima run), `series_id,step,mean,lower,upper`; '#' lines
// are comments. Returns the paths by series id.
std::map<std::string, core::forecast::ForecastPath> loadForecasts(const std::string& path, double& recordedCpu) {
  std::ifstream in(path);
  if (!in) failCommand(kCommand, "cannot open " + path, kExitFailure);
  std::string line, text;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) {
      const auto at = line.find("# total cpu_seconds=");
      if (at != std::string::npos) recordedCpu = std::stod(line.substr(at + 20));
      text += "\n";  // keep line numbers right for messages
      continue;
    }
    text += line + "\n";
  }
  const connect::CsvTable table = connect::parseCsv(text, path);
  const int id = table.columnIndex("series_id"), step = table.columnIndex("step"), mean = table.columnIndex("mean"),
            lower = table.columnIndex("lower"), upper = table.columnIndex("upper");
  if (id < 0 || step < 0 || mean < 0 || lower < 0 || upper < 0)
    failCommand(kCommand, path + ": expected the columns series_id,step,mean,lower,upper", kExitBadInput);
  std::map<std::string, core::forecast::ForecastPath> out;
  for (std::size_t r = 0; r < table.rowCount(); ++r) {
    auto& p = out[table.rows[r][static_cast<std::size_t>(id)]];
    const double s = table.number(r, static_cast<std::size_t>(step), false);
    if (s != static_cast<double>(p.mean.size() + 1)) table.fail(r, static_cast<std::size_t>(step), "steps must run 1, 2, ...");
    p.mean.push_back(table.number(r, static_cast<std::size_t>(mean), false));
    p.lower.push_back(table.number(r, static_cast<std::size_t>(lower), false));
    p.upper.push_back(table.number(r, static_cast<std::size_t>(upper), false));
  }
  return out;
}

void printSummary(const core::eval::M4Summary& s, const std::string& what) {
  std::cout << std::fixed << std::setprecision(3);
  std::cout << what << ": " << s.series << " series\n";
  std::cout << "  sMAPE " << s.smape << "  MASE " << s.mase << "  OWA " << s.owa << "  (Naive2: sMAPE " << s.naive2Smape
            << ", MASE " << s.naive2Mase << ")\n";
  if (!std::isnan(s.coverage))
    std::cout << "  95% interval coverage " << std::setprecision(2) << 100.0 * s.coverage << "%  MSIS "
              << std::setprecision(3) << s.msis << '\n';
}

int run(const EvalM4Options& o) {
  std::vector<M4Series> all;
  try {
    all = loadWide(o.train);
  } catch (const connect::CsvError& e) {
    failCommand(kCommand, e.what(), kExitBadInput);
  }
  std::vector<const M4Series*> selected;
  for (std::size_t i = 0; i < all.size(); i += static_cast<std::size_t>(o.every)) {
    if (o.limit > 0 && static_cast<int>(selected.size()) >= o.limit) break;
    if (static_cast<int>(all[i].values.size()) <= o.horizon + 2)
      failCommand(kCommand, o.train + ": series '" + all[i].id + "' is too short for a hold-out of " +
                                std::to_string(o.horizon),
                  kExitBadInput);
    selected.push_back(&all[i]);
  }
  core::eval::M4Accumulator accumulator(o.period, 1.0 - o.level / 100.0);

  if (!o.scoreForecasts.empty()) {
    double recordedCpu = std::nan("");
    const auto forecasts = loadForecasts(o.scoreForecasts, recordedCpu);
    std::size_t scored = 0;
    for (const M4Series* s : selected) {
      const auto it = forecasts.find(s->id);
      if (it == forecasts.end()) continue;
      if (static_cast<int>(it->second.mean.size()) != o.horizon)
        failCommand(kCommand, o.scoreForecasts + ": series '" + s->id + "' has " +
                                  std::to_string(it->second.mean.size()) + " steps, expected " +
                                  std::to_string(o.horizon),
                    kExitBadInput);
      const std::span<const double> values(s->values);
      const auto insample = values.first(values.size() - static_cast<std::size_t>(o.horizon));
      const auto actual = values.last(static_cast<std::size_t>(o.horizon));
      accumulator.add(insample, actual, it->second.mean, it->second.lower, it->second.upper);
      ++scored;
    }
    if (scored == 0) failCommand(kCommand, o.scoreForecasts + ": no series matches " + o.train, kExitBadInput);
    printSummary(accumulator.summary(), "forecasts from " + o.scoreForecasts);
    if (!std::isnan(recordedCpu)) std::cout << "  recorded CPU time " << std::setprecision(1) << recordedCpu << " s\n";
    return 0;
  }

  ForecastMethod method;
  try {
    method = parseForecastMethod(o.method, o.period);
  } catch (const std::invalid_argument& e) {
    failCommand(kCommand, std::string("--method: ") + e.what(), kExitBadInput);
  }
  method.timeLimitSeconds = o.timeLimit;

  std::vector<Scored> results(selected.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::string failure;
  const auto wallStart = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (std::size_t i = next++; i < selected.size() && !failed; i = next++) {
      const std::span<const double> values(selected[i]->values);
      const auto insample = values.first(values.size() - static_cast<std::size_t>(o.horizon));
      const double cpu0 = threadCpuSeconds();
      try {
        results[i].path = runForecastMethod(method, insample, o.horizon, o.level).path;
      } catch (const std::exception& e) {
        failure = "series '" + selected[i]->id + "': " + e.what();
        failed = true;
      }
      results[i].cpuSeconds = threadCpuSeconds() - cpu0;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < o.threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
  if (failed) failCommand(kCommand, failure, kExitFailure);

  double cpu = 0;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const std::span<const double> values(selected[i]->values);
    const auto insample = values.first(values.size() - static_cast<std::size_t>(o.horizon));
    const auto actual = values.last(static_cast<std::size_t>(o.horizon));
    accumulator.add(insample, actual, results[i].path.mean, results[i].path.lower, results[i].path.upper);
    cpu += results[i].cpuSeconds;
  }
  printSummary(accumulator.summary(), "M4 hold-out (last " + std::to_string(o.horizon) + " points), method " +
                                          describeForecastMethod(method));
  std::cout << "  total time " << std::setprecision(2) << wall << " s wall, " << cpu << " s CPU in fit+forecast ("
            << o.threads << (o.threads == 1 ? " thread)\n" : " threads)\n");

  if (!o.forecastsOut.empty()) {
    std::ofstream out(o.forecastsOut);
    if (!out) failCommand(kCommand, "cannot write " + o.forecastsOut, kExitFailure);
    out << std::setprecision(10) << "series_id,step,mean,lower,upper\n";
    for (std::size_t i = 0; i < selected.size(); ++i)
      for (std::size_t h = 0; h < results[i].path.mean.size(); ++h)
        out << selected[i]->id << ',' << h + 1 << ',' << results[i].path.mean[h] << ',' << results[i].path.lower[h]
            << ',' << results[i].path.upper[h] << '\n';
  }
  return 0;
}

}  // namespace

void addEvalM4Command(CLI::App& eval) {
  auto options = std::make_shared<EvalM4Options>();
  CLI::App* sub = eval.add_subcommand(
      "m4", "Forecast the M4 hourly hold-out (last 48 points of each training series) and score it the M4 way");
  sub->add_option("--train", options->train, "M4 training file in wide form (e.g. ../shared/data/m4-hourly/Hourly-train.csv)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--horizon", options->horizon, "Points held out and forecast per series")->check(CLI::PositiveNumber);
  sub->add_option("--period", options->period, "Seasonal period")->check(CLI::PositiveNumber);
  sub->add_option("--method", options->method, forecastMethodHelp());
  sub->add_option("--level", options->level, "Prediction interval level in percent")->check(CLI::Range(1.0, 99.9));
  sub->add_option("--threads", options->threads, "Worker threads")->check(CLI::Range(1, 64));
  sub->add_option("--every", options->every, "Use every K-th series (H1, H1+K, ...)")->check(CLI::PositiveNumber);
  sub->add_option("--limit", options->limit, "Use at most N series (0 = all)")->check(CLI::NonNegativeNumber);
  sub->add_option("--time-limit", options->timeLimit, "Seconds per series for the automatic order search (0 = none)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--forecasts-out", options->forecastsOut, "Also write the forecasts (series_id,step,mean,lower,upper)");
  sub->add_option("--score-forecasts", options->scoreForecasts,
                  "Score forecasts made by another tool (series_id,step,mean,lower,upper) instead of forecasting")
      ->check(CLI::ExistingFile);
  sub->callback([options] {
    const int code = run(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace stacklens::headless
