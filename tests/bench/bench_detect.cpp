// Detection engine benchmarks. tests/bench/compare_detect.py runs them next to scikit-learn on
// the same data (files in $STACKLENS_BENCH_DATA) and prints the ratios; without that variable
// the data are generated here with the same recipe.
#include <algorithm>
#include <benchmark/benchmark.h>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "stacklens/core/detect/dbscan.h"
#include "stacklens/core/detect/isolation_forest.h"
#include "stacklens/core/detect/streaming_detector.h"
#include "stacklens/core/pipeline/ml_pipeline.h"
#include "stacklens/core/sim/fleet_simulator.h"

namespace {

using stacklens::core::detect::Matrix;

Matrix readCsv(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<double> values;
  Eigen::Index rows = 0, cols = 0;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string field;
    Eigen::Index c = 0;
    while (std::getline(fields, field, ',')) values.push_back(std::stod(field)), ++c;
    cols = c;
    ++rows;
  }
  return Eigen::Map<Matrix>(values.data(), rows, cols);
}

// 10,000 × 8: standard normal with 1 % uniform outliers (isolation forest), or six Gaussian
// regimes of different spread plus 2 % uniform noise, standardised (service behaviour patterns).
// `seed` other than 7: another draw of the same recipe (never read from the directory).
Matrix dataset(const char* name, std::uint64_t seed = 7) {
  if (const char* dir = std::getenv("STACKLENS_BENCH_DATA"); dir && seed == 7)
    return readCsv(std::string(dir) + "/" + name + ".csv");
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(-6, 6);
  Matrix x(10000, 8);
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < 8; ++c) x(r, c) = r < 9900 ? z(rng) : u(rng);
  if (std::string(name) == "blobs") {
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      const int regime = static_cast<int>(r % 6);
      for (Eigen::Index c = 0; c < 8; ++c)
        x(r, c) = r < 9800 ? 3.0 * std::sin(regime * 1.7 + c) + (0.3 + 0.1 * regime) * z(rng) : u(rng);
    }
  }
  return x;
}

void BM_IsolationForestFitScore(benchmark::State& state) {
  const Matrix x = dataset("iforest");
  stacklens::core::detect::IsolationForestParams p;
  p.trees = 100;
  p.contamination.reset();  // scikit-learn's default ("auto")
  p.threads = 1;
  for (auto _ : state) {
    const auto forest = stacklens::core::detect::IsolationForest::fit(x, p);
    benchmark::DoNotOptimize(forest.scores(x, 1));
  }
  state.SetItemsProcessed(state.iterations() * x.rows());
}
BENCHMARK(BM_IsolationForestFitScore)->Unit(benchmark::kMillisecond);

void BM_IsolationForestScoreOne(benchmark::State& state) {
  const Matrix x = dataset("iforest");
  stacklens::core::detect::IsolationForestParams p;
  p.contamination.reset();
  const auto forest = stacklens::core::detect::IsolationForest::fit(x, p);
  Eigen::Index r = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(forest.score(std::span<const double>(x.row(r).data(), 8)));
    r = (r + 1) % x.rows();
  }
}
BENCHMARK(BM_IsolationForestScoreOne)->Unit(benchmark::kMicrosecond);

// The result goes out as counters, so that the comparison can show it beside scikit-learn's.
void dbscanAutoEps(benchmark::State& state, const char* name) {
  const Matrix x = dataset(name);
  stacklens::core::detect::DbscanResult result;
  for (auto _ : state) {
    result = stacklens::core::detect::dbscan(x, {std::nullopt, 5, 1});
    benchmark::DoNotOptimize(result);
  }
  state.counters["eps"] = result.eps;
  state.counters["clusters"] = result.clusters;
  state.counters["noise"] = static_cast<double>(result.noiseCount());
}
void BM_DbscanAutoEps(benchmark::State& state) {
  dbscanAutoEps(state, "blobs");
}
void BM_DbscanAutoEpsGaussian(benchmark::State& state) {
  dbscanAutoEps(state, "iforest");  // one Gaussian blob: the hardest case for a spatial index
}
BENCHMARK(BM_DbscanAutoEps)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DbscanAutoEpsGaussian)->Unit(benchmark::kMillisecond);

// Not a timing: how far the automatic eps from the default 2,048-row sample lies from the knee
// of the full k-distance curve, over 12 draws of each data set (compare_detect.py skips it):
//   bench_detect --benchmark_filter=AutoEpsSampleAccuracy
void BM_AutoEpsSampleAccuracy(benchmark::State& state) {
  double worst = 0, within3 = 0, draws = 0;
  for (auto _ : state) {
    for (const char* name : {"blobs", "iforest"}) {
      for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        const Matrix x = dataset(name, seed);
        const double error =
            std::abs(stacklens::core::detect::autoEps(x, 5) / stacklens::core::detect::autoEps(x, 5, 1, 0) - 1);
        worst = std::max(worst, error);
        within3 += error <= 0.03;
        ++draws;
      }
    }
  }
  state.counters["worst_pct"] = 100 * worst;
  state.counters["within3pct"] = within3;
  state.counters["draws"] = draws;
}
BENCHMARK(BM_AutoEpsSampleAccuracy)->Iterations(1)->Unit(benchmark::kSecond);

