// `stacklens predictive-alerter` end to end, as a child process, through the harness's mock Kafka
// cluster and PostgreSQL: anomalies on the input topic and history in analytics_metrics_1hour in;
// rows in ml_predictive_alerts / ml_forecasts and messages on predictive-alerts out, compared with
// what the engine's pipeline produces in-process for the same input (the reference). Bad messages
// reach the dead-letter topic while the rest is processed; SIGTERM drains and exits 0; a second
// instance resumes from the committed offsets and materializes the first one's alert.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "alerter_support.h"
#include "kafka_test_helpers.h"
#include "ml_service_fixture.h"  // httpBody, metricValue
#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "stacklens/connect/message_codec.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_store.h"
#include "stacklens/connect/service_config.h"
#include "stacklens/core/pipeline/predictive_pipeline.h"
#include "test_servers.h"
#include "throwaway_postgres.h"

using namespace std::chrono_literals;
using namespace stacklens;

namespace {

constexpr core::EpochSeconds kHour = 3600;
constexpr core::EpochSeconds kStart = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int kHours = 200;
constexpr int kFirst = 167;  // the first anomalies' hour: a week of history before them
constexpr int kAutoCreatedPartitions = 4;  // librdkafka's mock cluster creates topics with 4

// "api": the error rate climbs towards 5 % and crosses it about 8 hours after kFirst; "db": steady.
std::vector<core::ServiceMetrics> historyRows() {
  auto rows = test::syntheticHistory(
      "api", kStart, kHours, [](int t) { return 0.8 + 0.024 * t; },
      [](int t) { return 100 + 10 * std::sin(2 * M_PI * t / 24); }, 5);
  const auto db = test::syntheticHistory(
      "db", kStart, kHours, [](int) { return 0.5; }, [](int t) { return 100 + 10 * std::sin(2 * M_PI * t / 24); }, 6);
  rows.insert(rows.end(), db.begin(), db.end());
  return rows;
}

// The anomaly ml-service would emit for the row of `service` at `t`.
core::AnomalyRecord anomalyAt(const std::vector<core::ServiceMetrics>& rows, const std::string& service,
                              core::EpochSeconds t, core::AnomalyType type) {
  std::map<std::string, double> values;
  for (const auto& m : rows)
    if (m.service == service && m.timestamp == t)
      for (std::size_t i = 0; i < core::kFeatureCount; ++i)
        values[std::string(core::kFeatureNames[i])] = m.features()[i];
  core::AnomalyRecord a = test::makeAnomaly(service, t, type, values);
  a.detectionMethods = {"isolation_forest", "dbscan"};
  a.description = "test anomaly";
  return a;
}

// Migrates the database and stores the history rows.
void seedHistory(const std::string& dsn, const std::vector<core::ServiceMetrics>& rows) {
  connect::PgConnection db(dsn);
  connect::MigrationRunner().migrate(db);
  connect::PgSettings settings;
  settings.dsn = dsn;
  settings.poolMin = 1;
  connect::PgStore(settings).writeMetrics(rows);
}

// `stacklens predictive-alerter` as a child process, configured by a TOML file and STACKLENS_*
// variables, as in production.
class AlerterProcess {
 public:
  AlerterProcess(std::map<std::string, std::string> variables, const std::string& toml)
      : variables_(std::move(variables)), port_(test::freeTcpPort()) {
    variables_["STACKLENS_HTTP_BIND"] = "127.0.0.1";
    variables_["STACKLENS_HTTP_PORT"] = std::to_string(port_);
    configPath_ = dir_.filePath("alerter.toml").toStdString();
    std::ofstream(configPath_) << toml;
  }
  ~AlerterProcess() {
    if (process_.state() != QProcess::NotRunning) {
      process_.kill();
      process_.waitForFinished(5000);
    }
  }

