// Predictive alerter: the per-anomaly cost of core::pipeline::PredictivePipeline (history refresh,
// forecasts of the 5 thresholded metrics, breach simulation, capacity plan when due), on a
// simulated service (stacklens::core::sim, 14 days hourly). tests/bench/compare_alerter.py runs it
// next to the original's per-message work in statsmodels on the same rows and prints the ratios.
//
//   bench_alerter [--write-history FILE.csv] [benchmark flags]
//
// --write-history writes the service's rows (timestamp + the 5 thresholded metrics) and exits.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "stacklens/core/pipeline/predictive_pipeline.h"
#include "stacklens/core/sim/fleet_simulator.h"

namespace {

using namespace stacklens::core;
using pipeline::PredictivePipeline;
using pipeline::PredictivePipelineConfig;

constexpr int kHours = 14 * 24;
constexpr int kFirstAnomalyHour = 7 * 24;  // a full model window before it

const std::vector<ServiceMetrics>& rows() {
  static const std::vector<ServiceMetrics> kRows = [] {
    sim::FleetConfig config;
    config.services = 1;
    config.hours = kHours;
    config.seed = 11;
    std::vector<ServiceMetrics> out;
    for (const auto& s : sim::FleetSimulator(config).all()) out.push_back(s.metrics);
    return out;
  }();
  return kRows;
}

AnomalyRecord anomalyAt(int hour, AnomalyType type = AnomalyType::kErrorSpike) {
  const ServiceMetrics& m = rows().at(static_cast<std::size_t>(hour));
  AnomalyRecord a;
  a.service = m.service;
  a.timestamp = m.timestamp;
  a.type = type;
  a.anomalyId = makeAnomalyId(a.service, a.timestamp, a.type);
  a.confidence = 0.8;
  const FeatureVector f = m.features();
  for (std::size_t i = 0; i < kFeatureCount; ++i) a.metricValues[std::string(kFeatureNames[i])] = f[i];
  return a;
}

// What the service does per anomaly: read the requested window, hand it over, process.
pipeline::PredictiveOutput feed(PredictivePipeline& p, const AnomalyRecord& a) {
  const pipeline::HistoryRequest need = p.historyNeeded(a);
  std::vector<ServiceMetrics> window;
  for (const ServiceMetrics& m : rows())
    if (m.timestamp > need.from && m.timestamp <= need.to) window.push_back(m);
  p.addHistory(need.service, need.from, need.to, window);
  return p.process(a);
}

PredictivePipelineConfig configFor(bool automatic) {
  PredictivePipelineConfig c;
  if (!automatic) c.order = forecast::ArimaOrder{1, 1, 1};
  return c;
}

// Steady state: one anomaly per new hour (the 4-hour re-read, refits of the chosen orders, a
// daily order search, a capacity plan every 100 anomalies), over the second week.
void BM_AlerterNewHour(benchmark::State& state) {
  const bool automatic = state.range(0) == 1;
  auto p = std::make_unique<PredictivePipeline>(configFor(automatic));
  int hour = kFirstAnomalyHour;
  feed(*p, anomalyAt(hour));  // first sight outside the timing
  std::size_t alerts = 0, forecasts = 0;
  for (auto _ : state) {
    if (++hour >= kHours) {
      state.PauseTiming();
      p = std::make_unique<PredictivePipeline>(configFor(automatic));
      hour = kFirstAnomalyHour;
      feed(*p, anomalyAt(hour++));
      state.ResumeTiming();
    }
    const auto out = feed(*p, anomalyAt(hour));
    alerts += out.alerts.size();
    forecasts += out.forecasts.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(automatic ? "auto orders" : "ARIMA(1,1,1)");
  state.counters["anomalies/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["alerts"] = static_cast<double>(alerts);
  state.counters["forecast_rows"] = static_cast<double>(forecasts);
}
BENCHMARK(BM_AlerterNewHour)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// A service seen for the first time: 7 days of history, and with automatic orders a full order
// search per metric.
void BM_AlerterFirstSight(benchmark::State& state) {
  const bool automatic = state.range(0) == 1;
  for (auto _ : state) {
    PredictivePipeline p(configFor(automatic));
    benchmark::DoNotOptimize(feed(p, anomalyAt(kFirstAnomalyHour + 24)));
  }
  state.SetLabel(automatic ? "auto orders" : "ARIMA(1,1,1)");
}
BENCHMARK(BM_AlerterFirstSight)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Another anomaly of an hour already forecast (ml-service emits one per type): reused.
void BM_AlerterSameHour(benchmark::State& state) {
  PredictivePipeline p(configFor(true));
  const int hour = kFirstAnomalyHour + 30;
  feed(p, anomalyAt(hour));
  for (auto _ : state) benchmark::DoNotOptimize(feed(p, anomalyAt(hour, AnomalyType::kOutlier)));
}
BENCHMARK(BM_AlerterSameHour)->Unit(benchmark::kMicrosecond);

void writeHistory(const char* path) {
  std::ofstream out(path);
  out << "timestamp";
  const auto thresholds = pipeline::defaultAlertThresholds();
  for (const auto& [metric, _] : thresholds) out << ',' << metric;
  out << '\n';
  out.precision(17);
  for (const ServiceMetrics& m : rows()) {
    out << m.timestamp;
    const FeatureVector f = m.features();
    for (const auto& [metric, _] : thresholds)
      for (std::size_t i = 0; i < kFeatureCount; ++i)
        if (kFeatureNames[i] == metric) out << ',' << f[i];
    out << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--write-history") == 0) {
      writeHistory(argv[i + 1]);
      return 0;
    }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
