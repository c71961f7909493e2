// The PostgreSQL store against the real throwaway server: every record round-trips, batches are
// idempotent, hostile text stays data, history windows apply the >= 100 samples rule, models keep
// one active version, alerts track sent/materialized, bad records are refused by name.
#include <ctime>
#include <thread>

#include <QTemporaryDir>
#include <QtTest>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_pool.h"
#include "stacklens/connect/pg_settings.h"
#include "stacklens/connect/pg_store.h"
#include "stacklens/core/pipeline/predictive_pipeline.h"

#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "test_servers.h"

using namespace stacklens;
using connect::PgConnection;
using connect::PgError;
using connect::PgSettings;
using connect::PgStore;
using test::errorOf;
using test::rowsOf;
using test::scalarOf;
using test::ScratchDatabase;

namespace {

constexpr core::EpochSeconds kBase = 1705276800;  // 2024-01-15T00:00:00Z
constexpr core::EpochSeconds kHour = 3600;

core::AnomalyRecord makeAnomaly(const std::string& service, core::EpochSeconds t,
                                core::AnomalyType type = core::AnomalyType::kErrorSpike, double confidence = 0.8) {
  core::AnomalyRecord a;
  a.anomalyId = core::makeAnomalyId(service, t, type);
  a.service = service;
  a.timestamp = t;
  a.type = type;
  a.severity = core::Severity::kHigh;
  a.confidence = confidence;
  a.anomalyScore = 0.7;
  a.detectionMethods = {"isolation_forest", "dbscan"};
  a.metricValues = {{"error_rate", 5.5}, {"latency_p99_ms", 912.25}};
  a.expectedValues = {{"error_rate", 0.5}};
  a.description = "error rate 11x its baseline";
  return a;
}

core::ServiceMetrics makeSample(const std::string& service, core::EpochSeconds t, double errorRate = 0.5) {
  core::ServiceMetrics m;
  m.service = service;
  m.timestamp = t;
  m.errorRate = errorRate;
  m.latencyP99Ms = 150.5;
  m.latencyP95Ms = 100.25;
  m.latencyMeanMs = 50.125;
  m.uniqueUsers = 1000;
  m.uniqueIps = 500;
  m.riskScore = 0.3;
  m.totalRequests = 10000;
  return m;
}

core::PredictiveAlert makeAlert(const std::string& id, const std::string& service, core::EpochSeconds created) {
  core::PredictiveAlert a;
  a.alertId = id;
  a.service = service;
  a.metric = "latency_p99_ms";
  a.predictedEvent = "threshold_breach";
  a.predictionConfidence = 0.75;
  a.breachProbability = 0.6;
  a.threshold = 500;
  a.predictedTimeStart = created + 2 * kHour;
  a.predictedTimeEnd = created + 4 * kHour;
  a.severity = core::Severity::kCritical;
  a.recommendation = "scale out before 14:00";
  a.createdAt = created;
  return a;
}

void compareAnomalies(const core::AnomalyRecord& got, const core::AnomalyRecord& want) {
  QCOMPARE(got.anomalyId, want.anomalyId);
  QCOMPARE(got.service, want.service);
  QCOMPARE(got.timestamp, want.timestamp);
  QCOMPARE(std::string(toString(got.type)), std::string(toString(want.type)));
  QCOMPARE(std::string(toString(got.severity)), std::string(toString(want.severity)));
  QCOMPARE(got.confidence, want.confidence);
  QCOMPARE(got.anomalyScore, want.anomalyScore);
  QCOMPARE(got.detectionMethods, want.detectionMethods);
  QCOMPARE(got.metricValues, want.metricValues);
  QCOMPARE(got.expectedValues, want.expectedValues);
  QCOMPARE(got.description, want.description);
  QCOMPARE(got.resolved, want.resolved);
}

void compareSamples(const core::ServiceMetrics& got, const core::ServiceMetrics& want) {
  QCOMPARE(got.service, want.service);
  QCOMPARE(got.timestamp, want.timestamp);
  QCOMPARE(got.windowSeconds, want.windowSeconds);
  for (std::size_t i = 0; i < core::kFeatureCount; ++i) QCOMPARE(got.features()[i], want.features()[i]);
}

}  // namespace

