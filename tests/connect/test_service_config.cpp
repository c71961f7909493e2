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

  void passwordFromEnvironmentOrFileNeverInTheDsnKey() {
    QTemporaryDir dir;
    ServiceConfig c;
    c.postgres.dsn = "host=db user=stacklens";
    c.postgres.sslMode = "verify-full";
    c.postgres.sslRootCert = "/etc/ssl/ca.pem";
    c.postgres.passwordFile = writeFile(dir, "pw", "s3cr'et\n");
    QCOMPARE(
        c.resolvedPostgresDsn(fakeEnvironment({})),
        std::string("host=db user=stacklens sslmode='verify-full' sslrootcert='/etc/ssl/ca.pem' password='s3cr\\'et'"));
    QVERIFY(c.resolvedPostgresDsn(fakeEnvironment({{"STACKLENS_PG_PASSWORD", "envpw"}})).ends_with("password='envpw'"));
    c.postgres.passwordFile = "/nonexistent/pw";
    QVERIFY(errorOf([&] { c.resolvedPostgresDsn(fakeEnvironment({})); }).contains("cannot read /nonexistent/pw"));
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
