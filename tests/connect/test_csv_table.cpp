#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>

#include "stacklens/connect/csv_table.h"

using namespace stacklens::connect;

namespace {

// Runs `f` and returns the CsvError message it throws (empty when it does not throw).
template <typename F>
QString errorOf(F&& f) {
  try {
    f();
  } catch (const CsvError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace

class TestCsvTable : public QObject {
  Q_OBJECT
 private slots:
  void parsesQuotesCrlfAndBlankLines() {
    const CsvTable t = parseCsv("timestamp,value,note\r\n2024-01-01 00:00:00,1.5,\"a, b\"\r\n\r\n"
                                "2024-01-01 01:00:00,-2e3,\"say \"\"hi\"\"\"\n",
                                "in.csv");
    QCOMPARE(t.header.size(), std::size_t(3));
    QCOMPARE(t.rowCount(), std::size_t(2));
    QCOMPARE(QString::fromStdString(t.rows[0][2]), QString("a, b"));
    QCOMPARE(QString::fromStdString(t.rows[1][2]), QString("say \"hi\""));
    QCOMPARE(t.lines[1], 4);
    QCOMPARE(t.number(1, 1), -2000.0);
    QCOMPARE(t.time(0, 0), stacklens::core::EpochSeconds(1704067200));
  }

  void raggedRowNamesTheLine() {
    const QString message = errorOf([] { parseCsv("a,b\n1,2\n3\n", "f.csv"); });
    QVERIFY2(message.startsWith("f.csv:3:") && message.contains("expected 2 fields"), qPrintable(message));
  }

  void badNumberNamesLineAndColumn() {
    const CsvTable t = parseCsv("timestamp,value\n2024-01-01,1\n2024-01-02,abc\n", "m.csv");
    const QString message = errorOf([&] { t.number(1, 1); });
    QVERIFY2(message == "m.csv:3: column 'value': 'abc' is not a number", qPrintable(message));
    QVERIFY(std::isnan(parseCsv("v\nNA\n", "x").number(0, 0)));
    QVERIFY(!errorOf([] { parseCsv("v\n\"\"\n", "x").number(0, 0, false); }).isEmpty());
    QVERIFY(!errorOf([] { parseCsv("v\ninf\n", "x").number(0, 0); }).isEmpty());
  }

  void badTimestampNamesLineAndColumn() {
    const QString message = errorOf([] { toTimeSeriesFrame(parseCsv("timestamp,v\n2024-02-30,1\n", "t.csv")); });
    QVERIFY2(message.startsWith("t.csv:2: column 'timestamp': '2024-02-30' is not a timestamp"), qPrintable(message));
  }

  void unterminatedQuoteAndEmptyFile() {
    QVERIFY(errorOf([] { parseCsv("a\n\"open\n", "q.csv"); }).contains("q.csv:2: unterminated"));
    QVERIFY(errorOf([] { parseCsv("\n\n", "e.csv"); }).contains("empty file"));
    QVERIFY(errorOf([] { readCsvFile("/nonexistent/x.csv"); }).contains("cannot open"));
  }

  void frameFormsLongAndFeatureTable() {
    const TimeSeriesFrame longForm = toTimeSeriesFrame(
        parseCsv("series_id,timestamp,value\nH1,2024-01-01T00:00:00Z,1\nH2,2024-01-01T00:00:00Z,2\n", "l.csv"));
    QCOMPARE(longForm.seriesIds, (std::vector<std::string>{"H1", "H2"}));
    QCOMPARE(longForm.columns, (std::vector<std::string>{"value"}));
    QCOMPARE(longForm.values[0][1], 2.0);

    const TimeSeriesFrame features = toTimeSeriesFrame(parseCsv("x0,x1,label\n1,2,0\n3,4,1\n", "o.csv"), {"label"});
    QCOMPARE(features.columns, (std::vector<std::string>{"x0", "x1"}));
    QCOMPARE(features.timestamps, (std::vector<stacklens::core::EpochSeconds>{0, 1}));
    QCOMPARE(features.values[1][1], 4.0);
  }

  void readsAFileFromDisk() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("nab.csv").toStdString();
    std::ofstream(path) << "timestamp,value\n2014-04-01 00:00:00,20.5\n2014-04-01 00:05:00,21\n";
    const TimeSeriesFrame frame = toTimeSeriesFrame(readCsvFile(path));
    QCOMPARE(frame.timestamps[1] - frame.timestamps[0], stacklens::core::EpochSeconds(300));
    QCOMPARE(frame.values[0][0], 20.5);
  }
};

QTEST_GUILESS_MAIN(TestCsvTable)
#include "test_csv_table.moc"