class TestPgStore : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<ScratchDatabase> scratch_;
  std::unique_ptr<PgConnection> db_;
  std::unique_ptr<PgStore> store_;

  PgSettings settings() const {
    PgSettings s;
    s.dsn = scratch_->dsn();
    s.retry.maxElapsed = std::chrono::seconds(5);
    s.statsRollupInterval = std::chrono::milliseconds(0);  // the aggregate tables current after every write
    return s;
  }

 private slots:
  void initTestCase() {
    STACKLENS_REQUIRE_POSTGRES();
    scratch_ = std::make_unique<ScratchDatabase>(test::postgresDsn().toStdString(), "store");
    db_ = std::make_unique<PgConnection>(scratch_->dsn());
    connect::MigrationRunner().migrate(*db_);
    store_ = std::make_unique<PgStore>(settings());
  }

  void init() {
    db_->execute(
        "TRUNCATE analytics_metrics_1hour, ml_anomalies, ml_anomaly_history, ml_anomalies_archive, "
        "ml_anomaly_stats_hourly, ml_anomaly_stats_daily, ml_anomaly_stats_pending, ml_models, ml_patterns, "
        "ml_trends, ml_forecasts, ml_predictive_alerts");
  }

  void cleanupTestCase() {
    store_.reset();
    db_.reset();
    scratch_.reset();
  }

  void refusesADatabaseWithoutTheSchema() {
    ScratchDatabase empty(test::postgresDsn().toStdString(), "store_empty");
    PgSettings s;
    s.dsn = empty.dsn();
    const QString error = errorOf([&] { PgStore store(s); });
    QVERIFY2(error.contains("stacklens db migrate"), qPrintable(error));
  }

  void everyRecordRoundTrips() {
    PgStore& store = *store_;
    std::vector<core::ServiceMetrics> samples = {makeSample("api", kBase), makeSample("api", kBase + kHour, 0.75)};
    samples[1].windowSeconds = 1800;
    QCOMPARE(store.writeMetrics(samples), std::size_t{2});
    const connect::HistoryWindow window = store.loadHistory("api", kBase + kHour);
    QCOMPARE(window.samples.size(), std::size_t{2});
    compareSamples(window.samples[0], samples[0]);
    compareSamples(window.samples[1], samples[1]);

    std::vector<core::AnomalyRecord> anomalies = {makeAnomaly("api", kBase),
                                                  makeAnomaly("api", kBase + kHour, core::AnomalyType::kOutlier, 1.0)};
    anomalies[1].severity = core::Severity::kCritical;
    anomalies[1].detectionMethods = {};
    anomalies[1].metricValues = {};
    anomalies[1].resolved = true;
    anomalies[1].metricValues = {{"risk_score", std::nan("")}};  // stored as JSON null, read back as NaN
    // Integral, tiny, huge and negative-zero numbers keep their exact value through the JSON text.
    anomalies[0].expectedValues = {
        {"latency_p99_ms", 900}, {"tiny", 1e-7}, {"huge", 1.5e300}, {"zero", -0.0}, {"third", 1.0 / 3}};
    QCOMPARE(store.writeAnomalies(anomalies), std::size_t{2});
    const auto readAnomalies = store.loadAnomalies("api", kBase, kBase + 2 * kHour);
    QCOMPARE(readAnomalies.size(), std::size_t{2});
    compareAnomalies(readAnomalies[0], anomalies[0]);
    QVERIFY(std::isnan(readAnomalies[1].metricValues.at("risk_score")));
    QCOMPARE(readAnomalies[1].metricValues.size(), std::size_t{1});
    QCOMPARE(readAnomalies[1].resolved, true);
    QCOMPARE(readAnomalies[1].detectionMethods, std::vector<std::string>{});

    core::PatternRecord pattern;
    pattern.patternId = core::md5Hex("api|0|v1");
    pattern.service = "api";
    pattern.clusterLabel = 0;
    pattern.centroid = {0.5, 150, 100, 50, 1000, 500, 0.3, 10000};
    pattern.spread = {0.1, 10, 8, 4, 50, 20, 0.05, 300};
    pattern.size = 140;
    pattern.share = 0.83;
    pattern.firstSeen = kBase;
    pattern.lastSeen = kBase + 100 * kHour;
    QCOMPARE(store.writePatterns(std::span(&pattern, 1)), std::size_t{1});
    QCOMPARE(rowsOf(*db_,
                    "SELECT service, cluster_label, centroid, spread, cluster_size, share, "
                    "extract(epoch FROM last_seen - first_seen)::bigint / 3600 FROM ml_patterns"),
             QStringList({"api|0|{0.5,150,100,50,1000,500,0.3,10000}|{0.1,10,8,4,50,20,0.05,300}|140|0.83|100"}));

    core::TrendRecord trend;
    trend.service = "api";
    trend.metric = "latency_p99_ms";
    trend.timestamp = kBase;
    trend.direction = core::TrendDirection::kUp;
    trend.magnitude = 0.4;
    trend.slope = 2.5;
    trend.seasonalityScore = -0.2;
    trend.seasonalPeriod = 24;
    trend.changePoint = true;
    trend.changePointAt = kBase - 5 * kHour;
    QCOMPARE(store.writeTrends(std::span(&trend, 1)), std::size_t{1});
    QCOMPARE(rowsOf(*db_,
                    "SELECT direction, magnitude, slope, seasonality_score, seasonal_period, change_point, "
                    "extract(epoch FROM \"timestamp\" - change_point_at)::bigint FROM ml_trends"),
             QStringList({"up|0.4|2.5|-0.2|24|t|18000"}));

    std::vector<core::ForecastRecord> forecasts(3);
    for (int step = 1; step <= 3; ++step) {
      core::ForecastRecord& f = forecasts[static_cast<std::size_t>(step - 1)];
      f.service = "api";
      f.metric = "error_rate";
      f.createdAt = kBase;
      f.targetTime = kBase + step * kHour;
      f.step = step;
      f.mean = 0.5 * step;
      f.lower = f.mean - 0.25;
      f.upper = f.mean + 0.25;
      f.model = "ARIMA(1,1,1)";
    }
    QCOMPARE(store.writeForecasts(forecasts), std::size_t{3});
    QCOMPARE(store.recordForecastActual("api", "error_rate", kBase + 2 * kHour, 1.5), std::size_t{1});
    QCOMPARE(rowsOf(*db_,
                    "SELECT step, forecast_value, lower_bound, upper_bound, confidence_level, model, "
                    "prediction_error FROM ml_forecasts ORDER BY step"),
             QStringList({"1|0.5|0.25|0.75|90|ARIMA(1,1,1)|NULL", "2|1|0.75|1.25|90|ARIMA(1,1,1)|0.5",
                          "3|1.5|1.25|1.75|90|ARIMA(1,1,1)|NULL"}));

    core::PredictiveAlert alert = makeAlert("alert-1", "api", kBase);
    alert.materialized = true;
    alert.materializedAt = kBase + 3 * kHour;
    QCOMPARE(store.writeAlerts(std::span(&alert, 1)), std::size_t{1});
    const auto alerts = store.loadAlerts({});
    QCOMPARE(alerts.size(), std::size_t{1});
    QCOMPARE(alerts[0].alertId, alert.alertId);
    QCOMPARE(alerts[0].metric, alert.metric);
    QCOMPARE(alerts[0].predictedEvent, alert.predictedEvent);
    QCOMPARE(alerts[0].predictionConfidence, alert.predictionConfidence);
    QCOMPARE(alerts[0].breachProbability, alert.breachProbability);
    QCOMPARE(alerts[0].threshold, alert.threshold);
    QCOMPARE(alerts[0].predictedTimeStart, alert.predictedTimeStart);
    QCOMPARE(alerts[0].predictedTimeEnd, alert.predictedTimeEnd);
    QCOMPARE(std::string(toString(alerts[0].severity)), std::string(toString(alert.severity)));
    QCOMPARE(alerts[0].recommendation, alert.recommendation);
    QCOMPARE(alerts[0].createdAt, alert.createdAt);
    QCOMPARE(alerts[0].alertSent, false);
    QCOMPARE(alerts[0].materialized, true);
    QCOMPARE(alerts[0].materializedAt, alert.materializedAt);
  }

  void theSameBatchTwiceLeavesOneCopy() {
    PgStore& store = *store_;
    std::vector<core::AnomalyRecord> batch;
    for (int i = 0; i < 500; ++i) batch.push_back(makeAnomaly("svc" + std::to_string(i % 5), kBase + (i / 5) * kHour));
    const auto conflictsBefore = store.statistics().conflictingInserts;
    QCOMPARE(store.writeAnomalies(batch), std::size_t{500});
    QCOMPARE(store.statistics().conflictingInserts, conflictsBefore);  // new rows: the plain insert did it
    QCOMPARE(store.writeAnomalies(batch), std::size_t{0});
    QCOMPARE(store.statistics().conflictingInserts, conflictsBefore + 1);  // the replay went again as a merge
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies"), 500LL);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_hourly"), 500LL);  // not 1000

    // Duplicates inside one batch, and a replay with a changed score: the first version stays.
    std::vector<core::AnomalyRecord> replay = {batch[0], batch[0], batch[1]};
    replay[0].confidence = 0.1;
    QCOMPARE(store.writeAnomalies(replay), std::size_t{0});
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies WHERE confidence_score = 0.8"), 500LL);

    std::vector<core::ServiceMetrics> samples;
    for (int i = 0; i < 300; ++i) samples.push_back(makeSample("svc" + std::to_string(i % 3), kBase + (i / 3) * kHour));
    QCOMPARE(store.writeMetrics(samples), std::size_t{300});
    QCOMPARE(store.writeMetrics(samples), std::size_t{0});
    // A corrected aggregate replaces the old one; within a batch the last version wins.
    std::vector<core::ServiceMetrics> corrected = {makeSample("svc0", kBase, 9.0), makeSample("svc0", kBase, 7.0)};
    QCOMPARE(store.writeMetrics(corrected), std::size_t{1});
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM analytics_metrics_1hour"), 300LL);
    QCOMPARE(db_->queryScalar("SELECT error_rate FROM analytics_metrics_1hour WHERE service = 'svc0' AND "
                              "\"timestamp\" = to_timestamp(" +
                              std::to_string(kBase) + ")"),
             std::optional<std::string>("7"));

    std::vector<core::PredictiveAlert> alerts = {makeAlert("a1", "api", kBase), makeAlert("a2", "api", kBase)};
    QCOMPARE(store.writeAlerts(alerts), std::size_t{2});
    QCOMPARE(store.writeAlerts(alerts), std::size_t{0});
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_predictive_alerts"), 2LL);
  }

  void aggregatesAreRolledUpOnSchedule() {
    PgSettings s = settings();
    s.statsRollupInterval = std::chrono::hours(1);
    PgStore store(s);
    std::vector<core::AnomalyRecord> batch;
    for (int i = 0; i < 300; ++i)
      batch.push_back(makeAnomaly("svc" + std::to_string(i % 3), kBase + (i / 3) * 600,
                                  core::kAllAnomalyTypes[static_cast<std::size_t>(i % 2)], 0.5 + (i % 5) * 0.1));
    QCOMPARE(store.writeAnomalies(batch), std::size_t{300});

    // Not due yet: the tables lag, the views count every written row.
    QCOMPARE(store.statistics().rollups, std::uint64_t{0});
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomaly_stats_hourly"), 0LL);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_v_anomaly_stats_hourly"), 300LL);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_v_anomaly_stats_daily"), 300LL);
    const long long logged = scalarOf(*db_, "SELECT count(*) FROM ml_anomaly_stats_pending");
    QCOMPARE(logged, 3LL * 17);  // one delta per service and hour: 100 ten-minute steps span 17 hours

    QCOMPARE(store.rollUpAnomalyStats(), static_cast<std::size_t>(logged));
    QCOMPARE(store.statistics().rollups, std::uint64_t{1});
    // The store vacuumed the log after its roll-up: the folded rows' dead versions are gone, so
    // the next roll-up does not scan them (the empty table is truncated to no pages at all).
    QCOMPARE(scalarOf(*db_, "SELECT pg_relation_size('ml_anomaly_stats_pending')"), 0LL);
    QCOMPARE(store.writeAnomalies(batch), std::size_t{0});  // a replay logs nothing
    QCOMPARE(store.rollUpAnomalyStats(), std::size_t{0});

    // What the roll-ups folded equals a recompute from the rows.
    const std::string snapshot =
        "SELECT string_agg(concat_ws(':', service, hour_start, total_anomalies, critical_count, high_count, "
        "medium_count, low_count, round(confidence_sum::numeric, 6), resolved_count), ',' ORDER BY service, "
        "hour_start) FROM ml_anomaly_stats_hourly";
    const auto folded = db_->queryScalar(snapshot);
    db_->execute("SELECT ml_refresh_anomaly_stats(to_timestamp(" + std::to_string(kBase) + "), to_timestamp(" +
                 std::to_string(kBase + 100 * 600) + "))");
    QCOMPARE(db_->queryScalar(snapshot), folded);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_daily"), 300LL);

    // With an interval of 0 every write folds what it logged.
    PgStore eager(settings());
    batch.resize(30);
    for (auto& anomaly : batch) {
      anomaly.timestamp += 7 * 86400;
      anomaly.anomalyId = core::makeAnomalyId(anomaly.service, anomaly.timestamp, anomaly.type);
    }
    QCOMPARE(eager.writeAnomalies(batch), std::size_t{30});
    QCOMPARE(eager.statistics().rollups, std::uint64_t{1});
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomaly_stats_pending"), 0LL);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_hourly"), 330LL);

    // With an interval, the store's thread folds soon after a write, without another call.
    s.statsRollupInterval = std::chrono::milliseconds(50);
    PgStore background(s);
    for (auto& anomaly : batch) {
      anomaly.timestamp += 7 * 86400;
      anomaly.anomalyId = core::makeAnomalyId(anomaly.service, anomaly.timestamp, anomaly.type);
    }
    QCOMPARE(background.writeAnomalies(batch), std::size_t{30});
    QTRY_COMPARE_WITH_TIMEOUT(background.statistics().rollups, std::uint64_t{1}, 5000);
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomaly_stats_pending"), 0LL);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_daily"), 360LL);
    QCOMPARE(background.statistics().failedRollups, std::uint64_t{0});
  }

  void aReplayDoesNotReviveArchivedAnomalies() {
    const core::EpochSeconds old = static_cast<core::EpochSeconds>(std::time(nullptr)) - 100 * 86400;
    const std::vector<core::AnomalyRecord> batch = {makeAnomaly("api", old), makeAnomaly("api", old + kHour)};
    QCOMPARE(store_->writeAnomalies(batch), std::size_t{2});
    QCOMPARE(scalarOf(*db_, "SELECT anomalies_archived FROM ml_archive_old_anomalies(90)"), 2LL);
    QCOMPARE(store_->writeAnomalies(batch), std::size_t{0});
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies"), 0LL);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_daily"), 2LL);
  }

  void hostileTextStaysData() {
    const std::vector<std::string> services = {
        "api'); DROP TABLE ml_anomalies; --",
        "\"quoted\" and \\back\\slash\\",
        "tab\there, newline\nthere, return\rhere",
        "\\.",
        "{braces,comma} \\N NULL",
        "サービス ✓ $1 $$ %s %n",
        std::string(5000, 'x') + "'",
    };
    std::vector<core::ServiceMetrics> samples;
    std::vector<core::AnomalyRecord> anomalies;
    std::vector<core::PredictiveAlert> alerts;
    for (std::size_t i = 0; i < services.size(); ++i) {
      samples.push_back(makeSample(services[i], kBase));
      core::AnomalyRecord a = makeAnomaly(services[i], kBase);
      a.description = services[i];
      a.detectionMethods = {services[i], "a\"b", "c,d", "{e}", "\\"};
      a.metricValues = {{services[i], 1.0}};
      anomalies.push_back(a);
      alerts.push_back(makeAlert("alert " + services[i], services[i], kBase));
    }
    QCOMPARE(store_->writeMetrics(samples), services.size());
    QCOMPARE(store_->writeAnomalies(anomalies), services.size());
    QCOMPARE(store_->writeAlerts(alerts), services.size());
    for (std::size_t i = 0; i < services.size(); ++i) {
      const auto window = store_->loadHistory(services[i], kBase);
      QCOMPARE(window.samples.size(), std::size_t{1});
      QCOMPARE(window.samples[0].service, services[i]);
      const auto read = store_->loadAnomalies(services[i], kBase, kBase + 1);
      QCOMPARE(read.size(), std::size_t{1});
      compareAnomalies(read[0], anomalies[i]);
      connect::AlertQuery query;
      query.service = services[i];
      QCOMPARE(store_->loadAlerts(query).at(0).alertId, "alert " + services[i]);
    }
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies"), static_cast<long long>(services.size()));

    // A NUL byte cannot be stored: refused by name before anything is sent.
    std::vector<core::AnomalyRecord> withNul = {makeAnomaly("fine", kBase),
                                                makeAnomaly(std::string("nul\0byte", 8), kBase)};
    const QString error = errorOf([&] { store_->writeAnomalies(withNul); });
    QVERIFY2(error.contains("ml_anomalies: record 1") && error.contains("'service'") && error.contains("NUL"),
             qPrintable(error));
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies WHERE service = 'fine'"), 0LL);
  }

  void historyWindowsApplyTheTrainingRule() {
    const core::EpochSeconds end = kBase + 7 * 24 * kHour;
    std::vector<core::ServiceMetrics> samples;
    for (int h = 0; h < 99; ++h) samples.push_back(makeSample("api", end - h * kHour));
    samples.push_back(makeSample("api", end - 7 * 24 * kHour));  // exactly 7 days back: outside (from, end]
    samples.push_back(makeSample("api", end + kHour));           // after the end
    samples.push_back(makeSample("web", end));
    store_->writeMetrics(samples);

    connect::HistoryWindow window = store_->loadHistory("api", end);
    QCOMPARE(window.samples.size(), std::size_t{99});
    QVERIFY(!window.sufficientForTraining());
    QCOMPARE(window.from, end - 7 * 24 * kHour);
    QCOMPARE(window.samples.front().timestamp, end - 98 * kHour);
    QCOMPARE(window.samples.back().timestamp, end);
    for (std::size_t i = 1; i < window.samples.size(); ++i)
      QVERIFY(window.samples[i - 1].timestamp < window.samples[i].timestamp);

    const core::ServiceMetrics hundredth = makeSample("api", end - 99 * kHour);
    store_->writeMetrics(std::span(&hundredth, 1));
    window = store_->loadHistory("api", end);
    QCOMPARE(window.samples.size(), connect::HistoryWindow::kMinTrainingSamples);
    QVERIFY(window.sufficientForTraining());

    QCOMPARE(store_->loadHistory("api", end, std::chrono::hours(4)).samples.size(), std::size_t{4});
    QCOMPARE(store_->historyServices(end), (std::vector<std::string>{"api", "web"}));
    QVERIFY(store_->loadHistory("nobody", end).samples.empty());
  }

  void modelsKeepOneActiveVersion() {
    core::ModelRecord v1;
    v1.modelId = core::md5Hex("api|isolation_forest|1");
    v1.service = "api";
    v1.modelType = "isolation_forest";
    v1.version = 1;
    v1.trainedAt = kBase;
    v1.trainingSamples = 168;
    v1.metrics = {{"precision", 0.9}, {"recall", 0.8}, {"f1", 0.847}, {"auc", 0.93}};
    v1.hyperparametersJson = R"({"trees":100,"max_samples":256,"contamination":"auto"})";
    for (int b = 0; b < 256; ++b) v1.blob += static_cast<char>(b);
    store_->saveModel(v1);
    core::ModelRecord v2 = v1;
    v2.modelId = core::md5Hex("api|isolation_forest|2");
    v2.version = 2;
    v2.trainedAt = kBase + 100 * kHour;
    v2.blob = "v2";
    store_->saveModel(v2);

    const auto active = store_->loadActiveModel("api", "isolation_forest");
    QVERIFY(active.has_value());
    QCOMPARE(active->version, 2);
    QCOMPARE(active->blob, std::string("v2"));
    const auto all = store_->loadModels("api");
    QCOMPARE(all.size(), std::size_t{2});
    QCOMPARE(all[1].version, 1);
    QCOMPARE(all[1].active, false);
    QCOMPARE(all[1].blob, v1.blob);
    QCOMPARE(all[1].metrics, v1.metrics);
    QCOMPARE(all[1].trainedAt, v1.trainedAt);
    QCOMPARE(all[1].trainingSamples, 168);
    QVERIFY(all[1].hyperparametersJson.find("\"max_samples\": 256") != std::string::npos);
    QCOMPARE(rowsOf(*db_, "SELECT version, accuracy, \"precision\", recall, f1_score FROM ml_models ORDER BY version"),
             QStringList({"1|NULL|0.9|0.8|0.847", "2|NULL|0.9|0.8|0.847"}));
    QVERIFY(!store_->loadActiveModel("api", "dbscan").has_value());

    core::ModelRecord bad = v1;
    bad.hyperparametersJson = "[1,2]";
    QVERIFY(errorOf([&] { store_->saveModel(bad); }).contains("'hyperparameters' must be a JSON object"));
  }

  // A batch of refits in one statement ends as saving them one by one would: version 2 of the
  // api forest is saved again after version 3, so it is the active one.
  void modelBatchesKeepTheLastActiveVersion() {
    auto model = [](const std::string& service, const std::string& type, int version, const std::string& blob) {
      core::ModelRecord m;
      m.modelId = core::md5Hex(service + "|" + type + "|" + std::to_string(version));
      m.service = service;
      m.modelType = type;
      m.version = version;
      m.trainedAt = kBase + version * kHour;
      m.trainingSamples = 168;
      m.metrics = {{"threshold", 0.61}, {"f1_score", 0.5}};
      m.hyperparametersJson = "{\"eps\":\"auto\",\"note\":\"a \\\"quoted\\\" value\"}";
      m.blob = blob;
      return m;
    };
    std::string binary(70000, '\0');
    for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7);
    store_->saveModel(model("api", "isolation_forest", 1, "v1"));
    const std::vector<core::ModelRecord> batch = {
        model("api", "isolation_forest", 2, "v2"), model("api", "dbscan", 2, "d2"),
        model("web", "isolation_forest", 2, binary), model("api", "isolation_forest", 3, "v3"),
        model("api", "isolation_forest", 2, "v2 again")};
    QCOMPARE(store_->saveModels(batch), std::size_t{4});

    QCOMPARE(rowsOf(*db_, "SELECT service, model_type, version, active, f1_score FROM ml_models "
                          "ORDER BY service, model_type, version"),
             QStringList({"api|dbscan|2|t|0.5", "api|isolation_forest|1|f|0.5", "api|isolation_forest|2|t|0.5",
                          "api|isolation_forest|3|f|0.5", "web|isolation_forest|2|t|0.5"}));
    const auto all = store_->loadModels("api");
    QCOMPARE(all.size(), std::size_t{4});
    QCOMPARE(all[2].version, 2);
    QCOMPARE(all[2].blob, std::string("v2 again"));
    QCOMPARE(all[2].metrics, batch[0].metrics);
    QVERIFY(all[2].hyperparametersJson.find("\"note\": \"a \\\"quoted\\\" value\"") != std::string::npos);
    QCOMPARE(store_->loadActiveModel("web", "isolation_forest")->blob, binary);

    // The same batch again (a replayed refit) leaves the same state; an inactive row alone
    // deactivates nothing.
    QCOMPARE(store_->saveModels(batch), std::size_t{4});
    core::ModelRecord old = model("api", "isolation_forest", 1, "v1");
    old.active = false;
    store_->saveModels(std::span(&old, 1));
    QCOMPARE(rowsOf(*db_, "SELECT version FROM ml_models WHERE active ORDER BY service, model_type"),
             QStringList({"2", "2", "2"}));
    QCOMPARE(store_->saveModels({}), std::size_t{0});

    // A restarted service retrains version 1 (stored and active) and refits version 2 in the
    // same batch: the stored row becomes inactive before version 2 becomes active. For "search"
    // version 2's id sorts first, the order in which a careless statement would fail.
    for (const std::string service : {"search", "web"}) {
      store_->saveModel(model(service, "isolation_forest", 1, "v1"));
      const std::vector<core::ModelRecord> restart = {model(service, "isolation_forest", 1, "v1 retrained"),
                                                      model(service, "isolation_forest", 2, "v2")};
      store_->saveModels(restart);
      const auto models = store_->loadModels(service);
      QCOMPARE(models.size(), std::size_t{2});
      QCOMPARE(models[0].blob, std::string("v2"));
      QVERIFY(models[0].active);
      QCOMPARE(models[1].blob, std::string("v1 retrained"));
      QVERIFY(!models[1].active);
    }

    core::ModelRecord bad = model("api", "isolation_forest", 4, "v4");
    bad.metrics["precision"] = 1.5;
    QVERIFY(errorOf([&] { store_->saveModels(std::span(&bad, 1)); }).contains("'metrics.precision' must be in [0, 1]"));
    QCOMPARE(store_->loadActiveModel("api", "isolation_forest")->version, 2);
  }

  void alertsTrackSendingAndMaterialization() {
    std::vector<core::PredictiveAlert> alerts = {makeAlert("a1", "api", kBase), makeAlert("a2", "api", kBase + kHour),
                                                 makeAlert("a3", "db", kBase + 2 * kHour)};
    store_->writeAlerts(alerts);
    connect::AlertQuery unsent;
    unsent.unsentOnly = true;
    QCOMPARE(store_->loadAlerts(unsent).size(), std::size_t{3});
    const std::vector<std::string> ids = {"a1", "a3", "unknown"};
    QCOMPARE(store_->markAlertsSent(ids), std::size_t{2});
    QCOMPARE(store_->markAlertsSent(ids), std::size_t{0});
    const auto left = store_->loadAlerts(unsent);
    QCOMPARE(left.size(), std::size_t{1});
    QCOMPARE(left[0].alertId, std::string("a2"));
    QVERIFY(store_->markAlertMaterialized("a1", kBase + 3 * kHour));
    QVERIFY(!store_->markAlertMaterialized("a1", kBase + 4 * kHour));
    QVERIFY(!store_->markAlertMaterialized("nope", kBase));
    // A replay of a sent alert does not reset its status.
    QCOMPARE(store_->writeAlerts(alerts), std::size_t{0});
    connect::AlertQuery recentApi;
    recentApi.service = "api";
    recentApi.createdSince = kBase + kHour;
    const auto read = store_->loadAlerts(recentApi);
    QCOMPARE(read.size(), std::size_t{1});
    QCOMPARE(read[0].alertId, std::string("a2"));
    const auto all = store_->loadAlerts({});
    QCOMPARE(all.size(), std::size_t{3});
    QCOMPARE(all[2].alertId, std::string("a1"));  // newest first
    QCOMPARE(all[2].alertSent, true);
    QCOMPARE(all[2].materializedAt, std::optional<core::EpochSeconds>(kBase + 3 * kHour));
  }

  // What the predictive alerter reads back after a restart, and its batched materialization.
  void openAlertsAndBatchedMaterialization() {
    std::vector<core::PredictiveAlert> alerts = {makeAlert("a1", "api", kBase), makeAlert("a2", "api", kBase + kHour),
                                                 makeAlert("a3", "api", kBase + 5 * kHour),
                                                 makeAlert("d1", "db", kBase)};
    store_->writeAlerts(alerts);
    // Windows: a1 [+2h, +4h], a2 [+3h, +5h], a3 [+7h, +9h]. At +4h30 a1 has ended.
    auto open = store_->loadOpenAlerts("api", kBase + 4 * kHour + 1800);
    QCOMPARE(open.size(), std::size_t{2});
    QCOMPARE(open[0].alertId, std::string("a2"));  // earliest window first
    QCOMPARE(open[1].alertId, std::string("a3"));
    QCOMPARE(open[0].recommendation, alerts[1].recommendation);
    QCOMPARE(store_->loadOpenAlerts("api", kBase, 1).size(), std::size_t{1});
    const std::vector<core::pipeline::AlertMaterialization> hits = {
        {"a2", "api", "latency_p99_ms", "an1", kBase + 4 * kHour},
        {"a2", "api", "latency_p99_ms", "an0", kBase + 3 * kHour},  // the earlier match counts
        {"d1", "db", "latency_p99_ms", "an2", kBase + 3 * kHour},
        {"gone", "api", "latency_p99_ms", "an3", kBase}};
    QCOMPARE(store_->markAlertsMaterialized(hits), std::size_t{2});
    QCOMPARE(store_->markAlertsMaterialized(hits), std::size_t{0});  // a replay changes nothing
    open = store_->loadOpenAlerts("api", kBase);
    QCOMPARE(open.size(), std::size_t{2});
    QCOMPARE(open[0].alertId, std::string("a1"));
    QCOMPARE(rowsOf(*db_, "SELECT alert_id, extract(epoch FROM materialized_at)::bigint - " + std::to_string(kBase) +
                              " FROM ml_predictive_alerts WHERE materialized ORDER BY alert_id"),
             QStringList({"a2|10800", "d1|10800"}));
  }

  void anomaliesAreResolvedWithANote() {
    const core::AnomalyRecord a = makeAnomaly("api", kBase);
    store_->writeAnomalies(std::span(&a, 1));
    QVERIFY(store_->setAnomalyResolved(a.anomalyId, true, "rolled back deploy 'v42'"));
    QVERIFY(!store_->setAnomalyResolved(a.anomalyId, true));
    QVERIFY(!store_->setAnomalyResolved(core::md5Hex("unknown"), true));
    QCOMPARE(rowsOf(*db_, "SELECT new_status, note FROM ml_anomaly_history"),
             QStringList({"resolved|rolled back deploy 'v42'"}));
    QCOMPARE(store_->writeAnomalies(std::span(&a, 1)), std::size_t{0});
    QCOMPARE(store_->loadAnomalies("api", kBase, kBase + 1).at(0).resolved, true);
  }

  void badRecordsAreRefusedByName() {
    std::vector<core::AnomalyRecord> batch = {makeAnomaly("api", kBase), makeAnomaly("api", kBase + kHour),
                                              makeAnomaly("api", kBase + 2 * kHour)};
    batch[2].confidence = 1.5;
    QString error = errorOf([&] { store_->writeAnomalies(batch); });
    QVERIFY2(error.contains("ml_anomalies: record 2") && error.contains(QString::fromStdString(batch[2].anomalyId)) &&
                 error.contains("'confidence_score' must be in [0, 1]"),
             qPrintable(error));
    batch[2].confidence = 0.5;
    batch[1].anomalyId = "ABC";
    error = errorOf([&] { store_->writeAnomalies(batch); });
    QVERIFY2(error.contains("record 1") && error.contains("'anomaly_id'"), qPrintable(error));
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies"), 0LL);

    core::ServiceMetrics sample = makeSample("api", kBase);
    sample.latencyP99Ms = -1;
    error = errorOf([&] { store_->writeMetrics(std::span(&sample, 1)); });
    QVERIFY2(error.contains("analytics_metrics_1hour: record 0") && error.contains("'latency_p99_ms'"),
             qPrintable(error));
    sample.latencyP99Ms = std::nan("");
    QVERIFY(errorOf([&] { store_->writeMetrics(std::span(&sample, 1)); }).contains("'latency_p99_ms'"));

    core::PredictiveAlert alert = makeAlert("x", "api", kBase);
    alert.predictedTimeEnd = alert.predictedTimeStart - 1;
    QVERIFY(errorOf([&] { store_->writeAlerts(std::span(&alert, 1)); }).contains("'predicted_time_end'"));

    // What only the database can check still comes back as a clear, non-retried input error.
    try {
      db_->execute("ALTER TABLE ml_predictive_alerts ADD CONSTRAINT test_no_x CHECK (alert_id <> 'y')");
      core::PredictiveAlert refused = makeAlert("y", "api", kBase);
      store_->writeAlerts(std::span(&refused, 1));
      QFAIL("expected PgError");
    } catch (const PgError& e) {
      QCOMPARE(e.kind(), PgError::Kind::kInput);
      QVERIFY2(QString(e.what()).contains("writing to ml_predictive_alerts") && QString(e.what()).contains("test_no_x"),
               e.what());
    }
    db_->execute("ALTER TABLE ml_predictive_alerts DROP CONSTRAINT test_no_x");
    QCOMPARE(store_->statistics().retries, std::uint64_t{0});
  }

  void largeBatchesAreSplitOverConnectionsByService() {
    PgSettings s = settings();
    s.poolMin = 1;
    s.poolMax = 4;
    s.writeConnections = 3;
    PgStore store(s);
    std::vector<core::AnomalyRecord> batch;
    for (int i = 0; i < 1200; ++i)
      batch.push_back(makeAnomaly("svc" + std::to_string(i % 12), kBase + (i / 12) * 600,
                                  core::kAllAnomalyTypes[static_cast<std::size_t>(i % 2)], 0.5 + (i % 7) * 0.05));
    QCOMPARE(store.writeAnomalies(batch), std::size_t{1200});
    const auto parts = store.statistics().transactions;
    QVERIFY2(parts >= 2 && parts <= 3, qPrintable(QString::number(parts)));  // 12 services over 3 parts
    QVERIFY(store.pool().openConnections() >= 2);
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies"), 1200LL);

    // The parts' aggregates add up to what a recompute from the rows gives.
    const std::string hourly =
        "SELECT string_agg(concat_ws(':', service, hour_start, total_anomalies, low_count, confidence_sum::numeric(12, "
        "6)), "
        "',' ORDER BY service, hour_start) FROM ml_anomaly_stats_hourly";
    const std::string daily =
        "SELECT string_agg(concat_ws(':', service, day, total_anomalies, high_count), ',' ORDER BY service, day) "
        "FROM ml_anomaly_stats_daily";
    const auto maintainedHourly = db_->queryScalar(hourly);
    const auto maintainedDaily = db_->queryScalar(daily);
    db_->execute("SELECT ml_refresh_anomaly_stats(to_timestamp(" + std::to_string(kBase) + "), to_timestamp(" +
                 std::to_string(kBase + 100 * 600) + "))");
    QCOMPARE(db_->queryScalar(hourly), maintainedHourly);
    QCOMPARE(db_->queryScalar(daily), maintainedDaily);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_daily"), 1200LL);

    // A replay of the whole batch, and of a batch overlapping it, writes only what is new.
    QCOMPARE(store.writeAnomalies(batch), std::size_t{0});
    for (auto& anomaly : batch) {
      anomaly.timestamp += 50 * 600;
      anomaly.anomalyId = core::makeAnomalyId(anomaly.service, anomaly.timestamp, anomaly.type);
    }
    const auto conflictsBefore = store.statistics().conflictingInserts;
    QCOMPARE(store.writeAnomalies(batch), std::size_t{600});
    // Every part starts with rows already stored: its insert failed whole, its merge kept the new ones
    // (and the failed insert logged no aggregate deltas: 1,800, not more).
    QCOMPARE(store.statistics().conflictingInserts - conflictsBefore, parts);
    QCOMPARE(scalarOf(*db_, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_hourly"), 1800LL);

    // A bad record in any part is refused before any part reaches the database.
    for (auto& anomaly : batch) anomaly.timestamp += 1000 * 600;
    batch[1111].anomalyScore = -1;
    const QString error = errorOf([&] { store.writeAnomalies(batch); });
    QVERIFY2(error.contains("ml_anomalies: record 1111") && error.contains("'anomaly_score'"), qPrintable(error));
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies"), 1800LL);
  }

  void concurrentWritersShareABoundedPool() {
    PgSettings s = settings();
    s.poolMin = 2;
    s.poolMax = 3;
    PgStore store(s);
    QCOMPARE(store.pool().openConnections(), 2);
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int w = 0; w < 6; ++w) {
      writers.emplace_back([&, w] {
        try {
          for (int b = 0; b < 5; ++b) {
            std::vector<core::AnomalyRecord> batch;
            for (int i = 0; i < 200; ++i)
              batch.push_back(makeAnomaly("writer" + std::to_string(w), kBase + (b * 200 + i) * kHour));
            store.writeAnomalies(batch);
          }
        } catch (const std::exception&) {
          ++failures;
        }
      });
    }
    for (auto& writer : writers) writer.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(scalarOf(*db_, "SELECT count(*) FROM ml_anomalies"), 6000LL);
    QVERIFY(store.pool().openConnections() <= 3);
    QCOMPARE(store.statistics().transactions, std::uint64_t{30});
  }
};

QTEST_GUILESS_MAIN(TestPgStore)
#include "test_pg_store.moc"
