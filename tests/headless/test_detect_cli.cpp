// `stacklens detect` and `stacklens eval nab` as users run them: good runs, and bad input that
// must fail with a message naming the file, line and field.
#include <cmath>
#include <random>

#include <QDateTime>
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
  int exitCode;
  QString out;
  QString err;
};

Run stacklens(const QStringList& arguments) {
  QProcess process;
  process.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"), arguments);
  if (!process.waitForFinished(60000)) return {-1, {}, QStringLiteral("did not finish")};
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromUtf8(process.readAllStandardOutput()), QString::fromUtf8(process.readAllStandardError())};
}

void write(const QString& path, const QString& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text.toUtf8());
}

QStringList readLines(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
}

// A noisy metric with a spike at `spike` (timestamps every 5 minutes).
QString series(int rows, int spike) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 1);
  const QDateTime start(QDate(2024, 1, 15), QTime(10, 0), Qt::UTC);
  QString text = "timestamp,value\n";
  for (int i = 0; i < rows; ++i) {
    const double v = 50 + 2 * z(rng) + (i == spike ? 40 : 0);
    text += start.addSecs(300 * i).toString("yyyy-MM-dd HH:mm:ss") + "," + QString::number(v, 'f', 3) + "\n";
  }
  return text;
}

}  // namespace

