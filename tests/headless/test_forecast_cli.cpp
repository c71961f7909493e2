// `stacklens forecast` and `stacklens eval m4` as users run them: the output contract, the JSON
// summary, and clear errors (file, line, field) for bad input.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

namespace {

struct Run {
  int exitCode;
  QString out;
  QString err;
};

Run runStacklens(const QStringList& arguments) {
  QProcess process;
  process.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"), arguments);
  if (!process.waitForFinished(120000)) return {-1, {}, QStringLiteral("did not finish")};
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromUtf8(process.readAllStandardOutput()), QString::fromUtf8(process.readAllStandardError())};
}

QString write(const QTemporaryDir& dir, const QString& name, const QString& text) {
  const QString path = dir.filePath(name);
  QFile file(path);
  file.open(QIODevice::WriteOnly);
  file.write(text.toUtf8());
  return path;
}

QStringList readLines(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(file.readAll()).split('\n', Qt::SkipEmptyParts);
}

// Hourly series with a daily cycle, `days` long, as CSV rows (optionally with a series_id column).
QString hourlyRows(const QString& id, int days, double level) {
  QString text;
  for (int t = 0; t < 24 * days; ++t) {
    const double value = level + 10 * std::sin(2 * M_PI * t / 24) + std::sin(t * 1.7) + 0.01 * t;
    const QString time = QDateTime::fromSecsSinceEpoch(1704067200 + 3600LL * t, Qt::UTC).toString(Qt::ISODate);
    text += (id.isNull() ? QString() : id + ",") + time + "," + QString::number(value, 'g', 10) + "\n";
  }
  return text;
}

}  // namespace

