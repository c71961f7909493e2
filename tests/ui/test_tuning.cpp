// The tuning panel's logic and signals: edits are undoable steps, a changed setting - detection or
// forecasting - re-runs the engine in the background and updates the model behind the chart, a
// re-run reuses what the last one fitted, and only the latest run lands.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSignalSpy>
#include <QSpinBox>
#include <QUndoStack>
#include <QtTest>

#include "stacklens/core/backtest/forecast_replay.h"
#include "stacklens/ui/metric_view/metric_view_model.h"
#include "stacklens/ui/tuning/engine_runner.h"
#include "stacklens/ui/tuning/tuning_controller.h"
#include "stacklens/ui/tuning/tuning_job.h"
#include "stacklens/ui/tuning/tuning_model.h"
#include "stacklens/ui/tuning/tuning_panel.h"
#include "stacklens/ui/tuning/tuning_toml.h"
#include "stacklens/ui/workspace/demo_workspace.h"

using namespace stacklens::ui;
namespace core = stacklens::core;

namespace {

// One simulated service with 30 days of hourly data and incidents.
std::shared_ptr<const ServiceData> simulatedService(int days = 30) {
  core::sim::FleetConfig config;
  config.services = 1;
  config.hours = days * 24;
  config.seed = 5;
  config.incidentsPerServiceWeek = 2;
  return std::make_shared<const ServiceData>(simulatedServices(config).front());
}

std::vector<std::string> ids(const std::vector<core::AnomalyRecord>& anomalies) {
  std::vector<std::string> out;
  for (const auto& a : anomalies) out.push_back(a.anomalyId);
  return out;
}

// Settings that forecast with fixed seasonal orders (fast and deterministic).
TuningConfig fixedOrders() {
  TuningConfig c = TuningConfig::defaults();
  c.forecast.autoOrder = false;
  c.forecast.p = 1;
  c.forecast.d = 0;
  c.forecast.q = 0;
  c.forecast.seasonalP = 0;
  c.forecast.seasonalD = 1;
  c.forecast.seasonalQ = 1;
  c.forecast.period = 24;
  return c;
}

// A request that forecasts `metrics`, continues from `previous` and records what it leaves.
TuningRequest keeping(const std::shared_ptr<const ServiceData>& service, std::vector<std::string> metrics,
                      std::shared_ptr<const TuningCache> previous = {}) {
  TuningRequest r;
  r.forecastMetrics = std::move(metrics);
  r.previous = std::move(previous);
  r.next = std::make_shared<TuningCache>();
  r.next->data = service;
  return r;
}

// The forecast of `metric` as the engine gives it, with no workbench in between.
core::forecast::ForecastPath directForecast(const ServiceData& data, const std::string& metric, const TuningConfig& c) {
  const auto config = forecastConfig(c.forecast);
  return core::forecast::forecastArima(core::backtest::fitForecastModel(data.column(metric), config), config.horizon,
                                       config.level);
}

}  // namespace

class TestTuning : public QObject {
  Q_OBJECT
 private slots:
  void describesWhatChanged() {
    const TuningConfig a = TuningConfig::defaults();
    TuningConfig b = a;
    QVERIFY(describeChanges(a, b).empty());
    b.detection.anomaly.forest.contamination = 0.05;
    b.detection.patterns.eps.reset();
    b.forecast.thresholds["error_rate"] = 3;
    b.forecast.thresholds.erase("risk_score");
    const auto changes = describeChanges(a, b);
    QCOMPARE(changes.size(), std::size_t(3));
    QCOMPARE(changes[0], std::string("contamination 0.1 → 0.05"));
    QCOMPARE(changes[1], std::string("threshold error_rate 5 → 3"));
    QCOMPARE(changes[2], std::string("threshold risk_score 0.8 → none"));
  }

