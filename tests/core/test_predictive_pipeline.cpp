// The original PredictiveAlerter's behaviours on the pure pipeline: history windows, forecasts
// through the engine's ARIMA, threshold-breach alerts with their window, capacity forecasts every
// N anomalies, materialization and suppression.
#include <QtTest>

#include <cmath>

#include "stacklens/core/forecast/arima.h"
#include "stacklens/core/forecast/auto_arima.h"
#include "stacklens/core/pipeline/predictive_pipeline.h"

#include "alerter_support.h"

using namespace stacklens::core;
using namespace stacklens::core::pipeline;
namespace fc = stacklens::core::forecast;

namespace {

constexpr EpochSeconds kHour = 3600;
constexpr EpochSeconds kStart = 1767225600;  // 2026-01-01T00:00:00Z
constexpr EpochSeconds kNow = 1800000000;

template <typename ErrorFn, typename LatencyFn>
std::vector<ServiceMetrics> history(const std::string& service, int hours, ErrorFn errorRate, LatencyFn latencyMean) {
  return stacklens::test::syntheticHistory(service, kStart, hours, errorRate, latencyMean);
}

std::vector<ServiceMetrics> risingErrors(const std::string& service = "api", int hours = 168) {
  // Crosses 5 % about 8 hours after the last row.
  return history(service, hours, [](int t) { return 0.8 + 0.024 * t; }, [](int) { return 100.0; });
}

std::vector<ServiceMetrics> steady(const std::string& service = "api", int hours = 168) {
  return history(service, hours, [](int) { return 0.5; }, [](int t) { return 100 + 10 * std::sin(2 * M_PI * t / 24); });
}

AnomalyRecord anomalyAt(const std::string& service, EpochSeconds t, AnomalyType type = AnomalyType::kErrorSpike,
                        std::map<std::string, double> values = {}) {
  return stacklens::test::makeAnomaly(service, t, type, std::move(values));
}

PredictiveOutput feed(PredictivePipeline& p, const std::vector<ServiceMetrics>& rows, const AnomalyRecord& a) {
  return stacklens::test::feedPipeline(p, rows, a);
}

PredictivePipelineConfig onlyErrorRate(std::optional<fc::ArimaOrder> order = fc::ArimaOrder{1, 1, 1}) {
  PredictivePipelineConfig c;
  c.thresholds = {{"error_rate", 5.0}};
  c.order = order;
  c.capacityEvery = 1000;
  return c;
}

const MetricForecast& metricOf(const PredictiveOutput& out, const std::string& metric) {
  for (const MetricForecast& m : out.metrics)
    if (m.metric == metric) return m;
  throw std::runtime_error("no forecast of " + metric);
}

double normalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

class TestPredictivePipeline : public QObject {
  Q_OBJECT
 private slots:
  void defaultsFollowTheOriginal() {
    const PredictivePipelineConfig c;
    QCOMPARE(c.historyHours, 4);
    QCOMPARE(c.horizon, 24);
    QCOMPARE(c.level, 90.0);
    QCOMPARE(c.capacityEvery, 100);
    QCOMPARE(c.thresholds.at("error_rate"), 5.0);
    QCOMPARE(c.thresholds.at("latency_p99_ms"), 1000.0);
    QCOMPARE(c.thresholds.at("latency_p95_ms"), 800.0);
    QCOMPARE(c.thresholds.at("latency_mean_ms"), 500.0);
    QCOMPARE(c.thresholds.at("risk_score"), 0.8);
    QVERIFY(!c.order);  // automatic orders, unlike the original's fixed ARIMA(1,1,1)
  }

