// Forecasting engine timings (Google Benchmark). compare_forecast.py runs R's forecast::Arima and
// statsmodels on the same data in the same run and prints the ratios.
//
//   bench_forecast [--series FILE]   FILE: one `value` column (default: the first 168 points of
//                                    tests/data/forecast/m4_H10.csv, i.e. one week of hourly data)
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "stacklens/core/forecast/arima.h"
#include "stacklens/core/forecast/auto_arima.h"
#include "stacklens/core/sim/fleet_simulator.h"

namespace {

std::vector<double> gSeries;

std::vector<double> readValues(const std::string& path) {
  std::ifstream in(path);
  std::vector<double> values;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line))
    if (!line.empty()) values.push_back(std::stod(line));
  return values;
}

using namespace stacklens::core::forecast;

// The original system's model: ARIMA(1,1,1), then 24 steps with a 90% interval.
void BM_Arima111FitForecast24(benchmark::State& state) {
  ArimaSpec spec;
  spec.order = {1, 1, 1, 0, 0, 0, 1};
  spec.includeConstant = false;
  for (auto _ : state) {
    const ArimaModel model = fitArima(gSeries, spec);
    benchmark::DoNotOptimize(forecastArima(model, 24, 90));
  }
  state.counters["points"] = static_cast<double>(gSeries.size());
}
BENCHMARK(BM_Arima111FitForecast24)->Unit(benchmark::kMillisecond);

// A seasonal model of the kind auto.arima picks for hourly data.
void BM_Sarima_101_011_24_FitForecast48(benchmark::State& state) {
  ArimaSpec spec;
  spec.order = {1, 0, 1, 0, 1, 1, 24};
  for (auto _ : state) {
    const ArimaModel model = fitArima(gSeries, spec);
    benchmark::DoNotOptimize(forecastArima(model, 48, 95));
  }
}
BENCHMARK(BM_Sarima_101_011_24_FitForecast48)->Unit(benchmark::kMillisecond);

// Automatic seasonal ARIMA (order search + final exact fit) and a 48-step forecast.
void BM_AutoArimaSeasonal(benchmark::State& state) {
  AutoArimaOptions options;
  options.period = 24;
  for (auto _ : state) {
    const AutoArimaResult result = autoArima(gSeries, options);
    benchmark::DoNotOptimize(forecastArima(result.model, 48, 95));
  }
}
BENCHMARK(BM_AutoArimaSeasonal)->Unit(benchmark::kMillisecond);

// What a new fixed-orders setting costs the workbench's tuning panel: the (p,1,q)(0,1,1)[24] fits
// of the three charted metrics (error_rate, latency_p99_ms, total_requests) on the last 14 days of
// a simulated service (fleet seed 42), for each of the 16 orders p, q in 0..3 that
// bench_workbench's BM_SettingChangeToChart/change:2 cycles through. Time per order (3 fits).
void BM_WorkbenchOrderFits(benchmark::State& state) {
  stacklens::core::sim::FleetConfig fleet;
  fleet.services = 1;
  fleet.hours = 30 * 24;
  fleet.seed = 42;
  std::vector<std::vector<double>> windows(3);
  for (const auto& sample : stacklens::core::sim::FleetSimulator(fleet).all()) {
    const auto f = sample.metrics.features();
    windows[0].push_back(f[0]);
    windows[1].push_back(f[1]);
    windows[2].push_back(f[7]);
  }
  for (auto& w : windows) w.erase(w.begin(), w.end() - 14 * 24);
  int step = 0;
  for (auto _ : state) {
    ArimaSpec spec;
    spec.order = {step % 4, 1, (step / 4) % 4, 0, 1, 1, 24};
    ++step;
    for (const auto& w : windows) benchmark::DoNotOptimize(fitArima(w, spec));
  }
}
BENCHMARK(BM_WorkbenchOrderFits)->Iterations(48)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::string path = std::string(STACKLENS_FORECAST_FIXTURES) + "/m4_H10.csv";
  std::size_t limit = 168;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--series") == 0 && i + 1 < argc) {
      path = argv[++i];
      limit = 0;
    } else {
      rest.push_back(argv[i]);
    }
  }
  gSeries = readValues(path);
  if (limit && gSeries.size() > limit) gSeries.resize(limit);
  if (gSeries.size() < 50) {
    std::cerr << "bench_forecast: " << path << " has too few values\n";
    return 2;
  }
  int restCount = static_cast<int>(rest.size());
  benchmark::Initialize(&restCount, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