class TestForecastCli : public QObject {
  Q_OBJECT
 private slots:
  void forecastsOneSeriesWithSummary() {
    QTemporaryDir dir;
    const QString input = write(dir, "in.csv", "timestamp,value\n" + hourlyRows(QString(), 14, 100));
    const Run run = runStacklens({"forecast", "--input", input, "--horizon", "24", "--season", "24", "--output",
                                  dir.filePath("out.csv"), "--summary", dir.filePath("summary.json")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const QStringList lines = readLines(dir.filePath("out.csv"));
    QCOMPARE(lines.size(), 25);
    QCOMPARE(lines[0], QStringLiteral("series_id,step,mean,lower,upper"));
    const QStringList first = lines[1].split(',');
    QCOMPARE(first[0], QString());
    QCOMPARE(first[1], QStringLiteral("1"));
    QVERIFY(first[3].toDouble() < first[2].toDouble() && first[2].toDouble() < first[4].toDouble());
    QFile json(dir.filePath("summary.json"));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(json.readAll()).object();
    const QJsonObject series = root["series"].toArray()[0].toObject();
    for (const char* key : {"model", "order", "seasonal_order", "coefficients", "sigma2", "log_likelihood", "aicc",
                            "fit_seconds"})
      QVERIFY2(series.contains(key), key);
    QCOMPARE(series["seasonal_order"].toArray()[3].toInt(), 24);
    QVERIFY(series["sigma2"].toDouble() > 0);
  }

  void forecastsManySeriesInLongFormWithFixedOrder() {
    QTemporaryDir dir;
    const QString input = write(dir, "long.csv",
                                "series_id,timestamp,value\n" + hourlyRows("api", 10, 50) + hourlyRows("db", 10, 80));
    const Run run = runStacklens({"forecast", "--input", input, "--horizon", "6", "--season", "24", "--order",
                                  "1,0,1,0,1,1", "--level", "95", "--output", dir.filePath("out.csv")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const QStringList lines = readLines(dir.filePath("out.csv"));
    QCOMPARE(lines.size(), 13);
    QVERIFY(lines[1].startsWith("api,1,"));
    QVERIFY(lines[7].startsWith("db,1,"));
  }

  void missingRowsBecomeGaps() {
    QTemporaryDir dir;
    QStringList rows = hourlyRows(QString(), 8, 100).split('\n', Qt::SkipEmptyParts);
    rows.removeAt(50);  // an hour missing from the file
    const QString input = write(dir, "gap.csv", "timestamp,value\n" + rows.join('\n') + "\n");
    const Run run = runStacklens({"forecast", "--input", input, "--horizon", "3", "--order", "1,1,1", "--output",
                                  dir.filePath("out.csv"), "--summary", dir.filePath("s.json")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QFile json(dir.filePath("s.json"));
    QVERIFY(json.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(json.readAll()).object()["series"].toArray()[0].toObject()["observations"].toInt(),
             24 * 8);
  }

  void badInputNamesFileLineAndField_data() {
    QTest::addColumn<QString>("content");
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("expected");
    const QString header = "timestamp,value\n";
    QTest::newRow("bad-number") << header + "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,abc\n" << QStringList()
                                << "in.csv:3: column 'value'";
    QTest::newRow("bad-time") << header + "2024-01-01T00:00:00Z,1\nyesterday,2\n" << QStringList()
                              << "in.csv:3: column 'timestamp'";
    QTest::newRow("duplicate") << header + "2024-01-01T00:00:00Z,1\n2024-01-01T00:00:00Z,2\n" << QStringList()
                               << "duplicate timestamp";
    QTest::newRow("backwards") << header + "2024-01-01T02:00:00Z,1\n2024-01-01T01:00:00Z,2\n" << QStringList()
                               << "in.csv:3: column 'timestamp': timestamps must increase";
    QTest::newRow("no-value-column") << "timestamp,latency\n2024-01-01T00:00:00Z,1\n" << QStringList()
                                     << "in.csv:1: the header must be";
    QTest::newRow("irregular") << header + "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n2024-01-01T02:30:00Z,3\n"
                               << QStringList() << "in.csv:4: column 'timestamp': irregular spacing";
    QTest::newRow("too-short") << header + "2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n"
                               << QStringList{"--order", "2,1,2"} << "in.csv: the series: ARIMA(2,1,2) needs";
    QTest::newRow("bad-order") << header + "2024-01-01T00:00:00Z,1\n" << QStringList{"--order", "1,x,1"}
                               << "--order: '1,x,1' is not";
    QTest::newRow("ragged") << header + "2024-01-01T00:00:00Z,1,7\n" << QStringList() << "in.csv:2";
  }
  void badInputNamesFileLineAndField() {
    QFETCH(QString, content);
    QFETCH(QStringList, extra);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString input = write(dir, "in.csv", content);
    const Run run =
        runStacklens(QStringList{"forecast", "--input", input, "--horizon", "3", "--output", dir.filePath("o.csv")} +
                     extra);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(expected), qPrintable(run.err));
    QVERIFY(!QFile::exists(dir.filePath("o.csv")));
  }

  void evalM4ScoresAWideFile() {
    QTemporaryDir dir;
    // Three M4-style series (id, values, NA padding), 10 days each, one shorter.
    QString text = "\"V1\"";
    for (int i = 2; i <= 24 * 10 + 1; ++i) text += ",\"V" + QString::number(i) + "\"";
    text += "\n";
    for (int s = 0; s < 3; ++s) {
      const int length = s == 2 ? 24 * 9 : 24 * 10;
      text += "\"H" + QString::number(s + 1) + "\"";
      for (int t = 0; t < 24 * 10; ++t)
        text += t < length ? "," + QString::number(100 + 20 * s + 10 * std::sin(2 * M_PI * t / 24) + std::sin(t * 0.7))
                           : QStringLiteral(",NA");
      text += "\n";
    }
    const QString train = write(dir, "m4.csv", text);
    const Run run = runStacklens({"eval", "m4", "--train", train, "--method", "snaive", "--forecasts-out",
                                  dir.filePath("fc.csv")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    for (const char* word : {"3 series", "sMAPE", "MASE", "OWA", "95% interval coverage", "MSIS", "total time"})
      QVERIFY2(run.out.contains(word), qPrintable(run.out));
    QCOMPARE(readLines(dir.filePath("fc.csv")).size(), 1 + 3 * 48);
    // Scoring those forecasts again gives the same numbers.
    const Run again = runStacklens({"eval", "m4", "--train", train, "--score-forecasts", dir.filePath("fc.csv")});
    QVERIFY2(again.exitCode == 0, qPrintable(again.err));
    const QString smapeLine = run.out.section('\n', 1, 1).section("MASE", 0, 0);
    QVERIFY2(again.out.contains(smapeLine), qPrintable(again.out + " / " + smapeLine));
  }

  void evalM4RejectsBadFiles() {
    QTemporaryDir dir;
    const QString train = write(dir, "m4.csv", "\"V1\",\"V2\",\"V3\"\n\"H1\",1,2\n\"H2\",1,oops\n");
    const Run run = runStacklens({"eval", "m4", "--train", train});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("m4.csv:3: column 'V3'"), qPrintable(run.err));
    const Run missing = runStacklens({"eval", "m4"});
    QVERIFY(missing.exitCode != 0);
    QVERIFY2(missing.err.contains("--train"), qPrintable(missing.err));
  }
};

QTEST_GUILESS_MAIN(TestForecastCli)
#include "test_forecast_cli.moc"
