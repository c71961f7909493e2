// The workspace file and CSV import: good files land whole, broken files name the line and leave
// the workspace untouched.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "stacklens/connect/csv_table.h"
#include "stacklens/ui/workspace/csv_import.h"
#include "stacklens/ui/workspace/workspace.h"

using stacklens::connect::CsvError;
using stacklens::ui::LabelWindow;
using stacklens::ui::ServiceData;
using stacklens::ui::Workspace;
using stacklens::ui::WorkspaceError;
namespace core = stacklens::core;

namespace {

const QString kNabFile = QStringLiteral(STACKLENS_SHARED_DATA_DIR "/nab-dev/data/realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv");

const char* kFeatureHeader =
    "error_rate,latency_p99_ms,latency_p95_ms,latency_mean_ms,unique_users,unique_ips,risk_score,total_requests";

// Writes `text` to `name` in `dir` and returns the path.
QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& text) {
  const QString path = dir.filePath(name);
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(text);
  return path;
}

// Everything a workspace holds, as one comparable string.
QString fingerprint(const Workspace& ws) {
  QString out;
  for (const auto& s : ws.services()) {
    out += QString::fromStdString(s.name) + QString(":%1:%2:%3;").arg(s.samples).arg(s.first).arg(s.labelWindows);
    const ServiceData d = ws.loadService(s.name);
    for (const auto& column : d.values)
      for (double v : column) out += QString::number(v) + ',';
  }
  return out;
}

}  // namespace

class TestWorkspace : public QObject {
  Q_OBJECT
 private slots:
  void createsAVersionedSchemaAndReopens() {
    QTemporaryDir dir;
    const QString path = dir.filePath("a.stacklens");
    {
      auto ws = Workspace::open(path);
      QCOMPARE(ws->schemaVersion(), Workspace::kSchemaVersion);
      QVERIFY(ws->services().empty());
      ws->saveConfiguration("default", "[detection]\ncontamination = 0.05\n");
    }
    auto again = Workspace::open(path);
    QCOMPARE(again->configuration("default").value(), std::string("[detection]\ncontamination = 0.05\n"));
  }

  void refusesFilesThatAreNotWorkspaces() {
    QTemporaryDir dir;
    const QString text = writeFile(dir, "notes.stacklens", "this is not sqlite at all, just some text\n");
    QVERIFY_THROWS_EXCEPTION(WorkspaceError, Workspace::open(text));
    try {
      Workspace::open(text);
    } catch (const WorkspaceError& e) {
      QVERIFY2(QString(e.what()).contains("notes.stacklens"), e.what());
    }
  }

