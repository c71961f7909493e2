// Workbench benchmarks (not tests): how long a setting change takes to reach the chart (a
// detection setting, a forecast setting, the forecast orders), how long a chart redraw takes with
// a year of hourly points, and a year-long backtest of 20 services (detection only, and with
// forecasts and predictive alerts).
//   build/bench/bench_workbench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Runs offscreen (QT_QPA_PLATFORM=offscreen is set when no platform is given).
#include <benchmark/benchmark.h>
#include <cstdio>

#include <QApplication>
#include <QChartView>
#include <QComboBox>
#include <QSignalSpy>
#include <QTest>

#include "stacklens/core/backtest/backtest.h"
#include "stacklens/ui/metric_view/chart_presenter.h"
#include "stacklens/ui/metric_view/metric_view.h"
#include "stacklens/ui/metric_view/metric_view_model.h"
#include "stacklens/ui/tuning/tuning_config.h"
#include "stacklens/ui/tuning/tuning_controller.h"
#include "stacklens/ui/tuning/tuning_job.h"
#include "stacklens/ui/tuning/tuning_model.h"
#include "stacklens/ui/workspace/demo_workspace.h"

using namespace stacklens;
using namespace stacklens::ui;

namespace {

std::vector<ServiceData> fleet(int services, int days) {
  core::sim::FleetConfig config;
  config.services = services;
  config.hours = days * 24;
  config.seed = 42;
  return simulatedServices(config);
}

const QStringList kShown{"error_rate", "latency_p99_ms", "total_requests"};

// The engine alone, from scratch (no kept models): detection over the whole history and the
// forecasts of the three default metrics with automatic orders (an order search each).
void BM_TuningRunFromScratch(benchmark::State& state) {
  const ServiceData service = fleet(1, static_cast<int>(state.range(0))).front();
  const TuningConfig config = TuningConfig::defaults();
  TuningRequest request;
  for (const QString& m : kShown) request.forecastMetrics.push_back(m.toStdString());
  for (auto _ : state) benchmark::DoNotOptimize(runTuning(service, config, {}, request));
  state.counters["hours"] = static_cast<double>(service.rowCount());
}
BENCHMARK(BM_TuningRunFromScratch)->Arg(30)->Arg(365)->Unit(benchmark::kMillisecond)->UseRealTime();

enum Change { kDetection = 0, kForecast = 1, kOrders = 2, kModels = 3, kOrdersBack = 4 };

// A setting change to the updated chart: the edit goes through the undo stack, the controller
// re-runs the engine in the background, the results reach the chart model, and the presenter has
// redrawn (decimated, replaced) and painted the panes. Three metrics are shown and forecast.
//   kDetection:  the contamination (the kept replay decided again; the forecast models are kept)
//   kForecast:   the error-rate threshold (forecasts and breach simulations again, no fit)
//   kOrders:     new fixed (p,1,q)(0,1,1)[24] orders each time, cycling through 16 (more than the
//                workbench keeps), so three ARIMA fits each time; detection kept
//   kModels:     the number of trees (a detection setting the models depend on: the whole history
//                replayed through the pipeline)
//   kOrdersBack: back and forth between two orders, as undo/redo (the kept models, no fit)
void BM_SettingChangeToChart(benchmark::State& state) {
  MetricView view;
  view.resize(1100, 800);
  view.show();
  TuningModel tuning;
  const auto change = static_cast<Change>(state.range(1));
  if (change == kOrders || change == kOrdersBack) {
    TuningConfig fixed = tuning.config();
    fixed.forecast.autoOrder = false;
    tuning.load(fixed);
  }
  TuningController controller(&tuning, view.model());
  QSignalSpy applied(&controller, &TuningController::resultsApplied);
  view.model()->setMetrics(kShown);
  view.model()->setService(std::make_shared<const ServiceData>(fleet(1, static_cast<int>(state.range(0))).front()));
  applied.wait(120000);
  if (change == kOrdersBack) {  // both orders fitted once before the timing: every step finds its models
    for (int p : {2, 1}) {
      TuningConfig other = tuning.config();
      other.forecast.p = p;
      tuning.edit(other, 1);
      applied.wait(120000);
    }
  }
  QTest::qWait(100);
  ChartPresenter* presenter = view.presenter();
  int step = 0;
  double engineMs = 0;
  for (auto _ : state) {
    TuningConfig next = tuning.config();
    ++step;
    if (change == kDetection) next.detection.anomaly.forest.contamination = 0.05 + 0.01 * (step % 10);
    if (change == kForecast) next.forecast.thresholds["error_rate"] = 1.0 + 0.1 * (step % 10);
    if (change == kOrders) {
      next.forecast.p = step % 4;
      next.forecast.q = (step / 4) % 4;
    }
    if (change == kModels) next.detection.anomaly.forest.trees = 100 + step % 2;
    if (change == kOrdersBack) next.forecast.p = step % 2 ? 2 : 1;
    // Sleep in an event loop until the presenter has redrawn with the new results (no busy wait:
    // the engine's worker threads get the cores).
    QEventLoop loop;
    bool resultsIn = false;
    QElapsedTimer clock;
    clock.start();
    const bool trace = qEnvironmentVariableIsSet("BENCH_TRACE");
    const auto s0 = QObject::connect(&controller, &TuningController::runStarted, &loop, [&] {
      if (trace) std::fprintf(stderr, "started %lld ms\n", clock.elapsed());
    });
    const auto a = QObject::connect(&controller, &TuningController::resultsApplied, &loop, [&](const QString&, double ms) {
      resultsIn = true;
      engineMs += ms;
      if (trace) std::fprintf(stderr, "results %lld ms (engine %.0f ms)\n", clock.elapsed(), ms);
    });
    const auto r = QObject::connect(presenter, &ChartPresenter::redrawn, &loop, [&] {
      if (trace) std::fprintf(stderr, "redrawn %lld ms\n", clock.elapsed());
      if (resultsIn) loop.quit();
    });
    tuning.edit(next, 1);
    loop.exec();
    QObject::disconnect(s0);
    QObject::disconnect(a);
    QObject::disconnect(r);
    // The panes' paint: the scene's changes reach the views, which paint (once; repaint() here
    // would paint a second time when the queued update arrives).
    for (int round = 0; round < 3; ++round) QCoreApplication::processEvents();
    if (trace) std::fprintf(stderr, "painted %lld ms\n", clock.elapsed());
  }
  state.counters["hours"] = static_cast<double>(view.model()->service()->rowCount());
  state.counters["engine_ms"] = engineMs / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SettingChangeToChart)
    ->ArgsProduct({{30, 365}, {kDetection, kForecast, kOrders, kModels, kOrdersBack}})
    ->ArgNames({"days", "change"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One redraw of three panes of a year of hourly points (decimate, replace, axes) and its paint.
void BM_ChartRedraw(benchmark::State& state) {
  ChartPresenter presenter;
  presenter.resize(1100, 800);
  presenter.show();
  auto data = std::make_shared<const ServiceData>(fleet(1, static_cast<int>(state.range(0))).front());
  std::vector<MetricPlot> plots;
  for (int column : {0, 1, 7}) plots.push_back(MetricPlot{data, column, {}, {}, {}, {}, {}});
  presenter.setPlots(plots);
  presenter.flushRedraw();
  int step = 0;
  for (auto _ : state) {
    presenter.zoom(step++ % 2 ? 2.0 : 0.5);
    presenter.flushRedraw();
    for (int p = 0; p < presenter.paneCount(); ++p) presenter.paneView(p)->viewport()->repaint();
  }
  state.counters["points_per_pane"] = presenter.shownPoints(0);
}
BENCHMARK(BM_ChartRedraw)->Arg(30)->Arg(365)->Unit(benchmark::kMillisecond)->UseRealTime();

// A backtest of 20 services over a year of hourly data, as the backtest panel runs it: detection
// only (0), or with the forecasts of the five metrics that have a threshold from daily origins,
// automatic orders searched once per metric, and the predictive alerts (1).
void BM_Backtest(benchmark::State& state) {
  std::vector<core::backtest::ServiceHistory> histories;
  for (const ServiceData& s : fleet(static_cast<int>(state.range(0)), static_cast<int>(state.range(1))))
    histories.push_back(toServiceHistory(s));
  core::backtest::BacktestConfig config;
  config.startupSamples = config.pipeline.historyCapacity;
  if (state.range(2)) config.forecast = forecastConfig(TuningConfig::defaults().forecast);
  core::backtest::BacktestResult result;
  for (auto _ : state) result = core::backtest::runBacktest(histories, config);
  state.counters["anomalies"] = result.detection.anomalies;
  state.counters["forecasts"] = result.forecast.forecasts;
  state.counters["smape"] = result.forecast.smape();
  state.counters["coverage"] = result.forecast.coverage();
  state.counters["alerts"] = result.forecast.alerts;
  state.counters["materialized"] = result.forecast.materializationRate();
  state.counters["threads"] = static_cast<double>(std::thread::hardware_concurrency());
}
BENCHMARK(BM_Backtest)
    ->Args({20, 365, 0})
    ->Args({20, 365, 1})
    ->ArgNames({"services", "days", "forecasts"})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
