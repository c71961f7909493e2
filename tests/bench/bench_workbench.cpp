// Workbench benchmarks (not tests): how long a setting change takes to reach the chart, how long
// a chart redraw takes with a year of hourly points, and a year-long backtest of 20 services.
//   build/bench/bench_workbench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Runs offscreen (QT_QPA_PLATFORM=offscreen is set when no platform is given).
#include <benchmark/benchmark.h>

#include <QApplication>
#include <QChartView>
#include <QComboBox>
#include <QSignalSpy>
#include <QTest>

#include "stacklens/core/backtest/backtest.h"
#include "stacklens/ui/metric_view/chart_presenter.h"
#include "stacklens/ui/metric_view/metric_view.h"
#include "stacklens/ui/metric_view/metric_view_model.h"
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

// The engine alone: one re-run of detection on one service, as the tuning panel does it.
void BM_TuningRun(benchmark::State& state) {
  const ServiceData service = fleet(1, static_cast<int>(state.range(0))).front();
  const TuningConfig config = TuningConfig::defaults();
  for (auto _ : state) benchmark::DoNotOptimize(runTuning(service, config, {}));
  state.counters["hours"] = static_cast<double>(service.rowCount());
}
BENCHMARK(BM_TuningRun)->Arg(30)->Arg(365)->Unit(benchmark::kMillisecond)->UseRealTime();

// A setting change to the updated chart: the edit goes through the undo stack, the controller
// re-runs the engine in the background, the results reach the chart model, and the presenter has
// redrawn (decimated, replaced) and painted the panes.
void BM_SettingChangeToChart(benchmark::State& state) {
  MetricView view;
  view.resize(1100, 800);
  view.show();
  TuningModel tuning;
  TuningController controller(&tuning, view.model());
  QSignalSpy applied(&controller, &TuningController::resultsApplied);
  view.model()->setService(std::make_shared<const ServiceData>(fleet(1, static_cast<int>(state.range(0))).front()));
  applied.wait(60000);
  QTest::qWait(100);
  ChartPresenter* presenter = view.presenter();
  int contamination = 0;
  for (auto _ : state) {
    TuningConfig next = tuning.config();
    next.detection.anomaly.forest.contamination = 0.05 + 0.01 * (contamination++ % 10);
    // Sleep in an event loop until the presenter has redrawn with the new results (no busy wait:
    // the engine's worker thread gets the cores).
    QEventLoop loop;
    bool resultsIn = false;
    QElapsedTimer clock;
    clock.start();
    const auto a = QObject::connect(&controller, &TuningController::resultsApplied, &loop, [&](const QString&, double ms) {
      resultsIn = true;
      if (qEnvironmentVariableIsSet("BENCH_TRACE")) fprintf(stderr, "results at %lld ms (engine %.0f ms)\n", clock.elapsed(), ms);
    });
    const auto r = QObject::connect(presenter, &ChartPresenter::redrawn, &loop, [&] {
      if (qEnvironmentVariableIsSet("BENCH_TRACE")) fprintf(stderr, "redrawn at %lld ms\n", clock.elapsed());
      if (resultsIn) loop.quit();
    });
    tuning.edit(next, 1);
    loop.exec();
    QObject::disconnect(a);
    QObject::disconnect(r);
    for (int p = 0; p < presenter->paneCount(); ++p) presenter->paneView(p)->viewport()->repaint();
  }
  state.counters["hours"] = static_cast<double>(view.model()->service()->rowCount());
}
BENCHMARK(BM_SettingChangeToChart)->Arg(30)->Arg(365)->Unit(benchmark::kMillisecond)->UseRealTime();

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

// A backtest of 20 services over a year of hourly data, as the backtest panel runs it.
void BM_Backtest(benchmark::State& state) {
  std::vector<core::backtest::ServiceHistory> histories;
  for (const ServiceData& s : fleet(static_cast<int>(state.range(0)), static_cast<int>(state.range(1))))
    histories.push_back(toServiceHistory(s));
  core::backtest::BacktestConfig config;
  config.startupSamples = config.pipeline.historyCapacity;
  int anomalies = 0;
  for (auto _ : state) anomalies = core::backtest::runBacktest(histories, config).detection.anomalies;
  state.counters["anomalies"] = anomalies;
  state.counters["threads"] = static_cast<double>(std::thread::hardware_concurrency());
}
BENCHMARK(BM_Backtest)->Args({20, 365})->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

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
