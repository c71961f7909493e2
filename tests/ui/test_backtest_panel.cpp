// The backtest panel: A vs B through the same core backtest as running it directly, progress,
// cancel, and results kept in the workspace.
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "stacklens/ui/backtest/backtest_panel.h"
#include "stacklens/ui/backtest/backtest_runner.h"
#include "stacklens/ui/tuning/tuning_config.h"
#include "stacklens/ui/tuning/tuning_job.h"
#include "stacklens/ui/tuning/tuning_toml.h"
#include "stacklens/ui/workspace/demo_workspace.h"
#include "stacklens/ui/workspace/workspace.h"

using namespace stacklens::ui;
namespace core = stacklens::core;

namespace {

std::unique_ptr<Workspace> simulatedWorkspace(const QTemporaryDir& dir, int services, int days) {
  core::sim::FleetConfig config;
  config.services = services;
  config.hours = days * 24;
  config.seed = 17;
  auto ws = Workspace::open(dir.filePath("w.stacklens"));
  ws->importServices(simulatedServices(config), "test");
  return ws;
}

QTableWidget* table(const BacktestPanel& panel) { return panel.summaryTable(); }

QString cell(QTableWidget* t, const QString& row, int column) {
  for (int r = 0; r < t->rowCount(); ++r)
    if (t->item(r, 0)->text() == row) return t->item(r, column + 1)->text();
  return QStringLiteral("<no row %1>").arg(row);
}

}  // namespace

class TestBacktestPanel : public QObject {
  Q_OBJECT
 private slots:
  void comparesAandBAsTheCoreComputesThemAndKeepsTheResult() {
    QTemporaryDir dir;
    auto ws = simulatedWorkspace(dir, 3, 21);
    TuningConfig current = TuningConfig::defaults();
    // Forecasts of two metrics with fixed seasonal orders (quick); B also differs in the level.
    current.forecast.autoOrder = false;
    current.forecast.p = 1;
    current.forecast.d = 0;
    current.forecast.q = 0;
    current.forecast.thresholds = {{"error_rate", 1.0}, {"latency_p99_ms", 400.0}};
    TuningConfig any = current;
    any.detection.consensus.rule = core::detect::ConsensusRule::kAny;
    any.forecast.level = 80;
    ws->saveConfiguration("any", tuningToToml(any));

    BacktestPanel panel;
    panel.setCurrentSettings([&] { return current; });
    panel.setWorkspace(ws.get());
    QCOMPARE(panel.selectedServices().size(), 3);
    panel.selectServices({"checkout-api", "auth"});
    const core::EpochSeconds start = ws->services().front().first;
    const core::EpochSeconds from = start + 7 * 86400, to = start + 20 * 86400;
    panel.setRange(from, to);
    panel.setConfigurations("current", "any");
    QSignalSpy finished(&panel, &BacktestPanel::finished);
    QSignalSpy progress(&panel, &BacktestPanel::progressChanged);
    QVERIFY(panel.run());
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QVERIFY(progress.count() >= 2);

    // The same backtest, straight through the core.
    std::vector<core::backtest::ServiceHistory> histories;
    for (const char* name : {"auth", "checkout-api"}) histories.push_back(toServiceHistory(ws->loadService(name)));
    core::backtest::BacktestConfig config;
    config.from = from;
    config.to = to;
    config.pipeline = current.detection;
    config.forecast = forecastConfig(current.forecast);
    const auto a = core::backtest::runBacktest(histories, config);
    config.pipeline = any.detection;
    config.forecast = forecastConfig(any.forecast);
    const auto b = core::backtest::runBacktest(histories, config);

    const auto& shown = panel.shownRecord();
    QVERIFY(shown.has_value());
    QCOMPARE(shown->a.detection.anomalies, a.detection.anomalies);
    QCOMPARE(shown->a.detection.f1, a.detection.f1);
    QCOMPARE(shown->b->detection.anomalies, b.detection.anomalies);
    QCOMPARE(shown->b->detection.recall, b.detection.recall);
    QCOMPARE(shown->a.days, a.days);
    QCOMPARE(shown->a.nabScore, a.nab.normalized);
    QCOMPARE(cell(table(panel), "NAB score (standard)", 0), QString::number(a.nab.normalized, 'f', 1));
    QVERIFY(b.detection.anomalies > a.detection.anomalies);  // "any" flags more
    // Forecast accuracy and predictive alerts, as the core computes them.
    QVERIFY(a.forecast.forecasts > 0);
    QCOMPARE(shown->a.forecast.forecasts, a.forecast.forecasts);
    QCOMPARE(shown->a.forecast.smape(), a.forecast.smape());
    QCOMPARE(shown->a.forecast.mase(), a.forecast.mase());
    QCOMPARE(shown->b->forecast.coverage(), b.forecast.coverage());
    QCOMPARE(shown->a.forecast.alerts, a.forecast.alerts);
    QCOMPARE(shown->a.forecast.materialized, a.forecast.materialized);
    QVERIFY(b.forecast.coverage() < a.forecast.coverage());  // 80 % intervals are narrower than 90 %

    QTableWidget* table = panel.summaryTable();
    QCOMPARE(table->columnCount(), 4);
    QCOMPARE(cell(table, "Anomalies", 0), QString::number(a.detection.anomalies));
    QCOMPARE(cell(table, "Anomalies", 1), QString::number(b.detection.anomalies));
    QCOMPARE(cell(table, "Anomalies", 2), "+" + QString::number(b.detection.anomalies - a.detection.anomalies));
    QCOMPARE(cell(table, "Recall", 0), QString::number(100 * a.detection.recall, 'f', 1) + " %");
    QCOMPARE(cell(table, "Forecast sMAPE (%)", 0), QString::number(a.forecast.smape(), 'f', 2));
    QCOMPARE(cell(table, "Interval coverage", 1), QString::number(100 * b.forecast.coverage(), 'f', 1) + " %");
    QCOMPARE(cell(table, "Predictive alerts", 0), QString::number(a.forecast.alerts));
    QCOMPARE(panel.servicesTable()->rowCount(), 2);

    // Kept in the workspace, and read back the same.
    const auto kept = ws->backtests();
    QCOMPARE(kept.size(), std::size_t(1));
    const BacktestRecord record = backtestRecordFromJson(kept[0].resultJson);
    QCOMPARE(record.a.detection.anomalies, a.detection.anomalies);
    QCOMPARE(record.b->detection.f1, b.detection.f1);
    QCOMPARE(record.services, (std::vector<std::string>{"auth", "checkout-api"}));  // workspace order
    QCOMPARE(record.a.perDay.size(), a.anomaliesPerDay.size());
    QCOMPARE(record.a.forecast.smapeSum, a.forecast.smapeSum);
    QCOMPARE(record.b->forecast.covered, b.forecast.covered);
    QCOMPARE(record.b->services[1].forecast.alerts, b.services[1].forecast.score.alerts);
    QVERIFY(tuningFromToml(record.b->configToml).detection.consensus.rule == core::detect::ConsensusRule::kAny);
  }

