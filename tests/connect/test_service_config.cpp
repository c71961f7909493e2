#include <fstream>

#include <QTemporaryDir>
#include <QtTest>

#include "stacklens/connect/service_config.h"

using namespace stacklens::connect;

namespace {

Environment fakeEnvironment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

std::string writeFile(const QTemporaryDir& dir, const char* name, const std::string& text) {
  const std::string path = dir.filePath(name).toStdString();
  std::ofstream(path) << text;
  return path;
}

QString errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

class TestServiceConfig : public QObject {
  Q_OBJECT
 private slots:
  void detectionAndAlertLimitsRoundTripThroughTheWriter() {
    // What the workbench exports: the tuned keys, read back by the services' loader.
    ServiceConfig c;
    c.ml.minTrainingSamples = 150;
    c.ml.detection.historyCapacity = 336;
    c.ml.detection.anomaly.forest.contamination.reset();
    c.ml.detection.anomaly.forest.trees = 250;
    c.ml.detection.patterns.eps = 0.123456789;
    c.ml.detection.trends.seasonalLag = 0;
    c.ml.detection.trends.changePoints.method = stacklens::core::detect::ChangePointMethod::kBayesianOnline;
    c.ml.detection.consensus.rule = stacklens::core::detect::ConsensusRule::kUnanimous;
    c.ml.detection.consensus.severity.high = 0.8;
    c.alerter.order = "2,0,1,0,1,1,24";
    c.alerter.level = 95.5;
    c.alerter.thresholds = {{"error_rate", 2.5}};
    c.alerter.capacity = {{"total_requests", 40000}};
    const std::string toml =
        writeServiceConfig(c, {"ml.min_training_samples", "ml.detection.", "alerter.order", "alerter.level",
                               "alerter.thresholds", "alerter.capacity"});
    QVERIFY(toml.find("contamination = \"auto\"") != std::string::npos);
    QVERIFY(toml.find("bootstrap_servers") == std::string::npos);
    const ServiceConfig back = parseServiceConfig(toml, "tuned.toml", fakeEnvironment({}));
    for (const ConfigKey& key : serviceConfigKeys())
      QVERIFY2(key.get(back) == key.get(c), qPrintable(QString::fromStdString(key.name + ": " + key.get(back) + " != " + key.get(c))));
    QCOMPARE(back.alerter.thresholds, c.alerter.thresholds);
    QCOMPARE(back.alerter.capacity, c.alerter.capacity);
    QCOMPARE(*back.ml.detection.patterns.eps, 0.123456789);  // no digits lost
    const auto pipeline = back.pipelineConfig();
    QCOMPARE(pipeline.minTrainingSamples, 150);
    QCOMPARE(pipeline.historyCapacity, 336);
    QVERIFY(!pipeline.anomaly.forest.contamination);
    // Defaults: the original thresholds; a file's table replaces them.
    QCOMPARE(ServiceConfig{}.alerter.thresholds.at("error_rate"), 5.0);
    QCOMPARE(back.alerter.thresholds.count("latency_p99_ms"), std::size_t(0));
    // The environment reaches the new keys too.
    const ServiceConfig env = loadServiceConfig("", fakeEnvironment({{"STACKLENS_ML_DETECTION_TREES", "7"}}));
    QCOMPARE(env.pipelineConfig().anomaly.forest.trees, 7);
  }

  void badDetectionValuesNameTheLineAndKey() {
    QCOMPARE(errorOf([] { parseServiceConfig("[ml.detection]\n\ntrees = 0\n", "t.toml", fakeEnvironment({})); })
                 .left(28),
             QString("t.toml:3: ml.detection.trees"));
    QVERIFY(errorOf([] { parseServiceConfig("[ml.detection]\nconsensus_rule = \"most\"\n", "t.toml", fakeEnvironment({})); })
                .contains("t.toml:2: ml.detection.consensus_rule: 'most' is not one of"));
    QVERIFY(errorOf([] { parseServiceConfig("[alerter.thresholds]\nerror_rate = \"x\"\n", "t.toml", fakeEnvironment({})); })
                .contains("t.toml:2: alerter.thresholds.error_rate"));
    QVERIFY(errorOf([] { parseServiceConfig("[ml.detection]\ncontamination = \"sometimes\"\n", "t.toml",
                                            fakeEnvironment({})); })
                .contains("t.toml:2: ml.detection.contamination"));
  }

