// Forecast replays: the rolling-origin replay equals forecasting each origin by hand with the
// forecasting engine, automatic orders are searched once and kept, the last fit applied to a moved
// window is that fit's coefficients with the window's exact likelihood, a predictive alert materializes
// by the predictive alerter's rule (an anomaly in its window that concerns the metric or shows it above
// the threshold), and runBacktest adds the forecast scores per service and in total, with the
// materializations of its own detected anomalies.
#include <atomic>
#include <cmath>

#include <QtTest>

#include "stacklens/core/backtest/backtest.h"
#include "stacklens/core/backtest/forecast_replay.h"
#include "stacklens/core/eval/forecast_metrics.h"
#include "stacklens/core/forecast/auto_arima.h"
#include "stacklens/core/pipeline/alert_materialization.h"

#include "fleet_support.h"

using namespace stacklens::core;

namespace {

std::vector<backtest::ServiceHistory> fleet(int services, int days) {
  return stacklens::test::simulatedHistories(services, days, 11);
}

std::vector<double> column(const std::vector<ServiceMetrics>& samples, std::string_view metric) {
  std::vector<double> y;
  for (const ServiceMetrics& m : samples) y.push_back(backtest::metricValue(m, metric));
  return y;
}

// An anomaly at every sample whose metric is above the threshold, of a type that concerns no metric:
// with these the alerter's rule materializes an alert exactly when the values cross in its window.
std::vector<AnomalyRecord> crossings(const std::vector<ServiceMetrics>& samples, const std::string& metric,
                                     double threshold) {
  std::vector<AnomalyRecord> out;
  for (const ServiceMetrics& m : samples) {
    const double v = backtest::metricValue(m, metric);
    if (!(v > threshold)) continue;
    AnomalyRecord a;
    a.service = m.service;
    a.timestamp = m.timestamp;
    a.type = AnomalyType::kOutlier;
    a.metricValues[metric] = v;
    out.push_back(a);
  }
  return out;
}

// The q-quantile of y (nearest rank).
double quantile(std::vector<double> y, double q) {
  std::sort(y.begin(), y.end());
  return y[static_cast<std::size_t>(q * static_cast<double>(y.size() - 1))];
}

// What replayForecasts should find, computed origin by origin with the engine's own functions.
struct Expected {
  backtest::ForecastScore score;
  std::vector<bool> materialized;
};

Expected forecastByHand(const std::vector<double>& y, std::size_t first, std::size_t last,
                        const backtest::ForecastConfig& config, double threshold) {
  Expected e;
  const auto h = static_cast<std::size_t>(config.horizon);
  std::optional<forecast::ArimaModel> chosen, fitted;
  std::size_t k = 0;
  for (std::size_t origin = first; origin + h < last; origin += static_cast<std::size_t>(config.originEvery), ++k) {
    const std::size_t begin =
        origin + 1 > static_cast<std::size_t>(config.fitWindow) ? origin + 1 - config.fitWindow : 0;
    const std::vector<double> window(y.begin() + static_cast<std::ptrdiff_t>(begin),
                                     y.begin() + static_cast<std::ptrdiff_t>(origin + 1));
    const std::vector<double> actual(y.begin() + static_cast<std::ptrdiff_t>(origin + 1),
                                     y.begin() + static_cast<std::ptrdiff_t>(origin + 1 + h));
    forecast::ArimaModel model;
    if (fitted && k % static_cast<std::size_t>(config.refitEvery) != 0) {
      model = forecast::refilterArima(*fitted, window);
    } else if (config.order || chosen) {
      forecast::ArimaSpec spec;
      spec.order = config.order ? *config.order : chosen->order;
      if (!config.order) spec.includeConstant = chosen->constant != forecast::ArimaConstant::kNone;
      model = forecast::fitArima(window, spec);
    } else {
      forecast::AutoArimaOptions options;
      options.period = config.period;
      options.timeLimitSeconds = config.searchSeconds;
      model = forecast::autoArima(window, options).model;
      chosen = model;
    }
    if (!fitted || k % static_cast<std::size_t>(config.refitEvery) == 0) fitted = model;
    const forecast::ForecastPath path = forecast::forecastArima(model, config.horizon, config.level);
    ++e.score.forecasts;
    e.score.smapeSum += eval::smape(actual, path.mean);
    e.score.maseSum += eval::mase(window, actual, path.mean, config.order ? config.order->period : config.period);
    ++e.score.maseForecasts;
    for (std::size_t j = 0; j < h; ++j) {
      ++e.score.points;
      e.score.covered += actual[j] >= path.lower[j] && actual[j] <= path.upper[j];
    }
    forecast::BreachOptions breach;
    breach.threshold = threshold;
    breach.simulations = config.simulations;
    breach.seed = config.seed;
    const forecast::BreachPrediction p = forecast::predictBreach(model, config.horizon, breach);
    if (p.probability < config.alertProbability || !p.windowStart) continue;
    bool crossed = false;
    for (auto j = static_cast<std::size_t>(*p.windowStart); j <= static_cast<std::size_t>(*p.windowEnd); ++j)
      crossed = crossed || y[origin + j] > threshold;
    ++e.score.alerts;
    e.score.materialized += crossed;
    e.materialized.push_back(crossed);
  }
  return e;
}

void compareScores(const backtest::ForecastScore& got, const backtest::ForecastScore& want) {
  QCOMPARE(got.forecasts, want.forecasts);
  QCOMPARE(got.smapeSum, want.smapeSum);
  QCOMPARE(got.maseSum, want.maseSum);
  QCOMPARE(got.maseForecasts, want.maseForecasts);
  QCOMPARE(got.points, want.points);
  QCOMPARE(got.covered, want.covered);
  QCOMPARE(got.alerts, want.alerts);
  QCOMPARE(got.materialized, want.materialized);
}

backtest::ForecastConfig fixedSeasonal(const std::string& metric, double threshold) {
  backtest::ForecastConfig config;
  config.order = forecast::ArimaOrder{1, 0, 0, 0, 1, 1, 24};
  config.fitWindow = 7 * 24;
  config.originEvery = 36;
  config.refitEvery = 2;  // origins 0, 2, 4 refit; 1, 3 apply the last fit to the moved window
  config.thresholds = {{metric, threshold}};
  return config;
}

}  // namespace

