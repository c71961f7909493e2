#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "stacklens/connect/message_codec.h"

using namespace stacklens::connect;
using namespace stacklens::core;

namespace {

const char* kContractExample =
    R"({"service":"api","timestamp":"2024-01-15T10:30:00Z","window":"3600s","total_requests":10000,
        "error_rate":0.5,"latency_p99_ms":150,"latency_p95_ms":100,"latency_mean_ms":50,
        "unique_users":1000,"unique_ips":500,"risk_score":0.3})";

// The contract example with one field replaced (or removed when `value` is empty).
std::string withField(const QString& field, const QString& value) {
  QJsonObject object = QJsonDocument::fromJson(kContractExample).object();
  if (value.isEmpty())
    object.remove(field);
  else
    object[field] = QJsonDocument::fromJson(("{\"v\":" + value + "}").toUtf8()).object()["v"];
  return QJsonDocument(object).toJson(QJsonDocument::Compact).toStdString();
}

}  // namespace

class TestMessageCodec : public QObject {
  Q_OBJECT
 private slots:
  void decodesTheContractExample() {
    const auto decoded = decodeServiceMetrics(kContractExample);
    QVERIFY2(decoded, decoded.error.c_str());
    const ServiceMetrics& m = *decoded.value;
    QCOMPARE(QString::fromStdString(m.service), QString("api"));
    QCOMPARE(m.timestamp, EpochSeconds(1705314600));
    QCOMPARE(m.windowSeconds, 3600);
    QCOMPARE(m.features(), (FeatureVector{0.5, 150, 100, 50, 1000, 500, 0.3, 10000}));
  }

  void roundTrips() {
    ServiceMetrics m;
    m.service = "checkout \"eu\"; DROP TABLE x; --";
    m.timestamp = 1767225600;
    m.windowSeconds = 300;
    m.errorRate = 1.25;
    m.latencyP99Ms = 812.5;
    m.latencyP95Ms = 400;
    m.latencyMeanMs = 120.125;
    m.uniqueUsers = 77;
    m.uniqueIps = 60;
    m.riskScore = 0.75;
    m.totalRequests = 123456;
    const auto decoded = decodeServiceMetrics(encodeServiceMetrics(m));
    QVERIFY2(decoded, decoded.error.c_str());
    QCOMPARE(decoded.value->service, m.service);
    QCOMPARE(decoded.value->timestamp, m.timestamp);
    QCOMPARE(decoded.value->windowSeconds, 300);
    QCOMPARE(decoded.value->features(), m.features());
  }

