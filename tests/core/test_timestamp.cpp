#include <QtTest>

#include "stacklens/core/timestamp.h"

using stacklens::core::formatTimestamp;
using stacklens::core::parseTimestamp;

class TestTimestamp : public QObject {
  Q_OBJECT
 private slots:
  void parsesAcceptedForms_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("expected");
    // Expected values from `date -u -d ... +%s`.
    QTest::newRow("iso-z") << "2024-01-15T10:30:00Z" << qint64(1705314600);
    QTest::newRow("iso-no-zone") << "2024-01-15T10:30:00" << qint64(1705314600);
    QTest::newRow("nab-space") << "2024-01-15 10:30:00" << qint64(1705314600);
    QTest::newRow("fraction") << "2024-01-15T10:30:00.987Z" << qint64(1705314600);
    QTest::newRow("offset+02") << "2024-01-15T12:30:00+02:00" << qint64(1705314600);
    QTest::newRow("offset-0530") << "2024-01-15T05:00:00-0530" << qint64(1705314600);
    QTest::newRow("no-seconds") << "2024-01-15 10:30" << qint64(1705314600);
    QTest::newRow("date-only") << "2024-01-15" << qint64(1705276800);
    QTest::newRow("leap-day") << "2024-02-29T00:00:00Z" << qint64(1709164800);
    QTest::newRow("epoch") << "1970-01-01T00:00:00Z" << qint64(0);
    QTest::newRow("before-epoch") << "1969-12-31T23:59:59Z" << qint64(-1);
    QTest::newRow("quoted-crlf") << "\"2014-04-01 00:00:00\"\r" << qint64(1396310400);
  }
  void parsesAcceptedForms() {
    QFETCH(QString, text);
    QFETCH(qint64, expected);
    const auto parsed = parseTimestamp(text.toStdString());
    QVERIFY2(parsed.has_value(), qPrintable(text));
    QCOMPARE(qint64(*parsed), expected);
  }

  void rejectsMalformed_data() {
    QTest::addColumn<QString>("text");
    for (const char* bad : {"", "yesterday", "2024-13-01", "2023-02-29", "2024-01-15T24:00:00", "2024-01-15T10:61",
                            "2024-1-15", "2024-01-15T10:30:00Q", "2024-01-15T10:30:00+25:00", "2024-01-15X10:30"})
      QTest::newRow(bad) << QString::fromLatin1(bad);
  }
  void rejectsMalformed() {
    QFETCH(QString, text);
    QVERIFY2(!parseTimestamp(text.toStdString()).has_value(), qPrintable(text));
  }

  void formatRoundTrips() {
    for (qint64 t : {qint64(0), qint64(-1), qint64(1705314600), qint64(4102444799), qint64(-86400 * 365)}) {
      const std::string text = formatTimestamp(t);
      QCOMPARE(qint64(*parseTimestamp(text)), t);
    }
    QCOMPARE(QString::fromStdString(formatTimestamp(1705314600)), QStringLiteral("2024-01-15T10:30:00Z"));
    QCOMPARE(QString::fromStdString(formatTimestamp(-1)), QStringLiteral("1969-12-31T23:59:59Z"));
  }
};

QTEST_GUILESS_MAIN(TestTimestamp)
#include "test_timestamp.moc"