class TestForecastReplay : public QObject {
  Q_OBJECT
 private slots:
  void replayEqualsForecastingEachOriginByHand() {
    const auto history = fleet(1, 16).front();
    const std::vector<double> y = column(history.samples, "latency_p99_ms");
    // A threshold the daily peaks reach now and then: some alerts materialize, some do not.
    const double threshold = quantile(y, 0.9);
    const backtest::ForecastConfig config = fixedSeasonal("latency_p99_ms", threshold);
    const std::size_t first = 8 * 24, last = y.size();
    backtest::ForecastReplay replay = backtest::replayForecasts(history.samples, first, last, config);
    QCOMPARE(replay.score.materialized, 0);  // nothing is decided before the anomalies are known
    backtest::materializeAlerts(replay, crossings(history.samples, "latency_p99_ms", threshold));
    const Expected expected = forecastByHand(y, first, last, config, threshold);

    QCOMPARE(replay.score.forecasts, 5);  // origins 192, 228, ..., 336: each with 24 hours after it
    QCOMPARE(backtest::forecastCount(y.size(), first, last, config), std::size_t(5));
    compareScores(replay.score, expected.score);
    QCOMPARE(replay.alerts.size(), expected.materialized.size());
    for (std::size_t k = 0; k < replay.alerts.size(); ++k) {
      QCOMPARE(replay.alerts[k].materialized, expected.materialized[k]);
      QVERIFY(replay.alerts[k].windowStart > replay.alerts[k].origin);
      QVERIFY(replay.alerts[k].windowEnd >= replay.alerts[k].windowStart);
    }
    QVERIFY2(replay.score.alerts > 0, "the threshold is low enough for alerts");
    QVERIFY(replay.orders.at("latency_p99_ms") == *config.order);
    // Sensible accuracy on the simulator's seasonal latency: sMAPE in percent, coverage a fraction.
    QVERIFY(replay.score.smape() > 0 && replay.score.smape() < 50);
    QVERIFY(replay.score.coverage() > 0.5 && replay.score.coverage() <= 1.0);
  }