  void rejectsInvalidWithTheReason_data() {
    QTest::addColumn<QString>("payload");
    QTest::addColumn<QString>("expected");
    QTest::newRow("bad json") << "{\"service\": \"api\""
                              << "bad JSON";
    QTest::newRow("array") << "[1,2]"
                           << "expected a JSON object, got array";
    QTest::newRow("missing") << QString::fromStdString(withField("latency_p99_ms", ""))
                             << "missing field 'latency_p99_ms'";
    QTest::newRow("mistyped") << QString::fromStdString(withField("error_rate", "\"0.5\""))
                              << "field 'error_rate': expected a number, got string";
    QTest::newRow("bool") << QString::fromStdString(withField("unique_users", "true"))
                          << "field 'unique_users': expected a number, got boolean";
    QTest::newRow("negative") << QString::fromStdString(withField("total_requests", "-5"))
                              << "field 'total_requests': must not be negative";
    QTest::newRow("absurd rate") << QString::fromStdString(withField("error_rate", "250"))
                                 << "field 'error_rate': absurd value 250.0";
    QTest::newRow("absurd risk") << QString::fromStdString(withField("risk_score", "7"))
                                 << "field 'risk_score': absurd value";
    QTest::newRow("absurd latency") << QString::fromStdString(withField("latency_mean_ms", "1e12"))
                                    << "field 'latency_mean_ms': absurd value";
    QTest::newRow("null") << QString::fromStdString(withField("unique_ips", "null"))
                          << "field 'unique_ips': expected a number, got null";
    QTest::newRow("service type") << QString::fromStdString(withField("service", "42"))
                                  << "field 'service': expected a string, got number";
    QTest::newRow("service empty") << QString::fromStdString(withField("service", "\"\""))
                                   << "field 'service': must not be empty";
    QTest::newRow("timestamp") << QString::fromStdString(withField("timestamp", "\"yesterday\""))
                               << "field 'timestamp': 'yesterday' is not an ISO-8601";
    QTest::newRow("ancient") << QString::fromStdString(withField("timestamp", "\"1971-01-01T00:00:00Z\""))
                             << "field 'timestamp': absurd value";
    QTest::newRow("window") << QString::fromStdString(withField("window", "\"1 hour\""))
                            << "field 'window': '1 hour' is not a window";
    QTest::newRow("NaN literal") << QString(kContractExample).replace("0.3", "NaN") << "bad JSON";
    // nlohmann reports a number beyond double's range as out_of_range, not as a parse error.
    QTest::newRow("overflowing number") << QString(kContractExample).replace("0.3", "1e400")
                                        << "bad JSON: [json.exception.out_of_range.406] number overflow";
  }
  void rejectsInvalidWithTheReason() {
    QFETCH(QString, payload);
    QFETCH(QString, expected);
    const auto decoded = decodeServiceMetrics(payload.toStdString());
    QVERIFY(!decoded);
    QVERIFY2(QString::fromStdString(decoded.error).contains(expected), decoded.error.c_str());
  }

  void rejectsOversized() {
    ValidationLimits limits;
    limits.maxMessageBytes = 100;
    const auto decoded = decodeServiceMetrics(kContractExample, limits);
    QVERIFY(!decoded);
    QVERIFY2(QString::fromStdString(decoded.error).startsWith("oversized message"), decoded.error.c_str());
    QVERIFY(decodeServiceMetrics(kContractExample));  // the default limit admits it
  }

  void anomalyRoundTrip() {
    AnomalyRecord a;
    a.service = "payments";
    a.timestamp = 1767229200;
    a.type = AnomalyType::kLatencyDegradation;
    a.anomalyId = makeAnomalyId(a.service, a.timestamp, a.type);
    a.severity = Severity::kHigh;
    a.confidence = 0.875;
    a.anomalyScore = 0.9;
    a.detectionMethods = {"isolation_forest", "trend"};
    a.metricValues = {{"latency_p99_ms", 950.0}};
    a.expectedValues = {{"latency_p99_ms", 300.0}};
    a.description = "p99 latency 3.2x its baseline";
    const auto decoded = decodeAnomaly(encodeAnomaly(a));
    QVERIFY2(decoded, decoded.error.c_str());
    QCOMPARE(decoded.value->anomalyId, a.anomalyId);
    QVERIFY(decoded.value->type == a.type && decoded.value->severity == a.severity);
    QCOMPARE(decoded.value->confidence, a.confidence);
    QCOMPARE(decoded.value->detectionMethods, a.detectionMethods);
    QCOMPARE(decoded.value->metricValues, a.metricValues);
    QCOMPARE(decoded.value->expectedValues, a.expectedValues);
    QVERIFY(!decodeAnomaly(R"({"anomaly_id":"x"})"));
  }

  void deadLetterKeepsInvalidUtf8Payloads() {
    const std::string payload = "{\"service\":\"\xff\xfe\"}";
    const std::string envelope = encodeDeadLetter(payload, "bad JSON", "analytics-alerts", 2, 41);
    const QJsonObject object = QJsonDocument::fromJson(QByteArray::fromStdString(envelope)).object();
    QCOMPARE(object["reason"].toString(), QString("bad JSON"));
    QCOMPARE(object["source_partition"].toInt(), 2);
    QCOMPARE(object["source_offset"].toInteger(), 41);
    QVERIFY(object["payload"].toString().startsWith("{\"service\":"));
  }
};

QTEST_GUILESS_MAIN(TestMessageCodec)
#include "test_message_codec.moc"