// One step of the streaming detector, for an 8-D service vector or a single metric, over a
// daily-seasonal stream long enough to include its periodic season re-estimation.
void streaming(benchmark::State& state, std::size_t channels) {
  constexpr std::size_t kSteps = 100000;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> data(kSteps * channels);
  for (std::size_t t = 0; t < kSteps; ++t)
    for (std::size_t c = 0; c < channels; ++c)
      data[t * channels + c] = 100 * (c + 1) + 10 * std::sin(t * 0.2617993877991494) + z(rng);
  stacklens::core::detect::StreamingDetector detector(channels);
  std::size_t t = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(detector.update(std::span<const double>(data.data() + t * channels, channels)));
    if (++t == kSteps) t = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_StreamingDetector8D(benchmark::State& state) {
  streaming(state, 8);
}
void BM_StreamingDetector1D(benchmark::State& state) {
  streaming(state, 1);
}
BENCHMARK(BM_StreamingDetector8D)->Iterations(400000);
BENCHMARK(BM_StreamingDetector1D)->Iterations(400000);

// The fleet of BM_MlPipelineFleet: per service, a week of quiet hours and then `hours` more.
std::vector<std::vector<stacklens::core::ServiceMetrics>> fleetByService(int services, int week, int hours) {
  namespace core = stacklens::core;
  core::sim::FleetConfig fleetConfig;
  fleetConfig.services = services;
  fleetConfig.hours = week + hours;
  fleetConfig.quietHours = week;
  const core::sim::FleetSimulator fleet(fleetConfig);
  std::vector<std::vector<core::ServiceMetrics>> byService(static_cast<std::size_t>(services));
  for (int h = 0; h < week + hours; ++h) {
    const auto samples = fleet.hour(h);
    for (std::size_t s = 0; s < samples.size(); ++s) byService[s].push_back(samples[s].metrics);
  }
  return byService;
}

// ml-service's refits alone: training a service's model set (forest, patterns, baseline, change
// detectors) on a week of its history (history_capacity), as each service does every 100 messages.
void BM_MlPipelineRefit(benchmark::State& state) {
  namespace core = stacklens::core;
  constexpr int kServices = 200, kHistory = 168;  // history_capacity: a week
  const auto byService = fleetByService(kServices, kHistory, 0);
  core::pipeline::MlPipelineConfig config;
  config.retrainEvery = 0;
  for (auto _ : state) {
    core::pipeline::MlPipeline pipeline(config);
    for (const auto& samples : byService) benchmark::DoNotOptimize(pipeline.train(samples.front().service, samples));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kServices);
}
BENCHMARK(BM_MlPipelineRefit)->Unit(benchmark::kMillisecond);

// ml-service's scoring alone, without I/O: 1,000 services trained on a week each, then 100 hours
// of the fleet (no refits), in the order a lane takes them. Arg 0: how many consecutive hours of a
// service are scored back to back (1: arrival order, each message another service's models, cold
// in cache; 5: a backlog batch grouped by service, as MlBatchHandler does). Arg 1: whether the
// next service's forest is prefetched while the current message is scored.
void BM_MlPipelineFleet(benchmark::State& state) {
  namespace core = stacklens::core;
  const int run = static_cast<int>(state.range(0));
  const bool prefetch = state.range(1) != 0;
  constexpr int kServices = 1000, kWeek = 168, kHours = 100;
  const auto byService = fleetByService(kServices, kWeek, kHours);
  std::vector<const core::ServiceMetrics*> order;
  for (int first = kWeek; first < kWeek + kHours; first += run)
    for (const auto& samples : byService)
      for (int h = first; h < std::min(first + run, kWeek + kHours); ++h)
        order.push_back(&samples[static_cast<std::size_t>(h)]);
  for (auto _ : state) {
    state.PauseTiming();
    core::pipeline::MlPipelineConfig config;
    config.retrainEvery = 0;
    core::pipeline::MlPipeline pipeline(config);
    for (const auto& samples : byService)
      pipeline.train(samples.front().service, std::span(samples).first(kWeek));
    state.ResumeTiming();
    std::size_t anomalies = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (prefetch && i + 1 < order.size() && order[i + 1]->service != order[i]->service)
        pipeline.prefetch(order[i + 1]->service);
      anomalies += pipeline.process(*order[i]).anomalies.size();
    }
    benchmark::DoNotOptimize(anomalies);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * order.size()));
}
BENCHMARK(BM_MlPipelineFleet)
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({5, 0})
    ->Args({5, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