  void refilteringAppliesTheFittedCoefficientsToNewData() {
    const std::vector<double> y = column(fleet(1, 14).front().samples, "latency_p99_ms");
    const std::span<const double> before(y.data(), 200), after(y.data() + 24, 200);
    forecast::ArimaSpec spec;
    spec.order = {1, 0, 0, 0, 1, 1, 24};
    const forecast::ArimaModel model = forecast::fitArima(before, spec);
    QVERIFY(model.constant == forecast::ArimaConstant::kDrift);
    // On the data it was fitted to: the same model.
    const forecast::ArimaModel same = forecast::refilterArima(model, before);
    QCOMPARE(same.logLikelihood, model.logLikelihood);
    QCOMPARE(same.sigma2, model.sigma2);
    QCOMPARE(same.constantValue, model.constantValue);
    QVERIFY(same.finalState.isApprox(model.finalState));
    // Moved on by a day: the AR and MA coefficients kept, the drift re-estimated, and the
    // likelihood the exact one of the new window at those coefficients.
    const forecast::ArimaModel moved = forecast::refilterArima(model, after);
    QCOMPARE(moved.ar, model.ar);
    QCOMPARE(moved.seasonalMa, model.seasonalMa);
    QVERIFY(moved.constantValue != model.constantValue);
    const auto exact = forecast::arimaLikelihood(after, spec.order, moved.constant, moved.coefficients());
    QVERIFY(std::abs(moved.logLikelihood - exact.logLikelihood) < 1e-8 * std::abs(exact.logLikelihood));
    QVERIFY(moved.logLikelihood <= forecast::fitArima(after, spec).logLikelihood + 1e-6);  // not the optimum
    QCOMPARE(forecast::forecastArima(moved, 24).mean.size(), std::size_t(24));
  }

  void automaticOrdersAreSearchedOnceAndKept() {
    const auto history = fleet(1, 14).front();
    const std::vector<double> y = column(history.samples, "error_rate");
    backtest::ForecastConfig config;
    config.fitWindow = 6 * 24;
    config.originEvery = 48;
    config.thresholds = {{"error_rate", quantile(y, 0.95)}};
    const std::size_t first = 10 * 24, last = y.size();
    backtest::ForecastReplay replay = backtest::replayForecasts(history.samples, first, last, config);
    backtest::materializeAlerts(replay, crossings(history.samples, "error_rate", config.thresholds.at("error_rate")));
    const Expected expected = forecastByHand(y, first, last, config, config.thresholds.at("error_rate"));
    QCOMPARE(replay.score.forecasts, 2);
    compareScores(replay.score, expected.score);
  }

  void anAlertMaterializesWhenTheValuesCrossInItsWindow() {
    // A steady climb (a slow leak, 0.5 ms an hour, at 200 ms at the origin): the forecast expects it
    // to cross 205 ms within the day. Once the
    // climb goes on (the alert comes true), once the service is restarted at the origin (it does not).
    std::vector<ServiceMetrics> climbing, restarted;
    for (int t = 0; t <= 200 + 24; ++t) {
      ServiceMetrics m;
      m.service = "leaky";
      m.timestamp = 1767225600 + 3600 * t;
      m.latencyP99Ms = 100 + 0.5 * t + 0.3 * std::sin(1.7 * t);
      climbing.push_back(m);
      if (t > 200) m.latencyP99Ms = 60;
      restarted.push_back(m);
    }
    backtest::ForecastConfig config;
    config.order = forecast::ArimaOrder{0, 1, 0, 0, 0, 0, 1};  // random walk with drift
    config.fitWindow = 200;
    config.originEvery = 1000;
    config.thresholds = {{"latency_p99_ms", 205.0}};
    auto rising = backtest::replayForecasts(climbing, 200, climbing.size(), config);
    auto dropped = backtest::replayForecasts(restarted, 200, restarted.size(), config);
    backtest::materializeAlerts(rising, crossings(climbing, "latency_p99_ms", 205.0));
    backtest::materializeAlerts(dropped, crossings(restarted, "latency_p99_ms", 205.0));
    QCOMPARE(rising.score.alerts, 1);
    QCOMPARE(dropped.score.alerts, 1);  // the same history up to the origin: the same alert
    QCOMPARE(rising.alerts[0].windowStart, dropped.alerts[0].windowStart);
    QVERIFY(rising.alerts[0].probability > 0.9);
    QVERIFY(rising.alerts[0].materialized);
    QVERIFY(!dropped.alerts[0].materialized);
    QCOMPARE(rising.score.materializationRate(), 1.0);
    QCOMPARE(dropped.score.materializationRate(), 0.0);
    // The forecast of the climb is close; of the restart, far off.
    QVERIFY(rising.score.smape() < 2);
    QVERIFY(dropped.score.smape() > 50);

    // The alerter's rule: an anomaly in the window concerning the metric by its type materializes
    // the alert even below the threshold; outside the window, or about another metric, it does not.
    const backtest::ReplayedAlert alert = dropped.alerts[0];
    auto anomalyAt = [&](EpochSeconds t, AnomalyType type, double value) {
      AnomalyRecord a;
      a.service = "leaky";
      a.timestamp = t;
      a.type = type;
      a.metricValues["latency_p99_ms"] = value;
      return a;
    };
    const std::vector<std::pair<AnomalyRecord, bool>> cases = {
        {anomalyAt(alert.windowStart, AnomalyType::kLatencyDegradation, 60), true},
        {anomalyAt(alert.windowEnd, AnomalyType::kOutlier, 206), true},
        {anomalyAt(alert.windowEnd, AnomalyType::kOutlier, 204), false},
        {anomalyAt(alert.windowStart, AnomalyType::kErrorSpike, 60), false},
        {anomalyAt(alert.windowStart - 3600, AnomalyType::kLatencyDegradation, 300), false},
        {anomalyAt(alert.windowEnd + 3600, AnomalyType::kLatencyDegradation, 300), false},
    };
    for (const auto& [anomaly, expected] : cases) {
      auto replay = dropped;
      backtest::materializeAlerts(replay, std::vector<AnomalyRecord>{anomaly});
      QCOMPARE(replay.alerts[0].materialized, expected);
      QCOMPARE(replay.score.materialized, expected ? 1 : 0);
      QCOMPARE(pipeline::materializes({alert.metric, alert.threshold, alert.windowStart, alert.windowEnd}, anomaly),
               expected);
    }
  }