  void badConfigurationIsNamed() {
    PredictivePipelineConfig c;
    c.thresholds["error_ratio"] = 5;
    try {
      PredictivePipeline p(c);
      QFAIL("an unknown metric was accepted");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString(e.what()).contains("'error_ratio'"), e.what());
    }
    c = {};
    c.modelHistoryHours = 2;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PredictivePipeline{c});
    c = {};
    c.capacity["total_requests"] = -1;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PredictivePipeline{c});
  }

  void parsesOrders() {
    QVERIFY(!parseForecastOrder("auto"));
    QCOMPARE(*parseForecastOrder("1,1,1"), (fc::ArimaOrder{1, 1, 1, 0, 0, 0, 1}));
    QCOMPARE(*parseForecastOrder("2,0,1,0,1,1,24"), (fc::ArimaOrder{2, 0, 1, 0, 1, 1, 24}));
    for (const char* bad : {"", "1,1", "1,x,1", "1,1,1,1,0,0,1", "0,3,0", "1,-1,1", "1,1,1,0,2,0,24"}) {
      try {
        parseForecastOrder(bad);
        QFAIL(qPrintable(QString("accepted '%1'").arg(bad)));
      } catch (const std::invalid_argument& e) {
        QVERIFY2(QString(e.what()).contains(QString("'%1'").arg(bad)), e.what());
      }
    }
  }

  void historyWindows() {
    PredictivePipeline p(onlyErrorRate());
    const auto rows = steady("api", 400);
    const EpochSeconds t = kStart + 200 * kHour;
    // First sight: the whole model window (7 days).
    HistoryRequest need = p.historyNeeded(anomalyAt("api", t));
    QCOMPARE(need.service, std::string("api"));
    QCOMPARE(need.from, t - 168 * kHour);
    QCOMPARE(need.to, t);
    feed(p, rows, anomalyAt("api", t));
    QCOMPARE(p.heldSamples("api"), std::size_t{168});
    // An hour later: only the recent 4 hours are read again.
    need = p.historyNeeded(anomalyAt("api", t + kHour));
    QCOMPARE(need.from, t + kHour - 4 * kHour);
    QCOMPARE(need.to, t + kHour);
    feed(p, rows, anomalyAt("api", t + kHour));
    QCOMPARE(p.heldSamples("api"), std::size_t{168});  // the oldest hour left the model window
    // After ten quiet hours: everything since the last load.
    need = p.historyNeeded(anomalyAt("api", t + 11 * kHour));
    QCOMPARE(need.from, t + kHour);
    // Far in the past or the future (a replay, a long outage): the whole window again.
    QCOMPARE(p.historyNeeded(anomalyAt("api", t - 50 * kHour)).from, t - 218 * kHour);
    QCOMPARE(p.historyNeeded(anomalyAt("api", t + 400 * kHour)).from, t + 232 * kHour);
    // Another service starts cold.
    QCOMPARE(p.historyNeeded(anomalyAt("db", t)).from, t - 168 * kHour);
  }

  void historyIsValidatedAndReplaced() {
    PredictivePipeline p(onlyErrorRate());
    auto rows = steady("api", 20);
    const EpochSeconds from = kStart - kHour, to = kStart + 19 * kHour;
    auto other = rows;
    other[3].service = "db";
    QVERIFY_THROWS_EXCEPTION(InvalidSample, p.addHistory("api", from, to, other));
    auto broken = rows;
    broken[5].latencyP99Ms = std::nan("");
    try {
      p.addHistory("api", from, to, broken);
      QFAIL("a NaN row was accepted");
    } catch (const InvalidSample& e) {
      QVERIFY2(QString(e.what()).contains("latency_p99_ms"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(InvalidSample, p.addHistory("api", from + 5 * kHour, to, rows));  // rows outside
    QCOMPARE(p.heldSamples("api"), std::size_t{0});
    p.addHistory("api", from, to, rows);
    QCOMPARE(p.heldSamples("api"), std::size_t{20});
    // Re-reading the last 4 hours with one row gone and none new: the row is dropped.
    std::vector<ServiceMetrics> recent(rows.end() - 4, rows.end() - 1);
    p.addHistory("api", to - 4 * kHour, to, recent);
    QCOMPARE(p.heldSamples("api"), std::size_t{19});
  }

  void forecastsComeFromTheEngine() {
    // With a fixed order the forecast rows are exactly the engine's ARIMA forecast of the series.
    PredictivePipeline p(onlyErrorRate());
    const auto rows = risingErrors();
    const EpochSeconds t = rows.back().timestamp;
    const PredictiveOutput out = feed(p, rows, anomalyAt("api", t));
    std::vector<double> y;
    for (const auto& m : rows) y.push_back(m.errorRate);
    fc::ArimaSpec spec;
    spec.order = {1, 1, 1};
    const fc::ArimaModel model = fc::fitArima(y, spec);
    const fc::ForecastPath path = fc::forecastArima(model, 24, 90);
    QCOMPARE(out.forecasts.size(), std::size_t{24});
    for (int h = 1; h <= 24; ++h) {
      const ForecastRecord& f = out.forecasts[static_cast<std::size_t>(h - 1)];
      QCOMPARE(f.service, std::string("api"));
      QCOMPARE(f.metric, std::string("error_rate"));
      QCOMPARE(f.step, h);
      QCOMPARE(f.createdAt, t);
      QCOMPARE(f.targetTime, t + h * kHour);
      QVERIFY(std::abs(f.mean - path.mean[static_cast<std::size_t>(h - 1)]) < 1e-9);
      QVERIFY(std::abs(f.upper - path.upper[static_cast<std::size_t>(h - 1)]) < 1e-9);
      QCOMPARE(f.level, 90.0);
      QCOMPARE(f.model, model.describe());
    }
    const MetricForecast& m = metricOf(out, "error_rate");
    QCOMPARE(m.observations, 168);
    QCOMPARE(m.model, model.describe());
  }

  void risingMetricRaisesABreachAlert() {
    PredictivePipeline p(onlyErrorRate(), [] { return kNow; });
    const auto rows = risingErrors();
    const EpochSeconds t = rows.back().timestamp;
    const PredictiveOutput out = feed(p, rows, anomalyAt("api", t));
    QCOMPARE(out.alerts.size(), std::size_t{1});
    const PredictiveAlert& a = out.alerts[0];
    QCOMPARE(a.predictedEvent, std::string("threshold_breach"));
    QCOMPARE(a.metric, std::string("error_rate"));
    QCOMPARE(a.threshold, 5.0);
    QCOMPARE(a.createdAt, kNow);
    QVERIFY(a.breachProbability >= 0.5 && a.breachProbability <= 1);
    QCOMPARE(a.predictionConfidence, std::max(a.breachProbability, 1 - a.breachProbability));
    // The window holds the step where the mean forecast crosses the threshold, and starts after T.
    int crossing = 0;
    for (const ForecastRecord& f : out.forecasts)
      if (!crossing && f.mean > 5.0) crossing = f.step;
    QVERIFY(crossing > 1 && crossing < 24);
    QVERIFY2(a.predictedTimeStart > t && a.predictedTimeStart <= t + crossing * kHour,
             formatTimestamp(a.predictedTimeStart).c_str());
    QVERIFY2(a.predictedTimeEnd >= t + crossing * kHour, formatTimestamp(a.predictedTimeEnd).c_str());
    // The crossing probability is at least each step's marginal probability (minus Monte Carlo error).
    double marginal = 0;
    for (std::size_t h = 0; h < out.forecasts.size(); ++h) {
      const ForecastRecord& f = out.forecasts[h];
      const double se = (f.upper - f.mean) / 1.6448536269514722;
      marginal = std::max(marginal, 1 - normalCdf((5.0 - f.mean) / se));
    }
    QVERIFY2(a.breachProbability >= marginal - 0.03,
             qPrintable(QString("crossing %1 < marginal %2").arg(a.breachProbability).arg(marginal)));
    QVERIFY(a.severity == Severity::kMedium || a.severity == Severity::kHigh);
    QVERIFY2(QString::fromStdString(a.recommendation).startsWith("error_rate is forecast to exceed 5 between "),
             a.recommendation.c_str());
    QVERIFY(QString::fromStdString(a.recommendation).contains("rollback"));
    QCOMPARE(a.alertId, md5Hex("api|error_rate|threshold_breach|" + std::to_string(t) + "|" +
                               std::to_string(a.predictedTimeStart)));
    // Same input, same output: a replay yields the same alert id.
    PredictivePipeline again(onlyErrorRate(), [] { return kNow + 99; });
    const PredictiveOutput replay = feed(again, rows, anomalyAt("api", t));
    QCOMPARE(replay.alerts.size(), std::size_t{1});
    QCOMPARE(replay.alerts[0].alertId, a.alertId);
    QCOMPARE(replay.alerts[0].breachProbability, a.breachProbability);
    QCOMPARE(p.statistics().alerts, std::uint64_t{1});
  }

  void steadyMetricRaisesNothing() {
    PredictivePipeline p(onlyErrorRate());
    const auto rows = steady();
    const PredictiveOutput out = feed(p, rows, anomalyAt("api", rows.back().timestamp));
    QVERIFY(out.alerts.empty());
    QCOMPARE(out.forecasts.size(), std::size_t{24});
    QVERIFY(metricOf(out, "error_rate").breachProbability < 0.01);
    QVERIFY(!metricOf(out, "error_rate").windowStart);
  }

  void constantMetricNeedsNoModel() {
    PredictivePipelineConfig c = onlyErrorRate();
    c.thresholds = {{"risk_score", 0.8}, {"latency_mean_ms", 50}};
    PredictivePipeline p(c);
    auto rows = steady();
    for (auto& r : rows) r.latencyMeanMs = 80;  // stuck above its threshold
    const PredictiveOutput out = feed(p, rows, anomalyAt("api", rows.back().timestamp));
    QCOMPARE(metricOf(out, "risk_score").model, std::string("constant"));
    QCOMPARE(metricOf(out, "risk_score").breachProbability, 0.0);
    QCOMPARE(metricOf(out, "latency_mean_ms").breachProbability, 1.0);
    QCOMPARE(out.alerts.size(), std::size_t{1});
    QCOMPARE(out.alerts[0].metric, std::string("latency_mean_ms"));
    QCOMPARE(out.alerts[0].predictedTimeStart, rows.back().timestamp + kHour);
  }

  void shortHistoryIsReported() {
    PredictivePipeline p(onlyErrorRate());
    const auto rows = risingErrors("api", 8);
    const PredictiveOutput out = feed(p, rows, anomalyAt("api", rows.back().timestamp));
    QVERIFY(out.forecasts.empty());
    QVERIFY(out.alerts.empty());
    QCOMPARE(metricOf(out, "error_rate").note, std::string("insufficient history: 8 of 12 hourly values"));
    // The anomaly's own value counts when the table has no row for its hour yet.
    const auto more = risingErrors("api", 11);
    PredictivePipeline q(onlyErrorRate());
    const PredictiveOutput filled =
        feed(q, more, anomalyAt("api", more.back().timestamp + kHour, AnomalyType::kErrorSpike, {{"error_rate", 1.1}}));
    QCOMPARE(metricOf(filled, "error_rate").observations, 12);
    QCOMPARE(filled.forecasts.size(), std::size_t{24});
  }

  void forecastsAreReusedWithinTheHour() {
    PredictivePipeline p(onlyErrorRate());
    const auto rows = steady();
    const EpochSeconds t = rows.back().timestamp;
    feed(p, rows, anomalyAt("api", t));
    // A second anomaly of the same hour (another type) with unchanged history: nothing refitted.
    const PredictiveOutput same = feed(p, rows, anomalyAt("api", t, AnomalyType::kLatencyDegradation));
    QVERIFY(same.forecasts.empty());
    QVERIFY(metricOf(same, "error_rate").reused);
    QCOMPARE(p.statistics().forecastsReused, std::uint64_t{1});
    // A corrected row: refitted.
    auto corrected = rows;
    corrected[corrected.size() - 2].errorRate += 1;
    const PredictiveOutput refit = feed(p, corrected, anomalyAt("api", t, AnomalyType::kOutlier));
    QCOMPARE(refit.forecasts.size(), std::size_t{24});
    QVERIFY(!metricOf(refit, "error_rate").reused);
  }

  void automaticOrdersAreSeasonalAndSearchedDaily() {
    PredictivePipelineConfig c = onlyErrorRate(std::nullopt);
    c.thresholds = {{"latency_mean_ms", 500}};
    c.orderSearchSeconds = 0;  // unbounded: the same model as the engine's own search below
    PredictivePipeline p(c);
    const auto rows = steady("api", 300);
    const EpochSeconds t = kStart + 200 * kHour;
    PredictiveOutput out = feed(p, rows, anomalyAt("api", t));
    const MetricForecast first = metricOf(out, "latency_mean_ms");
    QVERIFY(first.searched);
    QVERIFY2(QString::fromStdString(first.model).contains("[24]"), first.model.c_str());  // the daily cycle
    // The same model as the engine's own search on the same window.
    std::vector<double> y;
    for (const auto& m : rows)
      if (m.timestamp > t - 168 * kHour && m.timestamp <= t) y.push_back(m.latencyMeanMs);
    fc::AutoArimaOptions options;
    options.period = 24;
    QCOMPARE(first.model, fc::autoArima(y, options).model.describe());
    // An hour later the model is refreshed with the new hour, not estimated again: its forecast is
    // the estimated model's, continued from the new window. A day later it is estimated again.
    out = feed(p, rows, anomalyAt("api", t + kHour));
    QVERIFY(!metricOf(out, "latency_mean_ms").searched && !metricOf(out, "latency_mean_ms").estimated);
    QCOMPARE(QString::fromStdString(metricOf(out, "latency_mean_ms").model), QString::fromStdString(first.model));
    std::vector<double> next(y.begin() + 1, y.end());
    next.push_back(rows[200 + 1].latencyMeanMs);
    const fc::ForecastPath expected = fc::forecastArima(fc::refilterArima(fc::autoArima(y, options).model, next), 24);
    QCOMPARE(out.forecasts.size(), std::size_t{24});
    for (std::size_t h = 0; h < 24; ++h) QVERIFY(std::abs(out.forecasts[h].mean - expected.mean[h]) < 1e-9);
    out = feed(p, rows, anomalyAt("api", t + 25 * kHour));
    QVERIFY(metricOf(out, "latency_mean_ms").searched && metricOf(out, "latency_mean_ms").estimated);
    QCOMPARE(p.statistics().orderSearches, std::uint64_t{2});
    // With refitEveryHours = 0 every new hour is estimated (fixed orders: refitted, not searched).
    PredictivePipelineConfig everyHour = onlyErrorRate();
    everyHour.refitEveryHours = 0;
    PredictivePipeline q(everyHour);
    feed(q, rows, anomalyAt("api", t));
    out = feed(q, rows, anomalyAt("api", t + kHour));
    QVERIFY(metricOf(out, "error_rate").estimated && !metricOf(out, "error_rate").searched);
    // A short window has no seasonal model.
    PredictivePipeline shortWindow(c);
    const auto few = steady("db", 40);
    out = feed(shortWindow, few, anomalyAt("db", few.back().timestamp));
    QVERIFY2(!QString::fromStdString(metricOf(out, "latency_mean_ms").model).contains("["),
             metricOf(out, "latency_mean_ms").model.c_str());
  }

  void pendingAlertsAreNotRaisedTwice() {
    PredictivePipeline p(onlyErrorRate());
    const auto rows = risingErrors("api", 175);
    const EpochSeconds t = kStart + 167 * kHour;
    const PredictiveOutput first = feed(p, rows, anomalyAt("api", t));
    QCOMPARE(first.alerts.size(), std::size_t{1});
    // An hour later the forecast still crosses, but the alert is pending.
    const PredictiveOutput second =
        feed(p, rows, anomalyAt("api", t + kHour, AnomalyType::kPatternShift, {{"error_rate", 4.0}}));
    QVERIFY(second.alerts.empty());
    QCOMPARE(second.suppressed, 1);
    QCOMPARE(p.openAlerts("api").size(), std::size_t{1});
  }

  void alertsMaterializeWhenAMatchingAnomalyArrives() {
    PredictivePipeline p(onlyErrorRate());
    const auto rows = risingErrors("api", 200);
    const EpochSeconds t = kStart + 167 * kHour;
    const PredictiveAlert alert = feed(p, rows, anomalyAt("api", t)).alerts.at(0);
    const EpochSeconds inside = alert.predictedTimeStart;
    QVERIFY(inside > t + kHour);
    // Before the window, or inside it but about another metric: nothing.
    QVERIFY(feed(p, rows, anomalyAt("api", t + kHour, AnomalyType::kErrorSpike)).materialized.empty());
    QVERIFY(feed(p, rows, anomalyAt("api", inside, AnomalyType::kTrafficDrop, {{"error_rate", 4.9}}))
                .materialized.empty());
    // Another service's error spike: nothing.
    QVERIFY(feed(p, risingErrors("db"), anomalyAt("db", inside)).materialized.empty());
    // A pattern shift whose observed error rate crosses the threshold, inside the window: materialized.
    const PredictiveOutput hit =
        feed(p, rows, anomalyAt("api", inside, AnomalyType::kPatternShift, {{"error_rate", 5.3}}));
    QCOMPARE(hit.materialized.size(), std::size_t{1});
    QCOMPARE(hit.materialized[0].alertId, alert.alertId);
    QCOMPARE(hit.materialized[0].at, inside);
    QCOMPARE(hit.materialized[0].anomalyId, makeAnomalyId("api", inside, AnomalyType::kPatternShift));
    QCOMPARE(p.statistics().materialized, std::uint64_t{1});
    for (const PredictiveAlert& open : p.openAlerts("api")) QVERIFY(open.alertId != alert.alertId);
  }

  void alertsExpireAfterTheirWindow() {
    PredictivePipelineConfig c = onlyErrorRate();
    PredictivePipeline p(c);
    const auto rows = risingErrors("api", 175);
    const EpochSeconds t = kStart + 167 * kHour;
    const PredictiveAlert alert = feed(p, rows, anomalyAt("api", t)).alerts.at(0);
    // Restored after a restart, the alert still materializes; once its window has passed it is closed.
    PredictivePipeline restarted(c);
    restarted.restoreAlerts(std::span(&alert, 1));
    restarted.restoreAlerts(std::span(&alert, 1));
    QCOMPARE(restarted.openAlerts("api").size(), std::size_t{1});
    const PredictiveOutput late = feed(restarted, steady("api", 400), anomalyAt("api", alert.predictedTimeEnd + kHour));
    QVERIFY(late.materialized.empty());
    QCOMPARE(restarted.statistics().expired, std::uint64_t{1});
  }

  void capacityForecastEveryNthAnomaly() {
    PredictivePipelineConfig c = onlyErrorRate();
    c.thresholds = {{"error_rate", 50}};
    c.capacity = {{"latency_mean_ms", 300}};
    c.capacityEvery = 3;
    PredictivePipeline p(c);
    // Mean latency grows 1 ms per hour from 100 and reaches 300 at hour 200; planned at hour 130,
    // that is 70 hours ahead: within a week, a warning.
    const auto rows = history("api", 300, [](int) { return 0.5; }, [](int t) { return 100.0 + 1.0 * t; });
    const EpochSeconds t = kStart + 130 * kHour;
    QVERIFY(feed(p, rows, anomalyAt("api", t)).capacity.empty());
    QVERIFY(feed(p, rows, anomalyAt("api", t, AnomalyType::kOutlier)).capacity.empty());
    const PredictiveOutput third = feed(p, rows, anomalyAt("api", t, AnomalyType::kTrendChange));
    QCOMPARE(third.capacity.size(), std::size_t{1});
    QCOMPARE(p.statistics().capacityRuns, std::uint64_t{1});
    const fc::CapacityPlan& plan = third.capacity[0].plan;
    QVERIFY(std::abs(plan.growthPerStep - 1.0) < 0.02);
    QVERIFY(plan.status == fc::CapacityStatus::kWarning);
    QCOMPARE(third.alerts.size(), std::size_t{1});
    const PredictiveAlert& a = third.alerts[0];
    QCOMPARE(a.predictedEvent, std::string("capacity_exhaustion"));
    QCOMPARE(a.metric, std::string("latency_mean_ms"));
    QCOMPARE(a.threshold, 300.0);
    QVERIFY(a.severity == Severity::kHigh);
    // The line crosses 300 at hour 200, 70 hours after T: inside the predicted window.
    QVERIFY2(a.predictedTimeStart <= t + 70 * kHour && a.predictedTimeEnd >= t + 70 * kHour,
             (formatTimestamp(a.predictedTimeStart) + " .. " + formatTimestamp(a.predictedTimeEnd)).c_str());
    QVERIFY2(QString::fromStdString(a.recommendation).contains("this week"), a.recommendation.c_str());
    QVERIFY(a.breachProbability > 0.5);
    // The sixth anomaly plans again; the alert is pending, so it is not raised twice.
    for (int i = 0; i < 2; ++i) feed(p, rows, anomalyAt("api", t + kHour));
    const PredictiveOutput sixth = feed(p, rows, anomalyAt("api", t + kHour, AnomalyType::kOutlier));
    QCOMPARE(sixth.capacity.size(), std::size_t{1});
    QVERIFY(sixth.alerts.empty());
  }

  void invalidAnomaliesAreRejected() {
    PredictivePipeline p(onlyErrorRate());
    AnomalyRecord a = anomalyAt("", kStart);
    QVERIFY_THROWS_EXCEPTION(InvalidSample, p.process(a));
    a = anomalyAt("api", 0);
    QVERIFY_THROWS_EXCEPTION(InvalidSample, p.process(a));
    a = anomalyAt("api", kStart);
    a.anomalyId.clear();
    QVERIFY_THROWS_EXCEPTION(InvalidSample, p.process(a));
    QCOMPARE(p.statistics().rejected, std::uint64_t{3});
    QCOMPARE(p.statistics().anomalies, std::uint64_t{0});
  }
};

QTEST_GUILESS_MAIN(TestPredictivePipeline)
#include "test_predictive_pipeline.moc"