  void alerterSettingsBecomeThePipelineConfiguration() {
    const ServiceConfig c = parseServiceConfig(
        "[alerter]\norder = \"1,1,1\"\nhistory_hours = 6\nmodel_history_hours = 336\nseason = 1\n"
        "alert_probability = 0.7\ncapacity_every = 5\nrefit_every_hours = 6\norder_search_seconds = 1.5\n[alerter.capacity]\ntotal_requests = 40000\n",
        "a.toml", fakeEnvironment({{"STACKLENS_ALERTER_MIN_SAMPLES", "24"}}));
    const auto p = alerterPipelineConfig(c);
    QVERIFY(p.order.has_value());
    QCOMPARE(p.order->toString(), std::string("ARIMA(1,1,1)"));
    QCOMPARE(p.historyHours, 6);
    QCOMPARE(p.modelHistoryHours, 336);
    QCOMPARE(p.seasonalPeriod, 1);
    QCOMPARE(p.minSamples, 24);
    QCOMPARE(p.alertProbability, 0.7);
    QCOMPARE(p.capacityEvery, 5);
    QCOMPARE(p.refitEveryHours, 6);
    QCOMPARE(p.orderSearchSeconds, 1.5);
    QCOMPARE(p.capacity, (std::map<std::string, double>{{"total_requests", 40000}}));
    QCOMPARE(p.thresholds.at("error_rate"), 5.0);  // the original's defaults
    QVERIFY(!alerterPipelineConfig(ServiceConfig{}).order);  // "auto"
    QCOMPARE(ServiceConfig{}.alerter.deadLetterTopic, std::string("ml-anomalies-dlq"));
    // Bad values are named: the order at load time, the combination when the pipeline is built.
    QVERIFY(errorOf([] { parseServiceConfig("[alerter]\n\norder = \"1,1\"\n", "a.toml", fakeEnvironment({})); })
                .contains("a.toml:3: alerter.order: '1,1'"));
    QVERIFY(errorOf([] {
              alerterPipelineConfig(parseServiceConfig("[alerter]\nhistory_hours = 200\n", "a.toml", fakeEnvironment({})));
            }).contains("alerter.model_history_hours (168) must be at least alerter.history_hours (200)"));
    QVERIFY(errorOf([] {
              alerterPipelineConfig(
                  parseServiceConfig("[alerter.thresholds]\nerror_ratio = 5\n", "a.toml", fakeEnvironment({})));
            }).contains("'error_ratio' is not one of the 8 features"));
  }

  void defaultsMatchTheOriginalContracts() {
    const ServiceConfig c = loadServiceConfig("", fakeEnvironment({}));
    QCOMPARE(c.ml.inputTopic, std::string("analytics-alerts"));
    QCOMPARE(c.ml.anomaliesTopic, std::string("ml-anomalies"));
    QCOMPARE(c.ml.deadLetterTopic, std::string("analytics-alerts-dlq"));
    QCOMPARE(c.alerter.alertsTopic, std::string("predictive-alerts"));
    QCOMPARE(c.ml.retrainEvery, 100);
    QCOMPARE(c.ml.historyDays, 7);
    QCOMPARE(c.alerter.historyHours, 4);
    QCOMPARE(c.postgres.poolMin, 2);
    QCOMPARE(c.postgres.poolMax, 10);
  }

  void fileThenEnvironment() {
    QTemporaryDir dir;
    const std::string file = writeFile(dir, "s.toml",
                                       "[kafka]\nbootstrap_servers = \"k1:9092,k2:9092\"\n"
                                       "[kafka.properties]\n\"security.protocol\" = \"SASL_SSL\"\n"
                                       "[ml]\nretrain_every = 250\n[alerter]\nlevel = 95.0\n");
    const ServiceConfig c = loadServiceConfig(file, fakeEnvironment({{"STACKLENS_ML_RETRAIN_EVERY", "50"},
                                                                     {"STACKLENS_KAFKA_PROPERTY_SASL_USERNAME", "svc"},
                                                                     {"STACKLENS_LOG_FORMAT", "text"}}));
    QCOMPARE(c.kafka.bootstrapServers, std::string("k1:9092,k2:9092"));
    QCOMPARE(c.kafka.properties.at("security.protocol"), std::string("SASL_SSL"));
    QCOMPARE(c.kafka.properties.at("sasl.username"), std::string("svc"));
    QCOMPARE(c.ml.retrainEvery, 50);  // the environment wins over the file
    QCOMPARE(c.alerter.level, 95.0);
    QCOMPARE(c.log.format, std::string("text"));
  }