  void backtestAddsForecastScoresPerServiceAndInTotal() {
    const auto services = fleet(2, 14);
    backtest::BacktestConfig config;
    config.from = services.front().samples.front().timestamp + 8 * 86400;
    config.threads = 2;
    config.forecast = fixedSeasonal("error_rate", 1.0);
    std::vector<double> progress;
    backtest::BacktestCallbacks callbacks;
    callbacks.progress = [&](double f) { progress.push_back(f); };
    const backtest::BacktestResult result = backtest::runBacktest(services, config, callbacks);
    backtest::ForecastScore total;
    for (std::size_t s = 0; s < services.size(); ++s) {
      const auto& samples = services[s].samples;
      const auto first = static_cast<std::size_t>(
          std::lower_bound(samples.begin(), samples.end(), config.from,
                           [](const ServiceMetrics& m, EpochSeconds t) { return m.timestamp < t; }) -
          samples.begin());
      auto direct = backtest::replayForecasts(samples, first, samples.size(), *config.forecast);
      backtest::materializeAlerts(direct, result.services[s].anomalies);  // the replay's own detections
      compareScores(result.services[s].forecast.score, direct.score);
      total.add(direct.score);
    }
    compareScores(result.forecast, total);
    QVERIFY(result.forecast.forecasts > 0);
    QCOMPARE(progress.back(), 1.0);
    // Without a forecast configuration, nothing is forecast.
    config.forecast.reset();
    QCOMPARE(backtest::runBacktest(services, config).forecast.forecasts, 0);
  }

  void cancelStopsBetweenOrigins() {
    const auto history = fleet(1, 16).front();
    backtest::ForecastConfig config = fixedSeasonal("latency_p99_ms", 1e9);
    config.originEvery = 1;
    std::atomic<int> polls{0};
    const auto replay =
        backtest::replayForecasts(history.samples, 8 * 24, history.samples.size(), config, [&] { return ++polls > 3; });
    QCOMPARE(replay.score.forecasts, 3);
  }

  void badSettingsNameTheField_data() {
    QTest::addColumn<int>("field");
    QTest::addColumn<QString>("message");
    QTest::newRow("horizon") << 0 << "horizon";
    QTest::newRow("level") << 1 << "level";
    QTest::newRow("origin") << 2 << "origin_every";
    QTest::newRow("order") << 3 << "orders";
  }
  void badSettingsNameTheField() {
    QFETCH(int, field);
    QFETCH(QString, message);
    backtest::ForecastConfig config;
    if (field == 0) config.horizon = 0;
    if (field == 1) config.level = 100;
    if (field == 2) config.originEvery = 0;
    if (field == 3) config.order = forecast::ArimaOrder{-1, 0, 0, 0, 0, 0, 1};
    try {
      backtest::validate(config);
      QFAIL("accepted");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString(e.what()).contains(message), e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestForecastReplay)
#include "test_forecast_replay.moc"
