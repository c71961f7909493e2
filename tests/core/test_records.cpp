#include <QCryptographicHash>
#include <QtTest>

#include "stacklens/core/records.h"

using namespace stacklens::core;

class TestRecords : public QObject {
  Q_OBJECT
 private slots:
  void anomalyIdIsMd5OfServiceTimestampType() {
    const std::string id = makeAnomalyId("api", 1705314600, AnomalyType::kErrorSpike);
    // Independent MD5 (Qt's) of the documented key.
    const QByteArray expected =
        QCryptographicHash::hash("api|2024-01-15T10:30:00Z|error_spike", QCryptographicHash::Md5).toHex();
    QCOMPARE(QByteArray::fromStdString(id), expected);
    QCOMPARE(makeAnomalyId("api", 1705314600, AnomalyType::kErrorSpike), id);
    QVERIFY(makeAnomalyId("api", 1705314600, AnomalyType::kTrafficDrop) != id);
    QVERIFY(makeAnomalyId("api", 1705318200, AnomalyType::kErrorSpike) != id);
    QVERIFY(makeAnomalyId("api2", 1705314600, AnomalyType::kErrorSpike) != id);
  }

  void md5KnownVector() { QCOMPARE(QString::fromStdString(md5Hex("")), QString("d41d8cd98f00b204e9800998ecf8427e")); }

  void enumNamesRoundTrip() {
    for (AnomalyType type : kAllAnomalyTypes) QVERIFY(anomalyTypeFromString(toString(type)) == type);
    for (Severity severity : kAllSeverities) QVERIFY(severityFromString(toString(severity)) == severity);
    QVERIFY(!anomalyTypeFromString("ERROR_SPIKE").has_value());
    QVERIFY(!severityFromString("severe").has_value());
    QCOMPARE(QString::fromLatin1(toString(Severity::kCritical).data()), QString("critical"));
  }

  void featureVectorOrder() {
    ServiceMetrics m;
    m.errorRate = 1;
    m.latencyP99Ms = 2;
    m.latencyP95Ms = 3;
    m.latencyMeanMs = 4;
    m.uniqueUsers = 5;
    m.uniqueIps = 6;
    m.riskScore = 7;
    m.totalRequests = 8;
    const FeatureVector f = m.features();
    for (std::size_t i = 0; i < kFeatureCount; ++i) QCOMPARE(f[i], double(i + 1));
    QCOMPARE(QString::fromLatin1(kFeatureNames[7].data()), QString("total_requests"));
  }
};

QTEST_GUILESS_MAIN(TestRecords)
#include "test_records.moc"