  void errorsNameFileLineAndKey() {
    QTemporaryDir dir;
    const std::string unknown = writeFile(dir, "u.toml", "[ml]\n\nretrain_evry = 5\n");
    QVERIFY(errorOf([&] {
              loadServiceConfig(unknown, fakeEnvironment({}));
            }).contains("u.toml:3: unknown key 'ml.retrain_evry'"));
    const std::string bad = writeFile(dir, "b.toml", "[ml]\nretrain_every = \"often\"\n");
    QVERIFY(errorOf([&] {
              loadServiceConfig(bad, fakeEnvironment({}));
            }).contains("b.toml:2: ml.retrain_every: 'often' is not a whole number"));
    const std::string syntax = writeFile(dir, "x.toml", "[ml\n");
    QVERIFY(errorOf([&] {
              loadServiceConfig(syntax, fakeEnvironment({}));
            }).startsWith(QString::fromStdString(syntax) + ":1:"));
    QVERIFY(errorOf([] {
              loadServiceConfig("", fakeEnvironment({{"STACKLENS_LOG_LEVEL", "loud"}}));
            }).contains("STACKLENS_LOG_LEVEL: log.level: 'loud' is not one of trace, debug, info, warn, error"));
    QVERIFY(errorOf([] {
              loadServiceConfig("", fakeEnvironment({{"STACKLENS_POSTGRES_POOL_MIN", "20"}}));
            }).contains("exceeds postgres.pool_max"));
    QVERIFY(errorOf([] { loadServiceConfig("/nonexistent.toml", fakeEnvironment({})); }).contains("/nonexistent.toml"));
  }

  void postgresKeysFillTheOnePgSettingsTheStoreUses() {
    QTemporaryDir dir;
    const std::string passwordFile = writeFile(dir, "pw", "s3cr'et\n");
    const std::string file = writeFile(dir, "c.toml",
                                       "[postgres]\ndsn = \"host=db user=stacklens\"\nsslmode = \"require\"\n"
                                       "password_file = \"" + passwordFile + "\"\npool_max = 4\n");
    const ServiceConfig c = loadServiceConfig(file, fakeEnvironment({{"STACKLENS_POSTGRES_POOL_MIN", "3"}}));
    QCOMPARE(c.postgres.poolMin, 3);
    QCOMPARE(c.postgres.poolMax, 4);
    std::map<std::string, std::string> parameters;
    for (const auto& [keyword, value] : c.postgres.connectionParameters()) parameters[keyword] = value;
    QCOMPARE(parameters["dbname"], std::string("host=db user=stacklens"));
    QCOMPARE(parameters["sslmode"], std::string("require"));
    QCOMPARE(parameters["password"], std::string("s3cr'et"));
    QCOMPARE(ServiceConfig{}.postgres.dsn, std::string(kDefaultPostgresDsn));
    QVERIFY(errorOf([&] {
              loadServiceConfig({}, fakeEnvironment({{"STACKLENS_POSTGRES_DSN", "host=db password=oops"}}));
            }).contains("postgres.dsn"));
  }

  void helpDocumentsEveryKey() {
    const std::string help = describeServiceConfig();
    for (const ConfigKey& key : serviceConfigKeys()) {
      QVERIFY2(help.find(key.name) != std::string::npos, key.name.c_str());
      QVERIFY2(help.find(key.environmentName()) != std::string::npos, key.name.c_str());
    }
    QCOMPARE(serviceConfigKeys().front().environmentName(), std::string("STACKLENS_KAFKA_BOOTSTRAP_SERVERS"));
  }
};

QTEST_GUILESS_MAIN(TestServiceConfig)
#include "test_service_config.moc"