  void cancelStopsTheRunAndKeepsNothing() {
    QTemporaryDir dir;
    auto ws = simulatedWorkspace(dir, 8, 120);
    BacktestPanel panel;
    panel.setWorkspace(ws.get());
    QSignalSpy finished(&panel, &BacktestPanel::finished);
    QVERIFY(panel.run());
    QVERIFY(panel.running());
    QVERIFY(!panel.run());  // one at a time
    QTest::qWait(50);
    QElapsedTimer clock;
    clock.start();
    panel.cancel();
    QVERIFY(finished.wait(30000));
    QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QVERIFY(panel.status().contains("Cancelled"));
    QVERIFY(ws->backtests().empty());
    QVERIFY(!panel.running());
  }

  void refusesWhatCannotRun() {
    QTemporaryDir dir;
    auto ws = simulatedWorkspace(dir, 2, 10);
    BacktestPanel panel;
    panel.setWorkspace(ws.get());
    QSignalSpy errors(&panel, &BacktestPanel::errorOccurred);
    panel.selectServices({});
    QVERIFY(!panel.run());
    QVERIFY(errors.last().at(0).toString().contains("at least one service"));
    panel.selectServices({"checkout-api"});
    panel.setRange(2000000000, 1000000000);
    QVERIFY(!panel.run());
    QVERIFY(errors.last().at(0).toString().contains("range is empty"));
  }

  void savedSettingsBecomeChoices() {
    QTemporaryDir dir;
    auto ws = simulatedWorkspace(dir, 1, 10);
    TuningConfig current = TuningConfig::defaults();
    current.detection.anomaly.forest.trees = 33;
    BacktestPanel panel;
    panel.setCurrentSettings([&] { return current; });
    panel.setWorkspace(ws.get());
    QVERIFY(panel.saveCurrentSettingsAs("fewer trees"));
    QCOMPARE(tuningFromToml(*ws->configuration("fewer trees")).detection.anomaly.forest.trees, 33);
    panel.setConfigurations("fewer trees", "");
    panel.setScoreForecasts(false);  // detection only
    QSignalSpy finished(&panel, &BacktestPanel::finished);
    QVERIFY(panel.run());
    QVERIFY(finished.wait(60000));
    QCOMPARE(panel.shownRecord()->a.label, std::string("A: fewer trees"));
    QCOMPARE(panel.shownRecord()->a.forecast.forecasts, 0);
    QCOMPARE(cell(panel.summaryTable(), "Forecast sMAPE (%)", 0), QString("–"));
    QVERIFY(!panel.shownRecord()->b.has_value());
    QCOMPARE(panel.summaryTable()->columnCount(), 2);
  }
};

QTEST_MAIN(TestBacktestPanel)
#include "test_backtest_panel.moc"