  void importsANabFileAsItIs() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    const auto summary = ws->importCsvFiles({kNabFile});
    QCOMPARE(summary.services, QStringList{"ec2_cpu_utilization_24ae8d"});
    const ServiceData d = ws->loadService("ec2_cpu_utilization_24ae8d");
    QCOMPARE(d.metrics, std::vector<std::string>{"value"});
    QCOMPARE(d.rowCount(), std::size_t(4032));
    QCOMPARE(d.timestamps.front(), *core::parseTimestamp("2014-02-14 14:30:00"));
    QCOMPARE(d.values[0][0], 0.132);
    QCOMPARE(d.values[0][1], 0.134);
    // NAB's published windows for this file come along from combined_windows.json.
    QCOMPARE(d.labels.size(), std::size_t(2));
    QCOMPARE(d.labels[0], (LabelWindow{*core::parseTimestamp("2014-02-26 13:45:00"), *core::parseTimestamp("2014-02-27 06:25:00")}));
  }

  void importsTheServiceFormatWithLabels() {
    QTemporaryDir dir;
    QByteArray csv = QByteArray("timestamp,service,") + kFeatureHeader + ",label\n";
    // Two services, interleaved and out of time order; "api" has a 2-hour incident.
    csv += "2024-01-01T02:00:00Z,api,0.5,150,100,50,1000,500,0.3,10000,1\n";
    csv += "2024-01-01T00:00:00Z,api,0.4,140,90,45,900,450,0.2,9000,0\n";
    csv += "2024-01-01T00:00:00Z,db,1.5,30,20,10,10,5,0.1,500,0\n";
    csv += "2024-01-01T01:00:00Z,api,0.6,NA,95,47,950,470,0.25,9500,1\n";
    csv += "2024-01-01T03:00:00Z,api,0.4,140,90,45,900,450,0.2,9000,0\n";
    const QString path = writeFile(dir, "fleet.csv", csv);
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    const auto summary = ws->importCsvFiles({path});
    QCOMPARE(summary.services, (QStringList{"api", "db"}));
    QCOMPARE(summary.values, std::size_t(5 * 8));

    const ServiceData api = ws->loadService("api");
    QVERIFY(api.hasAllFeatures());
    QCOMPARE(api.rowCount(), std::size_t(4));
    QCOMPARE(api.timestamps.front(), *core::parseTimestamp("2024-01-01T00:00:00Z"));
    QCOMPARE(api.column("error_rate")[1], 0.6);
    QVERIFY(std::isnan(api.column("latency_p99_ms")[1]));  // NA is stored as NULL and read back as NaN
    QCOMPARE(api.labels, (std::vector<LabelWindow>{{*core::parseTimestamp("2024-01-01T01:00:00Z"),
                                                    *core::parseTimestamp("2024-01-01T02:00:00Z")}}));
    const auto samples = api.samples();
    QCOMPARE(samples[2].totalRequests, 10000.0);
    QCOMPARE(samples[2].windowSeconds, 3600);
    QCOMPARE(ws->loadService("db").rowCount(), std::size_t(1));
  }

  void brokenFilesNameTheLineAndImportNothing_data() {
    QTest::addColumn<QByteArray>("csv");
    QTest::addColumn<QString>("where");
    const QByteArray head = QByteArray("timestamp,service,") + kFeatureHeader + "\n";
    const QByteArray good = "2024-01-01T00:00:00Z,api,0.5,150,100,50,1000,500,0.3,10000\n";
    QTest::newRow("bad number") << head + good + "2024-01-01T01:00:00Z,api,0.5,15O,100,50,1000,500,0.3,10000\n"
                                << "broken.csv:3: column 'latency_p99_ms'";
    QTest::newRow("bad timestamp") << head + good + QByteArray(good).replace("01T00", "01T25")
                                   << "broken.csv:3: column 'timestamp'";
    QTest::newRow("repeated timestamp") << head + good + "2024-01-01T00:00:00Z,db,1,1,1,1,1,1,1,1\n" + good
                                        << "broken.csv:4: column 'timestamp'";
    QTest::newRow("ragged row") << head + good + "2024-01-01T01:00:00Z,api,0.5\n" << "broken.csv:3";
    QTest::newRow("missing feature") << QByteArray("timestamp,error_rate\n2024-01-01,1\n") << "broken.csv:1";
    QTest::newRow("unknown column") << QByteArray("timestamp,value,colour\n2024-01-01,1,red\n")
                                    << "broken.csv:1: column 'colour'";
    QTest::newRow("bad label") << QByteArray("timestamp,value,label\n2024-01-01,1,0\n2024-01-02,2,yes\n")
                               << "broken.csv:3: column 'label'";
    QTest::newRow("no timestamp") << QByteArray("time,value\n2024-01-01,1\n") << "broken.csv:1";
  }

  void brokenFilesNameTheLineAndImportNothing() {
    QFETCH(QByteArray, csv);
    QFETCH(QString, where);
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ws->importCsvFiles({kNabFile});
    const QString before = fingerprint(*ws);
    // A good file and a broken one in one import: neither lands.
    const QString goodFile = writeFile(dir, "good.csv", "timestamp,value\n2024-01-01,1\n2024-01-02,2\n");
    const QString broken = writeFile(dir, "broken.csv", csv);
    try {
      ws->importCsvFiles({goodFile, broken});
      QFAIL("a broken file was imported");
    } catch (const CsvError& e) {
      QVERIFY2(QString(e.what()).contains(where), e.what());
    }
    QVERIFY(!ws->hasService("good"));
    QCOMPARE(fingerprint(*ws), before);
  }

  void aFailedWriteRollsBackEverything() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ServiceData a{"a", {0, 3600}, {"value"}, {{1.0, 2.0}}, {}};
    ServiceData bad{"b", {0, 3600}, {"value"}, {{1.0}}, {}};  // column shorter than the grid
    QVERIFY_THROWS_EXCEPTION(WorkspaceError, ws->importServices({a, bad}, "test"));
    QVERIFY(ws->services().empty());
    // Two rows with the same time break the samples' primary key in the middle of the write.
    ServiceData dup{"c", {0, 0}, {"value"}, {{1.0, 2.0}}, {}};
    QVERIFY_THROWS_EXCEPTION(WorkspaceError, ws->importServices({a, dup}, "test"));
    QVERIFY(ws->services().empty());
  }

  void reimportReplacesTheService() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ws->importServices({ServiceData{"s", {0, 3600, 7200}, {"value"}, {{1, 2, 3}}, {{0, 3600}}}}, "first");
    core::AnomalyRecord anomaly;
    anomaly.anomalyId = "x";
    anomaly.timestamp = 3600;
    ws->replaceAnomalies("s", {anomaly});
    ws->importServices({ServiceData{"s", {0, 3600}, {"value"}, {{5, 6}}, {}}}, "second");
    const ServiceData d = ws->loadService("s");
    QCOMPARE(d.values[0], (std::vector<double>{5, 6}));
    QVERIFY(d.labels.empty());
    QVERIFY(ws->anomalies("s").empty());  // results of the old data went with it
    QCOMPARE(ws->services().front().source, std::string("second"));
  }

  void keepsResultsAndBacktests() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ws->importServices({ServiceData{"s", {0, 3600}, {"value"}, {{1, 2}}, {}}}, "t");
    core::AnomalyRecord a;
    a.anomalyId = core::makeAnomalyId("s", 3600, core::AnomalyType::kErrorSpike);
    a.service = "s";
    a.timestamp = 3600;
    a.type = core::AnomalyType::kErrorSpike;
    a.severity = core::Severity::kCritical;
    a.anomalyScore = 0.9;
    a.confidence = 0.8;
    a.detectionMethods = {"isolation_forest", "dbscan"};
    a.description = "error rate 5x baseline";
    ws->replaceAnomalies("s", {a});
    const auto back = ws->anomalies("s");
    QCOMPARE(back.size(), std::size_t(1));
    QCOMPARE(back[0].anomalyId, a.anomalyId);
    QVERIFY(back[0].severity == core::Severity::kCritical);
    QVERIFY(back[0].type == core::AnomalyType::kErrorSpike);
    QCOMPARE(back[0].detectionMethods, a.detectionMethods);
    QCOMPARE(back[0].anomalyScore, 0.9);

    const int id = ws->saveBacktest("A vs B", R"({"f1":0.5})");
    QVERIFY(id > 0);
    QCOMPARE(ws->backtests().size(), std::size_t(1));
    QCOMPARE(ws->backtests()[0].resultJson, std::string(R"({"f1":0.5})"));
  }
};

QTEST_GUILESS_MAIN(TestWorkspace)
#include "test_workspace.moc"