  void exportsTheSettingsAsTomlAndReadsThemBack() {
    TuningConfig c = TuningConfig::defaults();
    QVERIFY(describeChanges(c, tuningFromToml(tuningToToml(c))).empty());
    auto& d = c.detection;
    d.minTrainingSamples = 150;
    d.retrainEvery = 500;
    d.historyCapacity = 336;
    d.anomaly.forest.contamination.reset();
    d.anomaly.forest.trees = 250;
    d.anomaly.forest.maxSamples = 128;
    d.anomaly.standardize = false;
    d.patterns.eps = 0.75;
    d.patterns.minSamples = 6;
    d.patterns.windowShiftThreshold = 0.45;
    d.trendWindow = 96;
    d.trends.trend.degree = 2;
    d.trends.seasonalLag = 0;
    d.trends.changePoints.method = core::detect::ChangePointMethod::kBayesianOnline;
    d.trends.changePoints.window = 24;
    d.consensus.rule = core::detect::ConsensusRule::kWeighted;
    d.consensus.severity = {0.5, 0.7, 0.95};
    c.forecast.autoOrder = false;
    c.forecast.p = 2, c.forecast.d = 0, c.forecast.q = 1, c.forecast.seasonalP = 0, c.forecast.seasonalD = 1,
    c.forecast.seasonalQ = 1, c.forecast.period = 24;
    c.forecast.horizon = 48;
    c.forecast.level = 95;
    c.forecast.thresholds = {{"error_rate", 2.5}, {"latency_p99_ms", 750}};
    c.forecast.capacity = {{"total_requests", 40000}};
    const std::string toml = tuningToToml(c);
    QVERIFY(toml.find("contamination = \"auto\"") != std::string::npos);
    QVERIFY2(toml.find("[ml.detection]") != std::string::npos && toml.find("\n[kafka]") == std::string::npos &&
                 toml.find("capacity_every") == std::string::npos,
             toml.c_str());
    QVERIFY(toml.find("order = \"2,0,1,0,1,1,24\"") != std::string::npos);
    const TuningConfig back = tuningFromToml(toml);
    const auto diff = describeChanges(c, back);
    QVERIFY2(diff.empty(), diff.empty() ? "" : diff.front().c_str());
    // A partial file keeps the defaults for the rest.
    const TuningConfig partial = tuningFromToml("[ml.detection]\ntrees = 42\n");
    QCOMPARE(partial.detection.anomaly.forest.trees, 42);
    QCOMPARE(describeChanges(TuningConfig::defaults(), partial).size(), std::size_t(1));
  }

