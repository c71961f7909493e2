#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <bit>
#include <cstdint>

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

  // Messages of the usual shape are read without building a JSON document; anything unusual goes
  // to the general parser. An unknown key with an escape sends a message the general way, so
  // each payload here is decoded both ways and must give the same record or the same error.
  void theShortcutReadsAsTheGeneralParser_data() {
    QTest::addColumn<QString>("payload");
    QString example(kContractExample);
    QTest::newRow("contract") << example;
    QTest::newRow("no window") << QString::fromStdString(withField("window", ""));
    QTest::newRow("spaces") << QString(kContractExample).replace(",", " ,\t").replace(":", "\r\n: ");
    QTest::newRow("exponents") << QString(kContractExample).replace("10000", "1.0e4").replace("0.5", "5E-1").replace("150", "1.5e+2");
    QTest::newRow("long mantissa") << QString(kContractExample).replace("0.3", "0.30000000000000004441");
    QTest::newRow("big integer") << QString(kContractExample).replace("10000", "9007199254740993");
    QTest::newRow("huge integer") << QString(kContractExample).replace("10000", "123456789012345678901234");
    QTest::newRow("tiny") << QString(kContractExample).replace("0.3", "4.9e-324");
    QTest::newRow("underflow") << QString(kContractExample).replace("0.3", "1e-400");
    QTest::newRow("zero") << QString(kContractExample).replace("0.3", "0.0e0");
    QTest::newRow("minus zero") << QString(kContractExample).replace("0.3", "-0");
    QTest::newRow("leading zero") << QString(kContractExample).replace("0.3", "03");
    QTest::newRow("bare dot") << QString(kContractExample).replace("0.3", "3.");
    QTest::newRow("unknown fields") << QString(kContractExample).replace("{", R"({"region":"eu","shard":7,)");
    QTest::newRow("unknown object") << QString(kContractExample).replace("{", R"({"tags":{"a":1},)");
    QTest::newRow("duplicate") << QString(kContractExample).replace("{", R"({"error_rate":7,)");
    QTest::newRow("escaped service") << QString(kContractExample).replace(R"("api")", R"("a\u0070i")");
    QTest::newRow("utf-8 service") << QString(kContractExample).replace(R"("api")", "\"äpi\"");
    QTest::newRow("trailing comma") << QString(kContractExample).replace("0.3}", "0.3,}");
    QTest::newRow("trailing text") << QString(kContractExample) + " x";
    QTest::newRow("missing") << QString::fromStdString(withField("unique_ips", ""));
    QTest::newRow("negative") << QString::fromStdString(withField("total_requests", "-5"));
    QTest::newRow("absurd") << QString::fromStdString(withField("latency_p95_ms", "4e6"));
    QTest::newRow("bad window") << QString::fromStdString(withField("window", "\"0s\""));
    QTest::newRow("bad timestamp") << QString::fromStdString(withField("timestamp", "\"soon\""));
  }
  void theShortcutReadsAsTheGeneralParser() {
    QFETCH(QString, payload);
    const std::string usual = payload.toStdString();
    std::string general = usual;
    if (const auto brace = general.find('{'); brace != std::string::npos) general.insert(brace + 1, R"("\u0078":0,)");
    const auto a = decodeServiceMetrics(usual);
    const auto b = decodeServiceMetrics(general);
    QCOMPARE(bool(a), bool(b));
    QCOMPARE(QString::fromStdString(a.error), QString::fromStdString(b.error));
    if (!a) return;
    QCOMPARE(a.value->service, b.value->service);
    QCOMPARE(a.value->timestamp, b.value->timestamp);
    QCOMPARE(a.value->windowSeconds, b.value->windowSeconds);
    for (std::size_t i = 0; i < kFeatureCount; ++i)  // bit for bit, also the sign of a zero
      QCOMPARE(std::bit_cast<std::uint64_t>(a.value->features()[i]), std::bit_cast<std::uint64_t>(b.value->features()[i]));
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

  // The predictive alerter's input: a bad ml-anomalies message is named for the dead-letter topic.
  void rejectsInvalidAnomalies_data() {
    QTest::addColumn<QString>("payload");
    QTest::addColumn<QString>("expected");
    const QString good = QString::fromStdString(encodeAnomaly([] {
      AnomalyRecord a;
      a.service = "api";
      a.timestamp = 1767229200;
      a.anomalyId = makeAnomalyId(a.service, a.timestamp, a.type);
      a.confidence = 0.5;
      return a;
    }()));
    auto with = [&](const QString& field, const QString& value) {
      QJsonObject object = QJsonDocument::fromJson(good.toUtf8()).object();
      if (value.isEmpty())
        object.remove(field);
      else
        object[field] = QJsonDocument::fromJson(("{\"v\":" + value + "}").toUtf8()).object()["v"];
      return QString(QJsonDocument(object).toJson(QJsonDocument::Compact));
    };
    QTest::newRow("bad json") << good.left(20) << "bad JSON";
    QTest::newRow("no id") << with("anomaly_id", "") << "missing field 'anomaly_id'";
    QTest::newRow("empty service") << with("service", "\"\"") << "field 'service': must not be empty";
    QTest::newRow("type") << with("anomaly_type", "\"meteor\"") << "field 'anomaly_type': unknown type 'meteor'";
    QTest::newRow("severity") << with("severity", "3") << "field 'severity': expected a string, got number";
    QTest::newRow("confidence") << with("confidence_score", "1.5") << "field 'confidence_score': absurd value";
    QTest::newRow("timestamp") << with("timestamp", "\"soon\"") << "field 'timestamp': 'soon' is not an ISO-8601";
    QTest::newRow("metric value") << with("metric_values", "{\"error_rate\":\"high\"}")
                                  << "field 'metric_values.error_rate': expected a number, got string";
    QTest::newRow("methods") << with("detection_methods", "\"dbscan\"")
                             << "field 'detection_methods': expected an array";
  }
  void rejectsInvalidAnomalies() {
    QFETCH(QString, payload);
    QFETCH(QString, expected);
    const auto decoded = decodeAnomaly(payload.toStdString());
    QVERIFY(!decoded);
    QVERIFY2(QString::fromStdString(decoded.error).contains(expected), decoded.error.c_str());
  }

  void anomalyNullValuesAreSkipped() {
    const auto decoded = decodeAnomaly(
        R"({"anomaly_id":"x","service":"api","timestamp":"2026-01-01T00:00:00Z","anomaly_type":"outlier",)"
        R"("severity":"low","confidence_score":0.4,"metric_values":{"error_rate":null,"risk_score":0.9}})");
    QVERIFY2(decoded, decoded.error.c_str());
    QCOMPARE(decoded.value->metricValues, (std::map<std::string, double>{{"risk_score", 0.9}}));
    QCOMPARE(decoded.value->anomalyScore, 0.4);  // absent: the confidence
    ValidationLimits limits;
    limits.maxMessageBytes = 50;
    QVERIFY(QString::fromStdString(decodeAnomaly(encodeAnomaly(*decoded.value), limits).error).startsWith("oversized"));
  }

  void predictiveAlertKeepsTheContract() {
    PredictiveAlert a;
    a.alertId = md5Hex("api|error_rate");
    a.service = "api";
    a.metric = "error_rate";
    a.predictedEvent = "threshold_breach";
    a.predictionConfidence = 0.8125;
    a.breachProbability = 0.8125;
    a.threshold = 5;
    a.predictedTimeStart = 1767232800;
    a.predictedTimeEnd = 1767243600;
    a.severity = Severity::kHigh;
    a.recommendation = "check recent deployments";
    a.createdAt = 1767229200;
    const std::string text = encodePredictiveAlert(a);
    const QJsonObject object = QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
    // The original's field names (the ml_predictive_alerts columns).
    for (const char* field : {"alert_id", "service", "predicted_event", "prediction_confidence", "predicted_time_start",
                              "predicted_time_end", "recommendation", "alert_sent", "materialized", "severity"})
      QVERIFY2(object.contains(field), field);
    QCOMPARE(object["predicted_time_start"].toString(), QString("2026-01-01T02:00:00Z"));
    QVERIFY(object["materialized_at"].isNull());
    const auto decoded = decodePredictiveAlert(text);
    QVERIFY2(decoded, decoded.error.c_str());
    const PredictiveAlert& b = *decoded.value;
    QCOMPARE(b.alertId, a.alertId);
    QCOMPARE(b.metric, a.metric);
    QCOMPARE(b.predictionConfidence, a.predictionConfidence);
    QCOMPARE(b.breachProbability, a.breachProbability);
    QCOMPARE(b.threshold, a.threshold);
    QCOMPARE(b.predictedTimeStart, a.predictedTimeStart);
    QCOMPARE(b.predictedTimeEnd, a.predictedTimeEnd);
    QCOMPARE(b.createdAt, a.createdAt);
    QVERIFY(b.severity == Severity::kHigh && !b.alertSent && !b.materialized && !b.materializedAt);
    a.materialized = true;
    a.materializedAt = 1767236400;
    QCOMPARE(decodePredictiveAlert(encodePredictiveAlert(a)).value->materializedAt, a.materializedAt);
    QVERIFY(QString::fromStdString(decodePredictiveAlert(R"({"alert_id":"x"})").error).contains("'service'"));
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