  connect::ServiceConfig config() const {
    return connect::loadServiceConfig(configPath_, [this](const std::string& name) -> std::optional<std::string> {
      const auto it = variables_.find(name);
      return it == variables_.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
  }

  bool start() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const auto& [name, value] : variables_) env.insert(QString::fromStdString(name), QString::fromStdString(value));
    process_.setProcessEnvironment(env);
    process_.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"),
                   {"predictive-alerter", "--config", QString::fromStdString(configPath_)});
    if (!process_.waitForStarted(5000)) return false;
    return test::waitFor([&] { return running() && test::httpBody(port_, "/healthz") == "ok\n"; }, 30s);
  }
  bool running() const { return process_.state() == QProcess::Running; }
  double metric(const std::string& sample) const { return test::metricValue(test::httpBody(port_, "/metrics"), sample); }
  std::string metrics() const { return test::httpBody(port_, "/metrics"); }
  int port() const { return port_; }
  void terminate() { process_.terminate(); }
  int waitExit(int limitMs = 40000) {
    if (!process_.waitForFinished(limitMs)) return -1;
    return process_.exitStatus() == QProcess::NormalExit ? process_.exitCode() : -1;
  }
  // Reads what arrived: without an event loop QProcess only reads its pipes inside waitFor*().
  QString log() {
    while (process_.state() == QProcess::Running && process_.waitForReadyRead(100))
      log_ += QString::fromUtf8(process_.readAllStandardError());
    return log_ += QString::fromUtf8(process_.readAllStandardError());
  }

 private:
  std::map<std::string, std::string> variables_;
  int port_;
  QTemporaryDir dir_;
  std::string configPath_;
  QProcess process_;
  QString log_;
};

// The service's variables and configuration for one test's topics, group and database.
struct Setup {
  std::string prefix = test::uniqueName("alerter");
  std::string input = prefix + "-anomalies", alerts = prefix + "-alerts", dlq = prefix + "-dlq";
  std::map<std::string, std::string> variables;
  std::string toml;
  Setup(const std::string& bootstrap, const std::string& dsn) {
    variables = {{"STACKLENS_KAFKA_BOOTSTRAP_SERVERS", bootstrap},
                 {"STACKLENS_KAFKA_GROUP_ID", prefix + "-group"},
                 {"STACKLENS_POSTGRES_DSN", dsn}};
    toml = "[kafka.properties]\n\"session.timeout.ms\" = \"6000\"\n"
           "[postgres]\npool_min = 1\npool_max = 2\n"
           "[alerter]\ninput_topic = \"" + input + "\"\nalerts_topic = \"" + alerts + "\"\ndead_letter_topic = \"" +
           dlq + "\"\norder = \"1,1,1\"\nbatch_size = 2\n";
  }
};

void produce(const std::string& bootstrap, const std::string& topic,
             const std::vector<std::pair<std::string, std::string>>& messages) {
  connect::KafkaProducer producer({{"bootstrap.servers", bootstrap}, {"linger.ms", "1"}});
  for (const auto& [key, value] : messages) producer.produce(topic, key, value);
  QCOMPARE(producer.flush(30s), 0);
}

}  // namespace