class TestDetectCli : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString path(const QString& name) const { return dir_.filePath(name); }

 private slots:
  void streamModeScoresEveryRowCausally() {
    write(path("in.csv"), series(300, 200));
    Run run = stacklens({"detect", "--input", path("in.csv"), "--output", path("out.csv")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const QStringList lines = readLines(path("out.csv"));
    QCOMPARE(lines.size(), 301);
    QCOMPARE(lines[0], QString("timestamp,anomaly_score,is_anomaly,type,severity"));
    QVERIFY(lines[1].startsWith("2024-01-15 10:00:00,"));
    double best = -1;
    int bestRow = -1;
    for (int i = 1; i < lines.size(); ++i) {
      const QStringList f = lines[i].split(',');
      QCOMPARE(f.size(), 5);
      const double s = f[1].toDouble();
      QVERIFY(s >= 0 && s <= 1);
      if (s > best) best = s, bestRow = i - 1;
    }
    QCOMPARE(bestRow, 200);
    const QStringList spike = lines[201].split(',');
    QCOMPARE(spike[2], QString("1"));
    QCOMPARE(spike[3], QString("outlier"));
    QVERIFY(!spike[4].isEmpty());
    // Causal: the first 150 rows score the same without the rest of the file.
    write(path("head.csv"), series(150, 200));
    run = stacklens({"detect", "--input", path("head.csv"), "--output", path("head_out.csv")});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(readLines(path("head_out.csv")), lines.mid(0, 151));
  }

  void streamModeTypesServiceMetrics() {
    std::mt19937_64 rng(4);
    std::normal_distribution<double> z(0, 1);
    QString text = "timestamp,error_rate,latency_p99_ms,total_requests\n";
    for (int i = 0; i < 200; ++i)
      text += QString("2024-01-%1T%2:00:00Z,%3,%4,%5\n")
                  .arg(1 + i / 24, 2, 10, QChar('0'))
                  .arg(i % 24, 2, 10, QChar('0'))
                  .arg(0.5 + 0.05 * z(rng) + (i == 150 ? 5 : 0))
                  .arg(150 + 5 * z(rng))
                  .arg(10000 + 300 * z(rng));
    write(path("svc.csv"), text);
    const Run run = stacklens({"detect", "--input", path("svc.csv"), "--output", path("svc_out.csv")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const QStringList f = readLines(path("svc_out.csv"))[151].split(',');
    QCOMPARE(f[2], QString("1"));
    QCOMPARE(f[3], QString("error_spike"));
  }

  void batchIsolationForest() {
    const QString in = QStringLiteral(STACKLENS_TEST_DATA_DIR "/detect/iforest_train.csv");
    const Run run = stacklens({"detect", "--mode", "batch", "--method", "iforest", "--contamination", "0.05", "--seed",
                               "3", "--input", in, "--output", path("if.csv")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const QStringList lines = readLines(path("if.csv"));
    QCOMPARE(lines.size(), 1001);
    int flagged = 0, flaggedOutliers = 0;
    for (int i = 1; i < lines.size(); ++i) {
      const QStringList f = lines[i].split(',');
      QCOMPARE(f[0], QString::number(i - 1));  // plain feature table: the row number
      QVERIFY(f[1].toDouble() > 0 && f[1].toDouble() <= 1);
      flagged += f[2] == "1";
      flaggedOutliers += f[2] == "1" && i - 1 >= 950;  // the fixture's last 50 rows are outliers
    }
    QVERIFY(std::abs(flagged - 50) <= 1);  // the 95th percentile of the training scores
    QVERIFY(flaggedOutliers >= 35);
  }

  void batchDbscanMatchesScikitLearn() {
    // blobs2_a: scikit-learn finds 60 noise rows with eps 0.3, min_samples 5.
    const QStringList fixture = readLines(QStringLiteral(STACKLENS_TEST_DATA_DIR "/detect/dbscan_blobs2_a.csv"));
    QString text = "x0,x1,label\n";
    int noise = 0;
    for (int i = 1; i < fixture.size(); ++i) {
      const QStringList f = fixture[i].split(',');
      text += f[0] + "," + f[1] + "," + f[2] + "\n";
      noise += f[2].toDouble() == -1;
    }
    write(path("blobs.csv"), text);
    const Run run = stacklens({"detect", "--mode", "batch", "--method", "dbscan", "--eps", "0.3", "--min-samples", "5",
                               "--input", path("blobs.csv"), "--output", path("db.csv")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const QStringList lines = readLines(path("db.csv"));
    int flagged = 0;
    for (int i = 1; i < lines.size(); ++i) {
      const QStringList f = lines[i].split(',');
      const bool expected = fixture[i].split(',')[2].toDouble() == -1;
      QCOMPARE(f[2] == "1", expected);
      QCOMPARE(f[1].toDouble(), expected ? 1.0 : 0.0);
      flagged += expected;
    }
    QCOMPARE(flagged, noise);
    QVERIFY(run.err.contains("eps 0.3"));
  }

  void badInputNamesFileLineAndField() {
    write(path("bad.csv"), "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n");
    Run run = stacklens({"detect", "--input", path("bad.csv"), "--output", path("o.csv")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("bad.csv:3") && run.err.contains("value"), qPrintable(run.err));

    write(path("badtime.csv"), "timestamp,value\n2024-13-01 00:00:00,1\n");
    run = stacklens({"detect", "--input", path("badtime.csv"), "--output", path("o.csv")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("badtime.csv:2") && run.err.contains("timestamp"), qPrintable(run.err));

    write(path("gap.csv"), "x0,x1\n1,2\n3,\n5,6\n");
    run = stacklens({"detect", "--mode", "batch", "--input", path("gap.csv"), "--output", path("o.csv")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("gap.csv:3") && run.err.contains("x1") && run.err.contains("missing"),
             qPrintable(run.err));

    run = stacklens(
        {"detect", "--mode", "batch", "--contamination", "0.9", "--input", path("gap.csv"), "--output", path("o.csv")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("--contamination"), qPrintable(run.err));

    run = stacklens({"detect", "--input", path("missing.csv"), "--output", path("o.csv")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("missing.csv"), qPrintable(run.err));
  }

  void configFile() {
    write(path("in.csv"), series(300, 200));
    write(path("ok.toml"), "[detect]\nthreshold = 1.01\n[streaming]\nwarmup = 50\n");
    Run run = stacklens({"detect", "--config", path("ok.toml"), "--input", path("in.csv"), "--output", path("c.csv")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    for (const QString& line : readLines(path("c.csv")).mid(1)) QCOMPARE(line.split(',')[2], QString("0"));

    write(path("typo.toml"), "[streaming]\nwarmpu = 50\n");
    run = stacklens({"detect", "--config", path("typo.toml"), "--input", path("in.csv"), "--output", path("c.csv")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("typo.toml:2") && run.err.contains("streaming.warmpu"), qPrintable(run.err));

    write(path("syntax.toml"), "[detect]\nthreshold = = 3\n");
    run = stacklens({"detect", "--config", path("syntax.toml"), "--input", path("in.csv"), "--output", path("c.csv")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("syntax.toml:2"), qPrintable(run.err));

    write(path("range.toml"), "[detect.iforest]\ncontamination = 0.7\n");
    run = stacklens({"detect", "--config", path("range.toml"), "--input", path("in.csv"), "--output", path("c.csv")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("range.toml:2") && run.err.contains("contamination"), qPrintable(run.err));
  }

  void evalNabPrintsThreeProfiles() {
    QDir(dir_.path()).mkpath("nab/cat");
    write(path("nab/cat/a.csv"), series(400, 300));
    write(path("nab/cat/b.csv"), series(400, -1));
    write(path("nab/windows.json"), R"({"cat/a.csv": [["2024-01-16 10:10:00", "x"]]})");
    Run run = stacklens({"eval", "nab", "--data", path("nab"), "--windows", path("nab/windows.json")});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("windows.json") && run.err.contains("cat/a.csv"), qPrintable(run.err));

    // Row 300 is 25 hours after the start, 2024-01-16 11:00; the window holds rows 290..310.
    write(path("nab/windows.json"),
          R"({"cat/a.csv": [["2024-01-16 10:10:00", "2024-01-16 11:50:00"]], "cat/b.csv": []})");
    run = stacklens({"eval", "nab", "--data", path("nab"), "--windows", path("nab/windows.json")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    for (const char* profile : {"standard", "reward_low_FP_rate", "reward_low_FN_rate"})
      QVERIFY2(run.out.contains(profile), qPrintable(run.out));
    QVERIFY2(run.out.contains("2 files"), qPrintable(run.out));
    // One clear spike in the window and nothing else: close to a perfect score.
    const QStringList standard = run.out.split('\n').filter("standard");
    QVERIFY(!standard.isEmpty());
    QVERIFY2(standard[0].split(' ', Qt::SkipEmptyParts)[1].toDouble() > 80, qPrintable(run.out));

    run = stacklens({"eval", "nab", "--data", path("nab"), "--windows", path("nab/nowhere.json")});
    QVERIFY(run.exitCode != 0);
  }
};

QTEST_GUILESS_MAIN(TestDetectCli)
#include "test_detect_cli.moc"