  void badTomlNamesTheLineAndKey_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown key") << "[ml]\nretrain_every = 5\nretrian = 3\n" << "tuned.toml:3: unknown key 'ml.retrian'";
    QTest::newRow("out of range") << "[ml.detection]\n\ncontamination = 0.9\n"
                                  << "tuned.toml:3: ml.detection.contamination: '0.9' is not a number in";
    QTest::newRow("bad choice") << "[ml.detection]\nconsensus_rule = \"most\"\n"
                                << "tuned.toml:2: ml.detection.consensus_rule: 'most' is not one of";
    QTest::newRow("bad order") << "[alerter]\norder = \"1,1\"\n" << "tuned.toml:2: alerter.order: '1,1': give 3 orders";
    QTest::newRow("bad threshold") << "[alerter.thresholds]\nerror_rate = \"high\"\n"
                                   << "tuned.toml:2: alerter.thresholds.error_rate: 'high' is not a number";
    QTest::newRow("syntax") << "[ml\ntrees = 3\n" << "tuned.toml:1:";
    QTest::newRow("unknown section") << "[kafak]\nx = 1\n" << "tuned.toml:2: unknown key 'kafak.x'";
  }

  void badTomlNamesTheLineAndKey() {
    QFETCH(QString, text);
    QFETCH(QString, message);
    try {
      tuningFromToml(text.toStdString(), "tuned.toml");
      QFAIL("accepted");
    } catch (const TuningTomlError& e) {
      QVERIFY2(QString(e.what()).contains(message), e.what());
    }
  }

  void editsAreUndoableAndOneFieldsStepsMerge() {
    TuningModel model;
    QSignalSpy changed(&model, &TuningModel::configChanged);
    TuningConfig c = model.config();
    c.detection.anomaly.forest.trees = 50;
    model.edit(c, 1);
    c.detection.anomaly.forest.trees = 60;
    model.edit(c, 1);  // same field: merges
    c.detection.consensus.rule = core::detect::ConsensusRule::kAny;
    model.edit(c, 2);
    model.edit(c, 3);  // no change: not recorded
    QCOMPARE(model.undoStack()->count(), 2);
    QCOMPARE(changed.count(), 3);
    QCOMPARE(model.undoStack()->undoText(), QString("consensus majority → any"));
    model.undoStack()->undo();
    QVERIFY(model.config().detection.consensus.rule == core::detect::ConsensusRule::kMajority);
    QCOMPARE(model.undoStack()->undoText(), QString("trees 100 → 60"));
    model.undoStack()->undo();
    QCOMPARE(model.config().detection.anomaly.forest.trees, 100);
    model.undoStack()->redo();
    QCOMPARE(model.config().detection.anomaly.forest.trees, 60);
    model.resetToDefaults();
    QCOMPARE(model.config().detection.anomaly.forest.trees, 100);
    QCOMPARE(model.undoStack()->count(), 2);  // the redo of "consensus" was replaced by "defaults"
  }

  void thePanelEditsTheModelAndShowsUndo() {
    TuningModel model;
    TuningPanel panel(&model);
    auto* contamination = qobject_cast<QDoubleSpinBox*>(panel.editor("contamination"));
    auto* rule = qobject_cast<QComboBox*>(panel.editor("consensusRule"));
    auto* lag = qobject_cast<QSpinBox*>(panel.editor("seasonalLag"));
    auto* threshold = qobject_cast<QDoubleSpinBox*>(panel.editor("threshold"));
    auto* metric = qobject_cast<QComboBox*>(panel.editor("limitMetric"));
    QVERIFY(contamination && rule && lag && threshold && metric);
    for (const char* name : {"trees", "maxSamples", "eps", "minSamples", "trendWindow", "trendDegree",
                             "changePointMethod", "severityMedium", "severityHigh", "severityCritical", "autoOrder",
                             "orderP", "orderD", "orderQ", "orderSeasonalP", "orderSeasonalD", "orderSeasonalQ",
                             "period", "horizon", "level", "capacity"})
      QVERIFY2(panel.editor(name), name);

    QCOMPARE(contamination->value(), 0.1);
    contamination->setValue(0.0);  // the "auto" end of the range
    QVERIFY(!model.config().detection.anomaly.forest.contamination.has_value());
    QCOMPARE(contamination->text(), QString("auto"));
    rule->setCurrentText("unanimous");
    QVERIFY(model.config().detection.consensus.rule == core::detect::ConsensusRule::kUnanimous);
    lag->setValue(0);
    QCOMPARE(model.config().detection.trends.seasonalLag, 0);  // auto: the dominant period

    panel.setMetrics({"error_rate", "total_requests"});
    metric->setCurrentText("error_rate");
    QCOMPARE(threshold->value(), 5.0);
    threshold->setValue(2.5);
    QCOMPARE(model.config().forecast.thresholds.at("error_rate"), 2.5);
    metric->setCurrentText("total_requests");
    QCOMPARE(threshold->text(), QString("none"));  // no threshold for requests

    model.undoStack()->undo();  // the threshold
    metric->setCurrentText("error_rate");
    QCOMPARE(threshold->value(), 5.0);
    model.undoStack()->undo();  // the lag
    QCOMPARE(lag->value(), 12);
    model.undoStack()->undo();  // the rule
    QCOMPARE(rule->currentText(), QString("majority"));
  }

  void aChangedSettingRerunsTheEngineAndUpdatesTheChartModel() {
    TuningModel tuning;
    MetricViewModel view;
    TuningController controller(&tuning, &view);
    QSignalSpy applied(&controller, &TuningController::resultsApplied);
    QSignalSpy plots(&view, &MetricViewModel::plotsChanged);
    const auto service = simulatedService();
    view.setService(service);
    QVERIFY(applied.wait(20000));
    QCOMPARE(view.resultGeneration(), 1);
    const auto before = view.results().anomalies;
    QCOMPARE(ids(before), ids(runTuning(*service, tuning.config(), {}).anomalies));

    // "any" flags every sample one method finds odd: more anomalies, a new chart model.
    TuningPanel panel(&tuning);
    qobject_cast<QComboBox*>(panel.editor("consensusRule"))->setCurrentText("any");
    QVERIFY(applied.wait(20000));
    QCOMPARE(view.resultGeneration(), 2);
    const auto after = view.results().anomalies;
    QVERIFY2(after.size() > before.size(), qPrintable(QString("%1 -> %2").arg(before.size()).arg(after.size())));
    QCOMPARE(ids(after), ids(runTuning(*service, tuning.config(), {}).anomalies));
    QVERIFY(plots.count() >= 3);  // new service, first results, second results
    // The chart's plots carry the new anomalies.
    std::size_t marks = 0;
    for (const MetricPlot& p : view.plots()) marks += p.anomalies.size();
    QVERIFY(marks > 0);
    QCOMPARE(applied.last().at(0).toString(), QString::fromStdString(service->name));
  }

  void aChangedForecastSettingUpdatesTheBandBreachAndCapacity() {
    TuningModel tuning;
    tuning.load(fixedOrders());
    MetricViewModel view;
    TuningController controller(&tuning, &view);
    QSignalSpy applied(&controller, &TuningController::resultsApplied);
    const auto service = simulatedService();
    const std::string metric = "latency_p99_ms";
    view.setMetrics({QString::fromStdString(metric)});
    view.setService(service);
    QVERIFY(applied.wait(20000));
    const core::EpochSeconds last = service->timestamps.back();
    {
      const ForecastBand& band = view.results().forecasts.at(metric);
      const auto direct = directForecast(*service, metric, tuning.config());
      QCOMPARE(band.t.size(), std::size_t(24));
      QCOMPARE(band.t.front(), last + 3600);
      QCOMPARE(band.mean, direct.mean);
      QCOMPARE(band.upper, direct.upper);
      QVERIFY(view.plots().front().forecast.has_value());
    }

    // Horizon and level through the panel's editors.
    TuningPanel panel(&tuning);
    qobject_cast<QSpinBox*>(panel.editor("horizon"))->setValue(48);
    QVERIFY(applied.wait(20000));
    QCOMPARE(view.results().forecasts.at(metric).t.size(), std::size_t(48));
    QCOMPARE(view.results().forecasts.at(metric).t.back(), last + 48 * 3600);
    const ForecastBand at90 = view.results().forecasts.at(metric);
    qobject_cast<QDoubleSpinBox*>(panel.editor("level"))->setValue(99);
    QVERIFY(applied.wait(20000));
    const ForecastBand at99 = view.results().forecasts.at(metric);
    QCOMPARE(at99.level, 99.0);
    QCOMPARE(at99.mean, at90.mean);  // the same model, wider interval
    for (std::size_t h = 0; h < at99.mean.size(); ++h)
      QVERIFY(at99.upper[h] - at99.lower[h] > at90.upper[h] - at90.lower[h]);

    // A threshold under the forecast's peak: a predicted breach window, the engine's own.
    TuningConfig c = tuning.config();
    const double peak = *std::max_element(at99.mean.begin(), at99.mean.end());
    c.forecast.thresholds[metric] = peak * 0.97;
    tuning.edit(c, -1);
    QVERIFY(applied.wait(20000));
    QVERIFY(view.results().breaches.count(metric));
    const BreachWindow breach = view.results().breaches.at(metric);
    const auto config = forecastConfig(c.forecast);
    const auto model = core::backtest::fitForecastModel(service->column(metric), config);
    const auto direct = core::backtest::predictThresholdBreach(model, config, c.forecast.thresholds[metric]);
    QCOMPARE(breach.start, last + *direct.windowStart * 3600);
    QCOMPARE(breach.end, last + *direct.windowEnd * 3600);
    QCOMPARE(breach.probability, direct.probability);
    QCOMPARE(view.plots().front().threshold.value(), peak * 0.97);
    QVERIFY(view.plots().front().breach.has_value());

    // A capacity limit: the capacity projection over two weeks.
    c.forecast.capacity[metric] = peak * 3;
    tuning.edit(c, -1);
    QVERIFY(applied.wait(20000));
    const CapacityProjection& projection = view.results().capacity.at(metric);
    QCOMPARE(projection.t.size(), std::size_t(kCapacityHorizonHours));
    QCOMPARE(projection.limit, peak * 3);
    QVERIFY(view.plots().front().capacity.has_value());

    // Other orders: a new model.
    qobject_cast<QSpinBox*>(panel.editor("orderP"))->setValue(2);
    QVERIFY(applied.wait(20000));
    QVERIFY2(applied.last().at(2).toString().contains("ARIMA(2,0,0)(0,1,1)[24]"),
             qPrintable(applied.last().at(2).toString()));
    QCOMPARE(view.results().forecasts.at(metric).mean, directForecast(*service, metric, tuning.config()).mean);

    // Picking another metric forecasts it too.
    view.setMetrics({QString::fromStdString(metric), "error_rate"});
    QVERIFY(applied.wait(20000));
    QVERIFY(view.results().forecasts.count("error_rate"));
  }

  void aRerunReusesTheFittedModelsAndDetectionUntilTheyChange() {
    const auto service = simulatedService(20);
    const std::string metric = "error_rate";
    TuningConfig c = fixedOrders();
    TuningRequest first = keeping(service, {metric});
    runTuning(*service, c, {}, first);
    QVERIFY(first.next->models.count(metric));
    QVERIFY(first.next->detectedWith.has_value());

    // Tamper with what the first run left: a re-run that reuses it shows the tampered values.
    auto kept = std::make_shared<TuningCache>(*first.next);
    kept->models.at(metric).model.constantValue += 1.0;
    kept->detection.anomalies.resize(1);
    TuningRequest again;
    again.forecastMetrics = {metric};
    again.previous = kept;
    c.forecast.horizon = 12;  // a forecast-only change
    const ServiceResults reused = runTuning(*service, c, {}, again);
    QCOMPARE(reused.anomalies.size(), std::size_t(1));
    QCOMPARE(reused.forecasts.at(metric).mean,
             core::forecast::forecastArima(kept->models.at(metric).model, 12, c.forecast.level).mean);

    // Other orders refit; other detection settings detect again; other data ignores the cache.
    c.forecast.q = 1;
    c.detection.anomaly.forest.trees = 50;
    const ServiceResults refitted = runTuning(*service, c, {}, again);
    QCOMPARE(refitted.forecasts.at(metric).mean, directForecast(*service, metric, c).mean);
    QCOMPARE(ids(refitted.anomalies), ids(runTuning(*service, c, {}).anomalies));
    const auto copy = std::make_shared<const ServiceData>(*service);
    c = fixedOrders();
    c.forecast.horizon = 12;
    const ServiceResults fresh = runTuning(*copy, c, {}, again);
    QCOMPARE(fresh.forecasts.at(metric).mean, directForecast(*copy, metric, c).mean);
    QVERIFY(fresh.anomalies.size() > 1);
  }

  // Going back to earlier orders (undo) finds their model instead of fitting again.
  void goingBackToEarlierOrdersReusesTheirModels() {
    const auto service = simulatedService(20);
    const std::string metric = "error_rate";
    TuningConfig a = fixedOrders();
    TuningConfig b = a;
    b.forecast.p = 2;
    TuningRequest request = keeping(service, {metric});
    runTuning(*service, a, {}, request);
    request = keeping(service, {metric}, request.next);
    const ServiceResults withB = runTuning(*service, b, {}, request);
    QCOMPARE(withB.forecasts.at(metric).mean, directForecast(*service, metric, b).mean);
    auto afterB = std::make_shared<TuningCache>(*request.next);
    QCOMPARE(afterB->earlier.size(), std::size_t(1));
    afterB->earlier.front().second.model.constantValue += 1.0;  // tampered: shows that it is reused
    request = keeping(service, {metric}, afterB);
    const ServiceResults backToA = runTuning(*service, a, {}, request);
    QCOMPARE(
        backToA.forecasts.at(metric).mean,
        core::forecast::forecastArima(afterB->earlier.front().second.model, a.forecast.horizon, a.forecast.level).mean);
    // B went to `earlier` in its turn.
    QCOMPARE(request.next->earlier.size(), std::size_t(1));
    QCOMPARE(request.next->earlier.front().second.key, afterB->models.at(metric).key);
  }

  // A change of detection settings, or of another metric's threshold, reuses the drawn forecast; a
  // change of the metric's own forecasting settings does not.
  void aDetectionChangeReusesTheDrawnForecasts() {
    const auto service = simulatedService(20);
    const std::string metric = "error_rate";
    TuningConfig c = fixedOrders();
    TuningRequest first = keeping(service, {metric});
    runTuning(*service, c, {}, first);
    auto kept = std::make_shared<TuningCache>(*first.next);
    QVERIFY(kept->outcomes.count(metric));
    kept->outcomes.at(metric).second.band->mean.front() += 1000;  // tampered: shows that it is reused
    TuningRequest again;
    again.forecastMetrics = {metric};
    again.previous = kept;
    c.detection.anomaly.forest.contamination = 0.05;
    const ServiceResults reused = runTuning(*service, c, {}, again);
    QCOMPARE(reused.forecasts.at(metric).mean, kept->outcomes.at(metric).second.band->mean);
    c.forecast.thresholds["latency_p99_ms"] = 200;  // another metric's threshold
    QCOMPARE(runTuning(*service, c, {}, again).forecasts.at(metric).mean, kept->outcomes.at(metric).second.band->mean);
    c.forecast.thresholds[metric] = 0.5;
    const ServiceResults redrawn = runTuning(*service, c, {}, again);
    QCOMPARE(redrawn.forecasts.at(metric).mean, runTuning(*service, c, {}, first).forecasts.at(metric).mean);
    QVERIFY(redrawn.forecasts.at(metric).mean != kept->outcomes.at(metric).second.band->mean);
  }

  // The contamination and the consensus settings decide the kept replay again instead of replaying
  // (core::backtest::redecideService): the same anomalies as running the engine directly.
  void aContaminationOrConsensusChangeDecidesTheKeptReplayAgain() {
    const auto service = simulatedService(20);
    TuningConfig c = fixedOrders();
    TuningRequest first = keeping(service, {});
    runTuning(*service, c, {}, first);
    QVERIFY(first.next->trace && first.next->trace->complete);

    TuningRequest again;
    again.previous = first.next;
    for (int variant = 0; variant < 3; ++variant) {
      TuningConfig changed = c;
      if (variant == 0) changed.detection.anomaly.forest.contamination = 0.04;
      if (variant == 1) changed.detection.consensus.rule = core::detect::ConsensusRule::kAny;
      if (variant == 2) changed.detection.consensus.severity.critical = 0.8;
      const ServiceResults decided = runTuning(*service, changed, {}, again);
      const ServiceResults direct = runTuning(*service, changed, {});
      QCOMPARE(ids(decided.anomalies), ids(direct.anomalies));
      for (std::size_t k = 0; k < direct.anomalies.size(); ++k)
        QVERIFY(decided.anomalies[k].severity == direct.anomalies[k].severity);
    }
    // It is the trace that answers: with its steps removed, a contamination change finds nothing,
    // while a change the models depend on (the trees) replays.
    auto tampered = std::make_shared<TuningCache>(*first.next);
    auto trace = std::make_shared<core::backtest::DetectionTrace>(*tampered->trace);
    trace->steps.clear();
    tampered->trace = trace;
    again.previous = tampered;
    TuningConfig changed = c;
    changed.detection.anomaly.forest.contamination = 0.2;
    QVERIFY(runTuning(*service, changed, {}, again).anomalies.empty());
    changed.detection.anomaly.forest.trees = 60;
    QCOMPARE(ids(runTuning(*service, changed, {}, again).anomalies), ids(runTuning(*service, changed, {}).anomalies));
    QVERIFY(!runTuning(*service, changed, {}).anomalies.empty());
  }

  void onlyTheLatestOfManyQuickChangesLands() {
    TuningModel tuning;
    MetricViewModel view;
    TuningController controller(&tuning, &view);
    QSignalSpy applied(&controller, &TuningController::resultsApplied);
    view.setService(simulatedService());
    QVERIFY(applied.wait(20000));
    applied.clear();
    TuningConfig c = tuning.config();
    for (int trees : {20, 30, 40, 50, 60}) {
      c.detection.anomaly.forest.trees = trees;
      tuning.edit(c, 7);
      QCoreApplication::processEvents();  // each change submits a run
    }
    controller.runner()->waitForIdle();
    QCoreApplication::processEvents();
    QCOMPARE(applied.count(), 1);
    QCOMPARE(ids(view.results().anomalies), ids(runTuning(*view.service(), tuning.config(), {}).anomalies));
    QVERIFY(controller.runner()->runsStarted() <= 3);  // the first, one of the burst, the last: stale ones dropped
  }
};

QTEST_MAIN(TestTuning)
#include "test_tuning.moc"