class TestPredictiveAlerter : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    STACKLENS_REQUIRE_POSTGRES();
    STACKLENS_REQUIRE_KAFKA();
  }

  void helpDocumentsEveryKey() {
    QProcess process;
    process.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"), {"predictive-alerter", "--help"});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 0);
    const QString help = QString::fromUtf8(process.readAllStandardOutput());
    for (const auto& key : connect::serviceConfigKeys()) {
      QVERIFY2(help.contains(QString::fromStdString(key.name)), key.name.c_str());
      QVERIFY2(help.contains(QString::fromStdString(key.environmentName())), key.environmentName().c_str());
    }
    QVERIFY(help.contains("alerter.thresholds.<metric>") && help.contains("latency_p99_ms = 1000"));
    QVERIFY(help.contains("alerter.capacity.<metric>"));
    // A bad [alerter] combination is refused before anything is connected, naming the keys.
    QTemporaryDir dir;
    const QString bad = dir.filePath("bad.toml");
    std::ofstream(bad.toStdString()) << "[alerter]\nhistory_hours = 300\n";
    process.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"), {"predictive-alerter", "--config", bad});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(QString::fromUtf8(process.readAllStandardError()).contains("alerter.model_history_hours"));
  }

  void endToEndWithDeadLettersDrainAndRestart() {
    STACKLENS_REQUIRE_POSTGRES();
    STACKLENS_REQUIRE_KAFKA();
    const std::string bootstrap = test::kafkaBootstrap().toStdString();
    test::ScratchDatabase scratch(test::postgresDsn().toStdString(), "alerter");
    const std::vector<core::ServiceMetrics> rows = historyRows();
    seedHistory(scratch.dsn(), rows);
    connect::PgConnection db(scratch.dsn());
    const Setup setup(bootstrap, scratch.dsn());
    // The reference: the same pipeline in-process, a fresh one for the second instance (which
    // reads the first one's open alerts back).
    AlerterProcess first(setup.variables, setup.toml);
    const core::pipeline::PredictivePipelineConfig config = connect::alerterPipelineConfig(first.config());
    core::pipeline::PredictivePipeline reference(config);
    std::set<std::string> expectedAlerts;
    std::size_t expectedForecasts = 0, firstRunForecasts = 0;
    auto expect = [&](core::pipeline::PredictivePipeline& p, const core::AnomalyRecord& a) {
      const auto out = test::feedPipeline(p, rows, a);
      for (const auto& alert : out.alerts) expectedAlerts.insert(alert.alertId);
      expectedForecasts += out.forecasts.size();
      return out;
    };
    const auto apiAnomaly = anomalyAt(rows, "api", kStart + kFirst * kHour, core::AnomalyType::kErrorSpike);
    const auto raised = expect(reference, apiAnomaly);
    QCOMPARE(raised.alerts.size(), std::size_t{1});
    const core::PredictiveAlert predicted = raised.alerts[0];
    QCOMPARE(predicted.metric, std::string("error_rate"));
    const std::vector<core::AnomalyRecord> firstRun = {
        apiAnomaly, anomalyAt(rows, "db", kStart + kFirst * kHour, core::AnomalyType::kLatencyDegradation),
        anomalyAt(rows, "db", kStart + (kFirst + 1) * kHour, core::AnomalyType::kOutlier)};
    for (std::size_t i = 1; i < firstRun.size(); ++i) QVERIFY(expect(reference, firstRun[i]).alerts.empty());
    firstRunForecasts = expectedForecasts;
    // Inside the predicted window, an error spike on api: the alert came true.
    const auto hit = anomalyAt(rows, "api", predicted.predictedTimeStart, core::AnomalyType::kErrorSpike);
    core::pipeline::PredictivePipeline restarted(config);
    restarted.restoreAlerts(reference.openAlerts("api"));
    QCOMPARE(expect(restarted, hit).materialized.size(), std::size_t{1});

    // Run 1: three anomalies with two bad messages among them.
    QJsonObject meteor = QJsonDocument::fromJson(QByteArray::fromStdString(connect::encodeAnomaly(firstRun[1]))).object();
    meteor["anomaly_type"] = "meteor";
    produce(bootstrap, setup.input,
            {{"api", connect::encodeAnomaly(firstRun[0])},
             {"db", "{not json"},
             {"db", QJsonDocument(meteor).toJson(QJsonDocument::Compact).toStdString()},
             {"db", connect::encodeAnomaly(firstRun[1])},
             {"db", connect::encodeAnomaly(firstRun[2])}});
    QVERIFY2(first.start(), qPrintable(first.log()));
    QVERIFY2(test::waitFor([&] { return first.metric("stacklens_messages_in_total") >= 5; }, 60s), qPrintable(first.log()));
    QVERIFY2(test::waitFor([&] { return test::scalarOf(db, "SELECT count(*) FROM ml_forecasts") ==
                                        static_cast<long long>(firstRunForecasts); }, 30s),
             qPrintable(first.log()));
    const std::string metrics = first.metrics();
    QCOMPARE(test::metricValue(metrics, "stacklens_dlq_total"), 2.0);
    QCOMPARE(test::metricValue(metrics, "stacklens_forecasts_total"), 15.0);
    QCOMPARE(test::metricValue(metrics, "stacklens_predictive_alerts_total{event=\"threshold_breach\",severity=\"" +
                                      std::string(core::toString(predicted.severity)) + "\"}"),
             1.0);
    QVERIFY(metrics.find("stacklens_forecast_seconds_bucket") != std::string::npos);
    QVERIFY(metrics.find("stacklens_message_latency_seconds_bucket") != std::string::npos);
    QVERIFY(metrics.find("stacklens_consumer_lag") != std::string::npos);
    int status = 0;
    test::httpBody(first.port(), "/readyz", &status);
    QCOMPARE(status, 200);
    first.terminate();  // SIGTERM: drains, commits, leaves the group
    QCOMPARE(first.waitExit(), 0);
    // One JSON object per log line.
    const QStringList lines = first.log().split('\n', Qt::SkipEmptyParts);
    QVERIFY(!lines.isEmpty());
    for (const QString& line : lines) QVERIFY2(QJsonDocument::fromJson(line.toUtf8()).isObject(), qPrintable(line));
    QVERIFY(first.log().contains(QString::fromStdString(predicted.alertId)));

    // Run 2: a new instance in the same group sees only the new message, and the alert restored
    // from the table materializes.
    produce(bootstrap, setup.input, {{"api", connect::encodeAnomaly(hit)}});
    AlerterProcess second(setup.variables, setup.toml);
    QVERIFY2(second.start(), qPrintable(second.log()));
    QVERIFY2(test::waitFor([&] { return test::scalarOf(db, "SELECT count(*) FROM ml_predictive_alerts WHERE materialized") == 1 &&
                                        test::scalarOf(db, "SELECT count(*) FROM ml_forecasts") ==
                                            static_cast<long long>(expectedForecasts); }, 60s),
             qPrintable(second.log()));
    // Counted once committed; a replay of run 1's messages would count too.
    QVERIFY(test::waitFor([&] { return second.metric("stacklens_messages_in_total") >= 1; }, 10s));
    std::this_thread::sleep_for(1s);
    QCOMPARE(second.metric("stacklens_messages_in_total"), 1.0);
    QCOMPARE(second.metric("stacklens_alerts_materialized_total"), 1.0);
    second.terminate();
    QCOMPARE(second.waitExit(), 0);

    // The rows: exactly the reference's alerts, sent; the predicted one materialized at the hit.
    std::set<std::string> stored;
    for (const QString& id : test::rowsOf(db, "SELECT alert_id FROM ml_predictive_alerts")) stored.insert(id.toStdString());
    QCOMPARE(stored, expectedAlerts);
    QCOMPARE(test::rowsOf(db, "SELECT alert_id, extract(epoch FROM materialized_at)::bigint FROM ml_predictive_alerts "
                              "WHERE materialized"),
             QStringList{QString::fromStdString(predicted.alertId + "|" + std::to_string(hit.timestamp))});
    QCOMPARE(test::scalarOf(db, "SELECT count(*) FROM ml_predictive_alerts WHERE NOT alert_sent"), 0LL);
    QCOMPARE(test::rowsOf(db, "SELECT service, metric, predicted_event, severity FROM ml_predictive_alerts WHERE "
                              "alert_id = $1", {predicted.alertId}),
             QStringList{QString::fromStdString("api|error_rate|threshold_breach|" +
                                                std::string(core::toString(predicted.severity)))});
    QCOMPARE(test::scalarOf(db, "SELECT count(DISTINCT (service, created_at)) FROM ml_forecasts"), 4LL);

    // The topics: one message per alert, keyed by service; the two bad messages with their reasons.
    const auto published = test::drainTopic(bootstrap, setup.alerts, kAutoCreatedPartitions, expectedAlerts.size(), 20s, 1s);
    std::set<std::string> publishedIds;
    for (const auto& message : published) {
      const auto alert = connect::decodePredictiveAlert(message.value);
      QVERIFY2(alert, alert.error.c_str());
      QCOMPARE(message.key, alert.value->service);
      publishedIds.insert(alert.value->alertId);
    }
    QCOMPARE(published.size(), expectedAlerts.size());
    QCOMPARE(publishedIds, expectedAlerts);
    const auto dead = test::drainTopic(bootstrap, setup.dlq, kAutoCreatedPartitions, 2, 20s, 1s);
    QCOMPARE(dead.size(), std::size_t{2});
    QStringList reasons;
    for (const auto& message : dead)
      reasons << QJsonDocument::fromJson(QByteArray::fromStdString(message.value)).object()["reason"].toString();
    QVERIFY2(reasons[0].startsWith("bad JSON"), qPrintable(reasons[0]));
    QCOMPARE(reasons[1], QString("field 'anomaly_type': unknown type 'meteor'"));
  }

  // A configuration deployed from the workbench (a row of ml_config_versions) replaces the
  // forecasting settings of the running alerter at a batch boundary, without a restart; a version
  // with an invalid [alerter] combination is logged and skipped.
  void picksUpDeployedConfigurationsWithoutRestart() {
    STACKLENS_REQUIRE_POSTGRES();
    STACKLENS_REQUIRE_KAFKA();
    const std::string bootstrap = test::kafkaBootstrap().toStdString();
    test::ScratchDatabase scratch(test::postgresDsn().toStdString(), "alerterdeploy");
    const std::vector<core::ServiceMetrics> rows = historyRows();
    seedHistory(scratch.dsn(), rows);
    connect::PgConnection db(scratch.dsn());
    Setup setup(bootstrap, scratch.dsn());
    setup.variables["STACKLENS_CONFIG_POLL_MS"] = "200";
    AlerterProcess alerter(setup.variables, setup.toml);
    QVERIFY2(alerter.start(), qPrintable(alerter.log()));
    QCOMPARE(alerter.metric("stacklens_config_version"), 0.0);
    // The forecasts of one anomaly: (longest horizon, interval level) over its metrics.
    auto forecastShape = [&](const char* service) {
      return test::rowsOf(db, "SELECT max(step), max(confidence_level) FROM ml_forecasts WHERE service = $1",
                          {std::string(service)});
    };
    auto forecastOf = [&](const char* service, int hour) {
      produce(bootstrap, setup.input,
              {{service, connect::encodeAnomaly(anomalyAt(rows, service, kStart + hour * kHour,
                                                          core::AnomalyType::kLatencyDegradation))}});
      return test::waitFor([&] { return test::scalarOf(db, "SELECT count(*) FROM ml_forecasts WHERE service = $1",
                                                       {std::string(service)}) > 0; }, 60s);
    };
    QVERIFY2(forecastOf("api", kFirst), qPrintable(alerter.log()));
    QCOMPARE(forecastShape("api"), QStringList{"24|90"});  // the startup file's (default) horizon and level

    auto deploy = [&](int version, const std::string& toml) {
      db.query("INSERT INTO ml_config_versions (version, config_toml, author) VALUES ($1::integer, $2, 'test')",
               {std::to_string(version), toml});
    };
    deploy(1, "[alerter]\norder = \"1,1,1\"\nhorizon = 6\nlevel = 80\n");
    QVERIFY2(test::waitFor([&] { return alerter.metric("stacklens_config_version") == 1; }, 20s), qPrintable(alerter.log()));
    QVERIFY2(forecastOf("db", kFirst + 1), qPrintable(alerter.log()));
    QCOMPARE(forecastShape("db"), QStringList{"6|80"});

    deploy(2, "[alerter]\nhistory_hours = 300\n");  // longer than model_history_hours: refused
    QVERIFY2(test::waitFor([&] { return alerter.log().contains("ml_config_versions version 2 cannot be used"); }, 20s),
             qPrintable(alerter.log()));
    QCOMPARE(alerter.metric("stacklens_config_version"), 1.0);
    QVERIFY(alerter.log().contains("alerter.model_history_hours"));
    QVERIFY(alerter.running());
    alerter.terminate();
    QCOMPARE(alerter.waitExit(), 0);
    QVERIFY(alerter.log().contains("deployed configuration version 1 applied"));
  }

  // The database goes away while anomalies arrive: the history reads and the writes wait for it,
  // the service stays up (not ready), and nothing is lost once it is back.
  void postgresRestartMidStream() {
    STACKLENS_REQUIRE_KAFKA();
    test::ThrowawayPostgres postgres;
    if (!postgres.isReady()) {
      if (test::underCi()) QFAIL(qPrintable(postgres.error()));
      QSKIP(qPrintable(postgres.error()));
    }
    const std::string bootstrap = test::kafkaBootstrap().toStdString();
    const std::vector<core::ServiceMetrics> rows = historyRows();
    seedHistory(postgres.dsn(), rows);
    const Setup setup(bootstrap, postgres.dsn());
    AlerterProcess alerter(setup.variables, setup.toml);
    QVERIFY2(alerter.start(), qPrintable(alerter.log()));
    produce(bootstrap, setup.input,
            {{"api", connect::encodeAnomaly(anomalyAt(rows, "api", kStart + kFirst * kHour, core::AnomalyType::kErrorSpike))}});
    auto count = [&](const char* sql) {
      try {
        connect::PgConnection db(postgres.dsn());
        return test::scalarOf(db, sql);
      } catch (const connect::PgError&) {
        return -1LL;
      }
    };
    QVERIFY2(test::waitFor([&] { return count("SELECT count(*) FROM ml_predictive_alerts") == 1; }, 60s),
             qPrintable(alerter.log()));

    QVERIFY(postgres.stop(test::ThrowawayPostgres::StopMode::kImmediate));
    // db is new to this instance: its first anomaly needs a history read (and its open alerts).
    produce(bootstrap, setup.input,
            {{"db", connect::encodeAnomaly(anomalyAt(rows, "db", kStart + kFirst * kHour, core::AnomalyType::kOutlier))},
             {"api", connect::encodeAnomaly(
                         anomalyAt(rows, "api", kStart + (kFirst + 1) * kHour, core::AnomalyType::kOutlier))}});
    std::this_thread::sleep_for(3s);
    QVERIFY2(alerter.running(), qPrintable(alerter.log()));
    int status = 0;
    const std::string readiness = test::httpBody(alerter.port(), "/readyz", &status);
    QCOMPARE(status, 503);
    QVERIFY2(readiness.find("postgres") != std::string::npos, readiness.c_str());
    QVERIFY(alerter.metric("stacklens_messages_in_total") < 3);  // nothing committed without its rows
    QVERIFY(postgres.start());
    QVERIFY2(test::waitFor([&] { return count("SELECT count(DISTINCT (service, created_at)) FROM ml_forecasts") == 3; },
                           60s),
             qPrintable(alerter.log()));
    QVERIFY(test::waitFor([&] { return alerter.metric("stacklens_messages_in_total") == 3; }, 20s));
    QCOMPARE(count("SELECT count(*) FROM ml_forecasts"), 3LL * 5 * 24);
    alerter.terminate();
    QCOMPARE(alerter.waitExit(), 0);
  }
};

QTEST_GUILESS_MAIN(TestPredictiveAlerter)
#include "test_predictive_alerter.moc"
